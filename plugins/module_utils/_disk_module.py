# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of the disk and disk_info modules."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _disk
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _pool_xml
from ansible_collections.kvm.storage.plugins.module_utils import _volume
from ansible_collections.kvm.storage.plugins.module_utils import _volume_disk
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._disk_adapter import DiskAdapter
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan, plan_result

REPORTED = ('target', 'bus', 'device', 'source', 'format', 'cache', 'io', 'discard', 'detect_zeroes', 'iothread',
            'readonly', 'shareable', 'serial', 'wwn', 'boot_order', 'startup_policy', 'iotune')
# Every key of a disk_info entry: the settings above (those set), and what disk_info adds.
# The module's RETURN documents each of them (tests/unit: test__disk_info_return.py).
INFO_KEYS = REPORTED + ('live', 'persistent', 'backing_chain', 'live_differs_in', 'live_target', 'persistent_target',
                        'volume')


def _refused_pools(conn, cache):
    """Pools whose volumes become network disks (_volume_disk), listed once, for disk_info
    to name the volume a network disk stands for."""
    if 'pools' not in cache:
        cache['pools'] = {}
        for pool in _libvirt.call('list storage pools', conn.listAllStoragePools, 0):
            parsed = _pool_xml.parse(_xml.parse(_libvirt.call('read pool %s' % pool.name(), pool.XMLDesc, 0)))
            if _volume_disk.REFUSED.get(parsed['type']) == 'network':
                cache['pools'][pool.name()] = _volume.PoolView(
                    pool.name(), parsed['type'], True, source_hosts=[h['name'] for h in parsed['source']['hosts']],
                    source_name=parsed['source']['name'], source_dir=parsed['source']['dir'])
    return cache['pools']


def disk_work(module, conn):
    request = _disk.request_from_params(module.params)
    model = request.model
    adapter = DiskAdapter(conn)
    # Every machine type carries virtio; libvirt's domain capabilities (slow to compute) are
    # asked only for the buses that some machine types lack.
    dom = adapter.read(request.domain, with_buses=request.state == 'present' and model['bus'] != 'virtio')
    # The adapter reads what the source is (identity, existence, header, a volume's format
    # and pool); the planner decides with it.
    # Check mode plans a source volume that does not exist yet (nor, perhaps, its pool) as
    # made by an earlier task of the play (a warning names it); a real run refuses it.
    facts = adapter.source_facts(model['source'], request.label,
                                 need_volume=request.state == 'present' and not module.check_mode) \
        if dom is not None else None
    steps, final = _disk.plan(request, dom, facts, assume=module.check_mode)
    if not module.check_mode:
        apply_plan(steps, adapter.apply)
    result = plan_result(module, steps)
    if adapter.stopped_during_detach:
        persistent = [s.args['target'] for s in steps.steps if s.verb == 'detach' and 'config' in s.args['scopes']]
        module.warn('guest %s stopped while disk %s was being detached live, so the running copy went with it; %s'
                    % (request.domain, ', '.join(adapter.stopped_during_detach),
                       'the disk was detached from the persistent definition (%s)' % ', '.join(persistent) if persistent
                       else 'the persistent definition was not changed'))
    if final is not None:
        result['target'] = final['target']
    if module._diff:
        before = [_brief(d) for d in (dom.config_disks or dom.live_disks)]
        after = list(before)
        if request.state == 'absent':
            gone = set(s.args['target'] for s in steps.steps)
            after = [d for d in before if d['target'] not in gone]
        elif steps.changed:
            after = [d for d in before if d['target'] != final['target']] + [_brief(final)]
        result['diff'] = {'before': {'disks': before}, 'after': {'disks': sorted(after, key=lambda d: d['target'])}}
    return result


def _brief(model):
    return dict((k, model.get(k)) for k in REPORTED if model.get(k) not in (None, False))


def disk_info_work(module, conn):
    adapter = DiskAdapter(conn)
    dom = adapter.read(module.params['domain'])
    if dom is None:
        raise KvmStorageError('guest %s does not exist' % module.params['domain'])
    live = dict((d['target'], d) for d in dom.live_disks)
    config = dict((d['target'], d) for d in dom.config_disks)
    # A stopped or transient guest has one definition only: nothing can differ.
    both = dom.active and dom.persistent
    differences = _disk.live_differences(dom.live_disks, dom.config_disks, REPORTED) if both else {}
    disks = []
    cache = {}
    for target in sorted(set(live) | set(config)):
        have_live, have_config = live.get(target), config.get(target)
        model = have_live or have_config
        entry = _brief(model)
        entry.update(target=target, live=have_live is not None, persistent=have_config is not None,
                     backing_chain=model.get('backing_chain') or [])
        found, other = differences.get(target, ([], None))
        entry['live_differs_in'] = found
        if other:
            entry['persistent_target' if have_live else 'live_target'] = other
        volume = _volume_disk.volume_of(model['source'], _refused_pools(conn, cache)) \
            if (model['source'] or {}).get('network') else None
        if volume is not None:
            entry['volume'] = volume
        disks.append(entry)
    return {'changed': False, 'disks': disks, 'running': dom.active, 'persistent': dom.persistent,
            'machine': dom.machine, 'buses': sorted(dom.buses) if dom.buses else None}
