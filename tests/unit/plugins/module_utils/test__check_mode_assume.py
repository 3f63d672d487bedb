# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check mode in a play of plain module tasks: a pool, volume or secret that does not exist
yet is planned as if an earlier task made it (``assume``), with the same action words as the
real run and a warning naming the assumption; without ``assume`` (a real run) it is refused
as before. Tables over the pure planners: volume, disk, volume_snapshot, the LVM thin
planners and host_storage."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _host_storage as hs
from ansible_collections.kvm.storage.plugins.module_utils import _lvm_thin
from ansible_collections.kvm.storage.plugins.module_utils import _volume
from ansible_collections.kvm.storage.plugins.module_utils import _volume_snapshot
from ansible_collections.kvm.storage.plugins.module_utils._disk import DomainView, SourceFacts, plan as disk_plan
from ansible_collections.kvm.storage.plugins.module_utils._disk import request_from_params as disk_request
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._volume import (
    PoolView, World, plan as volume_plan, requests_from_params, volume_options)

GiB = 1024 ** 3
IMAGES = '/srv/images'


def vparams(**kw):
    p = dict((key, None) for key in volume_options())
    p['volumes'] = None
    p['pool'] = 'images'
    p.update(kw)
    return p


def qcow2(name, capacity=GiB):
    path = '%s/%s' % (IMAGES, name)
    return {'name': name, 'type': 'file', 'key': path, 'path': path, 'format': 'qcow2', 'capacity': capacity,
            'allocation': 0, 'physical': 0, 'backing': None, 'encryption': None, 'permissions': None}


def world(with_images=True, secrets=None):
    pools = {}
    if with_images:
        pools['images'] = PoolView('images', 'dir', True, IMAGES, {'tpl.qcow2': qcow2('tpl.qcow2')})
    return World(pools, secrets=secrets or {})


# ---------------------------------------------------------------------------------------
# volume: (params, world) -> the actions and assumptions of check mode; the real run's refusal

LUKS = {'format': None, 'secret_uuid': None, 'secret_usage': IMAGES + '/vault.qcow2'}

VOLUME_CASES = [
    ('missing pool', vparams(pool='new', name='a.qcow2', format='qcow2', capacity='1G'), world(),
     ['create volume a.qcow2 of pool new (qcow2, 1 GiB)'], ['pool new'], 'pool new does not exist'),
    ('missing pool, raw by default', vparams(pool='new', name='a.raw', capacity='1G'), world(),
     ['create volume a.raw of pool new (raw, 1 GiB)'], ['pool new'], 'pool new does not exist'),
    ('missing LUKS secret', vparams(name='vault.qcow2', format='qcow2', capacity='1G', encryption=LUKS), world(),
     ['create volume vault.qcow2 of pool images (qcow2, 1 GiB, LUKS-encrypted)'],
     ['the libvirt volume secret with usage id %s/vault.qcow2' % IMAGES], 'there is no libvirt volume secret'),
    ('LUKS secret there: nothing assumed', vparams(name='vault.qcow2', format='qcow2', capacity='1G', encryption=LUKS),
     world(secrets={IMAGES + '/vault.qcow2': 'uuid-1'}),
     ['create volume vault.qcow2 of pool images (qcow2, 1 GiB, LUKS-encrypted)'], [], None),
    ('missing backing volume in a known pool',
     vparams(name='web1.qcow2', backing={'name': 'new-tpl.qcow2', 'pool': None, 'path': None, 'format': None}), world(),
     ['create volume web1.qcow2 of pool images (qcow2, size of its backing file, backing %s/new-tpl.qcow2)' % IMAGES],
     ['volume new-tpl.qcow2 of pool images'], 'backing volume new-tpl.qcow2 of pool images does not exist'),
    ('missing pool and backing volume',
     vparams(pool='new', name='web1.qcow2', capacity='2G',
             backing={'name': 'tpl.qcow2', 'pool': None, 'path': None, 'format': 'qcow2'}), world(False),
     ['create volume web1.qcow2 of pool new (qcow2, 2 GiB, backing volume tpl.qcow2 of pool new)'],
     ['pool new', 'volume tpl.qcow2 of pool new'], 'pool new does not exist'),
    ('missing clone source', vparams(name='copy', clone_from={'name': 'gone.qcow2', 'pool': 'elsewhere'}), world(),
     ['clone volume gone.qcow2 of pool elsewhere to volume copy of pool images (size of its source)'],
     ['volume gone.qcow2 of pool elsewhere'], 'clone_from volume gone.qcow2 of pool elsewhere does not exist'),
    ('an existing pool: nothing assumed', vparams(name='b.qcow2', format='qcow2', capacity='1G'), world(),
     ['create volume b.qcow2 of pool images (qcow2, 1 GiB)'], [], None),
    ('absent in a missing pool: nothing to do, nothing assumed', vparams(pool='new', name='a', state='absent'), world(),
     [], [], None),
]


