# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Backups of a running guest's disks: argument spec, request, planner.  Pure.

A backup is libvirt's backup job in push mode: qemu copies a point-in-time view of each
disk into a qcow2 file while the guest goes on writing.  A full backup copies the whole
disk; an incremental one copies only what changed since the previous backup of the same
series (a backup folder and a guest), as recorded by that backup's libvirt checkpoint (a
persistent dirty bitmap in each qcow2 disk image).  An incremental image is a qcow2 overlay
whose backing file is the previous backup's image (a relative name: the folder moves as a
whole), so every backup reads as the whole disk.

Each backup is ``<domain>.<name>.<target>.qcow2`` per disk plus a manifest
``<domain>.<name>.backup.json``, written last: a backup without its manifest was never
completed.  The images are written as ``*.part`` and renamed when the job succeeded.

Facts come from _disk_backup_adapter; every decision (full or incremental and why,
which checkpoints go, which backups retention removes) is made here, so check mode and a
real run take the same steps.
"""

from __future__ import annotations

import copy
import os

from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name, check_targets
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan

MODES = ['full', 'incremental']
FILE_POOLS = ('dir', 'fs', 'netfs')
# The description of every checkpoint this module makes: it tells the module's own
# checkpoints (and their backup folder) from those of other tools.
MARKER = 'kvm.storage.disk_backup '
MANIFEST = '.backup.json'
PART = '.part'


def argument_spec():
    return dict(
        domain=dict(type='str', required=True),
        name=dict(type='str', required=True),
        disks=dict(type='list', elements='str'),
        to=dict(type='dict', required=True, options=dict(
            pool=dict(type='str'),
            path=dict(type='path'),
        ), mutually_exclusive=[('pool', 'path')], required_one_of=[('pool', 'path')]),
        mode=dict(type='str', default='full', choices=MODES),
        keep=dict(type='int'),
        timeout=dict(type='int', default=3600),
    )


class Request(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


def request_from_params(p):
    domain = check_name('guest', p['domain'])
    name = check_name('backup', p['name'])
    label = 'guest %s' % domain
    disks = check_targets(label, p.get('disks'))
    to = p['to']
    if to.get('path') is not None and not os.path.isabs(to['path']):
        raise KvmStorageError('%s: to.path %s must be an absolute folder' % (label, to['path']))
    if p.get('keep') is not None and p['keep'] < 1:
        raise KvmStorageError('%s: keep must be at least 1 (the backup just taken); leave it out to keep every '
                              'backup' % label)
    if p.get('timeout') is not None and p['timeout'] <= 0:
        raise KvmStorageError('%s: timeout must be a positive number of seconds' % label)
    return Request(domain=domain, name=name, disks=disks, pool=to.get('pool'), path=to.get('path'),
                   mode=p.get('mode') or 'full', keep=p.get('keep'), timeout=p.get('timeout') or 3600, label=label)


# -- facts ------------------------------------------------------------------------------

class BackupFacts(object):
    """One backup of the series, from its manifest: ``files`` maps disk targets to image
    paths, ``missing`` the images the manifest names that are not there."""

    def __init__(self, name, created=0, mode='full', base=None, checkpoint=None, files=None, missing=None,
                 manifest=None, reason=None):
        self.name = name
        self.created = created
        self.mode = mode
        self.base = base
        self.checkpoint = checkpoint
        self.files = files or {}
        self.missing = missing or []
        self.manifest = manifest
        self.reason = reason

    @property
    def complete(self):
        return not self.missing


class CheckpointFacts(object):
    """A libvirt checkpoint of the guest: ``disks`` maps targets to 'bitmap' or 'no';
    ``usable`` (None: not probed) maps the bitmap disks to whether qemu still has the
    bitmap in the disk's image (libvirt reports its size only then); ``folder`` is the
    backup folder of this module's checkpoints (None: another tool's)."""

    def __init__(self, name, folder=None, disks=None, usable=None, created=0):
        self.name = name
        self.folder = folder
        self.disks = disks or {}
        self.usable = usable
        self.created = created


class PoolFacts(object):
    def __init__(self, name, type, folder=None, active=True):
        self.name = name
        self.type = type
        self.folder = folder
        self.active = active


class GuestFacts(object):
    def __init__(self, name, active, disks=None, capacities=None, job=None, block_jobs=None, pool=None,
                 folder=None, folder_exists=True, backups=None, checkpoints=None, partial=None, sharing=None):
        self.name = name
        self.active = active
        self.disks = disks or []              # _disk_snapshot.DiskFacts of the live guest
        self.capacities = capacities or {}    # target -> virtual size in bytes
        self.job = job                        # words for a job running on the guest (None: none)
        self.block_jobs = block_jobs or set()  # targets with a block job
        self.pool = pool                      # PoolFacts of to.pool
        self.folder = folder                  # the backup folder (to.path or the pool's)
        self.folder_exists = folder_exists
        self.backups = backups or []          # BackupFacts of this guest in the folder
        self.checkpoints = checkpoints or {}  # name -> CheckpointFacts
        self.partial = partial or set()       # leftover *.part files
        self.sharing = sharing or {}          # image path -> who else uses it (words)

    def disk(self, target):
        for disk in self.disks:
            if disk.target == target:
                return disk
        return None

    def backup(self, name):
        for backup in self.backups:
            if backup.name == name:
                return backup
        return None

    def series(self):
        """The backups oldest first."""
        return sorted(self.backups, key=lambda b: (b.created or 0, b.name))

    def own_checkpoints(self):
        """This module's checkpoints of this backup folder, oldest first."""
        return sorted((c for c in self.checkpoints.values() if c.folder == self.folder),
                      key=lambda c: (c.created or 0, c.name))


