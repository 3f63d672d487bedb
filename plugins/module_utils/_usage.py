# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Who uses which storage: guests' disks and volumes' backing files.

Pure functions over XML, plus one reader that makes the listings (one call for all
domains, one per pool for its volumes) that every safety check shares.
"""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _xml


def disk_sources(domain_element):
    """The storage each ``<disk>`` of a domain definition points at:
    dicts with kind (file, block, volume, network) and path / pool+volume / protocol+name."""
    out = []
    for disk in domain_element.findall('devices/disk'):
        source = disk.find('source')
        if source is None:
            continue
        kind = disk.get('type')
        entry = {'kind': kind, 'target': disk.find('target').get('dev') if disk.find('target') is not None else None}
        if kind == 'file':
            entry['path'] = source.get('file')
        elif kind == 'block':
            entry['path'] = source.get('dev')
        elif kind == 'volume':
            entry['pool'] = source.get('pool')
            entry['volume'] = source.get('volume')
        elif kind == 'network':
            entry['protocol'] = source.get('protocol')
            entry['name'] = source.get('name')
            entry['hosts'] = [(h.get('name'), h.get('port')) for h in source.findall('host')]
        else:
            continue
        out.append(entry)
    return out


def network_paths(src):
    """The volume paths libvirt gives the storage a network disk points at, one per host:
    ``gluster://host/volume/image`` for gluster pools, ``ip-host:port-iscsi-<iqn>-lun-N``
    for iSCSI LUNs, ``pool/image`` for rbd (plus ``protocol:name`` for anything else)."""
    protocol, name = src.get('protocol'), src.get('name') or ''
    out = ['%s:%s' % (protocol, name)]
    for host, port in src.get('hosts') or [(None, None)]:
        if protocol == 'gluster' and host:
            out.append('gluster://%s/%s' % (host, name.lstrip('/')))
        elif protocol == 'iscsi' and host and '/' in name:
            iqn, lun = name.rsplit('/', 1)
            out.append('ip-%s:%s-iscsi-%s-lun-%s' % (host, port or 3260, iqn, lun))
    if protocol == 'rbd':
        out.append(name)
    return out


def backing_paths(volume_element):
    """Paths of the backing chain libvirt reports for a volume (only the first link: the
    rest is found by following the chain through other volumes)."""
    path = volume_element.findtext('backingStore/path')
    return [path] if path else []


class Usage(object):
    """users[path] -> guest names; children[path] -> paths of volumes backed by it."""

    def __init__(self):
        self.users = {}
        self.children = {}
        self.running = {}   # path -> guests whose live definition has it (qemu holds it open)

    def add_user(self, path, domain, live=False):
        names = self.users.setdefault(path, [])
        if domain not in names:
            names.append(domain)
        if live:
            running = self.running.setdefault(path, [])
            if domain not in running:
                running.append(domain)

    def running_users_of(self, path):
        """Running guests that have ``path`` open, directly or through an overlay."""
        seen, out, stack = set(), [], [path]
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            seen.add(p)
            out.extend(d for d in self.running.get(p, []) if d not in out)
            stack.extend(self.children.get(p, []))
        return sorted(out)

    def users_of(self, path):
        """Guests using ``path`` directly or through any volume backed by it."""
        seen = set()
        out = []
        stack = [path]
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            seen.add(p)
            for d in self.users.get(p, []):
                if d not in out:
                    out.append(d)
            stack.extend(self.children.get(p, []))
        return sorted(out)


def read_usage(conn, known_pools=None):
    """Build the Usage of the whole host: all domains (live and persistent definitions)
    and all volumes of all running pools.  ``known_pools`` maps pool names to the volume
    models already read (name -> model), so those pools are not read twice."""
    libvirt = _libvirt.libvirt
    usage = Usage()
    known_pools = known_pools or {}
    volume_paths = {}
    for pool_name, models in known_pools.items():
        for name, model in models.items():
            volume_paths[(pool_name, name)] = model.get('path')

    def resolve(pool, vol):
        key = (pool, vol)
        if key not in volume_paths:
            try:
                volume_paths[key] = conn.storagePoolLookupByName(pool).storageVolLookupByName(vol).path()
            except libvirt.libvirtError:
                volume_paths[key] = None
        return volume_paths[key]

    def read_guest(dom):
        name = dom.name()
        xmls = []
        if dom.isActive():
            xmls.append((True, _libvirt.call('read guest %s' % name, dom.XMLDesc, 0)))
        if dom.isPersistent():
            xmls.append((False, _libvirt.call('read guest %s' % name, dom.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)))
        for live, text in xmls:
            for src in disk_sources(_xml.parse(text)):
                if src['kind'] == 'volume':
                    paths = [resolve(src['pool'], src['volume'])]
                elif src['kind'] == 'network':
                    paths = network_paths(src)
                else:
                    paths = [src.get('path')]
                for path in paths:
                    if path:
                        usage.add_user(path, name, live)

    def read_pool(pool):
        if pool.name() in known_pools:
            for model in known_pools[pool.name()].values():
                if model.get('backing'):
                    _add_child(usage, model['backing']['path'], model['path'])
            return
        if not pool.isActive():
            return
        for vol in _libvirt.call('list the volumes of pool %s' % pool.name(), pool.listAllVolumes, 0):
            try:
                element = _xml.parse(vol.XMLDesc(0))
            except libvirt.libvirtError:
                continue  # gone while we looked
            for parent in backing_paths(element):
                _add_child(usage, parent, element.findtext('target/path'))

    # Guests and pools another client removes while we read them use nothing any more.
    _libvirt.each_present(_libvirt.call('list guests', conn.listAllDomains, 0), read_guest)
    _libvirt.each_present(_libvirt.call('list storage pools', conn.listAllStoragePools, 0), read_pool)
    return usage


def _add_child(usage, parent, child):
    kids = usage.children.setdefault(parent, [])
    if child not in kids:
        kids.append(child)
