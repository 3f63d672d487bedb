# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Volume definitions: the model (plain dicts) to libvirt ``<volume>`` XML and back.  Pure."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _xml

# Runtime values; never part of a comparison or a diff.
VOLATILE = ('allocation', 'physical', 'key', 'target/timestamps', 'backingStore/timestamps',
            'target/permissions/owner', 'target/permissions/group', 'target/permissions/label',
            'backingStore/permissions/owner', 'backingStore/permissions/group', 'backingStore/permissions/label')


def build(model):
    """The ``<volume>`` element libvirt creates a volume from.

    ``model``: name, capacity (bytes), allocation (bytes or None), format, permissions
    (mode/owner/group/label), backing ({path, format}), encryption ({format, secret_uuid}).
    The backing format is always written: without it qemu probes the backing file's
    format, which lets a guest that writes a qcow2 header into a raw image read host files.
    """
    root = _xml.element('volume')
    _xml.sub(root, 'name', text=model['name'])
    if model.get('capacity') is not None:
        _xml.sub(root, 'capacity', {'unit': 'bytes'}, text=model['capacity'])
    if model.get('allocation') is not None:
        _xml.sub(root, 'allocation', {'unit': 'bytes'}, text=model['allocation'])
    target = _xml.sub(root, 'target')
    if model.get('format'):
        _xml.sub(target, 'format', {'type': model['format']})
    perms = dict((k, v) for k, v in (model.get('permissions') or {}).items() if v is not None)
    if perms:
        p = _xml.sub(target, 'permissions')
        for key in ('mode', 'owner', 'group', 'label'):
            if perms.get(key) is not None:
                _xml.sub(p, key, text=perms[key])
    if model.get('format') == 'qcow2':
        # qcow2 v3 (compat 1.1) unless asked otherwise: lazy refcounts, zero clusters, discard
        # support. libvirt 9.0 hands compat, clusterSize and lazy_refcounts to qemu-img create.
        _xml.sub(target, 'compat', text=model.get('compat') or '1.1')
        if model.get('cluster_size'):
            _xml.sub(target, 'clusterSize', {'unit': 'B'}, text=model['cluster_size'])
        if model.get('lazy_refcounts'):
            _xml.sub(_xml.sub(target, 'features'), 'lazy_refcounts')
    enc = model.get('encryption')
    if enc:
        e = _xml.sub(target, 'encryption', {'format': enc.get('format', 'luks')})
        _xml.sub(e, 'secret', {'type': 'passphrase', 'uuid': enc['secret_uuid']})
    backing = model.get('backing')
    if backing:
        b = _xml.sub(root, 'backingStore')
        _xml.sub(b, 'path', text=backing['path'])
        _xml.sub(b, 'format', {'type': backing['format']})
    return root


def qcow2_options(element):
    """compat, cluster_size and lazy_refcounts of a ``<volume>`` element ``build`` made."""
    target = element.find('target')
    size = target.findtext('clusterSize')
    return {'compat': target.findtext('compat'), 'cluster_size': int(size) if size else None,
            'lazy_refcounts': target.find('features/lazy_refcounts') is not None}


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _children(element):
    """{tag: first child of that tag} (libvirt writes each of these once)."""
    out = {}
    if element is not None:
        for child in element:
            out.setdefault(child.tag, child)
    return out


def _text(element):
    """As findtext: None for no element, '' for an empty one."""
    return None if element is None else (element.text or '')


_UNITS = {'b': 1, 'bytes': 1, 'k': 1024, 'kib': 1024, 'm': 1024 ** 2, 'mib': 1024 ** 2}


def _cluster_size(element):
    value = _int(_text(element))
    if value is None:
        return None
    return value * _UNITS.get((element.get('unit') or 'b').lower(), 1)


def parse(root):
    """libvirt's ``<volume>`` definition as a model with every field present. (One pass over
    the children instead of a path search per field: a host_storage run parses one per
    declared volume.)"""
    top = _children(root)
    target_el = top.get('target')
    target = _children(target_el)
    backing_el = top.get('backingStore')
    backing = _children(backing_el)
    enc = target.get('encryption')
    perms_el = target.get('permissions')
    perms = _children(perms_el)
    fmt = target.get('format')
    backing_fmt = backing.get('format')
    secret = enc.find('secret') if enc is not None else None
    features = target.get('features')
    return {
        'name': _text(top.get('name')),
        'type': root.get('type'),
        'key': _text(top.get('key')),
        'path': _text(target.get('path')),
        'format': None if fmt is None else fmt.get('type'),
        'capacity': _int(_text(top.get('capacity'))),
        'allocation': _int(_text(top.get('allocation'))),
        'physical': _int(_text(top.get('physical'))),
        'backing': None if backing_el is None or not _text(backing.get('path')) else {
            'path': _text(backing.get('path')),
            'format': None if backing_fmt is None else backing_fmt.get('type'),
        },
        'encryption': None if enc is None else {
            'format': enc.get('format'),
            'secret_uuid': None if secret is None else secret.get('uuid'),
        },
        # qcow2 creation options as libvirt reads them from the image header
        'compat': _text(target.get('compat')),
        'cluster_size': _cluster_size(target.get('clusterSize')),
        'lazy_refcounts': None if fmt is None or fmt.get('type') != 'qcow2' else bool(
            features is not None and features.find('lazy_refcounts') is not None),
        'permissions': None if perms_el is None else dict(
            (key, _text(perms.get(key))) for key in ('mode', 'owner', 'group', 'label')),
    }


def canonical(root):
    return _xml.canonical(root, drop=VOLATILE)
