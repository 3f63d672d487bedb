# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LVM as a command runner: one small factory per command giving its argument list,
LANG=C, no shell, and the JSON reports (``--reportformat json --units b --nosuffix``)
parsed here only.  The factories and parsers are pure; ``run`` is the only I/O."""

from __future__ import annotations

import json

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

ENV = {'LANG': 'C', 'LC_ALL': 'C'}

# Sizes in bytes without a unit suffix, so they parse as integers.
REPORT = ['--reportformat', 'json', '--units', 'b', '--nosuffix']

VG_FIELDS = ('vg_name', 'vg_size', 'vg_free', 'vg_extent_size')
LV_FIELDS = ('lv_name', 'vg_name', 'lv_attr', 'lv_size', 'pool_lv', 'origin', 'data_percent', 'metadata_percent',
             'lv_metadata_size', 'chunk_size', 'zero', 'discards', 'lv_profile', 'segtype')

_INTS = ('vg_size', 'vg_free', 'vg_extent_size', 'lv_size', 'lv_metadata_size', 'chunk_size')
_PERCENTS = ('data_percent', 'metadata_percent')


def lv_path(vg, name):
    return '%s/%s' % (vg, name)


def _bytes(size):
    # LVM reads a "b" suffix as bytes; it rounds up to whole extents itself.
    return '%db' % size


# ---- report commands ------------------------------------------------------------------

def vgs_args():
    """All volume groups: asking for one missing VG by name makes vgs fail (rc 5)."""
    return ['vgs'] + REPORT + ['-o', ','.join(VG_FIELDS)]


def lvs_args(vg):
    return ['lvs'] + REPORT + ['-o', ','.join(LV_FIELDS), vg]


# ---- change commands ------------------------------------------------------------------

def lvcreate_thin_pool_args(vg, name, size, metadata_size=None, chunk_size=None, zero=None, discards=None):
    args = ['lvcreate', '--yes', '--type', 'thin-pool', '-L', _bytes(size), '-n', name]
    if metadata_size is not None:
        args += ['--poolmetadatasize', _bytes(metadata_size)]
    if chunk_size is not None:
        args += ['--chunksize', _bytes(chunk_size)]
    if zero is not None:
        args += ['-Z', 'y' if zero else 'n']
    if discards is not None:
        args += ['--discards', discards]
    return args + [vg]


def lvcreate_thin_args(vg, pool, name, size):
    return ['lvcreate', '--yes', '--type', 'thin', '-V', _bytes(size), '-n', name, '--thinpool', pool, vg]


def lvcreate_thin_snapshot_args(vg, origin, name):
    # Thin snapshots get the activation-skip flag by default; -kn leaves it off so the
    # snapshot is active (and visible under /dev) like any other thin volume.
    return ['lvcreate', '--yes', '-s', '-kn', '-n', name, lv_path(vg, origin)]


def lvextend_args(vg, name, size):
    return ['lvextend', '-L', _bytes(size), lv_path(vg, name)]


def lvextend_metadata_args(vg, name, size):
    return ['lvextend', '--poolmetadatasize', _bytes(size), lv_path(vg, name)]


def lvremove_args(vg, name):
    return ['lvremove', '--yes', lv_path(vg, name)]


def lvchange_active_args(vg, name, active):
    # -K: also activate volumes that carry the activation-skip flag (older thin snapshots).
    return ['lvchange', '-ay', '-K', lv_path(vg, name)] if active else ['lvchange', '-an', lv_path(vg, name)]


def lvchange_profile_args(vg, name, profile):
    return ['lvchange', '--metadataprofile', profile, lv_path(vg, name)]


def lvchange_zero_args(vg, name, zero):
    return ['lvchange', '-Z', 'y' if zero else 'n', lv_path(vg, name)]


def lvchange_discards_args(vg, name, discards):
    return ['lvchange', '--discards', discards, lv_path(vg, name)]


# ---- parsing --------------------------------------------------------------------------

def _rows(text, kind, doing):
    try:
        data = json.loads(text)
    except ValueError:
        raise KvmStorageError('cannot %s: LVM did not answer with a JSON report' % doing)
    rows = []
    for report in data.get('report') or []:
        rows.extend(report.get(kind) or [])
    return rows


def _convert(row):
    out = {}
    for key, value in row.items():
        if key in _INTS:
            out[key] = int(value) if value not in ('', None) else None
        elif key in _PERCENTS:
            out[key] = float(value) if value not in ('', None) else None
        else:
            out[key] = value
    return out


def parse_vgs(text, doing='list the volume groups'):
    """vgs JSON report -> {vg_name: {vg_name, vg_size, vg_free, vg_extent_size}} (sizes in bytes)."""
    return dict((row['vg_name'], _convert(row)) for row in _rows(text, 'vg', doing))


def parse_lvs(text, doing='list the logical volumes'):
    """lvs JSON report -> {lv_name: model}: sizes in bytes, percents as floats (None when
    LVM reports none), plus ``type`` (thin-pool, thin or other), ``active``, ``open`` and
    ``zero`` (bool) read from the attribute string and the zero field."""
    out = {}
    for row in _rows(text, 'lv', doing):
        model = _convert(row)
        attr = model.get('lv_attr') or ''
        model['type'] = {'t': 'thin-pool', 'V': 'thin'}.get(attr[:1], 'other')
        model['active'] = attr[4:5] == 'a'
        model['open'] = attr[5:6] == 'o'
        model['zero'] = model.get('zero') == 'zero'
        out[model['lv_name']] = model
    return out


# ---- the one place that runs LVM ------------------------------------------------------

def run(module, args, doing):
    """Run one LVM command; a failure becomes ``cannot <doing>: <LVM's words>``."""
    rc, out, err = module.run_command(list(args), environ_update=ENV)
    if rc != 0:
        words = ' '.join((err or out or 'exit code %d' % rc).split())
        raise KvmStorageError('cannot %s: %s: %s' % (doing, args[0], words), rc=rc, cmd=list(args))
    return out


def read_vgs(module):
    return parse_vgs(run(module, vgs_args(), 'list the volume groups'))


def profile_carriers_args():
    return ['lvs'] + REPORT + ['-o', 'vg_name,lv_name,lv_profile']


def parse_profile_carriers(text):
    """lvs JSON report over every VG -> {profile name: ['vg/lv', ...]} (LVs with a profile)."""
    out = {}
    for row in _rows(text, 'lv', 'list the profiles of the logical volumes'):
        if row.get('lv_profile'):
            out.setdefault(row['lv_profile'], []).append(lv_path(row['vg_name'], row['lv_name']))
    return dict((k, sorted(v)) for k, v in out.items())


def read_profile_carriers(module):
    return parse_profile_carriers(run(module, profile_carriers_args(), 'list the profiles of the logical volumes'))


def read_lvs(module, vg):
    doing = 'list the logical volumes of volume group %s' % vg
    return parse_lvs(run(module, lvs_args(vg), doing), doing)
