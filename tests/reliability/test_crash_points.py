# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash points (issue 15): for every kind of step the planners emit, a plan that holds it
is run and its module process ended abruptly (``os._exit``: no cleanup, no result, as a
kill -9) right before or right after that step; then the same request runs again without
the crash, and a third time.

The crash comes from a test-only ``sitecustomize`` (``crash/sitecustomize.py``) on a
PYTHONPATH given to the crashed run only: it wraps ``_runner.apply_plan``, the one place
every module executes its steps (and, inside one step, the two halves of a disk attach and
the upload of an import). Nothing in plugins/ knows about it.

Each case asserts: the crashed run really died at its point; the second run ends ok and
reports exactly the steps the crashed run did not finish (the check-mode plan of the
same request, less the steps the crashed run logged as done); the final state is the
request (virsh, XML, qemu-img); nothing half-made is left (files, secrets, controllers,
in-flight markers); the pattern written into existing volumes is intact; the third run
changes nothing. Disk cases on the running guest also compare the live and the persistent
definition: what the module believes equals what the guest boots with next.

Modules run as AnsiballZ payloads exploded once per module and started with the host's
Python (no ansible process per run). Objects are named ``kvmst-crash-...``, files live
under /var/lib/kvmst-crash; everything is removed in teardown.

Not covered here (they need the VM host, whose tier is out of this file's budget): LV
extend (resize in a logical pool), thin pool create, thin volume and thin snapshot.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conftest import (REPO, ansible_env, drop_guest, drop_pool, files_in, read_sha, sh, virsh, wait_for_boot,
                      write_pattern)

sys.path.insert(0, os.path.join(REPO, '.cache', 'collections'))
from ansible_collections.kvm.storage.plugins.module_utils import _inflight  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.kvm.storage.plugins.module_utils import _qemu_img  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
HOOK = os.path.join(HERE, 'crash')
P = 'kvmst-crash-'
BASE = '/var/lib/kvmst-crash'
POOL = P + 'vols'
POOL_DIR = BASE + '/vols'
GUEST = P + 'guest'
URI = 'qemu:///system'
HOST_PYTHON = '/usr/bin/python3'
MODULES = ('pool', 'volume', 'secret', 'disk', 'host_storage')
MIB = 1024 * 1024
BASE_FILES = ['keep.raw', 'src.raw']


# --- running modules -------------------------------------------------------------------

class Runner(object):
    """Runs kvm.storage modules from their AnsiballZ payloads (built once by ansible with
    ANSIBLE_KEEP_REMOTE_FILES, then exploded) with the host's Python: about a tenth of an
    ad-hoc ansible run, which matters at four runs per case."""

    def __init__(self, folder, payloads):
        self.folder = folder
        self.payloads = payloads   # module -> (AnsiballZ file, internal args)
        self.count = 0

    def run(self, module, args, check=False, crash=None):
        """The module's result dict; with ``crash`` (the hook's spec without ``log``):
        (returncode, log lines, stdout) of a run that must have died at its point."""
        self.count += 1
        path, internal = self.payloads[module]
        run_dir = os.path.join(self.folder, 'run-%03d' % self.count)
        os.makedirs(run_dir)
        params = dict(internal, _ansible_check_mode=check, _ansible_tmpdir=run_dir, _ansible_remote_tmp=run_dir)
        params.update(args)
        with open(os.path.join(os.path.dirname(path), 'debug_dir', 'args'), 'w') as handle:
            json.dump({'ANSIBLE_MODULE_ARGS': params}, handle)
        env = dict(os.environ, TMPDIR=run_dir)
        env.pop('PYTHONPATH', None)
        log = os.path.join(run_dir, 'crash.log')
        if crash is not None:
            env.update(PYTHONPATH=HOOK, KVMST_CRASH=json.dumps(dict(crash, log=log)))
        proc = subprocess.run([HOST_PYTHON, path, 'execute'], capture_output=True, text=True, env=env, check=False,
                              timeout=600)
        with open(os.path.join(self.folder, 'runs.log'), 'a') as handle:
            handle.write('--- %d %s %s check=%s crash=%s rc=%d\n%s\n%s\n' % (
                self.count, module, json.dumps(args), check, crash, proc.returncode, proc.stdout, proc.stderr))
        if crash is not None:
            lines = []
            if os.path.exists(log):
                with open(log) as handle:
                    lines = handle.read().splitlines()
            return proc.returncode, lines, proc.stdout
        try:
            return json.loads(proc.stdout)
        except ValueError:
            pytest.fail('no result from %s (rc %d):\n%s\n%s'
                        % (module, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]), pytrace=False)
        return None