@pytest.mark.parametrize('case_id, p, the_world, actions, assumed, refusal', VOLUME_CASES,
                         ids=[c[0] for c in VOLUME_CASES])
def test_volume_check_mode_assumes(case_id, p, the_world, actions, assumed, refusal):
    steps = volume_plan(requests_from_params(p), the_world, assume=True)
    assert steps.actions == actions
    assert steps.assumed == assumed
    assert len(steps.warnings) == len(assumed)
    for what, warning in zip(assumed, steps.warnings):
        assert warning.startswith('check mode: %s does not exist yet; planned as if an earlier task creates it' % what)
        assert 'a real run fails unless it exists by then' in warning
    if refusal is None:
        assert volume_plan(requests_from_params(p), world(secrets=the_world.secrets)).actions == actions
    else:
        with pytest.raises(KvmStorageError) as err:
            volume_plan(requests_from_params(p), world(p['pool'] == 'images', the_world.secrets))
        assert refusal in err.value.msg


def test_volume_assumed_pool_is_warned_once_for_many_volumes():
    p = vparams(pool='new', format='qcow2', capacity='1G',
                volumes=[dict((k, None) for k in volume_options()) for _index in range(3)])
    for index, item in enumerate(p['volumes']):
        item['name'] = 'v%d' % index
    steps = volume_plan(requests_from_params(p), world(), assume=True)
    assert len(steps.actions) == 3 and steps.assumed == ['pool new'] and len(steps.warnings) == 1


def test_volume_assumed_pool_stays_assumed_on_a_second_plan():
    """The volume module plans again (a refresh, a usage read) on the same world."""
    the_world = world()
    p = requests_from_params(vparams(pool='new', name='a', capacity='1G'))
    volume_plan(p, the_world, assume=True)
    again = volume_plan(p, the_world, assume=True)
    assert again.assumed == ['pool new']


# ---------------------------------------------------------------------------------------
# disk: a source volume the adapter could not find (SourceFacts.assumed in check mode)

def guest():
    return DomainView('web1', True, True, [], [], frozenset(['virtio', 'scsi', 'sata', 'usb', 'fdc']),
                      config_controllers=[('usb', 'qemu-xhci', '0')], live_controllers=[('usb', 'qemu-xhci', '0')],
                      machine='pc-q35-7.2')


def dparams(**kw):
    p = dict(domain='web1', state='present', target=None, device='disk', bus=None, source=None, format=None,
             cache=None, io=None, discard=None, detect_zeroes=None, iothread=None, readonly=None, shareable=None,
             serial=None, wwn=None, boot_order=None, sgio=None, rawio=None, startup_policy=None, allow_missing=False,
             live=None, persistent=True, timeout=30)
    p.update(kw)
    return p


VOLUME_SOURCE = {'volume': {'pool': 'images', 'name': 'web1.qcow2'}}


def test_disk_on_an_assumed_volume():
    steps, final = disk_plan(disk_request(dparams(source=VOLUME_SOURCE)), guest(), SourceFacts(assumed=True))
    assert steps.actions == ['attach disk vda (virtio, volume web1.qcow2 of pool images) to guest web1 '
                             '(live and persistent)']
    assert steps.assumed == ['volume web1.qcow2 of pool images']
    assert final['format'] is None    # the volume's format, known to libvirt once it exists


