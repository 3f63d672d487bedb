# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal qcow2 snapshots of a volume: spec and planner (pure), plus the work function."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _qemu_img
from ansible_collections.kvm.storage.plugins.module_utils import _volume_xml
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan
from ansible_collections.kvm.storage.plugins.module_utils._usage_adapter import read_usage
from ansible_collections.kvm.storage.plugins.module_utils._volume import LOCKED_SHARED_POOLS, UNLOCKED_SHARED_POOLS


def argument_spec():
    return dict(
        pool=dict(type='str', required=True),
        volume=dict(type='str', required=True),
        name=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent', 'reverted', 'listed']),
        force=dict(type='bool', default=False),
    )


REQUIRED_IF = [('state', 'present', ['name']), ('state', 'absent', ['name']), ('state', 'reverted', ['name'])]


def plan(request, volume, snapshot_names, running_users, children, pool_type=None, locked=None):
    """Steps for one snapshot request.

    ``volume``: the volume model (format, path); ``snapshot_names``: existing snapshots;
    ``running_users``: running guests that have the image open; ``children``: volumes
    backed by it (a revert changes the data under them); ``pool_type``: its pool's type;
    ``locked``: what the lock probe said when another process (a guest on another host of
    a shared pool) holds the image open.

    ``volume`` None: check mode and the volume does not exist yet - planned as if an earlier
    task of the play created it (qcow2, no snapshots), a warning says so."""
    steps = Plan()
    label = 'volume %s of pool %s' % (request['volume'], request['pool'])
    if volume is None:
        steps.assume(label)
        volume = {'format': 'qcow2', 'path': None}
        snapshot_names = []
    if volume['format'] != 'qcow2':
        raise KvmStorageError('%s is %s; internal snapshots need qcow2' % (label, volume['format']))
    state = request['state']
    if state == 'listed':
        return steps
    name = request['name']
    exists = name in snapshot_names
    if state == 'present' and exists or state == 'absent' and not exists:
        return steps
    if state == 'reverted' and not exists:
        raise KvmStorageError('%s has no snapshot %s (it has: %s)' % (label, name, ', '.join(snapshot_names) or 'none'))
    if running_users:
        # qemu-img writing into an image a running qemu has open corrupts it.
        raise KvmStorageError('refusing to change the snapshots of %s: running guest(s) %s have it open; shut them '
                              'down first' % (label, ', '.join(running_users)), used_by=running_users)
    if locked:
        raise KvmStorageError('refusing to change the snapshots of %s: another process holds its lock (%s), a guest '
                              'on another host that shares pool %s perhaps; shut it down first'
                              % (label, locked, request['pool']), locked=True)
    if state == 'reverted' and pool_type in UNLOCKED_SHARED_POOLS and not request['force']:
        raise KvmStorageError('refusing to revert %s: a %s pool keeps no lock that would show a guest on another host '
                              'using the image, so no check here can tell; set force: true once no guest on any host '
                              'uses it' % (label, pool_type))
    if state == 'reverted' and children and not request['force']:
        raise KvmStorageError('refusing to revert %s: it is the backing file of %s, whose data would change under '
                              'them; set force: true if that is intended' % (label, ', '.join(children)),
                              backing_of=children)
    verb = {'present': 'create', 'absent': 'delete', 'reverted': 'revert'}[state]
    words = {'create': 'create snapshot %s of %s', 'delete': 'delete snapshot %s of %s',
             'revert': 'revert %s to snapshot %s'}[verb]
    text = words % ((label, name) if verb == 'revert' else (name, label))
    steps.add(verb, text, name=name, path=volume['path'])
    return steps


FLAGS = {'create': '-c', 'delete': '-d', 'revert': '-a'}


def snapshot_work(module, conn):
    p = module.params
    check_name('volume', p['volume'])
    check_name('pool', p['pool'])
    if p.get('name') is not None:
        check_name('snapshot', p['name'])
    label = 'volume %s of pool %s' % (p['volume'], p['pool'])
    if module.check_mode and p['state'] != 'listed' and _missing(conn, p['pool'], p['volume']):
        # Check mode in a play: a volume an earlier task creates does not exist yet.
        steps = plan(p, None, [], [], [])
        for warning in steps.warnings:
            module.warn(warning)
        result = {'changed': steps.changed, 'actions': steps.actions, 'assumed': steps.assumed, 'snapshots': []}
        if module._diff:
            result['diff'] = {'before': {'snapshots': []}, 'after': {'snapshots': [s.args['name'] for s in steps.steps]}}
        return result
    vol = _libvirt.lookup_volume(conn, p['pool'], p['volume'], 'volume_snapshot')
    volume = _volume_xml.parse(_xml.parse(_libvirt.call('read %s' % label, vol.XMLDesc, 0)))
    listed = _qemu_img.snapshots(module, volume['path'], 'list the snapshots of %s' % label)
    names = [s.get('name') for s in listed]
    running, children = [], []
    if p['state'] in ('present', 'absent', 'reverted'):
        usage = read_usage(conn)
        running = usage.running_users_of(volume['path'])
        children = usage.backing_of(volume['path'])
    pool_type = _xml.parse(_libvirt.call('read pool %s' % p['pool'], vol.storagePoolLookupByVolume().XMLDesc, 0)).get(
        'type')
    locked = None
    if pool_type in LOCKED_SHARED_POOLS and p['state'] != 'listed':
        locked = _qemu_img.lock_holder(module, volume['path'])
    steps = plan(p, volume, names, running, children, pool_type, locked)
    if not module.check_mode:
        apply_plan(steps, lambda step: _apply(module, step))
    result = {'changed': steps.changed, 'actions': steps.actions}
    after = list(names)
    for step in steps.steps:
        if step.verb == 'create':
            after.append(step.args['name'])
        elif step.verb == 'delete':
            after.remove(step.args['name'])
    if module._diff:
        result['diff'] = {'before': {'snapshots': names}, 'after': {'snapshots': after}}
    if not module.check_mode and steps.changed:
        listed = _qemu_img.snapshots(module, volume['path'], 'list the snapshots of %s' % label)
    result['snapshots'] = [{'id': s.get('id'), 'name': s.get('name'), 'date': s.get('date-sec'),
                            'vm_state_size': s.get('vm-state-size')} for s in listed]
    return result


def _missing(conn, pool_name, name):
    pool = _libvirt.lookup_pool(conn, pool_name)
    if pool is None:
        return True
    try:
        pool.storageVolLookupByName(name)
    except _libvirt.libvirt.libvirtError as exc:
        if _libvirt.is_not_found(exc):
            return True
        raise _libvirt.translate(exc, 'look up volume %s of pool %s' % (name, pool_name))
    return False


def _apply(module, step):
    _qemu_img.run(module, ['snapshot', FLAGS[step.verb], step.args['name'], step.args['path']], step.text)
    return None
