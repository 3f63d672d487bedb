# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secret values never leave the module: secrets/leaks.yml runs every path that carries a
secret value (kvm.storage.secret ``value``, the only no_log option; an encrypted volume and
a pool whose <auth> refer to the secrets) at -vvvv, in check and diff mode, with passing
and failing calls, through ansible_runner (as AWX runs it) while a thread samples every
process's command line and environment. No value, and no base64
form of one, may appear in the output, the results, any file ansible-runner writes, or
the process table.

(tests/integration/test_secret_leaks.py scans the -vvvv output of the integration
scenario; this one adds runner artifacts, the process table, failing calls and the
volume and pool paths.)
"""

from __future__ import annotations

import base64
import glob
import json
import os
import subprocess
import threading

import ansible_runner
import yaml

from conftest import BIN, COLLECTIONS, INVENTORY, ansible_env

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOK = os.path.join(HERE, 'secrets', 'leaks.yml')
MARK = 'kvmst-rel-h-s3cr3t'


def _needles():
    """Every secret value of the play in plain and base64 form, as bytes."""
    with open(os.path.join(HERE, 'secrets', 'values.yml')) as handle:
        values = yaml.safe_load(handle)
    plain = [v for v in values.values() if v.startswith(MARK)]
    given_b64 = [v for v in values.values() if not v.startswith(MARK)]
    plain += [base64.b64decode(v).decode('utf-8') for v in given_b64]
    assert all(v.startswith(MARK) for v in plain) and len(plain) == len(values)
    forms = plain + given_b64 + [base64.b64encode(v.encode('utf-8')).decode('ascii') for v in plain]
    return sorted(set(f.encode('utf-8') for f in forms))


class ProcessWatch(threading.Thread):
    """Samples /proc/*/cmdline (and, less often, environ) until stopped."""

    # Command lines that prove the watch saw the run: the play and the modules' Python.
    MARKERS = (b'leaks.yml', b'AnsiballZ_secret')

    def __init__(self, needles):
        super().__init__(daemon=True)
        self.needles = needles
        self.stop = threading.Event()
        self.hits = []
        self.samples = 0
        self.seen = set()

    def run(self):
        while not self.stop.is_set():
            self.samples += 1
            kinds = ('cmdline', 'environ') if self.samples % 10 == 0 else ('cmdline',)
            for path in glob.glob('/proc/[0-9]*'):
                for kind in kinds:
                    try:
                        with open(os.path.join(path, kind), 'rb') as handle:
                            data = handle.read()
                    except OSError:
                        continue
                    if kind == 'cmdline':
                        self.seen.update(m for m in self.MARKERS if m in data)
                    for needle in self.needles:
                        if needle in data:
                            self.hits.append((kind, data.replace(b'\0', b' ')[:300]))
            self.stop.wait(0.01)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join()


def _hits(needles, data):
    return [n.decode() for n in needles if n in data]


def _secrets_left():
    out = subprocess.run(['virsh', '-q', 'secret-list'], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if 'kvmst-rel-leak' in line]


def test_no_secret_in_output_results_artifacts_or_process_table(lab_env, tmp_path, monkeypatch):
    needles = _needles()
    private = tmp_path / 'runner'
    private.mkdir()
    env = ansible_env(lab_env, tmp_path)
    env = dict((k, v) for k, v in env.items() if k.startswith(('ANSIBLE_', 'KVMST_', 'LIBVIRT_')) or k in ('PATH', 'HOME'))
    env['ANSIBLE_COLLECTIONS_PATH'] = COLLECTIONS
    # ansible-runner finds ansible-playbook on the PATH of this process.
    monkeypatch.setenv('PATH', BIN + os.pathsep + os.environ['PATH'])
    env['PATH'] = os.environ['PATH']
    with ProcessWatch(needles) as watch:
        runner = ansible_runner.run(private_data_dir=str(private), project_dir=os.path.dirname(PLAYBOOK),
                                    playbook=os.path.basename(PLAYBOOK), inventory=INVENTORY,
                                    envvars=env, verbosity=4, quiet=True)
    assert runner.status == 'successful', runner.stdout.read()[-4000:]
    out = (private / 'artifacts' / runner.config.ident / 'stdout').read_bytes()
    assert b'ESTABLISH LOCAL CONNECTION' in out and b'"diff"' in out      # -vvvv and diff took effect
    assert b'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in out                  # the values were there to leak
    assert not _hits(needles, out), 'secret values in the -vvvv output: %r' % _hits(needles, out)
    files = [p for p in private.rglob('*') if p.is_file()]
    assert any(p.parts[-2] == 'job_events' for p in files) and any(p.name == 'stdout' for p in files), files
    leaked = {}
    for path in files:
        found = _hits(needles, path.read_bytes())
        if found:
            leaked[str(path.relative_to(private))] = found
    assert not leaked, 'secret values in ansible-runner artifacts: %r' % leaked
    # The returned results, event by event (the same data, read the way AWX reads it).
    results = [e['event_data']['res'] for e in runner.events if 'res' in e.get('event_data', {})]
    assert any('secret' in json.dumps(r) for r in results)
    assert not _hits(needles, json.dumps(results).encode('utf-8'))
    # The watch ran while the modules and qemu-img ran; none had a value on its command line.
    assert watch.samples > 10 and watch.seen == set(ProcessWatch.MARKERS), (watch.samples, watch.seen)
    assert not watch.hits, 'secret values in the process table: %r' % watch.hits[:3]
    assert not _secrets_left()
