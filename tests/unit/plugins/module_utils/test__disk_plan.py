# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guest disk planner and request validation as tables: (params, guest) -> steps or error."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._disk import (
    DomainView, SourceFacts, argument_spec, live_differences, pick_target, plan, request_from_params,
    scsi_controller_of, target_index)
from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._volume import PoolView

Q35 = frozenset(['fdc', 'scsi', 'virtio', 'usb', 'sata'])     # what domain capabilities list for q35
PC = Q35 | frozenset(['ide'])
IQN = 'iqn.2026-11.test:store1'
SCSI_CTL = ('scsi', 'virtio-scsi', '0')
USB_CTL = ('usb', 'qemu-xhci', '0')


# ---------------------------------------------------------------------------------------
# Params as AnsibleModule gives them (every key present, None when not set, defaults filled)

def params(**kw):
    p = dict((key, None) for key in argument_spec())
    p.update(domain='web1', state='present', device='disk', persistent=True, timeout=30)
    p.update(kw)
    return p


def src(file=None, block=None, volume=None, network=None):
    return {'file': file, 'block': block, 'volume': volume, 'network': network}


def vol(name, pool='images'):
    return src(volume={'pool': pool, 'name': name})


def host(name, port=None, transport=None):
    return {'name': name, 'port': port, 'transport': transport}


def auth(username='chap', usage=None, uuid=None):
    return {'username': username, 'secret_usage': usage, 'secret_uuid': uuid}


def net(protocol, name=None, hosts=None, auth_=None):
    return src(network={'protocol': protocol, 'name': name, 'hosts': hosts, 'auth': auth_})


LOCAL = [host('127.0.0.1')]


# ---------------------------------------------------------------------------------------
# The guest: disks as _disk_xml.parse gives them

def disk(target, bus='virtio', path=None, device='disk', **kw):
    model = {'device': device, 'bus': bus, 'target': target, 'source': None if path is None else {'file': path},
             'format': 'raw', 'readonly': device == 'cdrom', 'shareable': False, 'serial': None, 'wwn': None,
             'boot_order': None, 'sgio': None, 'rawio': None, 'alias': None, 'backing_chain': [], 'cache': None,
             'io': None, 'discard': None, 'detect_zeroes': None, 'iothread': None, 'startup_policy': None}
    model.update(kw)
    return model


ROOT = disk('vda', path='/srv/web1.qcow2', format='qcow2')
DATA = disk('vdb', path='/srv/data.raw')
TUNED = disk('vdb', path='/srv/data.raw', cache='none', io='native', discard='unmap', iothread=1, serial='D1')
VOLDISK = disk('vdb', source={'volume': {'pool': 'images', 'name': 'data.qcow2'}}, format='qcow2')
CD = disk('sda', 'sata', '/srv/a.iso', device='cdrom')
EMPTY_CD = disk('sda', 'sata', device='cdrom')
SCSI_CD = disk('sda', 'scsi', '/srv/a.iso', device='cdrom')
FLOPPY = disk('fda', 'fdc', '/srv/boot.img', device='floppy')
SATA_DISK = disk('sdb', 'sata', '/srv/legacy.raw')
IDE_DISK = disk('hda', 'ide', '/srv/old.raw')


def guest(config=(ROOT,), live=None, active=True, persistent=True, buses=Q35, config_ctl=(USB_CTL,), live_ctl=None,
          machine='pc-q35-7.2'):
    """A guest; when running, its live definition is its persistent one unless ``live`` is given."""
    live = (config if live is None else live) if active else ()
    live_ctl = (config_ctl if live_ctl is None else live_ctl) if active else ()
    return DomainView('web1', active, persistent, list(config) if persistent else [], list(live), buses,
                      config_controllers=config_ctl if persistent else (), live_controllers=live_ctl, machine=machine)


RUNNING = guest()
STOPPED = guest(active=False)
TRANSIENT = guest(config=(), live=(ROOT,), persistent=False)


def run(p, dom):
    return plan(request_from_params(p), dom)


def steps_of(pl):
    return [(s.verb, s.text, s.args.get('scopes')) for s in pl.steps]


BOTH = ['live', 'config']
LIVE = ['live']
CONFIG = ['config']


# ---------------------------------------------------------------------------------------
# request_from_params: what the request holds

GOOD_REQUESTS = [
    # (id, params, {attribute: expected} of the request, {key: expected} of its model)
    ('defaults', params(source=src(file='/srv/a.raw')),
     dict(domain='web1', state='present', live=None, persistent=True, timeout=30, label='guest web1'),
     dict(device='disk', bus='virtio', target=None, source={'file': '/srv/a.raw'}, format=None, cache=None)),
    ('cdrom defaults to sata', params(device='cdrom', target='sdc'), {},
     dict(device='cdrom', bus='sata', target='sdc', source=None)),
    ('floppy defaults to fdc', params(device='floppy', target='fda'), {},
     dict(device='floppy', bus='fdc', target='fda', source=None)),
    ('lun defaults to scsi', params(device='lun', source=src(block='/dev/sdx')), {},
     dict(device='lun', bus='scsi', source={'block': '/dev/sdx'})),
    ('vdb on virtio', params(target='vdb', source=src(file='/a')), {}, dict(target='vdb', bus='virtio')),
    ('vdaa on virtio', params(target='vdaa', source=src(file='/a')), {}, dict(target='vdaa')),
    ('sdc on scsi', params(target='sdc', bus='scsi', source=src(file='/a')), {}, dict(target='sdc', bus='scsi')),
    ('sdc on sata', params(target='sdc', bus='sata', source=src(file='/a')), {}, dict(target='sdc', bus='sata')),
    ('sda on usb', params(target='sda', bus='usb', source=src(file='/a')), {}, dict(target='sda', bus='usb')),
    ('hdc on ide', params(target='hdc', bus='ide', device='cdrom'), {}, dict(target='hdc', bus='ide')),
    ('fda on fdc', params(target='fda', device='floppy', source=src(file='/f.img')), {}, dict(target='fda', bus='fdc')),
    ('cdrom on scsi', params(device='cdrom', bus='scsi', target='sdc'), {}, dict(bus='scsi', target='sdc')),
    ('disk on sata', params(bus='sata', source=src(file='/a')), {}, dict(bus='sata')),
    ('absent by target needs no source', params(state='absent', target='vdb'), dict(state='absent'),
     dict(target='vdb', source=None)),
    ('absent by source', params(state='absent', source=src(file='/a')), dict(state='absent'), dict(source={'file': '/a'})),
    ('volume', params(source=vol('data.qcow2')), {}, dict(source={'volume': {'pool': 'images', 'name': 'data.qcow2'}})),
    ('block', params(source=src(block='/dev/vg0/data')), {}, dict(source={'block': '/dev/vg0/data'})),
    ('lun block, sgio, rawio', params(device='lun', source=src(block='/dev/sdx'), sgio='unfiltered', rawio=True), {},
     dict(sgio='unfiltered', rawio=True)),
    ('lun rawio false', params(device='lun', source=src(block='/dev/sdx'), rawio=False), {}, dict(rawio=False)),
    ('lun over iscsi', params(device='lun', source=net('iscsi', IQN + '/1', LOCAL)), {},
     dict(source={'network': {'protocol': 'iscsi', 'name': IQN + '/1', 'hosts': LOCAL, 'auth': None}})),
    ('nbd needs no name', params(source=net('nbd', hosts=[host('127.0.0.1', 10809)])), {},
     dict(source={'network': {'protocol': 'nbd', 'name': None, 'hosts': [host('127.0.0.1', 10809)], 'auth': None}})),
    ('gluster', params(source=net('gluster', 'gv0/a.qcow2', [host('g1', 24007, 'tcp'), host('g2')])), {},
     dict(source={'network': {'protocol': 'gluster', 'name': 'gv0/a.qcow2', 'hosts': [host('g1', 24007, 'tcp'), host('g2')],
                              'auth': None}})),
    ('every tuning option', params(source=src(file='/a'), format='qcow2', cache='none', io='native', discard='unmap',
                                   detect_zeroes='unmap', iothread=2, readonly=True, shareable=True, serial='S1',
                                   wwn='5000c50015ea71ac', boot_order=1),
     {}, dict(format='qcow2', cache='none', io='native', discard='unmap', detect_zeroes='unmap', iothread=2, readonly=True,
              shareable=True, serial='S1', wwn='5000c50015ea71ac', boot_order=1, sgio=None, rawio=None)),
    ('live and persistent carried', params(source=src(file='/a'), live=True, persistent=False, timeout=1),
     dict(live=True, persistent=False, timeout=1), {}),
]


@pytest.mark.parametrize('case_id, p, want_request, want_model', GOOD_REQUESTS, ids=[c[0] for c in GOOD_REQUESTS])
def test_requests(case_id, p, want_request, want_model):
    req = request_from_params(p)
    assert dict((key, getattr(req, key)) for key in want_request) == want_request
    assert dict((key, req.model[key]) for key in want_model) == want_model


AUTH_TYPES = [
    # (id, protocol, name, auth, libvirt secret type)
    ('iscsi by usage', 'iscsi', IQN + '/1', auth(usage='chap1'), 'iscsi'),
    ('iscsi by uuid', 'iscsi', IQN + '/1', auth(uuid='0a81f5b2-8403-4f3c-a7e2-9d6e9c1f4a11'), 'iscsi'),
    ('rbd is ceph', 'rbd', 'rbd/web1', auth('libvirt', usage='client.libvirt'), 'ceph'),
]


@pytest.mark.parametrize('case_id, protocol, name, auth_, secret_type', AUTH_TYPES, ids=[c[0] for c in AUTH_TYPES])
def test_auth_type(case_id, protocol, name, auth_, secret_type):
    req = request_from_params(params(source=net(protocol, name, LOCAL, auth_)))
    got = req.model['source']['network']['auth']
    assert got['type'] == secret_type
    want = (auth_['username'], auth_['secret_usage'], auth_['secret_uuid'])
    assert (got['username'], got['secret_usage'], got['secret_uuid']) == want


