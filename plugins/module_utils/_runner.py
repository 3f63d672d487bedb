# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Glue between AnsibleModule and the plan/apply pattern, shared by every module."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _xml


def connection_argument_spec():
    return dict(
        uri=dict(type='str', default=_libvirt.DEFAULT_URI, fallback=(env_fallback, ['LIBVIRT_DEFAULT_URI'])),
        allow_insecure=dict(type='bool', default=False),
    )


def apply_plan(plan, apply_step):
    """Apply the steps in order.

    ``apply_step(step)`` may return an undo callable; when a later step fails, the undo
    callables registered so far run in reverse order so that nothing is left half-made,
    and the error says what was rolled back.
    """
    undo = []
    for step in plan.steps:
        try:
            rollback = apply_step(step)
        except KvmStorageError as exc:
            exc.details['failed_step'] = step.text
            exc.details['rolled_back'] = exc.details.get('rolled_back', []) + _roll_back(undo)
            raise
        if rollback is not None:
            undo.append(rollback)


def plan_result(module, steps):
    """Warn the plan's warnings and start the result every module returns: ``changed``,
    ``actions`` and, when check mode planned something that does not exist yet as made by
    an earlier task (``Plan.assume``), ``assumed``."""
    for warning in steps.warnings:
        module.warn(warning)
    result = {'changed': steps.changed, 'actions': steps.actions}
    if steps.assumed:
        result['assumed'] = steps.assumed
    return result


def _roll_back(undo):
    done = []
    for text, func in reversed(undo):
        try:
            func()
            done.append(text)
        except Exception as exc:  # keep rolling back the rest; report what stayed
            done.append('%s FAILED: %s' % (text, exc))
    return done


def run(module, work, connect=True):
    """Open the one connection, call ``work(module, conn)`` and exit with its result; with
    ``connect=False`` (the LVM modules, which need no libvirt) call ``work(module)``.

    ``work`` returns the result dict; a KvmStorageError anywhere becomes ``fail_json``
    with its one-sentence message and details, never a traceback.
    """
    if not connect:
        try:
            result = work(module)
        except KvmStorageError as exc:
            module.fail_json(msg=exc.msg, **exc.details)
        except Exception as exc:  # a bug, not a user error: keep the traceback for the report
            module.fail_json(msg='unexpected error in kvm.storage: %s' % exc, exception=traceback.format_exc())
        module.exit_json(**result)
    if not _libvirt.HAS_LIBVIRT:
        module.fail_json(msg=missing_required_lib('libvirt-python (Debian: python3-libvirt)'),
                         exception=repr(_libvirt.LIBVIRT_IMPORT_ERROR))
    if not _xml.HAS_LXML:
        module.fail_json(msg=missing_required_lib('lxml (Debian: python3-lxml)'),
                         exception=repr(_xml.LXML_IMPORT_ERROR))
    conn = None
    try:
        uri = _libvirt.check_uri(_libvirt.resolve_uri(module.params.get('uri')), module.params.get('allow_insecure'))
        conn = _libvirt.connect(uri)
        result = work(module, conn)
    except KvmStorageError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    except Exception as exc:  # a bug, not a user error: keep the traceback for the report
        module.fail_json(msg='unexpected error in kvm.storage: %s' % exc, exception=traceback.format_exc())
    finally:
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass
    module.exit_json(**result)
