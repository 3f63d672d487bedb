# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The safety rules of DESIGN.md, one test each, against the real lab: every test writes a
seeded pattern into the storage at stake, provokes what the rule forbids, and proves by
sha256 of a read-back that the data is intact and the refusal is a clean error.
Objects are named ``kvmst-rel-f-...`` under /var/lib/kvmst-rel-f/safe; each test removes
its own.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import (REPO, assert_clean_failure, drop_guest, drop_pool, read_sha, sh, start_guest, virsh, vol_names,
                      write_pattern)
from ansible_collections.kvm.storage.plugins.module_utils import _inflight

P = 'kvmst-rel-f-'
BASE = '/var/lib/kvmst-rel-f/safe'
POOL = P + 'safe'


@pytest.fixture(scope='module')
def pool_path():
    """One dir pool for the volume rules, made with virsh (the module is what is tested)."""
    path = BASE + '/pool'
    sh('rm -rf {b} && mkdir -p {p} && virsh -q pool-define-as {n} dir --target {p} >/dev/null && '
       'virsh -q pool-start {n} >/dev/null'.format(b=BASE, p=path, n=POOL))
    yield path
    drop_pool(POOL)
    sh('rm -rf %s' % BASE, check=False)


@pytest.fixture
def volume(pool_path, tmp_path, request):
    """volume(name, fmt='raw', size='32M') -> sha256 of the pattern written into a new
    volume of the pool (made with qemu-img, so the module under test plays no part)."""
    made = []

    def make(name, fmt='raw', size='32M'):
        path = os.path.join(pool_path, name)
        sh('qemu-img create -q -f %s %s %s && virsh -q pool-refresh %s >/dev/null' % (fmt, path, size, POOL))
        made.append(path)
        return write_pattern(path, fmt, name, tmp_path)

    yield make
    sh('rm -f %s; virsh -q pool-refresh %s >/dev/null' % (' '.join(made), POOL), check=False)


def image_info(path):
    return json.loads(sh('qemu-img info -U --output=json %s' % path))


def intact(path, fmt, want, tmp_path):
    assert read_sha(path, fmt, tmp_path) == want, '%s lost its data' % path


# --- building a pool never overwrites ---------------------------------------------------------

def test_build_never_overwrites_a_filesystem(run_module, tmp_path, request):
    base = BASE + '/build'
    pool = P + 'build'

    def teardown():
        drop_pool(pool)
        # sh runs with set -e: each step may fail (not mounted, never made) without stopping the rest.
        sh('umount {b}/ro 2>/dev/null || true; for d in $(losetup -n -O NAME -j {b}/dev.img); do losetup -d $d || true; '
           'done; rm -rf {b}'.format(b=base), check=False)
    request.addfinalizer(teardown)
    dev = sh('rm -rf {b}; mkdir -p {b}/ro && truncate -s 64M {b}/dev.img && mkfs.ext2 -q -F {b}/dev.img && '
             'losetup -f --show {b}/dev.img'.format(b=base)).strip()
    sh('mount %s %s/ro && truncate -s 4M %s/ro/data.bin' % (dev, base, base))
    want = write_pattern(base + '/ro/data.bin', 'raw', 'build', tmp_path)
    sh('umount %s/ro' % base)

    # Check mode tells the truth: the module probes the device (blkid) and predicts the
    # refusal the real run meets, which refuses before it defines anything.
    args = {'name': pool, 'type': 'fs', 'source': {'devices': [dev], 'format': 'ext4'}, 'target': {'path': base + '/mnt'}}
    for check in (True, False):
        refused = run_module('pool', args, check=check)
        assert_clean_failure(refused, pool, 'overwrite: true')
        assert 'holds a ext2 filesystem' in refused['msg'], refused['msg']
    assert pool not in virsh('pool-list', '--all', '--name').stdout.split()
    assert sh('blkid -o value -s TYPE %s' % dev).strip() == 'ext2'
    sh('mount -o ro %s %s/ro' % (dev, base))
    intact(base + '/ro/data.bin', 'raw', want, tmp_path)


