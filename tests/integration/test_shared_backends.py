# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Everything that puts pools on the lab's one gluster volume or one iSCSI target, in one
file: `make integration` runs test files on two xdist workers (--dist loadfile), so these
run one after another, beside the rest (libvirt refuses a second pool on a source another
pool uses). See SHARED_PLAYBOOKS in conftest.py. The examples story has backends of its
own and runs beside this file (test_examples_story.py)."""

from __future__ import annotations

import base64
import os
import re
import subprocess

import pytest
import yaml

from conftest import HERE, SHARED_MOLECULE, check_molecule, check_scenario, playbooks


@pytest.mark.parametrize('playbook', [p for p in playbooks(shared=True) if p != 'secret.yml'])
def test_scenario(playbook, run_playbook):
    check_scenario(playbook, run_playbook)


@pytest.mark.parametrize('scenario', sorted(SHARED_MOLECULE))
def test_molecule_scenario(scenario, lab_env, tmp_path):
    check_molecule(scenario, lab_env, tmp_path)


SECRET_PLAYBOOK = 'secret.yml'


def _secret_values():
    """The values the scenario uses (its vars starting with kvmst-s3cr3t), and their base64 forms."""
    with open(os.path.join(HERE, 'playbooks', SECRET_PLAYBOOK)) as handle:
        play = yaml.safe_load(handle)[0]
    values = [v for v in play['vars'].values() if isinstance(v, str) and v.startswith('kvmst-s3cr3t')]
    return values + [base64.b64encode(v.encode('utf-8')).decode('ascii') for v in values]


def _secrets_left():
    """The scenario's own secrets still defined (its ``own_secrets`` pattern: the examples
    story runs beside this file with kvmst- secrets of its own)."""
    with open(os.path.join(HERE, 'playbooks', SECRET_PLAYBOOK)) as handle:
        own = re.compile(yaml.safe_load(handle)[0]['vars']['own_secrets'])
    out = subprocess.run(['virsh', '-q', 'secret-list'], capture_output=True, text=True, check=True).stdout
    return sorted(line.strip() for line in out.splitlines() if own.search(line))


def test_secret_scenario_leaks_no_value_at_vvvv(run_playbook):
    """The secret scenario (it defines an iSCSI pool on the lab's target), run once, at
    -vvvv: its own checks, then no secret value, in any form, in Ansible's output (module
    arguments, results, diffs, errors, debug lines)."""
    values = _secret_values()
    assert len(values) >= 8
    proc = check_scenario(SECRET_PLAYBOOK, run_playbook, {'ANSIBLE_VERBOSITY': '4'})
    output = proc.stdout + proc.stderr
    assert 'ESTABLISH LOCAL CONNECTION' in output        # the verbosity took effect
    leaked = [v for v in values if v in output]
    assert not leaked, 'secret values in the -vvvv output: %d of %d' % (len(leaked), len(values))
    assert not _secrets_left()
