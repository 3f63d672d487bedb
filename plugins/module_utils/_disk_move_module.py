# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of the disk_move module: request -> facts -> plan -> apply -> result."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _disk_move
from ansible_collections.kvm.storage.plugins.module_utils._disk_move_adapter import DiskMoveAdapter
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan


def disk_move_work(module, conn):
    request = _disk_move.request_from_params(module.params)
    adapter = DiskMoveAdapter(module, conn)
    facts = adapter.read(request)
    steps = _disk_move.plan(request, facts)
    if not module.check_mode and steps.changed:
        try:
            apply_plan(steps, adapter.apply)
        finally:
            # the folders that got or lost an image; a native gluster pool is not refreshed
            # here (a gfapi round trip of seconds): it lists the new image at its next refresh
            adapter.refresh_pools()
    for warning in steps.warnings:
        module.warn(warning)
    diff = _disk_move.diff_form(request, facts, steps)
    result = {'changed': steps.changed, 'actions': steps.actions, 'image': diff['after']['image'],
              'format': diff['after']['format']}
    if module._diff:
        result['diff'] = diff
    return result
