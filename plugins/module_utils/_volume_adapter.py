# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Volumes through libvirt: read the world the planner needs, apply steps, describe."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _lvm
from ansible_collections.kvm.storage.plugins.module_utils import _qemu_img
from ansible_collections.kvm.storage.plugins.module_utils import _volume
from ansible_collections.kvm.storage.plugins.module_utils import _volume_import
from ansible_collections.kvm.storage.plugins.module_utils import _volume_seed
from ansible_collections.kvm.storage.plugins.module_utils import _pool_xml
from ansible_collections.kvm.storage.plugins.module_utils import _volume_xml
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._size import format_size
from ansible_collections.kvm.storage.plugins.module_utils._usage import disk_sources
from ansible_collections.kvm.storage.plugins.module_utils._usage_adapter import read_usage
from ansible_collections.kvm.storage.plugins.module_utils._inflight import Inflight, fingerprint
from ansible_collections.kvm.storage.plugins.module_utils._volume import (
    ImportFacts, PoolView, SeedFacts, World, _predicted_path, lock_probe_paths)

libvirt = _libvirt.libvirt

WIPE_FLAGS = {
    'zero': 'VIR_STORAGE_VOL_WIPE_ALG_ZERO', 'nnsa': 'VIR_STORAGE_VOL_WIPE_ALG_NNSA',
    'dod': 'VIR_STORAGE_VOL_WIPE_ALG_DOD', 'bsi': 'VIR_STORAGE_VOL_WIPE_ALG_BSI',
    'gutmann': 'VIR_STORAGE_VOL_WIPE_ALG_GUTMANN', 'schneier': 'VIR_STORAGE_VOL_WIPE_ALG_SCHNEIER',
    'pfitzner7': 'VIR_STORAGE_VOL_WIPE_ALG_PFITZNER7', 'pfitzner33': 'VIR_STORAGE_VOL_WIPE_ALG_PFITZNER33',
    'random': 'VIR_STORAGE_VOL_WIPE_ALG_RANDOM', 'trim': 'VIR_STORAGE_VOL_WIPE_ALG_TRIM',
}


# Volume definitions read at once (see VolumeAdapter._volume_elements), from this many on.
READERS = 4
PARALLEL_FROM = 16

# Steps that make a volume: a run cut off during one leaves an incomplete volume. A seed
# ISO written over an old one (seed_replace) is incomplete too until the write ends.
CREATES = ('create', 'clone', 'create_gluster', 'import', 'seed', 'seed_replace')


def _lost_race(exc):
    """libvirt refused the create because the volume is another run's (made, or being made,
    after this run looked): what is there is not this run's to mark."""
    details = (getattr(exc, 'details', None) or {}).get('libvirt_error') or {}
    code, message = details.get('code'), details.get('message') or ''
    if code is None or libvirt is None:
        return False
    if code == _libvirt.code_of('VIR_ERR_STORAGE_VOL_EXIST'):
        return True
    return code == _libvirt.code_of('VIR_ERR_OPERATION_INVALID') and \
        ('still being allocated' in message or 'already exists' in message)


def _uri(conn):
    try:
        return conn.getURI()
    except Exception:  # a connection that cannot say its URI still works for the rest
        return ''


