# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""qemu-img as a command runner: argument lists, LANG=C, JSON output parsed here only."""

from __future__ import annotations

import json
import re

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

ENV = {'LANG': 'C', 'LC_ALL': 'C'}


# gfapi (qemu's gluster driver) logs to stderr: "[2026-11-27 14:35:37.015375 +0000] I [io-stats.c:3701:...] ...".
# Those lines bury qemu-img's own one-line reason.
_GLUSTER_LOG = re.compile(r'^\s*\[\d{4}-\d\d-\d\d [0-9:.]+ [+-]\d{4}\] [DTIWEC] \[')


def error_text(err, out=''):
    """qemu-img's complaint on one line, without the gluster library's log lines."""
    text = err or out or ''
    kept = [line for line in text.splitlines() if line.strip() and not _GLUSTER_LOG.match(line)]
    return ' '.join(' '.join(kept).split()) or ' '.join(text.split())


# qemu 7.2 as Debian 12 ships it carries "crypto: run qcrypto_pbkdf2_count_iters in a new
# thread" but not its later fix ("crypto: fix bogus error benchmarking pbkdf on fast
# machines", qemu 10.0): on a fast machine the first, short round of its PBKDF benchmark
# often reads 0 ms of CPU time, and the LUKS create fails with this message (59 of 100
# creates on one AMD EPYC host). It fails before the image is written and libvirt removes
# the file it made, so the create is repeated; a round that measures anything goes on.
PBKDF_FLAKE = 'Unable to get accurate CPU usage'
PBKDF_TRIES = 25


def retry_pbkdf_flake(func, *args):
    """``func(*args)``, repeated while it fails with qemu's PBKDF benchmark flake (above)."""
    tries = 1
    while True:
        try:
            return func(*args)
        except Exception as exc:  # libvirt's error or ours: the text decides
            if PBKDF_FLAKE not in str(exc) or tries >= PBKDF_TRIES:
                raise
            tries += 1


def run(module, args, doing, check=True):
    rc, out, err = module.run_command(['qemu-img'] + list(args), environ_update=ENV)
    if check and rc != 0:
        raise KvmStorageError('cannot %s: qemu-img: %s' % (doing, error_text(err, out)))
    return rc, out, err


def create_options(qcow2, preallocation=None):
    """The ``-o`` value of qemu-img create/convert for the qcow2 creation options (a dict
    with compat, cluster_size, lazy_refcounts; empty for other formats) and preallocation."""
    opts = []
    if qcow2:
        opts.append('compat=%s' % (qcow2.get('compat') or '1.1'))
        if qcow2.get('cluster_size'):
            opts.append('cluster_size=%d' % int(qcow2['cluster_size']))
        if qcow2.get('lazy_refcounts'):
            opts.append('lazy_refcounts=on')
    if preallocation and preallocation != 'sparse':
        opts.append('preallocation=%s' % preallocation)
    return ','.join(opts)


def info(module, path, doing):
    """qemu-img info as a dict; -U reads an image a running guest holds without taking its lock."""
    _rc, out, _err = run(module, ['info', '--output=json', '-U', path], doing)
    return json.loads(out)


def snapshots(module, path, doing):
    """Internal snapshots of a qcow2 image: list of dicts with id, name, date-sec, vm-state-size."""
    return info(module, path, doing).get('snapshots') or []


def lock_holder(module, path):
    """What qemu says when it cannot take ``path``'s write lock (another process, a guest on
    another host of a shared NFS or gluster FUSE pool among them, has the image open), or
    None when the lock is free.  qemu-io opens the image read-write as raw and quits: no
    byte is written, and unlike ``qemu-img info`` the open fails for readers too (a guest
    using the image as a backing file)."""
    rc, out, err = module.run_command(['qemu-io', '-f', 'raw', '-c', 'quit', path], environ_update=ENV)
    if rc == 0:
        return None
    text = error_text(err, out)
    if 'lock' not in text:
        raise KvmStorageError('cannot probe the lock of %s: qemu-io: %s' % (path, text))
    return text
