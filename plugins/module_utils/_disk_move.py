# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Moving one disk of a running guest: argument spec, request, planner.  Pure.

A move is a block copy: qemu mirrors the disk to the new image while the guest goes on
writing, libvirt reports the mirror ready, and a pivot switches the guest over.  Until the
pivot the guest writes to its original image, so a failed or cancelled copy leaves it
there.  The persistent definition follows after the pivot (libvirt runs the copy of a
persistent guest as a transient job).  A native gluster pool's volume becomes a
``protocol='gluster'`` network disk (_volume_disk).
"""

from __future__ import annotations

import os

from ansible_collections.kvm.storage.plugins.module_utils import _volume_disk
from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name, is_target
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan
from ansible_collections.kvm.storage.plugins.module_utils._size import SizeError, format_size, parse_size

FORMATS = ['raw', 'qcow2']
# Pool types whose volumes are files in the pool's folder (a copy can be written there).
FILE_POOLS = ('dir', 'fs', 'netfs')


def argument_spec():
    return dict(
        domain=dict(type='str', required=True),
        target=dict(type='str', required=True),
        to=dict(type='dict', required=True, options=dict(
            pool=dict(type='str'),
            name=dict(type='str'),
            path=dict(type='path'),
            format=dict(type='str', choices=FORMATS),
        ), mutually_exclusive=[('pool', 'path'), ('name', 'path')], required_one_of=[('pool', 'path')]),
        flatten=dict(type='bool', default=False),
        remove_source=dict(type='bool', default=False),
        timeout=dict(type='int', default=3600),
        bandwidth=dict(type='str'),
    )


class Request(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


def request_from_params(p):
    domain = check_name('guest', p['domain'])
    label = 'guest %s' % domain
    target = p['target']
    if not is_target(target):
        raise KvmStorageError('%s: target %r must be a disk target such as vda or sdb' % (label, target))
    to = p['to']
    name = check_name('volume', to['name']) if to.get('name') is not None else None
    if to.get('path') is not None and not os.path.isabs(to['path']):
        raise KvmStorageError('%s: to.path %s must be an absolute path' % (label, to['path']))
    if p.get('timeout') is not None and p['timeout'] <= 0:
        raise KvmStorageError('%s: timeout must be a positive number of seconds' % label)
    bandwidth = None
    if p.get('bandwidth') not in (None, ''):
        try:
            bandwidth = parse_size(p['bandwidth'], 'bandwidth')
        except SizeError as exc:
            raise KvmStorageError('%s: %s (bytes per second, such as 64MiB)' % (label, exc))
        if bandwidth == 0:
            bandwidth = None   # 0 is libvirt's "no limit"
    return Request(domain=domain, target=target, pool=to.get('pool'), name=name, path=to.get('path'),
                   format=to.get('format'), flatten=bool(p.get('flatten')), remove_source=bool(p.get('remove_source')),
                   timeout=p.get('timeout') or 3600, bandwidth=bandwidth, label=label)


class PoolFacts(object):
    """The destination pool: its type and folder, for gluster its source (a _volume.PoolView
    serves _volume_disk)."""

    def __init__(self, name, type, folder=None, active=True, view=None):
        self.name = name
        self.type = type
        self.folder = folder
        self.active = active
        self.view = view


class MoveFacts(object):
    def __init__(self, name, active, disk=None, persistent=True, config_top=None, capacity=None, job=False,
                 pool=None, existing=None, sharing=None, disk_names=None, folders=None, owner=None, mirror=None):
        self.name = name
        self.active = active
        self.disk = disk              # _disk_snapshot.DiskFacts of the live disk
        self.persistent = persistent
        self.config_top = config_top  # the image the persistent definition names for the disk
        self.capacity = capacity      # the disk's virtual size in bytes
        self.job = job                # a block job already runs on the disk
        self.mirror = mirror          # the destination of the block copy that runs on the disk (None: none)
        self.pool = pool              # PoolFacts of to.pool
        self.existing = existing or set()
        self.sharing = sharing or {}  # path -> who else uses it (words)
        self.disk_names = disk_names or []
        self.folders = folders        # the destination's folder when it exists (None: not asked)
        self.owner = owner            # (uid, gid) the guest's qemu runs as (libvirt's dac label)


def _folder(path):
    return os.path.dirname(path) if path and '://' not in path else None


def destination(req, facts):
    """(kind, where, disk source) of the copy: ('file', path, {'file': path}) or
    ('network', url, {'network': ...}) for a native gluster pool."""
    disk = facts.disk
    name = req.name
    if name is None and disk is not None and disk.top:
        stem = os.path.basename(disk.top.split('://', 1)[-1])
        base, ext = os.path.splitext(stem)
        fmt = req.format or disk.chain[0]['format']
        name = base + ('.' + fmt if ext in ('.qcow2', '.raw', '.img', '') else ext)
    if req.path is not None:
        return 'file', req.path, {'file': req.path}
    pool = facts.pool
    if pool.type in FILE_POOLS:
        path = os.path.join(pool.folder, name)
        return 'file', path, {'file': path}
    if pool.type == 'gluster':
        source = _volume_disk.disk_source(pool.view, name, None)
        hosts = pool.view.source_hosts
        url = 'gluster://%s/%s' % (hosts[0] if hosts else '', source['network']['name'])
        return 'network', url, source
    raise KvmStorageError('%s: cannot move a disk into pool %s of type %s; use a dir, fs, netfs or gluster pool, '
                          'or to.path' % (req.label, pool.name, pool.type))


def in_place(req, facts, kind, where):
    """Whether the disk is there already: in the pool (any name) or at the path."""
    top = facts.disk.top
    if req.path is not None:
        return top == where
    if kind == 'network':
        return top == where
    return _folder(top) == facts.pool.folder if facts.pool.folder else False


def plan(req, facts):
    steps = Plan()
    if facts is None:
        raise KvmStorageError('%s does not exist' % req.label)
    if not facts.active:
        raise KvmStorageError('%s is not running: disk_move copies the disk of a running guest; for a stopped guest '
                              'copy the volume (volume clone_from) and attach the copy (disk)' % req.label)
    disk = facts.disk
    if disk is None:
        raise KvmStorageError('%s has no disk %s (it has %s)'
                              % (req.label, req.target, ', '.join(facts.disk_names) or 'none'))
    if disk.device != 'disk' or not disk.top:
        raise KvmStorageError('%s: %s is a %s without an image; only disks with an image can be moved'
                              % (req.label, req.target, disk.device))
    if req.pool is not None and facts.pool is None:
        raise KvmStorageError('%s: pool %s does not exist' % (req.label, req.pool))
    if req.pool is not None and not facts.pool.active:
        raise KvmStorageError('%s: pool %s is not running; start it first' % (req.label, req.pool))
    kind, where, source = destination(req, facts)
    current = disk.chain[0]['format']
    fmt = req.format or current
    if in_place(req, facts, kind, where):
        if req.format is not None and req.format != current:
            raise ConflictError('%s: disk %s is in %s already, as %s; a move does not convert it in place (move it '
                                'elsewhere as %s)' % (req.label, req.target, req.pool or where, current, req.format))
        if facts.persistent and facts.config_top != disk.top:
            # a run that stopped after its pivot: the running guest is there, its definition not
            steps.add('persist', 'point the persistent definition of disk %s of guest %s at %s' % (
                req.target, req.domain, disk.top), target=req.target, from_live=True)
        return steps
    backing = len(disk.chain) > 1
    if facts.job and facts.mirror is not None and facts.mirror == where:
        # A copy to this very destination runs already: a run cut off before its pivot (the
        # module or libvirtd killed; qemu goes on mirroring). It is finished, not started again.
        steps.add('finish_copy', 'finish the copy of disk %s of guest %s to %s that an interrupted run began, and '
                  'switch the guest to it once the copy is in step' % (req.target, req.domain, where),
                  target=req.target, kind=kind, where=where, format=fmt, timeout=req.timeout)
        _plan_after_copy(steps, req, facts, kind, where, source, fmt)
        return steps
    if facts.job:
        raise KvmStorageError('%s: a block job runs on disk %s already%s; wait for it to end (virsh blockjob %s %s)'
                              % (req.label, req.target, ' (a copy to %s)' % facts.mirror if facts.mirror else '',
                                 req.domain, req.target))
    if backing and not req.flatten and fmt != 'qcow2':
        raise KvmStorageError('%s: disk %s has a backing chain, which a %s image cannot keep; set flatten: true or '
                              'format qcow2' % (req.label, req.target, fmt))
    if kind == 'file' and facts.folders is not None and os.path.dirname(where) not in facts.folders:
        raise KvmStorageError('%s: cannot move disk %s to %s: folder %s does not exist; create it first'
                              % (req.label, req.target, where, os.path.dirname(where)))
    if where in facts.existing:
        raise KvmStorageError('%s: cannot move disk %s to %s: that image exists already; remove it or name another'
                              % (req.label, req.target, where))
    if kind == 'network':
        steps.add('create_network', 'create image %s (%s, %d bytes) for the copy' % (where, fmt, facts.capacity or 0),
                  url=where, format=fmt, capacity=facts.capacity, owner=facts.owner, pool=req.pool,
                  name=where.rsplit('/', 1)[-1],
                  backing=disk.chain[1] if backing and not req.flatten else None)
    text = 'copy disk %s of guest %s to %s (%s, %s%s) and switch the guest to it once the copy is in step' % (
        req.target, req.domain, where, fmt, 'flattened: whole backing chain copied' if req.flatten or not backing
        else 'top image only, backing chain kept', ', at most %s/s' % format_size(req.bandwidth) if req.bandwidth
        else '')
    steps.add('copy', text, target=req.target, kind=kind, source=source, format=fmt,
              shallow=backing and not req.flatten, reuse=kind == 'network', where=where, timeout=req.timeout,
              bandwidth=req.bandwidth)
    _plan_after_copy(steps, req, facts, kind, where, source, fmt)
    return steps


def _plan_after_copy(steps, req, facts, kind, where, source, fmt):
    """The persistent definition and the former image, once the guest runs on the copy."""
    disk = facts.disk
    if facts.persistent:
        steps.add('persist', 'point the persistent definition of disk %s of guest %s at %s' % (
            req.target, req.domain, where), target=req.target, from_live=False, kind=kind, source=source, format=fmt,
            pool=req.pool if kind == 'file' and req.path is None else None,
            name=os.path.basename(where) if kind == 'file' else None)
    if req.remove_source:
        old = disk.top
        if '://' in old or disk.kind == 'block':
            steps.warnings.append('the former image %s of disk %s is kept: only image files are removed' % (
                old, req.target))
        elif facts.sharing.get(old):
            steps.warnings.append('the former image %s of disk %s is kept: %s also use%s it' % (
                old, req.target, facts.sharing[old], '' if ',' in facts.sharing[old] else 's'))
        else:
            steps.add('remove_source', 'remove the former image %s' % old, path=old)


def diff_form(req, facts, steps):
    """before/after: where the disk's image is."""
    before = {'target': req.target, 'image': facts.disk.top if facts and facts.disk else None,
              'format': facts.disk.chain[0]['format'] if facts and facts.disk and facts.disk.chain else None}
    after = dict(before)
    for step in steps.steps:
        if step.verb in ('copy', 'finish_copy'):
            after.update(image=step.args['where'], format=step.args['format'])
    return {'before': before, 'after': after}
