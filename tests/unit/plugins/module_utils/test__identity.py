# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Storage identity as tables: the names of one piece of storage share a key."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _identity as ident

LV_CASES = [
    ('/dev/vg0/data', ('vg0', 'data')),
    ('/dev/mapper/vg0-data', ('vg0', 'data')),
    ('/dev/mapper/my--vg-t--v', ('my-vg', 't-v')),
    ('/dev/disk/by-id/dm-name-vg0-thin1', ('vg0', 'thin1')),
    ('/dev/disk/by-id/dm-name-my--vg-a', ('my-vg', 'a')),
    ('/dev//vg0/./data', ('vg0', 'data')),
    ('/dev/mapper/control', None),
    ('/dev/sda', None),
    ('/dev/disk/by-path/ip-1-lun-1', None),
    ('/dev/loop/0', None),
    ('/var/lib/libvirt/images/a.qcow2', None),
]


@pytest.mark.parametrize('path, expected', LV_CASES)
def test_lv_of_name(path, expected):
    assert ident.lv_of_name(path) == expected


NET_CASES = [
    ('gluster://127.0.0.1/gv0/a.qcow2', ('net', 'gluster', 'gv0/a.qcow2')),
    ('gluster://other:24007/gv0//a.qcow2', ('net', 'gluster', 'gv0/a.qcow2')),
    ('gluster://-/gv0/a.qcow2', ('net', 'gluster', 'gv0/a.qcow2')),
    ('/dev/disk/by-path/ip-127.0.0.1:3260-iscsi-iqn.2026-11.test:s1-lun-1', ('net', 'iscsi', 'iqn.2026-11.test:s1/1')),
    ('iscsi://-/iqn.2026-11.test:s1/1', ('net', 'iscsi', 'iqn.2026-11.test:s1/1')),
    ('/var/lib/libvirt/images/a.qcow2', None),
]


@pytest.mark.parametrize('path, expected', NET_CASES)
def test_network_key_of_path(path, expected):
    assert ident.network_key_of_path(path) == expected


class _St(object):
    def __init__(self, mode, dev=0, ino=0, rdev=0):
        self.st_mode, self.st_dev, self.st_ino, self.st_rdev = mode, dev, ino, rdev


# A fake machine: /var/lib/libvirt/images -> /srv/big/images; an active LV vg0/data on dm-3.
FILES = {
    '/srv/big/images/web.qcow2': _St(stat.S_IFREG, 2049, 77),
    '/srv/hard.qcow2': _St(stat.S_IFREG, 2049, 77),
    '/dev/dm-3': _St(stat.S_IFBLK, rdev=os.makedev(253, 3)),
}
LINKS = {'/var/lib/libvirt/images': '/srv/big/images', '/dev/vg0/data': '/dev/dm-3',
         '/dev/mapper/vg0-data': '/dev/dm-3', '/dev/disk/by-id/dm-name-vg0-data': '/dev/dm-3'}


def _realpath(path):
    for link, real in LINKS.items():
        if path == link or path.startswith(link + '/'):
            return real + path[len(link):]
    return path


def _stat(path):
    real = _realpath(path)
    if real not in FILES:
        raise OSError(2, 'No such file or directory')
    return FILES[real]


def keys(path, local=True):
    return ident.keys(path, local=local, stat=_stat, realpath=_realpath)


SAME_CASES = [
    # (id, name a, name b, same storage?)
    ('symlinked folder', '/var/lib/libvirt/images/web.qcow2', '/srv/big/images/web.qcow2', True),
    ('double slash', '/var/lib/libvirt//images/web.qcow2', '/srv/big/images/web.qcow2', True),
    ('dot segment', '/var/lib/libvirt/./images/web.qcow2', '/var/lib/libvirt/images/web.qcow2', True),
    ('dot-dot', '/var/lib/libvirt/images/../images/web.qcow2', '/srv/big/images/web.qcow2', True),
    ('hard link', '/srv/hard.qcow2', '/var/lib/libvirt/images/web.qcow2', True),
    ('missing file through the link', '/var/lib/libvirt/images/new.qcow2', '/srv/big/images/new.qcow2', True),
    ('LV and its mapper name', '/dev/vg0/data', '/dev/mapper/vg0-data', True),
    ('LV and its dm node', '/dev/dm-3', '/dev/vg0/data', True),
    ('LV and its by-id name', '/dev/disk/by-id/dm-name-vg0-data', '/dev/mapper/vg0-data', True),
    ('inactive LV by its names', '/dev/disk/by-id/dm-name-vg0-thin1', '/dev/vg0/thin1', True),
    ('inactive LV, escaped dashes', '/dev/mapper/my--vg-thin', '/dev/my-vg/thin', True),
    ('gluster through two servers', 'gluster://a/gv0/x.qcow2', 'gluster://b:24007/gv0/x.qcow2', True),
    ('other file', '/srv/big/images/web.qcow2', '/srv/big/images/db.qcow2', False),
    ('other LV', '/dev/vg0/data', '/dev/vg0/thin1', False),
    ('other gluster volume', 'gluster://a/gv0/x.qcow2', 'gluster://a/gv1/x.qcow2', False),
]


@pytest.mark.parametrize('case_id, a, b, same', SAME_CASES, ids=[c[0] for c in SAME_CASES])
def test_same_storage(case_id, a, b, same):
    assert bool(keys(a) & keys(b)) == same


def test_remote_names_are_only_normalised():
    # On a remote URI the names are not this machine's: no stat, no symlinks followed.
    assert keys('/var/lib/libvirt//images/./web.qcow2', local=False) == frozenset(
        [('path', '/var/lib/libvirt/images/web.qcow2')])
    assert not keys('/var/lib/libvirt/images/web.qcow2', local=False) & keys('/srv/big/images/web.qcow2', local=False)


def test_lv_keys_and_uuid_names():
    uuid = 'a' * 32
    name = '/dev/disk/by-id/dm-uuid-LVM-' + 'v' * 32 + uuid
    assert ident.lv_keys('vg0', 'thin1', 'aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa') & keys(name)
    assert ident.lv_keys('vg0', 'thin1') & keys('/dev/mapper/vg0-thin1')
    assert keys('') == frozenset() and keys(None) == frozenset()
