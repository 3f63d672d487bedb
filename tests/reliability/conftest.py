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
import time

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


_INTEGRATION = _integration_conftest()
lab_env = _INTEGRATION.lab_env
ansible_env = _INTEGRATION.ansible_env


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


# --- appended for test_faults.py and test_safety.py --------------------------------------

def sh(script, check=True, timeout=300):
    """Run a bash script (set -e); returns stdout. A failure shows the script's stderr."""
    proc = subprocess.run(['bash', '-c', 'set -euo pipefail\n' + script], capture_output=True, text=True,
                          check=False, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail('shell step failed (rc %d):\n%s\n--- stderr ---\n%s' % (proc.returncode, script, proc.stderr),
                    pytrace=False)
    return proc.stdout


@pytest.fixture
def run_module(lab_env, tmp_path):  # noqa: F811  pylint: disable=redefined-outer-name
    """run_module(module, args, check=False) -> the module's result dict (one ad-hoc run
    against the lab inventory, JSON callback). ``module`` is the short name (``volume``).

    The ``ansible`` command, not pytest-ansible's ``ansible_adhoc``/``ansible_module``: in
    the pinned pytest-ansible (26.10) their host management is deprecated ("will be removed
    in a future release"), they drop check mode (``--check`` is parsed, never applied), and
    they run the play inside the test process (settings read once at import, signal
    handlers for the main thread only), so a per-call environment or kept remote files
    would need a forked child per call inside an xdist worker (tried: wip/s7-pytest)."""
    counter = {'n': 0}

    def run(module, args, check=False, keep_tmp=None):
        """keep_tmp: a folder for the module's remote temp files, kept after the run
        (ANSIBLE_KEEP_REMOTE_FILES), so a test sees what the module itself left there."""
        counter['n'] += 1
        cmd = [os.path.join(BIN, 'ansible'), 'lab', '-m', 'kvm.storage.' + module, '-a', json.dumps(args)]
        if check:
            cmd.append('--check')
        extra = {'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json', 'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1'}
        if keep_tmp:
            extra.update({'ANSIBLE_KEEP_REMOTE_FILES': '1', 'ANSIBLE_REMOTE_TMP': str(keep_tmp)})
        env = ansible_env(lab_env, tmp_path, extra)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO, check=False)
        (tmp_path / ('%02d-module-%s.log' % (counter['n'], module))).write_text(
            json.dumps(args) + '\n' + proc.stdout + '\n--- stderr ---\n' + proc.stderr)
        try:
            return json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']
        except (ValueError, KeyError, IndexError):
            pytest.fail('no module result from %s:\n%s\n%s' % (module, proc.stdout[-2000:], proc.stderr[-2000:]),
                        pytrace=False)
    return run


PATTERN_BYTES = 4 * 1024 * 1024


def write_pattern(image, fmt, seed, work_dir, size=PATTERN_BYTES):
    """Write ``size`` bytes of a seeded pseudo-random pattern at the start of the image
    (through qemu-img, so qcow2 works too); returns the pattern's sha256."""
    import hashlib
    import random
    data = random.Random(seed).randbytes(size)
    src = os.path.join(str(work_dir), 'pattern-%s.bin' % seed)
    with open(src, 'wb') as f:
        f.write(data)
    sh('qemu-img convert -n -f raw -O %s %s %s' % (fmt, src, image))
    os.unlink(src)
    return hashlib.sha256(data).hexdigest()


def read_sha(image, fmt, work_dir, size=PATTERN_BYTES):
    """sha256 of the first ``size`` bytes of the image's guest-visible data (qemu-img convert
    to raw, -U: a running guest may hold the image)."""
    import hashlib
    out = os.path.join(str(work_dir), 'readback.raw')
    sh('qemu-img convert -U -f %s -O raw %s %s' % (fmt, image, out))
    with open(out, 'rb') as f:
        digest = hashlib.sha256(f.read(size)).hexdigest()
    os.unlink(out)
    return digest


def virsh(*args, check=False):
    return subprocess.run(['virsh', '-q', '-c', 'qemu:///system'] + list(args), capture_output=True, text=True,
                          check=check)


def vol_names(pool):
    out = virsh('vol-list', '--pool', pool).stdout
    # an fs pool lists the filesystem's lost+found as a volume
    return sorted(n for n in (line.split()[0] for line in out.splitlines() if line.strip()) if n != 'lost+found')


def files_in(path):
    return sorted(n for n in os.listdir(path) if n != 'lost+found')


def drop_pool(name):
    virsh('pool-destroy', name)
    virsh('pool-undefine', name)


def wait_until(predicate, what, tries=3000, pause=0.1):
    """Poll; fail (not skip) when the lab never gets there. Counts tries, not seconds."""
    for dummy in range(tries):
        if predicate():
            return
        time.sleep(pause)
    pytest.fail('gave up waiting for %s' % what, pytrace=False)


def assert_clean_failure(result, *words):
    dump = json.dumps(result)
    assert result.get('failed') is True, dump
    assert not result.get('changed'), dump
    # ansible-core 2.19 adds exception: "(traceback unavailable)" to every failure.
    assert 'Traceback' not in dump and 'File "' not in result.get('exception', ''), dump
    assert '\n' not in result['msg'], dump
    for word in words:
        assert word in result['msg'], dump


def start_guest(name, folder, extra_cmdline='', devices=''):
    """Define and start a lab guest (lab/guest/domain-xml.sh) and wait until its console
    says it is ready; ``extra_cmdline`` goes on its kernel command line, ``devices`` (XML,
    such as a ``<disk>``) into its devices. The caller undefines it (see drop_guest)."""
    console = os.path.join(folder, name + '.console.log')
    xml = sh('KVMST_GUEST_CONSOLE_LOG=%s %s/lab/guest/domain-xml.sh %s' % (console, REPO, name))
    if extra_cmdline:
        xml = xml.replace('</cmdline>', ' %s</cmdline>' % extra_cmdline, 1)
    if devices:
        xml = xml.replace('<devices>', '<devices>' + devices, 1)
    path = os.path.join(folder, name + '.xml')
    with open(path, 'w') as f:
        f.write(xml)
    sh('virsh -q define %s >/dev/null && virsh -q start %s >/dev/null' % (path, name))
    wait_for_boot(name, console)


def console_text(path):
    """What a guest's console log holds so far ('' before qemu created it)."""
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return ''


def wait_for_boot(name, console, tries=3000, pause=0.1):
    """Wait until guest ``name`` printed its ready marker on ``console``. A guest that is
    no longer running fails at once, with its state and the console's last lines (they are
    removed with the test's folder): a guest kernel that panics at boot reboots, and
    on_reboot=destroy ends it."""
    for n in range(1, tries + 1):
        if 'KVMST-GUEST-READY' in console_text(console):
            return
        if n % 20 == 0:   # every 2 s: one virsh call, not ten a second
            state = virsh('domstate', '--reason', name).stdout.strip()
            if not state.startswith(('running', 'paused')):
                tail = console_text(console).splitlines()[-20:]
                pytest.fail('guest %s ended before it was ready (%s); its console: %s'
                            % (name, state or 'gone', ' | '.join(tail) or '(empty)'), pytrace=False)
        time.sleep(pause)
    pytest.fail('gave up waiting for guest %s to boot (console %s)' % (name, console), pytrace=False)


def drop_guest(name):
    virsh('destroy', name)
    virsh('undefine', name)
