# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one molecule scenario of extensions/molecule and judge its log.

Molecule fails a scenario when a step fails or the idempotence step sees a change; it
does not judge check mode. Here the first ``check`` step (before converge, on a clean
host) must predict changes and every ``check`` after converge must predict none.

The molecule command, not pytest-ansible's molecule collector: pytest-ansible 26.10 marks
running molecule through it deprecated and points to the molecule CLI, and its collected
items take no fixtures (no lab or VM host check, no per-scenario environment).
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOLECULE_ROOT = os.path.join(REPO, 'extensions', 'molecule')
VMHOST_RUN = '/run/kvmst-lab/vmhost/'  # up.sh's inventory and env file: a scenario naming them runs there

# "lvm_thin ➜ check: Executing" on a terminal, "[lvm_thin > check] Executing" in a pipe.
_STEP = re.compile(r'\[?(?P<scenario>[\w-]+) (?:➜|>) (?P<step>[\w-]+)\]?:? (?P<what>Executing|Executed: \w+)')
_RECAP = re.compile(r'^\W*(?P<host>[\w.-]+)\s*:\s*ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)'
                    r'\s+failed=(?P<failed>\d+)')
_ANSI = re.compile(r'\x1b\[[0-9;]*m')


def scenarios(on_vmhost):
    """Scenario names whose molecule.yml targets the VM host (True) or this machine (False)."""
    found = []
    for path in sorted(glob.glob(os.path.join(MOLECULE_ROOT, '*', 'molecule.yml'))):
        with open(path, encoding='utf-8') as handle:
            targets_vmhost = VMHOST_RUN in handle.read()
        if targets_vmhost == on_vmhost:
            found.append(os.path.basename(os.path.dirname(path)))
    return found


def run(scenario, log_path, extra_env=None):
    """molecule test -s SCENARIO from the repository root; returns (returncode, plain log)."""
    env = dict(os.environ)
    env.update({
        'PATH': os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', ''),
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(REPO, '.cache', 'collections'),
        'NO_COLOR': '1',
    })
    env.update(extra_env or {})
    # One stream: molecule logs its steps on stderr and the plays print on stdout, and
    # the judge needs them in the order they happened.
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'molecule'), 'test', '-s', scenario],
                          cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    log = _ANSI.sub('', proc.stdout)
    with open(log_path, 'w', encoding='utf-8') as handle:
        handle.write(log)
    return proc.returncode, log


def steps(log):
    """[(step, [(host, changed, unreachable, failed), ...]), ...] in the order they ran."""
    out = []
    for line in log.splitlines():
        m = _STEP.search(line)
        if m and m.group('what') == 'Executing':
            out.append((m.group('step'), []))
            continue
        m = _RECAP.match(line.replace('│', ' '))
        if m and out:
            out[-1][1].append((m.group('host'), int(m.group('changed')), int(m.group('unreachable')),
                               int(m.group('failed'))))
    return out


def check_mode_problems(log):
    """Sentences describing where check mode did not tell the truth (empty when it did)."""
    problems = []
    seen_converge = False
    ran = steps(log)
    for step, recaps in ran:
        if step == 'converge':
            seen_converge = True
        if step != 'check':
            continue
        changed = sum(r[1] for r in recaps)
        if not recaps:
            problems.append('a check step printed no play recap')
        elif not seen_converge and changed == 0:
            problems.append('the check before converge predicted no change on a clean host')
        elif seen_converge and changed:
            problems.append('a check after converge predicted %d change(s): %s' % (changed, recaps))
    if not any(step == 'check' for step, dummy in ran):
        problems.append('the scenario has no check step')
    return problems


def assert_passed(rc, log):
    """The scenario's steps all passed and its check mode told the truth."""
    tail = '\n'.join(log.splitlines()[-80:])
    assert rc == 0, tail
    problems = check_mode_problems(log)
    assert not problems, (problems, tail)
