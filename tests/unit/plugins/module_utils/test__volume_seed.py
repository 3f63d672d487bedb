# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cloud_init seed ISOs as tables: request checks, the plan against what the existing ISO
holds (read back: _volume.SeedFacts), who has it open, and diff forms without content;
plus the ISO 9660 reader against images xorriso builds."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _iso9660
from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._usage import Usage
from ansible_collections.kvm.storage.plugins.module_utils._volume import (
    PoolView, SeedFacts, World, needs_usage, plan, requests_from_params, seed_changes, seed_diff_forms, volume_options)

ISOS = '/var/lib/libvirt/isos'
USER = '#cloud-config\npassword: s3cret-pw\n'
META = 'instance-id: g1\n'
NET = 'version: 2\n'
FILES = {'user-data': USER.encode(), 'meta-data': META.encode()}


def params(**kw):
    p = dict((key, None) for key in volume_options())
    p.update(volumes=None, state='present', pool='isos', name='g1-seed.iso')
    p.update(kw)
    return p


def ci(user_data=USER, meta_data=META, network_config=None):
    return {'user_data': user_data, 'meta_data': meta_data, 'network_config': network_config}


def vol(name, fmt='iso', capacity=380928):
    path = '%s/%s' % (ISOS, name)
    return {'name': name, 'type': 'file', 'key': path, 'path': path, 'format': fmt, 'capacity': capacity,
            'allocation': capacity, 'physical': capacity, 'backing': None, 'encryption': None, 'permissions': None}


def world(seed=None, running=(), defined=(), tool='/usr/bin/xorriso', pool_type='dir', incomplete=False,
          fmt='iso', usage=True):
    volumes = {}
    if seed is not None:
        volumes['g1-seed.iso'] = vol('g1-seed.iso', fmt=fmt)
    pool = PoolView('isos', pool_type, True, ISOS, volumes)
    if incomplete:
        marker = {'marker': '/m', 'doing': 'x', 'survived': True, 'left': {'ino': 1}}
        pool.incomplete = {'g1-seed.iso': {'markers': [marker], 'now': {'ino': 1}}}
    w = World({'isos': pool})
    w.iso_tool = tool
    if seed is not None:
        w.seeds[('isos', 'g1-seed.iso')] = seed
    if usage:
        path = ISOS + '/g1-seed.iso'
        w.usage = Usage.from_tables(users={path: list(defined) + list(running)}, running={path: list(running)})
    return w


SAME = SeedFacts('cidata', dict(FILES))
OTHER_USER = SeedFacts('cidata', {'user-data': b'#cloud-config\n', 'meta-data': META.encode()})
WITH_NET = SeedFacts('cidata', dict(FILES, **{'network-config': NET.encode()}))
UPPER = SeedFacts('CIDATA', dict(FILES))
NOT_ISO = SeedFacts(why_not='no ISO 9660 image: no ISO 9660 volume descriptor at sector 16')
OTHER_LABEL = SeedFacts('TOOLS', {'readme.txt': b'x'})

CREATE = ('seed', 'create volume g1-seed.iso of pool isos as a cloud-init seed ISO (label cidata: meta-data, '
          'user-data)')
REPLACE = 'replace the cloud-init seed ISO volume g1-seed.iso of pool isos (%s)'

