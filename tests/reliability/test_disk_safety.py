# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Guest-disk safety on real running TCG guests (the issue "Guest-disk safety holes").

Each test boots its own lab guest (lab/guest, some with ``kvmst.write=<disk>`` on the
kernel command line: the guest writes 1 MiB of random data at offset 0 of that disk as
soon as it appears), provokes one hole and checks the image, both definitions and the
module's answer. Objects are named ``kvmst-ds-...``; files live under /var/lib/kvmst-ds;
each test removes its own.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import pytest

from conftest import (REPO, assert_clean_failure, console_text, drop_guest, drop_pool, read_sha, sh, start_guest,
                      virsh, wait_for_boot, wait_until, write_pattern)

sys.path.insert(0, os.path.join(REPO, '.cache', 'collections'))
from ansible_collections.kvm.storage.plugins.module_utils import _xml  # noqa: E402  pylint: disable=wrong-import-position

P = 'kvmst-ds-'
BASE = '/var/lib/kvmst-ds'
QCOW_MAGIC = b'QFI\xfb'


@pytest.fixture
def folder(request):
    path = os.path.join(BASE, request.node.name.replace('[', '-').rstrip(']'))
    sh('rm -rf %s && mkdir -p %s' % (path, path))
    yield path
    sh('rm -rf %s' % path, check=False)


@pytest.fixture
def pool(folder, request):
    """A dir pool over folder/pool, made with virsh."""
    name = P + request.node.name.replace('_', '-')[5:30]
    path = os.path.join(folder, 'pool')
    sh('mkdir -p {p} && virsh -q pool-define-as {n} dir --target {p} >/dev/null && virsh -q pool-start {n} >/dev/null'
       .format(p=path, n=name))
    yield name, path
    drop_pool(name)


def image(path, fmt='raw', size='32M'):
    sh('qemu-img create -q -f %s %s %s' % (fmt, path, size))
    return path


def magic(path):
    with open(path, 'rb') as f:
        return f.read(4)


def domxml(name, inactive=False):
    args = ['dumpxml', name] + (['--inactive'] if inactive else [])
    return _xml.parse(virsh(*args, check=True).stdout)


def targets(name, inactive=False):
    """{target: source path} of the guest's disks."""
    out = {}
    for d in domxml(name, inactive).findall('devices/disk'):
        src = d.find('source')
        out[d.find('target').get('dev')] = None if src is None else (src.get('file') or src.get('dev') or
                                                                     '%s/%s' % (src.get('pool'), src.get('volume')))
    return out


def driver_type(name, target, inactive=False):
    for d in domxml(name, inactive).findall('devices/disk'):
        if d.find('target').get('dev') == target:
            return d.find('driver').get('type')
    return None


def scsi_controllers(name, inactive=False):
    return dict((c.get('index'), c.get('model')) for c in domxml(name, inactive).findall("devices/controller[@type='scsi']"))


def console_has(folder, name, text):
    return text in console_text(os.path.join(folder, name + '.console.log'))


def four(run_module, args):
    """The four runs of one state change; returns the real run's result."""
    check = run_module('disk', args, check=True)
    real = run_module('disk', args)
    again = run_module('disk', args)
    check_again = run_module('disk', args, check=True)
    dump = json.dumps([check, real, again, check_again])
    assert not any(r.get('failed') for r in (check, real, again, check_again)), dump
    assert check['changed'] and real['changed'], dump
    assert not again['changed'] and not check_again['changed'], dump
    assert check['actions'] == real['actions'], dump
    assert again['actions'] == [] and check_again['actions'] == [], dump
    return real


def guest_fixture(request, folder, extra=''):
    name = P + request.node.name.replace('_', '-')[5:40].rstrip('-')
    request.addfinalizer(lambda: drop_guest(name))
    start_guest(name, folder, extra)
    return name


# --- 1. format: probed from the header, a contradiction refused --------------------------------

