# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The disk_backup planner as tables: (params, facts) -> steps or error."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._disk_backup import (
    BackupFacts, CheckpointFacts, GuestFacts, PoolFacts, argument_spec, plan, predicted, request_from_params,
    resume_after_job, retention)
from ansible_collections.kvm.storage.plugins.module_utils._disk_snapshot import DiskFacts
from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError

F = '/bk'
MiB = 1024 ** 2


def params(**kw):
    p = dict((k, v.get('default')) for k, v in argument_spec().items())
    p.update(domain='g', name='new', to={'pool': 'bk', 'path': None})
    p.update(kw)
    return p


VDA = DiskFacts('vda', chain=[{'path': '/img/vda.qcow2', 'format': 'qcow2'}])
VDB = DiskFacts('vdb', chain=[{'path': '/img/vdb.raw', 'format': 'raw'}])
CDROM = DiskFacts('sda', device='cdrom', readonly=True, chain=[{'path': '/img/x.iso', 'format': 'raw'}])


def backup(name, created, base=None, disks=('vda',), checkpoint=None, missing=()):
    files = dict((t, '%s/g.%s.%s.qcow2' % (F, name, t)) for t in disks)
    return BackupFacts(name, created=created, mode='incremental' if base else 'full', base=base,
                       checkpoint=checkpoint, files=files, missing=list(missing),
                       manifest='%s/g.%s.backup.json' % (F, name))


def cp(name, usable=True, disks=None, folder=F, created=0):
    disks = disks or {'vda': 'bitmap', 'vdb': 'no', 'sda': 'no'}
    return CheckpointFacts(name, folder=folder, disks=disks, created=created,
                           usable=None if usable is None else dict((t, usable) for t, m in disks.items()
                                                                   if m == 'bitmap'))


B1 = backup('b1', 1)
B2 = backup('b2', 2, checkpoint='b2')                   # full, the newest, with its checkpoint
B3_INC = backup('b3', 3, base='b2', checkpoint='b3')    # builds on b2


def facts(backups=(), checkpoints=(), disks=(VDA, VDB, CDROM), **kw):
    kw.setdefault('pool', PoolFacts('bk', 'dir', F))
    return GuestFacts('g', kw.pop('active', True), disks=list(disks), capacities={'vda': 64 * MiB, 'vdb': 8 * MiB},
                      folder=kw.pop('folder', F), backups=list(backups), checkpoints=dict((c.name, c) for c in checkpoints), **kw)


def first(text):
    return lambda steps: steps.actions[0].startswith(text)


