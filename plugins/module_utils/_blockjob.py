# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What disk_snapshot and disk_move share on the libvirt side: a guest's disks with their
whole backing chains, block jobs (wait for ready or done, pivot, cancel) and the
persistent definition brought in line after a job that libvirt ran on the live guest only.
"""

from __future__ import annotations

import os
import time

from ansible_collections.kvm.storage.plugins.module_utils import _disk_xml
from ansible_collections.kvm.storage.plugins.module_utils import _image_header
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._disk_snapshot import DiskFacts
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

libvirt = _libvirt.libvirt

# How often a block job's progress is asked for while waiting (a poll for the condition,
# not a wait for a time).
POLL = 0.2
AGENT_CHANNEL = 'org.qemu.guest_agent.0'


def real(path, local):
    """One spelling per file (symlinks resolved) so chains compare by string."""
    if path and local and '://' not in path:
        return os.path.realpath(path)
    return path


def _network_path(src):
    hosts = src.findall('host')
    host = hosts[0].get('name') if hosts else ''
    return '%s://%s/%s' % (src.get('protocol'), host, (src.get('name') or '').lstrip('/'))


def _source_path(kind, src, conn, local):
    if src is None:
        return None
    if kind == 'file':
        return real(src.get('file'), local)
    if kind == 'block':
        return real(src.get('dev'), local)
    if kind == 'volume':
        try:
            return real(conn.storagePoolLookupByName(src.get('pool')).storageVolLookupByName(
                src.get('volume')).path(), local)
        except libvirt.libvirtError:
            return None
    if kind == 'network':
        return _network_path(src)
    return None


def disk_chain(conn, disk, local, with_xml_chain):
    """[{'path', 'format'}] from the image the guest writes to down to the base: from the
    ``<backingStore>`` libvirt writes into a running guest's XML, else from the headers."""
    kind = disk.get('type')
    src = disk.find('source')
    top = _source_path(kind, src, conn, local)
    if top is None:
        return []
    driver = disk.find('driver')
    chain = [{'path': top, 'format': driver.get('type') if driver is not None else None}]
    store = disk.find('backingStore')
    if with_xml_chain and store is not None and store.get('type'):
        while store is not None and store.get('type'):
            fmt = store.find('format')
            target = disk.find('target')
            chain.append({'path': _source_path(store.get('type'), store.find('source'), conn, local),
                          'format': fmt.get('type') if fmt is not None else None,
                          # libvirt's name for a layer in block jobs: vda[2]
                          'ref': '%s[%s]' % (target.get('dev'), store.get('index'))
                          if store.get('index') and target is not None else None})
            store = store.find('backingStore')
        return chain
    if local and kind in ('file', 'block', 'volume'):
        walked = _image_header.chain(top)
        for index in range(1, len(walked)):
            header = walked[index - 1][1] or {}
            chain.append({'path': real(walked[index][0], local), 'format': header.get('backing_format')
                          or (walked[index][1] or {}).get('format')})
    return chain


class GuestDisks(object):
    def __init__(self, dom, name, active, persistent, element, config_element):
        self.dom = dom
        self.name = name
        self.active = active
        self.persistent = persistent
        self.element = element                # live XML when running, else the definition
        self.config_element = config_element  # the persistent definition (None: transient)
        self.disks = []
        self.agent = False


def read_guest(conn, name, local):
    """The guest's disks (DiskFacts with chains) from its running XML, or its definition
    when stopped; None when there is no such guest."""
    try:
        dom = conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if _libvirt.is_not_found(exc):
            return None
        raise _libvirt.translate(exc, 'look up guest %s' % name)
    active = bool(_libvirt.call('read guest %s' % name, dom.isActive))
    persistent = bool(_libvirt.call('read guest %s' % name, dom.isPersistent))
    config = _xml.parse(_libvirt.call('read guest %s' % name, dom.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)) \
        if persistent else None
    element = _xml.parse(_libvirt.call('read guest %s' % name, dom.XMLDesc, 0)) if active else config
    guest = GuestDisks(dom, name, active, persistent, element, config)
    for disk in element.findall('devices/disk'):
        target = disk.find('target')
        if target is None:
            continue
        guest.disks.append(DiskFacts(target.get('dev'), device=disk.get('device', 'disk'),
                                     readonly=disk.find('readonly') is not None, kind=disk.get('type'),
                                     chain=disk_chain(conn, disk, local, active)))
    for channel in element.findall('devices/channel'):
        target = channel.find('target')
        if target is not None and target.get('name') == AGENT_CHANNEL and target.get('state') == 'connected':
            guest.agent = True
    return guest


def disk_element(element, target):
    for disk in element.findall('devices/disk'):
        t = disk.find('target')
        if t is not None and t.get('dev') == target:
            return disk
    return None


def mirror_path(mirror, conn, local):
    """The destination of a block copy from the ``<mirror>`` element libvirt puts into a
    running guest's disk while the copy runs (libvirt 9 spells it as a ``<source>``; old
    ones as a ``file`` attribute)."""
    if mirror.get('file'):
        return real(mirror.get('file'), local)
    return _source_path(mirror.get('type') or 'file', mirror.find('source'), conn, local)


