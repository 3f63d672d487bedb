# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of the disk_snapshot module: request -> facts -> plan -> apply -> result."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _disk_snapshot
from ansible_collections.kvm.storage.plugins.module_utils._disk_snapshot_adapter import DiskSnapshotAdapter
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan


def disk_snapshot_work(module, conn):
    request = _disk_snapshot.request_from_params(module.params)
    adapter = DiskSnapshotAdapter(module, conn)
    guest = adapter.read(request)
    steps = _disk_snapshot.plan(request, guest)
    before = _disk_snapshot.listing(guest)
    after = _disk_snapshot.predicted(request, guest, steps)
    if not module.check_mode and steps.changed:
        try:
            apply_plan(steps, adapter.apply)
        finally:
            adapter.refresh_pools()
        after = _disk_snapshot.listing(adapter.read(request))
    for warning in steps.warnings:
        module.warn(warning)
    result = {'changed': steps.changed, 'actions': steps.actions, 'snapshots': after, 'running': guest.active}
    if module._diff:
        result['diff'] = {'before': {'snapshots': [s['name'] for s in before]},
                          'after': {'snapshots': [s['name'] for s in after]}}
    return result
