# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Guest disks through libvirt: read a guest, apply attach/update/detach steps."""

from __future__ import annotations

import time

from ansible_collections.kvm.storage.plugins.module_utils import _disk_xml
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._disk import DomainView
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


class DiskAdapter(object):
    def __init__(self, conn):
        self.conn = conn
        self.dom = None
        self._caps = {}

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
        ref = config_el if config_el is not None else live_el
        os_type = ref.find('os/type')
        machine = os_type.get('machine') if os_type is not None else None
        buses = None
        if with_buses:
            buses = self.buses(ref.findtext('devices/emulator'), os_type.get('arch') if os_type is not None else None,
                               machine, ref.get('type'))
        return DomainView(
            name, active, persistent,
            config_disks=_disk_xml.disks(config_el) if config_el is not None else [],
            live_disks=_disk_xml.disks(live_el) if live_el is not None else [],
            buses=buses,
            config_controllers=_controllers(config_el) if config_el is not None else [],
            live_controllers=_controllers(live_el) if live_el is not None else [],
            machine=machine)

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
        xml = "<controller type='scsi' model='virtio-scsi'/>"
        scope = step.args['scopes']
        before = self._scsi_indexes(scope)
        _call(text, self.dom.attachDeviceFlags, xml, _flags(scope))
        added = sorted(set(self._scsi_indexes(scope)) - set(before))
        if not added:
            return None
        undo_xml = "<controller type='scsi' index='%s'/>" % added[-1]
        # A controller this run added is removed again if the disk attach fails.
        return ('remove the virtio-scsi controller added by this run',
                lambda: self.dom.detachDeviceFlags(undo_xml, _flags(scope)))

    def _scsi_indexes(self, scopes):
        flags = 0 if 'live' in scopes else libvirt.VIR_DOMAIN_XML_INACTIVE
        element = _xml.parse(self.dom.XMLDesc(flags))
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
            undo.append(lambda s=scope: self.dom.detachDeviceFlags(xml, _flags([s])))
        return ('detach the disk attached by this run', lambda: [f() for f in reversed(undo)])

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

    def _do_detach(self, step, text):
        scopes = step.args['scopes']
        xml = _xml.to_string(_disk_xml.build(step.args['model']), pretty=False)
        _call(text, self.dom.detachDeviceFlags, xml, _flags(scopes))
        if 'live' in scopes:
            self._wait_released(step.args['target'], step.args['timeout'], text)
        return None

    def _wait_released(self, target, timeout, text):
        """A live detach is a request to the guest; it is done when the disk has left the
        live definition (libvirt's DEVICE_REMOVED), which a guest may never do."""
        deadline = time.time() + timeout
        while True:
            live = _xml.parse(self.dom.XMLDesc(0))
            if all(d['target'] != target for d in _disk_xml.disks(live)):
                return
            if time.time() >= deadline:
                raise KvmStorageError('cannot %s: the guest did not release the disk within %d s (it still shows in the '
                                      'running guest); the persistent definition was left unchanged - retry later, '
                                      'raise timeout, or shut the guest down' % (text, timeout), target=target)
            time.sleep(0.5)
