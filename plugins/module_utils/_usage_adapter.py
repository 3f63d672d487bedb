# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reads who uses which storage on the host into a _usage.Usage: one listing of the guests,
one of the pools (and one per pool of its volumes), image headers for backing chains."""

from __future__ import annotations

import os

from ansible_collections.kvm.storage.plugins.module_utils import _identity
from ansible_collections.kvm.storage.plugins.module_utils import _image_header
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._usage import (
    Usage, backing_paths, source_path, xml_backing_chain)


def read_usage(conn, known_pools=None):
    """The Usage of the whole host: every disk of every guest (live and persistent
    definitions) down its whole backing chain, and every volume of every pool, running or
    not, with its backing chain.  ``known_pools`` maps pool names to the volume models
    already read (name -> model), so those pools are not read twice.

    On a local URI the names are this machine's files: identity comes from the files
    themselves (stat) and chains from the image headers, so a chain libvirt does not
    write out (persistent definitions, stopped pools, images outside any pool) is still
    seen.  On a remote URI only what libvirt reports, by spelling."""
    libvirt = _libvirt.libvirt
    local = _libvirt.is_local(conn)
    usage = Usage(keys_of=lambda path: _identity.keys(path, local=local))
    known_pools = known_pools or {}
    volume_paths = {}
    for pool_name, models in known_pools.items():
        for name, model in models.items():
            volume_paths[(pool_name, name)] = model.get('path')
    pool_targets = {}

    def chain_below(path, listed):
        """Backing files of ``path``: the header chain (local), else what libvirt listed."""
        if local and path and '://' not in path:
            names = [p for p, _header in _image_header.chain(path)][1:]
            if names:
                return names
        return listed

    def resolve(pool, vol):
        key = (pool, vol)
        if key not in volume_paths:
            try:
                volume_paths[key] = conn.storagePoolLookupByName(pool).storageVolLookupByName(vol).path()
            except libvirt.libvirtError:
                # a stopped pool lists no volumes: its folder still says where they are
                target = pool_targets.get(pool)
                volume_paths[key] = os.path.join(target, vol) if target else None
        return volume_paths[key]

    def read_guest(dom):
        name = dom.name()
        xmls = []
        if dom.isActive():
            xmls.append((True, _libvirt.call('read guest %s' % name, dom.XMLDesc, 0)))
        if dom.isPersistent():
            xmls.append((False, _libvirt.call('read guest %s' % name, dom.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)))
        for live, text in xmls:
            for disk in _xml.parse(text).findall('devices/disk'):
                kind, source = disk.get('type'), disk.find('source')
                if source is None:
                    continue
                if kind == 'volume':
                    top = resolve(source.get('pool'), source.get('volume'))
                else:
                    top = source_path(kind, source)
                if top:
                    usage.add_guest_chain(name, live, [top] + chain_below(top, xml_backing_chain(disk)))

    def read_pool(pool):
        element = _xml.parse(_libvirt.call('read pool %s' % pool.name(), pool.XMLDesc, 0))
        target = element.findtext('target/path')
        pool_targets[pool.name()] = target
        if pool.name() in known_pools:
            for model in known_pools[pool.name()].values():
                listed = [model['backing']['path']] if model.get('backing') else []
                usage.add_volume_chain([model['path']] + chain_below(model['path'], listed))
            return
        if not pool.isActive():
            # libvirt lists no volumes of a stopped pool; a dir pool's images are still
            # there, and an overlay among them still needs its backing file.
            if local and element.get('type') == 'dir' and target and os.path.isdir(target):
                for entry in sorted(os.listdir(target)):
                    path = os.path.join(target, entry)
                    if os.path.isfile(path):
                        usage.add_volume_chain([path] + chain_below(path, []))
            return
        for vol in _libvirt.call('list the volumes of pool %s' % pool.name(), pool.listAllVolumes, 0):
            try:
                vol_element = _xml.parse(vol.XMLDesc(0))
            except libvirt.libvirtError:
                continue  # gone while we looked
            path = vol_element.findtext('target/path')
            usage.add_volume_chain([path] + chain_below(path, backing_paths(vol_element)))

    # Pools first: a stopped pool's folder tells where its volumes are for the guests.
    # Guests and pools another client removes while we read them use nothing any more.
    _libvirt.each_present(_libvirt.call('list storage pools', conn.listAllStoragePools, 0), read_pool)
    _libvirt.each_present(_libvirt.call('list guests', conn.listAllDomains, 0), read_guest)
    return usage
