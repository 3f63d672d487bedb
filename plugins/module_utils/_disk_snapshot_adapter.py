# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""External disk snapshots through libvirt and qemu-img: read the facts, apply one step."""

from __future__ import annotations

import json
import os

from ansible_collections.kvm.storage.plugins.module_utils import _blockjob
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _qemu_img
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._disk_snapshot import GuestFacts, SnapshotFacts, overlay_paths
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._usage_adapter import read_usage

libvirt = _libvirt.libvirt


def parse_snapshot(text, local):
    element = _xml.parse(text)
    disks = {}
    for disk in element.findall('disks/disk'):
        overlay = None
        if disk.get('snapshot') == 'external':
            src = disk.find('source')
            overlay = _blockjob.real(src.get('file') or src.get('dev'), local) if src is not None else None
        disks[disk.get('name')] = overlay
    created = element.findtext('creationTime')
    return SnapshotFacts(element.findtext('name'), disks=disks, created=int(created) if created else None,
                         external=element.findtext('state') == 'disk-snapshot' or any(disks.values()),
                         description=element.findtext('description'))


class DiskSnapshotAdapter(object):
    def __init__(self, module, conn):
        self.module = module
        self.conn = conn
        self.local = _libvirt.is_local(conn)
        self.guest = None
        self.folders = set()   # folders whose pools are refreshed after a change

    def read(self, req):
        guest = _blockjob.read_guest(self.conn, req.domain, self.local)
        if guest is None:
            return None
        self.guest = guest
        snaps = _libvirt.each_present(
            _libvirt.call('list the snapshots of guest %s' % req.domain, guest.dom.listAllSnapshots, 0),
            lambda s: parse_snapshot(_libvirt.call('read a snapshot of guest %s' % req.domain, s.getXMLDesc, 0),
                                     self.local))
        facts = GuestFacts(req.domain, guest.active, disks=guest.disks, agent=guest.agent,
                           snapshots=sorted(snaps, key=lambda s: (s.created or 0, s.name)))
        if req.state == 'listed':
            return facts
        if req.pool is not None:
            facts.pool_paths[req.pool] = self._pool_folder(req.pool)
        snap = facts.snapshot(req.name)
        paths = []
        if req.state == 'present' and snap is None:
            paths = list(overlay_paths(req, facts).values())
        elif snap is not None:
            paths = [p for p in snap.disks.values() if p]
        facts.existing = set(p for p in paths if os.path.lexists(p))
        if req.state == 'present' and snap is None:
            facts.folders = set(f for f in set(os.path.dirname(p) for p in paths) if os.path.isdir(f))
        if req.state == 'reverted' and snap is not None and not guest.active:
            for path in facts.existing:
                facts.dirty[path] = self._holds_data(path)
        if req.state == 'absent' and snap is not None and facts.existing:
            facts.sharing = self._sharing(facts, snap)
        return facts

    def _pool_folder(self, name):
        pool = _libvirt.lookup_pool(self.conn, name)
        if pool is None:
            return None
        return _xml.parse(_libvirt.call('read pool %s' % name, pool.XMLDesc, 0)).findtext('target/path')

    def _holds_data(self, path):
        """Whether an overlay holds any data of its own (qemu-img map: depth 0)."""
        _rc, out, _err = _qemu_img.run(self.module, ['map', '--output=json', '-U', '-f', 'qcow2', path],
                                       'read overlay %s' % path)
        # qemu 6+ reports unallocated areas at the depth below the whole chain, with
        # present false; older ones at depth 0 with data false.
        return any(extent.get('depth') == 0 and extent.get('present', extent.get('data'))
                   for extent in json.loads(out))

    def _sharing(self, facts, snap):
        """For each overlay of the snapshot and each image it would be merged into: the other
        guests and images that hold it (words for a refusal), from the host's usage index."""
        usage = read_usage(self.conn)
        out = {}
        for target, overlay in snap.disks.items():
            disk = facts.disk(target)
            if not overlay or disk is None:
                continue
            chain = [i['path'] for i in disk.chain]
            watched = [overlay]
            if overlay in chain and chain.index(overlay) + 1 < len(chain):
                watched.append(chain[chain.index(overlay) + 1])
            for path in watched:
                if not path or '://' in path:
                    continue
                keys = usage.keys(path)
                who = [h for h in usage.holders(keys) if h.split(' ')[0] != facts.name]
                who += ['image %s' % o for o in usage.backing_of(path)
                        if _blockjob.real(o, self.local) not in chain]
                if who:
                    out[path] = ', '.join(who)
        return out

    # -- apply -----------------------------------------------------------------------------

    def apply(self, step):
        return getattr(self, '_do_' + step.verb)(step, step.text)

    def _do_create(self, step, text):
        root = _xml.element('domainsnapshot')
        _xml.sub(root, 'name', text=step.args['name'])
        if step.args.get('description'):
            _xml.sub(root, 'description', text=step.args['description'])
        disks = _xml.sub(root, 'disks')
        for target, path in step.args['disks']:
            if path:
                disk = _xml.sub(disks, 'disk', {'name': target, 'snapshot': 'external', 'type': 'file'})
                _xml.sub(disk, 'driver', {'type': 'qcow2'})
                _xml.sub(disk, 'source', {'file': path})
                self.folders.add(os.path.dirname(path))
            else:
                _xml.sub(disks, 'disk', {'name': target, 'snapshot': 'no'})
        flags = libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC
        if step.args['quiesce']:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE
        _libvirt.call(text, self.guest.dom.snapshotCreateXML, _xml.to_string(root, pretty=False), flags)
        return None

    def _do_commit_live(self, step, text):
        dom, target = self.guest.dom, step.args['target']
        flags = libvirt.VIR_DOMAIN_BLOCK_COMMIT_SHALLOW
        top = None
        if step.args['active']:
            flags |= libvirt.VIR_DOMAIN_BLOCK_COMMIT_ACTIVE
        else:
            top = step.args['top_ref'] or step.args['top']
        _libvirt.call(text, dom.blockCommit, target, None, top, 0, flags)
        if step.args['active']:
            try:
                _blockjob.wait_job(dom, target, step.args['timeout'], text, until_ready=True)
                _blockjob.pivot(dom, target, text)
            except KvmStorageError:
                _blockjob.cancel(dom, target)
                raise
            now = _blockjob.live_top(dom, target, self.conn, self.local)
            if now != step.args['base']:
                raise KvmStorageError('cannot %s: after the pivot the guest writes to %s; the snapshot was kept'
                                      % (text, now))
            _blockjob.set_config_source(self.conn, dom, target,
                                        _blockjob.file_disk(step.args['base'], step.args['base_format']), text)
        else:
            _blockjob.wait_job(dom, target, step.args['timeout'], text, until_ready=False)
            guest = _blockjob.read_guest(self.conn, self.guest.name, self.local)
            disk = [d for d in guest.disks if d.target == target]
            if disk and step.args['top'] in [i['path'] for i in disk[0].chain]:
                raise KvmStorageError('cannot %s: the block job ended but %s is still in the chain of disk %s; the '
                                      'snapshot was kept' % (text, step.args['top'], target))
        return None

    def _do_commit(self, step, text):
        # -d: the overlay is removed afterwards, so qemu-img need not empty it
        _qemu_img.run(self.module, ['commit', '-f', 'qcow2', '-d', step.args['top']], text)
        return None

    def _do_rebase(self, step, text):
        _qemu_img.run(self.module, ['rebase', '-u', '-f', 'qcow2', '-b', step.args['base'],
                                    '-F', step.args['base_format'] or 'raw', step.args['image']], text)
        return None

    def _do_repoint(self, step, text):
        _blockjob.set_config_source(self.conn, self.guest.dom, step.args['target'],
                                    _blockjob.file_disk(step.args['path'], step.args['format']), text)
        return None

    def _do_forget(self, step, text):
        snap = _libvirt.call(text, self.guest.dom.snapshotLookupByName, step.args['name'], 0)
        _libvirt.call(text, snap.delete, libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
        return None

    def _do_remove(self, step, text):
        try:
            os.remove(step.args['path'])
        except OSError as exc:
            if os.path.lexists(step.args['path']):
                raise KvmStorageError('cannot %s: %s' % (text, exc))
        self.folders.add(os.path.dirname(step.args['path']))
        return None

    def _do_revert(self, step, text):
        path = step.args['path']
        st = os.stat(path)
        fresh = '%s.kvmst-revert' % path
        # A new empty overlay next to the old one, then a rename: the guest's image is
        # never half-written.
        _qemu_img.run(self.module, ['create', '-q', '-f', 'qcow2', '-b', step.args['base'],
                                    '-F', step.args['base_format'] or 'raw', fresh], text)
        try:
            os.chown(fresh, st.st_uid, st.st_gid)
            os.chmod(fresh, st.st_mode & 0o7777)
            os.rename(fresh, path)
        except OSError as exc:
            try:
                os.remove(fresh)
            except OSError:
                pass
            raise KvmStorageError('cannot %s: %s' % (text, exc))
        return None

    def refresh_pools(self):
        """Pools whose folder got or lost an overlay list it again (volume_info sees it)."""
        _blockjob.refresh_pools(self.conn, self.folders, self.local)
