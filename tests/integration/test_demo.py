# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make demo` twice (the second run changes nothing), then `make demo-clean`, which must
leave no kvmdemo- pool or guest and no /var/lib/kvmdemo behind.

The commands are the Makefile's (ansible-playbook -i playbooks/inventory/demo.ini
playbooks/demo.yml [-e demo_state=absent]). A demo someone built by hand on this host is
removed by the test's clean step, as `make demo-clean` would.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from conftest import COLLECTIONS, REPO

ROOT = '/var/lib/kvmdemo'


def _names(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return sorted(n.strip() for n in out.splitlines() if n.strip().startswith('kvmdemo-'))


def _recap(stdout):
    m = re.search(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', stdout)
    assert m, 'no play recap:\n' + stdout[-3000:]
    return dict(zip(('ok', 'changed', 'unreachable', 'failed'), map(int, m.groups())))


@pytest.fixture
def demo(lab_env, tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-local'))
    runs = []

    def run(*extra):
        cmd = [os.path.join(REPO, '.venv', 'bin', 'ansible-playbook'), '-i', 'playbooks/inventory/demo.ini',
               'playbooks/demo.yml'] + list(extra)
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
        runs.append(proc)
        (tmp_path / ('run%d.log' % len(runs))).write_text(proc.stdout + '\n--- stderr ---\n' + proc.stderr)
        return proc

    yield run
    # Teardown: whatever happened above, the demo is removed (unless the test's own clean ran).
    if not any('demo_state=absent' in p.args for p in runs):
        run('-e', 'demo_state=absent')


def test_demo_twice_then_clean(demo):
    first = demo()
    assert first.returncode == 0 and _recap(first.stdout)['failed'] == 0, first.stdout[-4000:]
    # The summary shows every disk on its bus, all there since the first boot (the SATA
    # CD-ROMs were attached before it: q35 cannot hot-plug them); the guest printed the
    # seed's user-data on its console (the play waited for it).
    for row in (r'vda\s+virtio\s+disk\s+yes\s+yes\s+kvmdemo-images/g1-root.qcow2',
                r'sd.\s+scsi\s+disk\s+yes\s+yes\s+kvmdemo-images/g1-data.qcow2',
                r'sd.\s+usb\s+disk\s+yes\s+yes\s+kvmdemo-images/g1-usb.raw',
                r'sd.\s+sata\s+cdrom\s+yes\s+yes\s+kvmdemo-isos/tools.iso',
                r'sd.\s+sata\s+cdrom\s+yes\s+yes\s+kvmdemo-isos/g1-seed.iso',
                r'GUEST kvmdemo-g1 \(running\)',
                r'TASK \[Its init read the seed ISO and printed the user-data on the console\][^\n]*\nok: '):
        assert re.search(row, first.stdout), row + '\n' + first.stdout[-4000:]
    assert _names(['virsh', '-q', 'pool-list', '--all', '--name']) == ['kvmdemo-images', 'kvmdemo-isos']
    assert _names(['virsh', '-q', 'list', '--name']) == ['kvmdemo-g1']

    second = demo()
    recap = _recap(second.stdout)
    assert second.returncode == 0 and recap['failed'] == 0, second.stdout[-4000:]
    assert recap['changed'] == 0, second.stdout[-4000:]

    clean = demo('-e', 'demo_state=absent')
    assert clean.returncode == 0 and _recap(clean.stdout)['changed'] > 0, clean.stdout[-4000:]
    assert _names(['virsh', '-q', 'pool-list', '--all', '--name']) == []
    assert _names(['virsh', '-q', 'list', '--all', '--name']) == []
    assert not os.path.exists(ROOT)