CASES = [
    # (id, params, facts, verbs, check on the plan)
    ('first-full', params(disks=['vda']), facts(), ['backup'],
     lambda s: s.actions == ['take full backup new of guest g (vda -> /bk/g.new.vda.qcow2)']),
    ('every-writable-disk', params(), facts(), ['backup'],
     lambda s: 'vda -> /bk/g.new.vda.qcow2, vdb -> /bk/g.new.vdb.qcow2)' in s.actions[0]),
    ('full-checkpoint-qcow2-disks-only', params(), facts(),
     ['backup'], lambda s: s.steps[0].args['checkpoint_disks'] == [('vda', 'bitmap'), ('vdb', 'no'), ('sda', 'no')]),
    ('raw-only-no-checkpoint', params(disks=['vdb']), facts(), ['backup'],
     lambda s: s.steps[0].args['checkpoint'] is None),
    ('incremental', params(disks=['vda'], mode='incremental'), facts([B1, B2], [cp('b2')]),
     ['backup', 'forget_checkpoint'],
     lambda s: s.actions[0] == 'take incremental backup new of guest g (changes since backup b2: vda -> '
                               '/bk/g.new.vda.qcow2)'
     and s.steps[0].args['incremental'] == 'b2' and s.steps[0].args['base_files'] == {'vda': '/bk/g.b2.vda.qcow2'}),
    ('incremental-drops-older-checkpoint', params(disks=['vda'], mode='incremental'),
     facts([B2], [cp('b1', created=1), cp('b2', created=2)]), ['backup', 'forget_checkpoint', 'forget_checkpoint'],
     lambda s: s.actions[1] == 'delete checkpoint b1 of guest g (left by an interrupted backup b1)'
     and s.actions[2] == 'delete checkpoint b2 of guest g (no longer needed: the next incremental backup builds on '
                         'backup new)'),
    ('first-incremental-is-full', params(disks=['vda'], mode='incremental'), facts(), ['backup'],
     first('take full backup new of guest g (vda -> /bk/g.new.vda.qcow2); full because there is no earlier backup')),
    ('stale-bitmap-full', params(disks=['vda'], mode='incremental'), facts([B2], [cp('b2', usable=False)]),
     ['backup', 'forget_checkpoint'],
     lambda s: 'full because checkpoint b2 no longer matches disk vda' in s.actions[0]
     and s.steps[1].args['metadata_only'] and "only libvirt's record" in s.actions[1]),
    ('checkpoint-gone-full', params(disks=['vda'], mode='incremental'), facts([B2]), ['backup'],
     first('take full backup new of guest g (vda -> /bk/g.new.vda.qcow2); full because the checkpoint of backup b2 '
           'is gone')),
    ('checkpoint-other-disks-full', params(disks=['vda'], mode='incremental'),
     facts([B2], [cp('b2', disks={'vda': 'no', 'vdb': 'no'})]), ['backup', 'forget_checkpoint'],
     lambda s: 'full because checkpoint b2 does not track disk vda' in s.actions[0]),
    ('base-covers-other-disks-full', params(disks=['vda'], mode='incremental'),
     facts([backup('b2', 2, disks=('vdc',), checkpoint='b2')], [cp('b2')]), ['backup', 'forget_checkpoint'],
     lambda s: 'full because backup b2 does not cover disk vda' in s.actions[0]),
    ('incomplete-newest-not-a-base', params(disks=['vda'], mode='incremental'),
     facts([B2, backup('b3', 3, checkpoint='b3', missing=['/bk/g.b3.vda.qcow2'])], [cp('b2'), cp('b3')]),
     ['backup', 'forget_checkpoint', 'forget_checkpoint'],
     lambda s: 'since backup b2' in s.actions[0]),
    ('full-mode-ignores-base', params(disks=['vda']), facts([B2], [cp('b2')]), ['backup', 'forget_checkpoint'],
     lambda s: s.steps[0].args['mode'] == 'full' and s.steps[0].args['base_files'] is None),
    # idempotence: the backup of that name exists and is complete
    ('exists', params(name='b2', mode='incremental'), facts([B1, B2], [cp('b2')]), [], None),
    ('exists-not-running', params(name='b2'), facts([B2], [cp('b2')], active=False), [], None),
    ('exists-prunes', params(name='b2', keep=1), facts([B1, B2], [cp('b2')]), ['remove_backup'],
     lambda s: s.actions == ['remove backup b1 of guest g (keep: 1): /bk/g.b1.vda.qcow2, /bk/g.b1.backup.json']),
    ('exists-drops-leftover-checkpoint', params(name='b2'),
     facts([B2], [cp('b2'), cp('b9')], partial={'/bk/g.b9.vda.qcow2.part'}),
     ['forget_checkpoint', 'remove_file'],
     lambda s: s.actions == ['delete checkpoint b9 of guest g (left by an interrupted backup b9)',
                             'remove /bk/g.b9.vda.qcow2.part (left by an interrupted backup b9)']),
    ('other-folder-checkpoint-kept', params(name='b2'), facts([B2], [cp('b2'), cp('x', folder='/other')]), [], None),
    ('foreign-checkpoint-kept', params(name='b2'), facts([B2], [cp('b2'), cp('x', folder=None)]), [], None),
    # an interrupted run of this backup: its checkpoint and partial files go first
    ('leftovers', params(disks=['vda']), facts(checkpoints=[cp('new', usable=None)],
                                               partial={'/bk/g.new.vda.qcow2.part', '/bk/g.new.backup.json.part'}),
     ['forget_checkpoint', 'remove_file', 'remove_file', 'backup'],
     lambda s: s.actions[0] == 'delete checkpoint new of guest g (left by an interrupted backup new)'
     and s.actions[1] == 'remove /bk/g.new.backup.json.part (left by an interrupted backup new)'),
    # retention, oldest first; a kept incremental whose base goes is folded first
    ('keep-2', params(disks=['vda'], keep=2), facts([B1, B2], [cp('b2')]),
     ['backup', 'forget_checkpoint', 'remove_backup'], lambda s: 'remove backup b1 ' in s.actions[2]),
    ('keep-2-folds', params(disks=['vda'], mode='incremental', keep=2), facts([B2, B3_INC], [cp('b3')]),
     ['backup', 'forget_checkpoint', 'fold', 'remove_backup'],
     lambda s: s.actions[2] == 'make backup b3 stand on its own (copy into it what it reads from backup b2, which '
                               'keep: 2 removes)' and 'remove backup b2 ' in s.actions[3]
     and s.steps[2].args['manifest'] == '/bk/g.b3.backup.json'),
    ('keep-1-folds-the-new', params(disks=['vda'], mode='incremental', keep=1), facts([B2], [cp('b2')]),
     ['backup', 'forget_checkpoint', 'fold', 'remove_backup'],
     lambda s: s.steps[2].args['files'] == ['/bk/g.new.vda.qcow2']),
    ('keep-holds-used', params(disks=['vda'], keep=1), facts([B1], sharing={'/bk/g.b1.vda.qcow2': 'guest web'}),
     ['backup'], lambda s: s.warnings == ['backup b1 is kept although keep is 1: guest web uses its images']),
    ('keep-not-reached', params(disks=['vda'], keep=3), facts([B1, B2], [cp('b2')]), ['backup', 'forget_checkpoint'],
     None),
    ('path-folder', params(disks=['vda'], to={'pool': None, 'path': '/bk'}), facts(pool=None), ['backup'], None),
    ('network-disk', params(disks=['vdc']), facts(disks=[DiskFacts('vdc', kind='network', chain=[
        {'path': 'gluster://h/gv0/vdc.qcow2', 'format': 'qcow2'}])]), ['backup'],
     lambda s: s.steps[0].args['checkpoint'] == 'new'),
    ('stopped-guest-keeps-checkpoints', params(name='b2', keep=1), facts([B1, B2], [cp('b1'), cp('b2')], active=False),
     ['remove_backup'], None),
    ('incomplete-warned', params(disks=['vda']), facts([backup('b1', 1, missing=['/bk/g.b1.vda.qcow2'])]), ['backup'],
     lambda s: s.warnings == ['backup b1 in /bk is incomplete (/bk/g.b1.vda.qcow2 missing): it cannot be restored '
                              'and no backup builds on it']),
]


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_plan(case):
    _id, p, f, verbs, check = case
    steps = plan(request_from_params(p), f)
    assert steps.verbs() == verbs, steps.actions
    if check is not None:
        assert check(steps), steps.actions


