# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pools have users on other hosts (the safety guide's shared-pool rule).

The lab's gluster volume kvmst-gv0 is mounted twice: once by libvirt for a netfs pool, once
by the test as "another host" would mount it (a second gluster client). A qemu on that
second mount holds an image, as a guest on another host does; no libvirt listing here shows
it. Deleting, shrinking, wiping or reverting that image is refused because its lock is
taken; the same image through the native gluster pool (gfapi keeps no lock) needs
``force``. The data is proven intact by sha256. Before the rule the FUSE delete went
through. Objects are named ``kvmst-rel-sh-...``; each test removes its own.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import assert_clean_failure, drop_pool, read_sha, sh, virsh, wait_until, write_pattern

P = 'kvmst-rel-sh-'
BASE = '/var/lib/kvmst-rel-sh'
GV = 'kvmst-gv0'                  # lab/fixtures.sh
FUSE = P + 'fuse'
NATIVE = P + 'native'
OTHER = BASE + '/otherhost'       # the second gluster client: "another host"


@pytest.fixture(scope='module')
def shared(tmp_path_factory):
    # A mount left by a run that was killed (its client dead once glusterd restarted) is
    # dropped first: mkdir on it fails with "Transport endpoint is not connected".
    sh('if mountpoint -q {o} || ! stat {o} >/dev/null 2>&1; then umount -l {o} 2>/dev/null || true; fi; '
       'mkdir -p {b}/fuse {o} && mount -t glusterfs 127.0.0.1:/{gv} {o}'.format(b=BASE, o=OTHER, gv=GV))
    sh("virsh -q pool-define-as {n} netfs --source-host 127.0.0.1 --source-path {gv} --source-format glusterfs "
       "--target {b}/fuse >/dev/null && virsh -q pool-start {n} >/dev/null".format(n=FUSE, gv=GV, b=BASE))
    yield tmp_path_factory.mktemp('shared')
    drop_pool(FUSE)
    drop_pool(NATIVE)
    sh('rm -f {o}/{p}*; umount {o}; rm -rf {b}'.format(o=OTHER, p=P, b=BASE), check=False)


def lock_taken(path):
    return subprocess.run(['qemu-io', '-f', 'raw', '-c', 'quit', path], capture_output=True, check=False).returncode != 0


@pytest.fixture
def other_host_guest(request):
    """other_host_guest(path): a qemu on the second mount with ``path`` as its writable
    disk (paused: it holds the image as a running guest does); returns once the lock is
    held, as seen through libvirt's mount."""
    procs = []

    def start(name, seen_as):
        proc = subprocess.Popen(['qemu-system-x86_64', '-machine', 'q35,accel=tcg', '-display', 'none', '-nodefaults',
                                 '-S', '-drive', 'file=%s/%s,format=qcow2,if=virtio' % (OTHER, name)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        wait_until(lambda: proc.poll() is not None or lock_taken(seen_as), 'the other host to lock %s' % name)
        assert proc.poll() is None, 'the other host\'s qemu exited'
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_locked_image_of_a_fuse_pool_is_kept(run_module, shared, other_host_guest):
    name = P + 'a.qcow2'
    path = '%s/fuse/%s' % (BASE, name)
    sh('qemu-img create -q -f qcow2 %s 32M && qemu-img snapshot -c before %s' % (path, path))
    want = write_pattern(path, 'qcow2', name, shared)
    sh('virsh -q pool-refresh %s >/dev/null' % FUSE)
    holder = other_host_guest(name, path)

    for extra in ({'state': 'absent'}, {'state': 'absent', 'wipe': 'zero'},
                  {'capacity': '16MiB', 'allow_shrink': True}):
        for check in (True, False):
            refused = run_module('volume', dict({'pool': FUSE, 'name': name}, **extra), check=check)
            assert_clean_failure(refused, name, 'another process holds its lock', 'force: true')
    reverted = run_module('volume_snapshot', {'pool': FUSE, 'volume': name, 'name': 'before', 'state': 'reverted'})
    assert_clean_failure(reverted, name, 'another process holds its lock')
    assert os.path.exists(path)
    assert read_sha(path, 'qcow2', shared) == want

    # The other host lets go: the same request goes through (the lock was the only reason).
    holder.kill()
    holder.wait()
    wait_until(lambda: not lock_taken(path), 'the lock of %s to be free' % name)
    gone = run_module('volume', {'pool': FUSE, 'name': name, 'state': 'absent'})
    assert gone.get('changed') and not gone.get('failed'), gone
    assert not os.path.exists(path)


def test_native_gluster_image_needs_force(run_module, shared):
    name = P + 'b.raw'
    path = '%s/fuse/%s' % (BASE, name)
    sh('qemu-img create -q -f raw %s 8M' % path)
    want = write_pattern(path, 'raw', name, shared)
    sh('virsh -q pool-define-as {n} gluster --source-host 127.0.0.1 --source-name {gv} --source-path / >/dev/null && '
       'virsh -q pool-start {n} >/dev/null'.format(n=NATIVE, gv=GV))
    assert name in virsh('vol-list', NATIVE).stdout
    for extra in ({'state': 'absent'}, {'capacity': '4MiB', 'allow_shrink': True}):
        refused = run_module('volume', dict({'pool': NATIVE, 'name': name}, **extra))
        assert_clean_failure(refused, name, 'keeps no lock', 'force: true')
    assert read_sha(path, 'raw', shared) == want
    forced = run_module('volume', {'pool': NATIVE, 'name': name, 'state': 'absent', 'force': True})
    assert forced.get('changed') and not forced.get('failed'), forced
    assert not os.path.exists(path)
