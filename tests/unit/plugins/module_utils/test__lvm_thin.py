# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The thin pool and thin volume planners as tables: (params, LVM's reports) -> steps or error."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._lvm_thin import (
    legacy_profile_name, needs_users, plan_pool, plan_volume, pool_argument_spec, pool_model, predict_pool, predict_volume,
    profile_name, profile_text, profiles_to_read, volume_argument_spec, volume_model)
from ansible_collections.kvm.storage.plugins.module_utils._lvm import parse_profile_carriers
from ansible_collections.kvm.storage.plugins.module_utils._lvm_thin_adapter import lvm_args

MiB = 1024 ** 2
GiB = 1024 ** 3
EXTENT = 4 * MiB
PROFILE = 'kvmst_thin-vg-tp'
LEGACY = 'kvmst-vg-tp'


def vgs(free=3 * GiB):
    return {'vg': {'vg_name': 'vg', 'vg_size': 4 * GiB, 'vg_free': free, 'vg_extent_size': EXTENT}}


def lv(name, kind, size, pool='', origin='', active=True, is_open=False, **kw):
    model = {'lv_name': name, 'vg_name': 'vg', 'lv_attr': {'thin-pool': 'twi-aot---', 'thin': 'Vwi-a-t---'}.get(kind, '-wi-a-----'),
             'lv_size': size, 'pool_lv': pool, 'origin': origin, 'data_percent': 1.5, 'metadata_percent': None,
             'lv_metadata_size': None, 'chunk_size': 0, 'zero': False, 'discards': 'passdown', 'lv_profile': '',
             'segtype': kind, 'type': kind, 'active': active, 'open': is_open}
    model.update(kw)
    return model


def tp(**kw):
    kw.setdefault('lv_metadata_size', 4 * MiB)
    kw.setdefault('chunk_size', 64 * 1024)
    kw.setdefault('metadata_percent', 10.94)
    return lv('tp', 'thin-pool', kw.pop('size', GiB), **kw)


def lvs(*models):
    return dict((m['lv_name'], m) for m in models)


WITH_VOLUMES = lvs(tp(), lv('tv', 'thin', 256 * MiB, pool='tp'), lv('snap', 'thin', 256 * MiB, pool='tp', origin='tv'),
                   lv('plain', 'other', 8 * MiB))


def pool_params(**kw):
    p = dict((key, None) for key in pool_argument_spec())
    p.update(vg='vg', name='tp', state='present', force=False)
    p.update(kw)
    return p


def volume_params(**kw):
    p = dict((key, None) for key in volume_argument_spec())
    p.update(vg='vg', name='tv', state='present', force=False, active=True)
    p.update(kw)
    return p


# ---------------------------------------------------------------------------------------
# thin pool

