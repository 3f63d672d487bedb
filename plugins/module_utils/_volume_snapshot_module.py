# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of the volume_snapshot and volume_snapshot_info modules."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _volume_snapshot
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan, plan_result
from ansible_collections.kvm.storage.plugins.module_utils._volume_snapshot_adapter import SnapshotAdapter


def snapshot_work(module, conn):
    p = module.params
    _volume_snapshot.check_names(p)
    if p['state'] == 'listed':
        module.deprecate('volume_snapshot: state listed is a read; use kvm.storage.volume_snapshot_info instead',
                         version=_volume_snapshot.LISTED_REMOVED_IN, collection_name='kvm.storage')
    adapter = SnapshotAdapter(conn, module)
    # Check mode plans a volume an earlier task of the play creates (a warning names it).
    facts = adapter.read(p['pool'], p['volume'], holders=_volume_snapshot.needs_holders(p),
                         missing_ok=module.check_mode and p['state'] != 'listed')
    steps = _volume_snapshot.plan(p, facts)
    if not module.check_mode:
        apply_plan(steps, adapter.apply)
    result = plan_result(module, steps)
    if module._diff:
        result['diff'] = {'before': {'snapshots': facts.names},
                          'after': {'snapshots': _volume_snapshot.names_after(facts.names, steps)}}
    listed = adapter.listed
    if not module.check_mode and steps.changed:
        listed = adapter.snapshots(facts.volume['path'], _volume_snapshot.label_of(p))
    result['snapshots'] = _volume_snapshot.report(listed)
    return result


def snapshot_info_work(module, conn):
    p = module.params
    _volume_snapshot.check_names(p)
    adapter = SnapshotAdapter(conn, module)
    facts = adapter.read(p['pool'], p['volume'], holders=False)
    # the same refusal as volume_snapshot's: a raw image has no internal snapshots
    _volume_snapshot.plan(dict(p, state='listed'), facts)
    return {'changed': False, 'snapshots': _volume_snapshot.report(adapter.listed)}
