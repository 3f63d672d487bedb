# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The secret scenario, run at -vvvv: no secret value, in any form, may appear in
Ansible's output (module arguments, results, diffs, errors, debug lines)."""

from __future__ import annotations

import base64
import os
import subprocess

import yaml

from conftest import HERE, PREFIX, SHARED_BACKENDS, assert_scenario_passed, libvirt_objects

PLAYBOOK = 'secret.yml'


def _secret_values():
    """The values the scenario uses (its vars starting with kvmst-s3cr3t), and their base64 forms."""
    with open(os.path.join(HERE, 'playbooks', PLAYBOOK)) as handle:
        play = yaml.safe_load(handle)[0]
    values = [v for v in play['vars'].values() if isinstance(v, str) and v.startswith('kvmst-s3cr3t')]
    return values + [base64.b64encode(v.encode('utf-8')).decode('ascii') for v in values]


def _secrets_left():
    out = subprocess.run(['virsh', '-q', 'secret-list'], capture_output=True, text=True, check=True).stdout
    return sorted(line.strip() for line in out.splitlines() if PREFIX in line)


@SHARED_BACKENDS   # it defines an iSCSI pool on the lab's target
def test_no_secret_value_in_verbose_output(run_playbook):
    """The scenario's own checks (test_scenarios skips it: this is its one run), then the leaks."""
    values = _secret_values()
    assert len(values) >= 8
    before = libvirt_objects('pool')
    proc = run_playbook(PLAYBOOK, extra_env={'ANSIBLE_VERBOSITY': '4'})
    output = proc.stdout + proc.stderr
    assert_scenario_passed(PLAYBOOK, proc, before)
    assert 'ESTABLISH LOCAL CONNECTION' in output        # the verbosity took effect
    leaked = [v for v in values if v in output]
    assert not leaked, 'secret values in the -vvvv output: %d of %d' % (len(leaked), len(values))
    assert not _secrets_left()
