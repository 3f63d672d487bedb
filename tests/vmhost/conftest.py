# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""VM host tier: playbooks run over SSH against the nested Debian VM host (real
device-mapper, LVM and libvirt inside), booted once for the session by lab/vmhost/up.sh
and stopped again at the end. A VM host that does not come up fails the run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_env  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


@pytest.fixture(scope='session')
def vmhost():
    up = subprocess.run(['bash', os.path.join(REPO, 'lab', 'vmhost', 'up.sh')], capture_output=True, text=True,
                        check=False)
    if up.returncode != 0:
        pytest.fail('the VM host did not come up: %s' % (up.stderr.strip()[-2000:] or up.stdout.strip()[-2000:]),
                    pytrace=False)
    env = ansible_env.vmhost_env(up.stdout)
    if not env.get('KVMST_VMHOST_INVENTORY'):
        pytest.fail('lab/vmhost/up.sh printed no inventory', pytrace=False)
    yield env
    if os.environ.get('KVMST_KEEP_VMHOST') != '1':
        subprocess.run(['bash', os.path.join(REPO, 'lab', 'vmhost', 'down.sh')], capture_output=True, check=False)


# A scenario takes up to about 12 min on a quiet machine and 40 under heavy load; a TCG VM
# host whose kernel locked up never answers again, and the run must fail, not hang CI.
PLAYBOOK_TIMEOUT = int(os.environ.get('KVMST_VMHOST_PLAYBOOK_TIMEOUT', '3600'))


def run_bounded(cmd, **kwargs):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=PLAYBOOK_TIMEOUT, **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail('%s did not end within %d s (is the VM host hung? see /var/log/kvmst-lab/vmhost-console.log)'
                    % (os.path.basename(cmd[-1]), PLAYBOOK_TIMEOUT), pytrace=False)


@pytest.fixture
def run_vmhost_playbook(vmhost, tmp_path):
    def run(playbook):
        env = ansible_env.playbook_env(tmp_path, vmhost)
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', vmhost['KVMST_VMHOST_INVENTORY'],
               os.path.join(HERE, playbook)]
        proc = run_bounded(cmd, env=env, cwd=REPO)
        (tmp_path / 'ansible.log').write_text(proc.stdout + '\n--- stderr ---\n' + proc.stderr)
        return proc
    return run
