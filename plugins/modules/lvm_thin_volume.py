#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lvm_thin_volume
short_description: Manage an LVM thin volume or thin snapshot
version_added: 0.1.0
description:
  - Creates, grows, activates, deactivates and removes one thin volume in an LVM thin pool, or a thin snapshot of
    another thin volume (O(snapshot_of)). Hand it to guests as a block disk (M(kvm.storage.disk) with
    C(source.block=/dev/<vg>/<name>)); libvirt's C(logical) pools do not list thin volumes.
  - The virtual size only grows; a smaller O(size) is refused.
  - Thin snapshots carry LVM's activation-skip flag; the module creates them without it (C(lvcreate -s -kn)) and
    activates with C(-K), so they are usable like any thin volume.
  - Removal is refused while the volume is open (the 6th character of C(lv_attr) is C(o)) or while a libvirt guest,
    running or only defined, names it as a disk, unless O(force=true). The guest check reads the host's guests through
    libvirt at O(uri); when libvirt-python or lxml is not installed, or libvirt does not answer, that check is
    skipped and the result carries a warning.
  - Runs the LVM commands on the managed host (C(LANG=C), JSON reports).
  - In check mode, a volume group, thin pool or origin of a thin snapshot that does not exist yet (made by an
    earlier task of the play) is planned as if it existed - changed, the steps a real run takes in RV(actions) (a
    snapshot grown from an origin not made yet says so instead of its size), a warning naming each assumption, and
    RV(assumed) listing them. A real run assumes nothing and fails when it is still missing.
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._attributes
  - kvm.storage._attributes.CHANGES_STATE
options:
  vg:
    description: The volume group of the thin pool. It must exist.
    type: str
    required: true
  thin_pool:
    description:
      - The thin pool the volume lives in. Required to create a volume that is not a snapshot.
      - A thin snapshot lives in the pool of its origin; when given, it must be that pool.
    type: str
  name:
    description: The thin volume's name.
    type: str
    required: true
  size:
    description:
      - Virtual size (V(20GiB), V(512M), bytes), rounded up to whole extents. Required to create a volume that is not a
        snapshot; a snapshot starts at its origin's size.
      - A larger size grows the volume (C(lvextend)); a smaller one is refused.
    type: str
  snapshot_of:
    description:
      - Create the volume as a thin snapshot of this thin volume of the same volume group. Only used at creation; an
        existing volume that is a snapshot of another origin is reported as a conflict.
    type: str
  active:
    description: Whether the volume is active (its device node exists).
    type: bool
    default: true
  state:
    description: V(present) creates or updates the volume; V(absent) removes it. Its data is lost on removal.
    type: str
    default: present
    choices: [present, absent]
  force:
    description: Remove the volume even though it is open or a libvirt guest uses it.
    type: bool
    default: false
seealso:
  - module: kvm.storage.lvm_thin_pool
  - module: kvm.storage.disk
"""

EXAMPLES = r"""
- name: A 20 GiB thin template
  kvm.storage.lvm_thin_volume:
    vg: vg_vms
    thin_pool: thinpool
    name: debian12-template
    size: 20GiB

- name: A guest's disk as a thin snapshot of the template, grown to 40 GiB
  kvm.storage.lvm_thin_volume:
    vg: vg_vms
    name: web1-disk
    snapshot_of: debian12-template
    size: 40GiB

- name: Remove it (refused while a guest uses it)
  kvm.storage.lvm_thin_volume:
    vg: vg_vms
    name: web1-disk
    state: absent

- name: Remove the template too (a thin snapshot does not depend on its origin)
  kvm.storage.lvm_thin_volume:
    vg: vg_vms
    name: debian12-template
    state: absent
"""

RETURN = r"""
actions:
  description: The steps taken, or in check mode the steps a real run would take.
  returned: always
  type: list
  elements: str
  sample: ["create thin volume web1-disk in volume group vg_vms as a thin snapshot of debian12-template"]
assumed:
  description:
    - Check mode only - what did not exist yet and was planned as if an earlier task of the play made it
      (each also named in a warning). A real run fails if it still does not exist then.
  returned: in check mode, when something was assumed
  type: list
  elements: str
  sample: ["thin pool thinpool in volume group vg_vms"]
thin_volume:
  description: The volume after the change (before it, in check mode); null when it does not exist.
  returned: success
  type: dict
  contains:
    vg:
      description: Volume group.
      type: str
    name:
      description: Volume name.
      type: str
    path:
      description: Device path.
      type: str
      sample: /dev/vg_vms/web1-disk
    size:
      description: Virtual size in bytes.
      type: int
    thin_pool:
      description: The thin pool holding it.
      type: str
    origin:
      description: The volume it is a thin snapshot of, if any.
      type: str
    active:
      description: Whether it is active.
      type: bool
    open:
      description: Whether something has it open.
      type: bool
    data_percent:
      description: How much of the virtual size is provisioned, in percent.
      type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._lvm_thin import volume_argument_spec
from ansible_collections.kvm.storage.plugins.module_utils._lvm_thin_module import volume_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


def main():
    spec = connection_argument_spec()
    spec.update(volume_argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run(module, volume_work, connect=False)


if __name__ == '__main__':
    main()
