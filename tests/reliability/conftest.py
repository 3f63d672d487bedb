# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reliability tier: faults, concurrency, hostile input, secrets and the safety rules,
provoked against the real lab on this machine (``make lab``). Each test names its
objects ``kvmst-rel-<test>-...`` and removes them in its own teardown.

Shared fixtures: ``lab_env`` (from the integration tier: fails when the lab is down),
``ansible_run`` (one ansible-playbook run of any playbook, with extra vars, returning the
process and its log) and ``host_listing`` (every pool and volume on the host, to prove a
test touched nothing outside its own objects).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.path.join(REPO, '.cache', 'collections')
INVENTORY = os.path.join(REPO, 'tests', 'integration', 'inventory.ini')
PREFIX = 'kvmst-rel-'
BIN = os.path.dirname(sys.executable)



def _integration_conftest():
    # The integration tier's conftest holds the lab check; load it under its own name
    # (both files are called conftest.py).
    spec = importlib.util.spec_from_file_location('kvmst_integration_conftest',
                                                  os.path.join(REPO, 'tests', 'integration', 'conftest.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lab_env = _integration_conftest().lab_env


def ansible_env(lab, tmp_path, extra=None):
    env = dict(os.environ)
    env.update(lab)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS,
        'ANSIBLE_INVENTORY': INVENTORY,
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'),
        'ANSIBLE_HOME': str(tmp_path / 'ansible-home'),
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
    })
    env.update(extra or {})
    return env


@pytest.fixture
def ansible_run(lab_env, tmp_path):  # noqa: F811  pylint: disable=redefined-outer-name
    """ansible_run(playbook, extra_vars=None, args=(), env=None, background=False).

    Returns the completed process (stdout+stderr also written to tmp_path/<name>.log),
    or the Popen object when ``background`` is true (the caller waits).
    """
    counter = {'n': 0}

    def run(playbook, extra_vars=None, args=(), env=None, background=False):
        counter['n'] += 1
        cmd = [os.path.join(BIN, 'ansible-playbook'), playbook]
        if extra_vars:
            cmd += ['-e', json.dumps(extra_vars)]
        cmd += list(args)
        full_env = ansible_env(lab_env, tmp_path, env)
        if background:
            return subprocess.Popen(cmd, env=full_env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
        proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, cwd=REPO, check=False)
        name = '%02d-%s.log' % (counter['n'], os.path.basename(playbook))
        (tmp_path / name).write_text(proc.stdout + '\n--- stderr ---\n' + proc.stderr)
        return proc
    return run


def _virsh(*args):
    return subprocess.run(['virsh', '-q', '-c', 'qemu:///system'] + list(args), capture_output=True, text=True,
                          check=False)


def host_listing():
    """{pool name: sorted volume names} for every pool on the host (active ones list volumes)."""
    out = {}
    for name in _virsh('pool-list', '--all', '--name').stdout.split():
        vols = _virsh('vol-list', '--pool', name)
        out[name] = sorted(line.split()[0] for line in vols.stdout.splitlines() if line.strip())
    return out
