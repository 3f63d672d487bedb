# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of the volume and volume_info modules."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _volume
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan
from ansible_collections.kvm.storage.plugins.module_utils._pool_module import resolve_user, resolve_group
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan, plan_result
from ansible_collections.kvm.storage.plugins.module_utils._usage_adapter import read_usage
from ansible_collections.kvm.storage.plugins.module_utils._volume_adapter import VolumeAdapter


def _by_volume(steps):
    """The plan split per volume, in order: a failure rolls back only its own volume;
    volumes finished before it stay (they are complete, and a re-run goes on from there)."""
    groups = []
    for step in steps.steps:
        req = step.args['request']
        if not groups or groups[-1][0] is not req:
            groups.append((req, Plan()))
        groups[-1][1].steps.append(step)
    return groups


def apply_by_volume(steps, apply_step):
    """Apply the plan volume by volume. A failure reports the actions finished before it
    and ``changed`` when there were any (volumes made before a lost connection stay made)."""
    done = []
    for _req, group in _by_volume(steps):
        try:
            apply_plan(group, apply_step)
        except KvmStorageError as exc:
            exc.details['actions'] = done
            exc.details['changed'] = bool(done)
            raise
        done.extend(group.actions)
    return done


def _seed_diff(req, actual, world, steps, before, after):
    own = Plan()
    own.steps = [s for s in steps.steps if s.args['request'] is req]
    seed_before, seed_after = _volume.seed_diff_forms(req, actual, world.seeds.get((req.pool, req.name)), own)
    if seed_before is not None:
        before['cloud_init'] = seed_before
    if seed_after is not None:
        after['cloud_init'] = seed_after
    if 'seed_replace' in own.verbs():
        after.pop('capacity', None)   # the new ISO's size is known once it is built


def hide_escaped(module):
    """Every no_log value also as it is spelled inside a printed dict or list: AnsibleModule
    logs a dict or list option (cloud_init, volumes) as its str(), which escapes the
    newlines of a multi-line value (a user-data document), so the value itself is not found
    there and would reach the managed host's syslog or journal."""
    for value in list(module.no_log_values):
        if isinstance(value, str):
            module.no_log_values.add(repr(value)[1:-1])


def volume_work(module, conn):
    requests = _volume.requests_from_params(module.params, resolve_user, resolve_group)
    adapter = VolumeAdapter(conn, module)
    # Every fact before the one plan: the listing; a gluster pool a volume is made in, listed
    # afresh; who uses an image that is removed, shrunk, grown or made again.
    world = adapter.read_world(requests)
    stale = _volume.pools_to_refresh(requests, world)
    if stale:
        world = adapter.read_world(requests, refresh=stale)
    # A seed ISO read back before usage: only a seed that differs needs to know who has it open.
    adapter.add_seed_facts(requests, world)
    if _volume.needs_usage(requests, world):
        adapter.add_usage(world, requests)
    adapter.add_import_facts(requests, world)
    # Check mode plans a pool, source volume or secret that does not exist yet as made by an
    # earlier task of the play (a warning names it); a real run never assumes.
    created = {}
    steps = _volume.plan(requests, world, created=created, assume=module.check_mode)

    if not module.check_mode:
        apply_by_volume(steps, adapter.apply)

    result = plan_result(module, steps)
    touched = set((s.args['request'].pool, s.args['request'].name) for s in steps.steps)
    if module._diff:
        before, after = {}, {}
        for req in requests:
            key = '%s/%s' % (req.pool, req.name)
            pool = world.pools.get(req.pool)
            actual = pool.volumes.get(req.name) if pool else None
            before[key] = _volume.diff_form(actual)
            if (req.pool, req.name) not in touched:
                after[key] = _volume.diff_form(actual)
            elif req.state == 'absent':
                after[key] = {'state': 'absent'}
            else:
                after[key] = _volume.predicted_diff_form(actual, req, created.get((req.pool, req.name)))
            if getattr(req, 'cloud_init', None) and req.state == 'present':
                _seed_diff(req, actual, world, steps, before[key], after[key])
        result['diff'] = {'before': before, 'after': after}

    reports = []
    if not module.check_mode:
        fresh = {}
        for pool_name in set(r.pool for r in requests if (r.pool, r.name) in touched and r.state == 'present'):
            fresh[pool_name] = adapter.read_pool(pool_name, set(r.name for r in requests if r.pool == pool_name))
        for req in requests:
            if req.state != 'present':
                continue
            view = fresh.get(req.pool) or world.pools.get(req.pool)
            model = view.volumes.get(req.name) if view else None
            if model is not None:
                reports.append(adapter.describe(req.pool, model))
    if module.params.get('volumes') is not None:
        result['volumes'] = reports
    elif reports:
        result['volume'] = reports[0]
    return result


def volume_info_work(module, conn):
    pool_name = module.params['pool']
    name = module.params.get('name')
    adapter = VolumeAdapter(conn)
    view = adapter.read_pool(pool_name, None if name is None else {name})
    if view is None:
        raise KvmStorageError('pool %s does not exist' % pool_name)
    if not view.active:
        raise KvmStorageError('pool %s is not running, so libvirt cannot list its volumes; start it first' % pool_name)
    usage = None
    if module.params['used_by']:
        usage = read_usage(conn, known_pools={pool_name: view.volumes} if name is None else None)
    known = dict((m['path'], m) for m in view.volumes.values())
    volumes = [adapter.describe(pool_name, m, known, usage) for m in view.volumes.values()]
    volumes.sort(key=lambda v: v['name'])
    return {'changed': False, 'volumes': volumes}