# -- names ------------------------------------------------------------------------------

def image_path(folder, domain, name, target):
    return os.path.join(folder, '%s.%s.%s.qcow2' % (domain, name, target))


def manifest_path(folder, domain, name):
    return os.path.join(folder, '%s.%s%s' % (domain, name, MANIFEST))


def marker(folder):
    return MARKER + folder


def partial_paths(folder, domain, name, targets):
    """The files an interrupted backup ``name`` may have left."""
    return [image_path(folder, domain, name, t) + PART for t in targets] + [manifest_path(folder, domain, name) + PART]


# -- planning ---------------------------------------------------------------------------

def chosen_disks(req, guest):
    """The disks a backup covers: the listed ones, or every writable disk with an image."""
    if req.disks is None:
        picked = [d for d in guest.disks if d.device == 'disk' and not d.readonly and d.top]
        if not picked:
            raise KvmStorageError('%s has no writable disk to back up' % req.label)
        return picked
    out = []
    for target in req.disks:
        disk = guest.disk(target)
        if disk is None:
            raise KvmStorageError('%s has no disk %s (it has %s)' % (
                req.label, target, ', '.join(d.target for d in guest.disks) or 'none'))
        if disk.device != 'disk' or not disk.top:
            raise KvmStorageError('%s: %s is a %s, not a disk with an image; only those are backed up'
                                  % (req.label, target, disk.device if disk.device != 'disk' else 'disk without media'))
        out.append(disk)
    return out


def _fmt(disk):
    return disk.chain[0]['format'] if disk.chain else None


def _check_folder(req, facts, steps, assume):
    """Refuse a backup folder that cannot take backups.  In check mode (``assume``) a pool or
    folder that does not exist yet is planned as made by an earlier task of the play
    (``Plan.assume``: a warning, ``assumed``); returns the facts to plan with then (the
    pool's folder is not known yet: the images are named in its place)."""
    if req.pool is not None:
        pool = facts.pool
        if pool is None:
            if not assume:
                raise KvmStorageError('%s: pool %s does not exist' % (req.label, req.pool))
            steps.assume('pool %s' % req.pool, ' (backups go into its folder, named here as <folder of pool %s>)'
                         % req.pool)
            facts = copy.copy(facts)
            facts.folder = '<folder of pool %s>' % req.pool
            return facts
        if pool.type not in FILE_POOLS or not pool.folder:
            raise KvmStorageError('%s: cannot back up into pool %s of type %s: backups are files; use a dir, fs or '
                                  'netfs pool, or to.path' % (req.label, pool.name, pool.type))
        if not pool.active:
            raise KvmStorageError('%s: pool %s is not running; start it first' % (req.label, req.pool))
    elif not facts.folder_exists:
        if not assume:
            raise KvmStorageError('%s: backup folder %s does not exist; create it first' % (req.label, req.path))
        steps.assume('folder %s' % facts.folder)
    return facts