POOL_CASES = [
    # (id, params, lvs, profile content, expected actions, expected args of the first step)
    ('create', dict(size='1GiB'), {}, None, ['create thin pool tp in volume group vg of 1 GiB'],
     ['lvcreate', '--yes', '--type', 'thin-pool', '-L', '1073741824b', '-n', 'tp', 'vg']),
    ('create rounds up to extents', dict(size='1000MB', chunk_size='128KiB', zero=False, discards='ignore'), {}, None,
     ['create thin pool tp in volume group vg of 956 MiB'],
     ['lvcreate', '--yes', '--type', 'thin-pool', '-L', '1002438656b', '-n', 'tp', '--chunksize', '131072b', '-Z', 'n',
      '--discards', 'ignore', 'vg']),
    ('same size', dict(size='1GiB'), lvs(tp()), None, [], None),
    ('size within the last extent', dict(size='1021MiB'), lvs(tp()), None, [], None),
    ('no size on an existing pool', dict(), lvs(tp()), None, [], None),
    ('grow', dict(size='2GiB'), lvs(tp()), None, ['grow thin pool tp in volume group vg from 1 GiB to 2 GiB'],
     ['lvextend', '-L', '2147483648b', 'vg/tp']),
    ('grow metadata', dict(metadata_size='8MiB'), lvs(tp()), None,
     ['grow the metadata of thin pool tp in volume group vg from 4 MiB to 8 MiB'],
     ['lvextend', '--poolmetadatasize', '8388608b', 'vg/tp']),
    ('zero and discards', dict(zero=True, discards='nopassdown'), lvs(tp()), None,
     ['turn on zeroing of new blocks in thin pool tp in volume group vg',
      'set discards of thin pool tp in volume group vg to nopassdown'], ['lvchange', '-Z', 'y', 'vg/tp']),
    ('same chunk size, zero, discards', dict(chunk_size='64KiB', zero=False, discards='passdown'), lvs(tp()), None, [], None),
    ('autoextend on a new pool', dict(size='1GiB', autoextend=dict(threshold=80, percent=20)), {}, None,
     ['create thin pool tp in volume group vg of 1 GiB',
      'write autoextend profile /etc/lvm/profile/kvmst_thin-vg-tp.profile (threshold 80%, grow by 20%)',
      'attach profile kvmst_thin-vg-tp to thin pool tp in volume group vg'], None),
    ('autoextend already set', dict(autoextend=dict(threshold=80, percent=20)), lvs(tp(lv_profile=PROFILE)),
     profile_text(80, 20), [], None),
    ('autoextend changed: the file only', dict(autoextend=dict(threshold=90, percent=20)), lvs(tp(lv_profile=PROFILE)),
     profile_text(80, 20), ['write autoextend profile /etc/lvm/profile/kvmst_thin-vg-tp.profile (threshold 90%, grow by 20%)'], None),
    ('profile file there, not attached', dict(autoextend=dict(threshold=80, percent=20)), lvs(tp()), profile_text(80, 20),
     ['attach profile kvmst_thin-vg-tp to thin pool tp in volume group vg'], ['lvchange', '--metadataprofile', PROFILE, 'vg/tp']),
    ('absent, gone', dict(state='absent'), {}, None, [], None),
    ('absent, VG gone', dict(state='absent', vg='nosuch'), {}, None, [], None),
    ('absent, empty pool with profile', dict(state='absent'), lvs(tp(lv_profile=PROFILE)), profile_text(80, 20),
     ['remove thin pool tp in volume group vg', 'delete autoextend profile /etc/lvm/profile/kvmst_thin-vg-tp.profile'],
     ['lvremove', '--yes', 'vg/tp']),
    ('absent, stale own profile carried by nothing', dict(state='absent'), {}, 'x',
     ['delete autoextend profile /etc/lvm/profile/kvmst_thin-vg-tp.profile'], None),
    ('absent with volumes and force', dict(state='absent', force=True), WITH_VOLUMES, None,
     ['remove thin pool tp in volume group vg with its thin volumes snap, tv'], ['lvremove', '--yes', 'vg/tp']),
]


@pytest.mark.parametrize('params, actual, profile, actions, first_args', [c[1:] for c in POOL_CASES],
                         ids=[c[0] for c in POOL_CASES])
def test_plan_pool(params, actual, profile, actions, first_args):
    steps = plan_pool(pool_params(**params), {} if params.get('vg') == 'nosuch' else vgs(), actual, {PROFILE: profile},
                      {PROFILE: ['vg/tp']} if (actual.get('tp') or {}).get('lv_profile') == PROFILE else {})
    assert steps.actions == actions
    if first_args is not None:
        assert lvm_args(steps.steps[0]) == first_args


