# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Live disk moves through libvirt's block copy: read the facts, apply one step."""

from __future__ import annotations

import os

from ansible_collections.kvm.storage.plugins.module_utils import _blockjob
from ansible_collections.kvm.storage.plugins.module_utils import _disk_xml
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _pool_xml
from ansible_collections.kvm.storage.plugins.module_utils import _qemu_img
from ansible_collections.kvm.storage.plugins.module_utils import _volume
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._disk_move import MoveFacts, PoolFacts, destination, in_place
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._usage_adapter import read_usage

libvirt = _libvirt.libvirt


class DiskMoveAdapter(object):
    def __init__(self, module, conn):
        self.module = module
        self.conn = conn
        self.local = _libvirt.is_local(conn)
        self.guest = None
        self.folders = set()

    def read(self, req):
        guest = _blockjob.read_guest(self.conn, req.domain, self.local)
        if guest is None:
            return None
        self.guest = guest
        disk = None
        for d in guest.disks:
            if d.target == req.target:
                disk = d
        facts = MoveFacts(req.domain, guest.active, disk=disk, persistent=guest.persistent,
                          disk_names=[d.target for d in guest.disks])
        if req.pool is not None:
            facts.pool = self._pool(req.pool)
        if disk is None or not guest.active or (req.pool is not None and facts.pool is None):
            return facts
        if guest.config_element is not None:
            config = _blockjob.disk_element(guest.config_element, req.target)
            if config is not None:
                facts.config_top = _blockjob.disk_chain(self.conn, config, self.local, False)[:1]
                facts.config_top = facts.config_top[0]['path'] if facts.config_top else None
        facts.capacity = _libvirt.call('read disk %s of guest %s' % (req.target, req.domain),
                                       guest.dom.blockInfo, req.target, 0)[0]
        facts.job = bool(_libvirt.call('read the block jobs of guest %s' % req.domain, guest.dom.blockJobInfo,
                                       req.target, 0))
        mirror = _blockjob.disk_element(guest.element, req.target)
        mirror = mirror.find('mirror') if mirror is not None else None
        if facts.job and mirror is not None and mirror.get('job', 'copy') == 'copy':
            facts.mirror = _blockjob.mirror_path(mirror, self.conn, self.local)
        if req.pool is None or facts.pool.type in ('dir', 'fs', 'netfs', 'gluster'):
            kind, where, _source = destination(req, facts)
            if disk.top and in_place(req, facts, kind, where):
                return facts   # nothing to copy: the probes below (a gluster pool refresh: seconds) are not needed
            if kind == 'file':
                facts.folders = set([os.path.dirname(where)]) if os.path.isdir(os.path.dirname(where)) else set()
            if kind == 'file' and os.path.lexists(where):
                facts.existing.add(_blockjob.real(where, self.local))
                facts.existing.add(where)
            if kind == 'network' and facts.pool.active and self._in_pool(req.pool, where.rsplit('/', 1)[-1]):
                # qemu-img create would truncate an image of that name
                facts.existing.add(where)
        label = guest.element.findtext("seclabel[@model='dac']/label")
        if label and ':' in label:
            try:
                facts.owner = tuple(int(part.lstrip('+')) for part in label.split(':', 1))
            except ValueError:
                facts.owner = None
        if req.remove_source and disk.top and '://' not in disk.top:
            usage = read_usage(self.conn)
            who = [h for h in usage.holders(usage.keys(disk.top)) if h.split(' ')[0] != req.domain]
            who += ['image %s' % o for o in usage.backing_of(disk.top)]
            if who:
                facts.sharing[disk.top] = ', '.join(who)
        return facts

    def _in_pool(self, pool_name, name):
        """Whether the pool holds a volume ``name`` (listed afresh: a gluster pool only sees
        images made by others after a refresh)."""
        pool = _libvirt.lookup_pool(self.conn, pool_name)
        _libvirt.call('refresh pool %s' % pool_name, pool.refresh, 0)
        try:
            pool.storageVolLookupByName(name)
        except libvirt.libvirtError as exc:
            if _libvirt.is_not_found(exc):
                return False
            raise _libvirt.translate(exc, 'look up volume %s of pool %s' % (name, pool_name))
        return True

    def _pool(self, name):
        pool = _libvirt.lookup_pool(self.conn, name)
        if pool is None:
            return None
        parsed = _pool_xml.parse(_xml.parse(_libvirt.call('read pool %s' % name, pool.XMLDesc, 0)))
        folder = (parsed.get('target') or {}).get('path')
        view = _volume.PoolView(name, parsed['type'], True,
                                source_hosts=[h['name'] for h in parsed['source']['hosts']],
                                source_name=parsed['source']['name'], source_dir=parsed['source']['dir'])
        return PoolFacts(name, parsed['type'], folder=_blockjob.real(folder, self.local) if folder else None,
                         active=bool(pool.isActive()), view=view)

    # -- apply -----------------------------------------------------------------------------

    def apply(self, step):
        return getattr(self, '_do_' + step.verb)(step, step.text)

    def _do_create_network(self, step, text):
        # libvirt does not relabel network disks, and gluster keeps the creator as owner (root,
        # mode 0600, which the guest's qemu could not open): the image is made as the user the
        # guest's qemu runs as (libvirt's dac label), through setpriv.
        cmd = []
        if step.args.get('owner') and step.args['owner'] != (0, 0):
            uid, gid = step.args['owner']
            cmd = ['setpriv', '--reuid=%d' % uid, '--regid=%d' % gid, '--clear-groups']
        cmd += ['qemu-img', 'create', '-q', '-f', step.args['format']]
        if step.args.get('backing'):
            cmd += ['-b', step.args['backing']['path'], '-F', step.args['backing']['format'] or 'raw']
        cmd += [step.args['url'], str(step.args['capacity'])]
        rc, out, err = self.module.run_command(cmd, environ_update=_qemu_img.ENV)
        if rc != 0:
            raise KvmStorageError('cannot %s: %s' % (text, _qemu_img.error_text(err, out)))
        words = 'delete image %s made by this run' % step.args['url']

        def undo():
            # a copy that failed leaves the guest where it was; the image made for it goes
            pool = _libvirt.lookup_pool(self.conn, step.args['pool'])
            _libvirt.call(words, pool.refresh, 0)
            _libvirt.call(words, _libvirt.call(words, pool.storageVolLookupByName, step.args['name']).delete, 0)
        return (words, undo)

    def _dest_element(self, args):
        return _disk_xml.build({'device': 'disk', 'format': args['format'], 'source': args['source'],
                                'target': args['target'], 'bus': 'virtio'})

    def _do_copy(self, step, text):
        dom, target, args = self.guest.dom, step.args['target'], step.args
        xml = _xml.to_string(self._dest_element(args), pretty=False)
        flags = 0
        if args['shallow']:
            flags |= libvirt.VIR_DOMAIN_BLOCK_COPY_SHALLOW
        if args['reuse']:
            flags |= libvirt.VIR_DOMAIN_BLOCK_COPY_REUSE_EXT
        if self.guest.persistent:
            # libvirt refuses a copy of a persistent guest's disk unless the job is transient;
            # the definition is changed by the persist step after the pivot.
            flags |= libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB
        created = args['kind'] == 'file' and not os.path.lexists(args['where'])
        before = _blockjob.live_top(dom, target, self.conn, self.local)
        params = {}
        if args.get('bandwidth'):
            params[libvirt.VIR_DOMAIN_BLOCK_COPY_BANDWIDTH] = args['bandwidth']
        _libvirt.call(text, dom.blockCopy, target, xml, params, flags)
        self._finish(args, text, created, before)
        return None

    def _do_finish_copy(self, step, text):
        dom, args = self.guest.dom, step.args
        self._finish(args, text, True, _blockjob.live_top(dom, args['target'], self.conn, self.local))
        return None

    def _finish(self, args, text, created, before):
        """Wait until the copy is in step and pivot; a copy that fails is cancelled (the guest
        stays on ``before``) and its image removed when ``created`` (made for this copy)."""
        dom, target = self.guest.dom, args['target']
        try:
            ready = _blockjob.wait_job(dom, target, args['timeout'], text, until_ready=True)
            if not ready:
                raise KvmStorageError('cannot %s: the copy ended before it was ready (qemu gave up on it)' % text)
            _blockjob.pivot(dom, target, text)
        except KvmStorageError as err:
            _blockjob.cancel(dom, target)
            try:
                now = _blockjob.live_top(dom, target, self.conn, self.local)
            except KvmStorageError:
                # libvirtd is gone (the cancel could not reach it either): qemu may go on
                # copying, and the guest on writing to its image until a re-run finishes the copy
                err.msg += '; a re-run with the same destination finishes the copy'
                raise err
            if created and args['kind'] == 'file' and now != _blockjob.real(args['where'], self.local):
                self._remove(args['where'])
            err.msg += '; the guest stays on %s' % now if now == before else ''
            raise
        now = _blockjob.live_top(dom, target, self.conn, self.local)
        if now != _blockjob.real(args['where'], self.local):
            raise KvmStorageError('cannot %s: after the pivot the guest uses %s' % (text, now))
        if args['kind'] == 'file':
            # the pool lists the new image before the definition names it as a volume
            self.folders.add(os.path.dirname(args['where']))
            self.refresh_pools()

    def _do_persist(self, step, text):
        args = step.args
        if args['from_live']:
            live = _xml.parse(_libvirt.call(text, self.guest.dom.XMLDesc, 0))
            element = _blockjob.disk_element(live, args['target'])
        elif args.get('pool') and args.get('name'):
            volume = {'pool': args['pool'], 'name': args['name']}
            element = _disk_xml.build({'device': 'disk', 'format': args['format'], 'target': args['target'],
                                       'bus': 'virtio', 'source': {'volume': volume}})
        else:
            element = self._dest_element(args)
        _blockjob.set_config_source(self.conn, self.guest.dom, args['target'], element, text)
        return None

    def _do_remove_source(self, step, text):
        self._remove(step.args['path'], text)
        return None

    def _remove(self, path, text=None):
        try:
            os.remove(path)
        except OSError as exc:
            if text and os.path.lexists(path):
                raise KvmStorageError('cannot %s: %s' % (text, exc))
        self.folders.add(os.path.dirname(path))

    def refresh_pools(self, extra=()):
        _blockjob.refresh_pools(self.conn, self.folders, self.local, extra)
