#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lvm_thin_pool
short_description: Manage an LVM thin pool in a volume group
version_added: 0.1.0
description:
  - Creates, grows, tunes and removes one LVM thin pool (C(lvcreate --type thin-pool)), the store that thin volumes and
    thin snapshots (M(kvm.storage.lvm_thin_volume)) take their blocks from.
  - The pool only grows; LVM cannot shrink thin pools, so a smaller O(size) or O(metadata_size) is refused.
  - Automatic growth (O(autoextend)) is set through an LVM metadata profile attached to this pool only
    (C(/etc/lvm/profile/kvmst_thin-<vg>-<name>.profile) with every dash in the VG and pool names doubled, so that
    no two pools share one file; C(lvchange --metadataprofile)), never in the global C(lvm.conf).
  - Only the profile a pool carries (C(lvs -o lv_profile)) is rewritten or deleted. A pool that carries the name of
    older releases (C(kvmst-<vg>-<name>), which C(vg-x)/C(tp) and C(vg)/C(x-tp) shared) keeps it while its settings
    match; a change moves it to its own profile, and the old file is deleted only when no other LV carries it.
    It takes effect while the pool is monitored by C(dmeventd) (C(lvm2-monitor)).
  - Runs the LVM commands on the managed host (C(LANG=C), JSON reports); libvirt is not needed.
  - Returns how full the pool is (RV(data_percent), RV(metadata_percent)).
  - In check mode, a volume group that does not exist yet (made by an earlier task of the play, the build of a
    logical pool say) is planned as if it existed, with room for the pool - changed, the steps a real run takes in
    RV(actions), a warning naming the assumption, and RV(assumed) listing it. A real run assumes nothing and fails
    when the volume group is still missing.
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._attributes
  - kvm.storage._attributes.CHANGES_STATE
options:
  vg:
    description: The volume group that holds the pool. It must exist.
    type: str
    required: true
  name:
    description: The thin pool's logical volume name.
    type: str
    required: true
  size:
    description:
      - Data size of the pool (V(20GiB), V(512M), bytes), rounded up to whole extents. Required to create the pool.
      - A larger size grows the pool (C(lvextend)); a smaller one is refused.
    type: str
  metadata_size:
    description:
      - Size of the pool's metadata volume. LVM picks one from O(size) when omitted.
      - On an existing pool a larger size grows the metadata; a smaller one is refused.
    type: str
  chunk_size:
    description:
      - Chunk size of the pool (64KiB to 1GiB, a multiple of 64KiB). LVM picks one when omitted.
      - It cannot change after creation; a different value on an existing pool is reported as a conflict.
    type: str
  zero:
    description: Whether newly provisioned chunks are zeroed before first use (C(-Z)). LVM's default when omitted.
    type: bool
  discards:
    description:
      - How discards from thin volumes are handled. LVM's default (V(passdown)) when omitted.
      - LVM switches an active pool only between V(passdown) and V(nopassdown); a change to or from V(ignore) on an
        existing pool is refused.
    type: str
    choices: [passdown, nopassdown, ignore]
  autoextend:
    description: Grow the pool automatically when it fills up, through a profile attached to the pool.
    type: dict
    suboptions:
      threshold:
        description: Fill level (percent, 50 to 100) at which the pool grows; V(100) turns automatic growth off.
        type: int
        required: true
      percent:
        description: How much the pool grows each time, in percent of its size.
        type: int
        required: true
  state:
    description:
      - V(present) creates or updates the pool; V(absent) removes it (and the autoextend profile it carries, unless
        another LV carries the same profile).
      - Removal is refused while the pool holds thin volumes, unless O(force=true).
    type: str
    default: present
    choices: [present, absent]
  force:
    description: With O(state=absent), remove the pool together with all its thin volumes. Their data is lost.
    type: bool
    default: false
seealso:
  - module: kvm.storage.lvm_thin_volume
"""

EXAMPLES = r"""
- name: A thin pool of 100 GiB that grows by 20% when 80% full
  kvm.storage.lvm_thin_pool:
    vg: vg_vms
    name: thinpool
    size: 100GiB
    discards: passdown
    autoextend:
      threshold: 80
      percent: 20
  register: pool

- name: Show how full it is
  ansible.builtin.debug:
    msg: "data {{ pool.data_percent }}%, metadata {{ pool.metadata_percent }}%"

- name: Remove it (refused while it holds thin volumes)
  kvm.storage.lvm_thin_pool:
    vg: vg_vms
    name: thinpool
    state: absent
"""

RETURN = r"""
actions:
  description: The steps taken, or in check mode the steps a real run would take.
  returned: always
  type: list
  elements: str
  sample:
    - create thin pool thinpool in volume group vg_vms of 100 GiB
    - attach profile kvmst_thin-vg_vms-thinpool to thin pool thinpool in volume group vg_vms
assumed:
  description:
    - Check mode only - what did not exist yet and was planned as if an earlier task of the play made it
      (each also named in a warning). A real run fails if it still does not exist then.
  returned: in check mode, when something was assumed
  type: list
  elements: str
  sample: ["volume group vg_vms"]
data_percent:
  description: How full the pool's data is, in percent (null when the pool does not exist).
  returned: success
  type: float
  sample: 12.5
metadata_percent:
  description: How full the pool's metadata is, in percent (null when the pool does not exist).
  returned: success
  type: float
  sample: 10.94
thin_pool:
  description: The pool after the change (before it, in check mode); null when it does not exist.
  returned: success
  type: dict
  contains:
    vg:
      description: Volume group.
      type: str
    name:
      description: Pool name.
      type: str
    size:
      description: Data size in bytes.
      type: int
    metadata_size:
      description: Metadata size in bytes.
      type: int
    chunk_size:
      description: Chunk size in bytes.
      type: int
    zero:
      description: Whether new chunks are zeroed.
      type: bool
    discards:
      description: Discards mode.
      type: str
    profile:
      description: Name of the attached LVM profile, if any.
      type: str
    data_percent:
      description: Data usage in percent.
      type: float
    metadata_percent:
      description: Metadata usage in percent.
      type: float
    volumes:
      description: Names of the thin volumes in the pool.
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._lvm_thin import pool_argument_spec
from ansible_collections.kvm.storage.plugins.module_utils._lvm_thin_module import pool_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import run


def main():
    module = AnsibleModule(argument_spec=pool_argument_spec(), supports_check_mode=True)
    run(module, pool_work, connect=False)


if __name__ == '__main__':
    main()