def _incremental_base(req, facts, disks):
    """(base backup, None) when an incremental backup can build on the newest backup of the
    series, else (None, why a full backup is taken instead)."""
    complete = [b for b in facts.series() if b.complete and b.name != req.name]
    if not complete:
        return None, 'there is no earlier backup of guest %s in %s to build on' % (req.domain, facts.folder)
    base = complete[-1]
    cp = facts.checkpoints.get(base.checkpoint) if base.checkpoint else None
    if cp is None:
        return None, 'the checkpoint of backup %s is gone (the guest was re-defined, or it was deleted)' % base.name
    for disk in disks:
        if disk.target not in base.files:
            return None, 'backup %s does not cover disk %s' % (base.name, disk.target)
        if cp.disks.get(disk.target) != 'bitmap':
            return None, 'checkpoint %s does not track disk %s' % (cp.name, disk.target)
        if cp.usable is not None and not cp.usable.get(disk.target):
            return None, ('checkpoint %s no longer matches disk %s: its change bitmap is not in the disk\'s image '
                          '(the disk was moved to a raw image, re-created or reverted since backup %s)'
                          % (cp.name, disk.target, base.name))
    return base, None


def plan(req, facts, assume=False):
    """The steps: leftovers of an interrupted backup, the backup, checkpoints no longer
    needed, retention.  ``assume``: check mode (see _check_folder)."""
    steps = Plan()
    if facts is None:
        raise KvmStorageError('%s does not exist' % req.label)
    facts = _check_folder(req, facts, steps, assume)
    existing = facts.backup(req.name)
    new = None
    if existing is not None:
        if not existing.complete:
            raise KvmStorageError('%s: backup %s in %s is incomplete (%s missing); remove its manifest %s or choose '
                                  'another backup name' % (req.label, req.name, facts.folder,
                                                           ', '.join(existing.missing), existing.manifest))
        if req.disks is not None and sorted(req.disks) != sorted(existing.files):
            raise ConflictError('%s: backup %s exists already with disks %s; choose another backup name to back up '
                                '%s' % (req.label, req.name, ', '.join(sorted(existing.files)),
                                        ', '.join(sorted(req.disks))))
    else:
        if not facts.active:
            raise KvmStorageError('%s is not running: disk_backup backs up a running guest (libvirt\'s backup job); '
                                  'for a stopped guest copy its volumes (volume clone_from)' % req.label)
        if facts.job:
            # a backup job of another (or a killed) run shows as a block job on its disks too
            _refuse_job(req, facts)
        new = _plan_backup(steps, req, facts)
    _plan_checkpoints(steps, req, facts, new)
    _plan_retention(steps, req, facts, new)
    for backup in facts.series():
        if not backup.complete and backup.name != req.name:
            steps.warnings.append('backup %s in %s is incomplete (%s missing): it cannot be restored and no backup '
                                  'builds on it' % (backup.name, facts.folder, ', '.join(backup.missing)))
    if steps.changed and facts.job:
        _refuse_job(req, facts)
    return steps


def _refuse_job(req, facts):
    raise KvmStorageError('%s: %s runs on the guest; wait until it ends (virsh domjobinfo %s) and re-run'
                          % (req.label, facts.job, req.domain))