REFUSALS = [
    ('no-guest', params(), None, KvmStorageError, 'guest g does not exist'),
    ('not-running', params(), facts(active=False), KvmStorageError, 'is not running: disk_backup backs up a running'),
    ('raw-incremental', params(mode='incremental'), facts(), KvmStorageError,
     'disk vdb is raw, and incremental backups need qcow2 disks'),
    ('raw-incremental-listed', params(mode='incremental', disks=['vdb']), facts([B2], [cp('b2')]), KvmStorageError,
     'back it up with mode: full'),
    ('no-such-disk', params(disks=['vdz']), facts(), KvmStorageError, 'has no disk vdz (it has vda, vdb, sda)'),
    ('cdrom', params(disks=['sda']), facts(), KvmStorageError, 'sda is a cdrom, not a disk with an image'),
    ('lun', params(disks=['sdb']), facts(disks=[DiskFacts('sdb', device='lun', kind='block', chain=[
        {'path': '/dev/sdx', 'format': 'raw'}])]), KvmStorageError, 'sdb is a lun, not a disk with an image'),
    ('no-writable-disk', params(), facts(disks=[CDROM]), KvmStorageError, 'has no writable disk to back up'),
    ('no-pool', params(), facts(pool=None), KvmStorageError, 'pool bk does not exist'),
    ('pool-stopped', params(), facts(pool=PoolFacts('bk', 'dir', F, active=False)), KvmStorageError,
     'pool bk is not running; start it first'),
    ('pool-not-files', params(), facts(pool=PoolFacts('bk', 'logical', '/dev/vg')), KvmStorageError,
     'backups are files; use a dir, fs or netfs pool'),
    ('no-folder', params(to={'pool': None, 'path': '/bk'}), facts(pool=None, folder_exists=False), KvmStorageError,
     'backup folder /bk does not exist; create it first'),
    ('relative-path', params(to={'pool': None, 'path': 'bk'}), facts(), KvmStorageError, 'must be an absolute folder'),
    ('keep-0', params(keep=0), facts(), KvmStorageError, 'keep must be at least 1'),
    ('bad-target', params(disks=['../x']), facts(), KvmStorageError, 'must be a target name'),
    ('bad-name', params(name='a/b'), facts(), KvmStorageError, 'must not contain "/"'),
    ('job-runs', params(), facts(job='a backup job'), KvmStorageError,
     'a backup job runs on the guest; wait until it ends'),
    ('block-job', params(), facts(block_jobs={'vda'}), KvmStorageError, 'a block job runs on disk vda'),
    ('foreign-checkpoint-name', params(), facts(checkpoints=[cp('new', folder=None)]), KvmStorageError,
     'has a checkpoint new already that is not this backup\'s (made by another tool)'),
    ('other-series-checkpoint-name', params(), facts(checkpoints=[cp('new', folder='/other')]), KvmStorageError,
     'of backups in /other'),
    ('incomplete', params(name='b2'), facts([backup('b2', 2, missing=['/bk/g.b2.vda.qcow2'])]), KvmStorageError,
     'backup b2 in /bk is incomplete (/bk/g.b2.vda.qcow2 missing); remove its manifest /bk/g.b2.backup.json'),
    ('same-name-other-disks', params(name='b2', disks=['vdb']), facts([B2], [cp('b2')]), ConflictError,
     'backup b2 exists already with disks vda'),
]