# --- state: absent on a pool keeps the data ---------------------------------------------------

def test_pool_absent_keeps_data(run_module, tmp_path, request):
    base = BASE + '/absent'
    pool = P + 'absent'
    request.addfinalizer(lambda: (drop_pool(pool), sh('rm -rf %s' % base, check=False)))
    sh('rm -rf {b}; mkdir -p {b}/pool && virsh -q pool-define-as {n} dir --target {b}/pool >/dev/null && '
       'virsh -q pool-start {n} >/dev/null && qemu-img create -q -f raw {b}/pool/data.raw 8M && '
       'virsh -q pool-refresh {n} >/dev/null'.format(b=base, n=pool))
    want = write_pattern(base + '/pool/data.raw', 'raw', 'absent', tmp_path)

    # delete_data is refused while the pool holds volumes (no force) ...
    refused = run_module('pool', {'name': pool, 'state': 'absent', 'delete_data': True})
    assert_clean_failure(refused, 'refusing to delete the data of pool %s' % pool, 'data.raw')
    assert vol_names(pool) == ['data.raw']
    # ... and plain absent stops and undefines the pool, and nothing more.
    gone = run_module('pool', {'name': pool, 'state': 'absent'})
    assert gone.get('changed') and not gone.get('failed'), gone
    assert pool not in virsh('pool-list', '--all', '--name').stdout.split()
    assert sorted(os.listdir(base + '/pool')) == ['data.raw']
    intact(base + '/pool/data.raw', 'raw', want, tmp_path)


# --- volumes only grow -------------------------------------------------------------------------

def test_volume_never_shrinks(run_module, pool_path, volume, tmp_path):
    want = volume('shrink.qcow2', 'qcow2')
    for check in (True, False):
        refused = run_module('volume', {'pool': POOL, 'name': 'shrink.qcow2', 'capacity': '16MiB'}, check=check)
        assert_clean_failure(refused, 'refusing to shrink volume shrink.qcow2', 'allow_shrink')
    assert image_info(pool_path + '/shrink.qcow2')['virtual-size'] == 32 << 20
    intact(pool_path + '/shrink.qcow2', 'qcow2', want, tmp_path)


# --- a changed format or backing file is a conflict, never a recreate --------------------------

def test_conflicts_are_not_recreated(run_module, pool_path, volume, tmp_path):
    want = volume('conflict.raw')
    other = volume('other.qcow2', 'qcow2')
    asks = [
        ({'format': 'qcow2'}, 'never recreated to change its format'),
        ({'backing': {'name': 'other.qcow2'}}, 'backing file of an existing volume is never changed'),
    ]
    for extra, words in asks:
        refused = run_module('volume', dict({'pool': POOL, 'name': 'conflict.raw'}, **extra))
        assert_clean_failure(refused, 'conflict.raw', words)
    info = image_info(pool_path + '/conflict.raw')
    assert (info['format'], info['virtual-size'], info.get('backing-filename')) == ('raw', 32 << 20, None)
    intact(pool_path + '/conflict.raw', 'raw', want, tmp_path)
    intact(pool_path + '/other.qcow2', 'qcow2', other, tmp_path)


# --- a volume in use by a guest, or backing another volume, is not deleted, wiped or shrunk ----