POOL_ERRORS = [
    ('VG missing', dict(vg='nosuch', size='1GiB'), {}, KvmStorageError,
     'thin pool tp in volume group nosuch: volume group nosuch does not exist; create it first (vgcreate) or fix vg'),
    ('no size to create', dict(), {}, KvmStorageError, 'thin pool tp in volume group vg does not exist: size is needed to create it'),
    ('bigger than VG free', dict(size='8GiB'), {}, KvmStorageError,
     'thin pool tp in volume group vg: size 8 GiB is larger than the 3 GiB free in the volume group; give a smaller size or '
     'add a physical volume'),
    ('grow beyond VG free', dict(size='5GiB'), lvs(tp()), KvmStorageError,
     'thin pool tp in volume group vg: growing it to 5 GiB needs 4 GiB but the volume group has 3 GiB free'),
    ('shrink', dict(size='512MiB'), lvs(tp()), KvmStorageError,
     'refusing to shrink thin pool tp in volume group vg from 1 GiB to 512 MiB: LVM cannot shrink thin pools'),
    ('shrink metadata', dict(metadata_size='2MiB'), lvs(tp(lv_metadata_size=8 * MiB)), KvmStorageError, 'refusing to shrink the metadata'),
    ('chunk size change', dict(chunk_size='128KiB'), lvs(tp()), ConflictError, 'LVM cannot change the chunk size'),
    ('discards to ignore', dict(discards='ignore'), lvs(tp()), ConflictError, 'only while the pool is inactive'),
    ('not a thin pool', dict(size='1GiB'), lvs(lv('tp', 'other', GiB)), ConflictError, 'exists and is not a thin pool'),
    ('bad size', dict(size='1 parsec'), {}, KvmStorageError, 'has an unknown size unit'),
    ('threshold too low', dict(size='1GiB', autoextend=dict(threshold=20, percent=20)), {}, KvmStorageError,
     'autoextend threshold must be a percent from 50 to 100'),
    ('percent zero', dict(size='1GiB', autoextend=dict(threshold=80, percent=0)), {}, KvmStorageError,
     'autoextend percent must be at least 1'),
    ('absent with volumes', dict(state='absent'), WITH_VOLUMES, KvmStorageError,
     'refusing to remove thin pool tp in volume group vg: it holds thin volume(s) snap, tv; remove them first or set '
     'force: true to remove them with it'),
    ('absent, not a thin pool', dict(state='absent'), lvs(lv('tp', 'other', GiB)), ConflictError, 'is not a thin pool'),
]


@pytest.mark.parametrize('params, actual, error, message', [c[1:] for c in POOL_ERRORS], ids=[c[0] for c in POOL_ERRORS])
def test_plan_pool_errors(params, actual, error, message):
    with pytest.raises(error) as info:
        plan_pool(pool_params(**params), {} if params.get('vg') == 'nosuch' else vgs(), actual, {})
    assert message in info.value.msg
    assert '\n' not in info.value.msg


def test_pool_model_and_prediction():
    before = pool_model(WITH_VOLUMES['tp'], WITH_VOLUMES)
    assert before['volumes'] == ['snap', 'tv'] and before['metadata_percent'] == 10.94
    steps = plan_pool(pool_params(size='2GiB', zero=True, autoextend=dict(threshold=80, percent=20)), vgs(), WITH_VOLUMES, {})
    after = predict_pool(before, steps)
    assert (after['size'], after['zero'], after['profile']) == (2 * GiB, True, PROFILE)
    created = predict_pool(None, plan_pool(pool_params(size='1GiB'), vgs(), {}, {}))
    assert created['size'] == GiB
    removed = plan_pool(pool_params(state='absent', force=True), vgs(), WITH_VOLUMES, {})
    assert predict_pool(before, removed) is None


# ---------------------------------------------------------------------------------------
# autoextend profiles: one per pool, unambiguous names; only the profile a pool carries is
# touched, and a legacy name (VG-pool) only while no other LV carries it

def test_profile_names_are_unambiguous():
    assert profile_name('vg-x', 'tp') != profile_name('vg', 'x-tp')
    assert (profile_name('vg-x', 'tp'), profile_name('vg', 'x-tp')) == ('kvmst_thin-vg--x-tp', 'kvmst_thin-vg-x--tp')
    assert legacy_profile_name('vg-x', 'tp') == legacy_profile_name('vg', 'x-tp') == 'kvmst-vg-x-tp'
    assert not profile_name('vg', 'tp').startswith('kvmst-')   # never equal to any legacy name


def xtp(**kw):
    return lv('x-tp', 'thin-pool', GiB, lv_metadata_size=4 * MiB, chunk_size=64 * 1024, **kw)


SHARED = 'kvmst-vg-x-tp'   # the legacy name of both vg-x/tp and vg/x-tp
AUTO80 = dict(autoextend=dict(threshold=80, percent=20))

