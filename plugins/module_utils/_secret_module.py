# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The work of the secret module: request -> read -> plan -> apply -> result."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _secret
from ansible_collections.kvm.storage.plugins.module_utils._secret_adapter import SecretAdapter
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan


def _hide(module, value):
    # Forms of the value that Ansible does not know about yet (the decoded bytes of a
    # base64 option, the old value read back from libvirt) are masked in all output too.
    for text in _secret.secret_strings(value):
        module.no_log_values.add(text)


def secret_work(module, conn):
    request = _secret.request_from_params(module.params)
    _hide(module, request.value)
    adapter = SecretAdapter(conn)
    actual = adapter.read(request)
    if actual is not None:
        _hide(module, actual.value)
    pool_auths = adapter.pool_auths() if request.state == 'absent' and actual is not None else ()
    steps, after = _secret.plan(request, actual, pool_auths, adapter.usage_holder)

    if not module.check_mode:
        apply_plan(steps, adapter.apply)

    result = {'changed': steps.changed, 'actions': steps.actions}
    if module._diff:
        result['diff'] = {
            'before': _secret.diff_form(None if actual is None else actual.element),
            'after': _secret.diff_form(after, 'set_value' in steps.verbs()),
        }
    if request.state != 'absent':
        if not module.check_mode and adapter.secret is not None:
            result['secret'] = adapter.describe()
        elif after is not None:
            result['secret'] = _secret.parse(after)
        if 'secret' in result:
            # its first spelling, returned too until the alias usage_id goes
            result['secret']['usage_id'] = result['secret']['secret_usage']
    return result