def _plan_backup(steps, req, facts):
    """Leftovers of an interrupted run of this backup, then the backup itself; returns the
    new backup as it will be recorded."""
    disks = chosen_disks(req, facts)
    busy = [d.target for d in disks if d.target in facts.block_jobs]
    if busy:
        raise KvmStorageError('%s: a block job runs on disk %s; wait for it to end (virsh blockjob %s %s)'
                              % (req.label, ', '.join(busy), req.domain, busy[0]))
    if req.mode == 'incremental':
        raw = [d.target for d in disks if _fmt(d) != 'qcow2']
        if raw:
            # A deliberate refusal, not a silent full backup every night: libvirt keeps the
            # change bitmaps of checkpoints only in qcow2 images.
            formats = '/'.join(sorted(set(_fmt(facts.disk(t)) or 'raw' for t in raw)))
            raise KvmStorageError('%s: disk %s is %s, and incremental backups need qcow2 disks (libvirt keeps the '
                                  'change bitmaps of checkpoints only in qcow2 images); back %s up with mode: full '
                                  '(in a task of its own) or convert the disk to qcow2' % (
                                      req.label, ', '.join(raw), formats, 'it' if len(raw) == 1 else 'them'))
    cp = facts.checkpoints.get(req.name)
    if cp is not None and cp.folder != facts.folder:
        raise KvmStorageError('%s has a checkpoint %s already that is not this backup\'s (%s); choose another backup '
                              'name' % (req.label, req.name, 'made by another tool' if cp.folder is None
                                        else 'of backups in %s' % cp.folder))
    if cp is not None:
        steps.add('forget_checkpoint', 'delete checkpoint %s of guest %s (left by an interrupted backup %s)' % (
            req.name, req.domain, req.name), name=req.name, metadata_only=_stale(cp))
    _plan_partial(steps, req, facts, req.name)
    base, why = (None, None)
    if req.mode == 'incremental':
        base, why = _incremental_base(req, facts, disks)
    targets = [d.target for d in disks]
    files = dict((t, image_path(facts.folder, req.domain, req.name, t)) for t in targets)
    tracked = [d.target for d in disks if _fmt(d) == 'qcow2']
    mode = 'incremental' if base is not None else 'full'
    words = ', '.join('%s -> %s' % (t, files[t]) for t in targets)
    if base is not None:
        text = 'take incremental backup %s of guest %s (changes since backup %s: %s)' % (
            req.name, req.domain, base.name, words)
    else:
        text = 'take full backup %s of guest %s (%s)' % (req.name, req.domain, words)
        if why:
            text += '; full because %s' % why
    steps.add('backup', text, name=req.name, mode=mode, files=[(t, files[t]) for t in targets],
              capacities=dict((t, facts.capacities.get(t)) for t in targets),
              base=base.name if base else None, incremental=base.checkpoint if base else None,
              base_files=dict((t, base.files[t]) for t in targets) if base else None,
              checkpoint=req.name if tracked else None,
              checkpoint_disks=[(d.target, 'bitmap' if d.target in tracked else 'no') for d in facts.disks],
              marker=marker(facts.folder), manifest=manifest_path(facts.folder, req.domain, req.name),
              sources=dict((d.target, {'image': d.top, 'format': _fmt(d)}) for d in disks),
              reason=why, timeout=req.timeout)
    return BackupFacts(req.name, created=None, mode=mode, base=base.name if base else None,
                       checkpoint=req.name if tracked else None, files=files, reason=why)


def _plan_partial(steps, req, facts, name):
    for path in sorted(p for p in partial_paths(facts.folder, req.domain, name, [d.target for d in facts.disks])
                       if p in facts.partial):
        steps.add('remove_file', 'remove %s (left by an interrupted backup %s)' % (path, name), path=path)


def _stale(cp):
    """Whether a checkpoint's bitmaps are gone (libvirt can then drop only its record)."""
    return cp.usable is not None and any(cp.disks.get(t) == 'bitmap' and not ok for t, ok in cp.usable.items())


def _plan_checkpoints(steps, req, facts, new):
    """Only the newest backup's checkpoint is needed (an incremental backup builds on the
    newest backup); older ones of this folder only cost the guest a bitmap update on every
    write.  Checkpoints of interrupted backups (no manifest) go too.  libvirt deletes a
    checkpoint's bitmaps through qemu, so a stopped guest's wait for its next backup."""
    if not facts.active:
        return
    series = facts.series()
    if new is not None:
        keep = new.checkpoint
    else:
        complete = [b for b in series if b.complete]
        keep = complete[-1].checkpoint if complete else None
    for cp in facts.own_checkpoints():
        if cp.name == keep or (new is not None and cp.name == req.name):
            continue
        backup = facts.backup(cp.name)
        if backup is None:
            why = 'left by an interrupted backup %s' % cp.name
        elif _stale(cp):
            why = 'its bitmap is gone: only libvirt\'s record is deleted'
        else:
            why = 'no longer needed: the next incremental backup builds on backup %s' % (new.name if new else keep)
        steps.add('forget_checkpoint', 'delete checkpoint %s of guest %s (%s)' % (cp.name, req.domain, why),
                  name=cp.name, metadata_only=_stale(cp))
        if backup is None:
            _plan_partial(steps, req, facts, cp.name)


