# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the benchmarks share: the playbook environment, timed runs, the direct-API helper."""

import atexit
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
INVENTORY = os.path.join(REPO, 'tests', 'integration', 'inventory.ini')
HOST_PYTHON = '/usr/bin/python3'   # the modules' Python (python3-libvirt), as in the inventory
POOL = 'kvmst-bench'
TARGET = '/var/tmp/kvmst-bench'
# The peer comes from the `ansible` package installed in this virtualenv (requirements/bench.txt).
PEER_PATH = sysconfig.get_paths()['purelib']
COLLECTIONS = os.pathsep.join([os.path.join(REPO, '.cache', 'collections'), PEER_PATH])
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')

_tmp = tempfile.mkdtemp(prefix='kvmst-bench-')
atexit.register(shutil.rmtree, _tmp, True)
ENV = dict(os.environ)
ENV.update({
    'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS,
    'ANSIBLE_INVENTORY': INVENTORY,
    'ANSIBLE_NOCOLOR': '1',
    'ANSIBLE_RETRY_FILES_ENABLED': '0',
    'ANSIBLE_DEPRECATION_WARNINGS': '0',
    'ANSIBLE_LOCAL_TEMP': os.path.join(_tmp, 'local'),
    'ANSIBLE_HOME': os.path.join(_tmp, 'home'),
})


def check_prerequisites(peer=False):
    if not os.path.exists(PLAYBOOK):
        sys.exit('run with the virtualenv: .venv/bin/python %s' % sys.argv[0])
    if not os.path.isdir(os.path.join(REPO, '.cache', 'collections', 'ansible_collections', 'kvm', 'storage')):
        sys.exit('the collection is not linked under .cache/collections: run `make collection`')
    if peer and not os.path.isdir(os.path.join(PEER_PATH, 'ansible_collections', 'community', 'libvirt')):
        sys.exit('community.libvirt is missing: .venv/bin/pip install -r requirements/bench.txt')
    if subprocess.run(['virsh', '-c', 'qemu:///system', 'uri'], capture_output=True, check=False).returncode:
        sys.exit('libvirtd does not answer at qemu:///system: bash lab/services.sh start')


def direct(command, *args):
    """Run bench/direct.py with the host's Python; returns (wall seconds, its JSON answer)."""
    start = time.perf_counter()
    proc = subprocess.run([HOST_PYTHON, os.path.join(BENCH, 'direct.py'), command] + [str(a) for a in args],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError('direct.py %s failed: %s' % (command, proc.stderr.strip()))
    return wall, json.loads(proc.stdout.strip().splitlines()[-1])


def json_file(data):
    """``data`` as a JSON file in this run's temp dir; returns its path."""
    with tempfile.NamedTemporaryFile('w', suffix='.json', dir=_tmp, delete=False) as f:
        json.dump(data, f)
    return f.name


def playbook(name, extra_vars, env=None):
    """Run bench/<name> with ansible-playbook; returns (wall seconds, stdout).
    Fails on a failed task: a benchmark of a failing run means nothing."""
    with tempfile.NamedTemporaryFile('w', suffix='.json', dir=_tmp, delete=False) as f:
        json.dump(extra_vars, f)
    start = time.perf_counter()
    proc = subprocess.run([PLAYBOOK, os.path.join(BENCH, name), '-e', '@' + f.name],
                          env=dict(ENV, **(env or {})), cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError('%s failed (rc %d):\n%s\n%s' % (name, proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))
    return wall, proc.stdout


def module_file(name, extra_vars, module):
    """Run the playbook keeping the module file Ansible ships to the host (AnsiballZ, with
    its arguments inside) and return its path: running it with the host's Python times the
    module alone, without ansible-playbook around it.  It lives in this run's temp dir."""
    remote = tempfile.mkdtemp(dir=_tmp)
    playbook(name, extra_vars, {'ANSIBLE_KEEP_REMOTE_FILES': '1', 'ANSIBLE_REMOTE_TMP': remote})
    return glob.glob(os.path.join(remote, '*', 'AnsiballZ_%s.py' % module))[0]


def run_module(path):
    """Wall seconds of one run of a kept module file with the host's Python."""
    start = time.perf_counter()
    proc = subprocess.run([HOST_PYTHON, path], capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError('%s failed: %s' % (path, proc.stdout[-2000:] + proc.stderr[-2000:]))
    return time.perf_counter() - start


def recap_changed(stdout):
    """The number of changed task results in the play recap."""
    match = re.search(r'changed=(\d+)', stdout)
    return int(match.group(1)) if match else None


def median(values):
    return statistics.median(values)
