# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The identity of a piece of storage, whatever it is called.

Two names are the same storage when they share one key. A name gets every key that can
be known of it:

- ``('path', realpath)``: the name with symlinks, ``//`` and ``/./`` resolved (also for a
  file that does not exist, such as an image in a stopped pool);
- ``('inode', dev, ino)`` for an existing file (hard links, bind mounts);
- ``('rdev', major, minor)`` for an existing block device: every alias of one device
  (``/dev/VG/LV``, ``/dev/mapper/VG-LV``, ``/dev/dm-3``, ``/dev/disk/by-id/...``);
- ``('lv', vg, lv)`` for the names udev gives an LV, worked out from the name alone, so an
  inactive LV (no device node) is still recognised; ``('lvuuid', uuid)`` for
  ``dm-uuid-LVM-...`` names;
- ``('net', protocol, name)`` for network storage (``gluster://host/vol/image``, the
  paths libvirt gives iSCSI LUNs), host names left out: one image may be reached through
  any server of its cluster.

Over-matching is the safe side for every check that uses this (a refusal names the
holder, and ``force`` is there); under-matching loses data.  ``keys`` takes the stat and
realpath functions so the planning tests run on tables; with ``local=False`` (a remote
libvirt URI, whose files are not this machine's) only the spelling is normalised.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat as stat_mod

# /dev/<two parts> that are not /dev/<vg>/<lv>.
_NOT_VG = frozenset(('disk', 'mapper', 'block', 'char', 'bus', 'input', 'net', 'pts', 'shm', 'snd', 'dri', 'cpu',
                     'hugepages', 'mqueue', 'vfio', 'fd', 'usb', 'serial', 'hidraw', 'v4l', 'dma_heap', 'loop',
                     'md', 'cdrom', 'bsg', 'nvme-fabrics', 'vhost-net', 'zvol', 'rbd'))
_DM_NAME = re.compile(r'^((?:[^-]|--)+)-((?:[^-]|--)+)$')
_ISCSI_PATH = re.compile(r'^ip-[^:]+:\d+-iscsi-(.+)-lun-(\d+)$')
_URL = re.compile(r'^([a-z+]+)://([^/]*)/(.*)$')


def lv_of_name(path):
    """(vg, lv) when ``path`` is one of the names udev gives an LV, else None."""
    norm = posixpath.normpath(path) if path.startswith('/') else path
    for prefix in ('/dev/mapper/', '/dev/disk/by-id/dm-name-'):
        if norm.startswith(prefix):
            found = _DM_NAME.match(norm[len(prefix):])
            if found:
                return found.group(1).replace('--', '-'), found.group(2).replace('--', '-')
            return None
    parts = norm.split('/')
    if len(parts) == 4 and parts[1] == 'dev' and parts[2] not in _NOT_VG and not parts[2].startswith('.'):
        return parts[2], parts[3]
    return None


def lv_uuid_of_name(path):
    """The LV uuid (without dashes) of a ``/dev/disk/by-id/dm-uuid-LVM-...`` name."""
    prefix = '/dev/disk/by-id/dm-uuid-LVM-'
    if path.startswith(prefix) and len(path) >= len(prefix) + 64:
        return path[len(prefix) + 32:len(prefix) + 64]
    return None


def network_key(protocol, name):
    """The key of a network disk source (``protocol``, ``name`` as in the disk XML)."""
    name = (name or '').strip()
    if protocol == 'gluster':
        name = posixpath.normpath('/' + name).lstrip('/')
    return ('net', protocol, name)


def network_key_of_path(path):
    """The key of a network volume's path as libvirt lists it, else None."""
    url = _URL.match(path)
    if url and url.group(1) in ('gluster', 'rbd', 'nbd', 'http', 'https', 'iscsi', 'sheepdog'):
        return network_key(url.group(1), url.group(3))
    lun = _ISCSI_PATH.match(os.path.basename(path))
    if lun:
        return ('net', 'iscsi', '%s/%s' % (lun.group(1), lun.group(2)))
    return None


def keys(path, local=True, stat=os.stat, realpath=os.path.realpath):
    """Every key of ``path`` (see the module doc); an empty set for no path."""
    if not path:
        return frozenset()
    net = network_key_of_path(path)
    if net is not None and '://' in path:
        return frozenset([net])
    out = set()
    if net is not None:
        out.add(net)
    spelled = posixpath.normpath(path)
    out.add(('path', realpath(spelled) if local else spelled))
    lv = lv_of_name(spelled)
    if lv:
        out.add(('lv',) + lv)
    uuid = lv_uuid_of_name(spelled)
    if uuid:
        out.add(('lvuuid', uuid))
    if local:
        try:
            st = stat(spelled)
        except (IOError, OSError):
            st = None
        if st is not None:
            if stat_mod.S_ISBLK(st.st_mode):
                out.add(('rdev', os.major(st.st_rdev), os.minor(st.st_rdev)))
            elif stat_mod.S_ISREG(st.st_mode):
                out.add(('inode', st.st_dev, st.st_ino))
            # the realpath of a block alias names the device node: its own LV name
            real = realpath(spelled)
            lv = lv_of_name(real)
            if lv:
                out.add(('lv',) + lv)
    return frozenset(out)


def lv_keys(vg, lv, uuid=None):
    """The keys of an LV known by its VG and name (and uuid, when LVM reported it)."""
    out = set([('lv', vg, lv)])
    if uuid:
        out.add(('lvuuid', uuid.replace('-', '')))
    return frozenset(out)