def test_disk_on_a_missing_volume_without_assume_still_needs_a_format():
    with pytest.raises(KvmStorageError) as err:
        disk_plan(disk_request(dparams(source=VOLUME_SOURCE)), guest(), SourceFacts())
    assert 'set format' in err.value.msg


def test_disk_on_an_assumed_volume_with_a_declared_format():
    steps, final = disk_plan(disk_request(dparams(source=VOLUME_SOURCE, format='qcow2')), guest(),
                             SourceFacts(assumed=True))
    assert final['format'] == 'qcow2' and steps.assumed == ['volume web1.qcow2 of pool images']


def test_disk_detach_assumes_nothing():
    steps, _final = disk_plan(disk_request(dparams(source=VOLUME_SOURCE, state='absent')), guest(),
                              SourceFacts(assumed=False))
    assert steps.actions == [] and steps.assumed == []


# ---------------------------------------------------------------------------------------
# host_storage: what is neither on the host nor declared

def hs_plan(assume, **lists):
    ordered = hs.order(hs.nodes(hs.validate(lists)))
    return hs.plan(ordered, hs.Host(domains={'g1': DomainView('g1', True, True, [], [], None)}), assume=assume)


HS_CASES = [
    ('volume in a pool of an earlier task', {'volumes': [{'name': 'a.qcow2', 'pool': 'p', 'format': 'qcow2',
                                                         'capacity': '1G'}]},
     ['create volume a.qcow2 of pool p (qcow2, 1 GiB)'], ['pool p'], 'pool p does not exist'),
    ('disk on a volume of an earlier task', {'disks': [{'domain': 'g1', 'source': {'volume': {'pool': 'p',
                                                                                              'name': 'a'}}}]},
     ['attach disk vda (virtio, volume a of pool p) to guest g1 (live and persistent)'], ['volume a of pool p'],
     'pool p of its source volume a neither exists nor is declared'),
    ('disk on a declared volume in an assumed pool',
     {'volumes': [{'name': 'a', 'pool': 'p', 'format': 'qcow2', 'capacity': '1G'}],
      'disks': [{'domain': 'g1', 'source': {'volume': {'pool': 'p', 'name': 'a'}}}]},
     ['create volume a of pool p (qcow2, 1 GiB)',
      'attach disk vda (virtio, volume a of pool p) to guest g1 (live and persistent)'], ['pool p'],
     'pool p does not exist'),
    ('a declared pool, a volume of an earlier task',
     {'pools': [{'name': 'p', 'type': 'dir', 'target': {'path': '/srv/p'}}],
      'disks': [{'domain': 'g1', 'source': {'volume': {'pool': 'p', 'name': 'a'}}}]},
     ['define pool p', 'build pool p (create the target directory)', 'start pool p',
      'attach disk vda (virtio, volume a of pool p) to guest g1 (live and persistent)'], ['volume a of pool p'],
     'volume a of pool p neither exists nor is declared'),
]


@pytest.mark.parametrize('case_id, lists, actions, assumed, refusal', HS_CASES, ids=[c[0] for c in HS_CASES])
def test_host_storage_check_mode_assumes(case_id, lists, actions, assumed, refusal):
    result = hs_plan(True, **lists)
    assert [a for a in result.actions if not a.startswith('autostart')] == actions
    assert result.assumed == assumed
    assert [w.split(';')[0] for w in result.warnings] == ['check mode: %s does not exist yet' % a for a in assumed]
    with pytest.raises(KvmStorageError) as err:
        hs_plan(False, **lists)
    assert refusal in err.value.msg


# ---------------------------------------------------------------------------------------
# volume_snapshot: a volume an earlier task creates (volume None)

SNAP_CASES = [
    ('create on an assumed volume', 'present', ['create snapshot s1 of volume web1.qcow2 of pool images'], None),
    ('delete: a new volume has none', 'absent', [], None),
    ('revert: a new volume has none', 'reverted', None, 'has no snapshot s1'),
]


