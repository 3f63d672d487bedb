# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every example a reader copies runs as written on the lab (issue 17). The tests are in
test_examples_story.py. The examples' pools use a gluster volume and iSCSI targets of this
story's own (Lab.up makes them, the story's teardown removes them), never the lab's shared
kvmst-gv0 or store1 target: so the story runs beside test_shared_backends.py (`make
integration`: two xdist workers, one test file each at a time).

tests/examples.py extracts the module EXAMPLES and the code blocks of the guides and
substitutes names, hosts and paths (its table); nothing else changes. Then:

- the module examples run as one story, in MODULE_ORDER, in one ansible-playbook run: each
  example that changes state runs in check mode, as written, again and in check mode again,
  and check mode must have predicted it (changed, the same actions) and the second run must
  change nothing (unless the example says it does not: NOT_IDEMPOTENT);
- the guides' playbooks run as the quick start says, whole: check mode, real, again, check
  mode again (a drift check only in the last two); check mode must predict every change of
  the real run, and the last two must change nothing;
- every result of a kvm.storage module carries only keys its RETURN documents.

The first example that does not work as written fails the test, named by its tag
(``[volume#3]``: the fourth example of kvm.storage.volume; ``[docs/docsite/rst/guide_gitops.rst#7]``:
the eighth code block of the GitOps guide). What the examples take as given (guests, a template
image, an ISO, vault variables) is made first: examples.PRECONDITIONS and VARIABLES.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from conftest import COLLECTIONS, HERE, REPO, ansible_env

sys.path.insert(0, os.path.dirname(HERE))
import examples  # noqa: E402  pylint: disable=wrong-import-position

CALLBACKS = os.path.join(HERE, 'files', 'callback_plugins')
GUEST_XML = os.path.join(REPO, 'lab', 'guest', 'domain-xml.sh')
CHAP_IQN = 'iqn.2026-11.test.kvmst:kvmst-ex-chap'
PLAIN_IQN = 'iqn.2026-11.test.kvmst:kvmst-ex-store'   # the plain target (the lab's store1 has its LUNs)
PLAIN_LUN_SIZES = ('64M', '128M')                   # as lab/fixtures.sh's ISCSI_LUN_SIZES
GLUSTER_VOLUME = 'kvmst-ex-gv0'
FIXTURES = os.path.join(REPO, 'lab', 'fixtures.sh')
CHAP_USER = 'kvmst-ex-hv1'
CEPH_UUID = '5d2e7d7a-8f0e-4c4e-9a8d-2b1f4c1e9a10'   # the secret example's fixed UUID
PHASES = (('check mode', ['--check', '--diff']), ('real', ['--diff']), ('again', []), ('check mode again', ['--check']))


def _sh(*cmd, **kw):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=kw.get('check', True))


def _quiet(*cmd):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=False)


# ---------------------------------------------------------------------------------------
# What the examples take as given

def _image(path, image_format):
    """A 64 MiB image in ``image_format`` whose first 64 KiB hold data (an import then has
    something to carry)."""
    _sh('qemu-img', 'create', '-q', '-f', image_format, path, '64M')
    _sh('qemu-io', '-f', image_format, '-c', 'write -P 0x6b 0 64k', path)


