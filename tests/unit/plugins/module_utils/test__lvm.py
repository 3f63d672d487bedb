# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The LVM runner as tables: argument lists per command, and real JSON reports parsed.

The reports were captured on the lab VM host (Debian 12, LVM 2.03.16) with
``vgs/lvs --reportformat json --units b --nosuffix -o <fields>``."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _lvm
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

VGS_REPORT = '''  {
      "report": [
          {
              "vg": [
                  {"vg_name":"kvmst_thin_vg", "vg_size":"4290772992", "vg_free":"3208642560", "vg_extent_size":"4194304"}
              ]
          }
      ]
  }
'''

# A missing VG named on the command line: rc 5, an empty list and the error on stderr.
VGS_MISSING = '''  {
      "report": [
          {
              "vg": [
              ]
          }
      ]
  }
'''

LVS_REPORT = '''  {
      "report": [
          {
              "lv": [
                  {"lv_name":"snap", "vg_name":"kvmst_thin_vg", "lv_attr":"Vwi-a-t---", "lv_size":"268435456", "pool_lv":"tp", "origin":"tv", \
"data_percent":"0.00", "metadata_percent":"", "lv_metadata_size":"", "chunk_size":"0", "zero":"", "discards":"passdown", "lv_profile":"", \
"segtype":"thin"},
                  {"lv_name":"tp", "vg_name":"kvmst_thin_vg", "lv_attr":"twi-aot---", "lv_size":"1073741824", "pool_lv":"", "origin":"", \
"data_percent":"0.00", "metadata_percent":"10.94", "lv_metadata_size":"4194304", "chunk_size":"131072", "zero":"", "discards":"passdown", \
"lv_profile":"", "segtype":"thin-pool"},
                  {"lv_name":"tv", "vg_name":"kvmst_thin_vg", "lv_attr":"Vwi-a-t---", "lv_size":"268435456", "pool_lv":"tp", "origin":"", \
"data_percent":"0.00", "metadata_percent":"", "lv_metadata_size":"", "chunk_size":"0", "zero":"", "discards":"passdown", "lv_profile":"", \
"segtype":"thin"}
              ]
          }
      ]
  }
'''

# After lvchange -Zy, --discards nopassdown and --metadataprofile (pool open: a thin volume is active).
LVS_TUNED = '''{"report": [{"lv": [
  {"lv_name":"tp", "vg_name":"kvmst_thin_vg", "lv_attr":"twi-aotz--", "lv_size":"1073741824", "pool_lv":"", "origin":"", "data_percent":"0.78",
   "metadata_percent":"11.04", "lv_metadata_size":"4194304", "chunk_size":"131072", "zero":"zero", "discards":"nopassdown",
   "lv_profile":"kvmst-kvmst_thin_vg-tp", "segtype":"thin-pool"},
  {"lv_name":"plain", "vg_name":"kvmst_thin_vg", "lv_attr":"-wi-ao----", "lv_size":"8388608", "pool_lv":"", "origin":"", "data_percent":"",
   "metadata_percent":"", "lv_metadata_size":"", "chunk_size":"0", "zero":"", "discards":"", "lv_profile":"", "segtype":"linear"},
  {"lv_name":"off", "vg_name":"kvmst_thin_vg", "lv_attr":"Vwi---t---", "lv_size":"268435456", "pool_lv":"tp", "origin":"", "data_percent":"",
   "metadata_percent":"", "lv_metadata_size":"", "chunk_size":"0", "zero":"", "discards":"nopassdown", "lv_profile":"", "segtype":"thin"}
]}]}'''


def test_parse_vgs():
    assert _lvm.parse_vgs(VGS_REPORT) == {'kvmst_thin_vg': {
        'vg_name': 'kvmst_thin_vg', 'vg_size': 4290772992, 'vg_free': 3208642560, 'vg_extent_size': 4194304}}
    assert _lvm.parse_vgs(VGS_MISSING) == {}


@pytest.mark.parametrize('name, expected', [
    ('tp', dict(type='thin-pool', active=True, open=True, zero=False, lv_size=1073741824, lv_metadata_size=4194304,
                chunk_size=131072, data_percent=0.0, metadata_percent=10.94, discards='passdown', lv_profile='')),
    ('tv', dict(type='thin', active=True, open=False, lv_size=268435456, pool_lv='tp', origin='', data_percent=0.0,
                metadata_percent=None, lv_metadata_size=None)),
    ('snap', dict(type='thin', active=True, open=False, origin='tv', pool_lv='tp')),
])
def test_parse_lvs(name, expected):
    model = _lvm.parse_lvs(LVS_REPORT)[name]
    for key, value in expected.items():
        assert model[key] == value, key


