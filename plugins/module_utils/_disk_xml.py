# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Guest disks: the model (plain dicts) to ``<disk>`` XML and back.  Pure."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _xml

DRIVER_ATTRS = ('cache', 'io', 'discard', 'detect_zeroes', 'iothread')
# <iotune> children in libvirt's order: rates, bursts, group name, burst lengths.
_RATES = ('total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec', 'total_iops_sec', 'read_iops_sec', 'write_iops_sec')
IOTUNE_ORDER = _RATES + tuple(r + '_max' for r in _RATES) + ('group_name',) + tuple(r + '_max_length' for r in _RATES)

# Runtime additions libvirt makes to a disk that are not part of a request.
VOLATILE = ('alias', 'address', 'backingStore', 'source/privateData')


def source_kind(source):
    if not source:
        return None
    for kind in ('file', 'block', 'volume', 'network'):
        if source.get(kind):
            return kind
    return None


def build(model):
    """The ``<disk>`` element for a model: device, bus, target, source, format and tuning."""
    source = model.get('source') or {}
    kind = source_kind(source) or ('file' if model['device'] in ('cdrom', 'floppy') else None)
    attrs = {'type': kind, 'device': model['device']}
    if model['device'] == 'lun':
        attrs['sgio'] = model.get('sgio')
        attrs['rawio'] = None if model.get('rawio') is None else ('yes' if model['rawio'] else 'no')
    disk = _xml.element('disk', attrs)
    driver = {'name': 'qemu', 'type': model.get('format')}
    for key in DRIVER_ATTRS:
        driver[key] = model.get(key)
    _xml.sub(disk, 'driver', driver)
    policy = model.get('startup_policy')
    if kind == 'file' and source.get('file'):
        _xml.sub(disk, 'source', {'file': source['file'], 'startupPolicy': policy})
    elif kind == 'block':
        _xml.sub(disk, 'source', {'dev': source['block'], 'startupPolicy': policy})
    elif kind == 'volume':
        _xml.sub(disk, 'source', {'pool': source['volume']['pool'], 'volume': source['volume']['name'],
                                  'startupPolicy': policy})
    elif kind == 'network':
        net = source['network']
        src = _xml.sub(disk, 'source', {'protocol': net['protocol'], 'name': net.get('name')})
        for host in net.get('hosts') or []:
            _xml.sub(src, 'host', {'name': host['name'], 'port': host.get('port'),
                                   'transport': host.get('transport')})
        auth = net.get('auth')
        if auth:
            a = _xml.sub(src, 'auth', {'username': auth['username']})
            _xml.sub(a, 'secret', {'type': auth.get('type', 'iscsi'), 'usage': auth.get('secret_usage'),
                                   'uuid': auth.get('secret_uuid')})
    _xml.sub(disk, 'target', {'dev': model['target'], 'bus': model['bus']})
    iotune = model.get('iotune')
    if iotune:
        tune = _xml.sub(disk, 'iotune')
        for key in IOTUNE_ORDER:
            if iotune.get(key):
                _xml.sub(tune, key, text=iotune[key])
    if model.get('boot_order') is not None:
        _xml.sub(disk, 'boot', {'order': model['boot_order']})
    if model.get('readonly'):
        _xml.sub(disk, 'readonly')
    if model.get('shareable'):
        _xml.sub(disk, 'shareable')
    if model.get('serial'):
        _xml.sub(disk, 'serial', text=model['serial'])
    if model.get('wwn'):
        _xml.sub(disk, 'wwn', text=model['wwn'])
    return disk