class Lab(object):
    """The preconditions, made and removed again."""

    def __init__(self, lab_env, work):
        self.env = lab_env
        self.work = work
        self.loops = []
        self.tids = []
        self.gluster = None
        self.server = None
        self.guests = []
        self.values = {}

    def up(self):
        shutil.rmtree(examples.SANDBOX, ignore_errors=True)
        os.makedirs(examples.SANDBOX)
        password = 'kvmst-%s' % secrets.token_hex(6)
        self._gluster_volume()
        self._plain_target()
        self.values = dict(
            gluster_host=self.env['KVMST_GLUSTER_HOST'], gluster_volume=GLUSTER_VOLUME,
            iscsi_host=self.env['KVMST_ISCSI_HOST'], iscsi_iqn=PLAIN_IQN,
            iscsi_initiator=self.env['KVMST_ISCSI_INITIATOR'], chap_iqn=CHAP_IQN, chap_user=CHAP_USER,
            loop_fs=self._loop('fs.img', '64M'), loop_block=self._loop('block.img', '32M'),
            http_port=self._http())
        self._chap_target(password)
        variables = {
            'vault_san1_chap_password': password,
            'vault_ceph_libvirt_key': base64.b64encode(os.urandom(16)).decode(),
            'vault_db_luks_passphrase': secrets.token_hex(12),
            'vault_luks_passphrase': secrets.token_hex(12),
            'debian12_xz_sha512': self._digest('debian-12-genericcloud-amd64.qcow2.xz', 'sha512'),
            'debian12_sha512': self._digest('debian-12-genericcloud-amd64.qcow2', 'sha512'),
            'debian12_sha256': self._digest('debian-12.qcow2', 'sha256'),
            'appliance_zst_sha256': self._digest('appliance.raw.zst', 'sha256'),
        }
        self.values['variables'] = variables
        drift_of = examples.module_examples('host_storage')[0]['kvm.storage.host_storage']
        variables['host_storage_spec'] = examples.substitute(drift_of, 'ex', self.values)
        for ns, given in examples.PRECONDITIONS.items():
            for path, kind in given['files'].items():
                self._file(examples.substitute_text(path, ns, self.values), kind)
        # The running guest boots while the others are defined; the examples need it booted
        # (a live detach is answered only once its hot-plug drivers are loaded).
        for ns, given in examples.PRECONDITIONS.items():
            self._pools(ns, given)
            for guest, state in given['guests'].items():
                self._guest(examples.substitute_text(guest, ns, self.values), state == 'running',
                            self._disks(ns, given.get('disks', {}).get(guest, ())))
        for name, log in self.guests:
            if log:
                _wait_for(lambda: os.path.exists(log) and 'KVMST-GUEST-READY' in open(log, errors='replace').read(),
                          900, 'guest %s to boot' % name)
        return self.values

    def _loop(self, name, size):
        path = os.path.join(self.work, name)
        _sh('truncate', '-s', size, path)
        dev = _sh('losetup', '-f', '--show', path).stdout.strip()
        self.loops.append(dev)
        return dev

    def _http(self):
        folder = os.path.join(self.work, 'http')
        os.makedirs(folder)
        for name, kind in examples.SERVED.items():
            image_format, _dot, packed = kind.partition('.')
            image = os.path.join(folder, name[:-len(packed) - 1] if packed else name)
            if not os.path.exists(image):
                _image(image, image_format)
            if packed == 'xz':
                _sh('xz', '-k', '-f', '-T1', image)
            elif packed == 'zst':
                _sh('zstd', '-q', '-f', image, '-o', image + '.zst')
        port_file = os.path.join(self.work, 'port')
        self.server = subprocess.Popen([sys.executable, os.path.join(HERE, 'files', 'serve.py'), folder, port_file,
                                        '3600'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(lambda: os.path.exists(port_file), 30, 'the HTTP server')
        return int(open(port_file).read().strip())

    def _digest(self, name, algorithm):
        with open(os.path.join(self.work, 'http', name), 'rb') as handle:
            return hashlib.new(algorithm, handle.read()).hexdigest()

    def _gluster_volume(self):
        """A gluster volume of the story's own (lab/fixtures.sh gluster-up), not the lab's kvmst-gv0."""
        self.gluster = GLUSTER_VOLUME   # set first: down() removes a half-made one too
        proc = _quiet('bash', FIXTURES, 'gluster-up', GLUSTER_VOLUME)
        assert proc.returncode == 0, 'lab/fixtures.sh gluster-up %s failed: %s' % (
            GLUSTER_VOLUME, (proc.stderr or proc.stdout).strip())

    def _target(self, iqn):
        """A new tgtd target ``iqn`` on a free target id; the id."""
        for tid in range(100, 200):
            if _quiet('tgtadm', '--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', str(tid),
                      '-T', iqn).returncode == 0:
                self.tids.append(tid)
                return tid
        raise AssertionError('no free tgtd target id in 100-199 for %s' % iqn)

    def _lun(self, tid, lun, name, size):
        path = os.path.join(self.work, name)
        _sh('truncate', '-s', size, path)
        _sh('tgtadm', '--lld', 'iscsi', '--op', 'new', '--mode', 'logicalunit', '--tid', str(tid), '--lun', str(lun),
            '-b', path)

    def _plain_target(self):
        """The story's own plain iSCSI target (the lab's store1, again): its LUNs on sparse
        files, open to all initiators."""
        tid = self._target(PLAIN_IQN)
        for lun, size in enumerate(PLAIN_LUN_SIZES, 1):
            self._lun(tid, lun, 'store-lun%d.img' % lun, size)
        _sh('tgtadm', '--lld', 'iscsi', '--op', 'bind', '--mode', 'target', '--tid', str(tid), '-I', 'ALL')

    def _chap_target(self, password):
        tid = self._target(CHAP_IQN)
        self._lun(tid, 1, 'chap-lun1.img', '32M')
        _quiet('tgtadm', '--lld', 'iscsi', '--op', 'delete', '--mode', 'account', '--user', CHAP_USER)
        _sh('tgtadm', '--lld', 'iscsi', '--op', 'new', '--mode', 'account', '--user', CHAP_USER, '--password', password)
        _sh('tgtadm', '--lld', 'iscsi', '--op', 'bind', '--mode', 'account', '--tid', str(tid), '--user', CHAP_USER)
        _sh('tgtadm', '--lld', 'iscsi', '--op', 'bind', '--mode', 'target', '--tid', str(tid), '-I', 'ALL')

    def _file(self, path, kind):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind != 'iso':
            _image(path, kind)
        else:
            content = os.path.join(self.work, 'iso-content')
            os.makedirs(content, exist_ok=True)
            with open(os.path.join(content, 'README.txt'), 'w') as handle:
                handle.write('kvmst examples\n')
            _sh('xorriso', '-as', 'mkisofs', '-quiet', '-o', path, content)

    def _pools(self, ns, given):
        """The dir pools and the folders a story's examples name."""
        for folder in given.get('folders', ()):
            os.makedirs(examples.substitute_text(folder, ns, self.values), exist_ok=True)
        for pool, path in given.get('pools', {}).items():
            path = examples.substitute_text(path, ns, self.values)
            pool = examples.substitute_text(pool, ns, self.values)
            os.makedirs(path, exist_ok=True)
            _sh('virsh', 'pool-define-as', pool, 'dir', '--target', path)
            _sh('virsh', 'pool-start', pool)

    def _disks(self, ns, disks):
        """The volumes of a guest's disks, made; their ``<disk>`` elements."""
        xml = ''
        for target, pool, volume, image_format, size in disks:
            pool = examples.substitute_text(pool, ns, self.values)
            volume = examples.substitute_text(volume, ns, self.values)
            _sh('virsh', 'vol-create-as', pool, volume, size, '--format', image_format)
            xml += ("<disk type='volume' device='disk'><driver name='qemu' type='%s'/><source pool='%s' volume='%s'/>"
                    "<target dev='%s' bus='virtio'/></disk>" % (image_format, pool, volume, target))
        return xml

    def _guest(self, name, running, disks=''):
        log = os.path.join(self.work, '%s.console.log' % name) if running else None
        env = dict(os.environ, KVMST_GUEST_ROOT_PORTS='10')
        if log:
            env['KVMST_GUEST_CONSOLE_LOG'] = log
        xml = subprocess.run([GUEST_XML, name], capture_output=True, text=True, check=True, env=env).stdout
        xml = xml.replace('<devices>', '<devices>' + disks, 1)
        path = os.path.join(self.work, name + '.xml')
        with open(path, 'w') as handle:
            handle.write(xml)
        _sh('virsh', 'define', path)
        self.guests.append((name, log))
        if running:
            _sh('virsh', 'start', name)

    def clean(self, namespaces):
        """Everything of these namespaces, whatever their examples got to: libvirt refuses a
        second pool on the gluster volume or an iSCSI target that a pool of an earlier story
        still uses (the stories share the story's own ones), so a story's objects go before
        the next story runs."""
        prefixes = tuple('kvmst-%s-' % ns for ns in namespaces)
        folders = tuple('%s/%s/' % (examples.SANDBOX, ns) for ns in namespaces)
        for name, _log in self.guests:
            if name.startswith(prefixes):
                _quiet('virsh', 'destroy', name)
                # with the records of the running-guest examples' checkpoints and snapshots
                _quiet('virsh', 'undefine', '--checkpoints-metadata', '--snapshots-metadata', name)
        pools = _quiet('virsh', '-q', 'pool-list', '--all', '--name').stdout.split()
        for pool in [p for p in pools if p.startswith(prefixes)]:
            if 'netfs' in _quiet('virsh', 'pool-dumpxml', pool).stdout.split('\n', 1)[0]:
                # images of the story's gluster volume that the examples made (their names are ours)
                for vol in _quiet('virsh', '-q', 'vol-list', pool).stdout.splitlines():
                    if vol.split() and vol.split()[0].startswith(prefixes):
                        _quiet('virsh', 'vol-delete', vol.split()[0], '--pool', pool)
            _quiet('virsh', 'pool-destroy', pool)
            _quiet('virsh', 'pool-undefine', pool)
        for line in _quiet('virsh', '-q', 'secret-list').stdout.splitlines():
            uuid = line.split()[0] if line.split() else None
            usage = _quiet('virsh', 'secret-dumpxml', uuid).stdout if uuid else ''
            if uuid and (uuid == CEPH_UUID and 'ex' in namespaces or any(p in usage for p in prefixes + folders)):
                _quiet('virsh', 'secret-undefine', uuid)
        for mount in _quiet('findmnt', '-rn', '-o', 'TARGET').stdout.split():
            if mount.startswith(folders):
                _quiet('umount', '-l', mount)

    def down(self):
        """Everything the stories and the preconditions made, the story's gluster volume and
        iSCSI targets last (no pool uses them any more); each step whatever the others did.
        Returns what could not be removed."""
        self.clean(examples.NAMESPACES)
        for dev in self.loops:
            _quiet('losetup', '-d', dev)
        failed = []
        for tid in self.tids:
            if _quiet('tgtadm', '--lld', 'iscsi', '--op', 'delete', '--mode', 'target', '--force',
                      '--tid', str(tid)).returncode != 0:
                failed.append('tgtd target %d' % tid)
        _quiet('tgtadm', '--lld', 'iscsi', '--op', 'delete', '--mode', 'account', '--user', CHAP_USER)
        if self.gluster is not None:
            proc = _quiet('bash', FIXTURES, 'gluster-down', self.gluster)
            if proc.returncode != 0:
                failed.append('gluster volume %s (%s)' % (self.gluster, (proc.stderr or proc.stdout).strip()))
        if self.server is not None:
            self.server.kill()
            self.server.wait()
        shutil.rmtree(examples.SANDBOX, ignore_errors=True)
        return failed


def _wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            pytest.fail('timed out waiting for %s' % what, pytrace=False)
        time.sleep(0.5)


@pytest.fixture(scope='module')
def story(lab_env, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('examples'))
    lab = Lab(lab_env, work)
    failed = []
    try:
        values = lab.up()
        # the story's own backends in the environment of its runs too, never the lab's shared ones
        env = dict(lab_env, KVMST_GLUSTER_VOLUME=GLUSTER_VOLUME, KVMST_ISCSI_IQN=PLAIN_IQN)
        yield {'values': values, 'work': work, 'env': env, 'timings': {}, 'lab': lab}
    finally:
        failed = lab.down()
    assert not failed, 'the examples story could not remove: %s' % failed


# ---------------------------------------------------------------------------------------
# Running and judging

def _inventory(work, extra=None):
    """The lab host in every group the examples name; host_vars and group_vars of the blocks."""
    folder = os.path.join(work, 'inventory')
    os.makedirs(os.path.join(folder, 'host_vars'), exist_ok=True)
    os.makedirs(os.path.join(folder, 'group_vars'), exist_ok=True)
    host = {'localhost': None}
    groups = dict((g, {'hosts': dict(host)}) for g in ('lab', 'hypervisors', 'kvm_hosts', 'kvm_local'))
    hosts = {'all': {'hosts': {'localhost': {'ansible_connection': 'local',
                                             'ansible_python_interpreter': '/usr/bin/python3'}},
                     'children': groups}}
    with open(os.path.join(folder, 'hosts.yml'), 'w') as handle:
        yaml.safe_dump(hosts, handle)
    extra = extra or {}
    with open(os.path.join(folder, 'host_vars', 'localhost.yml'), 'w') as handle:
        yaml.safe_dump(extra.get('host_vars') or {}, handle)
    for group, variables in (extra.get('group_vars') or {}).items():
        with open(os.path.join(folder, 'group_vars', group + '.yml'), 'w') as handle:
            yaml.safe_dump(variables, handle)
    return folder


def _run(story, name, plays, inventory, flags=()):
    """One ansible-playbook run of ``plays``: (returncode, records, log path)."""
    work = story['work']
    playbook = os.path.join(work, name + '.yml')
    with open(playbook, 'w') as handle:
        yaml.safe_dump(plays, handle, sort_keys=False, width=120)
    record = os.path.join(work, name + '.jsonl')
    if os.path.exists(record):
        os.remove(record)
    env = ansible_env(story['env'], _Tmp(work), {
        'ANSIBLE_INVENTORY': inventory, 'ANSIBLE_CALLBACK_PLUGINS': CALLBACKS,
        'ANSIBLE_CALLBACKS_ENABLED': 'kvmst_record', 'KVMST_RECORD': record,
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS})
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), playbook] + list(flags)
    started = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO, check=False)
    story['timings'][name] = round(time.time() - started, 1)
    log = os.path.join(work, name + '.log')
    with open(log, 'w') as handle:
        handle.write(proc.stdout + '\n--- stderr ---\n' + proc.stderr)
    records = []
    if os.path.exists(record):
        with open(record) as handle:
            records = [json.loads(line) for line in handle if line.strip()]
    return proc.returncode, records, log, proc


