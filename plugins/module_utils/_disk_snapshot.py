# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""External disk-only snapshots of a guest: argument spec, request, planner.  Pure.

A snapshot puts a new qcow2 overlay on top of each chosen disk; the image below it
freezes (that is the snapshot) and the guest writes into the overlay.  Deleting the
snapshot merges the overlay back into the image below (blockcommit and pivot while the
guest runs, ``qemu-img commit`` when it is stopped: libvirt 9.0 cannot delete external
snapshots itself), then drops libvirt's record and the overlay file.  Reverting (stopped
guests only) empties the overlay again.

The facts (GuestFacts) come from _disk_snapshot_adapter; every decision and refusal is
made here, so check mode and a real run take the same steps.
"""

from __future__ import annotations

import os

from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name, check_targets
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan

STATES = ['present', 'absent', 'reverted', 'listed']


def argument_spec():
    return dict(
        domain=dict(type='str', required=True),
        name=dict(type='str'),
        state=dict(type='str', default='present', choices=STATES),
        disks=dict(type='list', elements='str'),
        pool=dict(type='str'),
        path=dict(type='path'),
        quiesce=dict(type='bool', default=False),
        description=dict(type='str'),
        timeout=dict(type='int', default=600),
    )


MUTUALLY_EXCLUSIVE = [('pool', 'path')]
REQUIRED_IF = [('state', 'present', ['name']), ('state', 'absent', ['name']), ('state', 'reverted', ['name'])]


class Request(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


def request_from_params(p):
    domain = check_name('guest', p['domain'])
    name = check_name('snapshot', p['name']) if p.get('name') is not None else None
    label = 'guest %s' % domain
    disks = check_targets(label, p.get('disks'))
    if p.get('path') is not None and not os.path.isabs(p['path']):
        raise KvmStorageError('%s: path %s must be an absolute folder' % (label, p['path']))
    if p.get('timeout') is not None and p['timeout'] <= 0:
        raise KvmStorageError('%s: timeout must be a positive number of seconds' % label)
    return Request(domain=domain, name=name, state=p['state'], disks=disks, pool=p.get('pool'),
                   path=p.get('path'), quiesce=bool(p.get('quiesce')), description=p.get('description'),
                   timeout=p.get('timeout') or 600, label=label)


# -- facts ------------------------------------------------------------------------------

class DiskFacts(object):
    """One disk of the guest as the planner sees it: ``chain`` is the images from the one
    the guest writes to (first) down to the base, each ``{'path', 'format'}`` (path None
    for network storage)."""

    def __init__(self, target, device='disk', readonly=False, kind='file', chain=None):
        self.target = target
        self.device = device
        self.readonly = readonly
        self.kind = kind
        self.chain = chain or []

    @property
    def top(self):
        return self.chain[0]['path'] if self.chain else None


class SnapshotFacts(object):
    """A libvirt snapshot record: ``disks`` maps targets to the overlay (external) or None."""

    def __init__(self, name, disks=None, created=None, external=True, description=None):
        self.name = name
        self.disks = disks or {}
        self.created = created
        self.external = external
        self.description = description


class GuestFacts(object):
    def __init__(self, name, active, disks=None, snapshots=None, agent=False, pool_paths=None, existing=None,
                 dirty=None, sharing=None, folders=None):
        self.name = name
        self.active = active
        self.disks = disks or []
        self.snapshots = snapshots or []
        self.agent = agent
        self.pool_paths = pool_paths or {}   # pool name -> target folder (None: pool unknown)
        self.existing = existing or set()    # paths (overlays to be) that exist already
        self.dirty = dirty or {}             # overlay path -> holds data (for reverted)
        self.sharing = sharing or {}         # image path -> who else holds it (words)
        self.folders = folders               # folders of new overlays that exist (None: not asked)

    def disk(self, target):
        for disk in self.disks:
            if disk.target == target:
                return disk
        return None

    def snapshot(self, name):
        for snap in self.snapshots:
            if snap.name == name:
                return snap
        return None


# -- planning ---------------------------------------------------------------------------

def overlay_name(domain, target, name):
    return '%s.%s.%s.qcow2' % (domain, target, name)


def chosen_disks(req, guest):
    """The disks a new snapshot covers: the listed ones, or every writable disk."""
    if req.disks is None:
        picked = [d for d in guest.disks if d.device == 'disk' and not d.readonly and d.top]
        if not picked:
            raise KvmStorageError('%s has no writable disk to snapshot' % req.label)
        network = [d.target for d in picked if d.kind == 'network']
        if network:
            raise KvmStorageError('%s: disk %s is a network disk, which gets no overlay file here; list the other '
                                  'disks in disks' % (req.label, ', '.join(network)))
        return picked
    out = []
    for target in req.disks:
        disk = guest.disk(target)
        if disk is None:
            raise KvmStorageError('%s has no disk %s (it has %s)' % (
                req.label, target, ', '.join(d.target for d in guest.disks) or 'none'))
        if disk.device != 'disk' or disk.readonly or not disk.top:
            raise KvmStorageError('%s: disk %s is a %s without writable media; only writable disks get snapshots'
                                  % (req.label, target, disk.device))
        if disk.kind == 'network':
            raise KvmStorageError('%s: disk %s is a network disk, which gets no overlay file here' % (req.label, target))
        out.append(disk)
    return out


def overlay_paths(req, guest):
    """Where the overlays of a new snapshot go: the named folder, the named pool's folder,
    or the folder of each disk's current image."""
    if req.pool is not None:
        folder = guest.pool_paths.get(req.pool)
        if folder is None:
            raise KvmStorageError('%s: pool %s does not exist or has no folder for overlay files' % (req.label, req.pool))
    out = {}
    for disk in chosen_disks(req, guest):
        where = req.path or (guest.pool_paths[req.pool] if req.pool else os.path.dirname(disk.top))
        out[disk.target] = os.path.join(where, overlay_name(req.domain, disk.target, req.name))
    return out