@pytest.mark.parametrize('case', REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refused(case):
    _id, p, f, error, words = case
    with pytest.raises(error) as exc:
        plan(request_from_params(p), f)
    assert words in exc.value.msg


def test_job_is_no_reason_to_refuse_when_nothing_changes():
    assert plan(request_from_params(params(name='b2')), facts([B2], [cp('b2')], job='a backup job')).steps == []


RETENTION = [
    # (keep, series names oldest first, requested, new?, removed)
    (None, ['a', 'b', 'c'], 'd', True, []),
    (3, ['a', 'b', 'c'], 'd', True, ['a']),
    (1, ['a', 'b', 'c'], 'd', True, ['a', 'b', 'c']),
    (2, ['a', 'b', 'c'], 'c', False, ['a']),
    # the requested backup is never removed, even when it is the oldest
    (1, ['a', 'b', 'c'], 'a', False, ['b', 'c']),
]


@pytest.mark.parametrize('case', RETENTION)
def test_retention_order(case):
    keep, names, requested, taking, removed = case
    f = facts([backup(n, i) for i, n in reversed(list(enumerate(names)))])
    req = request_from_params(params(name=requested, keep=keep))
    got, kept = retention(req, f, BackupFacts(requested) if taking else None)
    assert [b.name for b in got] == removed
    assert len(kept) == len(names) + (1 if taking else 0) - len(removed)


def test_predicted_after_fold_and_removal():
    req = request_from_params(params(disks=['vda'], mode='incremental', keep=2))
    f = facts([B2, B3_INC], [cp('b3')])
    after = predicted(req, f, plan(req, f))
    assert [(b['name'], b['mode'], b['base']) for b in after] == [
        ('b3', 'incremental', None), ('new', 'incremental', 'b3')]


def test_backup_step_args():
    req = request_from_params(params(mode='incremental', disks=['vda'], timeout=60))
    step = plan(req, facts([B2], [cp('b2')])).steps[0]
    assert step.args['files'] == [('vda', '/bk/g.new.vda.qcow2')]
    assert step.args['capacities'] == {'vda': 64 * MiB}
    assert step.args['checkpoint'] == 'new' and step.args['marker'] == 'kvm.storage.disk_backup /bk'
    assert step.args['manifest'] == '/bk/g.new.backup.json' and step.args['timeout'] == 60


# -- the adapter's parsers (pure) -----------------------------------------------------------

CHECKPOINT_XML = """<domaincheckpoint><name>b2</name><description>kvm.storage.disk_backup /bk</description>
<creationTime>1796062526</creationTime><disks>
<disk name='vda' checkpoint='bitmap' bitmap='b2' size='131072'/><disk name='vdb' checkpoint='bitmap' bitmap='b2'/>
<disk name='sda' checkpoint='no'/></disks></domaincheckpoint>"""


def test_parse_checkpoint():
    from ansible_collections.kvm.storage.plugins.module_utils._disk_backup_adapter import parse_checkpoint
    c = parse_checkpoint(CHECKPOINT_XML)
    assert (c.name, c.folder, c.created) == ('b2', '/bk', 1796062526)
    assert c.disks == {'vda': 'bitmap', 'vdb': 'bitmap', 'sda': 'no'}
    # libvirt gives a size (asked with VIR_DOMAIN_CHECKPOINT_XML_SIZE) only for bitmaps qemu has
    assert c.usable == {'vda': True, 'vdb': False}
    other = parse_checkpoint(CHECKPOINT_XML.replace('kvm.storage.disk_backup /bk', 'virtnbdbackup'))
    assert other.folder is None


def test_parse_manifest(tmp_path):
    from ansible_collections.kvm.storage.plugins.module_utils._disk_backup_adapter import (
        MANIFEST_FORMAT, parse_manifest)
    (tmp_path / 'g.b2.vda.qcow2').write_text('x')
    data = {'format': MANIFEST_FORMAT, 'domain': 'g', 'name': 'b2', 'created': 5.5, 'mode': 'incremental',
            'base': 'b1', 'checkpoint': 'b2', 'disks': [{'target': 'vda', 'image': 'g.b2.vda.qcow2'},
                                                        {'target': 'vdb', 'image': 'g.b2.vdb.qcow2'}]}
    b = parse_manifest(str(tmp_path / 'g.b2.backup.json'), data, 'g', str(tmp_path))
    assert (b.name, b.mode, b.base, b.created) == ('b2', 'incremental', 'b1', 5.5)
    assert b.files['vda'] == str(tmp_path / 'g.b2.vda.qcow2')
    assert b.missing == [str(tmp_path / 'g.b2.vdb.qcow2')] and not b.complete
    # a guest whose name starts like this one's (g.x) has manifests that match the file pattern
    assert parse_manifest('/bk/g.x.b2.backup.json', dict(data, domain='g.x'), 'g', '/bk') is None
    assert parse_manifest('/bk/g.b2.backup.json', ['not', 'a', 'manifest'], 'g', '/bk') is None


# Check mode: a backup pool or folder an earlier task of the play makes is assumed.
ASSUMED = [
    ('pool', params(mode='incremental', disks=['vda']), facts(pool=None, folder=None), ['pool bk'],
     'take full backup new of guest g (vda -> <folder of pool bk>/g.new.vda.qcow2); full because there is no earlier '
     'backup of guest g in <folder of pool bk> to build on'),
    ('folder', params(to={'pool': None, 'path': '/bk'}), facts(pool=None, folder_exists=False), ['folder /bk'],
     'take full backup new of guest g (vda -> /bk/g.new.vda.qcow2, vdb -> /bk/g.new.vdb.qcow2)'),
]


@pytest.mark.parametrize('case', ASSUMED, ids=[c[0] for c in ASSUMED])
def test_check_mode_assumes_the_backup_folder(case):
    _id, p, f, assumed, action = case
    steps = plan(request_from_params(p), f, assume=True)
    assert steps.verbs() == ['backup'] and steps.actions == [action]
    assert steps.assumed == assumed
    assert steps.warnings[0].startswith('check mode: %s does not exist yet; planned as if an earlier task creates it'
                                        % assumed[0])
    assert f.folder in (None, '/bk')   # the facts themselves are left as read


def test_assume_does_not_cover_a_stopped_pool():
    with pytest.raises(KvmStorageError) as exc:
        plan(request_from_params(params()), facts(pool=PoolFacts('bk', 'dir', F, active=False)), assume=True)
    assert 'pool bk is not running; start it first' in exc.value.msg


# A guest the backup job found running and left paused by an I/O error (its copy-before-write
# to a full target failed a guest write) is resumed; nothing else is.
RESUME = [
    ('running before, paused by an I/O error after', True, 'paused', 'ioerror', True),
    ('running before, still running', True, 'running', None, False),
    ('running before, paused by someone else', True, 'paused', 'other', False),
    ('running before, shut off after', True, 'other', None, False),
    ('paused before (by an I/O error of its own)', False, 'paused', 'ioerror', False),
    ('paused before, paused after', False, 'paused', 'other', False),
]


@pytest.mark.parametrize('case', RESUME, ids=[c[0] for c in RESUME])
def test_resume_after_job(case):
    _name, was_running, state, reason, expected = case
    assert resume_after_job(was_running, state, reason) is expected