def test_used_and_backing_volumes_are_kept(run_module, pool_path, volume, tmp_path, request):
    guest = P + 'holder'
    request.addfinalizer(lambda: drop_guest(guest))
    used = volume('used.raw')
    base = volume('base.qcow2', 'qcow2')
    overlay = run_module('volume', {'pool': POOL, 'name': 'overlay.qcow2', 'backing': {'name': 'base.qcow2'}})
    assert overlay.get('changed') and not overlay.get('failed'), overlay
    request.addfinalizer(lambda: sh('rm -f %s/overlay.qcow2' % pool_path, check=False))
    # A defined guest (not running) that holds used.raw: defined is enough to count.
    xml = sh('%s/lab/guest/domain-xml.sh %s' % (REPO, guest))
    (tmp_path / 'holder.xml').write_text(xml)
    sh('virsh -q define %s >/dev/null && virsh -q attach-disk %s %s/used.raw vdb --config >/dev/null'
       % (tmp_path / 'holder.xml', guest, pool_path))

    asks = [
        ({'name': 'used.raw', 'state': 'absent'}, 'used by guest(s) %s' % guest),
        ({'name': 'used.raw', 'state': 'absent', 'wipe': 'zero'}, 'used by guest(s) %s' % guest),
        ({'name': 'used.raw', 'capacity': '16MiB', 'allow_shrink': True}, 'used by guest(s) %s' % guest),
        ({'name': 'base.qcow2', 'state': 'absent'}, 'backing file of'),
        ({'name': 'base.qcow2', 'state': 'absent', 'wipe': 'zero'}, 'backing file of'),
    ]
    for extra, words in asks:
        refused = run_module('volume', dict({'pool': POOL}, **extra))
        assert_clean_failure(refused, extra['name'], words, 'force: true')
    assert {'used.raw', 'base.qcow2', 'overlay.qcow2'} <= set(vol_names(POOL))
    assert image_info(pool_path + '/used.raw')['virtual-size'] == 32 << 20
    intact(pool_path + '/used.raw', 'raw', used, tmp_path)
    intact(pool_path + '/base.qcow2', 'qcow2', base, tmp_path)
    intact(pool_path + '/overlay.qcow2', 'qcow2', base, tmp_path)  # reads through to its backing file


# --- a live detach waits for the guest to release the disk; the volume stays --------------------

def test_detach_waits_and_keeps_the_volume(run_module, pool_path, volume, tmp_path, request):
    guest = P + 'detach'
    request.addfinalizer(lambda: drop_guest(guest))
    start_guest(guest, str(tmp_path))
    want = volume('detach.raw')
    disk = {'domain': guest, 'target': 'vdb', 'bus': 'virtio', 'source': {'volume': {'pool': POOL, 'name': 'detach.raw'}}}
    attached = run_module('disk', disk)
    assert attached.get('changed') and not attached.get('failed'), attached
    assert 'vdb' in virsh('domblklist', guest).stdout

    detached = run_module('disk', {'domain': guest, 'target': 'vdb', 'state': 'absent', 'timeout': 60})
    assert detached.get('changed') and not detached.get('failed'), detached
    assert any('waiting up to 60 s' in a for a in detached['actions']), detached['actions']
    # Success is reported only once the running guest has let go (libvirt's own detach
    # call returns before that), and the definition is gone too.
    assert 'vdb' not in virsh('domblklist', guest).stdout
    assert 'vdb' not in virsh('domblklist', '--inactive', guest).stdout
    assert 'detach.raw' in vol_names(POOL)
    intact(pool_path + '/detach.raw', 'raw', want, tmp_path)


# --- an in-flight marker replaces a volume only while it is as the cut-off run left it -----------
# (its own pool, kvmst-if-marker, so that it runs beside the tests above without sharing files)

IF_POOL = 'kvmst-if-marker'
IF_BASE = '/var/lib/kvmst-if/marker'
URI = 'qemu:///system'


@pytest.fixture
def marker_pool(request):
    """(pool path, markers) for a dir pool holding src.raw (a seeded pattern) and the
    in-flight markers of this host (as root: /var/lib/kvm-storage/inflight, the folder the
    module uses). The pool, its files and its markers are removed afterwards."""
    path = IF_BASE + '/pool'
    sh('rm -rf {b} && mkdir -p {p} && virsh -q pool-define-as {n} dir --target {p} >/dev/null && '
       'virsh -q pool-start {n} >/dev/null'.format(b=IF_BASE, p=path, n=IF_POOL))
    markers = _inflight.Inflight(URI)
    assert markers.dir == _inflight.STATE_DIRS[0], markers.dir

    def teardown():
        for name in ('disk.raw', 'src.raw'):
            markers.clear(IF_POOL, name, dead_too=True)
        drop_pool(IF_POOL)
        sh('rm -rf %s' % IF_BASE, check=False)
    request.addfinalizer(teardown)
    return path, markers