@pytest.fixture(scope='module')
def runner(lab_env, tmp_path_factory):
    """Build each module's AnsiballZ file once (a run with an unknown option fails in the
    argument check, before any libvirt call) and explode it."""
    tmp = tmp_path_factory.mktemp('crash')
    keep = tmp / 'remote'
    env = ansible_env(lab_env, tmp, {'ANSIBLE_KEEP_REMOTE_FILES': '1', 'ANSIBLE_REMOTE_TMP': str(keep)})
    procs = [subprocess.Popen([os.path.join(os.path.dirname(sys.executable), 'ansible'), 'lab', '-m',
                               'kvm.storage.' + m, '-a', '{"kvmst_crash_unknown": 1}'], env=env, cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for m in MODULES]
    for proc in procs:
        proc.wait()
    payloads = {}
    for module in MODULES:
        found = glob.glob('%s/*/AnsiballZ_%s.py' % (keep, module))
        assert len(found) == 1, 'no AnsiballZ file of %s kept under %s' % (module, keep)
        sh('%s %s explode >/dev/null' % (HOST_PYTHON, found[0]))
        with open(os.path.join(os.path.dirname(found[0]), 'debug_dir', 'args')) as handle:
            internal = json.load(handle)['ANSIBLE_MODULE_ARGS']
        internal.pop('kvmst_crash_unknown')
        internal.update(_ansible_keep_remote_files=False, _ansible_diff=False)
        payloads[module] = (found[0], internal)
    folder = str(tmp / 'runs')
    os.makedirs(folder)
    return Runner(folder, payloads)


# --- the lab objects the cases share ------------------------------------------------------

def _vol_path(name):
    return os.path.join(POOL_DIR, name)


def _make_raw(path, size, seed, work):
    sh('rm -f {p} && truncate -s {s} {p}'.format(p=path, s=size))
    return write_pattern(path, 'raw', seed, work, size=min(size, 4 * MIB))


def _guest_xml(folder):
    """The lab guest's definition with a SATA CD-ROM at sda holding cd-a.iso (media changes
    need a drive the guest booted with: SATA cannot be hot-plugged)."""
    console = os.path.join(folder, GUEST + '.console.log')
    xml = sh('KVMST_GUEST_CONSOLE_LOG=%s KVMST_GUEST_ROOT_PORTS=8 %s/lab/guest/domain-xml.sh %s'
             % (console, REPO, GUEST))
    cdrom = ("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='%s/cd-a.iso'/>"
             "<target dev='sda' bus='sata'/><readonly/></disk>" % folder)
    return xml.replace('</devices>', cdrom + '</devices>', 1), console


@pytest.fixture(scope='module')
def lab(runner, tmp_path_factory):
    """The dir pool of the volume cases (keep.raw with a pattern that no case may touch,
    src.raw to clone, import.raw to import) and nothing else; the guest comes with ``guest``."""
    work = tmp_path_factory.mktemp('crash-lab')
    drop_pool(POOL)
    _drop_secrets()
    for name in _markers(POOL):   # of an earlier run of this file that was stopped
        _inflight.Inflight(URI).clear(POOL, name, dead_too=True)
    sh('rm -rf {b} && mkdir -p {d}'.format(b=BASE, d=POOL_DIR))
    sums = {'keep.raw': _make_raw(_vol_path('keep.raw'), 16 * MIB, 'keep', work),
            'src.raw': _make_raw(_vol_path('src.raw'), 8 * MIB, 'src', work),
            'import': _make_raw(BASE + '/import.raw', 8 * MIB, 'import', work)}
    sh('virsh -q pool-define-as {p} dir --target {d} >/dev/null && virsh -q pool-start {p} >/dev/null'
       .format(p=POOL, d=POOL_DIR))
    yield {'sums': sums, 'work': work}
    drop_pool(POOL)
    _drop_secrets()
    sh('rm -rf %s' % BASE, check=False)


@pytest.fixture(scope='module')
def guest(lab):
    folder = BASE + '/guest'
    sh('mkdir -p %s && truncate -s 1M %s/cd-a.iso %s/cd-b.iso' % (folder, folder, folder))
    drop_guest(GUEST)
    xml, console = _guest_xml(folder)
    with open(folder + '/guest.xml', 'w') as handle:
        handle.write(xml)
    sh('virsh -q define %s/guest.xml >/dev/null && virsh -q start %s >/dev/null' % (folder, GUEST))
    wait_for_boot(GUEST, console, tries=1200)
    yield folder
    drop_guest(GUEST)


def _secrets():
    """{usage id: uuid} of this file's secrets."""
    out = {}
    listing = virsh('secret-list').stdout
    for line in listing.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and BASE in parts[1]:
            out[parts[1].split()[-1]] = parts[0]
    return out


def _drop_secrets():
    for uuid in _secrets().values():
        virsh('secret-undefine', uuid)


def _markers(pool):
    return _inflight.Inflight(URI).incomplete(pool)


def _qemu_info(path):
    return json.loads(sh('qemu-img info -U --output=json %s' % path))


# --- guest definitions -------------------------------------------------------------------

def _dumpxml(inactive):
    return ET.fromstring(virsh('dumpxml', GUEST, *(['--inactive'] if inactive else []), check=True).stdout)


def _disk_at(root, target):
    for disk in root.findall('devices/disk'):
        if disk.find('target').get('dev') == target:
            src = disk.find('source')
            return {'device': disk.get('device'), 'bus': disk.find('target').get('bus'),
                    'source': src.get('file') if src is not None else None,
                    'format': disk.find('driver').get('type') if disk.find('driver') is not None else None,
                    'readonly': disk.find('readonly') is not None}
    return None


def _scsi_controllers(root, index):
    return [c.get('model') for c in root.findall("devices/controller[@type='scsi']") if c.get('index') == str(index)]


def _both(target):
    return _disk_at(_dumpxml(False), target), _disk_at(_dumpxml(True), target)


def _drop_disk(target, controller=None):
    """Take a case's disk out of both definitions (the live copy is left to the guest's end
    when it does not go at once) and the persistent controller it added."""
    live, config = _both(target)
    if config is not None:
        virsh('detach-disk', GUEST, target, '--config')
    if live is not None:
        virsh('detach-disk', GUEST, target, '--live')
    if controller is not None and _scsi_controllers(_dumpxml(True), controller):
        path = os.path.join(BASE, 'ctl-%d.xml' % controller)
        with open(path, 'w') as handle:
            handle.write("<controller type='scsi' index='%d'/>" % controller)
        virsh('detach-device', GUEST, path, '--config')


# --- scenarios: (module, setup -> args, check, teardown) ------------------------------------

class Case(object):
    """One scenario's request, in a folder of its own; ``key`` names its objects."""

    def __init__(self, key, runner, lab, work):
        self.key = key
        self.runner = runner
        self.lab = lab
        self.work = work
        self.folder = os.path.join(BASE, 'case-' + key)
        sh('rm -rf {f} && mkdir -p {f}'.format(f=self.folder))


def _pool_setup(case):
    case.pool = P + 'pool-' + case.key
    case.target = case.folder + '/pool'
    return {'name': case.pool, 'type': 'dir', 'target': {'path': case.target}, 'autostart': True}


def _pool_check(case):
    info = virsh('pool-info', case.pool, check=True).stdout
    assert 'running' in info and 'yes' in [line.split()[-1] for line in info.splitlines() if 'Autostart' in line], info
    assert ET.fromstring(virsh('pool-dumpxml', case.pool, check=True).stdout).findtext('target/path') == case.target
    assert os.path.isdir(case.target)
    assert [n for n in virsh('pool-list', '--all', '--name').stdout.split() if n.startswith(P + 'pool-')] == [case.pool]


def _pool_teardown(case):
    drop_pool(case.pool)


def _volume_files(case, *extra):
    assert files_in(POOL_DIR) == sorted(BASE_FILES + list(extra)), 'files left in the pool'
    assert sorted(_markers(POOL)) == [], 'in-flight markers left'
    assert read_sha(_vol_path('keep.raw'), 'raw', case.work) == case.lab['sums']['keep.raw']
    assert read_sha(_vol_path('src.raw'), 'raw', case.work) == case.lab['sums']['src.raw']


def _create_setup(case):
    case.vol = 'cr-%s.qcow2' % case.key
    return {'pool': POOL, 'name': case.vol, 'format': 'qcow2', 'capacity': '16MiB'}


def _create_check(case):
    info = _qemu_info(_vol_path(case.vol))
    assert (info['format'], info['virtual-size']) == ('qcow2', 16 * MIB), info
    _volume_files(case, case.vol)


def _drop_vol(case):
    virsh('vol-delete', case.vol, '--pool', POOL)
    sh('rm -f %s' % _vol_path(case.vol))
    _inflight.Inflight(URI).clear(POOL, case.vol, dead_too=True)


def _clone_setup(case):
    case.vol = 'cl-%s.raw' % case.key
    return {'pool': POOL, 'name': case.vol, 'clone_from': {'pool': POOL, 'name': 'src.raw'}}


def _clone_check(case):
    assert _qemu_info(_vol_path(case.vol))['virtual-size'] == 8 * MIB
    assert read_sha(_vol_path(case.vol), 'raw', case.work) == case.lab['sums']['src.raw']
    _volume_files(case, case.vol)


def _import_setup(case):
    case.vol = 'im-%s.raw' % case.key
    return {'pool': POOL, 'name': case.vol, 'import_from': BASE + '/import.raw'}


def _import_check(case):
    assert read_sha(_vol_path(case.vol), 'raw', case.work) == case.lab['sums']['import']
    _volume_files(case, case.vol)


def _resize_setup(case):
    case.vol = 'rs-%s.raw' % case.key
    case.sum = _make_raw(_vol_path(case.vol), 16 * MIB, case.key, case.work)
    virsh('pool-refresh', POOL, check=True)
    return {'pool': POOL, 'name': case.vol, 'capacity': '32MiB'}


def _resize_check(case):
    assert _qemu_info(_vol_path(case.vol))['virtual-size'] == 32 * MIB
    assert read_sha(_vol_path(case.vol), 'raw', case.work) == case.sum, 'the resize lost data'
    _volume_files(case, case.vol)


def _luks_setup(case):
    case.vol = 'lk-%s.qcow2' % case.key
    made = case.runner.run('secret', {'usage': 'volume', 'secret_usage': _vol_path(case.vol),
                                      'value': 'crash-%s-passphrase' % case.key})
    assert made.get('changed') and not made.get('failed'), made
    return {'pool': POOL, 'name': case.vol, 'format': 'qcow2', 'capacity': '16MiB',
            'encryption': {'secret_usage': _vol_path(case.vol)}}


def _luks_check(case):
    info = _qemu_info(_vol_path(case.vol))
    assert info['format'] == 'qcow2' and info.get('encrypted') is True, info
    assert info['format-specific']['data']['encrypt']['format'] == 'luks', info
    assert list(_secrets()) == [_vol_path(case.vol)], 'secrets: %s' % _secrets()
    _volume_files(case, case.vol)


def _luks_teardown(case):
    _drop_vol(case)
    _drop_secrets()


def _secret_setup(case):
    case.usage = case.folder + '/disk.img'
    case.value = 'crash-%s-value' % case.key
    return {'usage': 'volume', 'secret_usage': case.usage, 'value': case.value}


def _luks_probe(xml):
    made = virsh('vol-create', POOL, xml)
    if made.returncode != 0 and _qemu_img.PBKDF_FLAKE in made.stderr:
        raise RuntimeError(made.stderr)
    return made


def _secret_check(case):
    """Private (the default): libvirt shows no value, so the proof is a LUKS volume that
    libvirt formats with it ("secret has no value" otherwise)."""
    found = _secrets()
    assert list(found) == [case.usage], 'secrets: %s' % found
    assert _inflight.Inflight(URI).incomplete('<secrets>').get('volume ' + case.usage) is None, 'marker left'
    xml = os.path.join(case.folder, 'luks-probe.xml')
    with open(xml, 'w') as handle:
        handle.write("<volume><name>luks-probe.qcow2</name><capacity>1048576</capacity><target><format type='qcow2'/>"
                     "<encryption format='luks'><secret type='passphrase' uuid='%s'/></encryption></target></volume>"
                     % found[case.usage])
    # Debian 12's qemu-img fails LUKS creation at random on fast machines ("Unable to get
    # accurate CPU usage", before anything is written): repeated as the volume module does
    # (plugins/module_utils/_qemu_img.py, retry_pbkdf_flake).
    made = _qemu_img.retry_pbkdf_flake(_luks_probe, xml)
    virsh('vol-delete', 'luks-probe.qcow2', '--pool', POOL)
    assert made.returncode == 0, 'libvirt cannot use the secret: %s' % made.stderr


def _disk_file(case):
    path = case.folder + '/disk.raw'
    case.sum = _make_raw(path, 16 * MIB, case.key, case.work)
    return path


def _attach_setup(case):
    return {'domain': GUEST, 'source': {'file': _disk_file(case)}, 'bus': 'usb', 'target': case.target}


def _same_both(case, want_source):
    live, config = _both(case.target)
    assert live is not None and config is not None, 'live %s, persistent %s' % (live, config)
    assert live == config, 'the running guest and its next boot differ: live %s, persistent %s' % (live, config)
    assert live['source'] == want_source, live
    return live


def _attach_check(case):
    _same_both(case, case.folder + '/disk.raw')
    assert read_sha(case.folder + '/disk.raw', 'raw', case.work) == case.sum


def _attach_teardown(case):
    _drop_disk(case.target, getattr(case, 'controller', None))


def _detach_setup(case):
    made = case.runner.run('disk', _attach_setup(case))
    assert made.get('changed') and not made.get('failed'), made
    assert all(_both(case.target)), 'the setup attach did not take'
    return {'domain': GUEST, 'source': {'file': case.folder + '/disk.raw'}, 'state': 'absent'}


def _detach_check(case):
    assert _both(case.target) == (None, None), 'disk %s is still attached: %s' % (case.target, _both(case.target))
    assert read_sha(case.folder + '/disk.raw', 'raw', case.work) == case.sum


def _scsi_setup(case):
    case.controller = {'sdh': 1, 'sdo': 2, 'sdv': 3, 'sdac': 4}[case.target]
    return {'domain': GUEST, 'source': {'file': _disk_file(case)}, 'bus': 'scsi', 'target': case.target}


def _scsi_check(case):
    _attach_check(case)
    for inactive in (False, True):
        assert _scsi_controllers(_dumpxml(inactive), case.controller) == ['virtio-scsi'], \
            'scsi controller %d (%s): %s' % (case.controller, 'persistent' if inactive else 'live',
                                             _scsi_controllers(_dumpxml(inactive), case.controller))


def _media_setup(case):
    live, config = _both('sda')
    assert live == config, (live, config)
    case.want = case.guest + ('/cd-b.iso' if live['source'].endswith('cd-a.iso') else '/cd-a.iso')
    return {'domain': GUEST, 'device': 'cdrom', 'bus': 'sata', 'target': 'sda', 'source': {'file': case.want}}


def _media_check(case):
    live = _same_both(case, case.want)
    assert live['device'] == 'cdrom' and live['readonly'], live


def _host_setup(case):
    case.pool = P + 'hs-' + case.key
    case.target = case.folder + '/pool'
    return {'pools': [{'name': case.pool, 'type': 'dir', 'target': {'path': case.target}, 'autostart': True}],
            'volumes': [{'pool': case.pool, 'name': 'a.qcow2', 'format': 'qcow2', 'capacity': '8MiB'},
                        {'pool': case.pool, 'name': 'b.raw', 'capacity': '8MiB'}],
            'unmanaged': False}


def _host_check(case):
    info = virsh('pool-info', case.pool, check=True).stdout
    assert 'running' in info, info
    assert files_in(case.target) == ['a.qcow2', 'b.raw']
    assert _qemu_info(case.target + '/a.qcow2')['format'] == 'qcow2'
    assert _markers(case.pool) == {}


def _host_teardown(case):
    drop_pool(case.pool)


def _wipe_setup(case):
    case.vol = 'wp-%s.raw' % case.key
    _make_raw(_vol_path(case.vol), 8 * MIB, case.key, case.work)
    virsh('pool-refresh', POOL, check=True)
    return {'pool': POOL, 'name': case.vol, 'state': 'absent', 'wipe': 'zero'}


def _wipe_check(case):
    assert case.vol not in virsh('vol-list', '--pool', POOL).stdout
    _volume_files(case)


def _wiped_again(actions):
    """Killed after the wipe, before the delete: nothing records that the wipe finished, so
    the next run wipes again (harmless: zeros over zeros) and deletes."""
    return actions


def _remove_setup(case):
    case.pool = P + 'pool-' + case.key
    case.target = case.folder + '/pool'
    sh('mkdir -p {t} && truncate -s 1M {t}/kept.raw && virsh -q pool-define-as {p} dir --target {t} >/dev/null'
       ' && virsh -q pool-start {p} >/dev/null'.format(p=case.pool, t=case.target))
    return {'name': case.pool, 'state': 'absent'}


def _remove_check(case):
    assert case.pool not in virsh('pool-list', '--all', '--name').stdout.split()
    assert files_in(case.target) == ['kept.raw'], 'state: absent keeps the data'


SCENARIOS = {
    'pool': ('pool', _pool_setup, _pool_check, _pool_teardown),
    'create': ('volume', _create_setup, _create_check, _drop_vol),
    'clone': ('volume', _clone_setup, _clone_check, _drop_vol),
    'import': ('volume', _import_setup, _import_check, _drop_vol),
    'resize': ('volume', _resize_setup, _resize_check, _drop_vol),
    'luks': ('volume', _luks_setup, _luks_check, _luks_teardown),
    'secret': ('secret', _secret_setup, _secret_check, lambda case: _drop_secrets()),
    'attach': ('disk', _attach_setup, _attach_check, _attach_teardown),
    'detach': ('disk', _detach_setup, _detach_check, _attach_teardown),
    'scsi': ('disk', _scsi_setup, _scsi_check, _attach_teardown),
    'media': ('disk', _media_setup, _media_check, lambda case: None),
    'host': ('host_storage', _host_setup, _host_check, _host_teardown),
    'wipe': ('volume', _wipe_setup, _wipe_check, _drop_vol),
    'remove': ('pool', _remove_setup, _remove_check, _pool_teardown),
}
GUEST_SCENARIOS = ('attach', 'detach', 'scsi', 'media')


def _only_persistent(actions):
    return [a.replace('(live and persistent)', '(persistent)') for a in actions]


def _value_pending(actions):
    """A private secret defined by a run killed before it set the value: libvirt does not
    say it has none; the run's in-flight marker does (a bug these cases found)."""
    return [actions[1] + ' (the run that defined it was cut off before it set the value)']


def _replaced(actions):
    """The plan of an import that replaces the incomplete volume a killed run left."""
    label = actions[0].split(' from ')[0].replace('import ', '', 1)
    return ['delete the incomplete %s of an interrupted create' % label] + actions


# (id, scenario, crash point, disk target, expected actions of the second run as a function
# of the check-mode plan, or None: the plan less the steps the crashed run finished)
CASES = [
    ('pool-define-before', 'pool', {'verb': 'define', 'when': 'before'}, None, None),
    ('pool-define-after', 'pool', {'verb': 'define', 'when': 'after'}, None, None),
    ('pool-build-before', 'pool', {'verb': 'build', 'when': 'before'}, None, None),
    ('pool-build-after', 'pool', {'verb': 'build', 'when': 'after'}, None, None),
    ('pool-start-before', 'pool', {'verb': 'start', 'when': 'before'}, None, None),
    ('pool-start-after', 'pool', {'verb': 'start', 'when': 'after'}, None, None),
    ('pool-autostart-before', 'pool', {'verb': 'autostart', 'when': 'before'}, None, None),
    ('pool-autostart-after', 'pool', {'verb': 'autostart', 'when': 'after'}, None, None),
    ('volume-create-before', 'create', {'verb': 'create', 'when': 'before'}, None, None),
    ('volume-create-after', 'create', {'verb': 'create', 'when': 'after'}, None, None),
    ('volume-clone-before', 'clone', {'verb': 'clone', 'when': 'before'}, None, None),
    ('volume-clone-after', 'clone', {'verb': 'clone', 'when': 'after'}, None, None),
    ('volume-import-before', 'import', {'verb': 'import', 'when': 'before'}, None, None),
    ('volume-import-after', 'import', {'verb': 'import', 'when': 'after'}, None, None),
    ('volume-upload-before', 'import', {'call': 'upload', 'when': 'before'}, None, 'refuse'),
    ('volume-upload-after', 'import', {'call': 'upload', 'when': 'after'}, None, 'refuse'),
    ('volume-resize-before', 'resize', {'verb': 'resize', 'when': 'before'}, None, None),
    ('volume-resize-after', 'resize', {'verb': 'resize', 'when': 'after'}, None, None),
    ('volume-luks-before', 'luks', {'verb': 'create', 'when': 'before'}, None, None),
    ('volume-luks-after', 'luks', {'verb': 'create', 'when': 'after'}, None, None),
    ('secret-define-before', 'secret', {'verb': 'define', 'when': 'before'}, None, None),
    ('secret-define-after', 'secret', {'verb': 'define', 'when': 'after'}, None, _value_pending),
    ('secret-value-before', 'secret', {'verb': 'set_value', 'when': 'before'}, None, _value_pending),
    ('secret-value-after', 'secret', {'verb': 'set_value', 'when': 'after'}, None, None),
    ('attach-live-before', 'attach', {'call': 'attachDeviceFlags', 'flags': 1, 'when': 'before'}, 'sdb', None),
    ('attach-live-after', 'attach', {'call': 'attachDeviceFlags', 'flags': 1, 'when': 'after'}, 'sdc',
     _only_persistent),
    ('attach-persistent-before', 'attach', {'call': 'attachDeviceFlags', 'flags': 2, 'when': 'before'}, 'sdd',
     _only_persistent),
    ('attach-persistent-after', 'attach', {'call': 'attachDeviceFlags', 'flags': 2, 'when': 'after'}, 'sde',
     lambda actions: []),
    ('controller-before', 'scsi', {'verb': 'controller', 'when': 'before'}, 'sdh', None),
    ('controller-after', 'scsi', {'verb': 'controller', 'when': 'after'}, 'sdo', None),
    ('controller-persistent-before', 'scsi', {'verb': 'controller', 'text': 'persistent', 'when': 'before'}, 'sdv',
     None),
    ('controller-persistent-after', 'scsi', {'verb': 'controller', 'text': 'persistent', 'when': 'after'}, 'sdac',
     None),
    ('detach-live-before', 'detach', {'verb': 'detach', 'text': '(live', 'when': 'before'}, 'sdf', None),
    ('detach-live-after', 'detach', {'verb': 'detach', 'text': '(live', 'when': 'after'}, 'sdg', None),
    ('detach-persistent-before', 'detach', {'verb': 'detach', 'text': 'persistent', 'when': 'before'}, 'sdi', None),
    ('detach-persistent-after', 'detach', {'verb': 'detach', 'text': 'persistent', 'when': 'after'}, 'sdj', None),
    ('media-change-before', 'media', {'verb': 'update', 'when': 'before'}, 'sda', None),
    ('media-change-after', 'media', {'verb': 'update', 'when': 'after'}, 'sda', None),
    ('host-first-after', 'host', {'verb': '*', 'nth': 'first', 'when': 'after'}, None, None),
    ('host-middle-after', 'host', {'verb': '*', 'nth': 'middle', 'when': 'after'}, None, None),
    ('host-last-after', 'host', {'verb': '*', 'nth': 'last', 'when': 'after'}, None, None),
    # Removals: a volume wiped then deleted, a pool stopped then undefined (data kept).
    ('volume-wipe-before', 'wipe', {'verb': 'wipe', 'when': 'before'}, None, None),
    ('volume-wipe-after', 'wipe', {'verb': 'wipe', 'when': 'after'}, None, _wiped_again),
    ('volume-delete-before', 'wipe', {'verb': 'delete', 'when': 'before'}, None, _wiped_again),
    ('volume-delete-after', 'wipe', {'verb': 'delete', 'when': 'after'}, None, None),
    ('pool-stop-before', 'remove', {'verb': 'stop', 'when': 'before'}, None, None),
    ('pool-stop-after', 'remove', {'verb': 'stop', 'when': 'after'}, None, None),
    ('pool-undefine-before', 'remove', {'verb': 'undefine', 'when': 'before'}, None, None),
    ('pool-undefine-after', 'remove', {'verb': 'undefine', 'when': 'after'}, None, None),
]


def _nth(spec, actions):
    nth = spec.get('nth', 1)
    if nth in ('first', 'middle', 'last'):
        nth = {'first': 1, 'middle': (len(actions) + 1) // 2, 'last': len(actions)}[nth]
    return dict(spec, nth=nth)


@pytest.mark.parametrize('case_id,scenario,point,target,expect', CASES, ids=[c[0] for c in CASES])
def test_crash_point(case_id, scenario, point, target, expect, runner, lab, request):
    module, setup, check, teardown = SCENARIOS[scenario]
    case = Case(case_id, runner, lab, lab['work'])
    if scenario in GUEST_SCENARIOS:
        case.guest = request.getfixturevalue('guest')
    case.target = target
    request.addfinalizer(lambda: (teardown(case), sh('rm -rf %s' % case.folder, check=False)))
    args = setup(case)

    planned = runner.run(module, args, check=True)
    assert planned.get('changed') and not planned.get('failed'), planned
    plan = planned['actions']
    spec = _nth(point, plan)

    code, log, out = runner.run(module, args, crash=spec)
    crashed = [line for line in log if line.startswith('crash ')]
    assert code == 137 and crashed and not out.strip(), \
        'the run did not die at %s (rc %d): %s\n%s' % (spec, code, log, out[-2000:])
    done = [line[len('done '):] for line in log if line.startswith('done ')]

    again = runner.run(module, args)
    if expect == 'refuse':
        # Killed inside the import, between libvirt's create and the end of the upload: the
        # marker has no record of how the run left the volume, so the next run asks the
        # user (_volume._refuse_unless_as_left) and force makes it again.
        assert again.get('failed') and 'refusing to replace' in again['msg'] and 'force: true' in again['msg'], again
        assert 'Traceback' not in json.dumps(again)
        args = dict(args, force=True)
        again = runner.run(module, args)
        expect = _replaced
    assert not again.get('failed'), again
    want = expect(plan) if expect is not None else [a for a in plan if a not in done]
    assert again['actions'] == want, 'plan %s, done before the crash %s' % (plan, done)
    assert again['changed'] == bool(want)
    if spec['when'] == 'after' and 'verb' in spec and done and expect is not _wiped_again:
        assert done[-1] not in again['actions'], 'the step done before the crash was done again'

    third = runner.run(module, args)
    assert not third.get('failed') and not third['changed'] and third['actions'] == [], third
    # The third run changed nothing, so this is the state the second run left.
    check(case)