PLAN_CASES = [
    # (id, params, world, expected [(verb, text)] or (error class, text in the message))
    ('missing: built', params(cloud_init=ci()), world(), [CREATE]),
    ('missing, only user_data: meta-data empty', params(cloud_init=ci(meta_data=None)), world(), [CREATE]),
    ('missing, network_config: a third file', params(cloud_init=ci(network_config=NET)), world(),
     [('seed', 'create volume g1-seed.iso of pool isos as a cloud-init seed ISO (label cidata: meta-data, '
               'network-config, user-data)')]),
    ('missing, no ISO tool: refused naming the package', params(cloud_init=ci()), world(tool=None),
     (KvmStorageError, 'install the package xorriso')),
    ('missing in a logical pool: refused', params(cloud_init=ci()), world(pool_type='logical'),
     (KvmStorageError, 'make it in a dir, fs or netfs pool, not in a logical pool')),
    ('same files: nothing to do', params(cloud_init=ci()), world(SAME), []),
    ('same files, label in capitals: nothing to do', params(cloud_init=ci()), world(UPPER), []),
    ('same files, a stopped guest has it: nothing to do', params(cloud_init=ci()), world(SAME, defined=['g1']), []),
    ('same files, a running guest has it: nothing to do', params(cloud_init=ci()), world(SAME, running=['g1']), []),
    ('user-data changed, nobody has it open: replaced', params(cloud_init=ci()), world(OTHER_USER),
     [('seed_replace', REPLACE % 'user-data changed')]),
    ('user-data changed, a stopped guest has it: replaced', params(cloud_init=ci()),
     world(OTHER_USER, defined=['g1']), [('seed_replace', REPLACE % 'user-data changed')]),
    ('user-data changed, a running guest has it open: conflict', params(cloud_init=ci()),
     world(OTHER_USER, running=['g1']),
     (ConflictError, 'refusing to replace the cloud-init seed ISO volume g1-seed.iso of pool isos (user-data '
                     'changed): running guest(s) g1 have it open; shut them off and run again')),
    ('network-config dropped: replaced', params(cloud_init=ci()), world(WITH_NET),
     [('seed_replace', REPLACE % 'network-config removed')]),
    ('network-config added: replaced', params(cloud_init=ci(network_config=NET)), world(SAME),
     [('seed_replace', REPLACE % 'network-config added')]),
    ('not an ISO: conflict, never overwritten', params(cloud_init=ci()), world(NOT_ISO, fmt='raw'),
     (ConflictError, 'exists and is not a cloud-init seed ISO (no ISO 9660 image')),
    ('an ISO with another label: conflict', params(cloud_init=ci()), world(OTHER_LABEL),
     (ConflictError, 'exists as an ISO image labelled TOOLS, not cidata')),
    ('a qcow2 volume under the name: conflict', params(cloud_init=ci()), world(SAME, fmt='qcow2'),
     (ConflictError, 'exists as a qcow2 volume, not a cloud-init seed ISO')),
    ('differs but usage not read: never replaced blindly', params(cloud_init=ci()), world(OTHER_USER, usage=False),
     (KvmStorageError, 'who uses the seed ISO was not read')),
    ('incomplete (a write cut off): made again', params(cloud_init=ci()), world(NOT_ISO, fmt='raw', incomplete=True),
     [('delete', 'delete the incomplete volume g1-seed.iso of pool isos of an interrupted create'), CREATE]),
    ('state absent: deleted as any volume', params(cloud_init=ci(), state='absent'), world(SAME),
     [('delete', 'delete volume g1-seed.iso of pool isos')]),
]


@pytest.mark.parametrize('p, w, expected', [c[1:] for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES])
def test_plan(p, w, expected):
    if isinstance(expected, tuple):
        with pytest.raises(expected[0]) as err:
            plan(requests_from_params(p), w)
        assert expected[1] in err.value.msg
        assert USER not in err.value.msg and 's3cret' not in err.value.msg
        return
    steps = plan(requests_from_params(p), w)
    assert [(s.verb, s.text) for s in steps.steps] == expected
    assert not any('s3cret' in text for text in steps.actions)


def test_check_mode_assumes_the_tool():
    steps = plan(requests_from_params(params(cloud_init=ci())), world(tool=None), assume=True)
    assert steps.verbs() == ['seed']
    assert steps.assumed == ['the ISO tool xorriso']


REQUEST_CASES = [
    ('empty cloud_init', dict(cloud_init=ci(None, None, None)), 'cloud_init needs at least one of user_data'),
    ('with capacity', dict(cloud_init=ci(), capacity='1GiB'), 'capacity do not apply to it'),
    ('with backing', dict(cloud_init=ci(), backing={'pool': None, 'name': 'b', 'path': None, 'format': None}),
     'backing do not apply to it'),
    ('with import_from', dict(cloud_init=ci(), import_from='/x.iso'), 'import_from do not apply to it'),
    ('as qcow2', dict(cloud_init=ci(), format='qcow2'), 'a cloud_init seed ISO is a raw volume, not qcow2'),
]


@pytest.mark.parametrize('extra, message', [c[1:] for c in REQUEST_CASES], ids=[c[0] for c in REQUEST_CASES])
def test_request_refused(extra, message):
    with pytest.raises(KvmStorageError) as err:
        requests_from_params(params(**extra))
    assert message in err.value.msg


def test_request_files():
    req = requests_from_params(params(cloud_init=ci(meta_data=None, network_config=NET)))[0]
    assert req.cloud_init == {'user-data': USER, 'meta-data': '', 'network-config': NET}
    req = requests_from_params(params(cloud_init=ci(user_data=None)))[0]
    assert req.cloud_init == {'user-data': '', 'meta-data': META}


NEEDS_USAGE_CASES = [
    ('missing', world(), False),
    ('same', world(SAME), False),
    ('differs', world(OTHER_USER), True),
    ('not an ISO (a conflict, no usage needed)', world(NOT_ISO), False),
]