def leave_marker(markers, name, doing, left=None):
    """Leave the marker a cut-off run leaves: its process is gone (a real pid and start
    time of a process that has exited, so a reused pid cannot pass for it), and ``left``
    is what it recorded about the volume after the create failed (None: it was killed
    before it could)."""
    markers.mark(IF_POOL, name, doing)
    proc = subprocess.Popen(['true'])
    started = _inflight._start_time(proc.pid)  # pylint: disable=protected-access
    proc.wait()
    path = markers._path(IF_POOL, name)  # pylint: disable=protected-access
    with open(path) as f:
        record = json.load(f)
    record.update(pid=proc.pid, pid_started=started, left=left)
    with open(path, 'w') as f:
        json.dump(record, f)
    return path


def past(ctime_ns, folder):
    """Wait until the file system's clock (a kernel tick) has moved past ``ctime_ns``, so
    that the next write gets another change time: a condition, not a sleep."""
    probe = os.path.join(folder, '.clock-probe')
    while True:
        with open(probe, 'w') as f:
            f.write('x')
        if os.stat(probe).st_ctime_ns > ctime_ns:
            os.unlink(probe)
            return


CLONE = {'pool': IF_POOL, 'name': 'disk.raw', 'clone_from': {'name': 'src.raw'}}
DOING = 'clone volume src.raw of pool %s to volume disk.raw of pool %s (raw, 32 MiB)' % (IF_POOL, IF_POOL)
DAYS = 3 * 24 * 3600


def made_clone(run_module, path, tmp_path):
    """src.raw with a pattern, and disk.raw cloned from it by the module; the source's sha256."""
    sh('qemu-img create -q -f raw {p}/src.raw 32M && virsh -q pool-refresh {n} >/dev/null'.format(p=path, n=IF_POOL))
    source = write_pattern(path + '/src.raw', 'raw', 'if-source', tmp_path)
    made = run_module('volume', CLONE)
    assert made.get('changed') and not made.get('failed'), made
    assert read_sha(path + '/disk.raw', 'raw', tmp_path) == source
    return source


def test_inflight_marker_of_a_killed_run_never_replaces_the_volume(run_module, marker_pool, tmp_path):
    """The module was killed mid-clone and libvirtd finished the copy: the marker stays,
    with nothing recorded after the create began. Days later the volume holds a user's
    data; the same request must not delete it as incomplete."""
    path, markers = marker_pool
    made_clone(run_module, path, tmp_path)
    marker = leave_marker(markers, 'disk.raw', DOING)
    want = write_pattern(path + '/disk.raw', 'raw', 'if-user-data', tmp_path)
    os.utime(path + '/disk.raw', (os.stat(path + '/disk.raw').st_atime - DAYS,
                                  os.stat(path + '/disk.raw').st_mtime - DAYS))

    for check in (True, False):
        again = run_module('volume', CLONE, check=check)
        assert_clean_failure(again, 'refusing to replace volume disk.raw of pool %s as incomplete' % IF_POOL, marker,
                             'killed before it could record', 'remove that marker', 'force: true')
        intact(path + '/disk.raw', 'raw', want, tmp_path)
    # As the sentence says: without the marker the volume is kept as it is.
    os.unlink(marker)
    kept = run_module('volume', CLONE)
    assert not kept.get('changed') and not kept.get('failed'), kept
    intact(path + '/disk.raw', 'raw', want, tmp_path)


