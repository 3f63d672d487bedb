# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults provoked against the real lab: libvirtd killed mid-play, a full filesystem, a
download that breaks off or does not match its checksum, a guest that never releases a
disk, a gluster brick killed mid-create. Each test checks that the error is clear and that
nothing is lost or left half-made. Objects are named ``kvmst-rel-f-...``; files live
under /var/lib/kvmst-rel-f; each test removes its own in a finalizer.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import signal
import subprocess
import sys

import pytest

from conftest import (REPO, assert_clean_failure, drop_guest, drop_pool, files_in, read_sha, sh, start_guest, virsh,
                      vol_names, wait_until, write_pattern)
from ansible_collections.kvm.storage.plugins.module_utils import _inflight

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, 'faults')
BASE = '/var/lib/kvmst-rel-f'
P = 'kvmst-rel-f-'


@pytest.fixture
def base(request):
    """A fresh folder of this test under /var/lib/kvmst-rel-f, removed afterwards."""
    path = os.path.join(BASE, request.node.name.replace('test_', '', 1).split('[')[0])
    sh('rm -rf %s && mkdir -p %s' % (path, path))
    yield path
    sh('rm -rf %s' % path, check=False)


# --- ENOSPC ------------------------------------------------------------------------------

def test_full_filesystem_leaves_no_partial_file(run_module, base, tmp_path, request):
    pool = P + 'enospc'
    mnt = base + '/mnt'

    def teardown():
        drop_pool(pool)
        sh('for d in $(losetup -n -O NAME -j %s/fs.img); do losetup -d $d || true; done' % base, check=False)
    request.addfinalizer(teardown)
    dev = sh('truncate -s 64M {b}/fs.img && mkfs.ext4 -q -F {b}/fs.img && losetup -f --show {b}/fs.img\n'
             'head -c 100M /dev/urandom > {b}/big.raw'.format(b=base)).strip()
    made = run_module('pool', {'name': pool, 'type': 'fs', 'source': {'devices': [dev], 'format': 'ext4'},
                               'target': {'path': mnt}})
    assert made.get('changed') and not made.get('failed'), made

    full = run_module('volume', {'pool': pool, 'name': 'full.raw', 'capacity': '200MiB', 'preallocation': 'full'})
    assert_clean_failure(full, 'full.raw', pool)
    imported = run_module('volume', {'pool': pool, 'name': 'imported.raw', 'import_from': base + '/big.raw'})
    assert_clean_failure(imported, 'imported.raw', pool)
    assert files_in(mnt) == [], 'a failed create left a file behind'
    assert vol_names(pool) == []

    # The pool still works: a volume that fits is made, holds data, and goes again.
    small = run_module('volume', {'pool': pool, 'name': 'small.raw', 'capacity': '8MiB', 'preallocation': 'full'})
    assert small.get('changed') and not small.get('failed'), small
    want = write_pattern(mnt + '/small.raw', 'raw', 'enospc', tmp_path)
    assert read_sha(mnt + '/small.raw', 'raw', tmp_path) == want
    gone = run_module('volume', {'pool': pool, 'name': 'small.raw', 'state': 'absent'})
    assert gone.get('changed') and not gone.get('failed'), gone
    assert files_in(mnt) == []


# --- imports that go wrong ------------------------------------------------------------------