def test_declared_raw_on_a_qcow2_volume_is_refused(run_module, folder, pool, tmp_path, request):
    name, path = pool
    guest = guest_fixture(request, folder, 'kvmst.write=vda')
    qcow = image(os.path.join(path, 'q.qcow2'), 'qcow2')
    want = write_pattern(qcow, 'qcow2', 'q', tmp_path)
    sh('virsh -q pool-refresh %s >/dev/null' % name)
    args = {'domain': guest, 'source': {'volume': {'pool': name, 'name': 'q.qcow2'}}, 'format': 'raw'}
    for check in (True, False):
        result = run_module('disk', args, check=check)
        assert_clean_failure(result, 'qcow2', 'q.qcow2')
    time.sleep(6)  # the guest would have written by now (it polls every 2 s)
    assert not console_has(folder, guest, 'wrote 1 MiB to vda')
    assert magic(qcow) == QCOW_MAGIC
    assert read_sha(qcow, 'qcow2', tmp_path) == want
    assert targets(guest) == {} and targets(guest, inactive=True) == {}


def test_qcow2_file_without_format_is_attached_as_qcow2(run_module, folder, tmp_path, request):
    guest = guest_fixture(request, folder, 'kvmst.write=vda')
    qcow = image(os.path.join(folder, 'f.qcow2'), 'qcow2')
    want = write_pattern(qcow, 'qcow2', 'f', tmp_path)
    real = four(run_module, {'domain': guest, 'source': {'file': qcow}})
    assert real['target'] == 'vda'   # the lab guest has no disk of its own
    assert driver_type(guest, 'vda') == 'qcow2' and driver_type(guest, 'vda', inactive=True) == 'qcow2'
    wait_until(lambda: console_has(folder, guest, 'wrote 1 MiB to vda'), 'the guest to write to its disk', tries=300)
    # The guest wrote into the image's virtual disk, not over its header.
    assert magic(qcow) == QCOW_MAGIC
    sh('qemu-img check -U -q %s' % qcow)
    assert read_sha(qcow, 'qcow2', tmp_path) != want
    # An image with a LUKS header is not guessed raw either.
    luks = os.path.join(folder, 'l.raw')
    with open(luks, 'wb') as f:
        f.write(b'LUKS\xba\xbe\x00\x01' + b'\x00' * (1 << 20))
    assert_clean_failure(run_module('disk', {'domain': guest, 'source': {'file': luks}}), 'LUKS', 'format')


# --- 2. identity: one image is one disk, whatever its name --------------------------------------

def test_one_image_by_two_names_is_one_disk(run_module, folder, pool, tmp_path, request):
    name, path = pool
    guest = guest_fixture(request, folder)
    vol = image(os.path.join(path, 'i.raw'))
    want = write_pattern(vol, 'raw', 'i', tmp_path)
    sh('virsh -q pool-refresh %s >/dev/null && ln -s %s %s/link.raw' % (name, vol, folder))
    by_volume = {'domain': guest, 'source': {'volume': {'pool': name, 'name': 'i.raw'}}}
    assert four(run_module, by_volume)['target'] == 'vda'
    for file_name in (vol, folder + '/link.raw', path + '/./i.raw'):
        by_file = {'domain': guest, 'source': {'file': file_name}}
        for check in (True, False):
            result = run_module('disk', by_file, check=check)
            assert not result.get('failed') and not result['changed'], json.dumps(result)
            assert result['target'] == 'vda'
    second = run_module('disk', {'domain': guest, 'target': 'vdb', 'source': {'file': vol}})
    assert_clean_failure(second, 'vda', 'shareable')
    assert list(targets(guest)) == ['vda'] and list(targets(guest, inactive=True)) == ['vda']
    # Detached by its file name: every target that holds it, live and persistent.
    four(run_module, {'domain': guest, 'state': 'absent', 'source': {'file': folder + '/link.raw'}})
    assert targets(guest) == {} and targets(guest, inactive=True) == {}
    assert read_sha(vol, 'raw', tmp_path) == want

    # A stopped guest: a second copy would keep it from starting ("Failed to get write lock").
    stopped = P + 'ident-stopped'
    request.addfinalizer(lambda: drop_guest(stopped))
    sh('%s/lab/guest/domain-xml.sh %s > %s/stopped.xml && virsh -q define %s/stopped.xml >/dev/null'
       % (REPO, stopped, folder, folder))
    assert four(run_module, dict(by_volume, domain=stopped))['target'] == 'vda'
    again = run_module('disk', {'domain': stopped, 'source': {'file': vol}})
    assert not again.get('failed') and not again['changed'], json.dumps(again)
    assert list(targets(stopped, inactive=True)) == ['vda']