def test_inflight_marker_replaces_only_an_unchanged_volume(run_module, marker_pool, tmp_path):
    """The run survived the failure (libvirtd died mid-copy) and recorded how it left the
    volume: the next run replaces it while it is still exactly that, and refuses once
    anything wrote to it, even with its modification time set back."""
    path, markers = marker_pool
    source = made_clone(run_module, path, tmp_path)
    image = path + '/disk.raw'

    # Written after the run stopped, the modification time put back as it was recorded.
    left = _inflight.fingerprint(image)
    marker = leave_marker(markers, 'disk.raw', DOING, left)
    past(left['ctime_ns'], path)
    want = write_pattern(image, 'raw', 'if-user-data', tmp_path)
    os.utime(image, ns=(os.stat(image).st_atime_ns, left['mtime_ns']))
    assert os.stat(image).st_mtime_ns == left['mtime_ns']
    refused = run_module('volume', CLONE)
    assert_clean_failure(refused, 'refusing to replace volume disk.raw of pool %s as incomplete' % IF_POOL, marker,
                         'changed after that run stopped', 'remove that marker', 'force: true')
    intact(image, 'raw', want, tmp_path)
    # Resized since (a user grew it, made it anew): refused too.
    sh('qemu-img resize -q -f raw %s 48M' % image)
    refused = run_module('volume', CLONE)
    assert_clean_failure(refused, 'disk.raw', 'was resized')
    intact(image, 'raw', want, tmp_path)
    sh('qemu-img resize -q -f raw --shrink %s 32M && virsh -q pool-refresh %s >/dev/null' % (image, IF_POOL))

    # Untouched since the run recorded it: the honest crash. Check mode and the real run
    # replace it with a whole clone, and the marker is gone.
    left = _inflight.fingerprint(image)
    marker = leave_marker(markers, 'disk.raw', DOING, left)
    replace = 'delete the incomplete volume disk.raw of pool %s of an interrupted create' % IF_POOL
    for check in (True, False):
        replaced = run_module('volume', CLONE, check=check)
        assert replaced.get('changed') and not replaced.get('failed'), replaced
        assert replaced['actions'][0] == replace, replaced['actions']
    assert not os.path.exists(marker)
    assert read_sha(image, 'raw', tmp_path) == source
    again = run_module('volume', CLONE)
    assert not again.get('changed') and not again.get('failed'), again


# --- a no-overwrite build refuses a device that is not empty, signature or not -----------------
# libvirt's NO_OVERWRITE only looks for signatures (blkid): data without one (a wiped
# signature, an encrypted or raw disk) was formatted. Check mode predicts the same refusal
# (the same probe), and nothing is defined. Objects: kvmst-rel-ps-*, /var/lib/kvmst-rel-ps.

PS = 'kvmst-rel-ps-'
PS_BASE = '/var/lib/kvmst-rel-ps'


def _loop_teardown(base, pool):
    def teardown():
        drop_pool(pool)
        sh('umount {b}/mnt 2>/dev/null || true; for d in $(losetup -n -O NAME -j {b}/dev.img); do losetup -d $d || '
           'true; done; rm -rf {b}'.format(b=base), check=False)
    return teardown


def _device_sha(dev, size=16 << 20):
    """sha256 of the device's first ``size`` bytes (read straight from the block device)."""
    import hashlib
    with open(dev, 'rb') as f:
        return hashlib.sha256(f.read(size)).hexdigest()


@pytest.mark.parametrize('pool_type, layout, words', [
    ('fs', 'data', 'holds data that blkid does not recognise'),
    ('disk', 'data', 'holds data that blkid does not recognise'),
    ('fs', 'dos', 'holds a dos partition table'),
])
def test_build_refuses_a_device_that_is_not_empty(run_module, tmp_path, request, pool_type, layout, words):
    base = '%s/build-%s-%s' % (PS_BASE, pool_type, layout)
    pool = '%sbuild-%s-%s' % (PS, pool_type, layout)
    request.addfinalizer(_loop_teardown(base, pool))
    sh('rm -rf {b}; mkdir -p {b} && truncate -s 64M {b}/dev.img'.format(b=base))
    if layout == 'dos':
        # A DOS label and data after it, in the first partition; blkid reports only PTTYPE.
        sh('parted -s {b}/dev.img mklabel msdos mkpart primary 1MiB 100%'.format(b=base))
    # Random data at 8 MiB (no signature anywhere); the first 8 MiB stay as they are.
    sh('python3 -c "import random,sys; sys.stdout.buffer.write(random.Random(7).randbytes(4 << 20))" | '
       'dd of={b}/dev.img bs=1M seek=8 conv=notrunc status=none'.format(b=base))
    dev = sh('losetup -f --show %s/dev.img' % base).strip()
    want = _device_sha(dev)
    args = {'name': pool, 'type': pool_type, 'source': {'devices': [dev]}}
    if pool_type == 'fs':
        args['source']['format'] = 'ext4'
        args['target'] = {'path': base + '/mnt'}
    else:
        args['source']['format'] = 'gpt'

    for check in (True, False):
        refused = run_module('pool', args, check=check)
        assert_clean_failure(refused, 'refusing to build pool %s' % pool, dev, words, 'overwrite: true')
    assert pool not in virsh('pool-list', '--all', '--name').stdout.split()
    assert _device_sha(dev) == want, '%s lost its data' % dev


