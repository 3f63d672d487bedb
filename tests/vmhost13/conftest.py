# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Debian 13 VM host tier: the nested trixie VM host (systemd, kernel 6.12, Python 3.13,
qemu 10; libvirt 11 installed by the hypervisor role in this tier), booted once for the
tier by ``KVMST_VMHOST_SUITE=trixie lab/vmhost/up.sh`` and stopped again at the end. It
runs beside the Debian 12 VM host (own name, port, run directory, disks, lock).

The test files run in their numbered order: the role installs libvirt first, the scenarios
after it use that libvirt. A VM host that does not come up fails the run. Each step's wall
time is printed at the end (and written to /var/log/kvmst-lab/vmhost13-times.txt).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_env  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LAB_ENV = {'KVMST_VMHOST_SUITE': 'trixie'}
HOST = 'kvmst-vmhost13'
TIMES_FILE = '/var/log/kvmst-lab/vmhost13-times.txt'

# A TCG VM host whose kernel locked up never answers again: the run must fail, not hang CI.
PLAYBOOK_TIMEOUT = int(os.environ.get('KVMST_VMHOST_PLAYBOOK_TIMEOUT', '3600'))

TIMES = []


def record_time(step, seconds):
    TIMES.append((step, seconds))


def pytest_terminal_summary(terminalreporter):
    if not TIMES:
        return
    terminalreporter.section('Debian 13 VM host: wall time per step')
    lines = ['%-60s %7.1f s' % (step, seconds) for step, seconds in TIMES]
    for line in lines:
        terminalreporter.write_line(line)
    try:
        with open(TIMES_FILE, 'a', encoding='utf-8') as handle:
            handle.write('== %s\n%s\n' % (time.strftime('%Y-%m-%dT%H:%M:%S'), '\n'.join(lines)))
    except OSError:
        pass


def lab_script(name, *args, timeout=None):
    env = dict(os.environ)
    env.update(LAB_ENV)
    try:
        return subprocess.run(['bash', os.path.join(REPO, 'lab', 'vmhost', name)] + list(args), capture_output=True,
                              text=True, check=False, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail('lab/vmhost/%s %s did not end within %s s' % (name, ' '.join(args), timeout), pytrace=False)


@pytest.fixture(scope='session')
def vmhost13():
    start = time.monotonic()
    up = lab_script('up.sh')
    if up.returncode != 0:
        pytest.fail('the Debian 13 VM host did not come up: %s'
                    % (up.stderr.strip()[-2000:] or up.stdout.strip()[-2000:]), pytrace=False)
    record_time('up.sh (build when needed, boot to SSH)', time.monotonic() - start)
    env = ansible_env.vmhost_env(up.stdout)
    if env.get('KVMST_VMHOST_NAME') != HOST or not env.get('KVMST_VMHOST_INVENTORY'):
        pytest.fail('KVMST_VMHOST_SUITE=trixie lab/vmhost/up.sh printed no %s inventory: %s' % (HOST, up.stdout),
                    pytrace=False)
    yield env
    if os.environ.get('KVMST_KEEP_VMHOST') != '1':
        lab_script('down.sh')


@pytest.fixture(scope='session')
def ssh13(vmhost13):
    """Run a shell command on the VM host as root; returns the CompletedProcess."""
    def run(command, timeout=600):
        return lab_script('ssh.sh', command, timeout=timeout)
    return run


RECAP = re.compile(r'^%s\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)' % re.escape(HOST), re.M)


class PlayResult:
    def __init__(self, proc, seconds):
        self.proc = proc
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.seconds = seconds
        m = RECAP.search(proc.stdout)
        self.recap = None if m is None else dict(zip(('ok', 'changed', 'unreachable', 'failed'),
                                                     (int(x) for x in m.groups())))

    def tasks(self, status):
        """Names of the tasks that reported STATUS (changed, ok, fatal, skipping) for the host."""
        names, current = [], None
        for line in self.stdout.splitlines():
            m = re.match(r'TASK \[(.*)\] \**$', line)
            if m:
                current = m.group(1)
                continue
            if current and re.match(r'%s: \[%s' % (status, re.escape(HOST)), line):
                if current not in names:
                    names.append(current)
        return names

    def explain(self):
        fatal = [line[:2000] for line in self.stdout.splitlines() if re.match(r'\s*(fatal|failed): \[', line)]
        return '\n'.join(self.stdout.splitlines()[-60:] + ['--- stderr ---'] + self.proc.stderr.splitlines()[-8:]
                         + ['--- failed tasks ---'] + (fatal or ['(no fatal line: rc %d)' % self.rc]))


@pytest.fixture
def play13(vmhost13, tmp_path):
    """Run a playbook against the VM host: play13(path, check=False, extra_vars=None, step=None)."""
    def run(playbook, check=False, extra_vars=None, step=None):
        env = ansible_env.playbook_env(tmp_path, vmhost13)
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
               '-i', vmhost13['KVMST_VMHOST_INVENTORY'], playbook]
        if check:
            cmd.append('--check')
        for key, value in (extra_vars or {}).items():
            cmd += ['-e', '%s=%s' % (key, value)]
        start = time.monotonic()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=PLAYBOOK_TIMEOUT,
                                  env=env, cwd=REPO)
        except subprocess.TimeoutExpired:
            pytest.fail('%s did not end within %d s (is the VM host hung? see '
                        '/var/log/kvmst-lab/vmhost13-console.log)' % (os.path.basename(playbook), PLAYBOOK_TIMEOUT),
                        pytrace=False)
        seconds = time.monotonic() - start
        if step:
            record_time(step, seconds)
        log = tmp_path / ('%s.log' % (step or os.path.basename(playbook))).replace(' ', '_').replace('/', '_')
        log.write_text(proc.stdout + '\n--- stderr ---\n' + proc.stderr)
        return PlayResult(proc, seconds)
    return run


def assert_play_passed(result):
    """The play ended without failure on the VM host."""
    if result.rc != 0 or result.recap is None or result.recap['failed'] or result.recap['unreachable']:
        pytest.fail(result.explain(), pytrace=False)
