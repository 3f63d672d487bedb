# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal qcow2 snapshots of a volume: argument specs, request checks and the planner.

Pure: no libvirt, no qemu-img.  ``plan(request, facts)`` is a function of the request and
of what the adapter (_volume_snapshot_adapter) read: the volume, its snapshots, its pool's
type, and who holds the image.
"""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan
from ansible_collections.kvm.storage.plugins.module_utils._volume import UNLOCKED_SHARED_POOLS

# The release after the one that moved the read into volume_snapshot_info drops state listed.
LISTED_REMOVED_IN = '0.2.0'


def info_argument_spec():
    """The volume, for both modules (doc fragment kvm.storage._volume_snapshot)."""
    return dict(
        pool=dict(type='str', required=True),
        volume=dict(type='str', required=True),
    )


def argument_spec():
    spec = info_argument_spec()
    spec.update(
        name=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent', 'reverted', 'listed']),
        force=dict(type='bool', default=False),
    )
    return spec


REQUIRED_IF = [('state', 'present', ['name']), ('state', 'absent', ['name']), ('state', 'reverted', ['name'])]


def check_names(params):
    """The names of a request, refused before anything is read."""
    check_name('volume', params['volume'])
    check_name('pool', params['pool'])
    if params.get('name') is not None:
        check_name('snapshot', params['name'])


def label_of(params):
    return 'volume %s of pool %s' % (params['volume'], params['pool'])


def needs_holders(request):
    """Whether the planner needs to know who holds the image (running guests, overlays, a
    lock taken on another host): for every change, not for a read."""
    return request['state'] != 'listed'


class SnapshotFacts(object):
    """What the adapter read: ``volume`` the volume model (format, path); ``names`` its
    snapshots; ``pool_type`` its pool's type; ``running_users`` running guests that have the
    image open; ``children`` volumes backed by it (a revert changes the data under them);
    ``locked`` what the lock probe said when another process (a guest on another host of a
    shared pool) holds the image open, else None."""

    def __init__(self, volume, names=(), pool_type=None, running_users=(), children=(), locked=None):
        self.volume = volume
        self.names = list(names)
        self.pool_type = pool_type
        self.running_users = list(running_users)
        self.children = list(children)
        self.locked = locked


def plan(request, facts):
    """Steps for one snapshot request (``request``: the module params). ``facts.volume``
    None: check mode, and the volume does not exist yet - planned as if an earlier task of
    the play created it (qcow2, no snapshots); a warning says so."""
    steps = Plan()
    label = label_of(request)
    volume = facts.volume
    if volume is None:
        steps.assume(label)
        volume = {'format': 'qcow2', 'path': None}
    if volume['format'] != 'qcow2':
        raise KvmStorageError('%s is %s; internal snapshots need qcow2' % (label, volume['format']))
    state = request['state']
    if state == 'listed':
        return steps
    name = request['name']
    exists = name in facts.names
    if state == 'present' and exists or state == 'absent' and not exists:
        return steps
    if state == 'reverted' and not exists:
        raise KvmStorageError('%s has no snapshot %s (it has: %s)' % (label, name, ', '.join(facts.names) or 'none'))
    if facts.running_users:
        # qemu-img writing into an image a running qemu has open corrupts it.
        raise KvmStorageError('refusing to change the snapshots of %s: running guest(s) %s have it open; shut them '
                              'down first' % (label, ', '.join(facts.running_users)), used_by=facts.running_users)
    if facts.locked:
        raise KvmStorageError('refusing to change the snapshots of %s: another process holds its lock (%s), a guest '
                              'on another host that shares pool %s perhaps; shut it down first'
                              % (label, facts.locked, request['pool']), locked=True)
    if state == 'reverted' and facts.pool_type in UNLOCKED_SHARED_POOLS and not request['force']:
        raise KvmStorageError('refusing to revert %s: a %s pool keeps no lock that would show a guest on another host '
                              'using the image, so no check here can tell; set force: true once no guest on any host '
                              'uses it' % (label, facts.pool_type))
    if state == 'reverted' and facts.children and not request['force']:
        raise KvmStorageError('refusing to revert %s: it is the backing file of %s, whose data would change under '
                              'them; set force: true if that is intended' % (label, ', '.join(facts.children)),
                              backing_of=facts.children)
    verb = {'present': 'create', 'absent': 'delete', 'reverted': 'revert'}[state]
    words = {'create': 'create snapshot %s of %s', 'delete': 'delete snapshot %s of %s',
             'revert': 'revert %s to snapshot %s'}[verb]
    text = words % ((label, name) if verb == 'revert' else (name, label))
    steps.add(verb, text, name=name, path=volume['path'])
    return steps


def names_after(names, steps):
    """The snapshot names once the steps ran (diff mode, check mode too)."""
    after = list(names)
    for step in steps.steps:
        if step.verb == 'create':
            after.append(step.args['name'])
        elif step.verb == 'delete':
            after.remove(step.args['name'])
    return after


def report(listed):
    """The snapshots as the modules return them (qemu-img info's ``snapshots``)."""
    return [{'id': s.get('id'), 'name': s.get('name'), 'date': s.get('date-sec'), 'vm_state_size': s.get('vm-state-size')}
            for s in listed]
