# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of the disk_backup module: request -> facts -> plan -> apply -> result."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _disk_backup
from ansible_collections.kvm.storage.plugins.module_utils._disk_backup_adapter import DiskBackupAdapter
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan, plan_result


def _diff_form(backups):
    return {'backups': [{'name': b['name'], 'mode': b['mode'], 'base': b['base']} for b in backups]}


def disk_backup_work(module, conn):
    request = _disk_backup.request_from_params(module.params)
    adapter = DiskBackupAdapter(module, conn)
    facts = adapter.read(request)
    steps = _disk_backup.plan(request, facts, assume=module.check_mode)
    before = _disk_backup.listing(facts)
    after = _disk_backup.predicted(request, facts, steps)
    diff = {'before': _diff_form(before), 'after': _diff_form(after)}
    if not module.check_mode and steps.changed:
        try:
            apply_plan(steps, adapter.apply)
        finally:
            adapter.refresh_pools(facts.folder)
        after = _disk_backup.listing(adapter.read(request))
    result = plan_result(module, steps)
    mine = [b for b in after if b['name'] == request.name]
    result.update(backup=mine[0] if mine else None, backups=after, folder=facts.folder)
    if module._diff:
        result['diff'] = diff
    return result