# --- 3. live and persistent: one disk with two states --------------------------------------------

def test_live_and_persistent_keep_one_target(run_module, folder, request):
    guest = guest_fixture(request, folder)
    drift = image(os.path.join(folder, 'drift.raw'), size='16M')
    # Drift made by hand: the same image at vdc in the definition and vdd in the running guest.
    sh('virsh -q attach-disk %s %s vdc --config >/dev/null && virsh -q attach-disk %s %s vdd --live >/dev/null'
       % (guest, drift, guest, drift))
    info = run_module('disk_info', {'domain': guest})
    by_target = dict((d['target'], d) for d in info['disks'])
    assert {'target', 'presence'} <= set(by_target['vdc']['live_differs_in']), json.dumps(info)
    assert {'target', 'presence'} <= set(by_target['vdd']['live_differs_in']), json.dumps(info)
    assert by_target['vdc'].get('live_target') == 'vdd' and by_target['vdd'].get('persistent_target') == 'vdc'
    # The module sees one disk present in both: no change, no third copy.
    again = run_module('disk', {'domain': guest, 'source': {'file': drift}})
    assert not again.get('failed') and not again['changed'], json.dumps(again)

    data = image(os.path.join(folder, 'data.raw'), size='16M')
    disk = {'domain': guest, 'source': {'file': data}}
    assert four(run_module, dict(disk, live=False))['target'] == 'vda'
    assert four(run_module, dict(disk, persistent=False))['target'] == 'vda'
    for check in (True, False):
        result = run_module('disk', disk, check=check)
        assert not result.get('failed') and not result['changed'], json.dumps(result)
    live, config = targets(guest), targets(guest, inactive=True)
    assert [t for t, s in live.items() if s == data] == ['vda'], live
    assert [t for t, s in config.items() if s == data] == ['vda'], config
    info = run_module('disk_info', {'domain': guest})
    vda = [d for d in info['disks'] if d['target'] == 'vda'][0]
    assert vda['live'] and vda['persistent'] and vda['live_differs_in'] == [], json.dumps(info)


# --- 4. SCSI units past the first controller --------------------------------------------------

def test_scsi_controllers_are_planned_and_rolled_back(run_module, folder, request):
    guest = guest_fixture(request, folder)
    disk = image(os.path.join(folder, 's.raw'), size='16M')
    real = four(run_module, {'domain': guest, 'bus': 'scsi', 'target': 'sdh', 'source': {'file': disk}})
    assert any('controller 1' in a for a in real['actions']), real['actions']
    assert scsi_controllers(guest).get('1') == 'virtio-scsi', scsi_controllers(guest)
    assert scsi_controllers(guest, inactive=True).get('1') == 'virtio-scsi', scsi_controllers(guest, inactive=True)
    # Power cycle: the persistent definition is what the guest boots with.
    sh('virsh -q destroy %s >/dev/null && virsh -q start %s >/dev/null' % (guest, guest))
    assert scsi_controllers(guest).get('1') == 'virtio-scsi', scsi_controllers(guest)
    assert targets(guest).get('sdh') == disk

    # A failed attach (qemu cannot open a file in a folder only root may enter) after the
    # controllers for unit 14 (controller 2) were added: both are removed again.
    wait_until(lambda: console_has(folder, guest, 'block devices: sda'), 'the guest to boot again', tries=3000)
    hidden = os.path.join(folder, 'private')
    sh('mkdir -m 0700 %s' % hidden)
    secret = image(os.path.join(hidden, 'h.raw'), size='16M')
    before_live, before_config = scsi_controllers(guest), scsi_controllers(guest, inactive=True)
    failed = run_module('disk', {'domain': guest, 'bus': 'scsi', 'target': 'sdo', 'source': {'file': secret},
                                 'timeout': 60})
    assert_clean_failure(failed, 'sdo')
    assert len(failed['rolled_back']) == 2 and not any('FAILED' in r for r in failed['rolled_back']), failed
    assert scsi_controllers(guest) == before_live
    assert scsi_controllers(guest, inactive=True) == before_config


