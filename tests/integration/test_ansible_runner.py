# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/guest_disks.yml run the way AWX runs a job template: ansible_runner.run with
a private data directory (inventory, env), the playbook and extra vars, then judged by the
artifacts only - status, rc, stats and the job events with the module results.

The guest kvmst-roles-runner is defined but not started (a stopped guest takes disks in
its definition: fast, no TCG boot); it and its image files are removed in teardown.
"""

from __future__ import annotations

import os
import subprocess
import sys

import ansible_runner
import pytest

from conftest import COLLECTIONS, REPO

GUEST = 'kvmst-roles-runner'
BASE = '/var/tmp/kvmst-roles-runner'
TASK = "Attach or detach every guest's disks (one plan)"


def _virsh(*args, check=True):
    return subprocess.run(['virsh', '-q'] + list(args), capture_output=True, text=True, check=check)


def _config_targets():
    return sorted(line.split()[0] for line in _virsh('domblklist', '--inactive', GUEST).stdout.splitlines() if line.strip())


@pytest.fixture
def guest(lab_env):
    os.makedirs(BASE, exist_ok=True)
    xml = subprocess.run([os.path.join(REPO, 'lab', 'guest', 'domain-xml.sh'), GUEST], capture_output=True,
                         text=True, check=True).stdout
    with open(os.path.join(BASE, 'guest.xml'), 'w') as f:
        f.write(xml)
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', os.path.join(BASE, 'data.qcow2'), '32M'], check=True)
    subprocess.run(['truncate', '-s', '16M', os.path.join(BASE, 'scsi.raw')], check=True)
    _virsh('define', os.path.join(BASE, 'guest.xml'))
    yield GUEST
    _virsh('destroy', GUEST, check=False)
    _virsh('undefine', GUEST, check=False)
    subprocess.run(['rm', '-rf', BASE], check=True)


@pytest.fixture
def job(tmp_path):
    """job(extravars) -> the ansible_runner Runner of one run of playbooks/guest_disks.yml."""
    counter = {'n': 0}

    def run(extravars):
        counter['n'] += 1
        pdd = tmp_path / ('job%d' % counter['n'])
        (pdd / 'inventory').mkdir(parents=True)
        (pdd / 'inventory' / 'hosts').write_text(
            '[hypervisors]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n')
        return ansible_runner.run(
            private_data_dir=str(pdd),
            playbook=os.path.join(REPO, 'playbooks', 'guest_disks.yml'),
            extravars=extravars,
            # The virtualenv's ansible-playbook first on PATH (under AWX: the execution environment's).
            envvars={'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS, 'ANSIBLE_NOCOLOR': '1',
                     'PATH': os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')},
            quiet=True,
        )
    return run


def _task_results(runner, task=TASK):
    """The module results of ``task`` (the role's one host_storage call), from the job events."""
    return [e['event_data']['res'] for e in runner.events
            if e['event'] in ('runner_on_ok', 'runner_on_failed') and e['event_data'].get('task') == task]


def _disks(state='present'):
    return {'guest_disks_defaults': {'state': state},
            'guest_disks_guests': {GUEST: [
                {'source': {'file': BASE + '/data.qcow2'}, 'format': 'qcow2', 'target': 'vdb'},
                {'bus': 'scsi', 'source': {'file': BASE + '/scsi.raw'}, 'discard': 'unmap', 'target': 'sda'},
            ]}}


def test_guest_disks_job(guest, job):
    attach = job(_disks())
    assert (attach.status, attach.rc) == ('successful', 0)
    # stats count tasks (the one host_storage call changed); its event carries every disk's actions
    assert attach.stats['changed'] == {'localhost': 1} and not attach.stats['failures']
    results = _task_results(attach)
    assert [r['actions'] for r in results] == [[
        'attach disk vdb (virtio, %s/data.qcow2) to guest %s (persistent)' % (BASE, GUEST),
        'add virtio-scsi controller 0 to guest %s (persistent)' % GUEST,
        'attach disk sda (scsi, %s/scsi.raw) to guest %s (persistent)' % (BASE, GUEST),
    ]], results
    assert _config_targets() == ['sda', 'vdb']

    again = job(_disks())
    assert (again.status, again.rc) == ('successful', 0)
    assert not again.stats['changed'], again.stats
    assert [(r['changed'], r['actions']) for r in _task_results(again)] == [(False, [])]

    # A typo in a disk key fails the job in the role's validation, before any disk call.
    typo = _disks('absent')
    typo['guest_disks_guests'][GUEST][1]['buss'] = 'scsi'
    refused = job(typo)
    assert (refused.status, refused.rc != 0) == ('failed', True)
    failed = [e['event_data'] for e in refused.events if e['event'] == 'runner_on_failed']
    assert [f['task'] for f in failed] == ['Refuse unknown disk options']
    assert 'buss' in failed[0]['res']['msg']
    assert _task_results(refused) == []
    assert _config_targets() == ['sda', 'vdb']

    detach = job(_disks('absent'))
    assert (detach.status, detach.rc) == ('successful', 0)
    assert detach.stats['changed'] == {'localhost': 1}
    [detached] = _task_results(detach)
    assert detached['changed'] and detached['actions'] and all(a.startswith('detach ') for a in detached['actions'])
    assert _config_targets() == []
