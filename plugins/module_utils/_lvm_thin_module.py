# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of the lvm_thin_pool and lvm_thin_volume modules: request -> read -> plan ->
apply -> result."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _lvm_thin
from ansible_collections.kvm.storage.plugins.module_utils._lvm_thin_adapter import LvmThinAdapter, guest_users
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan, plan_result


def pool_work(module):
    p = module.params
    _lvm_thin.check_pool_names(p)
    adapter = LvmThinAdapter(module)
    vgs, lvs = adapter.read(p['vg'])
    profiles = adapter.read_profiles(p['vg'], p['name'], lvs.get(p['name']))
    carriers = None
    if p['state'] == 'absent' or p.get('autoextend'):
        # Which LVs carry which profile, over every VG: a profile file is deleted only when
        # no other LV carries it.
        carriers = adapter.read_carriers()
    steps = _lvm_thin.plan_pool(p, vgs, lvs, profiles, carriers, assume=module.check_mode)
    before = _lvm_thin.pool_model(lvs.get(p['name']), lvs)
    if not module.check_mode:
        apply_plan(steps, adapter.apply)
    result = plan_result(module, steps)
    if module._diff:
        result['diff'] = {'before': _lvm_thin.diff_form(before),
                          'after': _lvm_thin.diff_form(_lvm_thin.predict_pool(before, steps))}
    if not module.check_mode and steps.changed:
        vgs, lvs = adapter.read(p['vg'])
    model = _lvm_thin.pool_model(lvs.get(p['name']), lvs)
    result['thin_pool'] = dict(model, vg=p['vg'], name=p['name']) if model else None
    result['data_percent'] = model['data_percent'] if model else None
    result['metadata_percent'] = model['metadata_percent'] if model else None
    return result


def volume_work(module):
    p = module.params
    _lvm_thin.check_volume_names(p)
    adapter = LvmThinAdapter(module)
    vgs, lvs = adapter.read(p['vg'])
    users, overlays = None, ()
    if _lvm_thin.needs_users(p, lvs):
        users, overlays, warning = guest_users(p['vg'], p['name'], p.get('uri'), p.get('allow_insecure'))
        if warning:
            module.warn(warning)
    steps = _lvm_thin.plan_volume(p, vgs, lvs, users, overlays, assume=module.check_mode)
    before = _lvm_thin.volume_model(lvs.get(p['name']))
    if not module.check_mode:
        apply_plan(steps, adapter.apply)
    result = plan_result(module, steps)
    if module._diff:
        result['diff'] = {'before': _lvm_thin.diff_form(before),
                          'after': _lvm_thin.diff_form(_lvm_thin.predict_volume(before, steps, p, lvs))}
    if not module.check_mode and steps.changed:
        vgs, lvs = adapter.read(p['vg'])
    model = _lvm_thin.volume_model(lvs.get(p['name']))
    result['thin_volume'] = dict(model, vg=p['vg'], name=p['name'], path='/dev/%s/%s' % (p['vg'], p['name'])) \
        if model else None
    return result
