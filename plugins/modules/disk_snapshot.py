#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: disk_snapshot
short_description: External disk-only snapshots of a libvirt guest, running or stopped
version_added: 0.1.0
description:
  - Takes, lists, deletes and reverts external disk-only snapshots of one guest. A snapshot puts a new qcow2 overlay
    on top of each chosen disk; the image below freezes (that is the snapshot) and the guest goes on writing into the
    overlay. Works on running guests (libvirt asks qemu to switch images without a pause) and on stopped ones.
  - Overlays are named C(<domain>.<target>.<name>.qcow2) and go next to each disk's current image, into the folder
    of O(pool), or into O(path). Pools whose folder gets or loses an overlay are refreshed.
  - O(state=absent) merges each overlay back into the image below it and then removes libvirt's record and the
    overlay file - libvirt 9.0 cannot delete external snapshots itself. On a running guest the merge is a block
    commit (with a pivot when the overlay is the image the guest writes to); on a stopped guest it is
    C(qemu-img commit) and the persistent definition (or the overlay above) is pointed at the merged image. An
    overlay that is still in the guest's chain is never removed unmerged.
  - A merge writes into the image below the overlay, so it is refused when another guest or another image also
    uses that image (a template shared by linked clones, a second snapshot branch).
  - O(state=reverted) (stopped guests only) discards what the disks wrote since the snapshot by replacing its
    overlays with empty ones; refused while later snapshots sit on top of it (delete them first, which merges them
    into this snapshot's overlay). A disk already back at the snapshot is no change.
  - A block job that fails or times out is cancelled; the guest then stays on its image and the snapshot is kept.
  - The module runs qemu-img on the host for stopped guests, so their images must be files there.
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._attributes
  - kvm.storage._attributes.CHANGES_STATE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
options:
  domain:
    description: The guest (libvirt domain) name.
    type: str
    required: true
  name:
    description: The snapshot name; a snapshot is found by it, so a re-run takes no second one. Required unless
      O(state=listed).
    type: str
  state:
    description:
      - V(present) takes the snapshot when the guest has none of that name; V(absent) merges it back and deletes it;
        V(reverted) sets the disks of a stopped guest back to it; V(listed) only reports the snapshots.
    type: str
    default: present
    choices: [present, absent, reverted, listed]
  disks:
    description:
      - Targets of the disks to snapshot (for example V(vda)). Default every writable disk (CD-ROMs, floppies and
        read-only disks are left out). Network disks get no overlay file and must be left out.
      - A snapshot of that O(name) with other disks is a conflict, not a change.
    type: list
    elements: str
  pool:
    description: Put the overlays in this pool's folder (a V(dir), V(fs) or V(netfs) pool). Exclusive with O(path).
    type: str
  path:
    description: Put the overlays in this folder. Exclusive with O(pool).
    type: path
  quiesce:
    description:
      - Freeze the guest's file systems through the QEMU guest agent while the snapshot is taken. Refused when the
        guest runs without a connected agent. A stopped guest's disks are consistent anyway; there it is ignored.
    type: bool
    default: false
  description:
    description: Free text stored with a new snapshot.
    type: str
  timeout:
    description: Seconds a merge of a running guest's disk may take before it is cancelled (the guest stays on its
      image).
    type: int
    default: 600
seealso:
  - module: kvm.storage.volume_snapshot
  - module: kvm.storage.disk_move
"""

EXAMPLES = r"""
- name: Snapshot every disk of a running guest before an upgrade
  kvm.storage.disk_snapshot:
    domain: web1
    name: before-upgrade

- name: Only the data disk, quiesced, overlay in another pool
  kvm.storage.disk_snapshot:
    domain: db1
    name: nightly
    disks: [vdb]
    pool: fast
    quiesce: true

- name: The upgrade went well - merge the snapshot back (the guest keeps running)
  kvm.storage.disk_snapshot:
    domain: web1
    name: before-upgrade
    state: absent

- name: The upgrade went badly - go back (guest shut down first)
  kvm.storage.disk_snapshot:
    domain: web1
    name: before-upgrade
    state: reverted

- name: List the snapshots
  kvm.storage.disk_snapshot:
    domain: web1
    state: listed
  register: snaps
"""

RETURN = r"""
actions:
  description: The steps taken, or in check mode the steps a real run would take.
  returned: always
  type: list
  elements: str
  sample: ["take external snapshot before-upgrade of guest web1 (vda -> /var/lib/libvirt/images/web1.vda.before-upgrade.qcow2)"]
running:
  description: Whether the guest was running.
  returned: success
  type: bool
snapshots:
  description: The guest's snapshots after the change (in check mode, as a real run would leave them), oldest first.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Snapshot name.
      type: str
    created:
      description: Creation time, seconds since the epoch (null for one a check run only predicts).
      type: int
    external:
      description: Whether it is an external (overlay) snapshot; internal ones are listed but not managed here.
      type: bool
    description:
      description: The stored description.
      type: str
    disks:
      description: The overlay of each disk the snapshot covers.
      type: list
      elements: dict
      contains:
        target:
          description: Disk target.
          type: str
        overlay:
          description: Path of the overlay file.
          type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._disk_snapshot import (
    MUTUALLY_EXCLUSIVE, REQUIRED_IF, argument_spec)
from ansible_collections.kvm.storage.plugins.module_utils._disk_snapshot_module import disk_snapshot_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


def main():
    spec = connection_argument_spec()
    spec.update(argument_spec())
    module = AnsibleModule(argument_spec=spec, mutually_exclusive=MUTUALLY_EXCLUSIVE, required_if=REQUIRED_IF,
                           supports_check_mode=True)
    run(module, disk_snapshot_work)


if __name__ == '__main__':
    main()