@pytest.mark.parametrize('case_id, state, actions, refusal', SNAP_CASES, ids=[c[0] for c in SNAP_CASES])
def test_volume_snapshot_on_an_assumed_volume(case_id, state, actions, refusal):
    request = {'pool': 'images', 'volume': 'web1.qcow2', 'name': 's1', 'state': state, 'force': False}
    if refusal:
        with pytest.raises(KvmStorageError) as err:
            _volume_snapshot.plan(request, _volume_snapshot.SnapshotFacts(None))
        assert refusal in err.value.msg
        return
    steps = _volume_snapshot.plan(request, _volume_snapshot.SnapshotFacts(None))
    assert steps.actions == actions
    assert steps.assumed == ['volume web1.qcow2 of pool images']


# ---------------------------------------------------------------------------------------
# LVM thin: a VG a logical pool's build makes, a thin pool or origin of an earlier task

def thin_pool_params(**kw):
    p = dict(vg='vg0', name='tp', state='present', size='1G', metadata_size=None, chunk_size=None, zero=None,
             discards=None, autoextend=None, force=False)
    p.update(kw)
    return p


def thin_volume_params(**kw):
    p = dict(vg='vg0', name='tv', state='present', size=None, thin_pool=None, snapshot_of=None, active=True,
             force=False)
    p.update(kw)
    return p


VG0 = {'vg0': {'vg_name': 'vg0', 'vg_size': 8 * GiB, 'vg_free': 8 * GiB, 'vg_extent_size': 4 * 1024 ** 2}}

THIN_CASES = [
    ('thin pool in an assumed VG', 'pool', thin_pool_params(), {}, {},
     ['create thin pool tp in volume group vg0 of 1 GiB'], ['volume group vg0'], 'volume group vg0 does not exist'),
    ('thin volume in an assumed thin pool', 'volume', thin_volume_params(thin_pool='tp', size='1G'), VG0, {},
     ['create thin volume tv in volume group vg0 of 1 GiB in thin pool tp'], ['thin pool tp in volume group vg0'],
     'thin pool tp does not exist in volume group vg0'),
    ('snapshot of an assumed origin, grown', 'volume', thin_volume_params(snapshot_of='tpl', size='2G'), VG0, {},
     ['create thin volume tv in volume group vg0 as a thin snapshot of tpl',
      'grow thin volume tv in volume group vg0 from the size of tpl to 2 GiB'],
     ['thin volume tpl in volume group vg0'], 'snapshot_of tpl does not exist in volume group vg0'),
    ('thin volume with VG and thin pool assumed', 'volume', thin_volume_params(thin_pool='tp', size='1G'), {}, {},
     ['create thin volume tv in volume group vg0 of 1 GiB in thin pool tp'],
     ['volume group vg0', 'thin pool tp in volume group vg0'], 'volume group vg0 does not exist'),
]


@pytest.mark.parametrize('case_id, kind, p, vgs, lvs, actions, assumed, refusal', THIN_CASES,
                         ids=[c[0] for c in THIN_CASES])
def test_lvm_thin_check_mode_assumes(case_id, kind, p, vgs, lvs, actions, assumed, refusal):
    def planned(assume):
        if kind == 'pool':
            return _lvm_thin.plan_pool(p, vgs, lvs, {}, None, assume=assume)
        return _lvm_thin.plan_volume(p, vgs, lvs, None, (), assume=assume)
    steps = planned(True)
    assert steps.actions == actions
    assert steps.assumed == assumed
    with pytest.raises(KvmStorageError) as err:
        planned(False)
    assert refusal in err.value.msg


# ---------------------------------------------------------------------------------------
# Check-mode diffs: what is not known is left out, never null

def test_diff_of_a_new_raw_volume_has_its_format_and_size():
    req = requests_from_params(vparams(name='a.raw', capacity='1G'))[0]
    created = {}
    volume_plan([req], world(), created=created)
    form = _volume.predicted_diff_form(None, req, created[('images', 'a.raw')])
    assert form == {'state': 'present', 'format': 'raw', 'capacity': GiB}


def test_diff_of_an_import_leaves_out_the_size_it_does_not_know():
    req = requests_from_params(vparams(name='b.qcow2', import_from='/srv/b.qcow2'))[0]
    created = {}
    volume_plan([req], world(), created=created)
    form = _volume.predicted_diff_form(None, req, created[('images', 'b.qcow2')])
    assert form == {'state': 'present'}
    assert None not in form.values()