def _position(disk, path):
    for index, image in enumerate(disk.chain):
        if image['path'] == path:
            return index
    return None


def plan(req, guest):
    """(Plan, snapshot list after) for the request against the guest."""
    steps = Plan()
    if guest is None:
        raise KvmStorageError('%s does not exist' % req.label)
    if req.state == 'listed':
        return steps
    snap = guest.snapshot(req.name)
    if req.state == 'present':
        _plan_create(steps, req, guest, snap)
    elif req.state == 'absent':
        if snap is not None:
            _plan_delete(steps, req, guest, snap)
    else:
        _plan_revert(steps, req, guest, snap)
    return steps


def _plan_create(steps, req, guest, snap):
    if snap is not None:
        if req.disks is not None and sorted(req.disks) != sorted(t for t, f in snap.disks.items() if f):
            raise ConflictError('%s: snapshot %s exists already with disks %s; delete it first to take one of %s'
                                % (req.label, req.name, ', '.join(sorted(t for t, f in snap.disks.items() if f))
                                   or 'none', ', '.join(sorted(req.disks))))
        return
    if req.quiesce and guest.active and not guest.agent:
        raise KvmStorageError('%s: quiesce needs the QEMU guest agent, which is not connected in the guest; install '
                              'and start qemu-guest-agent there (with an org.qemu.guest_agent.0 channel) or set '
                              'quiesce: false' % req.label)
    paths = overlay_paths(req, guest)
    missing = sorted(set(os.path.dirname(p) for p in paths.values()) - guest.folders) \
        if guest.folders is not None else []
    if missing:
        raise KvmStorageError('%s: cannot take snapshot %s: folder %s for the overlays does not exist; create it '
                              'first' % (req.label, req.name, ', '.join(missing)))
    taken = sorted(p for p in paths.values() if p in guest.existing)
    if taken:
        raise KvmStorageError('%s: cannot take snapshot %s: overlay file %s exists already; remove it or choose '
                              'another snapshot name' % (req.label, req.name, ', '.join(taken)))
    if not guest.active:
        for disk in guest.disks:
            if disk.target in paths and disk.kind == 'volume':
                # libvirt 9.0 takes external snapshots of a stopped guest only on disks
                # named by path ("not supported on 'volume' disks")
                steps.add('repoint', 'name disk %s of guest %s by its path %s (libvirt snapshots a stopped guest\'s '
                          'pool volume disks only so)' % (disk.target, req.domain, disk.top),
                          target=disk.target, path=disk.top, format=disk.chain[0]['format'])
    disks = [(d.target, paths.get(d.target)) for d in guest.disks]
    words = ', '.join('%s -> %s' % (t, p) for t, p in disks if p)
    steps.add('create', 'take external snapshot %s of guest %s%s (%s)' % (
        req.name, req.domain, ' with quiesced file systems' if req.quiesce and guest.active else '', words),
        name=req.name, disks=disks, quiesce=req.quiesce and guest.active, description=req.description)


