#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_info
short_description: Read the volumes of a libvirt storage pool
version_added: 0.1.0
description:
  - Reports the volumes of a pool, or one by name - format, sizes, path, key, the full backing chain, encryption,
    and which guests use each volume, directly or through volumes backed by it.
  - One listing call for the pool's volumes and one for all guests serve every volume; the time grows linearly
    with the number of volumes.
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._attributes
  - kvm.storage._attributes.INFO_MODULE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
options:
  pool:
    description:
      - The pool to read. It must be running (libvirt lists volumes of running pools only).
    type: str
    required: true
  name:
    description:
      - Only this volume. An unknown name gives an empty list.
    type: str
  used_by:
    description:
      - Find the guests that use each volume (reads every guest's live and persistent definition and the volumes
        of all running pools). Turn off for a faster listing.
    type: bool
    default: true
seealso:
  - module: kvm.storage.volume
"""

EXAMPLES = r"""
- name: All volumes of a pool
  kvm.storage.volume_info:
    pool: images
  register: images

- name: Volumes no guest uses
  ansible.builtin.debug:
    msg: "{{ images.volumes | rejectattr('used_by') | map(attribute='name') | list }}"
"""

RETURN = r"""
volumes:
  description: The volumes, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Volume name.
      type: str
    pool:
      description: Pool name.
      type: str
    path:
      description: Path on the host (or the network URL libvirt uses for network volumes).
      type: str
    key:
      description: libvirt's unique key of the volume.
      type: str
    type:
      description: V(file), V(block), V(dir), V(network) or V(netdir).
      type: str
    format:
      description: Image format (V(raw), V(qcow2), ...), or the partition or LV type libvirt reports.
      type: str
    capacity:
      description: Size the guest sees, in bytes.
      type: int
    allocation:
      description: Bytes allocated on the host.
      type: int
    physical:
      description: Size of the file or device on the host, in bytes, when libvirt reports it.
      type: int
    capacity_human:
      description: RV(volumes[].capacity) with binary units.
      type: str
    allocation_human:
      description: RV(volumes[].allocation) with binary units.
      type: str
    backing:
      description: The immediate backing file (path and format), or null.
      type: dict
    backing_chain:
      description: Every backing file down to the base image, nearest first.
      type: list
      elements: dict
    encryption:
      description: Encryption format and secret UUID, or null.
      type: dict
    used_by:
      description: Guests (running or defined) whose disks use the volume directly or through a volume backed by it.
      type: list
      elements: str
      returned: when O(used_by=true)
    backing_of:
      description: Paths of volumes that have this volume as their backing file.
      type: list
      elements: str
      returned: when O(used_by=true)
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._volume_module import volume_info_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


def main():
    spec = connection_argument_spec()
    spec.update(pool=dict(type='str', required=True), name=dict(type='str'), used_by=dict(type='bool', default=True))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run(module, volume_info_work)


if __name__ == '__main__':
    main()