class _Tmp(str):
    """conftest.ansible_env takes a tmp_path; the examples' work folder serves."""

    def __truediv__(self, other):
        return os.path.join(self, other)


def _first_failure(records):
    for entry in records:
        if entry['status'] in ('failed', 'unreachable') and not entry['ignored']:
            return entry
    return None


def _fail_with(entry, proc, log, what):
    if entry is None:
        tail = '\n'.join(proc.stdout.splitlines()[-40:] + proc.stderr.splitlines()[-10:])
        pytest.fail('%s failed without a task result (log %s):\n%s' % (what, log, tail), pytrace=False)
    result = entry['result']
    pytest.fail('%s: the example "%s" (play "%s") does not work as written: %s\n(log %s)'
                % (what, entry['task'], entry['play'], result.get('msg') or json.dumps(result)[:2000], log),
                pytrace=False)


_RETURNS = {}


def _undocumented(records):
    """(task, keys) of kvm.storage results whose keys RETURN does not document."""
    out = []
    for entry in records:
        action = entry['action'] or ''
        if not action.startswith('kvm.storage.') or entry['status'] != 'ok':
            continue
        module = action.split('.')[-1]
        if module not in _RETURNS:
            _RETURNS[module] = examples.module_docs(module)[1]
        # a loop's results (each carries ansible_loop_var), not host_storage's own `results`
        looped = [r for r in entry['result'].get('results') or [] if isinstance(r, dict) and 'ansible_loop_var' in r]
        results = looped or [entry['result']]
        for result in results:
            missing = examples.undocumented_keys(result, _RETURNS[module])
            if missing:
                out.append((entry['task'], module, missing))
    return out