def parse(disk):
    """One ``<disk>`` of a domain definition as a model."""
    driver = disk.find('driver')
    target = disk.find('target')
    src = disk.find('source')
    kind = disk.get('type')
    source = None
    if src is not None:
        if kind == 'file' and src.get('file'):
            source = {'file': src.get('file')}
        elif kind == 'block':
            source = {'block': src.get('dev')}
        elif kind == 'volume':
            source = {'volume': {'pool': src.get('pool'), 'name': src.get('volume')}}
        elif kind == 'network':
            auth = src.find('auth') if src.find('auth') is not None else disk.find('auth')
            hosts = []
            for h in src.findall('host'):
                entry = {'name': h.get('name'), 'port': _int(h.get('port'))}
                if h.get('transport'):
                    entry['transport'] = h.get('transport')
                hosts.append(entry)
            source = {'network': {'protocol': src.get('protocol'), 'name': src.get('name'), 'hosts': hosts,
                                  'auth': None if auth is None else _auth(auth)}}
    boot = disk.find('boot')
    model = {
        'device': disk.get('device', 'disk'),
        'bus': None if target is None else target.get('bus'),
        'target': None if target is None else target.get('dev'),
        'source': source,
        'format': None if driver is None else driver.get('type'),
        'readonly': disk.find('readonly') is not None,
        'shareable': disk.find('shareable') is not None,
        'serial': disk.findtext('serial'),
        'wwn': disk.findtext('wwn'),
        'boot_order': None if boot is None else _int(boot.get('order')),
        'startup_policy': None if src is None else src.get('startupPolicy'),
        'sgio': disk.get('sgio'),
        'rawio': None if disk.get('rawio') is None else disk.get('rawio') == 'yes',
        'alias': None if disk.find('alias') is None else disk.find('alias').get('name'),
        'backing_chain': _chain(disk),
        'iotune': _iotune(disk.find('iotune')),
    }
    for key in DRIVER_ATTRS:
        value = None if driver is None else driver.get(key)
        model[key] = _int(value) if key == 'iothread' and value is not None else value
    return model


def _iotune(element):
    """The limits of an ``<iotune>`` (numbers as integers, group_name as text); None without one."""
    if element is None:
        return None
    out = {}
    for child in element:
        if child.tag == 'group_name':
            out['group_name'] = child.text or ''
        elif isinstance(child.tag, str):
            value = _int((child.text or '').strip())
            if value:
                out[child.tag] = value
    return out


def _auth(auth):
    secret = auth.find('secret')
    out = {'username': auth.get('username')}
    if secret is not None:
        out['type'] = secret.get('type')
        if secret.get('usage'):
            out['secret_usage'] = secret.get('usage')
        if secret.get('uuid'):
            out['secret_uuid'] = secret.get('uuid')
    return out


def _chain(disk):
    out = []
    node = disk.find('backingStore')
    while node is not None and node.find('source') is not None:
        src = node.find('source')
        fmt = node.find('format')
        out.append({'path': src.get('file') or src.get('dev') or src.get('name'),
                    'format': None if fmt is None else fmt.get('type')})
        node = node.find('backingStore')
    return out


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def disks(domain_element):
    return [parse(d) for d in domain_element.findall('devices/disk')]


# PCI Express ports a device can be hot-plugged into, one device each.
HOTPLUG_PORT_MODELS = ('pcie-root-port', 'pcie-switch-downstream-port')


def free_hotplug_ports(domain_element):
    """How many of a running q35 guest's hot-plug ports (``pcie-root-port`` controllers)
    no device sits on yet, from its live definition; None for a guest without PCI Express
    ports (a ``pc`` machine hot-plugs into slots of its PCI root bus). Each port is the bus
    numbered by its controller's index; the devices libvirt added itself (a USB controller,
    a virtio-scsi controller) take ports too."""
    machine = domain_element.find('os/type')
    if machine is None or 'q35' not in (machine.get('machine') or ''):
        return None
    ports = set()
    for ctl in domain_element.findall('devices/controller'):
        if ctl.get('type') == 'pci' and ctl.get('model') in HOTPLUG_PORT_MODELS and ctl.get('index') is not None:
            ports.add(_int(ctl.get('index')))
    taken = set()
    for address in domain_element.iterfind('devices/*/address'):
        if address.get('type') == 'pci' and address.get('bus') is not None:
            try:
                taken.add(int(address.get('bus'), 0))
            except ValueError:
                continue
    return len(ports - taken)


def same_source(a, b):
    """Whether two disk sources point at the same storage."""
    if not a or not b:
        return False
    ka, kb = source_kind(a), source_kind(b)
    if ka != kb:
        return False
    if ka == 'volume':
        return a['volume']['pool'] == b['volume']['pool'] and a['volume']['name'] == b['volume']['name']
    if ka == 'network':
        na, nb = a['network'], b['network']
        if na['protocol'] != nb['protocol'] or na.get('name') != nb.get('name'):
            return False
        if na['protocol'] in ('nbd', 'http', 'https'):
            # The name alone does not say which server: compare the servers too.
            def servers(n):
                return sorted((h.get('name'), h.get('port')) for h in n.get('hosts') or [])
            return servers(na) == servers(nb)
        return True
    return a[ka] == b[ka]


def canonical(disk):
    return _xml.canonical(disk, drop=VOLATILE)
