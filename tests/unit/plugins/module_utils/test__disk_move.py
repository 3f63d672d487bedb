# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The disk_move planner as tables: (params, facts) -> steps or error."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._disk_move import (
    MoveFacts, PoolFacts, argument_spec, diff_form, plan, request_from_params)
from ansible_collections.kvm.storage.plugins.module_utils._disk_snapshot import DiskFacts
from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._volume import PoolView

MiB = 1024 ** 2


def params(to=None, **kw):
    p = dict((k, v.get('default')) for k, v in argument_spec().items())
    p.update(domain='g', target='vda')
    base = {'pool': None, 'name': None, 'path': None, 'format': None}
    base.update(to or {'pool': 'shared'})
    p['to'] = base
    p.update(kw)
    return p


LOCAL = DiskFacts('vda', chain=[{'path': '/local/g.qcow2', 'format': 'qcow2'}])
CLONE = DiskFacts('vda', chain=[{'path': '/local/g.qcow2', 'format': 'qcow2'}, {'path': '/local/tpl.raw', 'format': 'raw'}])
SHARED = PoolFacts('shared', 'netfs', folder='/mnt/shared')
GFAPI = PoolFacts('gv', 'gluster',
                  view=PoolView('gv', 'gluster', True, source_hosts=['gl1'], source_name='gv0', source_dir='/vm'))
IN_POOL = {'path': '/mnt/shared/g.qcow2', 'format': 'qcow2'}
IN_POOL_OTHER = {'path': '/mnt/shared/other.qcow2', 'format': 'qcow2'}


def facts(disk=LOCAL, pool=SHARED, **kw):
    kw.setdefault('config_top', disk.top if disk else None)
    return MoveFacts('g', kw.pop('active', True), disk=disk, pool=pool, capacity=64 * MiB, disk_names=['vda'], **kw)


CASES = [
    ('to-netfs-pool', params(), facts(), ['copy', 'persist'],
     'copy disk vda of guest g to /mnt/shared/g.qcow2 (qcow2, flattened: whole backing chain copied)'),
    ('to-path-raw', params({'path': '/x/g.raw', 'format': 'raw'}), facts(pool=None), ['copy', 'persist'],
     'to /x/g.raw (raw,'),
    ('named', params({'pool': 'shared', 'name': 'web.qcow2'}), facts(), ['copy', 'persist'], '/mnt/shared/web.qcow2'),
    ('format-renames-extension', params({'pool': 'shared', 'format': 'raw'}), facts(), ['copy', 'persist'],
     '/mnt/shared/g.raw (raw'),
    ('shallow', params(), facts(CLONE), ['copy', 'persist'], 'top image only, backing chain kept'),
    ('flatten', params(flatten=True, to={'pool': 'shared', 'format': 'raw'}), facts(CLONE), ['copy', 'persist'],
     'flattened'),
    ('transient-guest', params(), facts(persistent=False), ['copy'], 'copy disk vda'),
    ('remove-source', params(remove_source=True), facts(), ['copy', 'persist', 'remove_source'], 'copy disk'),
    ('to-gluster', params({'pool': 'gv'}), facts(pool=GFAPI), ['create_network', 'copy', 'persist'],
     'create image gluster://gl1/gv0/vm/g.qcow2 (qcow2, 67108864 bytes)'),
    ('in-pool-already', params(), facts(DiskFacts('vda', chain=[IN_POOL_OTHER])), [], None),
    ('at-path-already', params({'path': '/local/g.qcow2'}), facts(pool=None), [], None),
    ('in-gluster-already', params({'pool': 'gv'}), facts(DiskFacts('vda', kind='network', chain=[
        {'path': 'gluster://gl1/gv0/vm/g.qcow2', 'format': 'qcow2'}]), pool=GFAPI), [], None),
    ('in-pool-definition-behind', params(), facts(DiskFacts('vda', chain=[IN_POOL]),
                                                  config_top='/local/g.qcow2'), ['persist'],
     'point the persistent definition of disk vda of guest g at /mnt/shared/g.qcow2'),
]


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_plan(case):
    _id, p, f, verbs, words = case
    steps = plan(request_from_params(p), f)
    assert steps.verbs() == verbs
    if words:
        assert words in steps.actions[0]


def test_copy_flags():
    steps = plan(request_from_params(params()), facts(CLONE))
    copy = steps.steps[0].args
    assert (copy['shallow'], copy['reuse'], copy['kind']) == (True, False, 'file')
    steps = plan(request_from_params(params({'pool': 'gv'})), facts(pool=GFAPI))
    copy = steps.steps[1].args
    assert (copy['shallow'], copy['reuse'], copy['kind']) == (False, True, 'network')
    assert copy['source']['network']['name'] == 'gv0/vm/g.qcow2'


def test_source_used_elsewhere_is_kept_with_a_warning():
    steps = plan(request_from_params(params(remove_source=True)), facts(sharing={'/local/g.qcow2': 'web'}))
    assert steps.verbs() == ['copy', 'persist']
    assert steps.warnings == ['the former image /local/g.qcow2 of disk vda is kept: web also uses it']