BAD_REQUESTS = [
    # (id, params, fragments of the message)
    # -- target names and buses
    ('sdb on virtio', params(target='sdb', source=src(file='/a')),
     ['guest web1: target sdb does not fit bus virtio, whose disks are named vdX']),
    ('vdb on scsi', params(target='vdb', bus='scsi', source=src(file='/a')), ['target vdb does not fit bus scsi', 'sdX']),
    ('hda on sata', params(target='hda', bus='sata', source=src(file='/a')), ['does not fit bus sata', 'sdX']),
    ('vdb on usb', params(target='vdb', bus='usb', source=src(file='/a')), ['does not fit bus usb', 'sdX']),
    ('sda on ide', params(target='sda', bus='ide', source=src(file='/a')), ['does not fit bus ide', 'named hdX']),
    ('vda for a floppy', params(target='vda', device='floppy'), ['target vda does not fit bus fdc', 'named fdX']),
    ('fda on virtio', params(target='fda', source=src(file='/a')), ['target fda does not fit bus virtio']),
    ('cdrom sda by default bus, hdc given', params(target='hdc', device='cdrom'), ['does not fit bus sata']),
    ('upper case', params(target='VDB', source=src(file='/a')),
     ["guest web1: target 'VDB' must be a device name such as vdb, sdc or hda"]),
    ('dash', params(target='vd-b', source=src(file='/a')), ["target 'vd-b' must be a device name"]),
    ('path', params(target='/dev/vdb', source=src(file='/a')), ["target '/dev/vdb' must be a device name"]),
    ('space', params(target='vd b', source=src(file='/a')), ['must be a device name']),
    ('empty target', params(target='', source=src(file='/a')), ["target '' must be a device name"]),
    ('floppy on sata', params(device='floppy', bus='sata', source=src(file='/f.img')),
     ['guest web1: a floppy drive sits on bus fdc']),
    ('floppy on usb', params(device='floppy', bus='usb', target='sda'), ['a floppy drive sits on bus fdc']),
    # -- passthrough LUNs
    ('lun on virtio', params(device='lun', bus='virtio', source=src(block='/dev/sdx')),
     ['guest web1: a passthrough LUN (device lun) needs bus scsi']),
    ('lun on sata', params(device='lun', bus='sata', source=src(block='/dev/sdx')), ['needs bus scsi']),
    ('lun from a file', params(device='lun', source=src(file='/srv/a.raw')),
     ['guest web1: device lun needs a block source or an iscsi network source']),
    ('lun from a volume', params(device='lun', source=vol('a')), ['device lun needs a block source']),
    ('lun over gluster', params(device='lun', source=net('gluster', 'gv0/a', LOCAL)), ['device lun needs a block source']),
    ('lun over nbd', params(device='lun', source=net('nbd', hosts=LOCAL)), ['or an iscsi network source']),
    ('lun without source', params(device='lun'), ['device lun needs a block source']),
    ('sgio on a disk', params(source=src(file='/a'), sgio='filtered'), ['guest web1: sgio and rawio apply to device lun only']),
    ('rawio on a disk', params(source=src(file='/a'), rawio=True), ['sgio and rawio apply to device lun only']),
    ('rawio false on a disk', params(source=src(file='/a'), rawio=False), ['sgio and rawio apply to device lun only']),
    ('rawio on a cdrom', params(device='cdrom', target='sdc', rawio=True), ['apply to device lun only']),
    # -- sources
    ('disk without source', params(), ['guest web1: a disk needs a source (file, block, volume or network)']),
    ('disk with all-None source', params(source=src()), ['a disk needs a source']),
    ('gluster without name', params(source=net('gluster', hosts=LOCAL)),
     ['guest web1: the gluster network source needs name (volume/image, or IQN/LUN)']),
    ('iscsi without name', params(source=net('iscsi', hosts=LOCAL)), ['the iscsi network source needs name']),
    ('rbd without name', params(source=net('rbd', hosts=LOCAL)), ['the rbd network source needs name']),
    ('http without name', params(source=net('http', hosts=LOCAL)), ['the http network source needs name']),
    ('https without name', params(source=net('https', hosts=LOCAL)), ['the https network source needs name']),
    # -- no source: the drive can only be found by its target
    ('empty cdrom without target', params(device='cdrom'),
     ['guest web1: set target to name the drive (a cdrom without source cannot be found by its source)']),
    ('empty scsi cdrom without target', params(device='cdrom', bus='scsi'), ['set target to name the drive']),
    ('eject without target', params(device='cdrom', source=src()), ['set target to name the drive', 'a cdrom without source']),
    ('floppy without source and target', params(device='floppy'),
     ['guest web1: set target to name the drive (a floppy without source cannot be found by its source)']),
    ('absent without source and target', params(state='absent'),
     ['guest web1: set target to name the drive (a disk without source cannot be found by its source)']),
    ('absent cdrom without source and target', params(state='absent', device='cdrom'),
     ['set target to name the drive (a cdrom without source']),
    ('absent floppy, all-None source', params(state='absent', device='floppy', source=src()),
     ['set target to name the drive (a floppy without source']),
    ('gluster without hosts', params(source=net('gluster', 'gv0/a')), ['guest web1: a network source needs hosts']),
    ('gluster with empty hosts', params(source=net('gluster', 'gv0/a', [])), ['a network source needs hosts']),
    ('nbd without hosts', params(source=net('nbd')), ['a network source needs hosts']),
    ('auth with both secrets', params(source=net('iscsi', IQN + '/1', LOCAL, auth(usage='c', uuid='u'))),
     ['guest web1: source.network.auth needs exactly one of secret_usage and secret_uuid']),
    ('auth with no secret', params(source=net('iscsi', IQN + '/1', LOCAL, auth())), ['exactly one of secret_usage']),
    ('auth on gluster', params(source=net('gluster', 'gv0/a', LOCAL, auth(usage='c'))),
     ['guest web1: auth applies to iscsi and rbd network sources']),
    ('auth on nbd', params(source=net('nbd', hosts=LOCAL, auth_=auth(usage='c'))), ['auth applies to iscsi and rbd']),
    ('auth on https', params(source=net('https', '/img.raw', LOCAL, auth(uuid='u'))), ['auth applies to iscsi and rbd']),
    ('volume name with slash', params(source=vol('a/b')), ['volume name', 'must not contain "/"']),
    ('volume name with dot-dot', params(source=vol('..')), ['volume name', '".."']),
    ('pool name with slash', params(source=vol('a', pool='po/ol')), ['pool name', 'must not contain "/"']),
    # -- timeout
    ('timeout 0', params(source=src(file='/a'), timeout=0), ['guest web1: timeout must be a positive number of seconds']),
    ('negative timeout', params(state='absent', target='vdb', timeout=-5), ['timeout must be a positive number']),
    # -- domain names
    ('domain with slash', params(domain='web/1', source=src(file='/a')), ["domain name 'web/1' must not contain \"/\""]),
    ('domain absolute path', params(domain='/etc/passwd', source=src(file='/a')), ['must not contain "/"']),
    ('domain with newline', params(domain='web\n1', source=src(file='/a')), ['domain name', 'control characters']),
    ('domain with tab', params(domain='web\t1', source=src(file='/a')), ['control characters']),
    ('domain with DEL', params(domain='web\x7f', source=src(file='/a')), ['control characters']),
    ('domain with NUL', params(domain='web\x00', source=src(file='/a')), ['control characters']),
    ('empty domain', params(domain='', source=src(file='/a')), ['domain name must not be empty']),
    ('domain dot-dot', params(domain='..', source=src(file='/a')), ['must not contain ".."']),
]