# --- sizes libvirt cannot take are refused with one sentence, never a traceback ----------------
# libvirt's capacity field stops at 2^63-1 ("numerical overflow"), and libvirt-python's
# resize() cannot convert 2^63 ("int too big to convert"): the grow path raised a traceback.

@pytest.mark.parametrize('size', ['18446744073709551615', '9223372036854775808', '8EiB'])
def test_sizes_beyond_libvirt_are_refused(run_module, pool_path, volume, tmp_path, size):
    want = volume('huge.qcow2', 'qcow2')
    asks = [
        ({'name': 'huge.qcow2', 'capacity': size}, 'capacity'),                   # grow: was a traceback
        ({'name': 'huge-new.raw', 'capacity': size}, 'capacity'),                 # create
        ({'name': 'huge-new.raw', 'capacity': '1MiB', 'allocation': size}, 'allocation'),
        ({'volumes': [{'name': 'huge-list.raw', 'capacity': size}]}, 'capacity'),
    ]
    for extra, option in asks:
        for check in (True, False):
            refused = run_module('volume', dict({'pool': POOL}, **extra), check=check)
            assert_clean_failure(refused, 'of pool %s: %s %s is larger than libvirt accepts' % (POOL, option, size))
    thin = run_module('lvm_thin_pool', {'vg': 'kvmst_rel_ps_novg', 'name': 'tp', 'size': size})
    assert_clean_failure(thin, 'thin pool tp in volume group kvmst_rel_ps_novg: size %s is larger' % size)
    assert set(vol_names(POOL)) & {'huge-new.raw', 'huge-list.raw'} == set()
    assert image_info(pool_path + '/huge.qcow2')['virtual-size'] == 32 << 20
    intact(pool_path + '/huge.qcow2', 'qcow2', want, tmp_path)


# --- import_from onto an existing volume keeps it, and says so when it differs ------------------

def test_import_onto_existing_volume_is_kept_and_reported(run_module, pool_path, volume, tmp_path):
    want = volume('kept.raw')
    src = str(tmp_path / 'other.raw')
    sh('qemu-img create -q -f raw %s 16M' % src)
    write_pattern(src, 'raw', 'other', tmp_path)
    digest = sh("sha256sum %s | cut -d' ' -f1" % src).strip()
    for check in (True, False):
        kept = run_module('volume', {'pool': POOL, 'name': 'kept.raw', 'import_from': src}, check=check)
        assert not kept.get('failed') and not kept.get('changed') and kept['actions'] == [], kept
        assert any('kept.raw of pool %s exists and was kept, and it differs from import_from %s (size 32 MiB, the '
                   'image 16 MiB)' % (POOL, src) in w for w in kept.get('warnings', [])), kept
        checked = run_module('volume', {'pool': POOL, 'name': 'kept.raw', 'import_from': src,
                                        'checksum': 'sha256:' + digest}, check=check)
        assert any('its sha256 is not the checksum given' in w for w in checked.get('warnings', [])), checked
    intact(pool_path + '/kept.raw', 'raw', want, tmp_path)