@pytest.mark.parametrize('w, expected', [c[1:] for c in NEEDS_USAGE_CASES], ids=[c[0] for c in NEEDS_USAGE_CASES])
def test_needs_usage(w, expected):
    assert needs_usage(requests_from_params(params(cloud_init=ci())), w) is expected


def test_changes_in_words():
    have = {'user-data': b'b', 'meta-data': b'', 'network-config': b'n'}
    assert seed_changes({'user-data': 'a', 'meta-data': ''}, have) == ['network-config removed', 'user-data changed']


def test_diff_forms_show_sizes_never_content():
    req = requests_from_params(params(cloud_init=ci()))[0]
    w = world(OTHER_USER)
    steps = plan([req], w)
    before, after = seed_diff_forms(req, w.pools['isos'].volumes['g1-seed.iso'], OTHER_USER, steps)
    assert before == {'user-data': '14 bytes', 'meta-data': '16 bytes'}
    assert after == {'user-data': '%d bytes, written' % len(USER), 'meta-data': '16 bytes'}
    same = plan([req], world(SAME))
    assert seed_diff_forms(req, vol('g1-seed.iso'), SAME, same) == ({'user-data': '%d bytes' % len(USER),
                                                                     'meta-data': '16 bytes'},) * 2
    new = plan([req], world())
    assert seed_diff_forms(req, None, None, new) == (None, {'user-data': '%d bytes, written' % len(USER),
                                                            'meta-data': '16 bytes, written'})
    assert 's3cret' not in repr((before, after))


# ---------------------------------------------------------------------------------------
# The reader against real images (xorriso is in the lab's packages; skipped without it)

TOOL = shutil.which('xorriso')
LAYOUTS = [('joliet and rock ridge', ['-joliet', '-rock']), ('rock ridge only', ['-rock']), ('plain ISO 9660', [])]


@pytest.mark.skipif(TOOL is None, reason='xorriso not installed')
@pytest.mark.parametrize('options', [c[1] for c in LAYOUTS], ids=[c[0] for c in LAYOUTS])
def test_read_root(tmp_path, options):
    folder = tmp_path / 'files'
    folder.mkdir()
    want = {'user-data': USER.encode(), 'meta-data': b'', 'network-config': NET.encode()}
    for name, data in want.items():
        (folder / name).write_bytes(data)
    iso = tmp_path / 'seed.iso'
    subprocess.run([TOOL, '-as', 'mkisofs', '-quiet', '-output', str(iso), '-volid', 'cidata'] + options + [str(folder)],
                   check=True, capture_output=True)
    label, files = _iso9660.read_root(iso.read_bytes())
    assert label.lower() == 'cidata'
    assert files == want


@pytest.mark.parametrize('data', [b'', b'\0' * 40000, bytes(range(256)) * 160], ids=['empty', 'zeros', 'noise'])
def test_not_iso(data):
    with pytest.raises(_iso9660.NotIso):
        _iso9660.read_root(data)


# ---------------------------------------------------------------------------------------
# The invocation log (syslog, journal) prints dict and list options with str(): the escaped
# spelling of a multi-line value must be hidden too, in volume and in host_storage (whose
# volumes list AnsibleModule does not know as no_log).

class _Module(object):
    def __init__(self, params, no_log_values=()):
        self.params = params
        self.no_log_values = set(no_log_values)


def test_invocation_log_hides_multiline_values():
    from ansible.module_utils.basic import heuristic_log_sanitize
    from ansible_collections.kvm.storage.plugins.module_utils._host_storage_module import hide_seed_values
    from ansible_collections.kvm.storage.plugins.module_utils._volume_module import hide_escaped
    secret = "#cloud-config\npassword: it's-s3cret\n"
    # volume: AnsibleModule knows the value (no_log suboption); the printed dict escapes it
    module = _Module({'cloud_init': {'user_data': secret}}, [secret])
    assert 's3cret' in heuristic_log_sanitize(str(module.params['cloud_init']), module.no_log_values)
    hide_escaped(module)
    assert 's3cret' not in heuristic_log_sanitize(str(module.params['cloud_init']), module.no_log_values)
    # host_storage: the volumes list is validated later; the values are hidden by hand
    module = _Module({'volumes': [{'name': 'a', 'cloud_init': {'user_data': secret, 'meta_data': None}}]})
    hide_seed_values(module)
    assert 's3cret' not in heuristic_log_sanitize(str(module.params['volumes']), module.no_log_values)
    assert secret in module.no_log_values
