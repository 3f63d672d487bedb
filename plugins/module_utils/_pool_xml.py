# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pool definitions: the model (plain dicts) to libvirt XML and back.  Pure, no I/O.

The model holds only what the user asked for; :func:`build` turns it into a partial
``<pool>`` document that :mod:`_xml` compares with, and merges into, libvirt's own
definition.  :func:`parse` reads libvirt's definition into the same shape for results.
"""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._pool_types import POOL_TYPES, FROM_LIBVIRT

# Runtime values libvirt adds to a definition; never part of a comparison or a diff.
VOLATILE = ('capacity', 'allocation', 'available', 'source/device/freeExtent')


def build(model):
    """The partial ``<pool>`` element for a model."""
    pool_type = model['type']
    root = _xml.element('pool', {'type': POOL_TYPES[pool_type]['libvirt']})
    _xml.sub(root, 'name', text=model['name'])
    if model.get('uuid'):
        _xml.sub(root, 'uuid', text=model['uuid'])
    source = model.get('source') or {}
    if any(v not in (None, [], {}) for v in source.values()):
        _build_source(_xml.sub(root, 'source'), source)
    target = model.get('target') or {}
    if target.get('path') or target.get('permissions'):
        t = _xml.sub(root, 'target')
        if target.get('path'):
            _xml.sub(t, 'path', text=target['path'])
        perms = dict((k, v) for k, v in (target.get('permissions') or {}).items() if v is not None)
        if perms:
            p = _xml.sub(t, 'permissions')
            for key in ('mode', 'owner', 'group', 'label'):
                if perms.get(key) is not None:
                    _xml.sub(p, key, text=perms[key])
    return root


def _build_source(src, source):
    for host in source.get('hosts') or []:
        _xml.sub(src, 'host', {'name': host['name'], 'port': host.get('port')})
    for device in source.get('devices') or []:
        _xml.sub(src, 'device', {'path': device})
    if source.get('dir'):
        _xml.sub(src, 'dir', {'path': source['dir']})
    adapter = source.get('adapter')
    if adapter:
        attrs = dict((k, adapter.get(k)) for k in ('type', 'name', 'parent', 'wwnn', 'wwpn'))
        if adapter.get('managed') is not None:
            attrs['managed'] = adapter['managed']
        _xml.sub(src, 'adapter', attrs)
    if source.get('name'):
        _xml.sub(src, 'name', text=source['name'])
    if source.get('format'):
        _xml.sub(src, 'format', {'type': source['format']})
    if source.get('protocol_version'):
        _xml.sub(src, 'protocol', {'ver': source['protocol_version']})
    if source.get('initiator'):
        ini = _xml.sub(src, 'initiator')
        _xml.sub(ini, 'iqn', {'name': source['initiator']})
    auth = source.get('auth')
    if auth:
        a = _xml.sub(src, 'auth', {'type': auth['type'], 'username': auth.get('username')})
        _xml.sub(a, 'secret', {'usage': auth.get('secret_usage'), 'uuid': auth.get('secret_uuid')})


def _text(el, path):
    node = el.find(path)
    if node is None or node.text is None:
        return None
    return node.text.strip()


def _attr(el, path, name):
    node = el.find(path)
    return None if node is None else node.get(name)


def parse(root):
    """libvirt's ``<pool>`` definition as the model shape (with every field present)."""
    libvirt_type = root.get('type')
    model = {
        'name': _text(root, 'name'),
        'uuid': _text(root, 'uuid'),
        'type': FROM_LIBVIRT.get(libvirt_type, libvirt_type),
        'source': parse_source(root.find('source')),
        'target': None,
    }
    target = root.find('target')
    if target is not None:
        perms = target.find('permissions')
        model['target'] = {
            'path': _text(target, 'path'),
            'permissions': None if perms is None else dict(
                (key, _text(perms, key)) for key in ('mode', 'owner', 'group', 'label')),
        }
    return model


def parse_source(src):
    out = {'devices': [], 'hosts': [], 'dir': None, 'name': None, 'format': None, 'initiator': None,
           'auth': None, 'adapter': None, 'protocol_version': None}
    if src is None:
        return out
    out['devices'] = [d.get('path') for d in src.findall('device')]
    for host in src.findall('host'):
        port = host.get('port')
        out['hosts'].append({'name': host.get('name'), 'port': int(port) if port and port.isdigit() else None})
    out['dir'] = _attr(src, 'dir', 'path')
    out['name'] = _text(src, 'name')
    out['format'] = _attr(src, 'format', 'type')
    out['protocol_version'] = _attr(src, 'protocol', 'ver')
    out['initiator'] = _attr(src, 'initiator/iqn', 'name')
    auth = src.find('auth')
    if auth is not None:
        out['auth'] = {'type': auth.get('type'), 'username': auth.get('username'),
                       'secret_usage': _attr(auth, 'secret', 'usage'), 'secret_uuid': _attr(auth, 'secret', 'uuid')}
    adapter = src.find('adapter')
    if adapter is not None:
        managed = adapter.get('managed')
        out['adapter'] = {'type': adapter.get('type'), 'name': adapter.get('name'), 'parent': adapter.get('parent'),
                          'wwnn': adapter.get('wwnn'), 'wwpn': adapter.get('wwpn'),
                          'managed': None if managed is None else managed == 'yes'}
    return out


def canonical(root):
    """The definition as text for ``diff``, without runtime values."""
    return _xml.canonical(root, drop=VOLATILE)