def test_diff():
    req = request_from_params(params())
    f = facts()
    assert diff_form(req, f, plan(req, f)) == {
        'before': {'target': 'vda', 'image': '/local/g.qcow2', 'format': 'qcow2'},
        'after': {'target': 'vda', 'image': '/mnt/shared/g.qcow2', 'format': 'qcow2'}}


REFUSALS = [
    ('no-guest', params(), None, KvmStorageError, 'guest g does not exist'),
    ('stopped', params(), facts(active=False), KvmStorageError, 'is not running'),
    ('no-disk', params(target='vdz'), facts(disk=None), KvmStorageError, 'has no disk vdz (it has vda)'),
    ('cdrom', params(), facts(DiskFacts('vda', device='cdrom')), KvmStorageError, 'only disks with an image'),
    ('no-pool', params({'pool': 'nope'}), facts(pool=None), KvmStorageError, 'pool nope does not exist'),
    ('pool-stopped', params(), facts(pool=PoolFacts('shared', 'netfs', '/mnt/shared', active=False)),
     KvmStorageError, 'is not running; start it first'),
    ('iscsi-pool', params(), facts(pool=PoolFacts('shared', 'iscsi')), KvmStorageError, 'of type iscsi'),
    ('raw-keeps-no-chain', params({'pool': 'shared', 'format': 'raw'}), facts(CLONE), KvmStorageError,
     'set flatten: true or format qcow2'),
    ('exists', params(), facts(existing={'/mnt/shared/g.qcow2'}), KvmStorageError, 'that image exists already'),
    ('folder-missing', params({'path': '/nope/x.qcow2'}), facts(pool=None, folders={'/mnt/shared'}), KvmStorageError,
     'folder /nope does not exist; create it first'),
    ('job-running', params(), facts(job=True), KvmStorageError, 'a block job runs on disk vda already'),
    ('in-pool-other-format', params({'pool': 'shared', 'format': 'raw'}),
     facts(DiskFacts('vda', chain=[{'path': '/mnt/shared/g.qcow2', 'format': 'qcow2'}])), ConflictError,
     'a move does not convert it in place'),
    ('bad-target', params(target='v/a'), facts(), KvmStorageError, 'must be a disk target'),
    ('bad-name', params({'pool': 'shared', 'name': '../x'}), facts(), KvmStorageError, 'must not contain'),
    ('relative-path', params({'path': 'x.qcow2'}), facts(), KvmStorageError, 'must be an absolute path'),
]


@pytest.mark.parametrize('case', REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusals(case):
    _id, p, f, kind, words = case
    with pytest.raises(kind) as err:
        plan(request_from_params(p), f)
    assert words in err.value.msg


# A copy left running by a run cut off before its pivot (libvirtd or the module killed).
LEFT_COPY = [
    ('same-destination-finished', facts(job=True, mirror='/mnt/shared/g.qcow2', existing={'/mnt/shared/g.qcow2'}),
     ['finish_copy', 'persist'], 'finish the copy of disk vda of guest g to /mnt/shared/g.qcow2 that an interrupted '
     'run began'),
    ('same-destination-remove-source', facts(job=True, mirror='/mnt/shared/g.qcow2'),
     ['finish_copy', 'persist', 'remove_source'], 'finish the copy'),
    ('transient-guest', facts(job=True, mirror='/mnt/shared/g.qcow2', persistent=False), ['finish_copy'], 'finish'),
]


@pytest.mark.parametrize('case', LEFT_COPY, ids=[c[0] for c in LEFT_COPY])
def test_left_copy_is_finished(case):
    _id, f, verbs, words = case
    steps = plan(request_from_params(params(remove_source='remove-source' in _id)), f)
    assert steps.verbs() == verbs
    assert words in steps.actions[0]
    assert diff_form(request_from_params(params()), f, steps)['after']['image'] == '/mnt/shared/g.qcow2'


@pytest.mark.parametrize('job_facts, words', [
    (facts(job=True, mirror='/elsewhere/g.qcow2'), 'a block job runs on disk vda already (a copy to /elsewhere/g.qcow2)'),
    (facts(job=True), 'a block job runs on disk vda already; wait for it to end'),
], ids=['copy-elsewhere', 'other-job'])
def test_other_jobs_refused(job_facts, words):
    with pytest.raises(KvmStorageError) as err:
        plan(request_from_params(params()), job_facts)
    assert words in err.value.msg


@pytest.mark.parametrize('value, limit, words', [
    ('64MiB', 64 * MiB, ', at most 64 MiB/s)'),
    (1048576, MiB, ', at most 1 MiB/s)'),
    ('0', None, 'copied) and switch'),
    (None, None, 'copied) and switch'),
])
def test_bandwidth(value, limit, words):
    steps = plan(request_from_params(params(bandwidth=value)), facts())
    assert steps.steps[0].args['bandwidth'] == limit
    assert words in steps.actions[0]


def test_bandwidth_not_a_size():
    with pytest.raises(KvmStorageError) as err:
        request_from_params(params(bandwidth='fast'))
    assert 'bandwidth' in err.value.msg and 'per second' in err.value.msg