# ---------------------------------------------------------------------------------------
# The tests, in the order a reader goes: the module references, then the guides

def check_module_examples(story):
    plays, index = examples.module_story(story['values'])
    assert len(index) > 30
    inventory = _inventory(os.path.join(story['work'], 'modules'))
    rc, records, log, proc = _run(story, 'module_examples', plays, inventory)
    story['lab'].clean(['ex', 'rg'])
    if rc != 0:
        _fail_with(_first_failure(records), proc, log, 'module examples')
    ran = set(e['task'].split(']')[0] + ']' for e in records)
    assert set('[%s]' % tag for tag, _m, _e in index) <= ran, 'examples that did not run: %s' % sorted(
        set('[%s]' % tag for tag, _m, _e in index) - ran)
    undocumented = _undocumented(records)
    assert not undocumented, 'results with keys their RETURN does not document: %s' % undocumented
    story['module_records'] = records


def check_guide_examples(story):
    plays, inventory_vars = examples.guide_story(story['values'])
    inventory = _inventory(os.path.join(story['work'], 'guides'), inventory_vars)
    runs = {}
    for phase, flags in PHASES:
        skip = ['--skip-tags', 'kvmst_after'] if phase in ('check mode', 'real') else []
        rc, records, log, proc = _run(story, 'guides - ' + phase, plays, inventory, list(flags) + skip)
        if rc != 0:
            _fail_with(_first_failure(records), proc, log, 'guides, %s' % phase)
        runs[phase] = records

    def changed(records):
        out = {}
        for entry in records:
            key = (entry['play'], entry['task'])
            if entry['status'] == 'ok' and entry['result'].get('changed'):
                out.setdefault(key, []).append(entry['result'].get('actions'))
        return out

    predicted, done = changed(runs['check mode']), changed(runs['real'])
    assert set(done) <= set(predicted), 'changes check mode did not predict: %s' % sorted(set(done) - set(predicted))
    assert set(predicted) <= set(done), 'changes check mode predicted that the real run did not make: %s' % sorted(
        set(predicted) - set(done))
    for phase in ('again', 'check mode again'):
        left = changed(runs[phase])
        assert not left, '%s changed: %s' % (phase, left)
    # A local profile prints no skipped thin or SAN tasks (the role includes only what it has).
    for phase, records in runs.items():
        skipped = [e['task'] for e in records if e['play'].startswith('[roles/host_profile/README.md#0]')
                   and e['status'] == 'skipped']
        assert not skipped, 'the local profile skipped tasks (%s): %s' % (phase, skipped)
    undocumented = _undocumented(runs['real'] + runs['check mode'])
    assert not undocumented, 'results with keys their RETURN does not document: %s' % undocumented
    print('examples wall time per run (s): %s' % story['timings'])