PROFILE_CASES = [
    # (id, params, lvs of VG vg, profile files {name: text}, carriers, expected actions)
    ('absent pool never deletes a profile it may share', dict(name='x-tp', state='absent'), {},
     {SHARED: profile_text(90, 10)}, {SHARED: ['vg-x/tp']}, []),
    ('absent pool, own stale profile carried by another LV', dict(name='x-tp', state='absent'), {},
     {'kvmst_thin-vg-x--tp': 'x'}, {'kvmst_thin-vg-x--tp': ['other/lv']}, []),
    ('absent pool, carriers unknown: own stale profile kept', dict(name='x-tp', state='absent'), {},
     {'kvmst_thin-vg-x--tp': 'x'}, None, []),
    ('remove a pool carrying a shared legacy profile: file kept', dict(name='x-tp', state='absent'),
     lvs(xtp(lv_profile=SHARED)), {SHARED: profile_text(80, 20)}, {SHARED: ['vg-x/tp', 'vg/x-tp']},
     ['remove thin pool x-tp in volume group vg']),
    ('remove a pool carrying its legacy profile alone', dict(name='x-tp', state='absent'),
     lvs(xtp(lv_profile=SHARED)), {SHARED: profile_text(80, 20)}, {SHARED: ['vg/x-tp']},
     ['remove thin pool x-tp in volume group vg', 'delete autoextend profile /etc/lvm/profile/kvmst-vg-x-tp.profile']),
    ('remove a pool carrying a profile not its own: file kept', dict(name='x-tp', state='absent'),
     lvs(xtp(lv_profile='site-thin')), {}, {'site-thin': ['vg/x-tp']}, ['remove thin pool x-tp in volume group vg']),
    ('configure the second pool: its own file, the first one untouched', dict(name='x-tp', **AUTO80), lvs(xtp()),
     {'kvmst_thin-vg-x--tp': None}, {SHARED: ['vg-x/tp']},
     ['write autoextend profile /etc/lvm/profile/kvmst_thin-vg-x--tp.profile (threshold 80%, grow by 20%)',
      'attach profile kvmst_thin-vg-x--tp to thin pool x-tp in volume group vg']),
    ('legacy profile carried and as asked: no change', dict(name='x-tp', **AUTO80), lvs(xtp(lv_profile=SHARED)),
     {'kvmst_thin-vg-x--tp': None, SHARED: profile_text(80, 20)}, {SHARED: ['vg/x-tp']}, []),
    ('legacy profile carried, settings changed, shared: move, keep the old file', dict(name='x-tp', **AUTO80),
     lvs(xtp(lv_profile=SHARED)), {'kvmst_thin-vg-x--tp': None, SHARED: profile_text(90, 10)},
     {SHARED: ['vg-x/tp', 'vg/x-tp']},
     ['write autoextend profile /etc/lvm/profile/kvmst_thin-vg-x--tp.profile (threshold 80%, grow by 20%)',
      'attach profile kvmst_thin-vg-x--tp to thin pool x-tp in volume group vg']),
    ('legacy profile carried alone, settings changed: move and delete the old file', dict(name='x-tp', **AUTO80),
     lvs(xtp(lv_profile=SHARED)), {'kvmst_thin-vg-x--tp': None, SHARED: profile_text(90, 10)},
     {SHARED: ['vg/x-tp']},
     ['write autoextend profile /etc/lvm/profile/kvmst_thin-vg-x--tp.profile (threshold 80%, grow by 20%)',
      'attach profile kvmst_thin-vg-x--tp to thin pool x-tp in volume group vg',
      'delete autoextend profile /etc/lvm/profile/kvmst-vg-x-tp.profile (its old name, now carried by no pool)']),
]


@pytest.mark.parametrize('params, actual, files, carriers, actions', [c[1:] for c in PROFILE_CASES],
                         ids=[c[0] for c in PROFILE_CASES])
def test_autoextend_profiles(params, actual, files, carriers, actions):
    p = pool_params(**params)
    wanted = profiles_to_read(p['vg'], p['name'], actual.get(p['name']))
    profiles = dict((n, files.get(n)) for n in wanted)
    steps = plan_pool(p, vgs(), actual, profiles, carriers)
    assert steps.actions == actions
    for step in steps.steps:
        if step.verb in ('write_profile', 'delete_profile'):
            assert SHARED not in step.args['path'] or 'delete' in step.verb