def _plan_delete(steps, req, guest, snap):
    merges, removes = [], []
    for target in sorted(snap.disks):
        overlay = snap.disks[target]
        if not overlay:
            continue
        disk = guest.disk(target)
        index = _position(disk, overlay) if disk is not None else None
        if index is not None:
            if index + 1 >= len(disk.chain) or not disk.chain[index + 1]['path']:
                raise KvmStorageError('%s: cannot delete snapshot %s: overlay %s of disk %s has no image below it '
                                      'to merge into' % (req.label, req.name, overlay, target))
            base = disk.chain[index + 1]
            others = guest.sharing.get(base['path'])
            if others:
                # Committing writes the overlay's data into the image below: anyone else
                # reading that image would see its data change under them.
                raise KvmStorageError('%s: cannot delete snapshot %s: merging overlay %s of disk %s would change %s, '
                                      'which %s also use%s; keep the snapshot' % (
                                          req.label, req.name, overlay, target, base['path'], others,
                                          '' if ',' in others else 's'))
            merges.append((target, overlay, base, index, disk))
        if overlay in guest.existing:
            if guest.sharing.get(overlay):
                steps.warnings.append('overlay %s of snapshot %s is kept: %s also use%s it' % (
                    overlay, req.name, guest.sharing[overlay], '' if ',' in guest.sharing[overlay] else 's'))
            else:
                removes.append((target, overlay))
    for target, overlay, base, index, disk in merges:
        above = disk.chain[index - 1]['path'] if index else None
        if guest.active:
            steps.add('commit_live', 'merge overlay %s of disk %s into %s (blockcommit%s)' % (
                overlay, target, base['path'], ', pivot' if index == 0 else ''),
                target=target, top=overlay, top_ref=disk.chain[index].get('ref'), base=base['path'],
                base_format=base['format'], active=index == 0,
                timeout=req.timeout)
        else:
            steps.add('commit', 'merge overlay %s of disk %s into %s (qemu-img commit)' % (
                overlay, target, base['path']),
                target=target, top=overlay, base=base['path'], base_format=base['format'])
            if above:
                steps.add('rebase', 'point %s at %s as its backing file' % (above, base['path']),
                          image=above, base=base['path'], base_format=base['format'])
            else:
                steps.add('repoint', 'point disk %s of guest %s at %s' % (target, req.domain, base['path']),
                          target=target, path=base['path'], format=base['format'])
    steps.add('forget', "delete libvirt's record of snapshot %s of guest %s" % (req.name, req.domain), name=req.name)
    for target, overlay in removes:
        steps.add('remove', 'remove overlay file %s (merged)' % overlay, path=overlay)


def _plan_revert(steps, req, guest, snap):
    if snap is None:
        raise KvmStorageError('%s has no snapshot %s to revert to' % (req.label, req.name))
    if guest.active:
        raise KvmStorageError('%s: cannot revert to snapshot %s while the guest runs; shut it down first' % (
            req.label, req.name))
    for target in sorted(snap.disks):
        overlay = snap.disks[target]
        if not overlay:
            continue
        disk = guest.disk(target)
        index = _position(disk, overlay) if disk is not None else None
        if index is None:
            raise KvmStorageError('%s: cannot revert to snapshot %s: its overlay %s is no longer in the chain of disk '
                                  '%s' % (req.label, req.name, overlay, target))
        if index > 0:
            later = [s.name for s in guest.snapshots if s.disks.get(target) in
                     [i['path'] for i in disk.chain[:index]]]
            raise KvmStorageError('%s: cannot revert to snapshot %s: later snapshot%s %s sit%s on top of it on disk %s; '
                                  'delete %s first (that merges them into it)' % (
                                      req.label, req.name, 's' if len(later) > 1 else '',
                                      ', '.join(later) or ', '.join(i['path'] for i in disk.chain[:index]),
                                      '' if len(later) > 1 else 's', target, 'them' if len(later) > 1 else 'it'))
        if not guest.dirty.get(overlay):
            continue
        base = disk.chain[1]
        steps.add('revert', 'discard what disk %s wrote since snapshot %s (empty overlay %s over %s)' % (
            target, req.name, overlay, base['path']), target=target, path=overlay, base=base['path'],
            base_format=base['format'])


def listing(guest):
    """The snapshots as the module returns them."""
    out = []
    for snap in guest.snapshots if guest is not None else []:
        out.append({'name': snap.name, 'created': snap.created, 'external': snap.external,
                    'description': snap.description,
                    'disks': [{'target': t, 'overlay': snap.disks[t]} for t in sorted(snap.disks) if snap.disks[t]]})
    return out


def predicted(req, guest, steps):
    """The listing as it will be after the steps (for diff and check mode)."""
    after = listing(guest)
    verbs = steps.verbs()
    if 'create' in verbs:
        step = steps.steps[verbs.index('create')]
        after.append({'name': req.name, 'created': None, 'external': True, 'description': req.description,
                      'disks': [{'target': t, 'overlay': p} for t, p in sorted(step.args['disks']) if p]})
    if 'forget' in verbs:
        after = [s for s in after if s['name'] != req.name]
    return after