@pytest.mark.parametrize('name, expected', [
    ('tp', dict(type='thin-pool', zero=True, discards='nopassdown', lv_profile='kvmst-kvmst_thin_vg-tp', data_percent=0.78)),
    ('plain', dict(type='other', active=True, open=True)),
    ('off', dict(type='thin', active=False, open=False, data_percent=None)),
])
def test_parse_lvs_tuned(name, expected):
    model = _lvm.parse_lvs(LVS_TUNED)[name]
    for key, value in expected.items():
        assert model[key] == value, key


def test_parse_not_json():
    with pytest.raises(KvmStorageError, match='did not answer with a JSON report'):
        _lvm.parse_lvs('  Volume group "x" not found\n')


@pytest.mark.parametrize('args, expected', [
    (_lvm.vgs_args(), ['vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o',
                       'vg_name,vg_size,vg_free,vg_extent_size']),
    (_lvm.lvs_args('vg'), ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', ','.join(_lvm.LV_FIELDS), 'vg']),
    (_lvm.lvcreate_thin_pool_args('vg', 'tp', 1073741824),
     ['lvcreate', '--yes', '--type', 'thin-pool', '-L', '1073741824b', '-n', 'tp', 'vg']),
    (_lvm.lvcreate_thin_pool_args('vg', 'tp', 1073741824, 8388608, 131072, False, 'nopassdown'),
     ['lvcreate', '--yes', '--type', 'thin-pool', '-L', '1073741824b', '-n', 'tp', '--poolmetadatasize', '8388608b',
      '--chunksize', '131072b', '-Z', 'n', '--discards', 'nopassdown', 'vg']),
    (_lvm.lvcreate_thin_args('vg', 'tp', 'tv', 4194304),
     ['lvcreate', '--yes', '--type', 'thin', '-V', '4194304b', '-n', 'tv', '--thinpool', 'tp', 'vg']),
    (_lvm.lvcreate_thin_snapshot_args('vg', 'tv', 'snap'), ['lvcreate', '--yes', '-s', '-kn', '-n', 'snap', 'vg/tv']),
    (_lvm.lvextend_args('vg', 'tv', 8388608), ['lvextend', '-L', '8388608b', 'vg/tv']),
    (_lvm.lvextend_metadata_args('vg', 'tp', 8388608), ['lvextend', '--poolmetadatasize', '8388608b', 'vg/tp']),
    (_lvm.lvremove_args('vg', 'tv'), ['lvremove', '--yes', 'vg/tv']),
    (_lvm.lvchange_active_args('vg', 'tv', True), ['lvchange', '-ay', '-K', 'vg/tv']),
    (_lvm.lvchange_active_args('vg', 'tv', False), ['lvchange', '-an', 'vg/tv']),
    (_lvm.lvchange_profile_args('vg', 'tp', 'p'), ['lvchange', '--metadataprofile', 'p', 'vg/tp']),
    (_lvm.lvchange_zero_args('vg', 'tp', True), ['lvchange', '-Z', 'y', 'vg/tp']),
    (_lvm.lvchange_discards_args('vg', 'tp', 'ignore'), ['lvchange', '--discards', 'ignore', 'vg/tp']),
])
def test_argument_lists(args, expected):
    assert args == expected


class FakeModule(object):
    def __init__(self, rc=0, out='', err=''):
        self.answer = (rc, out, err)
        self.calls = []

    def run_command(self, args, environ_update=None):
        self.calls.append((args, environ_update))
        return self.answer


def test_run_sets_lang_c_and_reads():
    module = FakeModule(out=VGS_REPORT)
    assert list(_lvm.read_vgs(module)) == ['kvmst_thin_vg']
    args, env = module.calls[0]
    assert args[0] == 'vgs' and env == {'LANG': 'C', 'LC_ALL': 'C'}


def test_run_failure_is_one_sentence():
    module = FakeModule(rc=5, err='  Volume group "vg" not found\n  Cannot process volume group vg\n')
    with pytest.raises(KvmStorageError) as info:
        _lvm.read_lvs(module, 'vg')
    assert info.value.msg == ('cannot list the logical volumes of volume group vg: lvs: Volume group "vg" not found '
                              'Cannot process volume group vg')
    assert info.value.details['rc'] == 5
