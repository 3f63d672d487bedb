#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pool_info
short_description: Read libvirt storage pools
version_added: 0.1.0
description:
  - Reports every storage pool of a host, or one by name, with its type, state, sizes, target, source,
    volume count and whether it allows live migration.
  - One listing call serves all pools.
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._attributes
  - kvm.storage._attributes.INFO_MODULE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
options:
  name:
    description:
      - Only this pool. An unknown name gives an empty list, not an error.
    type: str
  names:
    description:
      - Only these pools, read in one call. Unknown names are left out, not an error.
      - Mutually exclusive with O(name).
    type: list
    elements: str
  refresh:
    description:
      - Refresh each running pool before reading it. libvirt reports a pool's capacity, allocation and free
        space as of its last refresh (its start, or a volume created through it), so two pools on one
        filesystem can show different free space; a refresh reads them afresh.
      - A refresh lists the pool's volumes again, which costs time on pools with many volumes and on network
        pools (a native gluster pool takes seconds), so it is off by default. It changes nothing on the host.
    type: bool
    default: false
seealso:
  - module: kvm.storage.pool
"""

EXAMPLES = r"""
- name: Read all pools
  kvm.storage.pool_info:
  register: host_pools

- name: Show the shared ones
  ansible.builtin.debug:
    msg: "{{ host_pools.pools | selectattr('migratable') | map(attribute='name') | list }}"

- name: One pool on a remote host, its free space read afresh
  kvm.storage.pool_info:
    name: images
    refresh: true
    uri: qemu+ssh://root@hv1.example.com/system
"""

RETURN = r"""
pools:
  description: The pools, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Pool name.
      type: str
    uuid:
      description: Pool UUID.
      type: str
    type:
      description: Pool type, in this collection's spelling (V(iscsi_direct) for libvirt's C(iscsi-direct)).
      type: str
    state:
      description: V(inactive), V(building), V(running), V(degraded) or V(inaccessible).
      type: str
    active:
      description: Whether the pool is running.
      type: bool
    persistent:
      description: Whether the pool is defined (false for a transient pool).
      type: bool
    autostart:
      description: Whether libvirtd starts the pool at its start.
      type: bool
    capacity:
      description: Size in bytes; null while the pool is inactive.
      type: int
    allocation:
      description: Bytes allocated; null while the pool is inactive.
      type: int
    available:
      description: Bytes free; null while the pool is inactive.
      type: int
    capacity_human:
      description: RV(pools[].capacity) with binary units, for example V(20 GiB).
      type: str
    available_human:
      description: RV(pools[].available) with binary units.
      type: str
    target:
      description: Target path and permissions; null for pools without a target.
      type: dict
    source:
      description: The source options that are set (devices, hosts, dir, name, format, initiator, auth, adapter).
      type: dict
    volume_count:
      description: Number of volumes; null while the pool is inactive (libvirt cannot list them then).
      type: int
    migratable:
      description:
        - Whether the pool's storage is shared between hosts, which live migration needs.
        - C(netfs), C(iscsi), C(iscsi_direct), C(gluster), C(rbd), C(mpath) and Fibre Channel C(scsi) pools are
          shared; C(dir), C(fs), C(logical), C(disk), C(zfs) are local.
      type: bool
    sharing:
      description: V(shared) or V(local), the same fact as RV(pools[].migratable) in words.
      type: str
  sample:
    - name: images
      type: dir
      state: running
      active: true
      persistent: true
      autostart: true
      capacity: 107374182400
      allocation: 21474836480
      available: 85899345920
      capacity_human: 100 GiB
      available_human: 80 GiB
      target: {path: /var/lib/libvirt/images, permissions: {mode: "0711", owner: "0", group: "0", label: null}}
      source: {}
      volume_count: 12
      migratable: false
      sharing: local
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._pool_module import pool_info_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


def main():
    spec = connection_argument_spec()
    spec.update(name=dict(type='str'), names=dict(type='list', elements='str'), refresh=dict(type='bool', default=False))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, mutually_exclusive=[('name', 'names')])
    run(module, pool_info_work)


if __name__ == '__main__':
    main()
