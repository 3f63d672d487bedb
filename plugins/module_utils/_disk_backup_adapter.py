# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Backups through libvirt's backup API (push mode) and checkpoints: read the facts,
apply one step."""

from __future__ import annotations

import json
import os
import time

from ansible_collections.kvm.storage.plugins.module_utils import _blockjob
from ansible_collections.kvm.storage.plugins.module_utils import _disk_backup
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _pool_xml
from ansible_collections.kvm.storage.plugins.module_utils import _qemu_img
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._disk_backup import (
    MANIFEST, MARKER, PART, BackupFacts, CheckpointFacts, GuestFacts, PoolFacts, partial_paths, retention)
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._usage_adapter import read_usage

libvirt = _libvirt.libvirt

# How often the backup job's state is asked for while waiting (a poll for the condition).
POLL = 0.2
# How long a cancelled job may take to end before the run gives up waiting for it.
CANCEL_WAIT = 120
MANIFEST_FORMAT = 'kvm.storage.disk_backup/1'
OPERATIONS = (('VIR_DOMAIN_JOB_OPERATION_BACKUP', 'a backup job'),
              ('VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT', 'a migration'),
              ('VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN', 'a migration'),
              ('VIR_DOMAIN_JOB_OPERATION_SNAPSHOT', 'a snapshot'),
              ('VIR_DOMAIN_JOB_OPERATION_SAVE', 'a save'),
              ('VIR_DOMAIN_JOB_OPERATION_DUMP', 'a memory dump'))


def parse_checkpoint(text):
    element = _xml.parse(text)
    description = element.findtext('description') or ''
    folder = description[len(MARKER):] if description.startswith(MARKER) else None
    disks, usable = {}, {}
    for disk in element.findall('disks/disk'):
        disks[disk.get('name')] = disk.get('checkpoint')
        if disk.get('checkpoint') == 'bitmap':
            # libvirt reports a size only for a bitmap qemu has in the disk's image
            usable[disk.get('name')] = disk.get('size') is not None
    created = element.findtext('creationTime')
    return CheckpointFacts(element.findtext('name'), folder=folder, disks=disks, created=int(created) if created else 0,
                           usable=usable)


def parse_manifest(path, data, domain, folder):
    """BackupFacts of one manifest; None when it is not a backup of ``domain``."""
    if not isinstance(data, dict) or data.get('format') != MANIFEST_FORMAT or data.get('domain') != domain:
        return None
    files = dict((d['target'], os.path.join(folder, d['image'])) for d in data.get('disks', []))
    return BackupFacts(data.get('name'), created=data.get('created') or 0, mode=data.get('mode'),
                       base=data.get('base'), checkpoint=data.get('checkpoint'), files=files,
                       missing=sorted(p for p in files.values() if not os.path.exists(p)), manifest=path,
                       reason=data.get('reason'))


class DiskBackupAdapter(object):
    def __init__(self, module, conn):
        self.module = module
        self.conn = conn
        self.local = _libvirt.is_local(conn)
        self.guest = None

    def read(self, req):
        guest = _blockjob.read_guest(self.conn, req.domain, self.local)
        if guest is None:
            return None
        self.guest = guest
        dom = guest.dom
        facts = GuestFacts(req.domain, guest.active, disks=guest.disks)
        if req.pool is not None:
            facts.pool = self._pool(req.pool)
            facts.folder = facts.pool.folder if facts.pool else None
        else:
            facts.folder = _blockjob.real(req.path, self.local).rstrip('/') or '/'
            facts.folder_exists = os.path.isdir(facts.folder)
        if guest.active:
            for disk in guest.disks:
                if disk.device != 'disk' or not disk.top:
                    continue
                doing = 'read disk %s of guest %s' % (disk.target, req.domain)
                facts.capacities[disk.target] = _libvirt.call(doing, dom.blockInfo, disk.target, 0)[0]
                if _libvirt.call(doing, dom.blockJobInfo, disk.target, 0):
                    facts.block_jobs.add(disk.target)
            facts.job = self._job(dom, req.domain)
        no_domain = _libvirt.flag('VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN')
        listed = _libvirt.call('list the checkpoints of guest %s' % req.domain, dom.listAllCheckpoints, 0)
        checkpoints = _libvirt.each_present(
            listed, lambda c: parse_checkpoint(_libvirt.call('read a checkpoint of guest %s' % req.domain,
                                                             c.getXMLDesc, no_domain)))
        by_name = dict((c.getName(), c) for c in listed)  # the listing's handles: no look-up again
        facts.checkpoints = dict((c.name, c) for c in checkpoints)
        for cp in facts.checkpoints.values():
            cp.usable = None
        if facts.folder is None or not os.path.isdir(facts.folder):
            return facts
        facts.backups = self._manifests(req.domain, facts.folder)
        own = [c for c in facts.checkpoints.values() if c.folder == facts.folder]
        if guest.active and not facts.job:
            # which bitmaps qemu still has: asked for this folder's checkpoints only (the
            # size query makes qemu merge bitmaps into a scratch one)
            size = _libvirt.flag('VIR_DOMAIN_CHECKPOINT_XML_SIZE')
            for cp in own:
                text = _libvirt.call('read checkpoint %s of guest %s' % (cp.name, req.domain),
                                     by_name[cp.name].getXMLDesc, no_domain | size)
                cp.usable = parse_checkpoint(text).usable
        targets = [d.target for d in guest.disks]
        names = [req.name] + [c.name for c in own if facts.backup(c.name) is None]
        for name in names:
            facts.partial.update(p for p in partial_paths(facts.folder, req.domain, name, targets) if os.path.lexists(p))
        present = facts.backup(req.name)
        removed, _kept = retention(req, facts, None if present is not None else BackupFacts(req.name))
        if removed:
            facts.sharing = self._sharing(req.domain, facts.folder, [p for b in removed for p in b.files.values()
                                                                     if p not in b.missing])
        return facts

    def _job(self, dom, name):
        stats = _libvirt.call('read the jobs of guest %s' % name, dom.jobStats, 0)
        if not stats or stats.get('type', 0) == _libvirt.flag('VIR_DOMAIN_JOB_NONE'):
            return None
        for flag_name, words in OPERATIONS:
            if stats.get('operation') == _libvirt.flag(flag_name, -1):
                return words
        return 'a job'

    def _pool(self, name):
        pool = _libvirt.lookup_pool(self.conn, name)
        if pool is None:
            return None
        parsed = _pool_xml.parse(_xml.parse(_libvirt.call('read pool %s' % name, pool.XMLDesc, 0)))
        folder = (parsed.get('target') or {}).get('path')
        return PoolFacts(name, parsed['type'], folder=_blockjob.real(folder, self.local) if folder else None,
                         active=bool(pool.isActive()))

    def _manifests(self, domain, folder):
        out = []
        for entry in sorted(os.listdir(folder)):
            if not (entry.startswith(domain + '.') and entry.endswith(MANIFEST)):
                continue
            path = os.path.join(folder, entry)
            try:
                with open(path) as f:
                    data = json.load(f)
            except (OSError, ValueError):
                continue   # not a manifest this module wrote
            backup = parse_manifest(path, data, domain, folder)
            if backup is not None:
                out.append(backup)
        return out

    def _sharing(self, domain, folder, paths):
        """Who else uses the images retention would remove: a guest that runs on a backup
        image, an image made on top of one (other than the later backups of the series)."""
        usage = read_usage(self.conn)

        def series(path):
            path = _blockjob.real(path, self.local)
            return os.path.dirname(path) == folder and os.path.basename(path).startswith(domain + '.')
        out = {}
        for path in paths:
            who = ['guest %s' % h for h in usage.holders(usage.keys(path))]
            who += ['image %s' % o for o in usage.backing_of(path) if not series(o)]
            if who:
                out[path] = ', '.join(who)
        return out

    # -- apply -----------------------------------------------------------------------------

    def apply(self, step):
        return getattr(self, '_do_' + step.verb)(step, step.text)

    def _do_forget_checkpoint(self, step, text):
        self._forget(step.args['name'], step.args['metadata_only'], text)
        return None

    def _forget(self, name, metadata_only, text):
        try:
            cp = self.guest.dom.checkpointLookupByName(name, 0)
        except libvirt.libvirtError as exc:
            if _libvirt.is_error(exc, 'VIR_ERR_NO_DOMAIN_CHECKPOINT'):
                return
            raise _libvirt.translate(exc, text)
        flags = libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY if metadata_only else 0
        _libvirt.call(text, cp.delete, flags)

    def _do_remove_file(self, step, text):
        _remove(step.args['path'], text)
        return None

    def _do_backup(self, step, text):
        args, dom = step.args, self.guest.dom
        created = time.time()
        made = []
        begun = was_running = False
        try:
            for target, path in args['files']:
                part = path + PART
                cmd = ['create', '-q', '-f', 'qcow2', '-o', 'compat=1.1']
                if args['base_files']:
                    # relative: the backups of a folder stay a chain wherever the folder goes
                    cmd += ['-b', os.path.basename(args['base_files'][target]), '-F', 'qcow2']
                made.append(part)
                _qemu_img.run(self.module, cmd + [part, str(args['capacities'][target])], text)
                os.chmod(part, 0o600)   # the guest's data
            flags = libvirt.VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL
            was_running = self._state(text) == ('running', None)
            _libvirt.call(text, dom.backupBegin, self._backup_xml(args), self._checkpoint_xml(args), flags)
            begun = True
            job = self._wait(args['timeout'], text)
        except (KvmStorageError, OSError) as exc:
            err = exc if isinstance(exc, KvmStorageError) else KvmStorageError('cannot %s: %s' % (text, exc))
            err.msg += self._clean_up(made, args['checkpoint'] if begun else None, text)
            if begun:
                err.msg += self._resume_if_paused_by_the_job(was_running, text)
            raise err
        resumed = self._resume_if_paused_by_the_job(was_running, text)
        if resumed:
            self.module.warn('backup %s of guest %s%s' % (args['name'], self.guest.name, resumed))
        images = []
        for target, path in args['files']:
            os.rename(path + PART, path)
            images.append({'target': target, 'image': os.path.basename(path), 'format': 'qcow2',
                           'capacity': args['capacities'][target], 'source': args['sources'][target]})
        write_manifest(args['manifest'], {
            'format': MANIFEST_FORMAT, 'domain': self.guest.name, 'name': args['name'], 'created': created,
            'completed': time.time(), 'mode': args['mode'], 'base': args['base'], 'checkpoint': args['checkpoint'],
            'reason': args['reason'], 'disks': images,
            'job': {'bytes': job.get('disk_processed'), 'seconds': (job.get('time_elapsed') or 0) / 1000.0}})
        return None

    def _state(self, text):
        """('running', None), ('paused', 'ioerror'), ('paused', 'other'), ('other', None)."""
        state, reason = _libvirt.call(text, self.guest.dom.state, 0)
        if state == libvirt.VIR_DOMAIN_RUNNING:
            return 'running', None
        if state == libvirt.VIR_DOMAIN_PAUSED:
            return 'paused', 'ioerror' if reason == libvirt.VIR_DOMAIN_PAUSED_IOERROR else 'other'
        return 'other', None

    def _resume_if_paused_by_the_job(self, was_running, text):
        """Resume a guest the job left paused (_disk_backup.resume_after_job says when); the
        words to add to the step's message, '' when nothing was done."""
        if not _disk_backup.resume_after_job(was_running, *self._state(text)):
            return ''
        _libvirt.call(text, self.guest.dom.resume)
        return ('; the guest was paused by an I/O error while the job ran (its copy to the backup target failed) '
                'and has been resumed')

    def _backup_xml(self, args):
        root = _xml.element('domainbackup', {'mode': 'push'})
        if args['incremental']:
            _xml.sub(root, 'incremental', text=args['incremental'])
        disks = _xml.sub(root, 'disks')
        backed = dict(args['files'])
        for target, _how in args['checkpoint_disks']:
            if target in backed:
                disk = _xml.sub(disks, 'disk', {'name': target, 'backup': 'yes', 'type': 'file'})
                _xml.sub(disk, 'driver', {'type': 'qcow2'})
                _xml.sub(disk, 'target', {'file': backed[target] + PART})
            else:
                _xml.sub(disks, 'disk', {'name': target, 'backup': 'no'})
        return _xml.to_string(root, pretty=False)

    def _checkpoint_xml(self, args):
        if not args['checkpoint']:
            return None
        root = _xml.element('domaincheckpoint')
        _xml.sub(root, 'name', text=args['checkpoint'])
        _xml.sub(root, 'description', text=args['marker'])
        disks = _xml.sub(root, 'disks')
        for target, how in args['checkpoint_disks']:
            _xml.sub(disks, 'disk', {'name': target, 'checkpoint': how})
        return _xml.to_string(root, pretty=False)

    def _wait(self, timeout, text):
        """Poll the guest's job until it has ended; a job past ``timeout`` is cancelled.
        The job's own verdict comes from libvirt's statistics of the completed job."""
        dom = self.guest.dom
        none = libvirt.VIR_DOMAIN_JOB_NONE
        deadline = time.time() + timeout
        cancelled = False
        while True:
            stats = _libvirt.call(text, dom.jobStats, 0)
            if stats.get('type', none) == none:
                break
            if not cancelled and time.time() >= deadline:
                _libvirt.call(text, dom.abortJob)
                cancelled = True
                deadline = time.time() + CANCEL_WAIT
            elif cancelled and time.time() >= deadline:
                raise KvmStorageError('cannot %s: the backup job was cancelled after %d s but has not ended' % (
                    text, timeout))
            time.sleep(POLL)
        done = _libvirt.call(text, dom.jobStats, libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        if cancelled:
            raise KvmStorageError('cannot %s: the backup did not finish within %d s and was cancelled; raise timeout '
                                  'and re-run' % (text, timeout))
        if done.get('type') != libvirt.VIR_DOMAIN_JOB_COMPLETED:
            why = done.get('errmsg') or ('cancelled' if done.get('type') == libvirt.VIR_DOMAIN_JOB_CANCELLED
                                         else 'failed')
            raise KvmStorageError('cannot %s: the backup job ended without success (%s)' % (text, why.rstrip('.')),
                                  job=done)
        return done

    def _clean_up(self, parts, checkpoint, text):
        """Nothing half-made: the partial images go, and the checkpoint libvirt made when the
        job began (it keeps it when the job fails)."""
        left = []
        for part in parts:
            try:
                _remove(part, text)
            except KvmStorageError:
                left.append(part)
        if checkpoint:
            try:
                self._forget(checkpoint, False, text)
            except KvmStorageError:
                left.append('checkpoint %s' % checkpoint)
        if left:
            return '; left behind: %s (the next run removes them)' % ', '.join(left)
        return '; nothing of it was kept (partial images%s removed)' % (' and checkpoint' if checkpoint else '')

    def _do_fold(self, step, text):
        for path in step.args['files']:
            # safe mode: what the image reads from its backing chain is copied into it
            _qemu_img.run(self.module, ['rebase', '-f', 'qcow2', '-b', '', path], text)
        with open(step.args['manifest']) as f:
            data = json.load(f)
        data['folded_from'] = data.get('base')
        data['base'] = None
        write_manifest(step.args['manifest'], data)
        return None

    def _do_remove_backup(self, step, text):
        for path in step.args['files']:
            _remove(path, text)
        _remove(step.args['manifest'], text)
        return None

    def refresh_pools(self, folder):
        """The pools of the backup folder list the new and the removed images."""
        if folder:
            _blockjob.refresh_pools(self.conn, [folder], self.local)


def _remove(path, text):
    try:
        os.remove(path)
    except OSError as exc:
        if os.path.lexists(path):
            raise KvmStorageError('cannot %s: %s' % (text, exc))


def write_manifest(path, data):
    """Written whole or not at all (a rename): its presence marks the backup complete."""
    part = path + PART
    with open(part, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write('\n')
        f.flush()
        os.fsync(f.fileno())
    os.chmod(part, 0o600)
    os.rename(part, path)
