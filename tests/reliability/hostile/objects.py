# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab objects of the hostile-input and concurrency tests (prefix ``kvmst-rel-h-``), made
and removed with libvirt's own API, not with the modules under test."""

from __future__ import annotations

import os
import shutil
import subprocess

import libvirt

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PREFIX = 'kvmst-rel-h-'
BASE = '/var/tmp/kvmst-rel-h'
# What these helpers may make and remove: the reliability tier's objects. The hostile-input
# tests own PREFIX and count every pool with it as theirs, so the tests that run beside them
# on the other xdist worker (test_concurrency.py) name theirs otherwise.
OURS = 'kvmst-rel-'
OURS_BASE = '/var/tmp/kvmst-rel-'


def connect():
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    return libvirt.open('qemu:///system')


def dir_pool(conn, name, path):
    """A running dir pool ``name`` at ``path`` (made fresh)."""
    assert name.startswith(OURS)
    remove_pool(conn, name)
    os.makedirs(path, exist_ok=True)
    pool = conn.storagePoolDefineXML("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
                                     % (name, path), 0)
    pool.create(0)
    return pool


def add_volume(pool, name, capacity=1 << 20, fmt='raw'):
    return pool.createXML("<volume><name>%s</name><capacity>%d</capacity><target><format type='%s'/></target>"
                          "</volume>" % (name, capacity, fmt), 0)


def remove_pool(conn, name):
    """Stop and undefine pool ``name`` (ours only) and delete its volumes and directory."""
    assert name.startswith(OURS)
    try:
        pool = conn.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        return
    path = None
    try:
        if pool.isActive():
            pool.refresh(0)
            for vol in pool.listAllVolumes(0):
                vol.delete(0)
            path = libvirt_path(pool)
            pool.destroy()
        else:
            path = libvirt_path(pool)
    finally:
        pool.undefine()
    if path and path.startswith(OURS_BASE):
        shutil.rmtree(path, ignore_errors=True)


def libvirt_path(pool):
    desc = pool.XMLDesc(0)
    start = desc.find('<path>')
    return desc[start + 6:desc.find('</path>', start)] if start >= 0 else None


def our_pools(conn):
    return sorted(p.name() for p in conn.listAllStoragePools(0) if p.name().startswith(PREFIX))


def guest_xml(name, root_ports=6):
    env = dict(os.environ, KVMST_GUEST_ROOT_PORTS=str(root_ports))
    return subprocess.run(['bash', os.path.join(REPO, 'lab', 'guest', 'domain-xml.sh'), name], env=env,
                          capture_output=True, text=True, check=True).stdout


def define_guest(conn, name, root_ports=6):
    assert name.startswith(OURS)
    remove_guest(conn, name)
    return conn.defineXML(guest_xml(name, root_ports))


def remove_guest(conn, name):
    assert name.startswith(OURS)
    try:
        dom = conn.lookupByName(name)
    except libvirt.libvirtError:
        return
    if dom.isActive():
        dom.destroy()
    dom.undefine()


def our_secrets(conn, extra_uuids=()):
    """UUIDs of secrets this test made: usage id or description with our prefix, or a UUID it used."""
    found = []
    for sec in conn.listAllSecrets(0):
        desc = sec.XMLDesc(0)
        if PREFIX in (sec.usageID() or '') or PREFIX in desc or sec.UUIDString() in extra_uuids:
            found.append(sec.UUIDString())
    return sorted(found)


def remove_secrets(conn, uuids):
    for uuid in uuids:
        try:
            conn.secretLookupByUUIDString(uuid).undefine()
        except libvirt.libvirtError:
            pass
