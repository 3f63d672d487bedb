# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The disk_snapshot planner as tables: (params, guest) -> steps or error."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._disk_snapshot import (
    DiskFacts, GuestFacts, SnapshotFacts, argument_spec, plan, predicted, request_from_params)
from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError

P = '/img'


def params(**kw):
    p = dict((k, v.get('default')) for k, v in argument_spec().items())
    p.update(domain='g', name='s1')
    p.update(kw)
    return p


def img(name, fmt='qcow2'):
    return {'path': '%s/%s' % (P, name), 'format': fmt}


def disk(target, *chain, **kw):
    return DiskFacts(target, chain=list(chain), **kw)


VDA = disk('vda', img('vda.qcow2'), img('tpl.raw', 'raw'))
VDB = disk('vdb', img('data.raw', 'raw'))
CDROM = disk('sda', img('x.iso', 'raw'), device='cdrom', readonly=True)
GLUSTER = disk('vdc', {'path': 'gluster://h/gv0/x', 'format': 'qcow2'}, kind='network')
OV_A = P + '/g.vda.s1.qcow2'
OV_B = P + '/g.vdb.s1.qcow2'
S1 = SnapshotFacts('s1', {'vda': OV_A, 'vdb': OV_B, 'sda': None}, created=1)
ON_S1 = [disk('vda', {'path': OV_A, 'format': 'qcow2', 'ref': None}, img('vda.qcow2'), img('tpl.raw', 'raw')),
         disk('vdb', {'path': OV_B, 'format': 'qcow2', 'ref': None}, img('data.raw', 'raw')), CDROM]


def guest(disks=(VDA, VDB, CDROM), active=True, **kw):
    return GuestFacts('g', active, disks=list(disks), **kw)


CASES = [
    # id, params, guest, expected verbs, words expected in the first action
    ('create-all-writable', params(), guest(), ['create'], 'vda -> /img/g.vda.s1.qcow2, vdb -> /img/g.vdb.s1.qcow2'),
    ('create-listed', params(disks=['vdb']), guest(), ['create'], 'vdb -> /img/g.vdb.s1.qcow2)'),
    ('create-in-path', params(path='/ov'), guest(), ['create'], 'vda -> /ov/g.vda.s1.qcow2'),
    ('create-in-pool', params(pool='fast'), guest(pool_paths={'fast': '/fast'}), ['create'], '/fast/g.vda.s1.qcow2'),
    ('create-quiesced', params(quiesce=True), guest(agent=True), ['create'], 'with quiesced file systems'),
    ('quiesce-ignored-when-stopped', params(quiesce=True), guest(active=False), ['create'], 'of guest g ('),
    ('stopped-volume-disk-by-path', params(disks=['vda']),
     guest([disk('vda', img('vda.qcow2'), kind='volume')], active=False), ['repoint', 'create'],
     'name disk vda of guest g by its path /img/vda.qcow2'),
    ('running-volume-disk-as-is', params(disks=['vda']), guest([disk('vda', img('vda.qcow2'), kind='volume')]),
     ['create'], 'take external snapshot s1'),
    ('exists-same-disks', params(), guest(ON_S1, snapshots=[S1]), [], None),
    ('exists-listed-same', params(disks=['vdb', 'vda']), guest(ON_S1, snapshots=[S1]), [], None),
    ('delete-running-active', params(state='absent'), guest(ON_S1, snapshots=[S1], existing={OV_A, OV_B}),
     ['commit_live', 'commit_live', 'forget', 'remove', 'remove'], 'merge overlay /img/g.vda.s1.qcow2 of disk vda '
     'into /img/vda.qcow2 (blockcommit, pivot)'),
    ('delete-stopped', params(state='absent'), guest(ON_S1, active=False, snapshots=[S1], existing={OV_A}),
     ['commit', 'repoint', 'commit', 'repoint', 'forget', 'remove'], '(qemu-img commit)'),
    ('delete-missing-is-noop', params(state='absent'), guest(), [], None),
    ('delete-already-merged', params(state='absent'), guest(snapshots=[S1], existing={OV_A}),
     ['forget', 'remove'], "delete libvirt's record of snapshot s1"),
    ('revert-dirty', params(state='reverted'),
     guest(ON_S1, active=False, snapshots=[S1], existing={OV_A, OV_B}, dirty={OV_A: True, OV_B: False}),
     ['revert'], 'discard what disk vda wrote since snapshot s1'),
    ('revert-clean-is-noop', params(state='reverted'),
     guest(ON_S1, active=False, snapshots=[S1], existing={OV_A, OV_B}), [], None),
    ('listed', params(state='listed', name=None), guest(snapshots=[S1]), [], None),
]


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_plan(case):
    _id, p, g, verbs, words = case
    steps = plan(request_from_params(p), g)
    assert steps.verbs() == verbs
    if words:
        assert words in steps.actions[0]