class VolumeAdapter(object):
    def __init__(self, conn, module=None):
        self.conn = conn
        self.module = module
        self.run_command = module.run_command if module is not None else None
        self.pools = {}          # name -> virStoragePool
        self.vol_objects = {}    # (pool, name) -> virStorageVol (listed)
        self.usage = None
        self.inflight = Inflight(_uri(conn))
        # Paths libvirt names are this machine's files only when it talks to this machine.
        self.local = _libvirt.is_local(conn)
        self.views = {}          # name -> PoolView (for the path of a volume being made)
        self.seed_built = None   # (work folder, ISO path) of the seed ISO a step writes

    # -- reading -------------------------------------------------------------------------

    def read_world(self, requests, with_usage=False, refresh=()):
        wanted = {}
        for req in requests:
            wanted.setdefault(req.pool, set()).add(req.name)
            for ref in (req.backing, req.clone_from):
                if ref and ref.get('name'):
                    wanted.setdefault(ref.get('pool') or req.pool, set()).add(ref['name'])
        views = {}
        for pool_name, names in wanted.items():
            view = self.read_pool(pool_name, names, refresh=pool_name in refresh)
            if view is not None:
                views[pool_name] = view
        world = World(views)
        for req in requests:
            usage_id = (req.encryption or {}).get('secret_usage')
            if usage_id and usage_id not in world.secrets:
                world.secrets[usage_id] = self._secret_uuid(usage_id)
        if with_usage:
            self.add_usage(world, requests)
        return world

    def add_import_facts(self, requests, world):
        """For each import_from into a volume that already exists: the source image's format
        and size when a local uncompressed file (qemu-img info), and with checksum the digest
        of the volume's content when it is a file on this host. Nothing is downloaded."""
        for req in requests:
            pool = world.pools.get(req.pool)
            actual = pool.volumes.get(req.name) if pool is not None else None
            if not req.import_from or req.state != 'present' or actual is None:
                continue
            facts = ImportFacts()
            source = req.import_from
            if not _volume_import.is_url(source) and os.path.isfile(source) and not _volume_import.is_compressed(source):
                try:
                    info = _qemu_img.info(self.module, source, 'read the image %s' % source)
                    facts.format, facts.size = info.get('format'), int(info.get('virtual-size'))
                except (KvmStorageError, ValueError, TypeError):
                    pass
            if req.checksum:
                facts.volume_digest, facts.why_not = self._volume_digest(req, actual, source, facts.format or
                                                                         req.import_format, pool.type)
            world.imports[(req.pool, req.name)] = facts
        return world

    def add_seed_facts(self, requests, world):
        """For each cloud_init request: the ISO tool of this host (once), and for a volume
        that exists, its label and root files read back through libvirt (SeedFacts)."""
        seeds = [r for r in requests if getattr(r, 'cloud_init', None) and r.state == 'present']
        if not seeds:
            return world
        world.iso_tool = _volume_seed.find_tool(self.module)
        for req in seeds:
            pool = world.pools.get(req.pool)
            actual = pool.volumes.get(req.name) if pool is not None else None
            if actual is None or req.name in pool.incomplete:
                continue
            vol = self.vol_objects.get((req.pool, req.name))
            if vol is None:
                continue
            label, files, why_not = _volume_seed.read(self.conn, vol, actual.get('capacity'), req.label)
            world.seeds[(req.pool, req.name)] = SeedFacts(label, files, why_not)
        return world

    def _volume_digest(self, req, actual, source, source_format, pool_type):
        path = actual.get('path') or ''
        if req.compress:
            return None, 'it was stored compressed'
        if req.capacity is not None:
            return None, 'capacity may have grown it past the image'
        if source_format and _volume.import_converts(req, source_format, pool_type):
            return None, 'the %s image was converted on import' % source_format
        if _volume_import.is_url(source) and _volume_import.named_compressed(source) \
                or not _volume_import.is_url(source) and os.path.isfile(source) and _volume_import.is_compressed(source):
            return None, 'the checksum is of the compressed source'
        if not (path.startswith('/') and os.path.isfile(path)) or not _libvirt.is_local(self.conn):
            return None, 'the volume is not a file on this host'
        algorithm = req.checksum.split(':', 1)[0].strip().lower()
        try:
            return _volume_import.file_digest(path, algorithm), None
        except (OSError, ValueError) as exc:
            return None, 'cannot read %s: %s' % (path, exc)

    def add_usage(self, world, requests):
        """Who holds which image on this host, and the locks of shared images a request may
        delete or shrink (a guest on another host holds those)."""
        self.usage = read_usage(self.conn)
        world.usage = self.usage
        for path in lock_probe_paths(requests, world):
            holder = _qemu_img.lock_holder(self.module, path)
            if holder:
                world.locked[path] = holder
        return world

    def _secret_uuid(self, usage_id):
        try:
            usage_type = _libvirt.flag('VIR_SECRET_USAGE_TYPE_VOLUME')
            return self.conn.secretLookupByUsage(usage_type, usage_id).UUIDString()
        except libvirt.libvirtError as exc:
            if _libvirt.is_not_found(exc):
                return None
            raise _libvirt.translate(exc, 'look up the volume secret %s' % usage_id)

    def read_pool(self, pool_name, names=None, refresh=False):
        """A PoolView with the volumes in ``names`` (all when None) read in full.
        One listing call, then one definition read per volume of interest; ``refresh``
        first makes libvirt list the pool afresh."""
        pool = _libvirt.lookup_pool(self.conn, pool_name)
        if pool is None:
            return None
        self.pools[pool_name] = pool
        model = _pool_xml.parse(_xml.parse(_libvirt.call('read pool %s' % pool_name, pool.XMLDesc, 0)))
        active = bool(pool.isActive())
        view = PoolView(pool_name, model['type'], active,
                        target_path=(model.get('target') or {}).get('path'),
                        source_hosts=[h['name'] for h in model['source']['hosts']],
                        source_name=model['source']['name'], source_dir=model['source']['dir'])
        if not active:
            return view
        if refresh:
            _libvirt.call('refresh pool %s' % pool_name, pool.refresh, 0)
        wanted = []
        for vol in _libvirt.call('list the volumes of pool %s' % pool_name, pool.listAllVolumes, 0):
            name = vol.name()
            self.vol_objects[(pool_name, name)] = vol
            if names is None or name in names:
                wanted.append((name, vol))
        for name, element in self._volume_elements(wanted, pool_name):
            if element is not None:
                view.volumes[name] = _volume_xml.parse(element)
        self.views[pool_name] = view
        view.incomplete = self._incomplete(pool_name, view)
        return view

    def _incomplete(self, pool_name, view):
        """The volumes of the view whose create was cut off (markers of runs that are gone),
        each with what the planner needs to tell whether it is still as those runs left it:
        per marker the fingerprint its run recorded (``left``, None when it was killed
        before it could), and the fingerprint now (``now``, None when the volume is not a
        local file here)."""
        out = {}
        for name, records in self.inflight.incomplete(pool_name).items():
            if name not in view.volumes:
                continue
            out[name] = {'markers': [{'marker': r['marker'], 'doing': r.get('doing'),
                                      'survived': r.get('ended') is not None, 'left': r.get('left')}
                                     for r in records],
                         'now': fingerprint(view.volumes[name]['path']) if self.local else None}
        return out

    def _volume_elements(self, vols, pool_name):
        """(name, element) of each of ``vols`` ((name, virStorageVol)), in order; None for a
        volume deleted meanwhile. libvirt has no call that returns many volumes'
        definitions, and each call waits for libvirtd (which stats and probes the image):
        with many volumes a few calls run at once over the one connection (libvirt
        connections are thread-safe and the binding lets other threads run while a call
        waits), which overlaps those waits."""
        if len(vols) < PARALLEL_FROM:
            return [(name, self._volume_element(vol, pool_name)) for name, vol in vols]
        with ThreadPoolExecutor(max_workers=READERS) as workers:
            elements = list(workers.map(lambda item: self._volume_element(item[1], pool_name), vols))
        return [(name, element) for (name, dummy), element in zip(vols, elements)]

    def _volume_element(self, vol, pool_name):
        try:
            return _xml.parse(vol.XMLDesc(0))
        except libvirt.libvirtError as exc:
            if _libvirt.is_not_found(exc):
                return None  # deleted while we listed
            raise _libvirt.translate(exc, 'read volume %s of pool %s' % (vol.name(), pool_name))

    # -- writing -------------------------------------------------------------------------

    def apply(self, step):
        req = step.args['request']
        if step.verb not in CREATES:
            result = getattr(self, '_do_' + step.verb)(step, step.text)
            if step.verb == 'delete':
                self.inflight.clear(req.pool, req.name, dead_too=True)  # the markers' volume is gone
            return result
        if step.verb in ('seed', 'seed_replace'):
            # The seed ISO is built complete before the volume is marked or touched: a tool
            # that fails leaves the volume (or its absence) as it was.
            self.seed_built = self._seed_iso(step, step.text)
        try:
            return self._apply_marked(req, step)
        finally:
            if self.seed_built is not None:
                _volume_import.cleanup(self.seed_built[0])
                self.seed_built = None

    def _apply_marked(self, req, step):
        # Marked while it is made: a run cut off here leaves the marker, and the next run
        # knows the volume may be incomplete (_inflight).
        self.inflight.mark(req.pool, req.name, step.text)
        try:
            undo = getattr(self, '_do_' + step.verb)(step, step.text)
        except BaseException as exc:  # KeyboardInterrupt and SystemExit too: this process still runs
            path = False if _lost_race(exc) else self._left_path(req, step)
            if path is False:
                # Nothing of this run's is left (or what is there is another run's): no marker.
                self.inflight.clear(req.pool, req.name)
            else:
                # The volume stays: record how this run left it, so the next run replaces it
                # only while nothing has written to it since (_volume.plan).
                self.inflight.left(req.pool, req.name, fingerprint(path) if self.local else None)
            raise
        self.inflight.clear(req.pool, req.name, dead_too=True)  # made anew: older markers are void
        return undo

    def _left_path(self, req, step):
        """The path of the volume a failed create left: False when there is none, the
        planned path when libvirt cannot say (libvirtd gone; also for a pool the same plan
        defined, which this adapter never read), None when unknown."""
        try:
            return self.pools[req.pool].storageVolLookupByName(req.name).path()
        except libvirt.libvirtError as exc:
            if _libvirt.is_not_found(exc):
                return False
        except KeyError:
            pass
        view = self.views.get(req.pool)
        return step.args.get('path') or (_predicted_path(view, req.name) if view is not None else None)

    def _vol(self, req):
        vol = self.vol_objects.get((req.pool, req.name))
        if vol is None:
            vol = _libvirt.call('look up %s' % req.label, self.pools[req.pool].storageVolLookupByName, req.name)
        return vol

    def _created(self, req, vol):
        self.vol_objects[(req.pool, req.name)] = vol
        return ('delete the half-made %s' % req.label, lambda: vol.delete(0))

    def _do_create(self, step, text):
        req = step.args['request']
        flags = _libvirt.flag('VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA') if step.args['metadata'] else 0
        xml = _xml.to_string(step.args['element'], pretty=False)
        # Only a LUKS create can fail with qemu's benchmark flake; any other error is raised at once.
        vol = _qemu_img.retry_pbkdf_flake(_libvirt.call, text, self.pools[req.pool].createXML, xml, flags)
        undo = self._created(req, vol)
        if step.args.get('qemu_full'):
            try:
                self._qemu_full(step, vol, text)
            except BaseException:
                undo[1]()
                raise
        return undo

    def _qemu_full(self, step, vol, text):
        """qcow2 with preallocation full: libvirt made the volume (owner, mode, label as
        asked); qemu-img formats the same file again with every cluster written."""
        if not self.local:
            raise KvmStorageError('cannot %s: preallocation full of a qcow2 image runs qemu-img on the libvirt host, '
                                  'and this connection is to another host; use falloc or run the task there' % text)
        model = step.args['element']
        path = _libvirt.call(text, vol.path)
        capacity = model.findtext('capacity')
        _qemu_img.run(self.module, ['create', '-q', '-f', 'qcow2', '-o',
                                    _qemu_img.create_options(_volume_xml.qcow2_options(model), 'full'),
                                    path, capacity], text)

    def _do_clone(self, step, text):
        req = step.args['request']
        src = step.args['source']
        source_vol = self.vol_objects.get((src['pool'], src['name']))
        if source_vol is None:
            source_vol = _libvirt.call(text, self.pools[src['pool']].storageVolLookupByName, src['name'])
        xml = _xml.to_string(step.args['element'], pretty=False)
        pool = self.pools[req.pool]
        try:
            # A reflink copy shares blocks (btrfs, xfs with reflink): instant and small.
            vol = pool.createXMLFrom(xml, source_vol, _libvirt.flag('VIR_STORAGE_VOL_CREATE_REFLINK'))
        except libvirt.libvirtError:
            vol = _libvirt.call(text, pool.createXMLFrom, xml, source_vol, 0)
        undo = self._created(req, vol)
        if step.args.get('grow_to'):
            try:
                vol.resize(step.args['grow_to'], 0)
            except libvirt.libvirtError as exc:
                raise _libvirt.translate(exc, 'grow the clone %s to %s' % (req.label, format_size(step.args['grow_to'])))
        return undo

    def _do_create_gluster(self, step, text):
        # libvirt's gluster backend cannot create volumes; qemu-img's gluster driver can.
        req = step.args['request']
        if self.run_command is None:  # pragma: no cover - the module always passes it
            raise KvmStorageError('cannot %s: no command runner' % text)
        cmd = ['qemu-img', 'create', '-f', step.args['format']]
        if step.args['format'] == 'qcow2' or step.args.get('preallocation'):
            cmd += ['-o', _qemu_img.create_options(step.args.get('qcow2') or {}, step.args.get('preallocation'))]
        backing = step.args.get('backing')
        if backing:
            cmd += ['-b', backing['path'], '-F', backing['format']]
        cmd.append(step.args['url'])
        if step.args['capacity'] is not None:  # None: the backing file's size
            cmd.append(str(step.args['capacity']))
        rc, out, err = _qemu_img.run(self.module, cmd[1:], text, check=False)
        if rc != 0:
            msg = _qemu_img.error_text(err, out)
            if 'Unknown protocol' in msg or 'gluster' in msg and 'not' in msg and 'support' in msg:
                msg += '; this qemu-img has no gluster driver (Debian: install qemu-block-extra), or use a FUSE ' \
                       'netfs pool (format glusterfs) instead'
            # qemu-img makes the file before it writes the image, so an empty file may stay.
            # It is not removed here: that needs a pool refresh, and a refresh that fails
            # (gluster gone) makes libvirt stop the pool. The next run replaces it
            # (_volume._empty_leftover).
            raise KvmStorageError('cannot %s: %s; qemu-img may have left an empty file at %s, which the next run '
                                  'replaces' % (text, msg, step.args['url']))
        pool = self.pools[req.pool]
        _libvirt.call('refresh pool %s' % req.pool, pool.refresh, 0)
        vol = _libvirt.call(text, pool.storageVolLookupByName, req.name)
        return self._created(req, vol)

    def _do_import(self, step, text):
        req = step.args['request']
        workdir = _volume_import.workdir(self.module)
        try:
            local = _volume_import.fetch(self.module, req.import_from, workdir, req.checksum, req.label)
            source_fmt, size = _volume_import.inspect(self.module, local, req.label, req.import_from)
            fmt, converts = _volume.import_decision(req, source_fmt, step.args['pool_type'])
            if converts:
                qcow2 = dict((k, getattr(req, k)) for k in _volume.QCOW2_OPTIONS) if fmt == 'qcow2' else None
                local = _volume_import.convert(self.module, local, source_fmt, fmt or 'raw', workdir, req.label,
                                               qcow2=qcow2, compress=req.compress)
            if req.capacity is not None and req.capacity < size:
                raise KvmStorageError('%s: capacity %s is smaller than the image (%s)'
                                      % (req.label, format_size(req.capacity), format_size(size)))
            model = {'name': req.name, 'capacity': size, 'allocation': 0, 'format': fmt,
                     'permissions': req.permissions}
            element = _volume_xml.build(model)
            if fmt == 'qcow2':
                # The upload replaces the whole file with the image's own qcow2 header.
                element.find('target').remove(element.find('target/compat'))
            vol = _libvirt.call(text, self.pools[req.pool].createXML, _xml.to_string(element, pretty=False), 0)
            undo = self._created(req, vol)
            try:
                _volume_import.upload(self.conn, vol, local, libvirt, req.label)
                # libvirt learns the uploaded image's real allocation and header on refresh.
                _libvirt.call('refresh pool %s' % req.pool, self.pools[req.pool].refresh, 0)
                vol = _libvirt.call(text, self.pools[req.pool].storageVolLookupByName, req.name)
                self.vol_objects[(req.pool, req.name)] = vol
                if req.capacity is not None and req.capacity > size:
                    _libvirt.call('grow the imported %s' % req.label, vol.resize, req.capacity, 0)
            except KvmStorageError as exc:
                undo[1]()
                exc.details['rolled_back'] = [undo[0]]
                raise
            except Exception:
                undo[1]()
                raise
            return undo
        finally:
            _volume_import.cleanup(workdir)

    def _seed_iso(self, step, text):
        """The seed ISO built complete in a work folder, before any volume is touched."""
        req = step.args['request']
        tool = _volume_seed.find_tool(self.module)
        if tool is None:
            raise KvmStorageError('cannot %s: xorriso (or genisoimage) is not installed on this host' % text)
        return _volume_seed.build(self.module, tool, req.cloud_init, _volume.SEED_LABEL, text)

    def _do_seed(self, step, text):
        req = step.args['request']
        iso = self.seed_built[1]
        size = os.path.getsize(iso)
        model = {'name': req.name, 'capacity': size, 'allocation': 0, 'format': 'raw', 'permissions': req.permissions}
        vol = _libvirt.call(text, self.pools[req.pool].createXML, _xml.to_string(_volume_xml.build(model), pretty=False), 0)
        undo = self._created(req, vol)
        try:
            _volume_seed.write(self.conn, vol, iso, size, req.label)
        except BaseException as exc:
            undo[1]()
            if isinstance(exc, KvmStorageError):
                exc.details['rolled_back'] = [undo[0]]
            raise
        return undo

    def _do_seed_replace(self, step, text):
        # Written in place (libvirt cannot rename a volume): the new ISO, then zeros up to the
        # old size. Marked in flight meanwhile (apply), so a write cut off half-way leaves a
        # volume the next run knows to make again.
        req = step.args['request']
        iso = self.seed_built[1]
        vol = self._vol(req)
        size = os.path.getsize(iso)
        capacity = _libvirt.call(text, vol.info)[1]
        if size > capacity:
            _libvirt.call(text, vol.resize, size, 0)
            capacity = size
        _volume_seed.write(self.conn, vol, iso, capacity, req.label)
        return None

    def _do_resize(self, step, text):
        req = step.args['request']
        if step.args.get('live'):
            return self._resize_live(step, text)
        if step.args.get('pool_type') == 'logical':
            return self._resize_lv(step, text)
        flags = _libvirt.flag('VIR_STORAGE_VOL_RESIZE_SHRINK') if step.args['shrink'] else 0
        _libvirt.call(text, self._vol(req).resize, step.args['capacity'], flags)
        return None

    def _resize_lv(self, step, text):
        # libvirt's logical backend cannot resize ("storage pool does not support changing
        # of volume capacity"): LVM does it on the host, then libvirt re-reads the pool.
        req = step.args['request']
        tool = 'lvreduce' if step.args['shrink'] else 'lvextend'
        cmd = [tool] + (['--force'] if step.args['shrink'] else []) + \
            ['--size', '%db' % step.args['capacity'], step.args['path']]
        _lvm.run(self.module, cmd, text)
        _libvirt.call('refresh pool %s' % req.pool, self.pools[req.pool].refresh, 0)
        return None

    def _resize_live(self, step, text):
        path = step.args['path']
        dom = _libvirt.call(text, self.conn.lookupByName, step.args['live'][0])
        element = _xml.parse(_libvirt.call(text, dom.XMLDesc, 0))
        for src in disk_sources(element):
            if src.get('path') == path and src.get('target'):
                _libvirt.call(text, dom.blockResize, src['target'], step.args['capacity'],
                              _libvirt.flag('VIR_DOMAIN_BLOCK_RESIZE_BYTES'))
                return None
        raise KvmStorageError('cannot %s: guest %s no longer has %s attached' % (text, step.args['live'][0], path))

    def _do_wipe(self, step, text):
        req = step.args['request']
        _libvirt.call(text, self._vol(req).wipePattern, _libvirt.flag(WIPE_FLAGS[step.args['algorithm']]), 0)
        return None

    def _do_delete(self, step, text):
        req = step.args['request']
        _libvirt.call(text, self._vol(req).delete, 0)
        self.vol_objects.pop((req.pool, req.name), None)
        return None

    # -- reporting -----------------------------------------------------------------------

    def describe(self, pool_name, model, known=None, usage=None):
        """A volume as volume_info reports it.  ``known`` maps paths to models of volumes
        already read (to follow backing chains without more calls)."""
        known = known if known is not None else {}
        chain = []
        seen = set()
        backing = model.get('backing')
        while backing and backing.get('path') and backing['path'] not in seen:
            seen.add(backing['path'])
            link = {'path': backing['path'], 'format': backing.get('format')}
            chain.append(link)
            parent = known.get(backing['path'])
            if parent is None:
                parent = self._lookup_path(backing['path'])
                known[backing['path']] = parent
            backing = parent.get('backing') if parent else None
        out = {
            'name': model['name'],
            'pool': pool_name,
            'path': model['path'],
            'key': model['key'],
            'type': model['type'],
            'format': model['format'],
            'capacity': model['capacity'],
            'allocation': model['allocation'],
            'physical': model['physical'],
            'capacity_human': format_size(model['capacity']),
            'allocation_human': format_size(model['allocation']),
            'backing': chain[0] if chain else None,
            'backing_chain': chain,
            'encryption': model['encryption'],
        }
        if usage is not None:
            out['used_by'] = usage.users_of(model['path'])
            out['backing_of'] = usage.backing_of(model['path'])
        return out

    def _lookup_path(self, path):
        try:
            vol = self.conn.storageVolLookupByPath(path)
            return _volume_xml.parse(_xml.parse(vol.XMLDesc(0)))
        except libvirt.libvirtError:
            return None  # a file outside any pool: the chain ends with its path
