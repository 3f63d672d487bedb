# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""VM host tier: playbooks run over SSH against the nested Debian VM host (real
device-mapper, LVM and libvirt inside), booted once by lab/vmhost/up.sh and stopped again
at the end. A VM host that does not come up fails the run.

`make vmhost` runs the scenarios on two xdist workers against the one VM host (it has two
vCPUs and each module call keeps one busy under TCG): every scenario has its own disk or
loop devices, VG, pool and guest names. The first worker to need the VM host boots it
(up.sh holds a lock, the second finds it up); only the controlling process stops it, once
every worker is done."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.path.join(REPO, '.cache', 'collections')


@pytest.fixture(scope='session')
def vmhost():
    up = subprocess.run(['bash', os.path.join(REPO, 'lab', 'vmhost', 'up.sh')], capture_output=True, text=True,
                        check=False)
    if up.returncode != 0:
        pytest.fail('the VM host did not come up: %s' % (up.stderr.strip()[-2000:] or up.stdout.strip()[-2000:]),
                    pytrace=False)
    env = {}
    for line in up.stdout.splitlines():
        if line.startswith('KVMST_VMHOST_') and '=' in line:
            key, value = line.split('=', 1)
            env[key] = value
    if not env.get('KVMST_VMHOST_INVENTORY'):
        pytest.fail('lab/vmhost/up.sh printed no inventory', pytrace=False)
    return env


# The order the two workers take the scenarios in. xdist's `load` scheduling gives the first
# two items to one worker, the next two to the other, and each later item to whichever is
# free first; on this lab lvm_thin.yml + the examples and the profile_lvm_thin molecule
# scenario + logical_pool.yml take about as long (1,000 and 880 s of 2,040 s), and the short
# lvm_thin_profiles.yml goes last. Only the wall time depends on it; nothing asserts on time.
ORDER = ['lvm_thin.yml', 'test_lvm_thin_examples', 'profile_lvm_thin', 'logical_pool.yml']


def _rank(item):
    spec = getattr(item, 'callspec', None)
    names = [v for v in spec.params.values() if isinstance(v, str)] if spec else []
    names.append(item.originalname)
    return min([ORDER.index(n) for n in names if n in ORDER] + [len(ORDER)])


def pytest_collection_modifyitems(items):
    items.sort(key=_rank)


def pytest_sessionfinish(session):
    # xdist workers carry `workerinput`; the VM host outlives them and is stopped here, by a
    # session that ran scenarios (a --collect-only or an empty -k must not stop a VM host
    # another run is using).
    if hasattr(session.config, 'workerinput') or os.environ.get('KVMST_KEEP_VMHOST') == '1':
        return
    if session.config.option.collectonly or not session.testscollected:
        return
    subprocess.run(['bash', os.path.join(REPO, 'lab', 'vmhost', 'down.sh')], capture_output=True, check=False)


@pytest.fixture
def run_vmhost_playbook(vmhost, tmp_path):
    def run(playbook):
        env = dict(os.environ)
        env.update(vmhost)
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS,
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_HOST_KEY_CHECKING': '0',
            'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'),
            'ANSIBLE_HOME': str(tmp_path / 'ansible-home'),
        })
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', vmhost['KVMST_VMHOST_INVENTORY'],
               os.path.join(HERE, playbook)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO, check=False)
        (tmp_path / 'ansible.log').write_text(proc.stdout + '\n--- stderr ---\n' + proc.stderr)
        return proc
    return run