# A middle overlay: s1 below s2 on vda of a running guest.
OV2 = P + '/g.vda.s2.qcow2'
S2 = SnapshotFacts('s2', {'vda': OV2}, created=2)
S1A = SnapshotFacts('s1', {'vda': OV_A}, created=1)
MIDDLE = [disk('vda', {'path': OV2, 'format': 'qcow2', 'ref': None}, {'path': OV_A, 'format': 'qcow2', 'ref': 'vda[1]'},
               img('vda.qcow2'))]


def test_delete_middle_running_is_a_shallow_commit_of_that_layer():
    steps = plan(request_from_params(params(state='absent')), guest(MIDDLE, snapshots=[S1A, S2], existing={OV_A}))
    assert steps.verbs() == ['commit_live', 'forget', 'remove']
    assert steps.steps[0].args['active'] is False and steps.steps[0].args['top_ref'] == 'vda[1]'
    assert steps.actions[0].endswith('(blockcommit)')


def test_delete_middle_stopped_rebases_the_overlay_above():
    steps = plan(request_from_params(params(state='absent')), guest(MIDDLE, active=False, snapshots=[S1A, S2]))
    assert steps.verbs() == ['commit', 'rebase', 'forget']
    assert steps.steps[1].args == {'image': OV2, 'base': P + '/vda.qcow2', 'base_format': 'qcow2'}


def test_predicted_listing_matches_the_plan():
    req = request_from_params(params(disks=['vda']))
    g = guest()
    assert [s['name'] for s in predicted(req, g, plan(req, g))] == ['s1']
    req = request_from_params(params(state='absent'))
    g = guest(ON_S1, snapshots=[S1])
    assert predicted(req, g, plan(req, g)) == []


REFUSALS = [
    ('no-guest', params(), None, KvmStorageError, 'guest g does not exist'),
    ('unknown-disk', params(disks=['vdz']), guest(), KvmStorageError, 'has no disk vdz (it has vda, vdb, sda)'),
    ('cdrom-listed', params(disks=['sda']), guest(), KvmStorageError, 'only writable disks get snapshots'),
    ('network-in-all', params(), guest([VDA, GLUSTER]), KvmStorageError, 'disk vdc is a network disk'),
    ('nothing-writable', params(), guest([CDROM]), KvmStorageError, 'has no writable disk'),
    ('quiesce-no-agent', params(quiesce=True), guest(), KvmStorageError, 'needs the QEMU guest agent'),
    ('overlay-exists', params(), guest(existing={OV_A}), KvmStorageError, 'overlay file /img/g.vda.s1.qcow2 exists'),
    ('pool-unknown', params(pool='nope'), guest(), KvmStorageError, 'pool nope does not exist'),
    ('folder-missing', params(path='/nope'), guest(folders={'/img'}), KvmStorageError,
     'folder /nope for the overlays does not exist; create it first'),
    ('other-disks', params(disks=['vda']), guest(ON_S1, snapshots=[S1]), ConflictError,
     'exists already with disks vda, vdb'),
    ('merge-into-shared', params(state='absent'),
     guest(ON_S1, snapshots=[S1], sharing={P + '/vda.qcow2': 'web (through /img/w.qcow2)'}), KvmStorageError,
     'would change /img/vda.qcow2, which web (through /img/w.qcow2) also uses'),
    ('revert-running', params(state='reverted'), guest(ON_S1, snapshots=[S1]), KvmStorageError,
     'while the guest runs'),
    ('revert-missing', params(state='reverted'), guest(active=False), KvmStorageError, 'has no snapshot s1'),
    ('revert-under-later', params(state='reverted'), guest(MIDDLE, active=False, snapshots=[S1A, S2]),
     KvmStorageError, 'later snapshot s2 sits on top of it on disk vda; delete it first'),
    ('revert-merged-away', params(state='reverted'), guest(active=False, snapshots=[S1]), KvmStorageError,
     'is no longer in the chain of disk'),
    ('bad-target', params(disks=['../x']), guest(), KvmStorageError, "disk '../x' must be a target name"),
    ('bad-name', params(name='a/b'), guest(), KvmStorageError, 'must not contain "/"'),
    ('relative-path', params(path='ov'), guest(), KvmStorageError, 'must be an absolute folder'),
]


@pytest.mark.parametrize('case', REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusals(case):
    _id, p, g, kind, words = case
    with pytest.raises(kind) as err:
        plan(request_from_params(p), g)
    assert words in err.value.msg


def test_kept_overlay_used_elsewhere_is_a_warning_not_a_removal():
    g = guest(ON_S1, snapshots=[S1], existing={OV_A}, sharing={OV_A: 'other'})
    steps = plan(request_from_params(params(state='absent')), g)
    assert 'remove' not in steps.verbs()
    assert steps.warnings == ['overlay /img/g.vda.s1.qcow2 of snapshot s1 is kept: other also uses it']
