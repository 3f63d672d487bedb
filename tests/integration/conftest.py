# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration tier: real playbooks against the real lab on this machine.

Each scenario is a playbook under ``playbooks/`` that applies every state change four
times (check, real, again, check again), verifies the result with the host's own tools
(virsh, findmnt, blkid, parted) and removes what it made in an ``always`` section.
The lab (libvirtd, glusterd, tgtd and their fixtures) must be up: ``make lab`` starts it;
a missing component fails the run, it is never skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.path.join(REPO, '.cache', 'collections')
PREFIX = 'kvmst-'


def _lab_env():
    proc = subprocess.run(['bash', os.path.join(REPO, 'lab', 'fixtures.sh'), 'env'],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail('the lab is not up (lab/fixtures.sh env failed: %s); run `make lab` first'
                    % (proc.stderr.strip() or proc.stdout.strip()), pytrace=False)
    env = {}
    for line in proc.stdout.splitlines():
        if '=' in line and not line.startswith('#'):
            key, value = line.split('=', 1)
            env[key.strip()] = value.strip().strip('"').strip("'")
    return env


@pytest.fixture(scope='session')
def lab_env():
    env = _lab_env()
    for key in ('KVMST_GLUSTER_VOLUME', 'KVMST_ISCSI_IQN', 'KVMST_ISCSI_INITIATOR'):
        if not env.get(key):
            pytest.fail('the lab did not report %s; run `make lab`' % key, pytrace=False)
    check = subprocess.run(['virsh', '-c', 'qemu:///system', 'uri'], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        pytest.fail('libvirtd does not answer at qemu:///system: %s' % check.stderr.strip(), pytrace=False)
    return env


def libvirt_objects(kind):
    """Names of this test suite's libvirt objects of ``kind`` (pool, vol-less listing)."""
    cmd = {'pool': ['virsh', '-q', 'pool-list', '--all', '--name'],
           'domain': ['virsh', '-q', 'list', '--all', '--name'],
           'secret': ['virsh', '-q', 'secret-list']}[kind]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return sorted(n.strip() for n in out.splitlines() if n.strip().startswith(PREFIX))


def ansible_env(lab, tmp_path, extra=None):
    """The environment of one ansible run against the lab (this checkout's collection,
    the lab inventory, plain output, temp folders under the test's tmp_path)."""
    env = dict(os.environ)
    env.update(lab)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS,
        'ANSIBLE_INVENTORY': os.path.join(HERE, 'inventory.ini'),
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
def run_playbook(lab_env, tmp_path):
    """Run one scenario playbook; returns the completed process."""
    def run(playbook, extra_env=None):
        env = ansible_env(lab_env, tmp_path, extra_env)
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
               os.path.join(HERE, 'playbooks', playbook)]
        if not os.path.exists(cmd[0]):
            cmd[0] = 'ansible-playbook'
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO, check=False)
        log = tmp_path / 'ansible.log'
        log.write_text(proc.stdout + '\n--- stderr ---\n' + proc.stderr)
        return proc
    return run
