# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The molecule log judge (tests/molecule_scenarios.py) catches a lying check mode."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import molecule_scenarios  # noqa: E402  pylint: disable=wrong-import-position


def _log(*steps, **kwargs):
    lines = []
    for step, changed in steps:
        lines.append(('INFO     [s1 > %s] Executing' if kwargs.get('pipe') else 'INFO     s1 ➜ %s: Executing') % step)
        if changed is not None:
            lines.append('  │ kvmst-vmhost               : ok=5    changed=%d    unreachable=0    failed=0' % changed)
        lines.append('INFO     s1 ➜ %s: Executed: Successful' % step)
    return '\n'.join(lines)


CASES = [
    ('truthful', [('create', 0), ('check', 3), ('converge', 3), ('idempotence', 0), ('check', 0)], []),
    ('check after converge predicts a change', [('check', 3), ('converge', 3), ('check', 1)],
     ['a check after converge predicted 1 change(s)']),
    ('check before converge predicts nothing', [('check', 0), ('converge', 3), ('check', 0)],
     ['the check before converge predicted no change on a clean host']),
    ('check without recap', [('check', None), ('converge', 3)], ['a check step printed no play recap']),
    ('no check step', [('converge', 3), ('idempotence', 0)], ['the scenario has no check step']),
]


@pytest.mark.parametrize('name, steps, expected', CASES, ids=[c[0] for c in CASES])
def test_check_mode_problems(name, steps, expected):
    problems = molecule_scenarios.check_mode_problems(_log(*steps))
    assert len(problems) == len(expected), (name, problems)
    for problem, start in zip(problems, expected):
        assert problem.startswith(start), (name, problem)


def test_pipe_format_is_read_too():
    log = _log(('check', 3), ('converge', 3), ('check', 1), pipe=True)
    assert [s[0] for s in molecule_scenarios.steps(log)] == ['check', 'converge', 'check']
    assert molecule_scenarios.check_mode_problems(log)[0].startswith('a check after converge predicted 1 change(s)')
