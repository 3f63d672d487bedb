# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Applying a volume plan volume by volume, as a table: which step fails -> what the error
reports (actions finished, changed) and what was rolled back."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan
from ansible_collections.kvm.storage.plugins.module_utils._volume_module import apply_by_volume


class Req(object):
    def __init__(self, name):
        self.name = name


A, B, C = Req('a'), Req('b'), Req('c')


def plan():
    steps = Plan()
    steps.add('create', 'create a', request=A)
    steps.add('create', 'create b', request=B)
    steps.add('resize', 'grow b', request=B)
    steps.add('create', 'create c', request=C)
    return steps


CASES = [
    # (id, failing step, actions reported, changed, rolled back)
    ('first step fails: nothing done', 'create a', [], False, []),
    ('second volume fails: the first stays done', 'create b', ['create a'], True, []),
    ('a later step of a volume fails: its create is undone', 'grow b', ['create a'], True, ['undo create b']),
    ('last volume fails', 'create c', ['create a', 'create b', 'grow b'], True, []),
]


@pytest.mark.parametrize('case_id, failing, actions, changed, rolled_back', CASES, ids=[c[0] for c in CASES])
def test_failure_reports_what_was_done(case_id, failing, actions, changed, rolled_back):
    undone = []

    def apply_step(step):
        if step.text == failing:
            raise KvmStorageError('cannot %s: the connection to libvirt was lost' % step.text)
        if step.verb == 'create':
            return ('undo ' + step.text, lambda: undone.append(step.text))
        return None

    with pytest.raises(KvmStorageError) as exc:
        apply_by_volume(plan(), apply_step)
    assert exc.value.details['actions'] == actions
    assert exc.value.details['changed'] is changed
    assert exc.value.details['rolled_back'] == rolled_back
    assert exc.value.details['failed_step'] == failing


def test_all_done():
    assert apply_by_volume(plan(), lambda step: None) == ['create a', 'create b', 'grow b', 'create c']
