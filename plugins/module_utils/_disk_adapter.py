# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Guest disks through libvirt: read a guest, apply attach/update/detach steps."""

from __future__ import annotations

import os
import time

from ansible_collections.kvm.storage.plugins.module_utils import _disk_xml
from ansible_collections.kvm.storage.plugins.module_utils import _identity
from ansible_collections.kvm.storage.plugins.module_utils import _image_header
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _pool_xml
from ansible_collections.kvm.storage.plugins.module_utils import _volume
from ansible_collections.kvm.storage.plugins.module_utils import _volume_xml
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._disk import DomainView, SourceFacts
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

libvirt = _libvirt.libvirt

# libvirt's words for failures seen in the lab, and what to do about them.
HINTS = (
    ('No more available PCI slots', 'the q35 guest has no free pcie-root-port for a hot-plugged device: define it '
                                    'with spare <controller type="pci" model="pcie-root-port"/> entries (one per '
                                    'device to hot-plug), or attach persistently and reboot'),
    # qemu: 'Failed to get shared "write" lock' / 'Failed to get "write" lock'
    ('lock', 'the image, or its backing file, is open writable by another guest or as a backing file: '
             'detach it there, or attach an overlay'),
    ('must not have null value', 'an empty drive cannot be hot-plugged: give it media or attach it persistently'),
    ('does not support hotplugging', 'this bus cannot be hot-plugged: attach persistently (live: false) and reboot'),
    ('Tray of device', 'the guest keeps the tray locked (a mounted or open CD-ROM): eject it inside the guest, or '
                       'change the media persistently (live: false) for the next boot'),
)


def _flags(scopes):
    flags = 0
    if 'live' in scopes:
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    if 'config' in scopes:
        flags |= libvirt.VIR_DOMAIN_AFFECT_CONFIG
    return flags


def _call(doing, func, *args):
    try:
        return func(*args)
    except libvirt.libvirtError as exc:
        err = _libvirt.translate(exc, doing)
        for words, hint in HINTS:
            if words in err.msg and (words != 'lock' or 'Failed to get' in err.msg):
                err.msg += '; %s' % hint
                break
        raise err


def _controllers(element):
    return [(c.get('type'), c.get('model'), c.get('index')) for c in element.findall('devices/controller')]


# How long an undo waits for a running guest to let go of what this run hot-plugged.
UNDO_WAIT = 20


class GuestGone(KvmStorageError):
    pass