@pytest.mark.parametrize('case_id, p, fragments', BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_requests_refused(case_id, p, fragments):
    with pytest.raises(KvmStorageError) as exc:
        request_from_params(p)
    for fragment in fragments:
        assert fragment in exc.value.msg


def test_params_not_changed():
    p = params(source=net('iscsi', IQN + '/1', LOCAL, auth(usage='chap1')))
    before = copy.deepcopy(p)
    req = request_from_params(p)
    assert p == before
    assert 'type' not in p['source']['network']['auth']
    assert req.model['source']['network']['auth']['type'] == 'iscsi'
    assert req.model['source']['network'] is not p['source']['network']
    assert req.model['source']['network']['auth'] is not p['source']['network']['auth']


def test_absent_needs_target_or_source():
    with pytest.raises(KvmStorageError) as exc:
        run(params(state='absent'), guest(config=(ROOT, DATA)))
    assert exc.value.msg == 'guest web1: set target to name the drive (a disk without source cannot be found by its source)'


# ---------------------------------------------------------------------------------------
# pick_target

def _targets(prefix, suffixes):
    return [{'target': prefix + s} for s in suffixes]


LETTERS = 'abcdefghijklmnopqrstuvwxyz'
ALL_VD = _targets('vd', LETTERS)

PICKS = [
    # (id, bus, disk lists, expected)
    ('empty', 'virtio', [[]], 'vda'),
    ('no lists', 'virtio', [], 'vda'),
    ('next', 'virtio', [_targets('vd', 'a')], 'vdb'),
    ('gap filled', 'virtio', [_targets('vd', 'ac')], 'vdb'),
    ('first gap', 'virtio', [_targets('vd', 'bd')], 'vda'),
    ('across live and config', 'virtio', [_targets('vd', 'a'), _targets('vd', 'b')], 'vdc'),
    ('union of both', 'virtio', [_targets('vd', 'ac'), _targets('vd', 'ab')], 'vdd'),
    ('gap in one is taken in the other', 'virtio', [_targets('vd', 'abd'), _targets('vd', 'c')], 'vde'),
    ('vdz -> vdaa', 'virtio', [ALL_VD], 'vdaa'),
    ('vdaa taken -> vdab', 'virtio', [ALL_VD, _targets('vd', ['aa'])], 'vdab'),
    ('gap after the wrap', 'virtio', [ALL_VD + _targets('vd', ['ab'])], 'vdaa'),
    ('gap below the wrap', 'virtio', [ALL_VD[1:] + _targets('vd', ['aa'])], 'vda'),
    ('vdaz -> vdba', 'virtio', [ALL_VD, _targets('vd', ['a' + c for c in LETTERS])], 'vdba'),
    ('other prefixes do not count', 'virtio', [_targets('sd', 'ab') + _targets('hd', 'a') + _targets('fd', 'a')], 'vda'),
    ('scsi', 'scsi', [[]], 'sda'),
    ('scsi after the sata cdrom', 'scsi', [_targets('sd', 'a')], 'sdb'),
    ('sata after scsi disks', 'sata', [_targets('sd', 'ab')], 'sdc'),
    ('usb shares sd', 'usb', [_targets('sd', 'a'), _targets('sd', 'b')], 'sdc'),
    ('ide', 'ide', [_targets('vd', 'a')], 'hda'),
    ('ide after the cdrom on hdc', 'ide', [_targets('hd', 'c')], 'hda'),
    ('ide, hda taken', 'ide', [_targets('hd', 'a')], 'hdb'),
    ('fdc', 'fdc', [[]], 'fda'),
    ('fdc, fda taken', 'fdc', [_targets('fd', 'a')], 'fdb'),
    ('disks without target ignored', 'virtio', [[{'target': None}]], 'vda'),
]


@pytest.mark.parametrize('case_id, bus, lists, expected', PICKS, ids=[c[0] for c in PICKS])
def test_pick_target(case_id, bus, lists, expected):
    assert pick_target(bus, *lists) == expected


def test_pick_target_none_left():
    every = ALL_VD + _targets('vd', [a + b for a in LETTERS for b in LETTERS])
    assert len(every) == 26 * 27
    assert pick_target('virtio', every[:-1]) == 'vdzz'
    with pytest.raises(KvmStorageError) as exc:
        pick_target('virtio', every)
    assert exc.value.msg == 'no free virtio target names are left'


# ---------------------------------------------------------------------------------------
# plan(): attaching

RUNNING_DATA = guest(config=(ROOT, DATA))
RUNNING_TUNED = guest(config=(ROOT, TUNED))
RUNNING_CD = guest(config=(ROOT, CD))
RUNNING_EMPTY_CD = guest(config=(ROOT, EMPTY_CD))
SCSI_OK = guest(config_ctl=(USB_CTL, SCSI_CTL))

ATTACH_CASES = [
    # (id, params, guest, expected steps (verb, text, scopes), target of the final model)
    ('running: live and persistent', params(source=src(file='/srv/data.raw')), RUNNING,
     [('attach', 'attach disk vdb (virtio, /srv/data.raw) to guest web1 (live and persistent)', BOTH)], 'vdb'),
    ('stopped: persistent only', params(source=src(file='/srv/data.raw')), STOPPED,
     [('attach', 'attach disk vdb (virtio, /srv/data.raw) to guest web1 (persistent)', CONFIG)], 'vdb'),
    ('live false on a running guest', params(source=src(file='/srv/data.raw'), live=False), RUNNING,
     [('attach', 'attach disk vdb (virtio, /srv/data.raw) to guest web1 (persistent; live: false - the running '
                 'guest gets it at its next boot)', CONFIG)], 'vdb'),
    ('live true on a running guest', params(source=src(file='/srv/data.raw'), live=True), RUNNING,
     [('attach', 'attach disk vdb (virtio, /srv/data.raw) to guest web1 (live and persistent)', BOTH)], 'vdb'),
    ('persistent false: live only', params(source=src(file='/srv/data.raw'), persistent=False), RUNNING,
     [('attach', 'attach disk vdb (virtio, /srv/data.raw) to guest web1 (live)', LIVE)], 'vdb'),
    ('transient guest: live only', params(source=src(file='/srv/data.raw')), TRANSIENT,
     [('attach', 'attach disk vdb (virtio, /srv/data.raw) to guest web1 (live)', LIVE)], 'vdb'),
    ('volume', params(source=vol('data.qcow2'), format='qcow2'), RUNNING,
     [('attach', 'attach disk vdb (virtio, volume data.qcow2 of pool images) to guest web1 (live and persistent)', BOTH)],
     'vdb'),
    ('block', params(source=src(block='/dev/vg0/data')), RUNNING,
     [('attach', 'attach disk vdb (virtio, /dev/vg0/data) to guest web1 (live and persistent)', BOTH)], 'vdb'),
    ('gluster', params(source=net('gluster', 'gv0/web1.qcow2', [host('127.0.0.1', 24007)]), format='qcow2'), RUNNING,
     [('attach', 'attach disk vdb (virtio, gluster gv0/web1.qcow2) to guest web1 (live and persistent)', BOTH)], 'vdb'),
    ('iscsi with auth', params(source=net('iscsi', IQN + '/1', [host('127.0.0.1', 3260)], auth(usage='chap1'))), RUNNING,
     [('attach', 'attach disk vdb (virtio, iscsi %s/1) to guest web1 (live and persistent)' % IQN, BOTH)], 'vdb'),
    ('target given', params(target='vdf', source=src(file='/srv/data.raw')), RUNNING,
     [('attach', 'attach disk vdf (virtio, /srv/data.raw) to guest web1 (live and persistent)', BOTH)], 'vdf'),
    ('target picked across live and config', params(source=src(file='/srv/new.raw')),
     guest(config=(ROOT, DATA), live=(ROOT, disk('vdc', path='/srv/hot.raw'))),
     [('attach', 'attach disk vdd (virtio, /srv/new.raw) to guest web1 (live and persistent)', BOTH)], 'vdd'),
    ('gap filled', params(source=src(file='/srv/new.raw')), guest(config=(ROOT, disk('vdc', path='/srv/c.raw'))),
     [('attach', 'attach disk vdb (virtio, /srv/new.raw) to guest web1 (live and persistent)', BOTH)], 'vdb'),
    ('usb is hot-plugged', params(bus='usb', source=src(file='/srv/stick.raw')), RUNNING,
     [('attach', 'attach disk sda (usb, /srv/stick.raw) to guest web1 (live and persistent)', BOTH)], 'sda'),
    ('usb after the sata cdrom', params(bus='usb', source=src(file='/srv/stick.raw')), RUNNING_CD,
     [('attach', 'attach disk sdb (usb, /srv/stick.raw) to guest web1 (live and persistent)', BOTH)], 'sdb'),
    # -- virtio-scsi: a controller per scope, only where missing
    ('scsi, no controller anywhere', params(bus='scsi', source=src(block='/dev/vg0/db')), RUNNING,
     [('controller', 'add virtio-scsi controller 0 to guest web1 (live)', LIVE),
      ('controller', 'add virtio-scsi controller 0 to guest web1 (persistent)', CONFIG),
      ('attach', 'attach disk sda (scsi, /dev/vg0/db) to guest web1 (live and persistent)', BOTH)], 'sda'),
    ('scsi, controller in both', params(bus='scsi', source=src(block='/dev/vg0/db')), SCSI_OK,
     [('attach', 'attach disk sda (scsi, /dev/vg0/db) to guest web1 (live and persistent)', BOTH)], 'sda'),
    ('scsi, controller only persistent', params(bus='scsi', source=src(block='/dev/vg0/db')),
     guest(config_ctl=(USB_CTL, SCSI_CTL), live_ctl=(USB_CTL,)),
     [('controller', 'add virtio-scsi controller 0 to guest web1 (live)', LIVE),
      ('attach', 'attach disk sda (scsi, /dev/vg0/db) to guest web1 (live and persistent)', BOTH)], 'sda'),
    ('scsi, controller only live', params(bus='scsi', source=src(block='/dev/vg0/db')),
     guest(config_ctl=(USB_CTL,), live_ctl=(SCSI_CTL,)),
     [('controller', 'add virtio-scsi controller 0 to guest web1 (persistent)', CONFIG),
      ('attach', 'attach disk sda (scsi, /dev/vg0/db) to guest web1 (live and persistent)', BOTH)], 'sda'),
    ('scsi, another scsi model counts', params(bus='scsi', source=src(block='/dev/vg0/db')),
     guest(config_ctl=(('scsi', 'lsilogic', '0'),)),
     [('attach', 'attach disk sda (scsi, /dev/vg0/db) to guest web1 (live and persistent)', BOTH)], 'sda'),
    ('scsi on a stopped guest', params(bus='scsi', source=src(block='/dev/vg0/db')), STOPPED,
     [('controller', 'add virtio-scsi controller 0 to guest web1 (persistent)', CONFIG),
      ('attach', 'attach disk sda (scsi, /dev/vg0/db) to guest web1 (persistent)', CONFIG)], 'sda'),
    ('scsi live only', params(bus='scsi', source=src(block='/dev/vg0/db'), persistent=False), RUNNING,
     [('controller', 'add virtio-scsi controller 0 to guest web1 (live)', LIVE),
      ('attach', 'attach disk sda (scsi, /dev/vg0/db) to guest web1 (live)', LIVE)], 'sda'),
    ('scsi, persistent only', params(bus='scsi', source=src(block='/dev/vg0/db'), live=False), RUNNING,
     [('controller', 'add virtio-scsi controller 0 to guest web1 (persistent)', CONFIG),
      ('attach', 'attach disk sda (scsi, /dev/vg0/db) to guest web1 (persistent; live: false - the running guest '
                 'gets it at its next boot)', CONFIG)], 'sda'),
    ('scsi disk after the sata cdrom', params(bus='scsi', source=src(file='/srv/d.raw')),
     guest(config=(ROOT, CD), config_ctl=(SCSI_CTL,)),
     [('attach', 'attach disk sdb (scsi, /srv/d.raw) to guest web1 (live and persistent)', BOTH)], 'sdb'),
    ('lun', params(device='lun', source=src(block='/dev/sdx'), sgio='unfiltered', rawio=True), SCSI_OK,
     [('attach', 'attach lun sda (scsi, /dev/sdx) to guest web1 (live and persistent)', BOTH)], 'sda'),
    ('scsi cdrom with media is hot-plugged', params(device='cdrom', bus='scsi', source=src(file='/srv/a.iso')), SCSI_OK,
     [('attach', 'attach cdrom sda (scsi, /srv/a.iso) to guest web1 (live and persistent)', BOTH)], 'sda'),
    # -- buses that cannot be hot-plugged, on a stopped guest: no note needed
    ('sata on a stopped guest', params(bus='sata', source=src(file='/srv/legacy.raw')), STOPPED,
     [('attach', 'attach disk sda (sata, /srv/legacy.raw) to guest web1 (persistent)', CONFIG)], 'sda'),
    ('ide on a stopped pc guest', params(bus='ide', source=src(file='/srv/old.raw')), guest(active=False, buses=PC),
     [('attach', 'attach disk hda (ide, /srv/old.raw) to guest web1 (persistent)', CONFIG)], 'hda'),
    ('buses unknown: no check', params(bus='ide', source=src(file='/srv/old.raw')), guest(active=False, buses=None),
     [('attach', 'attach disk hda (ide, /srv/old.raw) to guest web1 (persistent)', CONFIG)], 'hda'),
    ('floppy on a stopped guest', params(device='floppy', source=src(file='/srv/boot.img')), STOPPED,
     [('attach', 'attach floppy fda (fdc, /srv/boot.img) to guest web1 (persistent)', CONFIG)], 'fda'),
    ('empty sata cdrom on a stopped guest', params(device='cdrom', target='sda'), STOPPED,
     [('attach', 'attach cdrom sda (sata, no media) to guest web1 (persistent)', CONFIG)], 'sda'),
    # -- an empty drive cannot be hot-plugged
    ('empty scsi cdrom on a running guest', params(device='cdrom', bus='scsi', target='sda'), SCSI_OK,
     [('attach', 'attach cdrom sda (scsi, no media) to guest web1 (persistent; an empty cdrom cannot be hot-plugged: '
                 'takes effect at the next boot)', CONFIG)], 'sda'),
    ('empty scsi cdrom, no controller', params(device='cdrom', bus='scsi', target='sda'), RUNNING,
     [('controller', 'add virtio-scsi controller 0 to guest web1 (persistent)', CONFIG),
      ('attach', 'attach cdrom sda (scsi, no media) to guest web1 (persistent; an empty cdrom cannot be hot-plugged: '
                 'takes effect at the next boot)', CONFIG)], 'sda'),
    ('empty usb cdrom on a running guest', params(device='cdrom', bus='usb', target='sdc'), RUNNING,
     [('attach', 'attach cdrom sdc (usb, no media) to guest web1 (persistent; an empty cdrom cannot be hot-plugged: '
                 'takes effect at the next boot)', CONFIG)], 'sdc'),
    # -- the disk is already there in one definition
    ('in persistent only: hot-plug it', params(source=src(file='/srv/data.raw')), guest(config=(ROOT, DATA), live=(ROOT,)),
     [('attach', 'attach disk vdb (virtio, /srv/data.raw) to guest web1 (live)', LIVE)], 'vdb'),
    ('in live only: persist it', params(source=src(file='/srv/data.raw')), guest(config=(ROOT,), live=(ROOT, DATA)),
     [('attach', 'attach disk vdb (virtio, /srv/data.raw) to guest web1 (persistent)', CONFIG)], 'vdb'),
    ('in live only under its own target', params(source=src(file='/srv/data.raw')),
     guest(config=(ROOT, disk('vdb', path='/srv/other.raw')), live=(ROOT, disk('vdc', path='/srv/data.raw'))),
     [('attach', 'attach disk vdc (virtio, /srv/data.raw) to guest web1 (persistent)', CONFIG)], 'vdc'),
    ('sata disk in live only: persist it', params(bus='sata', source=src(file='/srv/legacy.raw')),
     guest(config=(ROOT,), live=(ROOT, SATA_DISK)),
     [('attach', 'attach disk sdb (sata, /srv/legacy.raw) to guest web1 (persistent)', CONFIG)], 'sdb'),
    # -- re-runs: nothing to do
    ('re-run found by source', params(source=src(file='/srv/data.raw')), RUNNING_DATA, [], 'vdb'),
    ('re-run by target', params(target='vdb', source=src(file='/srv/data.raw')), RUNNING_DATA, [], 'vdb'),
    ('re-run on a stopped guest', params(source=src(file='/srv/data.raw')), guest(config=(ROOT, DATA), active=False),
     [], 'vdb'),
    ('re-run of a volume', params(source=vol('data.qcow2')), guest(config=(ROOT, VOLDISK)), [], 'vdb'),
    ('re-run, same tuning', params(source=src(file='/srv/data.raw'), cache='none', io='native', discard='unmap',
                                   iothread=1, serial='D1'), RUNNING_TUNED, [], 'vdb'),
    ('re-run, tuning not given', params(source=src(file='/srv/data.raw')), RUNNING_TUNED, [], 'vdb'),
    ('re-run, readonly false equals unset', params(source=src(file='/srv/data.raw'), readonly=False, shareable=False),
     RUNNING_DATA, [], 'vdb'),
    ('re-run, readonly true', params(source=src(file='/srv/data.raw'), readonly=True),
     guest(config=(ROOT, disk('vdb', path='/srv/data.raw', readonly=True))), [], 'vdb'),
    ('re-run, sata disk waiting for the next boot', params(bus='sata', source=src(file='/srv/legacy.raw')),
     guest(config=(ROOT, SATA_DISK), live=(ROOT,)), [], 'sdb'),
    ('re-run, scsi: no controller step', params(bus='scsi', source=src(file='/srv/a.iso'), device='cdrom'),
     guest(config=(ROOT, SCSI_CD)), [], 'sda'),
    ('re-run, lun', params(device='lun', source=src(block='/dev/sdx'), sgio='unfiltered', rawio=True),
     guest(config=(ROOT, disk('sda', 'scsi', device='lun', source={'block': '/dev/sdx'}, sgio='unfiltered', rawio=True)),
           config_ctl=(SCSI_CTL,)), [], 'sda'),
    ('re-run, network by protocol and name', params(source=net('gluster', 'gv0/a.qcow2', [host('127.0.0.1', 24007)])),
     guest(config=(ROOT, disk('vdb', source={'network': {'protocol': 'gluster', 'name': 'gv0/a.qcow2',
                                                         'hosts': [{'name': '127.0.0.1', 'port': 24007}], 'auth': None}}))),
     [], 'vdb'),
    # -- CD-ROM and floppy media
    ('change the media', params(device='cdrom', target='sda', source=src(file='/srv/b.iso')), RUNNING_CD,
     [('update', 'change the media in cdrom sda to /srv/b.iso of guest web1 (live and persistent)', BOTH)], 'sda'),
    ('change the media to a volume', params(device='cdrom', target='sda', source=vol('debian.iso', 'isos')), RUNNING_CD,
     [('update', 'change the media in cdrom sda to volume debian.iso of pool isos of guest web1 (live and persistent)',
       BOTH)], 'sda'),
    ('change the media, stopped', params(device='cdrom', target='sda', source=src(file='/srv/b.iso')),
     guest(config=(ROOT, CD), active=False),
     [('update', 'change the media in cdrom sda to /srv/b.iso of guest web1 (persistent)', CONFIG)], 'sda'),
    ('change the media, live only', params(device='cdrom', target='sda', source=src(file='/srv/b.iso'), persistent=False),
     RUNNING_CD, [('update', 'change the media in cdrom sda to /srv/b.iso of guest web1 (live)', LIVE)], 'sda'),
    ('change the media, persistent only', params(device='cdrom', target='sda', source=src(file='/srv/b.iso'), live=False),
     RUNNING_CD, [('update', 'change the media in cdrom sda to /srv/b.iso of guest web1 (persistent)', CONFIG)], 'sda'),
    ('change the media, sata drive only in the definition', params(device='cdrom', target='sda', source=src(file='/srv/b.iso')),
     guest(config=(ROOT, CD), live=(ROOT,)),
     [('update', 'change the media in cdrom sda to /srv/b.iso of guest web1 (persistent)', CONFIG)], 'sda'),
    ('change the media, live already has it', params(device='cdrom', target='sda', source=src(file='/srv/b.iso')),
     guest(config=(ROOT, CD), live=(ROOT, disk('sda', 'sata', '/srv/b.iso', device='cdrom'))),
     [('update', 'change the media in cdrom sda to /srv/b.iso of guest web1 (persistent)', CONFIG)], 'sda'),
    ('insert into an empty drive', params(device='cdrom', target='sda', source=src(file='/srv/a.iso')), RUNNING_EMPTY_CD,
     [('update', 'change the media in cdrom sda to /srv/a.iso of guest web1 (live and persistent)', BOTH)], 'sda'),
    ('eject', params(device='cdrom', target='sda'), RUNNING_CD,
     [('update', 'eject the media from cdrom sda of guest web1 (live and persistent)', BOTH)], 'sda'),
    ('eject, stopped', params(device='cdrom', target='sda'), guest(config=(ROOT, CD), active=False),
     [('update', 'eject the media from cdrom sda of guest web1 (persistent)', CONFIG)], 'sda'),
    ('eject again: nothing', params(device='cdrom', target='sda'), RUNNING_EMPTY_CD, [], 'sda'),
    ('same media: nothing', params(device='cdrom', target='sda', source=src(file='/srv/a.iso')), RUNNING_CD, [], 'sda'),
    ('same media found by source', params(device='cdrom', source=src(file='/srv/a.iso')), RUNNING_CD, [], 'sda'),
    ('floppy media change', params(device='floppy', target='fda', source=src(file='/srv/b.img')),
     guest(config=(ROOT, FLOPPY)),
     [('update', 'change the media in floppy fda to /srv/b.img of guest web1 (live and persistent)', BOTH)], 'fda'),
    ('floppy eject', params(device='floppy', target='fda'), guest(config=(ROOT, FLOPPY)),
     [('update', 'eject the media from floppy fda of guest web1 (live and persistent)', BOTH)], 'fda'),
]


@pytest.mark.parametrize('case_id, p, dom, expected, target', ATTACH_CASES, ids=[c[0] for c in ATTACH_CASES])
def test_attach(case_id, p, dom, expected, target):
    before = copy.deepcopy(dom.__dict__)
    pl, final = run(p, dom)
    assert steps_of(pl) == expected
    assert pl.actions == [text for _unused, text, _scopes in expected]
    assert pl.changed is bool(expected)
    assert final['target'] == target
    assert dom.__dict__ == before
    for step in pl.steps:
        if step.verb in ('attach', 'update'):
            assert step.args['target'] == target
            element = step.args['element']
            assert (element.tag, element.get('device')) == ('disk', p['device'])
            assert dict(element.find('target').attrib) == {'dev': target, 'bus': final['bus']}


def test_final_model_is_a_copy():
    req = request_from_params(params(source=src(file='/srv/data.raw')))
    _pl, final = plan(req, RUNNING)
    assert final['target'] == 'vdb'
    assert req.model['target'] is None


def test_eject_element_has_no_source():
    pl, _final = run(params(device='cdrom', target='sda'), RUNNING_CD)
    element = pl.steps[0].args['element']
    assert element.find('source') is None
    assert (element.get('type'), element.get('device')) == ('file', 'cdrom')


def test_media_change_element_carries_the_new_media():
    pl, _final = run(params(device='cdrom', target='sda', source=src(file='/srv/b.iso'), readonly=True), RUNNING_CD)
    element = pl.steps[0].args['element']
    assert element.find('source').get('file') == '/srv/b.iso'
    assert element.find('readonly') is not None


def test_auth_reaches_the_element():
    pl, _final = run(params(source=net('rbd', 'rbd/web1', [host('ceph1', 6789)], auth('libvirt', uuid='u-1'))), RUNNING)
    secret = pl.steps[0].args['element'].find('source/auth/secret')
    assert secret.attrib == {'type': 'ceph', 'uuid': 'u-1'}


# Buses that cannot be hot-plugged, on a running guest: the persistent definition only,
# and the action says it takes effect at the next boot.
NEXT_BOOT = [
    # (id, params, guest, target, expected text)
    ('sata disk', params(bus='sata', source=src(file='/srv/legacy.raw')), RUNNING, 'sda',
     'attach disk sda (sata, /srv/legacy.raw) to guest web1 (persistent; sata cannot be hot-plugged: takes effect at the next boot)'),
    ('sata disk, live true', params(bus='sata', source=src(file='/srv/legacy.raw'), live=True), RUNNING, 'sda',
     'attach disk sda (sata, /srv/legacy.raw) to guest web1 (persistent; sata cannot be hot-plugged: takes effect at the next boot)'),
    ('ide disk on a pc guest', params(bus='ide', source=src(file='/srv/old.raw')), guest(buses=PC, machine='pc-i440fx-7.2'),
     'hda', 'attach disk hda (ide, /srv/old.raw) to guest web1 (persistent; ide cannot be hot-plugged: takes effect at the next boot)'),
    ('ide disk, buses unknown', params(bus='ide', source=src(file='/srv/old.raw')), guest(buses=None), 'hda',
     'attach disk hda (ide, /srv/old.raw) to guest web1 (persistent; ide cannot be hot-plugged: takes effect at the next boot)'),
    ('floppy', params(device='floppy', source=src(file='/srv/boot.img')), RUNNING, 'fda',
     'attach floppy fda (fdc, /srv/boot.img) to guest web1 (persistent; fdc cannot be hot-plugged: takes effect at the next boot)'),
    ('sata cdrom with media', params(device='cdrom', source=src(file='/srv/a.iso')), RUNNING, 'sda',
     'attach cdrom sda (sata, /srv/a.iso) to guest web1 (persistent; sata cannot be hot-plugged: takes effect at the next boot)'),
    ('empty sata cdrom', params(device='cdrom', target='sdc'), RUNNING, 'sdc',
     'attach cdrom sdc (sata, no media) to guest web1 (persistent; sata cannot be hot-plugged: takes effect at the next boot)'),
]


@pytest.mark.parametrize('case_id, p, dom, target, text', NEXT_BOOT, ids=[c[0] for c in NEXT_BOOT])
def test_next_boot_scopes(case_id, p, dom, target, text):
    pl, final = run(p, dom)
    assert [(s.verb, s.args['scopes'], s.args['target']) for s in pl.steps] == [('attach', CONFIG, target)]
    assert final['target'] == target
    assert pl.actions[0].startswith(text.split(' (persistent')[0] + ' (persistent')


@pytest.mark.parametrize('case_id, p, dom, target, text', NEXT_BOOT, ids=[c[0] for c in NEXT_BOOT])
def test_next_boot_note(case_id, p, dom, target, text):
    pl, _final = run(p, dom)
    assert pl.actions == [text]


NBD_WORDS = [
    # (id, hosts, expected action): an nbd export without name is named by its servers
    ('one server', [host('127.0.0.1', 10809)],
     'attach disk vdb (virtio, nbd 127.0.0.1) to guest web1 (live and persistent)'),
    ('two servers', [host('nbd1', 10809), host('nbd2')], 'attach disk vdb (virtio, nbd nbd1,nbd2) to guest web1 (live and persistent)'),
]


@pytest.mark.parametrize('case_id, hosts, text', NBD_WORDS, ids=[c[0] for c in NBD_WORDS])
def test_nbd_words(case_id, hosts, text):
    pl, _final = run(params(source=net('nbd', hosts=hosts)), RUNNING)
    assert pl.actions == [text]
    assert ' )' not in pl.actions[0]


# A drive without media has no source to be found by: without a target a re-run (or an
# eject) would add another drive, so the request is refused before the guest is looked at.
NO_MEDIA_RERUNS = [
    # (id, params, guest)
    ('empty cdrom again', params(device='cdrom'), RUNNING_EMPTY_CD),
    ('empty cdrom again, stopped', params(device='cdrom'), guest(config=(ROOT, EMPTY_CD), active=False)),
    ('eject without target', params(device='cdrom'), RUNNING_CD),
    ('eject without target, all-None source', params(device='cdrom', source=src()), RUNNING_CD),
    ('empty floppy again', params(device='floppy'), guest(config=(ROOT, disk('fda', 'fdc', device='floppy')), active=False)),
    ('floppy eject without target', params(device='floppy'), guest(config=(ROOT, FLOPPY))),
    ('absent cdrom without target', params(state='absent', device='cdrom'), RUNNING_EMPTY_CD),
]


@pytest.mark.parametrize('case_id, p, dom', NO_MEDIA_RERUNS, ids=[c[0] for c in NO_MEDIA_RERUNS])
def test_no_media_without_target(case_id, p, dom):
    with pytest.raises(KvmStorageError) as exc:
        run(p, dom)
    assert exc.value.msg == ('guest web1: set target to name the drive (a %s without source cannot be found by its source)'
                             % p['device'])


# libvirt does not write cache='default' back: asking for it again is no change.
CACHE_DEFAULT = [
    # (id, guest)
    ('cache not set', RUNNING_DATA),
    ('cache default read back', guest(config=(ROOT, disk('vdb', path='/srv/data.raw', cache='default')))),
    ('stopped', guest(config=(ROOT, DATA), active=False)),
]


@pytest.mark.parametrize('case_id, dom', CACHE_DEFAULT, ids=[c[0] for c in CACHE_DEFAULT])
def test_cache_default_is_idempotent(case_id, dom):
    pl, final = run(params(source=src(file='/srv/data.raw'), cache='default'), dom)
    assert pl.steps == []
    assert pl.changed is False
    assert final['target'] == 'vdb'


# ---------------------------------------------------------------------------------------
# plan(): refused

PLAN_ERRORS = [
    # (id, params, guest, error class, fragments of the message)
    ('no such guest', params(source=src(file='/srv/data.raw')), None, KvmStorageError, ['guest web1 does not exist']),
    ('absent, no such guest', params(state='absent', target='vdb'), None, KvmStorageError, ['guest web1 does not exist']),
    ('live true on a stopped guest', params(source=src(file='/srv/data.raw'), live=True), STOPPED, KvmStorageError,
     ['guest web1 is not running; live: true needs a running guest']),
    ('live true absent on a stopped guest', params(state='absent', target='vdb', live=True), STOPPED, KvmStorageError,
     ['is not running; live: true needs a running guest']),
    ('persistent false on a stopped guest', params(source=src(file='/srv/data.raw'), persistent=False), STOPPED,
     KvmStorageError, ['guest web1: nothing to change - the guest is not running and persistent is False']),
    ('live false on a transient guest', params(source=src(file='/srv/data.raw'), live=False), TRANSIENT, KvmStorageError,
     ['guest web1: nothing to change - the guest is running']),
    # -- buses the machine type lacks (LAB.md: IDE on q35)
    ('ide on q35', params(bus='ide', source=src(file='/srv/old.raw')), RUNNING, KvmStorageError,
     ['guest web1: its machine type pc-q35-7.2 cannot carry bus ide; use one of fdc, sata, scsi, usb, virtio']),
    ('ide on a stopped q35', params(bus='ide', device='cdrom', target='hdc'), STOPPED, KvmStorageError,
     ['cannot carry bus ide', 'fdc, sata, scsi, usb, virtio']),
    ('ide cdrom on q35, persistent only', params(bus='ide', device='cdrom', source=src(file='/a.iso'), live=False), RUNNING,
     KvmStorageError, ['cannot carry bus ide']),
    ('usb on a machine without it', params(bus='usb', source=src(file='/a')),
     guest(buses=frozenset(['ide', 'fdc', 'virtio']), machine='isapc'), KvmStorageError,
     ['its machine type isapc cannot carry bus usb; use one of fdc, ide, virtio']),
    # -- buses that cannot be hot-plugged, live only
    ('sata live only', params(bus='sata', source=src(file='/srv/legacy.raw'), persistent=False), RUNNING, KvmStorageError,
     ['guest web1: bus sata cannot be hot-plugged into the running guest; attach it persistently (it takes effect at the '
      'next boot) or use virtio, scsi or usb']),
    ('floppy live only', params(device='floppy', source=src(file='/f.img'), persistent=False), RUNNING, KvmStorageError,
     ['bus fdc cannot be hot-plugged']),
    ('sata on a transient guest', params(bus='sata', source=src(file='/srv/legacy.raw')), TRANSIENT, KvmStorageError,
     ['bus sata cannot be hot-plugged']),
    ('sata live only, in the definition already', params(bus='sata', source=src(file='/srv/legacy.raw'), persistent=False),
     guest(config=(ROOT, SATA_DISK), live=(ROOT,)), KvmStorageError, ['bus sata cannot be hot-plugged']),
    ('empty scsi cdrom live only', params(device='cdrom', bus='scsi', target='sdc', persistent=False), SCSI_OK,
     KvmStorageError,
     ['guest web1: an empty cdrom cannot be hot-plugged; give it media or attach it persistently']),
    ('empty sata cdrom live only', params(device='cdrom', target='sdc', persistent=False), RUNNING, KvmStorageError,
     ['bus sata cannot be hot-plugged']),
    # -- target taken
    ('target holds another file', params(target='vdb', source=src(file='/srv/other.raw')), RUNNING_DATA, ConflictError,
     ['guest web1: target vdb already holds /srv/data.raw, not /srv/other.raw; remove that disk first or pick another '
      'target']),
    ('target holds a volume', params(target='vdb', source=src(block='/dev/vg0/x')), guest(config=(ROOT, VOLDISK)),
     ConflictError, ['target vdb already holds volume data.qcow2 of pool images, not /dev/vg0/x']),
    ('target taken, stopped', params(target='vdb', source=vol('x.qcow2')), guest(config=(ROOT, DATA), active=False),
     ConflictError, ['target vdb already holds /srv/data.raw, not volume x.qcow2 of pool images']),
    ('target taken in live only', params(target='vdb', source=src(file='/srv/other.raw')),
     guest(config=(ROOT,), live=(ROOT, DATA)), ConflictError, ['target vdb already holds /srv/data.raw']),
    ('cdrom media on a disk target', params(device='cdrom', target='sdb', source=src(file='/srv/a.iso')),
     guest(config=(ROOT, SATA_DISK)), ConflictError, ['target sdb already holds /srv/legacy.raw, not /srv/a.iso']),
    ('disk on a cdrom target', params(bus='sata', target='sda', source=src(file='/srv/d.raw')), RUNNING_CD, ConflictError,
     ['target sda already holds /srv/a.iso, not /srv/d.raw']),
    ('network on a file target', params(target='vdb', source=net('gluster', 'gv0/a', LOCAL)), RUNNING_DATA, ConflictError,
     ['target vdb already holds /srv/data.raw, not gluster gv0/a']),
    # -- same disk, other tuning
    ('other cache and io', params(source=src(file='/srv/data.raw'), cache='writeback', io='threads'), RUNNING_TUNED,
     ConflictError, ['guest web1: disk vdb exists with other cache, io; libvirt cannot change that on an attached disk '
                     '(only its iotune limits and the media of a CD-ROM or floppy change in place) - detach it (state: '
                     'absent) and attach it again to change that']),
    ('other format', params(target='vdb', source=src(file='/srv/data.raw'), format='qcow2'), RUNNING_DATA, ConflictError,
     ['disk vdb exists with other format;']),
    ('other iothread', params(source=src(file='/srv/data.raw'), iothread=2), RUNNING_TUNED, ConflictError,
     ['exists with other iothread;']),
    ('other discard and iotune: the conflict, nothing half-done', params(
        source=src(file='/srv/data.raw'), discard='ignore', iotune={'total_iops_sec': 5}), RUNNING_TUNED, ConflictError,
     ['exists with other discard; libvirt cannot change that on an attached disk']),
    ('other serial', params(source=src(file='/srv/data.raw'), serial='D2'), RUNNING_TUNED, ConflictError,
     ['exists with other serial;']),
    ('discard and detect_zeroes added', params(source=src(file='/srv/data.raw'), discard='unmap', detect_zeroes='on'),
     RUNNING_DATA, ConflictError, ['exists with other discard, detect_zeroes;']),
    ('readonly wanted', params(source=src(file='/srv/data.raw'), readonly=True), RUNNING_DATA, ConflictError,
     ['exists with other readonly;']),
    ('readonly false on a readonly disk', params(source=src(file='/srv/data.raw'), readonly=False),
     guest(config=(ROOT, disk('vdb', path='/srv/data.raw', readonly=True))), ConflictError, ['exists with other readonly;']),
    ('shareable wanted', params(source=src(file='/srv/data.raw'), shareable=True), RUNNING_DATA, ConflictError,
     ['exists with other shareable;']),
    ('other boot order and wwn', params(source=src(file='/srv/data.raw'), boot_order=2, wwn='5000c50015ea71ac'),
     RUNNING_DATA, ConflictError, ['exists with other wwn, boot_order;']),
    ('other bus, found by source', params(bus='scsi', source=src(file='/srv/data.raw')), RUNNING_DATA, ConflictError,
     ['disk vdb exists with other bus;']),
    ('other device, found by source', params(device='cdrom', bus='virtio', source=src(file='/srv/data.raw')), RUNNING_DATA,
     ConflictError, ['disk vdb exists with other device;']),
    ('other sgio', params(device='lun', source=src(block='/dev/sdx'), sgio='filtered'),
     guest(config=(ROOT, disk('sda', 'scsi', device='lun', source={'block': '/dev/sdx'}, sgio='unfiltered')),
           config_ctl=(SCSI_CTL,)), ConflictError, ['disk sda exists with other sgio;']),
    ('several, in order', params(source=src(file='/srv/data.raw'), format='qcow2', cache='unsafe', serial='X', bus='usb'),
     RUNNING_TUNED, ConflictError, ['exists with other format, cache, serial, bus;']),
    ('differs in the definition only', params(source=src(file='/srv/data.raw'), cache='none'),
     guest(config=(ROOT, DATA), live=(ROOT, disk('vdb', path='/srv/data.raw', cache='none'))), ConflictError,
     ['exists with other cache;']),
    ('cache default on a disk with cache none', params(source=src(file='/srv/data.raw'), cache='default'), RUNNING_TUNED,
     ConflictError, ['disk vdb exists with other cache;']),
    ('cache none on a disk with the default', params(source=src(file='/srv/data.raw'), cache='none'), RUNNING_DATA,
     ConflictError, ['disk vdb exists with other cache;']),
    # -- absent: the target holds other storage than the source names
    ('absent, target holds another file, stopped', params(state='absent', target='vdb', source=src(file='/srv/other.raw')),
     guest(config=(ROOT, DATA), active=False), ConflictError, ['target vdb holds /srv/data.raw, not /srv/other.raw']),
    ('absent, only the running guest differs', params(state='absent', target='vdb', source=src(file='/srv/data.raw')),
     guest(config=(ROOT, DATA), live=(ROOT, disk('vdb', path='/srv/hot.raw'))), ConflictError,
     ['target vdb holds /srv/hot.raw, not /srv/data.raw; nothing was detached']),
    ('absent, cdrom holds other media', params(state='absent', device='cdrom', target='sda', source=src(file='/srv/b.iso')),
     RUNNING_CD, ConflictError, ['target sda holds /srv/a.iso, not /srv/b.iso']),
    ('absent, nbd on another server', params(state='absent', target='vdb', source=net('nbd', hosts=[host('nbd2', 10809)])),
     guest(config=(ROOT, disk('vdb', source={'network': {'protocol': 'nbd', 'name': None,
                                                         'hosts': [{'name': 'nbd1', 'port': 10809}], 'auth': None}}))),
     ConflictError, ['target vdb holds nbd nbd1, not nbd nbd2; nothing was detached']),
]


@pytest.mark.parametrize('case_id, p, dom, error, fragments', PLAN_ERRORS, ids=[c[0] for c in PLAN_ERRORS])
def test_plan_refused(case_id, p, dom, error, fragments):
    with pytest.raises(error) as exc:
        run(p, dom)
    for fragment in fragments:
        assert fragment in exc.value.msg


# ---------------------------------------------------------------------------------------
# plan(): detaching

def _detach_live(target, timeout=30):
    return ('detach', 'detach disk %s from guest web1 (live, waiting up to %d s for the guest to release it)'
            % (target, timeout), LIVE)


def _detach_config(target):
    return ('detach', 'detach disk %s from guest web1 (persistent)' % target, CONFIG)


def _detach_next_boot(target, bus='sata'):
    return ('detach', 'detach disk %s from guest web1 (persistent; %s cannot be unplugged live: it stays in the '
            'running guest until it is shut down)' % (target, bus), CONFIG)


def absent(**kw):
    return params(state='absent', **kw)


DETACH_CASES = [
    # (id, params, guest, expected steps (verb, text, scopes))
    ('running: live, then persistent', absent(target='vdb'), RUNNING_DATA, [_detach_live('vdb'), _detach_config('vdb')]),
    ('by source', absent(source=src(file='/srv/data.raw')), RUNNING_DATA, [_detach_live('vdb'), _detach_config('vdb')]),
    ('by volume', absent(source=vol('data.qcow2')), guest(config=(ROOT, VOLDISK)),
     [_detach_live('vdb'), _detach_config('vdb')]),
    ('by target and the source it holds', absent(target='vdb', source=src(file='/srv/data.raw')), RUNNING_DATA,
     [_detach_live('vdb'), _detach_config('vdb')]),
    ('by target and source, stopped', absent(target='vdb', source=src(file='/srv/data.raw')),
     guest(config=(ROOT, DATA), active=False), [_detach_config('vdb')]),
    ('timeout in the words', absent(target='vdb', timeout=90), RUNNING_DATA,
     [_detach_live('vdb', 90), _detach_config('vdb')]),
    ('stopped: persistent', absent(target='vdb'), guest(config=(ROOT, DATA), active=False), [_detach_config('vdb')]),
    ('only in the definition', absent(target='vdb'), guest(config=(ROOT, DATA), live=(ROOT,)), [_detach_config('vdb')]),
    ('only in the running guest', absent(target='vdb'), guest(config=(ROOT,), live=(ROOT, DATA)), [_detach_live('vdb')]),
    ('live false', absent(target='vdb', live=False), RUNNING_DATA,
     [('detach', 'detach disk vdb from guest web1 (persistent; live: false - it stays attached to the running guest '
                 'until it is shut down)', CONFIG)]),
    ('persistent false', absent(target='vdb', persistent=False), RUNNING_DATA, [_detach_live('vdb')]),
    ('transient guest', absent(target='vdb'), guest(config=(), live=(ROOT, DATA), persistent=False), [_detach_live('vdb')]),
    ('missing', absent(target='vdc'), RUNNING_DATA, []),
    ('missing by source', absent(source=src(file='/srv/other.raw')), RUNNING_DATA, []),
    ('missing, stopped', absent(target='vdc'), guest(config=(ROOT, DATA), active=False), []),
    ('other definition untouched when missing there', absent(target='vdb', live=False),
     guest(config=(ROOT,), live=(ROOT, DATA)), []),
    ('ide on q35: no bus check on the way out', absent(target='hda', bus='ide'), guest(config=(ROOT, IDE_DISK), live=(ROOT,)),
     [_detach_config('hda')]),
    ('sata disk', absent(target='sdb', bus='sata'), guest(config=(ROOT, SATA_DISK)), [_detach_next_boot('sdb')]),
    ('empty cdrom', absent(device='cdrom', target='sda'), RUNNING_EMPTY_CD, [_detach_next_boot('sda')]),
    ('cdrom by its media', absent(device='cdrom', source=src(file='/srv/a.iso')), RUNNING_CD, [_detach_next_boot('sda')]),
    ('lun', absent(device='lun', source=src(block='/dev/sdx')),
     guest(config=(ROOT, disk('sda', 'scsi', device='lun', source={'block': '/dev/sdx'}))),
     [_detach_live('sda'), _detach_config('sda')]),
]


@pytest.mark.parametrize('case_id, p, dom, expected', DETACH_CASES, ids=[c[0] for c in DETACH_CASES])
def test_detach(case_id, p, dom, expected):
    pl, final = run(p, dom)
    assert steps_of(pl) == expected
    assert pl.actions == [text for _unused, text, _scopes in expected]
    assert pl.changed is bool(expected)
    assert final is None
    by_scope = {'live': dom.live_disks, 'config': dom.config_disks}
    for step in pl.steps:
        scope, = step.args['scopes']
        assert step.args['model'] in by_scope[scope]
        assert step.args['model']['target'] == step.args['target']
        assert step.args['timeout'] == p['timeout']


def test_detach_each_scope_gets_its_own_model():
    live_vdb = disk('vdb', path='/srv/data.raw', alias='virtio-disk1')
    pl, _final = run(absent(target='vdb'), guest(config=(ROOT, DATA), live=(ROOT, live_vdb)))
    assert [s.args['model'] for s in pl.steps] == [live_vdb, DATA]
    assert pl.steps[0].args['model'] is live_vdb


def test_absent_target_holding_another_source():
    with pytest.raises(ConflictError) as exc:
        run(absent(target='vdb', source=src(file='/srv/other.raw')), RUNNING_DATA)
    assert exc.value.msg == 'guest web1: target vdb holds /srv/data.raw, not /srv/other.raw; nothing was detached'


# =======================================================================================
# The guest-disk safety holes: format from the header, identity by storage, one target
# across live and persistent, SCSI controllers per target, missing files.

POOL_PATH = '/var/lib/libvirt/images/data.qcow2'
VOL_KEYS = frozenset([('path', POOL_PATH), ('inode', 2049, 77), ('volume', 'images', 'data.qcow2')])
FILE_KEYS = frozenset([('path', POOL_PATH), ('inode', 2049, 77)])
LINK_KEYS = frozenset([('path', POOL_PATH), ('inode', 2049, 77)])     # a symlink resolves to the same file
OTHER_KEYS = frozenset([('path', '/srv/other.raw'), ('inode', 2049, 78)])


def facts(keys=frozenset(), exists=True, probed='raw', volume_format=None):
    return SourceFacts(keys=keys, exists=exists, probed=probed, volume_format=volume_format)


def keyed(model, keys):
    return dict(model, keys=keys)


VOL_VDB = keyed(disk('vdb', source={'volume': {'pool': 'images', 'name': 'data.qcow2'}}, format='qcow2'), VOL_KEYS)
FILE_VDB = keyed(disk('vdb', path=POOL_PATH, format='qcow2'), FILE_KEYS)
FILE_VDC = keyed(disk('vdc', path=POOL_PATH, format='qcow2'), FILE_KEYS)
ROOT_K = keyed(ROOT, frozenset([('path', '/srv/web1.qcow2')]))


def run_f(p, dom, f):
    return plan(request_from_params(p), dom, f)


# -- 1. format ----------------------------------------------------------------------------

FORMAT_CASES = [
    # (id, params, facts, format in the final model and the element)
    ('qcow2 file, no format: the header says qcow2', params(source=src(file='/srv/q.qcow2')), facts(probed='qcow2'),
     'qcow2'),
    ('raw file, no format', params(source=src(file='/srv/r.raw')), facts(probed='raw'), 'raw'),
    ('qcow2 file, format qcow2', params(source=src(file='/srv/q.qcow2'), format='qcow2'), facts(probed='qcow2'), 'qcow2'),
    ('iso declared on a raw header', params(source=src(file='/srv/a.iso'), format='iso'), facts(probed='raw'), 'iso'),
    ('qcow2 block device (an LV holding qcow2)', params(source=src(block='/dev/vg0/q')), facts(probed='qcow2'), 'qcow2'),
    ('volume: the header wins over libvirt', params(source=vol('data.qcow2')),
     facts(probed='qcow2', volume_format='raw'), 'qcow2'),
    ('volume not readable here: libvirt format', params(source=vol('data.qcow2')),
     facts(probed=None, volume_format='qcow2'), 'qcow2'),
    ('luks, format raw: the guest unlocks it', params(source=src(file='/srv/l.raw'), format='raw'), facts(probed='luks'),
     'raw'),
    ('vmdk header, no format', params(source=src(file='/srv/v.vmdk')), facts(probed='vmdk'), 'vmdk'),
    ('network: libvirt default', params(source=net('gluster', 'gv0/a', LOCAL)), facts(probed=None, exists=None), None),
    ('no facts at all: as declared', params(source=src(file='/srv/q.qcow2')), None, None),
    ('missing cdrom media allowed: raw', params(device='cdrom', target='sda', source=src(file='/srv/later.iso'),
                                                startup_policy='optional'), facts(exists=False, probed=None), 'raw'),
    ('missing file allowed, format given', params(source=src(file='/srv/later.qcow2'), format='qcow2', allow_missing=True),
     facts(exists=False, probed=None), 'qcow2'),
]


@pytest.mark.parametrize('case_id, p, f, fmt', FORMAT_CASES, ids=[c[0] for c in FORMAT_CASES])
def test_format_from_the_header(case_id, p, f, fmt):
    dom = STOPPED if p['device'] == 'cdrom' else RUNNING
    pl, final = run_f(p, dom, f)
    assert final['format'] == fmt
    assert [s.verb for s in pl.steps] == ['attach']
    assert pl.steps[0].args['element'].find('driver').get('type') == fmt


FORMAT_REFUSED = [
    # (id, params, facts, guest, fragments)
    ('raw declared on a qcow2 volume', params(source=vol('data.qcow2'), format='raw'),
     facts(probed='qcow2', volume_format='qcow2'), RUNNING,
     ['guest web1: volume data.qcow2 of pool images is a qcow2 image (its header says so), not raw; attached as raw the '
      'guest would overwrite its qcow2 metadata - set format: qcow2 or leave format out']),
    ('raw declared on a qcow2 file', params(source=src(file='/srv/q.qcow2'), format='raw'), facts(probed='qcow2'), RUNNING,
     ['/srv/q.qcow2 is a qcow2 image']),
    ('raw declared, libvirt says qcow2 (not readable here)', params(source=vol('data.qcow2'), format='raw'),
     facts(probed=None, volume_format='qcow2'), RUNNING,
     ['volume data.qcow2 of pool images is a qcow2 volume, not raw; set format: qcow2 or leave format out']),
    ('qcow2 declared on a raw header', params(source=src(file='/srv/r.raw'), format='qcow2'), facts(probed='raw'),
     RUNNING, ['/srv/r.raw has no qcow2 header (it reads as raw)']),
    ('luks header, no format', params(source=src(file='/srv/l.raw')), facts(probed='luks'), RUNNING,
     ['guest web1: /srv/l.raw has a LUKS header; this module does not open LUKS images for qemu, set format: raw']),
    ('luks header, format qcow2', params(source=src(file='/srv/l.raw'), format='qcow2'), facts(probed='luks'), RUNNING,
     ['has a LUKS header', 'not format: qcow2']),
    ('qcow v1', params(source=src(file='/srv/old.qcow')), facts(probed='qcow'), RUNNING,
     ['/srv/old.qcow is a qcow image, which qemu cannot attach through this module; convert it']),
    ('remote: format cannot be read', params(source=src(file='/srv/q.qcow2')), facts(exists=None, probed=None), RUNNING,
     ['the format of /srv/q.qcow2 cannot be read (its header is not readable from here); set format']),
    ('missing, allowed, no format', params(source=src(file='/srv/later.qcow2'), allow_missing=True),
     facts(exists=False, probed=None), STOPPED, ['the format of /srv/later.qcow2 cannot be read (it does not exist yet)']),
    ('a qcow2 image already attached as raw', params(source=src(file='/srv/data.raw')), facts(probed='qcow2'),
     RUNNING_DATA, ['guest web1: disk vdb attaches a qcow2 image as raw, so the guest can overwrite its qcow2 metadata; '
                    'detach it (state: absent) and attach it again without format']),
]


@pytest.mark.parametrize('case_id, p, f, dom, fragments', FORMAT_REFUSED, ids=[c[0] for c in FORMAT_REFUSED])
def test_format_refused(case_id, p, f, dom, fragments):
    with pytest.raises(KvmStorageError) as exc:
        run_f(p, dom, f)
    for fragment in fragments:
        assert fragment in exc.value.msg
    assert '\n' not in exc.value.msg


def test_rerun_of_a_qcow2_disk_without_format():
    dom = guest(config=(ROOT, disk('vdb', path='/srv/q.qcow2', format='qcow2')))
    pl, final = run_f(params(source=src(file='/srv/q.qcow2')), dom, facts(probed='qcow2'))
    assert pl.steps == [] and final['target'] == 'vdb'


def test_check_mode_reads_nothing_more():
    # The planner is pure: the same facts give the same plan twice (check mode = real run).
    p, f = params(source=src(file='/srv/q.qcow2')), facts(probed='qcow2')
    assert steps_of(run_f(p, RUNNING, f)[0]) == steps_of(run_f(p, RUNNING, f)[0])


# -- 2. identity --------------------------------------------------------------------------

IDENTITY_CASES = [
    # (id, params, guest, facts keys, expected steps, target)
    ('file form of a volume-attached disk: nothing to do', params(source=src(file=POOL_PATH)),
     guest(config=(ROOT_K, VOL_VDB)), FILE_KEYS, [], 'vdb'),
    ('symlink of an attached file', params(source=src(file='/srv/link.qcow2')), guest(config=(ROOT_K, FILE_VDB)),
     LINK_KEYS, [], 'vdb'),
    ('volume form of a file-attached disk', params(source=vol('data.qcow2')), guest(config=(ROOT_K, FILE_VDB)), VOL_KEYS,
     [], 'vdb'),
    ('stopped guest, file form', params(source=src(file=POOL_PATH)), guest(config=(ROOT_K, VOL_VDB), active=False),
     FILE_KEYS, [], 'vdb'),
    ('other storage: a new disk', params(source=src(file='/srv/other.raw')), guest(config=(ROOT_K, VOL_VDB)), OTHER_KEYS,
     [('attach', 'attach disk vdc (virtio, /srv/other.raw) to guest web1 (live and persistent)', BOTH)], 'vdc'),
    ('shareable on both: a second attachment', params(target='vdc', source=src(file=POOL_PATH), shareable=True),
     guest(config=(ROOT_K, dict(VOL_VDB, shareable=True))), FILE_KEYS,
     [('attach', 'attach disk vdc (virtio, %s) to guest web1 (live and persistent)' % POOL_PATH, BOTH)], 'vdc'),
    ('two read-only cdroms with one iso', params(device='cdrom', target='sdb', source=src(file='/srv/a.iso'),
                                                 readonly=True),
     guest(config=(ROOT_K, keyed(CD, frozenset([('path', '/srv/a.iso')])))), frozenset([('path', '/srv/a.iso')]),
     [('attach', 'attach cdrom sdb (sata, /srv/a.iso) to guest web1 (persistent; sata cannot be hot-plugged: takes '
                 'effect at the next boot)', CONFIG)], 'sdb'),
]


@pytest.mark.parametrize('case_id, p, dom, keys, expected, target', IDENTITY_CASES, ids=[c[0] for c in IDENTITY_CASES])
def test_identity(case_id, p, dom, keys, expected, target):
    pl, final = run_f(p, dom, facts(keys=keys, probed='raw' if 'iso' in case_id or 'other' in case_id else 'qcow2'))
    assert steps_of(pl) == expected
    assert final['target'] == target


def test_second_writable_attachment_refused():
    for dom in (guest(config=(ROOT_K, VOL_VDB)), guest(config=(ROOT_K, VOL_VDB), active=False)):
        with pytest.raises(ConflictError) as exc:
            run_f(params(target='vdc', source=src(file=POOL_PATH)), dom, facts(keys=FILE_KEYS, probed='qcow2'))
        assert exc.value.msg == (
            'guest web1: %s is already attached as vdb (%s definition); one image attached twice to one guest is '
            'corrupted by it - use target vdb, or set shareable (or readonly) on both'
            % (POOL_PATH, 'running' if dom.active else 'persistent'))


DETACH_BY_IDENTITY = [
    # (id, params, guest, keys, expected steps)
    ('file form of a volume-attached disk', absent(source=src(file=POOL_PATH)), guest(config=(ROOT_K, VOL_VDB)),
     FILE_KEYS, [_detach_live('vdb'), _detach_config('vdb')]),
    ('every target that holds it, live first', absent(source=src(file='/srv/link.qcow2')),
     guest(config=(ROOT_K, VOL_VDB, FILE_VDC)), LINK_KEYS,
     [_detach_live('vdb'), _detach_live('vdc'), _detach_config('vdb'), _detach_config('vdc')]),
    ('stopped guest', absent(source=src(file=POOL_PATH)), guest(config=(ROOT_K, VOL_VDB, FILE_VDC), active=False),
     FILE_KEYS, [_detach_config('vdb'), _detach_config('vdc')]),
    ('drift: each definition at its own target', absent(source=src(file=POOL_PATH)),
     guest(config=(ROOT_K, VOL_VDB), live=(ROOT_K, FILE_VDC)), FILE_KEYS, [_detach_live('vdc'), _detach_config('vdb')]),
    ('by target and the file form of its volume', absent(target='vdb', source=src(file=POOL_PATH)),
     guest(config=(ROOT_K, VOL_VDB, FILE_VDC)), FILE_KEYS, [_detach_live('vdb'), _detach_config('vdb')]),
    ('not attached: nothing', absent(source=src(file='/srv/other.raw')), guest(config=(ROOT_K, VOL_VDB)), OTHER_KEYS, []),
]


@pytest.mark.parametrize('case_id, p, dom, keys, expected', DETACH_BY_IDENTITY, ids=[c[0] for c in DETACH_BY_IDENTITY])
def test_detach_by_identity(case_id, p, dom, keys, expected):
    pl, final = run_f(p, dom, facts(keys=keys, probed=None))
    assert steps_of(pl) == expected
    assert final is None


def test_absent_by_target_holding_other_storage_by_identity():
    with pytest.raises(ConflictError) as exc:
        run_f(absent(target='vdb', source=src(file='/srv/other.raw')), guest(config=(ROOT_K, VOL_VDB)),
              facts(keys=OTHER_KEYS))
    assert 'target vdb holds volume data.qcow2 of pool images, not /srv/other.raw; nothing was detached' in exc.value.msg


# -- 3. live and persistent: one disk, two states ------------------------------------------

DATA_K = keyed(DATA, frozenset([('path', '/srv/data.raw')]))
DATA_KEYS = frozenset([('path', '/srv/data.raw')])
DATA_VDC = keyed(disk('vdc', path='/srv/data.raw'), DATA_KEYS)

DRIFT_CASES = [
    # (id, params, guest, expected steps, target)
    ('persistent only, then live only: the same target', params(source=src(file='/srv/data.raw'), persistent=False),
     guest(config=(ROOT_K, DATA_K), live=(ROOT_K, keyed(disk('vdc', path='/srv/other.raw'), OTHER_KEYS))),
     [('attach', 'attach disk vdb (virtio, /srv/data.raw) to guest web1 (live)', LIVE)], 'vdb'),
    ('live only, then persistent only: the live target', params(source=src(file='/srv/data.raw'), live=False),
     guest(config=(ROOT_K,), live=(ROOT_K, DATA_VDC)),
     [('attach', 'attach disk vdc (virtio, /srv/data.raw) to guest web1 (persistent)', CONFIG)], 'vdc'),
    ('in the definition, default: hot-plug at its target', params(source=src(file='/srv/data.raw')),
     guest(config=(ROOT_K, DATA_VDC), live=(ROOT_K,)),
     [('attach', 'attach disk vdc (virtio, /srv/data.raw) to guest web1 (live)', LIVE)], 'vdc'),
    ('drift already there: no third copy', params(source=src(file='/srv/data.raw')),
     guest(config=(ROOT_K, DATA_K), live=(ROOT_K, DATA_VDC)), [], 'vdb'),
]


@pytest.mark.parametrize('case_id, p, dom, expected, target', DRIFT_CASES, ids=[c[0] for c in DRIFT_CASES])
def test_one_target_across_definitions(case_id, p, dom, expected, target):
    pl, final = run_f(p, dom, facts(keys=DATA_KEYS))
    assert steps_of(pl) == expected
    assert final['target'] == target


def test_explicit_target_against_the_other_definition():
    # The persistent definition has it at vdb; a live-only attach at vdc would be the duplicate
    # the guest cannot start with after a power cycle.
    with pytest.raises(ConflictError) as exc:
        run_f(params(target='vdc', source=src(file='/srv/data.raw'), persistent=False),
              guest(config=(ROOT_K, DATA_K), live=(ROOT_K,)), facts(keys=DATA_KEYS))
    assert 'is already attached as vdb (persistent definition)' in exc.value.msg


REPORTED_KEYS = ('target', 'bus', 'device', 'source', 'format', 'cache')

LIVE_DIFFERENCES = [
    # (id, live disks, config disks, {target: (differences, other target)})
    ('same', [ROOT_K, DATA_K], [ROOT_K, DATA_K], {'vda': ([], None), 'vdb': ([], None)}),
    ('moved', [ROOT_K, DATA_VDC], [ROOT_K, DATA_K],
     {'vda': ([], None), 'vdb': (['presence', 'target'], 'vdc'), 'vdc': (['presence', 'target'], 'vdb')}),
    ('live only', [ROOT_K, DATA_K], [ROOT_K], {'vda': ([], None), 'vdb': (['presence'], None)}),
    ('persistent only', [ROOT_K], [ROOT_K, DATA_K], {'vda': ([], None), 'vdb': (['presence'], None)}),
    ('other source at one target', [ROOT_K, keyed(disk('vdb', path='/srv/other.raw'), OTHER_KEYS)], [ROOT_K, DATA_K],
     {'vda': ([], None), 'vdb': (['source'], None)}),
    ('volume live, its path persistent: same', [ROOT_K, VOL_VDB], [ROOT_K, FILE_VDB],
     {'vda': ([], None), 'vdb': ([], None)}),
    ('other cache', [ROOT_K, dict(DATA_K, cache='none')], [ROOT_K, DATA_K], {'vda': ([], None), 'vdb': (['cache'], None)}),
]


@pytest.mark.parametrize('case_id, live, config, expected', LIVE_DIFFERENCES, ids=[c[0] for c in LIVE_DIFFERENCES])
def test_live_differences(case_id, live, config, expected):
    assert live_differences(live, config, REPORTED_KEYS) == expected


# -- 4. SCSI controllers per target ------------------------------------------------------

@pytest.mark.parametrize('target, index, controller', [
    ('sda', 0, 0), ('sdg', 6, 0), ('sdh', 7, 1), ('sdn', 13, 1), ('sdo', 14, 2), ('sdz', 25, 3), ('sdaa', 26, 3),
    ('sdab', 27, 3), ('sdba', 52, 7)])
def test_scsi_controller_of(target, index, controller):
    assert target_index(target, 'sd') == index
    assert scsi_controller_of(target) == controller


SCSI7 = tuple(disk('sd' + c, 'scsi', '/srv/s%s.raw' % c) for c in 'abcdefg')
CTL1 = ('scsi', 'virtio-scsi', '1')

SCSI_CASES = [
    # (id, params, guest, expected steps)
    ('sdh, no controller', params(bus='scsi', target='sdh', source=src(file='/srv/h.raw')), RUNNING,
     [('controller', 'add virtio-scsi controller 1 to guest web1 (live)', LIVE),
      ('controller', 'add virtio-scsi controller 1 to guest web1 (persistent)', CONFIG),
      ('attach', 'attach disk sdh (scsi, /srv/h.raw) to guest web1 (live and persistent)', BOTH)]),
    ('sdh, controller 0 in both', params(bus='scsi', target='sdh', source=src(file='/srv/h.raw')), SCSI_OK,
     [('controller', 'add virtio-scsi controller 1 to guest web1 (live)', LIVE),
      ('controller', 'add virtio-scsi controller 1 to guest web1 (persistent)', CONFIG),
      ('attach', 'attach disk sdh (scsi, /srv/h.raw) to guest web1 (live and persistent)', BOTH)]),
    ('sdh, controller 1 persistent only', params(bus='scsi', target='sdh', source=src(file='/srv/h.raw')),
     guest(config_ctl=(SCSI_CTL, CTL1), live_ctl=(SCSI_CTL,)),
     [('controller', 'add virtio-scsi controller 1 to guest web1 (live)', LIVE),
      ('attach', 'attach disk sdh (scsi, /srv/h.raw) to guest web1 (live and persistent)', BOTH)]),
    ('sdh, controller 1 in both', params(bus='scsi', target='sdh', source=src(file='/srv/h.raw')),
     guest(config_ctl=(SCSI_CTL, CTL1)),
     [('attach', 'attach disk sdh (scsi, /srv/h.raw) to guest web1 (live and persistent)', BOTH)]),
    ('eighth sd name picked: controller 1', params(bus='scsi', source=src(file='/srv/h.raw')),
     guest(config=(ROOT,) + SCSI7, config_ctl=(SCSI_CTL,)),
     [('controller', 'add virtio-scsi controller 1 to guest web1 (live)', LIVE),
      ('controller', 'add virtio-scsi controller 1 to guest web1 (persistent)', CONFIG),
      ('attach', 'attach disk sdh (scsi, /srv/h.raw) to guest web1 (live and persistent)', BOTH)]),
    ('sdh, stopped guest', params(bus='scsi', target='sdh', source=src(file='/srv/h.raw')),
     guest(active=False, config_ctl=(SCSI_CTL,)),
     [('controller', 'add virtio-scsi controller 1 to guest web1 (persistent)', CONFIG),
      ('attach', 'attach disk sdh (scsi, /srv/h.raw) to guest web1 (persistent)', CONFIG)]),
]


@pytest.mark.parametrize('case_id, p, dom, expected', SCSI_CASES, ids=[c[0] for c in SCSI_CASES])
def test_scsi_controllers(case_id, p, dom, expected):
    pl, _final = run(p, dom)
    assert steps_of(pl) == expected
    for step in pl.steps:
        if step.verb == 'controller':
            assert step.args['index'] == 1


# -- 6. a file that does not exist ---------------------------------------------------------

MISSING_CASES = [
    # (id, params, guest, None or fragments of the refusal)
    ('stopped guest: refused', params(source=src(file='/srv/later.raw'), format='raw'), STOPPED,
     ['guest web1: /srv/later.raw does not exist, and the guest could not start with it; create it first, set '
      'startup_policy: optional to start the guest without it, or allow_missing: true if it will exist before the '
      'guest starts']),
    ('block device: refused', params(source=src(block='/dev/vg0/later'), format='raw'), STOPPED, ['/dev/vg0/later does not exist']),
    ('startup_policy mandatory: refused', params(source=src(file='/srv/later.raw'), format='raw',
                                                 startup_policy='mandatory'), STOPPED, ['does not exist']),
    ('startup_policy optional', params(source=src(file='/srv/later.raw'), format='raw', startup_policy='optional'),
     STOPPED, None),
    ('startup_policy requisite, cdrom', params(device='cdrom', target='sda', source=src(file='/srv/later.iso'),
                                               startup_policy='requisite'), STOPPED, None),
    ('allow_missing', params(source=src(file='/srv/later.raw'), format='raw', allow_missing=True), STOPPED, None),
]


@pytest.mark.parametrize('case_id, p, dom, fragments', MISSING_CASES, ids=[c[0] for c in MISSING_CASES])
def test_missing_source(case_id, p, dom, fragments):
    f = facts(exists=False, probed=None)
    if fragments is None:
        pl, final = run_f(p, dom, f)
        assert [s.verb for s in pl.steps] == ['attach']
        assert pl.steps[0].args['element'].find('source').get('startupPolicy') == p['startup_policy']
        return
    with pytest.raises(KvmStorageError) as exc:
        run_f(p, dom, f)
    for fragment in fragments:
        assert fragment in exc.value.msg


def test_missing_source_unknown_remotely_is_accepted():
    pl, _final = run_f(params(source=src(file='/srv/x.raw'), format='raw'), STOPPED, facts(exists=None, probed=None))
    assert [s.verb for s in pl.steps] == ['attach']


def test_missing_source_detach_is_not_refused():
    pl, _final = run_f(absent(source=src(file='/srv/data.raw')), guest(config=(ROOT, DATA), active=False),
                       facts(exists=False, probed=None))
    assert steps_of(pl) == [_detach_config('vdb')]


def test_requisite_on_a_disk_refused():
    with pytest.raises(KvmStorageError) as exc:
        request_from_params(params(source=src(file='/srv/a.raw'), startup_policy='requisite'))
    assert exc.value.msg == 'guest web1: startup_policy requisite applies to a cdrom or floppy; use optional for a disk'


def test_startup_policy_on_a_network_source_refused():
    with pytest.raises(KvmStorageError) as exc:
        request_from_params(params(source=net('gluster', 'gv0/a', LOCAL), startup_policy='optional'))
    assert exc.value.msg == 'guest web1: startup_policy applies to file, block and volume sources'


def test_taken_target_is_named_before_the_twin():
    # The target holds other storage and the source sits elsewhere: the taken target is the
    # first thing to fix.
    usb = keyed(disk('sdb', 'usb', '/srv/usb.raw'), frozenset([('path', '/srv/usb.raw')]))
    with pytest.raises(ConflictError) as exc:
        run_f(params(target='vda', source=src(file='/srv/usb.raw')), guest(config=(ROOT_K, usb)),
              facts(keys=frozenset([('path', '/srv/usb.raw')])))
    assert 'target vda already holds /srv/web1.qcow2, not /srv/usb.raw' in exc.value.msg


# -- a volume of a pool libvirt will not hand to a guest as a volume disk -------------------
# The adapter reads the volume's pool (a fact); the planner attaches the disk the volume
# stands for, and finds it again by identity on a re-run.

GFS = PoolView('gfs', 'gluster', True, source_hosts=['127.0.0.1'], source_name='gv0', source_dir='/vms')
MPATH = PoolView('mp', 'mpath', True)
DIR = PoolView('images', 'dir', True, target_path='/srv')
GFS_NET = {'network': {'protocol': 'gluster', 'name': 'gv0/vms/img.qcow2', 'auth': None,
                       'hosts': [{'name': '127.0.0.1', 'port': None, 'transport': None}]}}


def pool_facts(pool, path, probed=None, volume_format='qcow2', keys=frozenset()):
    return SourceFacts(keys=keys, exists=True, probed=probed, volume_format=volume_format, path=path, pool=pool)


TRANSLATED = [
    # (id, params, facts, source of the final model, words of the attach step)
    ('gluster volume: a gluster network disk', params(source=vol('img.qcow2', 'gfs')),
     pool_facts(GFS, 'gluster://127.0.0.1/gv0/vms/img.qcow2'), GFS_NET,
     'attach disk vdb (virtio, gluster gv0/vms/img.qcow2) to guest web1 (live and persistent)'),
    ('mpath volume: the block device', params(source=vol('mpatha', 'mp')),
     pool_facts(MPATH, '/dev/mapper/mpatha', probed='raw', volume_format='raw'), {'block': '/dev/mapper/mpatha'},
     'attach disk vdb (virtio, /dev/mapper/mpatha) to guest web1 (live and persistent)'),
    ('dir volume: a volume disk', params(source=vol('data.qcow2')), pool_facts(DIR, '/srv/data.qcow2', 'qcow2'),
     {'volume': {'pool': 'images', 'name': 'data.qcow2'}},
     'attach disk vdb (virtio, volume data.qcow2 of pool images) to guest web1 (live and persistent)'),
    ('pool not read: as given', params(source=vol('img.qcow2', 'gfs')), facts(probed=None, volume_format='qcow2'),
     {'volume': {'pool': 'gfs', 'name': 'img.qcow2'}},
     'attach disk vdb (virtio, volume img.qcow2 of pool gfs) to guest web1 (live and persistent)'),
]


@pytest.mark.parametrize('case_id, p, f, source, words', TRANSLATED, ids=[c[0] for c in TRANSLATED])
def test_volume_attached_as_the_disk_it_stands_for(case_id, p, f, source, words):
    pl, final = run_f(p, RUNNING, f)
    assert final['source'] == source
    assert pl.actions == [words]
    # the format comes from the volume (a fact), never written into the request
    assert final['format'] == f.volume_format and p['format'] is None


def test_gluster_disk_found_again_and_detached_by_volume():
    keys = frozenset([('net', 'gluster', 'gv0/vms/img.qcow2'), ('volume', 'gfs', 'img.qcow2')])
    attached = keyed(disk('vdb', source=GFS_NET, format='qcow2'),
                     frozenset([('net', 'gluster', 'gv0/vms/img.qcow2')]))
    dom = guest(config=(ROOT, attached), live=(ROOT, attached))
    f = pool_facts(GFS, 'gluster://127.0.0.1/gv0/vms/img.qcow2', keys=keys)
    pl, final = run_f(params(source=vol('img.qcow2', 'gfs')), dom, f)
    assert pl.steps == [] and final['target'] == 'vdb'
    pl, _final = run_f(absent(source=vol('img.qcow2', 'gfs')), dom, f)
    assert [s.args['target'] for s in pl.steps] == ['vdb', 'vdb']


# ---------------------------------------------------------------------------------------
# iotune: block I/O limits, changed in place (virDomainSetBlockIoTune), never by a detach

def tune(**kw):
    """The iotune option as AnsibleModule gives it (every key present)."""
    out = dict((key, None) for key in argument_spec()['iotune']['options'])
    out.update(kw)
    return out


LIMITED = dict(DATA, iotune={'total_bytes_sec': 1048576, 'read_iops_sec': 100, 'write_iops_sec': 50})
GROUPED = dict(DATA, iotune={'total_iops_sec': 300, 'group_name': 'tenant1'})


def _iotune(words, scopes=None, where='live and persistent'):
    return ('iotune', 'update iotune of disk vdb of guest web1 (%s): %s' % (where, words), scopes or BOTH)


IOTUNE_CASES = [
    # (id, params, guest, expected steps, the parameters handed to libvirt (set keys) or None)
    ('set on a running guest', params(source=src(file='/srv/data.raw'), iotune=tune(total_bytes_sec=1048576)),
     guest(config=(ROOT, DATA)), [_iotune('total_bytes_sec 1048576')], {'total_bytes_sec': 1048576}),
    ('set on a stopped guest', params(source=src(file='/srv/data.raw'), iotune=tune(read_iops_sec=10)),
     guest(config=(ROOT, DATA), active=False), [_iotune('read_iops_sec 10', CONFIG, 'persistent')],
     {'read_iops_sec': 10}),
    ('live only', params(source=src(file='/srv/data.raw'), live=True, persistent=False,
                         iotune=tune(write_bytes_sec=5000)),
     guest(config=(ROOT, DATA)), [_iotune('write_bytes_sec 5000', LIVE, 'live')], {'write_bytes_sec': 5000}),
    ('as set: nothing to do', params(source=src(file='/srv/data.raw'), target='vdb',
                                     iotune=tune(total_bytes_sec=1048576, read_iops_sec=100, write_iops_sec=50)),
     guest(config=(ROOT, LIMITED)), [], None),
    ('changed value', params(source=src(file='/srv/data.raw'), iotune=tune(total_bytes_sec=2097152, read_iops_sec=100,
                                                                           write_iops_sec=50)),
     guest(config=(ROOT, LIMITED)),
     [_iotune('total_bytes_sec 2097152, read_iops_sec 100, write_iops_sec 50')],
     {'total_bytes_sec': 2097152, 'read_iops_sec': 100, 'write_iops_sec': 50}),
    ('a limit left out is lifted', params(source=src(file='/srv/data.raw'), iotune=tune(total_bytes_sec=1048576)),
     guest(config=(ROOT, LIMITED)), [_iotune('total_bytes_sec 1048576')], {'total_bytes_sec': 1048576}),
    ('all lifted', params(source=src(file='/srv/data.raw'), iotune=tune()), guest(config=(ROOT, LIMITED)),
     [_iotune('no limits')], {}),
    ('zero is no limit', params(source=src(file='/srv/data.raw'), iotune=tune(total_bytes_sec=0)),
     guest(config=(ROOT, DATA)), [], None),
    ('not managed', params(source=src(file='/srv/data.raw')), guest(config=(ROOT, LIMITED)), [], None),
    ('only the live copy differs', params(source=src(file='/srv/data.raw'),
                                          iotune=tune(total_bytes_sec=1048576, read_iops_sec=100, write_iops_sec=50)),
     guest(config=(ROOT, LIMITED), live=(ROOT, DATA)),
     [_iotune('total_bytes_sec 1048576, read_iops_sec 100, write_iops_sec 50', LIVE, 'live')],
     {'total_bytes_sec': 1048576, 'read_iops_sec': 100, 'write_iops_sec': 50}),
    ('group name kept when not asked', params(source=src(file='/srv/data.raw'), iotune=tune(total_iops_sec=300)),
     guest(config=(ROOT, GROUPED)), [], None),
    ('group name asked', params(source=src(file='/srv/data.raw'), iotune=tune(total_iops_sec=300, group_name='t2')),
     guest(config=(ROOT, GROUPED)), [_iotune('total_iops_sec 300, group_name t2')],
     {'total_iops_sec': 300, 'group_name': 't2'}),
    ('burst length 1 is qemu\'s default', params(source=src(file='/srv/data.raw'), iotune=tune(
        total_bytes_sec=1000, total_bytes_sec_max=2000, total_bytes_sec_max_length=1)),
     guest(config=(ROOT, dict(DATA, iotune={'total_bytes_sec': 1000, 'total_bytes_sec_max': 2000}))), [], None),
    ('burst length', params(source=src(file='/srv/data.raw'), iotune=tune(
        total_bytes_sec=1000, total_bytes_sec_max=2000, total_bytes_sec_max_length=30)),
     guest(config=(ROOT, dict(DATA, iotune={'total_bytes_sec': 1000, 'total_bytes_sec_max': 2000}))),
     [_iotune('total_bytes_sec 1000, total_bytes_sec_max 2000, total_bytes_sec_max_length 30')],
     {'total_bytes_sec': 1000, 'total_bytes_sec_max': 2000, 'total_bytes_sec_max_length': 30}),
    ('with another difference the conflict wins', params(source=src(file='/srv/data.raw'), cache='none',
                                                         iotune=tune(total_bytes_sec=1)),
     guest(config=(ROOT, DATA)), ConflictError, None),
]


@pytest.mark.parametrize('case_id, p, dom, expected, params_set', IOTUNE_CASES, ids=[c[0] for c in IOTUNE_CASES])
def test_iotune(case_id, p, dom, expected, params_set):
    if expected is ConflictError:
        with pytest.raises(ConflictError) as exc:
            run(p, dom)
        assert 'exists with other cache' in exc.value.msg
        return
    pl, final = run(p, dom)
    assert steps_of(pl) == expected
    assert pl.changed is bool(expected)
    assert final['target'] == 'vdb'
    for step in pl.steps:
        assert step.args['target'] == 'vdb'
        assert dict((k, v) for k, v in step.args['params'].items() if v) == params_set
        # every number is handed over: 0 lifts a limit that is not asked for any more
        assert len([k for k in step.args['params'] if k != 'group_name']) == 18


def test_iotune_on_a_new_disk_is_in_its_definition():
    pl, _final = run(params(source=src(file='/srv/new.raw'), iotune=tune(total_iops_sec=200, group_name='g')), RUNNING)
    assert [s.verb for s in pl.steps] == ['attach']
    element = pl.steps[0].args['element']
    assert [(c.tag, c.text) for c in element.find('iotune')] == [('total_iops_sec', '200'), ('group_name', 'g')]


IOTUNE_REFUSED = [
    ('negative', tune(total_bytes_sec=-1), 'guest web1: iotune.total_bytes_sec must be 0 (no limit) or more, not -1'),
    ('total and read', tune(total_bytes_sec=10, read_bytes_sec=5),
     'iotune.total_bytes_sec and iotune.read_bytes_sec are exclusive'),
    ('total and write iops bursts', tune(total_iops_sec=10, write_iops_sec=5, total_iops_sec_max=20,
                                         write_iops_sec_max=10), 'iotune.total_iops_sec and iotune.write_iops_sec'),
    ('burst without rate', tune(read_iops_sec_max=10),
     'iotune.read_iops_sec_max (a burst) needs iotune.read_iops_sec (the rate it bursts above)'),
    ('burst below rate', tune(write_bytes_sec=100, write_bytes_sec_max=50),
     'iotune.write_bytes_sec_max (50) is below iotune.write_bytes_sec (100)'),
    ('length without burst', tune(total_iops_sec=10, total_iops_sec_max_length=5),
     'iotune.total_iops_sec_max_length (seconds of burst) needs iotune.total_iops_sec_max'),
]


@pytest.mark.parametrize('case_id, options, fragment', IOTUNE_REFUSED, ids=[c[0] for c in IOTUNE_REFUSED])
def test_iotune_refused(case_id, options, fragment):
    with pytest.raises(KvmStorageError) as exc:
        request_from_params(params(source=src(file='/srv/data.raw'), iotune=options))
    assert fragment in exc.value.msg