def live_top(dom, target, conn, local):
    element = _xml.parse(_libvirt.call('read guest', dom.XMLDesc, 0))
    disk = disk_element(element, target)
    if disk is None:
        return None
    return _source_path(disk.get('type'), disk.find('source'), conn, local)


def mirror_ready(element, target):
    """Whether libvirt itself holds the block job on ``target`` ready to pivot: the running
    guest's disk has ``<mirror ready='yes'>``.  libvirt sets it when it has handled qemu's
    READY event, which can come after a query of the job already says cur == end (one CI
    run pivoted in that gap under load: "block job ... not ready for pivot yet")."""
    disk = disk_element(element, target)
    mirror = disk.find('mirror') if disk is not None else None
    return mirror is not None and mirror.get('ready') == 'yes'


def wait_job(dom, target, timeout, doing, until_ready):
    """Wait until the block job on ``target`` is ready to pivot (``until_ready``) or has
    ended.  Ready: libvirt reports cur == end (only once qemu says the job is ready: it
    keeps end one ahead before) and has marked the disk's mirror ready, which is what its
    pivot checks; both are polled, no event loop.  Returns whether the job is still there
    (ready) or gone (ended, successfully or not: the caller checks the result)."""
    deadline = time.time() + timeout
    while True:
        info = _libvirt.call(doing, dom.blockJobInfo, target, 0)
        if not info:
            return False
        if (until_ready and info.get('end', 0) > 0 and info.get('cur') == info.get('end')
                and mirror_ready(_xml.parse(_libvirt.call(doing, dom.XMLDesc, 0)), target)):
            return True
        if time.time() >= deadline:
            cancel(dom, target)
            raise KvmStorageError('cannot %s: the block job did not %s within %d s; it was cancelled and the guest '
                                  'stays on its image - raise timeout and re-run' % (
                                      doing, 'get ready' if until_ready else 'finish', timeout))
        time.sleep(POLL)


def cancel(dom, target):
    """Abort a block job without pivoting: the guest keeps writing to its original image."""
    try:
        dom.blockJobAbort(target, 0)
    except libvirt.libvirtError:
        pass


def pivot(dom, target, doing):
    _libvirt.call(doing, dom.blockJobAbort, target, libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)


def set_config_source(conn, dom, target, new_disk, doing):
    """Point the persistent definition's disk ``target`` at the source of ``new_disk`` (a
    ``<disk>`` element: its type, driver format and source), unless it already does.
    libvirt changes only the running guest for some jobs (a blockcopy of a persistent
    guest runs as a transient job)."""
    if not _libvirt.call(doing, dom.isPersistent):
        return False
    config = _xml.parse(_libvirt.call(doing, dom.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE))
    disk = disk_element(config, target)
    if disk is None:
        return False
    # a copy of the source without what libvirt adds to a running guest's XML
    new_src = _xml.parse(_xml.to_string(new_disk.find('source'), pretty=False))
    new_src.attrib.pop('index', None)
    for child in new_src.findall('privateData'):
        new_src.remove(child)
    new_driver = new_disk.find('driver')
    old_src = disk.find('source')
    same = (disk.get('type') == new_disk.get('type') and old_src is not None
            and _xml.canonical(old_src, drop=('privateData',)) == _xml.canonical(new_src, drop=('privateData',))
            and (disk.find('driver') is None or new_driver is None
                 or disk.find('driver').get('type') == new_driver.get('type')))
    if same:
        return False
    disk.set('type', new_disk.get('type'))
    for child in disk.findall('source') + disk.findall('backingStore'):
        disk.remove(child)
    source = new_src
    driver = disk.find('driver')
    if driver is not None and new_driver is not None and new_driver.get('type'):
        driver.set('type', new_driver.get('type'))
        driver.addnext(source)
    else:
        disk.insert(0, source)
    _libvirt.call(doing, conn.defineXML, _xml.to_string(config, pretty=False))
    return True


def file_disk(path, fmt):
    """A ``<disk type='file'>`` element naming ``path`` in format ``fmt``."""
    return _disk_xml.build({'device': 'disk', 'format': fmt, 'source': {'file': path}, 'target': 'x', 'bus': 'virtio'})


def refresh_pools(conn, folders, local, names=()):
    """Running pools whose folder is one of ``folders`` (or whose name is in ``names``) list
    their volumes again: a job made or removed image files there behind libvirt's back."""
    folders = set(real(f, local) for f in folders)
    if not folders and not names:
        return
    try:
        pools = _libvirt.call('list storage pools', conn.listAllStoragePools, 0)
    except KvmStorageError:
        # libvirtd gone (the run fails on that already, with its own words): the pools list
        # the images at their next refresh
        return
    for pool in pools:
        try:
            if not pool.isActive():
                continue
            folder = _xml.parse(pool.XMLDesc(0)).findtext('target/path')
            if pool.name() in names or folder and real(folder, local) in folders:
                pool.refresh(0)
        except libvirt.libvirtError:
            pass   # a pool that went away or cannot refresh now lists them at its next refresh
