# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of the pool and pool_info modules: request -> read -> plan -> apply -> result."""

from __future__ import annotations

import grp
import pwd

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _pool
from ansible_collections.kvm.storage.plugins.module_utils import _pool_xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._pool_adapter import PoolAdapter, list_pools
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan


def resolve_user(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        raise KvmStorageError('permissions.owner %r is not a user on this host' % name)


def resolve_group(name):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise KvmStorageError('permissions.group %r is not a group on this host' % name)


def _state_of(actual):
    if actual is None:
        return 'absent'
    return 'active' if actual.active else 'inactive'


def pool_work(module, conn):
    request = _pool.request_from_params(module.params, resolve_user, resolve_group)
    adapter = PoolAdapter(conn)
    # delete_data counts what it would delete afresh: libvirt's volume list as of now, and
    # for a logical pool every LV LVM reports (libvirt lists no thin or inactive ones).
    actual = adapter.read(request.name, refresh=request.delete_data)
    if request.delete_data:
        adapter.read_lvs(module, actual)
    # The adapter reads the host (devices, target path, what a build would format); the
    # planner decides and refuses, in check mode too.
    steps, after = _pool.plan(request, actual, adapter.read_facts(module, request, actual))

    if not module.check_mode:
        apply_plan(steps, adapter.apply)

    result = {'changed': steps.changed, 'actions': steps.actions, 'name': request.name}
    if module._diff:
        result['diff'] = {
            'before': _diff_form(actual, None if actual is None else actual.element, _state_of(actual),
                                 None if actual is None else actual.autostart),
            'after': _diff_form(after, after, _predicted_state(request, actual, steps),
                                _predicted_autostart(request, actual)),
        }
    if not module.check_mode and request.state != 'absent':
        if adapter.pool is not None:
            result['pool'] = adapter.describe(adapter.pool)
    return result


def _predicted_state(request, actual, steps):
    if request.state == 'absent':
        return 'absent'
    verbs = steps.verbs()
    if 'start' in verbs:
        return 'active'
    if 'stop' in verbs and request.state == 'inactive':
        return 'inactive'
    return _state_of(actual) if actual is not None else 'inactive'


def _predicted_autostart(request, actual):
    if request.autostart is not None:
        return request.autostart
    return bool(actual.autostart) if actual is not None else False


def _diff_form(exists, element, state, autostart):
    if exists is None:
        return {'state': 'absent'}
    return {'state': state, 'autostart': bool(autostart), 'definition': _pool_xml.canonical(element)}


def pool_info_work(module, conn):
    adapter = PoolAdapter(conn)
    describe = adapter.describe
    if module.params.get('refresh'):
        def describe(pool):
            # capacity and free space as of now, not as of the pool's last refresh
            if pool.isActive():
                _libvirt.call('refresh pool %s' % pool.name(), pool.refresh, 0)
            return adapter.describe(pool)
    pools = _libvirt.each_present(list_pools(conn, module.params.get('name'), module.params.get('names')), describe)
    pools.sort(key=lambda p: p['name'])
    return {'changed': False, 'pools': pools}
