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

import glob
import os
import re
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import molecule_scenarios  # noqa: E402  pylint: disable=wrong-import-position

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


# Scenarios that put pools on the lab's one gluster volume or one iSCSI target run one
# after another: libvirt refuses a second pool on a source that another pool already uses
# ("Storage source conflict"). They live in test_shared_backends.py, and `make
# integration` runs test files on two xdist workers (--dist loadfile), so everything else
# runs beside them. (xdist_group marks would say this per test, but xdist 3.8 ignores
# them under pytest 9: seen here.) The molecule profiles join them: gluster and san use
# those backends, and all three name their pools kvmst-prof-*, which their checks read.
# The examples a reader copies (examples_story.py, test_examples_story.py) use both
# backends too, but a gluster volume and iSCSI targets of their own: they run beside these.
SHARED_PLAYBOOKS = frozenset(['disk_guest.yml', 'disk_live.yml', 'pool_gluster.yml', 'pool_iscsi_direct.yml',
                              'volume_edges.yml', 'volume_gluster.yml', 'secret.yml'])
SHARED_MOLECULE = frozenset(['profile_gluster', 'profile_local', 'profile_san'])

# kvmst- words that name no object of one scenario (folders, the lab's own names).
_NOT_OWNED = {'kvmst-', 'kvmst-it', 'kvmst-lab', 'kvmst-prof'}


def owned_names(*paths):
    """The ``kvmst-`` names and name prefixes a scenario's files spell: what it makes is
    named from these, so its leftovers are told apart from those of a scenario running
    beside it."""
    words = set()
    for path in paths:
        files = [path] if os.path.isfile(path) else [
            os.path.join(d, f) for d, dummy, fs in os.walk(path) for f in fs if f.endswith(('.yml', '.yaml'))]
        for name in files:
            with open(name, encoding='utf-8') as handle:
                words.update(re.findall(r'kvmst-[A-Za-z0-9_.-]*[A-Za-z0-9_-]', handle.read()))
    return sorted(words - _NOT_OWNED)


def named_by(name, owned):
    """NAME is one of the ``owned`` names (a word ending in a dash is a prefix:
    ``kvmst-prof-local-`` owns ``kvmst-prof-local-images``)."""
    return any(name == w or (w.endswith('-') and name.startswith(w)) for w in owned)


def left_behind(kind, before, owned):
    """``kind`` objects that are new since ``before`` and carry one of the ``owned`` names."""
    return sorted(n for n in set(libvirt_objects(kind)) - set(before) if named_by(n, owned))


# What the other lane of `make test` makes in this libvirtd while this tier runs: the VM host
# tier's migration scenario (kvmst-mig-*) and the matrix smoke plays (kvmst-mx-*), each with
# its own teardown check. Seen at this tier's end they are not its leftovers (a fresh-clone
# run failed so once the VM host tier got faster and its migration overlapped this end).
OTHER_LANE = owned_names(os.path.join(REPO, 'tests', 'vmhost'), os.path.join(REPO, 'tests', 'matrix'))


def pytest_sessionstart(session):
    if not hasattr(session.config, 'workerinput'):   # the xdist controller, or a plain run
        try:
            session.config.kvmst_before = {k: set(libvirt_objects(k)) for k in ('pool', 'domain', 'secret')}
        except (OSError, subprocess.CalledProcessError):
            pass   # libvirtd does not answer: every test fails on the lab_env fixture instead


def pytest_sessionfinish(session, exitstatus):
    """The tier as a whole left no kvmst- pool, guest or secret (the per-test checks see
    only the names a scenario spells; this sees every name)."""
    before = getattr(session.config, 'kvmst_before', None)
    if before is None:
        return
    left = {k: sorted(n for n in set(libvirt_objects(k)) - names if not named_by(n, OTHER_LANE))
            for k, names in before.items()}
    left = {k: v for k, v in left.items() if v}
    if left:
        session.config.get_terminal_writer().line('the integration tier left kvmst- objects behind: %s' % left, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _recap(stdout):
    m = re.search(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', stdout)
    return None if m is None else dict(zip(('ok', 'changed', 'unreachable', 'failed'), map(int, m.groups())))


def assert_scenario_passed(playbook, proc, before):
    """The play recap shows no failure, no traceback, and the scenario removed every
    pool it made (``before``: the pools before it ran)."""
    tail = '\n'.join(proc.stdout.splitlines()[-60:] + ['--- stderr (last lines) ---'] + proc.stderr.splitlines()[-8:])
    recap = _recap(proc.stdout)
    assert recap is not None, 'no play recap:\n' + tail
    assert proc.returncode == 0 and recap['failed'] == 0 and recap['unreachable'] == 0, tail
    assert recap['ok'] > 0
    # Teardown check: what the scenario made, it removed (its own names only: another
    # scenario may be running beside it).
    leftover = left_behind('pool', before, owned_names(os.path.join(HERE, 'playbooks', playbook)))
    assert not leftover, 'scenario %s left pools behind: %s' % (playbook, leftover)
    assert 'Traceback' not in proc.stdout, tail


def playbooks(shared):
    """The scenario playbooks that use the shared backends (True) or not (False)."""
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(HERE, 'playbooks', '*.yml')))
    return [n for n in names if (n in SHARED_PLAYBOOKS) == shared]


def check_scenario(playbook, run_playbook, extra_env=None):
    """Run one scenario playbook and check it (assert_scenario_passed); returns the process."""
    before = libvirt_objects('pool')
    proc = run_playbook(playbook, extra_env)
    assert_scenario_passed(playbook, proc, before)
    return proc


def check_molecule(scenario, lab_env, tmp_path):
    """``molecule test`` of one scenario: every step passed, check mode told the truth, and
    it left no pool or guest of its own names behind."""
    before = {kind: set(libvirt_objects(kind)) for kind in ('pool', 'domain')}
    owned = owned_names(os.path.join(molecule_scenarios.MOLECULE_ROOT, scenario))
    env = dict(lab_env)
    env['ANSIBLE_LOCAL_TEMP'] = str(tmp_path / 'ansible-local')
    rc, log = molecule_scenarios.run(scenario, str(tmp_path / 'molecule.log'), env)
    molecule_scenarios.assert_passed(rc, log)
    for kind, names in before.items():
        left = left_behind(kind, names, owned)
        assert not left, 'scenario %s left %ss behind: %s' % (scenario, kind, left)


def libvirt_objects(kind):
    """Names of this test suite's libvirt objects of ``kind`` (pool, vol-less listing)."""
    cmd = {'pool': ['virsh', '-q', 'pool-list', '--all', '--name'],
           'domain': ['virsh', '-q', 'list', '--all', '--name'],
           'secret': ['virsh', '-q', 'secret-list']}[kind]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lines = [n.strip() for n in out.splitlines() if n.strip()]
    if kind == 'secret':   # "<uuid>  <usage type>  <usage id>": ours name a kvmst- path or id
        return sorted(n for n in lines if PREFIX in n)
    return sorted(n for n in lines if n.startswith(PREFIX))


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