def test_profile_carriers_report():
    text = ('{"report": [{"lv": [{"vg_name": "vg-x", "lv_name": "tp", "lv_profile": "kvmst-vg-x-tp"}, '
            '{"vg_name": "vg", "lv_name": "x-tp", "lv_profile": "kvmst-vg-x-tp"}, '
            '{"vg_name": "vg", "lv_name": "data", "lv_profile": ""}]}]}')
    assert parse_profile_carriers(text) == {'kvmst-vg-x-tp': ['vg-x/tp', 'vg/x-tp']}


@pytest.mark.parametrize('params', [dict(size='8EiB'), dict(size='1GiB', metadata_size=str(2 ** 63)),
                                    dict(size='1GiB', chunk_size='18446744073709551615')])
def test_thin_pool_sizes_beyond_libvirt(params):
    option = [k for k, v in params.items() if v != '1GiB'][0]
    with pytest.raises(KvmStorageError) as exc:
        plan_pool(pool_params(**params), vgs(), {}, {})
    assert exc.value.msg.startswith('thin pool tp in volume group vg: %s ' % option), exc.value.msg
    assert 'larger than libvirt accepts' in exc.value.msg and '\n' not in exc.value.msg


def test_thin_volume_size_beyond_libvirt():
    with pytest.raises(KvmStorageError) as exc:
        plan_volume(volume_params(thin_pool='tp', size=str(2 ** 63)), vgs(), lvs(tp()), None)
    assert exc.value.msg.startswith('thin volume tv in volume group vg: size 9223372036854775808 is larger than')


def test_profile_text():
    assert 'activation {\n\tthin_pool_autoextend_threshold=80\n\tthin_pool_autoextend_percent=20\n}\n' in profile_text(80, 20)


# ---------------------------------------------------------------------------------------
# thin volume

VOLUME_CASES = [
    ('create', dict(thin_pool='tp', size='10GiB'), lvs(tp()), ['create thin volume tv in volume group vg of 10 GiB in thin pool tp'],
     ['lvcreate', '--yes', '--type', 'thin', '-V', '10737418240b', '-n', 'tv', '--thinpool', 'tp', 'vg']),
    ('create inactive', dict(thin_pool='tp', size='1GiB', active=False), lvs(tp()),
     ['create thin volume tv in volume group vg of 1 GiB in thin pool tp', 'deactivate thin volume tv in volume group vg'], None),
    ('exists', dict(thin_pool='tp', size='256MiB'), WITH_VOLUMES, [], None),
    ('exists, no size, no pool', dict(), WITH_VOLUMES, [], None),
    ('grow', dict(size='1GiB'), WITH_VOLUMES, ['grow thin volume tv in volume group vg from 256 MiB to 1 GiB'],
     ['lvextend', '-L', '1073741824b', 'vg/tv']),
    ('activate', dict(), lvs(tp(), lv('tv', 'thin', GiB, pool='tp', active=False)), ['activate thin volume tv in volume group vg'],
     ['lvchange', '-ay', '-K', 'vg/tv']),
    ('deactivate', dict(active=False), WITH_VOLUMES, ['deactivate thin volume tv in volume group vg'], ['lvchange', '-an', 'vg/tv']),
    ('snapshot', dict(name='snap2', snapshot_of='tv'), WITH_VOLUMES,
     ['create thin volume snap2 in volume group vg as a thin snapshot of tv'],
     ['lvcreate', '--yes', '-s', '-kn', '-n', 'snap2', 'vg/tv']),
    ('snapshot grown at once', dict(name='snap2', snapshot_of='tv', thin_pool='tp', size='512MiB'), WITH_VOLUMES,
     ['create thin volume snap2 in volume group vg as a thin snapshot of tv',
      'grow thin volume snap2 in volume group vg from 256 MiB to 512 MiB'], None),
    ('snapshot exists', dict(name='snap', snapshot_of='tv'), WITH_VOLUMES, [], None),
    ('snapshot exists, origin removed since', dict(name='snap', snapshot_of='tv'),
     lvs(tp(), lv('snap', 'thin', 256 * MiB, pool='tp')), [], None),
    ('absent', dict(state='absent'), WITH_VOLUMES, ['remove thin volume tv in volume group vg'], ['lvremove', '--yes', 'vg/tv']),
    ('absent, gone', dict(state='absent', name='nosuch'), WITH_VOLUMES, [], None),
    ('absent, open, forced', dict(state='absent', force=True), lvs(tp(), lv('tv', 'thin', GiB, pool='tp', is_open=True)),
     ['remove thin volume tv in volume group vg'], None),
]


