# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Storage pools through libvirt: read the actual state, apply plan steps, report."""

from __future__ import annotations

import os

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _lvm
from ansible_collections.kvm.storage.plugins.module_utils import _pool
from ansible_collections.kvm.storage.plugins.module_utils import _pool_xml
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._pool import PoolActual
from ansible_collections.kvm.storage.plugins.module_utils._pool_types import FROM_LIBVIRT, is_shared
from ansible_collections.kvm.storage.plugins.module_utils._size import format_size

libvirt = _libvirt.libvirt

STATE_NAMES = {0: 'inactive', 1: 'building', 2: 'running', 3: 'degraded', 4: 'inaccessible'}


class PoolAdapter(object):
    def __init__(self, conn):
        self.conn = conn
        self.pool = None

    # -- reading -------------------------------------------------------------------------

    def read(self, name, refresh=False):
        """The pool as libvirt has it; ``refresh``: rescan a running pool's volumes first
        (libvirt lists what it saw at start or at the last refresh)."""
        self.pool = _libvirt.lookup_pool(self.conn, name)
        if self.pool is None:
            return None
        pool = self.pool
        xml = _libvirt.call('read the definition of pool %s' % name, pool.XMLDesc,
                            _libvirt.flag('VIR_STORAGE_XML_INACTIVE'))
        element = _xml.parse(xml, what='the definition of pool %s' % name)
        active = bool(_libvirt.call('read the state of pool %s' % name, pool.isActive))
        persistent = bool(_libvirt.call('read pool %s' % name, pool.isPersistent))
        autostart = bool(_libvirt.call('read the autostart flag of pool %s' % name, pool.autostart)) if persistent else False
        volumes = None
        if active:
            if refresh:
                _libvirt.call('refresh pool %s to count its volumes' % name, pool.refresh, 0)
            volumes = [v.name() for v in _libvirt.call('list the volumes of pool %s' % name, pool.listAllVolumes, 0)]
        return PoolActual(FROM_LIBVIRT.get(element.get('type'), element.get('type')), element, active,
                          persistent=persistent, autostart=autostart, volumes=volumes,
                          target_exists=self._target_exists(element))

    def _target_exists(self, element):
        """Whether the target directory is there, asked of libvirt rather than of the local
        filesystem so that it holds for remote URIs too; None when libvirt cannot tell."""
        path = element.findtext('target/path')
        if not path:
            return None
        # A stopped pool gives no way to stat its target through libvirt; a local URI
        # is the common case and the module then runs on the hypervisor itself.
        if not self._is_local():
            return None
        return os.path.isdir(path)

    def read_lvs(self, module, actual):
        """Before delete_data on a logical pool: every LV of its VG as LVM reports it (thin
        pools, thin volumes and inactive LVs too, which libvirt does not list). Only on a local
        URI, where LVM here is the hypervisor's."""
        if actual is None or actual.type != 'logical':
            return
        vg = actual.element.findtext('source/name') or actual.element.findtext('name')
        if not self._is_local():
            actual.lvs_error = 'the URI is not local, so LVM on this host is not the hypervisor\'s'
            return
        try:
            lvs = _lvm.read_lvs(module, vg)
        except KvmStorageError as exc:
            actual.lvs_error = exc.msg
            return
        actual.lvs = dict((lv_name, _pool.lv_kind(lv)) for lv_name, lv in lvs.items())

    def _is_local(self):
        return _libvirt.is_local(self.conn)

    def read_facts(self, module, request, actual):
        """PoolFacts: what the planner needs to know of this host for ``request`` - where the
        source devices given by a symlink lead, which do not exist, what the target path is,
        and a DeviceProbe of each device a no-overwrite build may format (``blkid -p``, and
        whether it holds any non-zero byte: all of it when it is small, a sample when it is
        large). Local URIs only: over a remote URI the devices and paths are the
        hypervisor's, and libvirt's own checks are all there is."""
        if request.element is None or not self._is_local():
            return _pool.NO_FACTS
        facts = _pool.PoolFacts()
        for device in request.element.findall('source/device'):
            path = device.get('path')
            if not path:
                continue
            if os.path.islink(path):
                facts.real_paths[path] = os.path.realpath(path)
            if not os.path.exists(path):
                facts.missing = facts.missing | frozenset([path, facts.real_paths.get(path, path)])
        path = request.element.findtext('target/path')
        if path and os.path.lexists(path):
            facts.target = 'dir' if os.path.isdir(path) else 'other'
        facts.probes = dict((device, probe_device(module, device))
                            for device in _pool.devices_to_probe(request, actual, facts))
        return facts

    # -- writing -------------------------------------------------------------------------

    def apply(self, step):
        """Apply one step; returns ``(text, undo)`` for steps that can be undone."""
        name = step.text
        return getattr(self, '_do_' + step.verb)(step, name)

    def _do_define(self, step, text):
        xml = _xml.to_string(step.args['element'], pretty=False)
        self.pool = _libvirt.call(text, self.conn.storagePoolDefineXML, xml, 0)
        if step.args.get('new') or not step.args.get('persistent', True):
            pool = self.pool
            return ('undefine the pool defined by this run', pool.undefine)
        previous = _xml.to_string(step.args['previous'], pretty=False)
        return ('restore the previous definition', lambda: self.conn.storagePoolDefineXML(previous, 0))

    def _do_autostart(self, step, text):
        _libvirt.call(text, self.pool.setAutostart, 1 if step.args['value'] else 0)
        old = 0 if step.args['value'] else 1
        return ('restore autostart', lambda: self.pool.setAutostart(old))

    def _do_build(self, step, text):
        flags = 0
        if step.args['kind'] == 'format':
            flags = _libvirt.flag('VIR_STORAGE_POOL_BUILD_OVERWRITE') if step.args['overwrite'] \
                else _libvirt.flag('VIR_STORAGE_POOL_BUILD_NO_OVERWRITE')
        try:
            self.pool.build(flags)
        except libvirt.libvirtError as exc:
            message = _libvirt.error_details(exc)['message'].lower()
            # libvirt answers "already built" both for the requested filesystem being there
            # (nothing to do, nothing to undo) and for another one being there ("does not
            # match ... forced overwrite is necessary"), which must stay an error.
            if _libvirt.is_error(exc, 'VIR_ERR_STORAGE_POOL_BUILT') and 'overwrite' not in message:
                return None
            err = _libvirt.translate(exc, text)
            if not step.args['overwrite'] and 'overwrite' in message:
                err.msg += '; the device holds data: set overwrite: true only if that data may be destroyed'
            raise err
        if step.args.get('new') and step.args.get('type') in ('dir', 'fs', 'netfs'):
            pool = self.pool
            # Only removes the empty directory the build made (rmdir); never data.
            return ('remove the empty target directory built by this run', lambda: _try(pool.delete, 0))
        return None

    def _do_start(self, step, text):
        _libvirt.call(text, self.pool.create, 0)
        return ('stop the pool again', self.pool.destroy)

    def _do_stop(self, step, text):
        _libvirt.call(text, self.pool.destroy)
        return ('start the pool again', lambda: self.pool.create(0))

    def _do_delete_volume(self, step, text):
        vol = _libvirt.call(text, self.pool.storageVolLookupByName, step.args['volume'])
        _libvirt.call(text, vol.delete, 0)
        return None

    def _do_delete(self, step, text):
        _libvirt.call(text, self.pool.delete, 0)
        return None

    def _do_undefine(self, step, text):
        _libvirt.call(text, self.pool.undefine)
        return None

    # -- reporting -----------------------------------------------------------------------

    def describe(self, pool):
        """The pool as pool_info reports it."""
        name = pool.name()
        element = _xml.parse(_libvirt.call('read the definition of pool %s' % name, pool.XMLDesc, 0))
        model = _pool_xml.parse(element)
        state, capacity, allocation, available = _libvirt.call('read pool %s' % name, pool.info)
        active = bool(pool.isActive())
        persistent = bool(pool.isPersistent())
        volume_count = None
        if active:
            volume_count = _libvirt.call('count the volumes of pool %s' % name, pool.numOfVolumes)
        shared = is_shared(model['type'], model['source'])
        return {
            'name': name,
            'uuid': model['uuid'],
            'type': model['type'],
            'state': STATE_NAMES.get(state, str(state)),
            'active': active,
            'persistent': persistent,
            'autostart': bool(pool.autostart()) if persistent else False,
            'capacity': capacity if active else None,
            'allocation': allocation if active else None,
            'available': available if active else None,
            'capacity_human': format_size(capacity) if active else None,
            'available_human': format_size(available) if active else None,
            'target': model['target'],
            'source': _clean(model['source']),
            'volume_count': volume_count,
            'migratable': shared,
            'sharing': 'shared' if shared else 'local',
        }


