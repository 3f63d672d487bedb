# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The internal-snapshot planner as a table: (request, image, who holds it) -> steps or refusal."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._volume_snapshot import (
    SnapshotFacts, names_after, needs_holders, plan, report)

QCOW2 = {'format': 'qcow2', 'path': '/srv/p/tpl.qcow2'}
RAW = {'format': 'raw', 'path': '/srv/p/a.raw'}
LOCK = 'Failed to get "write" lock'


def req(state='present', name='s1', force=False):
    return {'pool': 'p', 'volume': 'tpl.qcow2', 'name': name, 'state': state, 'force': force}


CASES = [
    # (id, request, volume, existing, running, children, pool type, locked, verbs or error fragment)
    ('create', req(), QCOW2, [], [], [], 'dir', None, ['create']),
    ('create again', req(), QCOW2, ['s1'], ['web'], [], 'dir', LOCK, []),
    ('delete', req('absent'), QCOW2, ['s1'], [], [], 'dir', None, ['delete']),
    ('delete missing', req('absent'), QCOW2, [], [], [], 'gluster', LOCK, []),
    ('revert', req('reverted'), QCOW2, ['s1'], [], [], 'dir', None, ['revert']),
    ('listed', req('listed', None), QCOW2, ['s1'], ['web'], [], 'netfs', None, []),
    ('raw image', req(), RAW, [], [], [], 'dir', None, 'internal snapshots need qcow2'),
    ('revert to a missing snapshot', req('reverted', 's9'), QCOW2, ['s1'], [], [], 'dir', None, 'has no snapshot s9'),
    ('running guest', req(), QCOW2, [], ['web'], [], 'dir', None, 'running guest(s) web have it open'),
    ('revert a backing file', req('reverted'), QCOW2, ['s1'], [], ['/srv/o.qcow2'], 'dir', None,
     'it is the backing file of /srv/o.qcow2'),
    ('revert a backing file, forced', req('reverted', force=True), QCOW2, ['s1'], [], ['/srv/o.qcow2'], 'dir', None,
     ['revert']),
    ('locked through a shared pool', req('reverted'), QCOW2, ['s1'], [], [], 'netfs', LOCK,
     'another process holds its lock (%s), a guest on another host that shares pool p perhaps' % LOCK),
    ('locked, create', req(), QCOW2, [], [], [], 'netfs', LOCK, 'another process holds its lock'),
    ('gluster revert', req('reverted'), QCOW2, ['s1'], [], [], 'gluster', None,
     'a gluster pool keeps no lock that would show a guest on another host'),
    ('gluster revert, forced', req('reverted', force=True), QCOW2, ['s1'], [], [], 'gluster', None, ['revert']),
    ('gluster create', req(), QCOW2, [], [], [], 'gluster', None, ['create']),
]


@pytest.mark.parametrize('case_id, request_, volume, names, running, children, pool_type, locked, expected', CASES,
                         ids=[c[0] for c in CASES])
def test_plan(case_id, request_, volume, names, running, children, pool_type, locked, expected):
    if isinstance(expected, str):
        with pytest.raises(KvmStorageError) as exc:
            plan(request_, SnapshotFacts(volume, names, pool_type, running, children, locked))
        assert expected in exc.value.msg
        return
    steps = plan(request_, SnapshotFacts(volume, names, pool_type, running, children, locked))
    assert steps.verbs() == expected
    after = names_after(names, steps)
    if request_['state'] == 'present':
        assert request_['name'] in after
    elif request_['state'] == 'absent':
        assert request_['name'] not in after
    else:
        assert after == names


@pytest.mark.parametrize('state, needed', [('present', True), ('absent', True), ('reverted', True), ('listed', False)])
def test_holders_are_read_for_changes_only(state, needed):
    assert needs_holders(req(state)) is needed


def test_report():
    listed = [{'id': '1', 'name': 's1', 'date-sec': 1700000000, 'vm-state-size': 0, 'icount': 5}]
    assert report(listed) == [{'id': '1', 'name': 's1', 'date': 1700000000, 'vm_state_size': 0}]