@pytest.mark.parametrize('params, actual, actions, first_args', [c[1:] for c in VOLUME_CASES], ids=[c[0] for c in VOLUME_CASES])
def test_plan_volume(params, actual, actions, first_args):
    steps = plan_volume(volume_params(**params), vgs(), actual, [])
    assert steps.actions == actions
    if first_args is not None:
        assert lvm_args(steps.steps[0]) == first_args


VOLUME_ERRORS = [
    ('VG missing', dict(vg='nosuch', thin_pool='tp', size='1GiB'), {}, None, KvmStorageError,
     'thin volume tv in volume group nosuch: volume group nosuch does not exist'),
    ('snapshot_of missing', dict(name='snap2', snapshot_of='nosuch'), WITH_VOLUMES, None, KvmStorageError,
     'thin volume snap2 in volume group vg: snapshot_of nosuch does not exist in volume group vg; create it first or fix snapshot_of'),
    ('snapshot_of not thin', dict(name='snap2', snapshot_of='plain'), WITH_VOLUMES, None, KvmStorageError,
     'snapshot_of plain is not a thin volume'),
    ('snapshot in another pool', dict(name='snap2', snapshot_of='tv', thin_pool='other'), WITH_VOLUMES, None, ConflictError,
     'a thin snapshot lives in the pool of its origin'),
    ('no pool to create', dict(size='1GiB', name='new'), WITH_VOLUMES, None, KvmStorageError, 'thin_pool is needed to create it'),
    ('pool missing', dict(size='1GiB', name='new', thin_pool='nosuch'), WITH_VOLUMES, None, KvmStorageError,
     'thin pool nosuch does not exist in volume group vg'),
    ('no size to create', dict(name='new', thin_pool='tp'), WITH_VOLUMES, None, KvmStorageError, 'size is needed to create it'),
    ('shrink', dict(size='128MiB'), WITH_VOLUMES, None, KvmStorageError,
     'refusing to shrink thin volume tv in volume group vg from 256 MiB to 128 MiB'),
    ('snapshot shrink at creation', dict(name='snap2', snapshot_of='tv', size='128MiB'), WITH_VOLUMES, None, KvmStorageError,
     'refusing to shrink'),
    ('other pool', dict(thin_pool='other'), WITH_VOLUMES, None, ConflictError, 'is in thin pool tp, not other'),
    ('other origin', dict(name='snap', snapshot_of='other'), WITH_VOLUMES, None, ConflictError, 'is a snapshot of tv, not of other'),
    ('not thin', dict(name='plain'), WITH_VOLUMES, None, ConflictError, 'exists and is not a thin volume'),
    ('absent, open', dict(state='absent'), lvs(tp(), lv('tv', 'thin', GiB, pool='tp', is_open=True)), None, KvmStorageError,
     'refusing to remove thin volume tv in volume group vg: it is open'),
    ('absent, used by guests', dict(state='absent'), WITH_VOLUMES, ['g1', 'g2'], KvmStorageError,
     'refusing to remove thin volume tv in volume group vg: libvirt guest(s) g1, g2 use it as a disk; detach it first or set force: true'),
    ('absent, not thin', dict(state='absent', name='plain'), WITH_VOLUMES, None, ConflictError, 'is not a thin volume'),
]