@pytest.fixture
def drop_server(base, request):
    """(URL prefix, served folder) of drop_server.py on 127.0.0.1."""
    folder = base + '/src'
    os.makedirs(folder)
    port_file = base + '/port'
    proc = subprocess.Popen([sys.executable, os.path.join(FILES, 'drop_server.py'), folder, port_file, '3600'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    request.addfinalizer(lambda: (proc.kill(), proc.wait()))
    wait_until(lambda: os.path.exists(port_file) or proc.poll() is not None, 'the drop server to listen')
    assert proc.poll() is None, 'drop_server.py exited'
    with open(port_file) as f:
        return 'http://127.0.0.1:%s' % f.read().strip(), folder


def test_broken_download_and_bad_checksum_leave_nothing(run_module, base, drop_server, tmp_path, request):
    url, folder = drop_server
    pool = P + 'import'
    request.addfinalizer(lambda: drop_pool(pool))
    sh('head -c 8M /dev/urandom > %s/img.raw' % folder)
    with open(folder + '/img.raw', 'rb') as f:
        good_sum = hashlib.sha256(f.read()).hexdigest()
    made = run_module('pool', {'name': pool, 'type': 'dir', 'target': {'path': base + '/pool'}})
    assert made.get('changed'), made

    # ansible-core removes the module's temp folder at exit by itself; keeping it
    # (keep_tmp) shows whether the module removed its own download folder.
    kept = tmp_path / 'module-tmp'
    dropped = run_module('volume', {'pool': pool, 'name': 'dropped.raw', 'import_from': url + '/drop/img.raw'},
                         keep_tmp=kept)
    assert_clean_failure(dropped, 'dropped.raw', 'broke off')
    bad = run_module('volume', {'pool': pool, 'name': 'badsum.raw', 'import_from': url + '/img.raw',
                                'checksum': 'sha256:' + 'ab' * 32}, keep_tmp=kept)
    assert_clean_failure(bad, 'badsum.raw', 'checksum', good_sum)
    assert vol_names(pool) == [] and files_in(base + '/pool') == []
    # one kept task folder per run (the module's tmpdir: its work folders would be inside)
    task_tmps = glob.glob('%s/ansible-tmp-*' % kept)
    assert len(task_tmps) == 2, 'the kept task temp folders: %s' % os.listdir(kept)
    leftovers = sh('ls -d /tmp/kvm-storage-import-* %s/*/kvm-storage-import-* %s/*/*/kvm-storage-import-* '
                   '2>/dev/null || true' % (kept, kept))
    assert leftovers.strip() == '', 'the import left its download behind: %s' % leftovers

    # The same server and file import fine when nothing goes wrong.
    good = run_module('volume', {'pool': pool, 'name': 'good.raw', 'import_from': url + '/img.raw',
                                 'checksum': 'sha256:' + good_sum})
    assert good.get('changed') and not good.get('failed'), good
    assert read_sha(base + '/pool/good.raw', 'raw', tmp_path, 8 << 20) == good_sum


# --- libvirtd killed in the middle of a play -------------------------------------------------

CLONES = ['clone-%02d.raw' % i for i in range(1, 21)]


def libvirtd_pid():
    return sh('pgrep -x libvirtd || true').split()


def restart_libvirtd(old_pid=None):
    """Start libvirtd as the lab does (lab/services.sh starts only what is not running and
    waits until `virsh uri` answers). The killed daemon must be reaped first: services.sh
    takes a lingering zombie named libvirtd for a running daemon and waits for it in vain."""
    if old_pid:
        wait_until(lambda: not os.path.exists('/proc/%s' % old_pid), 'the killed libvirtd to be reaped')
    sh('bash %s/lab/services.sh start >/dev/null' % REPO)
    wait_until(lambda: virsh('uri').returncode == 0, 'libvirtd to answer')


def own_markers(pool, request):
    """The in-flight markers (_inflight) of the kill tests' volumes of ``pool``, removed
    before and after the test: a run of the test that failed before its re-run replaced the
    volume in flight leaves its marker, and a later run would find it naming a file long
    gone (and rightly refuse to replace the new volume of that name)."""
    markers = _inflight.Inflight('qemu:///system')

    def drop():
        for name in CLONES + ['src.raw', 'tpl.raw']:
            markers.clear(pool, name, dead_too=True)
    drop()
    request.addfinalizer(drop)


def kill_libvirtd_at_sixth_file(play, pool_path, tmp_path):
    """Freeze libvirtd (SIGSTOP) as soon as the sixth file shows up in the pool folder, then
    kill it and start it again; (the clones begun before the freeze, the failed play's
    result). The module clones one volume at a time inside libvirtd, so a frozen daemon
    stops the play where it stands: nothing races the counts. Six files are the source and
    five clones begun, of which the last may still be copying, or may be gone again: the
    module asks for a reflink copy first, and on a filesystem without reflink libvirtd
    makes the file, fails, removes it, and the module asks for a plain copy; a freeze can
    land in that gap. So the clone in flight may have no file at the freeze; the ones
    before it all finished. The shared daemon is never left frozen when the play ended first."""
    pids = libvirtd_pid()
    assert len(pids) == 1, pids
    wait_until(lambda: play.poll() is not None or
               (os.path.isdir(pool_path) and len(files_in(pool_path)) >= 6), 'six files in the pool',
               tries=60000, pause=0.002)
    if play.poll() is not None:
        out, err = play.communicate()
        pytest.fail('the play ended before libvirtd could be stopped:\n' + out[-3000:] + err[-2000:], pytrace=False)
    os.kill(int(pids[0]), signal.SIGSTOP)
    if play.poll() is not None:
        os.kill(int(pids[0]), signal.SIGCONT)
        out, err = play.communicate()
        pytest.fail('the play ended as libvirtd was stopped:\n' + out[-3000:] + err[-2000:], pytrace=False)
    begun = [n for n in files_in(pool_path) if n in CLONES]
    os.kill(int(pids[0]), signal.SIGKILL)
    out, err = play.communicate()
    (tmp_path / 'killed-play.log').write_text(out + '\n--- stderr ---\n' + err)
    restart_libvirtd(pids[0])
    assert play.returncode != 0, out
    assert 'connection to libvirt was lost' in out, out[-3000:]
    assert 'Traceback' not in out
    failure = re.search(r'fatal: \[localhost\]: FAILED! => (\{.*\})', out)
    assert failure, out[-3000:]
    return begun, json.loads(failure.group(1))


def test_libvirtd_killed_mid_play_rerun_completes(local_libvirtd_alone, ansible_run, base, tmp_path, request):
    pool = P + 'kill'
    pool_path = base + '/pool'
    own_markers(pool, request)
    request.addfinalizer(lambda: drop_pool(pool))
    request.addfinalizer(restart_libvirtd)  # runs first: the teardown needs libvirtd
    # Random data makes each clone a real copy (a sparse source would copy instantly).
    sh('head -c 16M /dev/urandom > %s/src.raw' % base)
    with open(base + '/src.raw', 'rb') as f:
        source_sum = hashlib.sha256(f.read()).hexdigest()
    extra = {'pool': pool, 'pool_path': pool_path, 'source': base + '/src.raw',
             'clones': [{'name': n, 'clone_from': {'name': 'src.raw'}} for n in CLONES]}
    playbook = os.path.join(FILES, 'pool_and_volumes.yml')

    play = ansible_run(playbook, extra, background=True)
    begun, result = kill_libvirtd_at_sixth_file(play, pool_path, tmp_path)
    # The clones made before the loss stay made, and the result says so: every clone begun
    # before the freeze but the one in flight finished, and each finished one is an action.
    reported = sorted(n for n in CLONES if any(n in action for action in result['actions']))
    assert result['changed'] is True, result
    assert set(reported) <= set(begun) and len(begun) - len(reported) <= 1 and len(reported) >= 4, (begun, result)

    again = ansible_run(playbook, extra)
    assert again.returncode == 0, again.stdout[-3000:]
    # No duplicate or orphan: exactly the 21 volumes and their files.
    assert vol_names(pool) == sorted(CLONES + ['src.raw'])
    assert files_in(pool_path) == sorted(CLONES + ['src.raw'])
    third = ansible_run(playbook, extra)
    assert third.returncode == 0 and re.search(r'changed=0\s', third.stdout), third.stdout[-2000:]
    # No half-written volume: each clone is a whole copy of the source. libvirt lists the
    # clone it was copying when it died; the module's in-flight marker (_inflight)
    # outlives the killed run, so the re-run replaces that volume instead of taking it
    # as made.
    partial = []
    for name in CLONES:
        with open(os.path.join(pool_path, name), 'rb') as f:
            if hashlib.sha256(f.read()).hexdigest() != source_sum:
                partial.append(name)
    assert partial == [], 'half-written volumes: %s' % partial


# --- a gluster brick killed while a volume is created -----------------------------------------

GV = P + 'gv'


def brick_pid():
    xml = sh('gluster --mode=script volume status %s --xml' % GV, check=False)
    found = re.search(r'<status>1</status>.*?<pid>(\d+)</pid>', xml, re.S)
    return found.group(1) if found else None


def gone(pid):
    """Whether process ``pid`` has exited (reaped, or a zombie that holds nothing open)."""
    try:
        with open('/proc/%s/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def test_gluster_brick_killed_mid_create(run_module, ansible_run, base, tmp_path, request):
    pool = P + 'gluster'
    brick = base + '/brick'
    image = 'gluster://127.0.0.1/%s/' % GV

    def teardown():
        drop_pool(pool)
        sh('gluster --mode=script volume stop %s force || true; gluster --mode=script volume delete %s'
           % (GV, GV), check=False)
    request.addfinalizer(teardown)
    # As lab/fixtures.sh makes kvmst-gv0: a brick on the root fs (force), owned by libvirt-qemu.
    sh('''mkdir -p {brick}
gluster --mode=script volume create {gv} transport tcp "$(hostname):{brick}" force >/dev/null
gluster --mode=script volume set {gv} storage.owner-uid "$(id -u libvirt-qemu)" >/dev/null
gluster --mode=script volume set {gv} storage.owner-gid "$(getent group libvirt-qemu | cut -d: -f3)" >/dev/null
gluster --mode=script volume set {gv} server.allow-insecure on >/dev/null
gluster --mode=script volume start {gv} >/dev/null'''.format(gv=GV, brick=brick))
    wait_until(lambda: brick_pid() is not None, 'the brick of %s to come online' % GV, tries=100)
    made = run_module('pool', {'name': pool, 'type': 'gluster',
                               'source': {'hosts': [{'name': '127.0.0.1'}], 'name': GV}})
    assert made.get('changed') and not made.get('failed'), made

    # An image another gluster client wrote after libvirt last listed the pool is seen,
    # never created over (qemu-img create would truncate it).
    # (one gfapi session: each costs about 20 s of gluster teardown)
    sh('head -c 1M /dev/zero | tr "\\000" "\\132" > {b}/other.raw && truncate -s 4M {b}/other.raw && '
       'qemu-img convert -f raw -O raw {b}/other.raw {u}other.raw 2>/dev/null'.format(u=image, b=base))
    other = run_module('volume', {'pool': pool, 'name': 'other.raw', 'capacity': '4MiB'})
    assert not other.get('failed') and not other.get('changed'), other
    assert sh('head -c 1M %s/other.raw | tr -d "\\132" | wc -c' % brick).strip() == '0', 'other.raw was overwritten'

    # Kill the brick while the module's create step runs. qemu-img writes the image within
    # moments of starting and then spends about 20 s in gfapi's teardown, so a kill timed
    # by watching for the process lands before or after the write by chance (and after it,
    # the create succeeds). A qemu-img first on the module's PATH holds the create at its
    # start instead: it says ready, waits for the go file, then runs the real qemu-img, so
    # the brick is gone before anything is written, every time.
    gate = base + '/gate'
    os.makedirs(gate)
    with open(gate + '/qemu-img', 'w') as f:
        f.write('#!/bin/sh\n'
                'if [ "$1" = create ]; then\n'
                '  touch {g}/ready\n'
                '  while [ ! -e {g}/go ]; do sleep 0.01; done\n'
                'fi\n'
                'exec {real} "$@"\n'.format(g=gate, real=sh('command -v qemu-img').strip()))
    os.chmod(gate + '/qemu-img', 0o755)
    play = ansible_run(os.path.join(FILES, 'volume.yml'), {'volume': {
        'pool': pool, 'name': 'new.qcow2', 'format': 'qcow2', 'capacity': '64MiB'}}, background=True,
        env={'PATH': gate + ':' + os.environ['PATH']})
    wait_until(lambda: play.poll() is not None or os.path.exists(gate + '/ready'), 'the create to begin',
               tries=6000)
    pid = brick_pid()
    assert play.poll() is None and pid, 'the create ended before the brick could be killed:\n' + play.stdout.read()
    os.kill(int(pid), signal.SIGKILL)
    wait_until(lambda: gone(pid), 'the killed brick to be gone')
    open(gate + '/go', 'w').close()
    out, err = play.communicate()
    (tmp_path / 'brick-killed.log').write_text(out + '\n--- stderr ---\n' + err)
    assert play.returncode != 0, out
    failure = re.search(r'fatal: \[localhost\]: FAILED! => (\{.*\})', out)
    assert failure, out[-3000:]
    result = dict(json.loads(failure.group(1)), failed=True)  # the callback drops 'failed'
    assert_clean_failure(result, 'new.qcow2', 'failed to connect')
    assert 'io-stats' not in result['msg'], 'gluster log lines in the message: ' + result['msg']
    # At most an empty file is left (the brick is gone, nothing can remove it now), the
    # message says so, and the pool still runs.
    assert 'left an empty file' in result['msg'], result['msg']
    left = [n for n in files_in(brick) if not n.startswith('.')]
    assert left in (['other.raw'], ['new.qcow2', 'other.raw']), left
    if 'new.qcow2' in left:
        assert os.path.getsize(brick + '/new.qcow2') == 0
    assert virsh('pool-info', pool).stdout.count('running') == 1

    sh('gluster --mode=script volume start %s force >/dev/null' % GV)
    wait_until(lambda: brick_pid() is not None, 'the brick to come back', tries=100)
    again = run_module('volume', {'pool': pool, 'name': 'new.qcow2', 'format': 'qcow2', 'capacity': '64MiB'})
    assert again.get('changed') and not again.get('failed'), again
    info = json.loads(sh('qemu-img info --output=json %s/new.qcow2' % brick))
    assert (info['format'], info['virtual-size']) == ('qcow2', 64 << 20)
    assert [n for n in files_in(brick) if not n.startswith('.')] == ['new.qcow2', 'other.raw']
    assert vol_names(pool) == ['new.qcow2', 'other.raw']
    assert sh('head -c 1M %s/other.raw | tr -d "\\132" | wc -c' % brick).strip() == '0', 'other.raw changed'


# --- a guest that never releases a disk on detach ---------------------------------------------

# With PCIe port services in compat mode the guest kernel has no native PCIe hotplug
# driver, and with ACPI off it does not see ACPI hotplug either: an unplug request goes
# unanswered, qemu never removes the device and libvirt's DEVICE_REMOVED never comes.
DEAF_CMDLINE = 'pcie_ports=compat acpi=off'


def test_guest_that_never_releases_a_disk(run_module, base, tmp_path, request):
    guest, pool = P + 'deaf', P + 'deaf'
    request.addfinalizer(lambda: drop_pool(pool))
    request.addfinalizer(lambda: drop_guest(guest))
    start_guest(guest, base, DEAF_CMDLINE)
    made = run_module('pool', {'name': pool, 'type': 'dir', 'target': {'path': base + '/pool'}})
    assert made.get('changed'), made
    made = run_module('volume', {'pool': pool, 'name': 'data.raw', 'capacity': '16MiB'})
    assert made.get('changed'), made
    want = write_pattern(base + '/pool/data.raw', 'raw', 'deaf', tmp_path)
    disk = {'domain': guest, 'target': 'vdb', 'bus': 'virtio', 'source': {'volume': {'pool': pool, 'name': 'data.raw'}}}
    attached = run_module('disk', disk)
    assert attached.get('changed') and not attached.get('failed'), attached
    persistent = virsh('dumpxml', '--inactive', guest, check=True).stdout

    held = run_module('disk', {'domain': guest, 'target': 'vdb', 'state': 'absent', 'timeout': 5})
    assert_clean_failure(held, 'did not release the disk within 5 s', 'vdb')
    # Nothing else changed: the persistent definition, the disk in the running guest, the volume.
    assert virsh('dumpxml', '--inactive', guest, check=True).stdout == persistent
    assert 'vdb' in virsh('domblklist', guest).stdout
    assert vol_names(pool) == ['data.raw']
    assert read_sha(base + '/pool/data.raw', 'raw', tmp_path) == want


# --- libvirtd killed in the middle of a host_storage plan -------------------------------

def test_libvirtd_killed_mid_host_storage_plan(local_libvirtd_alone, ansible_run, base, tmp_path, request):
    """One plan: a pool, a template imported into it and 20 full clones of the template.
    libvirtd is frozen when the sixth file appears in the pool folder (the template and at
    least five clones begun), then killed. The run fails with the plan's own account (what
    finished, what was not reached); check mode afterwards predicts exactly what the re-run
    does; the re-run converges to exactly the requested volumes, every clone a whole copy
    (sha256); a third run changes nothing."""
    pool = P + 'hs2-kill'
    pool_path = base + '/pool'
    own_markers(pool, request)
    request.addfinalizer(lambda: drop_pool(pool))
    request.addfinalizer(restart_libvirtd)  # runs first: the teardown needs libvirtd
    sh('head -c 16M /dev/urandom > %s/src.raw' % base)
    with open(base + '/src.raw', 'rb') as f:
        source_sum = hashlib.sha256(f.read()).hexdigest()
    spec = {'pools': [{'name': pool, 'type': 'dir', 'target': {'path': pool_path}}],
            # clones listed before their source: the plan orders them. A full clone of a volume the
            # same plan imports states its capacity (the import's size is known only once it ran).
            'volumes': [{'pool': pool, 'name': n, 'capacity': '16MiB', 'clone_from': {'name': 'tpl.raw'}}
                        for n in CLONES]
            + [{'pool': pool, 'name': 'tpl.raw', 'import_from': base + '/src.raw', 'format': 'raw'}]}
    playbook = os.path.join(FILES, 'host_storage.yml')
    wanted = sorted(CLONES + ['tpl.raw'])

    play = ansible_run(playbook, {'spec': spec}, background=True)
    # Frozen at a known point: the module makes one volume at a time inside libvirtd.
    begun, result = kill_libvirtd_at_sixth_file(play, pool_path, tmp_path)
    # The plan's account: the pool and the template made, the clones that finished listed as
    # actions, the clone in flight and the later ones as not reached; a re-run goes on.
    assert result['changed'] is True, result
    assert 'a re-run goes on from here' in result['msg'], result['msg']
    assert result['failed_element'].startswith('volumes['), result
    reported = sorted(n for n in CLONES if any(n in action for action in result['actions']))
    not_reached = sorted(n for n in CLONES if any(n in action for action in result['not_reached']))
    assert set(reported) <= set(begun) and len(begun) - len(reported) <= 1 and len(reported) >= 4, (begun, result)
    in_flight = [n for n in CLONES if n in result['failed_object']]
    # The clone in flight has a file at the freeze or not yet (kill_libvirtd_at_sixth_file).
    assert len(in_flight) == 1 and in_flight[0] not in reported, result
    assert set(begun) <= set(reported + in_flight), (begun, result)
    assert sorted(reported + in_flight + not_reached) == sorted(CLONES), result
    assert any('tpl.raw' in action for action in result['actions']), result

    # Check mode after the cut tells the truth about the re-run.
    check = ansible_run(playbook, {'spec': spec, 'out': str(tmp_path / 'check.json')}, args=['--check'])
    assert check.returncode == 0, check.stdout[-3000:]
    predicted = json.loads((tmp_path / 'check.json').read_text())
    again = ansible_run(playbook, {'spec': spec, 'out': str(tmp_path / 'again.json')})
    assert again.returncode == 0, again.stdout[-3000:]
    done = json.loads((tmp_path / 'again.json').read_text())
    assert sorted(set(predicted['actions'])) == sorted(set(done['actions'])), (predicted['actions'], done['actions'])
    assert set(n for n in CLONES if any(n in a for a in done['actions'])) >= set(not_reached), done['actions']
    # No duplicate or orphan: exactly the 21 volumes and their files.
    assert vol_names(pool) == wanted
    assert files_in(pool_path) == wanted
    third = ansible_run(playbook, {'spec': spec})
    assert third.returncode == 0 and re.search(r'changed=0\s', third.stdout), third.stdout[-2000:]
    # Every clone whole: the one in flight was replaced (its in-flight marker outlived the
    # killed run), none is half-written.
    partial = []
    for name in wanted:
        with open(os.path.join(pool_path, name), 'rb') as f:
            if hashlib.sha256(f.read()).hexdigest() != source_sum:
                partial.append(name)
    assert partial == [], 'half-written volumes: %s' % partial


# --- libvirtd killed while a block job of a running guest's disk runs -------------------------

DISK_JOB = os.path.join(FILES, 'disk_job.yml')
SEQ_CHECK = os.path.join(REPO, 'tests', 'integration', 'files', 'seq_check.py')


def seq_guest(guest, folder, pool, volume):
    """Start a lab guest whose vda is ``volume`` of ``pool`` and that writes numbered,
    fsync'ed records to it from boot on (kvmst.seq=vda, lab/guest/initrd.sh); returns its
    console log once it reported the first records."""
    disk = ("<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='%s' volume='%s'/>"
            "<target dev='vda' bus='virtio'/></disk>" % (pool, volume))
    start_guest(guest, folder, 'kvmst.seq=vda', devices=disk)
    console = os.path.join(folder, guest + '.console.log')
    wait_until(lambda: last_record(console) >= 0, 'guest %s to write its first records' % guest)
    return console


def last_record(console):
    with open(console, errors='replace') as f:
        found = re.findall(r'kvmst-guest: seq (\d+)', f.read())
    return int(found[-1]) if found else -1


def seq_check(image, console):
    """seq_check.py's verdict on the records the guest wrote to ``image`` (every record it
    reported on ``console`` must be there)."""
    proc = subprocess.run(['/usr/bin/python3', SEQ_CHECK, image, console], capture_output=True, text=True,
                          check=False)
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout)


def image_of(guest):
    """The image vda of the running guest uses."""
    out = virsh('domblklist', guest, check=True).stdout
    return dict(line.split(None, 1) for line in out.splitlines() if line.strip())['vda'].strip()


def kill_libvirtd_during(play, job_running, what, tmp_path):
    """Wait until ``job_running()`` (a poll through libvirtd) sees the job, freeze libvirtd
    (SIGSTOP: the module cannot go on while it is frozen), check the play still runs, kill
    libvirtd and start it again; returns the failed play's result. qemu and its job outlive
    the daemon."""
    pids = libvirtd_pid()
    assert len(pids) == 1, pids
    seen = {}

    def running():
        if play.poll() is not None:
            return True
        seen['info'] = job_running()
        return bool(seen['info'])
    wait_until(running, '%s to run' % what, tries=6000, pause=0.05)
    os.kill(int(pids[0]), signal.SIGSTOP)
    if play.poll() is not None:
        os.kill(int(pids[0]), signal.SIGCONT)
        out, err = play.communicate()
        pytest.fail('the play ended before libvirtd could be killed during %s:\n%s%s' % (what, out[-3000:], err[-2000:]),
                    pytrace=False)
    os.kill(int(pids[0]), signal.SIGKILL)
    out, err = play.communicate()
    (tmp_path / 'killed-play.log').write_text(out + '\n--- stderr ---\n' + err)
    restart_libvirtd(pids[0])
    assert play.returncode != 0, out
    assert 'connection to libvirt was lost' in out, out[-3000:]
    assert 'Traceback' not in out
    failure = re.search(r'fatal: \[localhost\]: FAILED! => (\{.*\})', out)
    assert failure, out[-3000:]
    return seen['info'], json.loads(failure.group(1))


def libvirt_saved_job(guest, kind):
    """libvirt has written the guest's block job of ``kind`` (copy, backup) into the guest's
    status file as started (state running or ready). qemu runs a job a moment before that; a
    libvirtd killed in that moment finds a job it does not know, or one it registered as
    'new' and never saw start, when it starts again, and cancels it. Tests kill only after."""
    try:
        with open('/run/libvirt/qemu/%s.xml' % guest, encoding='utf-8') as handle:
            tags = re.findall(r'<blockjob [^>]*>', handle.read())
    except FileNotFoundError:
        return False
    return any("type='%s'" % kind in tag and re.search(r"state='(running|ready)'", tag) for tag in tags)


def copy_progress(guest):
    """(done, total) of the block copy on vda while it is not yet in step, else None."""
    out = virsh('blockjob', guest, 'vda', '--raw').stdout
    found = dict(re.findall(r'(\w+)=(.*)', out))
    if found.get('type') == 'Block Copy' and int(found['cur']) < int(found['end']):
        return int(found['cur']), int(found['end'])
    return None


def test_libvirtd_killed_during_disk_move(local_libvirtd_alone, ansible_run, run_module, base, tmp_path, request):
    """A running guest's disk is moved (block copy) while the guest writes numbered records;
    libvirtd is killed while the copy runs (seen in progress, not yet in step). The run fails
    with a clear error; the re-run finishes the move (the copy qemu went on with is taken over,
    or made again); the guest ends on the new image, nothing of the move left behind, every
    record the guest reported is on the image it uses."""
    guest, src, dst = P + 'mv-guest', P + 'mv-src', P + 'mv-dst'
    request.addfinalizer(lambda: (drop_pool(src), drop_pool(dst)))
    request.addfinalizer(lambda: drop_guest(guest))
    request.addfinalizer(restart_libvirtd)  # runs first: the teardown needs libvirtd
    for name, folder in ((src, base + '/src'), (dst, base + '/dst')):
        made = run_module('pool', {'name': name, 'type': 'dir', 'target': {'path': folder}})
        assert made.get('changed'), made
    made = run_module('volume', {'pool': src, 'name': 'vda.qcow2', 'format': 'qcow2', 'capacity': '256MiB'})
    assert made.get('changed'), made
    # The copy carries the whole 256 MiB disk at 8 MiB/s: it is in step only after about
    # 30 s, so libvirtd dies while it runs.
    sh('qemu-io -f qcow2 -c "write -P 0x5a 128M 64M" %s/src/vda.qcow2 >/dev/null' % base)
    console = seq_guest(guest, base, src, 'vda.qcow2')
    old = image_of(guest)

    args = {'domain': guest, 'target': 'vda', 'to': {'pool': dst}, 'remove_source': True, 'bandwidth': '8MiB'}
    play = ansible_run(DISK_JOB, {'module': 'disk_move', 'job_args': args}, background=True)
    progress, result = kill_libvirtd_during(
        play, lambda: libvirt_saved_job(guest, 'copy') and copy_progress(guest), 'the block copy', tmp_path)
    assert progress and progress[0] < progress[1], progress
    assert 'vda' in result['msg'] and '\n' not in result['msg'], result
    records_at_kill = last_record(console)
    # The guest goes on writing to its old image; qemu's copy outlived the daemon.
    assert image_of(guest) == old
    # The re-run finishes qemu's copy (at full speed: the limit was of the killed run's copy).
    virsh('blockjob', guest, 'vda', '--bandwidth', '0')
    args.pop('bandwidth')
    again = run_module('disk_move', args)
    assert again.get('changed') and not again.get('failed'), again
    new = os.path.join(base, 'dst', 'vda.qcow2')
    assert again['image'] == new, again
    # qemu's copy outlived the daemon, and the re-run took it over rather than refuse the disk's job
    assert again['actions'][0].startswith('finish the copy of disk vda'), again['actions']
    assert image_of(guest) == new
    persistent = virsh('dumpxml', '--inactive', guest, check=True).stdout
    assert "<source pool='%s' volume='vda.qcow2'/>" % dst in persistent, persistent
    third = run_module('disk_move', args)
    assert not third.get('changed') and not third.get('failed'), third
    # Nothing of the move left: no job, the old image removed (remove_source), one image there.
    assert copy_progress(guest) is None and 'Block Copy' not in virsh('blockjob', guest, 'vda', '--info').stdout
    assert files_in(base + '/src') == [] and files_in(base + '/dst') == ['vda.qcow2']
    assert vol_names(src) == [] and vol_names(dst) == ['vda.qcow2']

    # The guest writes on to the new image; every record it reported is there.
    wait_until(lambda: last_record(console) > records_at_kill + 32, 'the guest to write on after the move')
    virsh('destroy', guest, check=True)
    checked = seq_check(new, console)
    assert checked['intact'] and checked['records'] > records_at_kill, checked


def qmp(guest, command, **arguments):
    """One QMP command to the guest's qemu through libvirt (the test's own throttle on the
    backup job: libvirt's backup API has no bandwidth). Returns qemu's answer."""
    proc = virsh('qemu-monitor-command', guest, json.dumps({'execute': command, 'arguments': arguments}))
    return json.loads(proc.stdout)['return'] if proc.returncode == 0 else None


def backup_jobs(guest):
    """[(done, total)] of qemu's backup block jobs of the guest."""
    return [(j['offset'], j['len']) for j in qmp(guest, 'query-block-jobs') or [] if j['type'] == 'backup']


def whole_disk(path):
    """The block device (a whole disk, not a partition) that holds the file system of PATH."""
    st = os.stat(path)
    sysfs = os.path.realpath('/sys/dev/block/%d:%d' % (os.major(st.st_dev), os.minor(st.st_dev)))
    if not os.path.isdir(sysfs):
        pytest.fail('%s is on no block device (%d:%d): the backup test throttles its reads there'
                    % (path, os.major(st.st_dev), os.minor(st.st_dev)), pytrace=False)
    if os.path.exists(os.path.join(sysfs, 'partition')):
        sysfs = os.path.dirname(sysfs)
    return '/dev/' + os.path.basename(sysfs)


def throttle_reads(guest, image, bps):
    """Limit what the guest's qemu reads from the disk under IMAGE to BPS bytes/s (libvirt's
    blkiotune: the blkio cgroup, which covers block jobs too; 0: no limit). With a limit,
    IMAGE is first dropped from the page cache, so each read the job makes reaches the disk."""
    device = whole_disk(image)
    if bps:
        fd = os.open(image, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    proc = virsh('blkiotune', guest, '--live', '--device-read-bytes-sec', '%s,%d' % (device, bps))
    assert proc.returncode == 0, 'virsh blkiotune %s (%s): %s' % (guest, device, proc.stderr)


def test_libvirtd_killed_during_disk_backup(local_libvirtd_alone, ansible_run, run_module, base, tmp_path, request):
    """A full backup of a running guest that writes numbered records; libvirtd is killed while
    qemu's backup job runs. The guest's reads from the disk are limited to 4 MiB/s before the
    backup starts (its image out of the page cache), so the job reads the 256 MiB for over a
    minute: it certainly still runs when the test sees it, throttles it further and kills
    libvirtd (a throttle applied only once the job was seen lost that race once). The run
    fails with a clear error; a re-run while the job still runs says to wait; once the job
    ended the next run converges: the interrupted backup's checkpoint and partial image go, a
    whole backup holding every record the guest reported before it is taken, and nothing else
    is left (no .part, no other checkpoint, no job). The guest's own image holds every record."""
    guest, pool, backups = P + 'bk-guest', P + 'bk', P + 'bk-backups'
    request.addfinalizer(lambda: (drop_pool(pool), drop_pool(backups)))
    request.addfinalizer(lambda: (virsh('destroy', guest), virsh('undefine', '--checkpoints-metadata', guest)))
    request.addfinalizer(restart_libvirtd)  # runs first: the teardown needs libvirtd
    for name, folder in ((pool, base + '/pool'), (backups, base + '/backups')):
        made = run_module('pool', {'name': name, 'type': 'dir', 'target': {'path': folder}})
        assert made.get('changed'), made
    made = run_module('volume', {'pool': pool, 'name': 'vda.qcow2', 'format': 'qcow2', 'capacity': '512MiB'})
    assert made.get('changed'), made
    # 256 MiB of data beyond the guest's records: the job still has most of it to copy when
    # the test throttles it to 1 MiB/s.
    sh('qemu-io -f qcow2 -c "write -P 0x5a 256M 256M" %s/pool/vda.qcow2 >/dev/null' % base)
    console = seq_guest(guest, base, pool, 'vda.qcow2')
    image = base + '/pool/vda.qcow2'
    throttle_reads(guest, image, 4 << 20)
    args = {'domain': guest, 'name': 'b1', 'to': {'pool': backups}, 'mode': 'full'}
    play = ansible_run(DISK_JOB, {'module': 'disk_backup', 'job_args': args}, background=True)

    def throttled():
        if not backup_jobs(guest):
            return None
        for job in qmp(guest, 'query-block-jobs') or []:
            if job['type'] == 'backup':
                qmp(guest, 'block-job-set-speed', device=job['device'], speed=1 << 20)
        if not libvirt_saved_job(guest, 'backup'):
            return None
        return [p for p in backup_jobs(guest) if p[0] < p[1]]
    progress, result = kill_libvirtd_during(play, throttled, 'the backup job', tmp_path)
    assert progress, progress
    assert 'b1' in result['msg'] and '\n' not in result['msg'], result

    # The job goes on in qemu (libvirt takes it up again): a re-run says to wait for it.
    assert backup_jobs(guest), 'the backup job did not outlive libvirtd'
    waiting = run_module('disk_backup', args)
    assert_clean_failure(waiting, 'a backup job runs on the guest', 'virsh domjobinfo')
    # Back to full speed; the job ends (its image is not a backup: no manifest).
    throttle_reads(guest, image, 0)
    for job in qmp(guest, 'query-block-jobs') or []:
        qmp(guest, 'block-job-set-speed', device=job['device'], speed=0)
    wait_until(lambda: 'None' in virsh('domjobinfo', guest, check=True).stdout, 'the backup job to end')

    sh('cp %s %s/console.b1' % (console, base))
    again = run_module('disk_backup', args)
    assert again.get('changed') and not again.get('failed'), again
    assert again['actions'][0] == 'delete checkpoint b1 of guest %s (left by an interrupted backup b1)' % guest, again
    assert again['backup']['mode'] == 'full' and again['backup']['complete'], again
    third = run_module('disk_backup', args)
    assert not third.get('changed') and not third.get('failed'), third
    # Nothing of the interrupted run left: one checkpoint (the backup's), no job, no .part.
    assert virsh('checkpoint-list', '--name', guest, check=True).stdout.split() == ['b1']
    assert files_in(base + '/backups') == ['%s.b1.backup.json' % guest, '%s.b1.vda.qcow2' % guest]
    assert backup_jobs(guest) == [] and 'None' in virsh('domjobinfo', guest, check=True).stdout
    checked = seq_check(base + '/backups/%s.b1.vda.qcow2' % guest, base + '/console.b1')
    assert checked['intact'], checked
    virsh('destroy', guest, check=True)
    checked = seq_check(image, console)
    assert checked['intact'], checked
