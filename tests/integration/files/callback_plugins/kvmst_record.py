# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helper (tests/integration/examples_story.py): every task result of a run, one JSON
line each, into the file named by KVMST_RECORD."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kvmst_record
type: aggregate
short_description: Records every task result as a JSON line (kvm.storage tests)
description:
  - Writes each task result to the file named by the environment variable C(KVMST_RECORD).
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'kvmst_record'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.path = os.environ.get('KVMST_RECORD')
        self.play = None

    def v2_playbook_on_play_start(self, play):
        self.play = play.get_name()

    def _write(self, result, status, ignored=False):
        if not self.path:
            return
        task = result._task
        data = dict((k, v) for k, v in result._result.items() if k != 'invocation' and not k.startswith('_ansible'))
        entry = {'play': self.play, 'task': task.get_name(), 'action': task.action, 'status': status,
                 'ignored': ignored, 'check_mode': bool(task.check_mode), 'result': data}
        with open(self.path, 'a') as handle:
            handle.write(json.dumps(entry, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._write(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, 'failed', ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._write(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._write(result, 'unreachable')
