#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_snapshot
short_description: Manage internal snapshots of a qcow2 volume
version_added: 0.1.0
description:
  - Creates, deletes and reverts to the internal snapshots stored inside a qcow2 volume (C(qemu-img snapshot)).
    M(kvm.storage.volume_snapshot_info) lists them.
  - Refused while a running guest has the volume open, directly or through an overlay - writing into an image that
    qemu holds open corrupts it. Shut the guest down first, or use libvirt's domain snapshots for running guests.
  - Reverting a volume that other volumes use as backing file changes the data under them; that needs O(force=true).
  - The module runs qemu-img on the host, so the volume must be reachable there (file pools, or gluster URLs with
    qemu's gluster driver).
  - In check mode, a volume that does not exist yet (made by an earlier task of the play) is planned as if it
    existed, as a new qcow2 volume without snapshots - changed, the steps a real run takes in RV(actions), a warning
    naming the assumption, and RV(assumed) listing it. A real run assumes nothing and fails when the volume is still
    missing.
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._volume_snapshot
  - kvm.storage._attributes
  - kvm.storage._attributes.CHANGES_STATE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
attributes:
  idempotent:
    support: partial
    details:
      - O(state=reverted) reverts on every run (whether the data already equals the snapshot cannot be known cheaply).
options:
  name:
    description: The snapshot name. Required unless O(state=listed).
    type: str
  state:
    description:
      - V(present) creates the snapshot when it is missing; V(absent) deletes it; V(reverted) sets the volume's data
        back to it.
      - V(listed) only reports the snapshots. It is deprecated and will be removed in release 0.2.0; use
        M(kvm.storage.volume_snapshot_info), which reads the same list.
    type: str
    default: present
    choices: [present, absent, reverted, listed]
  force:
    description:
      - Revert even though other images are backed by this one.
      - In a native V(gluster) pool a revert always needs O(force) (gfapi keeps no lock that would show a guest on
        another host using the image). In a V(netfs) pool a revert, create or delete is refused while another process
        holds the image's lock, whatever O(force) says.
    type: bool
    default: false
seealso:
  - module: kvm.storage.volume_snapshot_info
  - module: kvm.storage.volume
"""

EXAMPLES = r"""
- name: Snapshot a stopped guest's disk before an upgrade
  kvm.storage.volume_snapshot:
    pool: images
    volume: web1.qcow2
    name: before-upgrade

- name: Go back to it
  kvm.storage.volume_snapshot:
    pool: images
    volume: web1.qcow2
    name: before-upgrade
    state: reverted

- name: List the snapshots
  kvm.storage.volume_snapshot:
    pool: images
    volume: web1.qcow2
    state: listed
  register: snaps
"""

RETURN = r"""
actions:
  description: The steps taken, or in check mode the steps a real run would take.
  returned: always
  type: list
  elements: str
  sample: ["create snapshot before-upgrade of volume web1.qcow2 of pool images"]
assumed:
  description:
    - Check mode only - what did not exist yet and was planned as if an earlier task of the play made it
      (each also named in a warning). A real run fails if it still does not exist then.
  returned: in check mode, when something was assumed
  type: list
  elements: str
  sample: ["volume web1.qcow2 of pool images"]
snapshots:
  description:
    - The volume's snapshots after the change (before it, in check mode), each as
      RV(kvm.storage.volume_snapshot_info#module:snapshots) of M(kvm.storage.volume_snapshot_info) describes it.
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run
from ansible_collections.kvm.storage.plugins.module_utils._volume_snapshot import argument_spec, REQUIRED_IF
from ansible_collections.kvm.storage.plugins.module_utils._volume_snapshot_module import snapshot_work


def main():
    spec = connection_argument_spec()
    spec.update(argument_spec())
    module = AnsibleModule(argument_spec=spec, required_if=REQUIRED_IF, supports_check_mode=True)
    run(module, snapshot_work)


if __name__ == '__main__':
    main()
