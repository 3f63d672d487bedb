# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The internal-snapshot planner as a table: (request, image, who holds it) -> steps or refusal."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._volume_snapshot import plan

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
            plan(request_, volume, names, running, children, pool_type, locked)
        assert expected in exc.value.msg
        return
    assert plan(request_, volume, names, running, children, pool_type, locked).verbs() == expected