class DiskAdapter(object):
    def __init__(self, conn, caps=None, volumes=None):
        """``caps`` and ``volumes``: caches of domain capabilities and of volumes' (path,
        format), shared by the adapters of one run's guests (host_storage) so that each is
        read once per run, not once per guest."""
        self.conn = conn
        self.dom = None
        self.name = None
        self._caps = {} if caps is None else caps
        self._volumes = {} if volumes is None else volumes
        self._pools = {}
        self._local = None
        self.stopped_during_detach = []   # targets whose live detach ended with the guest stopping

    @property
    def local(self):
        if self._local is None:
            self._local = _libvirt.is_local(self.conn)
        return self._local

    # -- identity and probes ------------------------------------------------------------

    def _volume(self, pool, name):
        """(path, libvirt's format) of a pool volume, (None, None) when it cannot be found."""
        key = (pool, name)
        if key not in self._volumes:
            found = (None, None)
            try:
                vol = self.conn.storagePoolLookupByName(pool).storageVolLookupByName(name)
                parsed = _volume_xml.parse(_xml.parse(vol.XMLDesc(0)))
                found = (vol.path(), _volume.disk_format(parsed['format']))
            except libvirt.libvirtError as exc:
                if not _libvirt.is_not_found(exc):
                    raise _libvirt.translate(exc, 'look up volume %s of pool %s' % (name, pool))
            self._volumes[key] = found
        return self._volumes[key]

    def _pool(self, name):
        """The pool ``name`` as a _volume.PoolView (type and source, no volumes), None when it
        cannot be found: what the planner needs to attach a volume of it."""
        if name not in self._pools:
            view = None
            pool = _libvirt.lookup_pool(self.conn, name)
            if pool is not None:
                parsed = _pool_xml.parse(_xml.parse(_libvirt.call('read pool %s' % name, pool.XMLDesc, 0)))
                view = _volume.PoolView(name, parsed['type'], True,
                                        source_hosts=[h['name'] for h in parsed['source']['hosts']],
                                        source_name=parsed['source']['name'], source_dir=parsed['source']['dir'])
            self._pools[name] = view
        return self._pools[name]

    def keys(self, source):
        """The identity keys of a disk source (``_identity``): a volume also by its path, a
        network disk by protocol and name (and, for nbd/http, its servers)."""
        kind = _disk_xml.source_kind(source)
        if kind in ('file', 'block'):
            return _identity.keys(source[kind], local=self.local)
        if kind == 'volume':
            pool, name = source['volume']['pool'], source['volume']['name']
            path = self._volume(pool, name)[0]
            return _identity.keys(path, local=self.local) | frozenset([('volume', pool, name)])
        if kind == 'network':
            net = source['network']
            key = _identity.network_key(net['protocol'], net.get('name'))
            if net['protocol'] in ('nbd', 'http', 'https'):
                # the name alone does not say which server
                key = key + (tuple(sorted((h.get('name'), h.get('port')) for h in net.get('hosts') or [])),)
            return frozenset([key])
        return frozenset()

    def source_facts(self, source, label, need_volume=True, with_pool=True):
        """What the planner needs to know of the requested source: identity, existence, the
        format its header says, and a volume's format as libvirt reports it and (``with_pool``)
        its pool's type and source."""
        kind = _disk_xml.source_kind(source)
        if kind is None:
            return None
        facts = SourceFacts(keys=self.keys(source))
        path = None
        if kind == 'volume':
            path, facts.volume_format = self._volume(source['volume']['pool'], source['volume']['name'])
            if with_pool:
                facts.pool = self._pool(source['volume']['pool'])
            if path is None:
                if need_volume:
                    # the usual one-sentence error (pool or volume missing)
                    _libvirt.lookup_volume(self.conn, source['volume']['pool'], source['volume']['name'], label)
                return facts
            facts.exists = True
        elif kind in ('file', 'block'):
            path = source[kind]
            if self.local:
                facts.exists = os.path.exists(path)
        facts.path = path
        if path and self.local and '://' not in path and os.path.exists(path):
            header = _image_header.read(path)
            facts.probed = header['format'] if header else None
        return facts

    def read(self, name, with_buses=True):
        try:
            dom = self.conn.lookupByName(name)
        except libvirt.libvirtError as exc:
            if _libvirt.is_not_found(exc):
                return None
            raise _libvirt.translate(exc, 'look up guest %s' % name)
        self.dom = dom
        active = bool(dom.isActive())
        persistent = bool(dom.isPersistent())
        live_el = _xml.parse(_call('read guest %s' % name, dom.XMLDesc, 0)) if active else None
        config_el = _xml.parse(_call('read guest %s' % name, dom.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)) \
            if persistent else None
        self.name = name
        ref = config_el if config_el is not None else live_el
        os_type = ref.find('os/type')
        machine = os_type.get('machine') if os_type is not None else None
        buses = None
        if with_buses:
            buses = self.buses(ref.findtext('devices/emulator'), os_type.get('arch') if os_type is not None else None,
                               machine, ref.get('type'))
        config_disks = _disk_xml.disks(config_el) if config_el is not None else []
        live_disks = _disk_xml.disks(live_el) if live_el is not None else []
        for disk in config_disks + live_disks:
            disk['keys'] = self.keys(disk['source'])
        return DomainView(
            name, active, persistent,
            config_disks=config_disks,
            live_disks=live_disks,
            buses=buses,
            config_controllers=_controllers(config_el) if config_el is not None else [],
            live_controllers=_controllers(live_el) if live_el is not None else [],
            machine=machine,
            free_ports=_disk_xml.free_hotplug_ports(live_el) if live_el is not None else None)

    def buses(self, emulator, arch, machine, virttype):
        """Disk buses the guest's machine type carries, from libvirt's domain capabilities
        (IDE on q35 is accepted into a definition by libvirt, which then cannot boot)."""
        key = (emulator, arch, machine, virttype)
        if key not in self._caps:
            try:
                text = self.conn.getDomainCapabilities(emulator, arch, machine, virttype, 0)
            except libvirt.libvirtError:
                self._caps[key] = None  # unknown: leave the check to libvirt
            else:
                caps = _xml.parse(text)
                self._caps[key] = set(v.text for v in caps.findall("devices/disk/enum[@name='bus']/value"))
        return self._caps[key]

    def apply(self, step):
        return getattr(self, '_do_' + step.verb)(step, step.text)

    def _do_controller(self, step, text):
        index = step.args['index']
        scope = step.args['scopes']
        xml = "<controller type='scsi' index='%d' model='virtio-scsi'/>" % index
        _call(text, self.dom.attachDeviceFlags, xml, _flags(scope))
        if str(index) not in self._scsi_indexes(scope, text):
            raise KvmStorageError('cannot %s: libvirt accepted it but the guest does not show it' % text)
        undo_xml = "<controller type='scsi' index='%d'/>" % index
        words = 'remove virtio-scsi controller %d added by this run (%s)' % (
            index, 'live' if 'live' in scope else 'persistent')

        def undo():
            # A controller this run added is removed again if the disk attach fails; a live
            # unplug is a request to the guest: it is done when the guest shows it gone.
            _call(words, self.dom.detachDeviceFlags, undo_xml, _flags(scope))
            deadline = time.time() + (UNDO_WAIT if 'live' in scope else 0)
            while str(index) in self._scsi_indexes(scope, words):
                if time.time() >= deadline:
                    raise KvmStorageError('the guest still shows controller %d after %d s' % (index, UNDO_WAIT))
                time.sleep(0.5)
        return (words, undo)

    def _scsi_indexes(self, scopes, text='read guest %s'):
        flags = 0 if 'live' in scopes else libvirt.VIR_DOMAIN_XML_INACTIVE
        element = _xml.parse(_call(text, self.dom.XMLDesc, flags))
        return [c[2] for c in _controllers(element) if c[0] == 'scsi']

    def _do_attach(self, step, text):
        xml = _xml.to_string(step.args['element'], pretty=False)
        undo = []
        # Live first: it is the part that fails (no slot, a lock); the persistent
        # definition is only changed once the running guest took the disk.
        for scope in [s for s in ('live', 'config') if s in step.args['scopes']]:
            try:
                _call(text, self.dom.attachDeviceFlags, xml, _flags([scope]))
            except KvmStorageError:
                for func in reversed(undo):
                    func()
                raise
            undo.append(lambda s=scope: self._undo_attach(xml, s, step.args['target']))
        return ('detach the disk attached by this run', lambda: [f() for f in reversed(undo)])

    def _undo_attach(self, xml, scope, target):
        _call('detach disk %s again' % target, self.dom.detachDeviceFlags, xml, _flags([scope]))
        if scope == 'live':
            self._wait_released(target, UNDO_WAIT, 'detach disk %s again' % target)

    def _do_update(self, step, text):
        element = step.args['element']
        xml = _xml.to_string(element, pretty=False)
        flags = _flags(step.args['scopes'])
        attempts = 10
        for attempt in range(attempts):
            try:
                _call(text, self.dom.updateDeviceFlags, xml, flags)
                return None
            except KvmStorageError as exc:
                # A guest that holds the tray locked makes qemu open it only after a delay,
                # which libvirt may not wait for ("Tray of device ... is not open"). Eject
                # first (an update without media), then insert the new media.
                if 'Tray of device' not in exc.msg or attempt == attempts - 1:
                    raise
                empty = _disk_xml.build(dict(_disk_xml.parse(element), source=None))
                try:
                    self.dom.updateDeviceFlags(_xml.to_string(empty, pretty=False), flags)
                except libvirt.libvirtError:
                    pass
                time.sleep(1)
        return None

    def _do_iotune(self, step, text):
        """virDomainSetBlockIoTune, once per definition (libvirt takes live and config
        apart): the running guest first, then the persistent definition."""
        for scope in [s for s in ('live', 'config') if s in step.args['scopes']]:
            _call(text, self.dom.setBlockIoTune, step.args['target'], dict(step.args['params']), _flags([scope]))
        return None

    def _do_detach(self, step, text):
        scopes = step.args['scopes']
        xml = _xml.to_string(_disk_xml.build(step.args['model']), pretty=False)
        if 'live' in scopes and self.stopped_during_detach:
            return None   # the guest stopped during an earlier live detach: no running copy left
        try:
            _call(text, self.dom.detachDeviceFlags, xml, _flags(scopes))
        except KvmStorageError:
            # libvirt's answer when the guest dies under the call ("Missing monitor reply
            # object", "domain is not running"): say what happened to the guest instead.
            if 'live' in scopes and not self._state(text)[0]:
                self.stopped_during_detach.append(step.args['target'])
                return None
            raise
        if 'live' in scopes:
            self._wait_released(step.args['target'], step.args['timeout'], text)
        return None

    def _state(self, text):
        """(active, live disks) of the guest now; a guest that went away is an error that says so."""
        try:
            active = bool(self.dom.isActive())
            live = _xml.parse(self.dom.XMLDesc(0)) if active else None
        except libvirt.libvirtError as exc:
            if _libvirt.is_not_found(exc):
                raise GuestGone('cannot %s: guest %s went away meanwhile (stopped and undefined by someone else); '
                                'there is nothing left to detach from' % (text, self.name),
                                libvirt_error=_libvirt.error_details(exc))
            raise _libvirt.translate(exc, text)
        return active, live

    def _wait_released(self, target, timeout, text):
        """A live detach is a request to the guest; it is done when the disk has left the
        live definition (libvirt's DEVICE_REMOVED), which a guest may never do. A guest
        that stops meanwhile takes the running copy with it: that is done too."""
        deadline = time.time() + timeout
        while True:
            active, live = self._state(text)
            if not active:
                self.stopped_during_detach.append(target)
                return
            if all(d['target'] != target for d in _disk_xml.disks(live)):
                return
            if time.time() >= deadline:
                raise KvmStorageError('cannot %s: the guest did not release the disk within %d s (it still shows in the '
                                      'running guest); the persistent definition was left unchanged - retry later, '
                                      'raise timeout, or shut the guest down' % (text, timeout), target=target)
            time.sleep(0.5)
