#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_snapshot_info
short_description: Read the internal snapshots of a qcow2 volume
version_added: 0.1.0
description:
  - Reports the internal snapshots stored inside a qcow2 volume (C(qemu-img info)), as M(kvm.storage.volume_snapshot)
    with O(kvm.storage.volume_snapshot#module:state=listed) did; that state is deprecated.
  - A volume that is not qcow2 is an error (it has no internal snapshots).
  - The module runs qemu-img on the host, so the volume must be reachable there (file pools, or gluster URLs with
    qemu's gluster driver).
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._volume_snapshot
  - kvm.storage._attributes
  - kvm.storage._attributes.INFO_MODULE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
seealso:
  - module: kvm.storage.volume_snapshot
"""

EXAMPLES = r"""
- name: The snapshots of a guest's disk
  kvm.storage.volume_snapshot_info:
    pool: images
    volume: web1.qcow2
  register: snaps

- name: Their names
  ansible.builtin.debug:
    msg: "{{ snaps.snapshots | map(attribute='name') | list }}"
"""

RETURN = r"""
snapshots:
  description: The volume's snapshots.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: qemu's snapshot id.
      type: str
    name:
      description: Snapshot name.
      type: str
    date:
      description: Creation time, seconds since the epoch.
      type: int
    vm_state_size:
      description: Size of saved guest memory in the snapshot (0 for disk-only snapshots).
      type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run
from ansible_collections.kvm.storage.plugins.module_utils._volume_snapshot import info_argument_spec
from ansible_collections.kvm.storage.plugins.module_utils._volume_snapshot_module import snapshot_info_work


def main():
    spec = connection_argument_spec()
    spec.update(info_argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run(module, snapshot_info_work)


if __name__ == '__main__':
    main()
