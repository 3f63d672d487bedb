# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of the host_storage module: validate -> read -> plan -> apply -> result."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _host_storage
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._host_storage_adapter import HostAdapter
from ansible_collections.kvm.storage.plugins.module_utils._pool_module import resolve_user, resolve_group
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan, plan_result


def plan_host(adapter, ordered, unmanaged=True, assume=False):
    """Read the host once, with every fact the plan needs (a gluster pool a volume is made
    in listed afresh before qemu-img writes into it, who uses an image before it is grown
    or removed, exactly as the volume module reads them), then plan once. ``assume``:
    check mode (_host_storage.plan)."""
    return _host_storage.plan(ordered, adapter.read(ordered), unmanaged, assume)


def apply_host(host_plan, adapter):
    """Object by object, in plan order. A failure rolls back the object being changed (its
    family's undo), stops the plan, and says which steps finished and which were not
    reached; a re-run goes on from there."""
    done = []
    for index, item in enumerate(host_plan.items):
        if not item.steps.changed:
            continue
        try:
            apply_plan(item.steps, adapter.applier(item))
        except KvmStorageError as exc:
            rest = [text for later in host_plan.items[index + 1:] for text in later.steps.actions]
            exc.msg = '%s (%s); %d step(s) finished before it, %d not reached; a re-run goes on from here' % (
                exc.msg.rstrip('.'), item.node.where, len(done), len(rest))
            own = item.steps.actions
            failed = exc.details.get('failed_step')
            exc.details.update(changed=bool(done), actions=done, failed_object=item.node.label,
                               failed_element=item.node.where,
                               not_reached=(own[own.index(failed) + 1:] if failed in own else []) + rest)
            raise
        done.extend(item.steps.actions)
    return done


def hide_seed_values(module):
    """The volumes list is validated element by element here, not by AnsibleModule, so its
    cloud_init values (user-data may hold passwords) are hidden by hand: as they are (the
    result) and as they are spelled inside the printed list (the invocation log, which
    escapes newlines)."""
    for item in module.params.get('volumes') or []:
        seed = item.get('cloud_init') if isinstance(item, dict) else None
        for value in (seed.values() if isinstance(seed, dict) else ()):
            if isinstance(value, str) and value.strip():
                module.no_log_values.add(value)
                module.no_log_values.add(repr(value)[1:-1])


def host_storage_work(module, conn):
    hide_seed_values(module)
    validated = _host_storage.validate(module.params)
    nodes = _host_storage.nodes(validated, resolve_user, resolve_group)
    ordered = _host_storage.order(nodes)
    adapter = HostAdapter(module, conn)
    host_plan = plan_host(adapter, ordered, module.params.get('unmanaged', True), assume=module.check_mode)
    if not module.check_mode:
        apply_host(host_plan, adapter)
    result = plan_result(module, host_plan)
    results, unchanged = _host_storage.split_results(host_plan, every=module.params.get('results') == 'all')
    result.update(results=results, unchanged=unchanged, unmanaged=host_plan.unmanaged)
    if module._diff:
        result['diff'] = host_plan.diff()
    # Not Ansible's echo of every argument (thousands of objects, shipped back and processed
    # by the controller on every run): the scalar options and the size of each list.
    result['invocation'] = _host_storage.invocation(module.params)
    return result