@pytest.mark.parametrize('params, actual, users, error, message', [c[1:] for c in VOLUME_ERRORS], ids=[c[0] for c in VOLUME_ERRORS])
def test_plan_volume_errors(params, actual, users, error, message):
    with pytest.raises(error) as info:
        plan_volume(volume_params(**params), {} if params.get('vg') == 'nosuch' else vgs(), actual, users)
    assert message in info.value.msg
    assert '\n' not in info.value.msg


def test_used_by_guests_forced():
    steps = plan_volume(volume_params(state='absent', force=True), vgs(), WITH_VOLUMES, ['g1'])
    assert steps.verbs() == ['remove']


def test_volume_prediction():
    before = volume_model(WITH_VOLUMES['tv'])
    steps = plan_volume(volume_params(size='1GiB', active=False), vgs(), WITH_VOLUMES, [])
    after = predict_volume(before, steps, volume_params(), WITH_VOLUMES)
    assert (after['size'], after['active']) == (GiB, False)
    params = volume_params(name='snap2', snapshot_of='tv')
    snap = predict_volume(None, plan_volume(params, vgs(), WITH_VOLUMES, []), params, WITH_VOLUMES)
    assert (snap['size'], snap['origin'], snap['thin_pool']) == (256 * MiB, 'tv', 'tp')


USED_CASES = [
    # (id, users, overlays, force, refusal fragment or None)
    ('a guest', ['web'], [], False, 'libvirt guest(s) web use it'),
    ('a guest through an overlay', ['web (through /srv/o.qcow2)'], ['/srv/o.qcow2'], False,
     'web (through /srv/o.qcow2)'),
    ('an overlay no guest uses', [], ['/srv/o.qcow2'], False, 'it is the backing file of /srv/o.qcow2'),
    ('force', ['web'], ['/srv/o.qcow2'], True, None),
    ('nobody', [], [], False, None),
]


@pytest.mark.parametrize('case_id, users, overlays, force, refusal', USED_CASES, ids=[c[0] for c in USED_CASES])
def test_remove_refused_while_held(case_id, users, overlays, force, refusal):
    params = volume_params(state='absent', force=force)
    if refusal is None:
        assert plan_volume(params, vgs(), WITH_VOLUMES, users, overlays).verbs() == ['remove']
        return
    with pytest.raises(KvmStorageError) as exc:
        plan_volume(params, vgs(), WITH_VOLUMES, users, overlays)
    assert refusal in exc.value.msg


def _all_steps():
    for _id, params, actual, profile, _actions, _first in POOL_CASES:
        yield from plan_pool(pool_params(**params), {} if params.get('vg') == 'nosuch' else vgs(), actual,
                             {PROFILE: profile}, {}).steps
    for _id, params, actual, _actions, _first in VOLUME_CASES:
        yield from plan_volume(volume_params(**params), vgs(), actual, []).steps


def test_steps_carry_values_the_adapter_turns_into_commands():
    """A step carries sizes, flags and names; the LVM command line is the adapter's, and no
    prediction parses one back."""
    verbs = set()
    for step in _all_steps():
        verbs.add(step.verb)
        assert 'args' not in step.args
        if step.verb in ('write_profile', 'delete_profile'):
            assert step.args['path'].startswith('/etc/lvm/profile/')
            continue
        command = lvm_args(step)
        assert command[0] in ('lvcreate', 'lvextend', 'lvchange', 'lvremove')
        assert '%s/%s' % (step.args['vg'], step.args.get('origin') or step.args['name']) in command \
            or command[-1] == step.args['vg']
    assert verbs >= set(['create', 'grow', 'grow_metadata', 'zero', 'discards', 'attach_profile', 'remove',
                         'write_profile', 'delete_profile', 'snapshot', 'activate', 'deactivate'])


@pytest.mark.parametrize('params, listed, needed', [
    (dict(state='absent'), WITH_VOLUMES, True),
    (dict(state='absent', force=True), WITH_VOLUMES, False),
    (dict(state='absent', name='nosuch'), WITH_VOLUMES, False),
    (dict(state='absent'), None, True),
    (dict(), WITH_VOLUMES, False),
])
def test_guests_are_asked_for_a_removal_only(params, listed, needed):
    assert needs_users(volume_params(**params), listed) is needed