def retention(req, facts, new):
    """(backups removed, backups kept) by ``keep``, oldest first, with ``new`` (the backup
    this run takes, None: none) as the newest; the requested backup is always kept."""
    series = facts.series()
    if new is not None:
        series = series + [new]
    if req.keep is None or len(series) <= req.keep:
        return [], series
    excess = len(series) - req.keep
    removed = [b for b in series if b.name != req.name][:excess]
    names = set(b.name for b in removed)
    return removed, [b for b in series if b.name not in names]


def _plan_retention(steps, req, facts, new):
    removed, kept = retention(req, facts, new)
    held = []
    for backup in removed:
        users = sorted(set(facts.sharing[p] for p in backup.files.values() if facts.sharing.get(p)))
        if users:
            steps.warnings.append('backup %s is kept although keep is %d: %s use%s its images' % (
                backup.name, req.keep, ', '.join(users), '' if len(users) > 1 or ',' in users[0] else 's'))
            held.append(backup.name)
    removed = [b for b in removed if b.name not in held]
    gone = set(b.name for b in removed)
    for backup in kept:
        if backup.name in held or backup.base not in gone:
            continue
        # the new backup itself when keep: 1 removes the backup it builds on
        present = new if new is not None and backup.name == new.name else facts.backup(backup.name)
        steps.add('fold', 'make backup %s stand on its own (copy into it what it reads from backup %s, which keep: %d '
                  'removes)' % (backup.name, backup.base, req.keep), name=backup.name,
                  files=sorted(present.files.values()), manifest=manifest_path(facts.folder, req.domain, backup.name))
    for backup in removed:
        paths = sorted(backup.files.values())
        present = [p for p in paths if p not in backup.missing]
        steps.add('remove_backup', 'remove backup %s of guest %s (keep: %d): %s' % (
            backup.name, req.domain, req.keep, ', '.join(present + [backup.manifest])),
            name=backup.name, files=present, manifest=backup.manifest)


def resume_after_job(was_running, state, reason):
    """Whether to resume the guest once its backup job has ended.

    qemu's copy-before-write filter fails a guest write whose old data it cannot copy to
    the backup target (a full or failing target), and a disk's default error policy pauses
    the guest on ENOSPC: a backup job can leave a guest that ran before it paused with an
    I/O error. Once the job has ended the filter is gone and a resume retries the write on
    the guest's own disk (if that disk is what is full, the guest pauses again: no harm).
    A guest that was paused before the job, or is paused for another reason, stays so."""
    return bool(was_running) and state == 'paused' and reason == 'ioerror'


# -- results ----------------------------------------------------------------------------

def describe(backup):
    return {'name': backup.name, 'mode': backup.mode, 'base': backup.base, 'created': backup.created,
            'checkpoint': backup.checkpoint, 'complete': backup.complete,
            'disks': [{'target': t, 'image': backup.files[t]} for t in sorted(backup.files)]}


def listing(facts):
    return [describe(b) for b in facts.series()] if facts is not None else []


def predicted(req, facts, steps):
    """The backups as they will be after the steps (diff and check mode)."""
    after = listing(facts)
    for step in steps.steps:
        if step.verb == 'backup':
            after.append(describe(BackupFacts(req.name, created=None, mode=step.args['mode'], base=step.args['base'],
                                              checkpoint=step.args['checkpoint'], files=dict(step.args['files']))))
        elif step.verb == 'fold':
            for b in after:
                if b['name'] == step.args['name']:
                    b['base'] = None
        elif step.verb == 'remove_backup':
            after = [b for b in after if b['name'] != step.args['name']]
    return after
