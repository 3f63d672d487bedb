# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LVM thin pools and thin volumes on the host: read LVM's reports, the autoextend profile
files and who uses a thin volume (through libvirt); apply one step (the LVM command it
stands for, or a profile file written or deleted)."""

from __future__ import annotations

import os

from ansible_collections.kvm.storage.plugins.module_utils import _identity
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _lvm
from ansible_collections.kvm.storage.plugins.module_utils import _lvm_thin
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._usage_adapter import read_usage


def lvm_args(step):
    """The LVM command line of a thin pool or thin volume step (every step but the profile
    files'), built from the values the step carries."""
    a = step.args
    vg, name = a['vg'], a['name']
    if step.verb == 'remove':
        return _lvm.lvremove_args(vg, name)
    if step.verb == 'create' and 'thin_pool' in a:
        return _lvm.lvcreate_thin_args(vg, a['thin_pool'], name, a['size'])
    if step.verb == 'create':
        return _lvm.lvcreate_thin_pool_args(vg, name, a['size'], a['metadata_size'], a['chunk_size'], a['zero'],
                                            a['discards'])
    if step.verb == 'snapshot':
        return _lvm.lvcreate_thin_snapshot_args(vg, a['origin'], name)
    if step.verb == 'grow':
        return _lvm.lvextend_args(vg, name, a['size'])
    if step.verb == 'grow_metadata':
        return _lvm.lvextend_metadata_args(vg, name, a['metadata_size'])
    if step.verb == 'zero':
        return _lvm.lvchange_zero_args(vg, name, a['zero'])
    if step.verb == 'discards':
        return _lvm.lvchange_discards_args(vg, name, a['discards'])
    if step.verb == 'attach_profile':
        return _lvm.lvchange_profile_args(vg, name, a['profile'])
    if step.verb in ('activate', 'deactivate'):
        return _lvm.lvchange_active_args(vg, name, a['active'])
    raise KvmStorageError('cannot %s: no LVM command for step %s' % (step.text, step.verb))


class LvmThinAdapter(object):
    def __init__(self, module):
        self.module = module

    # -- reading -------------------------------------------------------------------------

    def read(self, vg):
        """(vgs, lvs): every volume group, and the LVs of ``vg`` ({} when it does not exist)."""
        vgs = _lvm.read_vgs(self.module)
        lvs = _lvm.read_lvs(self.module, vg) if vg in vgs else {}
        return vgs, lvs

    def read_profiles(self, vg, name, lv):
        """{profile name: the text of its file, or None when there is none} for the names the
        planner compares (_lvm_thin.profiles_to_read)."""
        return dict((n, read_profile(n)) for n in _lvm_thin.profiles_to_read(vg, name, lv))

    def read_carriers(self):
        """Which LVs carry which profile, over every VG ({profile: ['vg/lv', ...]})."""
        return _lvm.read_profile_carriers(self.module)

    # -- writing -------------------------------------------------------------------------

    def apply(self, step):
        if step.verb == 'write_profile':
            if not os.path.isdir(_lvm_thin.PROFILE_DIR):
                os.makedirs(_lvm_thin.PROFILE_DIR, 0o755)
            self.module.atomic_move(self._write_temp(step.args['content']), step.args['path'])
            os.chmod(step.args['path'], 0o644)
        elif step.verb == 'delete_profile':
            os.remove(step.args['path'])
        else:
            _lvm.run(self.module, lvm_args(step), step.text)
        return None

    def _write_temp(self, content):
        path = os.path.join(self.module.tmpdir, 'kvmst-lvm.profile')
        with open(path, 'w') as handle:
            handle.write(content)
        return path


def read_profile(name):
    """The text of profile ``name``'s file, None when there is none."""
    path = _lvm_thin.profile_path_of(name)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def guest_users(vg, name, uri=None, allow_insecure=False):
    """(guests, images, warning): libvirt guests (running or only defined) that hold the LV,
    by any of its names (an inactive LV has no device node: its udev names still count),
    directly or through a qcow2 overlay whose backing file it is; images whose backing file
    it is; a warning when libvirt cannot be asked at ``uri`` (not installed, not running)."""
    if not _libvirt.HAS_LIBVIRT or not _xml.HAS_LXML:
        return None, [], ('libvirt-python or lxml is not installed: cannot check whether a libvirt guest uses '
                          '%s/%s as a disk' % (vg, name))
    try:
        conn = _libvirt.connect(_libvirt.check_uri(_libvirt.resolve_uri(uri), allow_insecure))
    except KvmStorageError as exc:
        return None, [], 'libvirt is not reachable (%s): cannot check whether a guest uses %s/%s' % (exc.msg, vg, name)
    try:
        usage = read_usage(conn)
    finally:
        conn.close()
    keys = thin_volume_keys(vg, name)
    return usage.holders(keys), usage.backing_of_keys(keys), None


def thin_volume_keys(vg, name):
    """The identity keys of a thin volume: its udev names hold for an inactive LV too; an
    active one adds its device node's keys."""
    return _identity.lv_keys(vg, name) | _identity.keys('/dev/%s/%s' % (vg, name))