# --- 5. a guest that goes away during a live detach ---------------------------------------------

def _detach_while(run_module, guest, action, delay=16):
    # libvirt's own detach call waits 5 s for a paused guest; the module starts in about 3 s:
    # the guest goes away while the module polls for the release.
    timer = threading.Timer(delay, action)
    timer.start()
    started = time.time()
    try:
        result = run_module('disk', {'domain': guest, 'target': 'vdb', 'state': 'absent', 'timeout': 90})
    finally:
        timer.cancel()
    return result, time.time() - started


def test_guest_destroyed_during_a_live_detach(run_module, folder, request):
    guest = guest_fixture(request, folder)
    data = image(os.path.join(folder, 'd.raw'), size='16M')
    four(run_module, {'domain': guest, 'target': 'vdb', 'source': {'file': data}})
    sh('virsh -q suspend %s >/dev/null' % guest)   # a paused guest never releases the disk
    result, took = _detach_while(run_module, guest, lambda: virsh('destroy', guest))
    dump = json.dumps(result)
    assert not result.get('failed') and result['changed'], dump
    assert took < 60, took
    assert any('stopped' in w and 'persistent definition' in w for w in result.get('warnings', [])), dump
    assert 'vdb' not in targets(guest, inactive=True)


def test_transient_guest_gone_during_a_live_detach(run_module, folder, request):
    name = P + 'transient'
    request.addfinalizer(lambda: drop_guest(name))
    console = os.path.join(folder, name + '.console.log')
    sh('KVMST_GUEST_CONSOLE_LOG=%s %s/lab/guest/domain-xml.sh %s > %s/t.xml && virsh -q create %s/t.xml >/dev/null'
       % (console, REPO, name, folder, folder))
    wait_for_boot(name, console)
    data = image(os.path.join(folder, 'd.raw'), size='16M')
    attached = run_module('disk', {'domain': name, 'target': 'vdb', 'source': {'file': data}})
    assert attached['changed'] and not attached.get('failed'), attached
    sh('virsh -q suspend %s >/dev/null' % name)
    result, took = _detach_while(run_module, name, lambda: virsh('destroy', name))
    assert_clean_failure(result, name, 'went away')
    assert 'unexpected error' not in result['msg']
    assert took < 60, took


# --- 6. a file that does not exist --------------------------------------------------------------

def test_missing_file_is_refused_unless_allowed(run_module, folder, request):
    stopped = P + 'missing'
    request.addfinalizer(lambda: drop_guest(stopped))
    console = os.path.join(folder, stopped + '.console.log')
    sh('KVMST_GUEST_CONSOLE_LOG=%s %s/lab/guest/domain-xml.sh %s > %s/m.xml && virsh -q define %s/m.xml >/dev/null'
       % (console, REPO, stopped, folder, folder))
    missing = os.path.join(folder, 'later.raw')
    args = {'domain': stopped, 'source': {'file': missing}, 'format': 'raw'}
    for check in (True, False):
        assert_clean_failure(run_module('disk', args, check=check), missing, 'does not exist', 'startup_policy')
    assert targets(stopped, inactive=True) == {}
    # A CD-ROM whose ISO may be missing at boot: startup_policy optional.
    iso = os.path.join(folder, 'maybe.iso')
    real = four(run_module, {'domain': stopped, 'device': 'cdrom', 'target': 'sda', 'source': {'file': iso},
                             'startup_policy': 'optional'})
    assert 'sda' in targets(stopped, inactive=True)
    # The guest still starts (the optional media is dropped).
    sh('virsh -q start %s >/dev/null' % stopped)
    wait_for_boot(stopped, console)
    assert real['target'] == 'sda'
