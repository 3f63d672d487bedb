#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: disk_info
short_description: Read the disks of a libvirt guest
version_added: 0.1.0
description:
  - Reports every disk of a guest - target, bus, device, source, format, tuning, backing chain - from its live and its
    persistent definition, and where the two differ (a change that takes effect at the next boot, or a live-only one).
  - Also reports the disk buses the guest's machine type carries.
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._attributes
  - kvm.storage._attributes.INFO_MODULE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
options:
  domain:
    description: The guest name.
    type: str
    required: true
seealso:
  - module: kvm.storage.disk
"""

EXAMPLES = r"""
- name: Disks of a guest
  kvm.storage.disk_info:
    domain: web1
  register: web1_disks

- name: Changes waiting for a reboot
  ansible.builtin.debug:
    msg: "{{ web1_disks.disks | rejectattr('live') | map(attribute='target') | list }}"
"""

RETURN = r"""
disks:
  description: The disks, by target name.
  returned: always
  type: list
  elements: dict
  contains:
    target:
      description: Device name in the guest definition.
      type: str
    bus:
      description: Bus.
      type: str
    device:
      description: V(disk), V(cdrom), V(floppy) or V(lun).
      type: str
    source:
      description: File, block device, pool volume or network source; absent for an empty drive.
      type: dict
    format:
      description: Format qemu uses.
      type: str
    backing_chain:
      description: Backing files below the image, as the running guest reports them (empty for a stopped guest).
      type: list
      elements: dict
    live:
      description: Whether the running guest has the disk.
      type: bool
    persistent:
      description: Whether the persistent definition has the disk.
      type: bool
    volume:
      description: For a network disk that stands for a volume of a native V(gluster) or V(rbd) pool (how
        M(kvm.storage.disk) and M(kvm.storage.host_storage) attach such volumes) - that volume, C(pool) and C(name).
      returned: for such disks
      type: dict
    live_differs_in:
      description:
        - How the running guest's disk differs from the persistent definition's (empty for a stopped or transient
          guest) - the settings of one target (V(source), V(format), V(cache), ...), V(presence) when only one
          definition has the target, and V(target) when the other definition holds the same storage at another
          target (a power cycle would move the disk, or a later attach would duplicate it).
      type: list
      elements: str
    live_target:
      description: The target the running guest has this storage at, when it differs (see RV(disks[].live_differs_in)).
      type: str
      returned: when the storage sits at another target in the running guest
    persistent_target:
      description: The target the persistent definition has this storage at, when it differs.
      type: str
      returned: when the storage sits at another target in the persistent definition
    cache:
      description: The cache mode (M(kvm.storage.disk)'s O(kvm.storage.disk#module:cache)), when set.
      type: str
      returned: when set
    io:
      description: The I/O mode (V(native), V(threads), V(io_uring)), when set.
      type: str
      returned: when set
    discard:
      description: V(unmap) or V(ignore), when set.
      type: str
      returned: when set
    detect_zeroes:
      description: V(off), V(on) or V(unmap), when set.
      type: str
      returned: when set
    iothread:
      description: The I/O thread the disk is served by, when set.
      type: int
      returned: when set
    iotune:
      description:
        - The disk's block I/O limits (libvirt's C(<iotune>)) - the rates, bursts and burst lengths set (bytes or
          operations per second, seconds), and C(group_name) when the disk shares a throttle group; as
          M(kvm.storage.disk)'s O(kvm.storage.disk#module:iotune).
        - A change on a running guest shows in C(live_differs_in) until both definitions carry it.
      type: dict
      returned: when the disk is throttled
      sample: {total_bytes_sec: 104857600, total_iops_sec: 2000}
    readonly:
      description: V(true) for a read-only disk (left out when writable).
      type: bool
      returned: when true
    shareable:
      description: V(true) for a disk several guests may attach (left out otherwise).
      type: bool
      returned: when true
    serial:
      description: The serial number the guest sees, when set.
      type: str
      returned: when set
    wwn:
      description: The World Wide Name the guest sees, when set.
      type: str
      returned: when set
    boot_order:
      description: The disk's place in the boot order, when set.
      type: int
      returned: when set
    startup_policy:
      description: libvirt's startupPolicy of the source, when set.
      type: str
      returned: when set
running:
  description: Whether the guest runs.
  returned: always
  type: bool
persistent:
  description: Whether the guest is defined (not transient).
  returned: always
  type: bool
machine:
  description: The guest's machine type.
  returned: always
  type: str
buses:
  description: Disk buses the machine type carries (from libvirt's domain capabilities).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._disk_module import disk_info_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


def main():
    spec = connection_argument_spec()
    spec.update(domain=dict(type='str', required=True))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run(module, disk_info_work)


if __name__ == '__main__':
    main()