# A device up to this size is read whole; a larger one is sampled: its first and last MiB
# and SAMPLES blocks spread evenly between them.
WHOLE_LIMIT = 256 * 1024 * 1024
EDGE = 1024 * 1024
SAMPLES = 256
SAMPLE_BLOCK = 64 * 1024


def probe_device(module, path):
    # -p: probe the device itself, not blkid's cache; rc 2 means nothing found.
    rc, out, dummy = module.run_command(['blkid', '-p', '-o', 'export', path])
    signature = dict(line.split('=', 1) for line in out.splitlines() if '=' in line) if rc == 0 else {}
    signature = dict((k, v) for k, v in signature.items() if k in ('TYPE', 'PTTYPE'))
    try:
        size, data_at, whole = first_data(path)
    except OSError as exc:
        raise KvmStorageError('cannot read device %s to check that it is empty before building a pool on it: %s'
                              % (path, exc.strerror or exc))
    return _pool.DeviceProbe(signature, data_at, size, whole)


def first_data(path, whole_limit=WHOLE_LIMIT):
    """(size, offset of the first non-zero byte read or None, read whole) of a device."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size <= whole_limit:
            spans = [(start, min(EDGE, size - start)) for start in range(0, size, EDGE)]
        else:
            step = (size - 2 * EDGE) // (SAMPLES + 1)
            spans = [(0, EDGE)] + [(EDGE + step * (i + 1), SAMPLE_BLOCK) for i in range(SAMPLES)] \
                + [(size - EDGE, EDGE)]
        for start, length in spans:
            data = os.pread(fd, length, start)
            if data.count(0) != len(data):
                return size, start + len(data) - len(data.lstrip(b'\0')), size <= whole_limit
        return size, None, size <= whole_limit
    finally:
        os.close(fd)


def _clean(source):
    return dict((k, v) for k, v in source.items() if v not in (None, [], {}))


def _try(func, *args):
    try:
        func(*args)
    except Exception:
        pass


def list_pools(conn, name=None, names=None):
    """Every pool, the one called ``name``, or those of ``names`` that exist: one listing
    call, then per-pool reads."""
    if name is not None:
        pool = _libvirt.lookup_pool(conn, name)
        return [pool] if pool is not None else []
    pools = _libvirt.call('list storage pools', conn.listAllStoragePools, 0)
    if names is not None:
        wanted = set(names)
        pools = [pool for pool in pools if pool.name() in wanted]
    return pools
