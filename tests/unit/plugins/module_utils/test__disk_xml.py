# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Guest disks: model -> <disk> -> model, what libvirt prints (virsh dumpxml), and same_source."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _disk_xml
from ansible_collections.kvm.storage.plugins.module_utils import _xml

IQN = 'iqn.2026-11.test:store1'
SECRET_UUID = '0a81f5b2-8403-4f3c-a7e2-9d6e9c1f4a11'
IMAGES = '/var/lib/libvirt/images'
FIELDS = ('format', 'cache', 'io', 'discard', 'detect_zeroes', 'iothread', 'readonly', 'shareable', 'serial', 'wwn',
          'boot_order', 'sgio', 'rawio', 'startup_policy', 'iotune')


def _model(target='vdb', bus='virtio', device='disk', source=None, **kw):
    """A model as request_from_params gives it to build()."""
    model = {'device': device, 'bus': bus, 'target': target, 'source': source}
    for key in FIELDS:
        model[key] = kw.pop(key, None)
    assert not kw, kw
    return model


def _network(protocol, name=None, hosts=(), auth=None):
    return {'network': {'protocol': protocol, 'name': name, 'hosts': list(hosts), 'auth': auth}}


def _host(name, port=None, transport=None):
    return {'name': name, 'port': port, 'transport': transport}


def _auth(secret_type, username='chap', usage=None, uuid=None):
    return {'username': username, 'secret_usage': usage, 'secret_uuid': uuid, 'type': secret_type}


def _values(element, xpath):
    out = []
    for node in element.xpath(xpath):
        if isinstance(node, str):
            out.append(str(node))
        elif xpath.endswith('*'):
            out.append(node.tag)
        else:
            out.append(node.text or '')
    return out


def _within(got, want):
    """Whether everything ``want`` states is in ``got`` (dicts key by key, lists item by item)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(key in got and _within(got[key], value) for key, value in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(_within(g, w) for g, w in zip(got, want))
    return got == want


def _check(got, want):
    """A parsed disk: every key exact, but the source only needs to hold what ``want`` states."""
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        if key == 'source':
            assert _within(got[key], value), (got[key], value)
        else:
            assert got[key] == value, key


def _parsed(model):
    """What parse() gives for build(model): unset flags read back as False, no alias, no chain."""
    out = dict(model, alias=None, backing_chain=[])
    out['readonly'] = bool(model['readonly'])
    out['shareable'] = bool(model['shareable'])
    source = model['source']
    if source and source.get('network'):
        net = source['network']
        hosts = []
        for h in net['hosts']:
            hosts.append({'name': h['name'], 'port': h['port']})
            if h['transport']:
                hosts[-1]['transport'] = h['transport']
        auth = net['auth']
        if auth is not None:
            auth = dict((key, value) for key, value in auth.items() if value is not None)
        out['source'] = {'network': {'protocol': net['protocol'], 'name': net['name'], 'hosts': hosts, 'auth': auth}}
    return out


# ---------------------------------------------------------------------------------------
# build, and parse(build(model))

ROUND_TRIPS = [
    ('startup policy on a file', _model(source={'file': IMAGES + '/later.raw'}, format='raw', startup_policy='optional'),
     {'source/@startupPolicy': ['optional'], 'source/@file': [IMAGES + '/later.raw']}),
    ('startup policy on a volume', _model(source={'volume': {'pool': 'isos', 'name': 'd.iso'}}, device='cdrom',
                                          bus='sata', target='sda', format='raw', startup_policy='requisite'),
     {'source/@startupPolicy': ['requisite'], 'source/@volume': ['d.iso']}),
    # (id, model, {xpath: expected values} in the built element)
    ('file qcow2', _model(source={'file': IMAGES + '/a.qcow2'}, format='qcow2'),
     {'@type': ['file'], '@device': ['disk'], '*': ['driver', 'source', 'target'], 'driver/@name': ['qemu'],
      'driver/@type': ['qcow2'], 'source/@file': [IMAGES + '/a.qcow2'], 'target/@dev': ['vdb'],
      'target/@bus': ['virtio'], '@sgio': [], '@rawio': []}),
    ('file, format not given', _model(source={'file': '/srv/a.raw'}),
     {'driver/@*': ['qemu'], 'source/@file': ['/srv/a.raw']}),
    ('block', _model('sda', 'scsi', source={'block': '/dev/vg0/data'}, format='raw'),
     {'@type': ['block'], 'source/@dev': ['/dev/vg0/data'], 'source/@file': [], 'target/@dev': ['sda'],
      'target/@bus': ['scsi']}),
    ('thin LV on sata', _model('sdb', 'sata', source={'block': '/dev/vg0/thin1'}),
     {'@type': ['block'], 'source/@dev': ['/dev/vg0/thin1'], 'target/@bus': ['sata']}),
    ('volume', _model(source={'volume': {'pool': 'images', 'name': 'web1.qcow2'}}, format='qcow2'),
     {'@type': ['volume'], 'source/@pool': ['images'], 'source/@volume': ['web1.qcow2'], 'source/@*': ['images', 'web1.qcow2']}),
    ('gluster, hosts and port', _model(source=_network('gluster', 'gv0/web1.qcow2', [_host('g1', 24007), _host('g2')]),
                                       format='qcow2'),
     {'@type': ['network'], 'source/@protocol': ['gluster'], 'source/@name': ['gv0/web1.qcow2'],
      'source/host/@name': ['g1', 'g2'], 'source/host/@port': ['24007'], 'source/host/@transport': [],
      'source/auth': []}),
    ('gluster with transport', _model(source=_network('gluster', 'gv0/a.qcow2', [_host('g1', 24007, 'rdma')])),
     {'source/host/@*': ['g1', '24007', 'rdma']}),
    ('iscsi, auth by usage', _model(source=_network('iscsi', IQN + '/1', [_host('127.0.0.1', 3260)],
                                                    _auth('iscsi', usage='chap1'))),
     {'@type': ['network'], 'source/@protocol': ['iscsi'], 'source/@name': [IQN + '/1'],
      'source/host/@port': ['3260'], 'source/auth/@username': ['chap'], 'source/auth/secret/@type': ['iscsi'],
      'source/auth/secret/@usage': ['chap1'], 'source/auth/secret/@uuid': [], 'auth': []}),
    ('rbd, auth by uuid', _model(source=_network('rbd', 'rbd/web1', [_host('ceph1', 6789), _host('ceph2', 6789)],
                                                 _auth('ceph', 'libvirt', uuid=SECRET_UUID))),
     {'source/auth/@username': ['libvirt'], 'source/auth/secret/@type': ['ceph'], 'source/auth/secret/@uuid': [SECRET_UUID],
      'source/auth/secret/@usage': [], 'source/host/@name': ['ceph1', 'ceph2']}),
    ('nbd without name', _model(source=_network('nbd', hosts=[_host('127.0.0.1', 10809)])),
     {'source/@protocol': ['nbd'], 'source/@name': [], 'source/host/@port': ['10809']}),
    ('https', _model(source=_network('https', '/images/a.iso', [_host('mirror.example.com', 443)]), device='cdrom',
                     bus='sata', target='sda', readonly=True),
     {'@device': ['cdrom'], 'source/@protocol': ['https'], 'source/@name': ['/images/a.iso'], 'readonly': ['']}),
    ('lun, sgio and rawio', _model('sda', 'scsi', 'lun', {'block': '/dev/sdx'}, sgio='unfiltered', rawio=True),
     {'@type': ['block'], '@device': ['lun'], '@sgio': ['unfiltered'], '@rawio': ['yes']}),
    ('lun, rawio no', _model('sdb', 'scsi', 'lun', {'block': '/dev/sdy'}, sgio='filtered', rawio=False),
     {'@sgio': ['filtered'], '@rawio': ['no']}),
    ('lun over iscsi, no flags', _model('sdc', 'scsi', 'lun', _network('iscsi', IQN + '/2', [_host('127.0.0.1')])),
     {'@type': ['network'], '@device': ['lun'], '@sgio': [], '@rawio': []}),
    ('empty cdrom', _model('sda', 'sata', 'cdrom'),
     {'@type': ['file'], '@device': ['cdrom'], 'source': [], '*': ['driver', 'target']}),
    ('empty floppy', _model('fda', 'fdc', 'floppy'), {'@type': ['file'], '@device': ['floppy'], 'source': []}),
    ('cdrom with an iso', _model('sdb', 'scsi', 'cdrom', {'file': '/srv/isos/debian-12.iso'}, format='raw', readonly=True),
     {'@device': ['cdrom'], 'source/@file': ['/srv/isos/debian-12.iso'], 'readonly': ['']}),
    ('floppy image', _model('fda', 'fdc', 'floppy', {'file': '/srv/boot.img'}), {'@device': ['floppy'], 'target/@bus': ['fdc']}),
    ('tuning', _model(source={'file': '/srv/a.raw'}, format='raw', cache='none', io='native', discard='unmap',
                      detect_zeroes='unmap', iothread=2),
     {'driver/@cache': ['none'], 'driver/@io': ['native'], 'driver/@discard': ['unmap'],
      'driver/@detect_zeroes': ['unmap'], 'driver/@iothread': ['2'], 'driver/@type': ['raw']}),
    ('tuning, other values', _model(source={'file': '/srv/a.raw'}, cache='writeback', io='io_uring', discard='ignore',
                                    detect_zeroes='off', iothread=1),
     {'driver/@cache': ['writeback'], 'driver/@io': ['io_uring'], 'driver/@discard': ['ignore'],
      'driver/@detect_zeroes': ['off'], 'driver/@iothread': ['1']}),
    ('readonly, shareable, serial, wwn, boot order',
     _model('sdc', 'scsi', source={'block': '/dev/sdz'}, readonly=True, shareable=True, serial='WD-123 X', wwn='5000c50015ea71ac',
            boot_order=2),
     {'*': ['driver', 'source', 'target', 'boot', 'readonly', 'shareable', 'serial', 'wwn'], 'boot/@order': ['2'],
      'readonly': [''], 'shareable': [''], 'serial': ['WD-123 X'], 'wwn': ['5000c50015ea71ac']}),
    ('readonly and shareable false', _model(source={'file': '/a'}, readonly=False, shareable=False, boot_order=None),
     {'readonly': [], 'shareable': [], 'boot': [], 'serial': [], 'wwn': []}),
    ('iotune', _model(source={'file': '/srv/a.raw'}, iotune={'total_bytes_sec': 1048576, 'total_bytes_sec_max': 2097152,
                                                             'total_bytes_sec_max_length': 10, 'read_iops_sec': 100,
                                                             'write_iops_sec': 50, 'group_name': 'tenant1'}),
     {'iotune/*': ['total_bytes_sec', 'read_iops_sec', 'write_iops_sec', 'total_bytes_sec_max', 'group_name',
                   'total_bytes_sec_max_length'],
      'iotune/total_bytes_sec': ['1048576'], 'iotune/group_name': ['tenant1'], 'iotune/total_bytes_sec_max_length': ['10'],
      '*': ['driver', 'source', 'target', 'iotune']}),
    ('iotune, one limit', _model(source={'file': '/srv/a.raw'}, iotune={'write_bytes_sec': 5000000}),
     {'iotune/*': ['write_bytes_sec'], 'iotune/write_bytes_sec': ['5000000']}),
    ('usb disk', _model('sdd', 'usb', source={'file': '/srv/stick.raw'}), {'target/@bus': ['usb'], 'target/@dev': ['sdd']}),
    ('ide disk', _model('hda', 'ide', source={'file': '/srv/old.raw'}), {'target/@bus': ['ide'], 'target/@dev': ['hda']}),
]


@pytest.mark.parametrize('case_id, model, expected', ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_build(case_id, model, expected):
    element = _disk_xml.build(model)
    assert element.tag == 'disk'
    for xpath, values in expected.items():
        assert _values(element, xpath) == values, xpath


@pytest.mark.parametrize('case_id, model, expected', ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_round_trip(case_id, model, expected):
    element = _disk_xml.build(model)
    _check(_disk_xml.parse(element), _parsed(model))
    # through text, as libvirt receives it
    again = _xml.parse(_xml.to_string(element, pretty=False))
    _check(_disk_xml.parse(again), _parsed(model))


# parse() keeps a host's transport and the secret (type, usage or uuid) of an auth, so
# every round trip rebuilds to the same definition, network sources with auth included.
@pytest.mark.parametrize('case_id, model, expected', ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_rebuild(case_id, model, expected):
    # What a detach sends libvirt is build() of a parsed disk: it must be the same definition.
    element = _disk_xml.build(model)
    rebuilt = _disk_xml.build(_disk_xml.parse(element))
    assert _disk_xml.canonical(rebuilt) == _disk_xml.canonical(element)


def test_build_does_not_change_the_model():
    model = _model(source=_network('iscsi', IQN + '/1', [_host('127.0.0.1', 3260)], _auth('iscsi', usage='c')),
                   cache='none', readonly=True)
    before = copy.deepcopy(model)
    _disk_xml.build(model)
    assert model == before


NOT_WRITTEN = [
    # (id, model, xpath that must not be in the element)
    ('sgio on a disk', _model(source={'file': '/a'}, sgio='filtered'), '@sgio'),
    ('rawio on a cdrom', _model('sda', 'sata', 'cdrom', rawio=True), '@rawio'),
    ('boot order None', _model(source={'file': '/a'}), 'boot'),
    ('empty serial', _model(source={'file': '/a'}, serial=''), 'serial'),
    ('no driver type', _model(source={'file': '/a'}), 'driver/@type'),
    ('no tuning', _model(source={'file': '/a'}), 'driver/@cache | driver/@io | driver/@discard | driver/@iothread'),
    ('no port', _model(source=_network('gluster', 'gv0/a', [_host('g1')])), 'source/host/@port'),
    ('no auth', _model(source=_network('iscsi', IQN + '/1', [_host('h')])), 'source/auth'),
]


@pytest.mark.parametrize('case_id, model, xpath', NOT_WRITTEN, ids=[c[0] for c in NOT_WRITTEN])
def test_not_written(case_id, model, xpath):
    assert _disk_xml.build(model).xpath(xpath) == []


@pytest.mark.parametrize('path', ['/srv/a&b.img', '/srv/<x>.img', "/srv/it's \"q\".img", '/srv/caf\u00e9.img'])
def test_build_escapes_paths(path):
    element = _disk_xml.build(_model(source={'file': path}, serial='a&b'))
    parsed = _disk_xml.parse(_xml.parse(_xml.to_string(element)))
    assert (parsed['source'], parsed['serial']) == ({'file': path}, 'a&b')


# ---------------------------------------------------------------------------------------
# What libvirt prints: disks of a running guest (virsh dumpxml) and of its definition

LIVE_OVERLAY = """<disk type='file' device='disk'>
  <driver name='qemu' type='qcow2' cache='none' discard='unmap'/>
  <source file='/var/lib/libvirt/images/vm1.qcow2' index='3'/>
  <backingStore type='file' index='2'>
    <format type='qcow2'/>
    <source file='/var/lib/libvirt/images/mid.qcow2'/>
    <backingStore type='file' index='1'>
      <format type='raw'/>
      <source file='/var/lib/libvirt/images/base.raw'/>
      <backingStore/>
    </backingStore>
  </backingStore>
  <target dev='vda' bus='virtio'/>
  <boot order='1'/>
  <alias name='virtio-disk0'/>
  <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
</disk>
"""

LIVE_BLOCK_CHAIN = """<disk type='block' device='disk'>
  <driver name='qemu' type='qcow2' cache='none' io='native' discard='unmap' detect_zeroes='unmap' iothread='1'/>
  <source dev='/dev/vg0/db1-overlay' index='3'/>
  <backingStore type='block' index='2'>
    <format type='qcow2'/>
    <source dev='/dev/vg0/db1-mid'/>
    <backingStore type='block' index='1'>
      <format type='raw'/>
      <source dev='/dev/vg0/golden'/>
      <backingStore/>
    </backingStore>
  </backingStore>
  <target dev='sda' bus='scsi'/>
  <serial>DB1-DATA</serial>
  <wwn>5000c50015ea71ac</wwn>
  <alias name='scsi0-0-0-0'/>
  <address type='drive' controller='0' bus='0' target='0' unit='0'/>
</disk>
"""

LIVE_GLUSTER = """<disk type='network' device='disk'>
  <driver name='qemu' type='qcow2'/>
  <source protocol='gluster' name='gv0/web1.qcow2' index='2'>
    <host name='127.0.0.1' port='24007'/>
  </source>
  <backingStore type='network' index='1'>
    <format type='qcow2'/>
    <source protocol='gluster' name='gv0/base.qcow2'>
      <host name='127.0.0.1' port='24007'/>
    </source>
    <backingStore/>
  </backingStore>
  <target dev='vdc' bus='virtio'/>
  <alias name='virtio-disk2'/>
  <address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>
</disk>
"""

LIVE_ISCSI = """<disk type='network' device='disk'>
  <driver name='qemu' type='raw'/>
  <source protocol='iscsi' name='iqn.2026-11.test:store1/1' index='4'>
    <host name='127.0.0.1' port='3260'/>
    <auth username='chap'>
      <secret type='iscsi' usage='chap1'/>
    </auth>
  </source>
  <target dev='vdd' bus='virtio'/>
  <alias name='virtio-disk3'/>
  <address type='pci' domain='0x0000' bus='0x08' slot='0x00' function='0x0'/>
</disk>
"""

# before libvirt 3.9 <auth> sat under <disk>; libvirt still reads (and keeps) that form
OLD_AUTH_RBD = """<disk type='network' device='disk'>
  <driver name='qemu' type='raw' cache='writeback'/>
  <auth username='libvirt'>
    <secret type='ceph' uuid='0a81f5b2-8403-4f3c-a7e2-9d6e9c1f4a11'/>
  </auth>
  <source protocol='rbd' name='rbd/web1'>
    <host name='ceph1' port='6789'/>
    <host name='ceph2'/>
  </source>
  <target dev='vde' bus='virtio'/>
</disk>
"""

LIVE_CDROM = """<disk type='file' device='cdrom'>
  <driver name='qemu' type='raw'/>
  <source file='/var/lib/libvirt/isos/debian-12.iso' index='1'/>
  <backingStore/>
  <target dev='sda' bus='sata'/>
  <readonly/>
  <alias name='sata0-0-0'/>
  <address type='drive' controller='0' bus='0' target='0' unit='0'/>
</disk>
"""

LIVE_EMPTY_CDROM = """<disk type='file' device='cdrom'>
  <driver name='qemu'/>
  <target dev='sdb' bus='sata'/>
  <readonly/>
  <alias name='sata0-0-1'/>
  <address type='drive' controller='0' bus='0' target='0' unit='1'/>
</disk>
"""

CONFIG_VOLUME = """<disk type='volume' device='disk'>
  <driver name='qemu' type='qcow2'/>
  <source pool='images' volume='web1-data.qcow2'/>
  <target dev='vdb' bus='virtio'/>
  <shareable/>
  <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>
</disk>
"""

LIVE_LUN = """<disk type='block' device='lun' sgio='unfiltered' rawio='yes'>
  <driver name='qemu' type='raw'/>
  <source dev='/dev/disk/by-path/ip-127.0.0.1:3260-iscsi-iqn.2026-11.test:store1-lun-1' index='5'/>
  <backingStore/>
  <target dev='sdc' bus='scsi'/>
  <alias name='scsi0-0-0-2'/>
  <address type='drive' controller='0' bus='0' target='0' unit='2'/>
</disk>
"""

LIVE_FLOPPY = """<disk type='file' device='floppy'>
  <driver name='qemu' type='raw'/>
  <source file='/srv/boot.img' index='6'/>
  <backingStore/>
  <target dev='fda' bus='fdc'/>
  <alias name='fdc0-0-0'/>
  <address type='drive' controller='0' bus='0' target='0' unit='0'/>
</disk>
"""

# As libvirt 9.0 printed a running guest's throttled disk (setBlockIoTune, live).
LIVE_IOTUNE = """<disk type='file' device='disk'>
  <driver name='qemu' type='qcow2'/>
  <source file='/var/tmp/kvmst-probe/d.qcow2' index='1'/>
  <backingStore/>
  <target dev='vdb' bus='virtio'/>
  <iotune>
    <total_iops_sec>300</total_iops_sec>
    <group_name>grp1</group_name>
  </iotune>
  <alias name='virtio-disk1'/>
  <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
</disk>
"""


def _disk(device='disk', bus='virtio', target=None, source=None, **kw):
    """A parsed disk: every key parse() gives."""
    out = {'device': device, 'bus': bus, 'target': target, 'source': source, 'format': None, 'readonly': False,
           'shareable': False, 'serial': None, 'wwn': None, 'boot_order': None, 'sgio': None, 'rawio': None,
           'alias': None, 'backing_chain': [], 'cache': None, 'io': None, 'discard': None, 'detect_zeroes': None,
           'iothread': None, 'startup_policy': None, 'iotune': None}
    out.update(kw)
    return out


LIBVIRT_DISKS = [
    # (id, what virsh dumpxml printed, the parsed disk (source: what it must hold))
    ('overlay, chain of two', LIVE_OVERLAY,
     _disk(target='vda', source={'file': IMAGES + '/vm1.qcow2'}, format='qcow2', cache='none', discard='unmap',
           boot_order=1, alias='virtio-disk0',
           backing_chain=[{'path': IMAGES + '/mid.qcow2', 'format': 'qcow2'}, {'path': IMAGES + '/base.raw', 'format': 'raw'}])),
    ('block, chain of two, all tuning', LIVE_BLOCK_CHAIN,
     _disk(bus='scsi', target='sda', source={'block': '/dev/vg0/db1-overlay'}, format='qcow2', cache='none', io='native',
           discard='unmap', detect_zeroes='unmap', iothread=1, serial='DB1-DATA', wwn='5000c50015ea71ac',
           alias='scsi0-0-0-0',
           backing_chain=[{'path': '/dev/vg0/db1-mid', 'format': 'qcow2'}, {'path': '/dev/vg0/golden', 'format': 'raw'}])),
    ('gluster over a gluster base', LIVE_GLUSTER,
     _disk(target='vdc', format='qcow2', alias='virtio-disk2',
           source={'network': {'protocol': 'gluster', 'name': 'gv0/web1.qcow2', 'hosts': [{'name': '127.0.0.1', 'port': 24007}],
                               'auth': None}},
           backing_chain=[{'path': 'gv0/base.qcow2', 'format': 'qcow2'}])),
    ('iscsi with auth in source', LIVE_ISCSI,
     _disk(target='vdd', format='raw', alias='virtio-disk3',
           source={'network': {'protocol': 'iscsi', 'name': IQN + '/1', 'hosts': [{'name': '127.0.0.1', 'port': 3260}],
                               'auth': {'username': 'chap', 'type': 'iscsi', 'secret_usage': 'chap1'}}})),
    ('rbd with auth under disk', OLD_AUTH_RBD,
     _disk(target='vde', format='raw', cache='writeback',
           source={'network': {'protocol': 'rbd', 'name': 'rbd/web1',
                               'hosts': [{'name': 'ceph1', 'port': 6789}, {'name': 'ceph2', 'port': None}],
                               'auth': {'username': 'libvirt', 'type': 'ceph', 'secret_uuid': SECRET_UUID}}})),
    ('cdrom with media', LIVE_CDROM,
     _disk('cdrom', 'sata', 'sda', {'file': '/var/lib/libvirt/isos/debian-12.iso'}, format='raw', readonly=True,
           alias='sata0-0-0')),
    ('empty cdrom', LIVE_EMPTY_CDROM, _disk('cdrom', 'sata', 'sdb', None, readonly=True, alias='sata0-0-1')),
    ('volume in the definition', CONFIG_VOLUME,
     _disk(target='vdb', source={'volume': {'pool': 'images', 'name': 'web1-data.qcow2'}}, format='qcow2', shareable=True)),
    ('passthrough lun', LIVE_LUN,
     _disk('lun', 'scsi', 'sdc', {'block': '/dev/disk/by-path/ip-127.0.0.1:3260-iscsi-iqn.2026-11.test:store1-lun-1'},
           format='raw', sgio='unfiltered', rawio=True, alias='scsi0-0-0-2')),
    ('floppy', LIVE_FLOPPY, _disk('floppy', 'fdc', 'fda', {'file': '/srv/boot.img'}, format='raw', alias='fdc0-0-0')),
    ('throttled', LIVE_IOTUNE, _disk('disk', 'virtio', 'vdb', {'file': '/var/tmp/kvmst-probe/d.qcow2'}, format='qcow2',
                                     alias='virtio-disk1', iotune={'total_iops_sec': 300, 'group_name': 'grp1'})),
]


@pytest.mark.parametrize('case_id, text, expected', LIBVIRT_DISKS, ids=[c[0] for c in LIBVIRT_DISKS])
def test_parse_libvirt(case_id, text, expected):
    _check(_disk_xml.parse(_xml.parse(text)), expected)


@pytest.mark.parametrize('case_id, text, expected', LIBVIRT_DISKS, ids=[c[0] for c in LIBVIRT_DISKS])
def test_canonical_drops_runtime_parts(case_id, text, expected):
    element = _xml.parse(text)
    canonical = _disk_xml.canonical(element)
    stripped = _xml.parse(canonical)
    assert stripped.find('alias') is None
    assert stripped.find('address') is None
    assert stripped.find('backingStore') is None
    assert _values(stripped, 'target/@dev') == [expected['target']]
    assert _disk_xml.canonical(element) == canonical
    assert _disk_xml.parse(stripped)['source'] == _disk_xml.parse(element)['source']


def test_no_chain_without_backing_source():
    # a terminal <backingStore/> (no backing file), or none at all
    assert _disk_xml.parse(_xml.parse(LIVE_CDROM))['backing_chain'] == []
    assert _disk_xml.parse(_xml.parse(CONFIG_VOLUME))['backing_chain'] == []


DOMAIN = """<domain type='qemu' id='7'>
  <name>web1</name>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    %s%s%s%s
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <interface type='network'><source network='default'/></interface>
  </devices>
</domain>
""" % (LIVE_OVERLAY, LIVE_CDROM, LIVE_EMPTY_CDROM, LIVE_LUN)


def test_disks_of_a_domain():
    got = _disk_xml.disks(_xml.parse(DOMAIN))
    want = [('vda', 'disk', 'virtio'), ('sda', 'cdrom', 'sata'), ('sdb', 'cdrom', 'sata'), ('sdc', 'lun', 'scsi')]
    assert [(d['target'], d['device'], d['bus']) for d in got] == want
    assert [len(d['backing_chain']) for d in got] == [2, 0, 0, 0]


def test_disks_of_a_domain_without_disks():
    assert _disk_xml.disks(_xml.parse("<domain type='qemu'><name>x</name><devices/></domain>")) == []


# ---------------------------------------------------------------------------------------
# source_kind and same_source

KINDS = [
    ('file', {'file': '/a'}, 'file'),
    ('block', {'block': '/dev/sdb'}, 'block'),
    ('volume', {'volume': {'pool': 'p', 'name': 'n'}}, 'volume'),
    ('network', _network('nbd', hosts=[_host('h')]), 'network'),
    ('None values of the others', {'file': None, 'block': '/dev/sdb', 'volume': None, 'network': None}, 'block'),
    ('None', None, None),
    ('empty', {}, None),
    ('all None', {'file': None, 'block': None, 'volume': None, 'network': None}, None),
]


@pytest.mark.parametrize('case_id, source, expected', KINDS, ids=[c[0] for c in KINDS])
def test_source_kind(case_id, source, expected):
    assert _disk_xml.source_kind(source) == expected


GLUSTER = _network('gluster', 'gv0/a.qcow2', [_host('g1', 24007)])

SAME_SOURCES = [
    # (id, a, b, expected)
    ('file, same path', {'file': '/srv/a.raw'}, {'file': '/srv/a.raw'}, True),
    ('file, other path', {'file': '/srv/a.raw'}, {'file': '/srv/b.raw'}, False),
    ('file, None keys in the request', {'file': '/srv/a.raw'},
     {'file': '/srv/a.raw', 'block': None, 'volume': None, 'network': None}, True),
    ('block, same device', {'block': '/dev/vg0/a'}, {'block': '/dev/vg0/a'}, True),
    ('block, other device', {'block': '/dev/vg0/a'}, {'block': '/dev/vg0/b'}, False),
    ('file and block, same path', {'file': '/dev/vg0/a'}, {'block': '/dev/vg0/a'}, False),
    ('volume, same', {'volume': {'pool': 'images', 'name': 'a'}}, {'volume': {'pool': 'images', 'name': 'a'}}, True),
    ('volume, other pool', {'volume': {'pool': 'images', 'name': 'a'}}, {'volume': {'pool': 'other', 'name': 'a'}}, False),
    ('volume, other name', {'volume': {'pool': 'images', 'name': 'a'}}, {'volume': {'pool': 'images', 'name': 'b'}}, False),
    ('volume and file', {'volume': {'pool': 'images', 'name': 'a'}}, {'file': IMAGES + '/a'}, False),
    ('network, same', GLUSTER, _network('gluster', 'gv0/a.qcow2', [_host('g1', 24007)]), True),
    ('network, parsed against requested', {'network': {'protocol': 'gluster', 'name': 'gv0/a.qcow2',
                                                       'hosts': [{'name': 'g1', 'port': 24007}], 'auth': None}}, GLUSTER, True),
    ('gluster, host list changed', GLUSTER, _network('gluster', 'gv0/a.qcow2', [_host('g2'), _host('g1', 24007)]), True),
    ('network, other name', GLUSTER, _network('gluster', 'gv0/b.qcow2', [_host('g1', 24007)]), False),
    ('network, other protocol', _network('iscsi', IQN + '/1', [_host('h')]), _network('rbd', IQN + '/1', [_host('h')]), False),
    ('iscsi, other lun', _network('iscsi', IQN + '/1', [_host('h')]), _network('iscsi', IQN + '/2', [_host('h')]), False),
    ('iscsi, auth does not matter', _network('iscsi', IQN + '/1', [_host('h')], {'username': 'chap'}),
     _network('iscsi', IQN + '/1', [_host('h')], _auth('iscsi', usage='chap1')), True),
    ('nbd, same host', _network('nbd', hosts=[_host('h', 10809)]), _network('nbd', hosts=[_host('h', 10809)]), True),
    ('nbd, parsed against requested', {'network': {'protocol': 'nbd', 'name': None, 'hosts': [{'name': 'h', 'port': 10809}],
                                                   'auth': None}}, _network('nbd', hosts=[_host('h', 10809, 'tcp')]), True),
    ('nbd, other server', _network('nbd', hosts=[_host('nbd1', 10809)]), _network('nbd', hosts=[_host('nbd2', 10809)]), False),
    ('nbd, servers in another order', _network('nbd', 'exp', [_host('a'), _host('b')]),
     _network('nbd', 'exp', [_host('b'), _host('a')]), True),
    ('http, same server', _network('http', '/a.iso', [_host('m1', 80)]), _network('http', '/a.iso', [_host('m1', 80)]), True),
    ('https, other port', _network('https', '/a.iso', [_host('m1', 443)]), _network('https', '/a.iso', [_host('m1', 8443)]),
     False),
    ('rbd, other monitors: same image', _network('rbd', 'rbd/web1', [_host('ceph1')]), _network('rbd', 'rbd/web1', [_host('ceph2')]),
     True),
    ('network and file', _network('http', '/a.iso', [_host('h')]), {'file': '/a.iso'}, False),
    ('None and file', None, {'file': '/a'}, False),
    ('file and None', {'file': '/a'}, None, False),
    ('None and None', None, None, False),
    ('empty and empty', {}, {}, False),
]


@pytest.mark.parametrize('case_id, a, b, expected', SAME_SOURCES, ids=[c[0] for c in SAME_SOURCES])
def test_same_source(case_id, a, b, expected):
    for one, other in ((a, b), (b, a)):     # the comparison is symmetric
        assert _disk_xml.same_source(one, other) is expected


HOST_IS_IDENTITY = [
    # (id, a, b): sources that only differ in their server are different storage
    ('nbd without name, other server', _network('nbd', hosts=[_host('nbd1', 10809)]), _network('nbd', hosts=[_host('nbd2', 10809)])),
    ('nbd without name, other port', _network('nbd', hosts=[_host('h', 10809)]), _network('nbd', hosts=[_host('h', 10810)])),
    ('http, same path on another server', _network('http', '/isos/a.iso', [_host('mirror1')]),
     _network('http', '/isos/a.iso', [_host('mirror2')])),
]


@pytest.mark.parametrize('case_id, a, b', HOST_IS_IDENTITY, ids=[c[0] for c in HOST_IS_IDENTITY])
def test_same_source_servers(case_id, a, b):
    assert not _disk_xml.same_source(a, b)
    assert not _disk_xml.same_source(copy.deepcopy(b), copy.deepcopy(a))


@pytest.mark.parametrize('text', [LIVE_ISCSI, OLD_AUTH_RBD], ids=['iscsi', 'rbd'])
def test_auth_secret_survives_parse(text):
    element = _xml.parse(text)
    original = element.find('.//auth/secret')
    rebuilt = _disk_xml.build(_disk_xml.parse(element)).find('source/auth/secret')
    assert dict(rebuilt.attrib) == dict(original.attrib)


AUTHS = [
    # (id, what libvirt printed, the auth parse() gives, exactly)
    ('iscsi by usage, in source', LIVE_ISCSI, {'username': 'chap', 'type': 'iscsi', 'secret_usage': 'chap1'}),
    ('rbd by uuid, under disk', OLD_AUTH_RBD, {'username': 'libvirt', 'type': 'ceph', 'secret_uuid': SECRET_UUID}),
    ('no auth', LIVE_GLUSTER, None),
]


@pytest.mark.parametrize('case_id, text, expected', AUTHS, ids=[c[0] for c in AUTHS])
def test_parse_auth(case_id, text, expected):
    assert _disk_xml.parse(_xml.parse(text))['source']['network']['auth'] == expected


def test_host_transport_survives_parse():
    text = ("<disk type='network' device='disk'><source protocol='gluster' name='gv0/a.qcow2'>"
            "<host name='g1' port='24007' transport='rdma'/></source><target dev='vdb' bus='virtio'/></disk>")
    hosts = _disk_xml.parse(_xml.parse(text))['source']['network']['hosts']
    assert [h.get('transport') for h in hosts] == ['rdma']
    assert hosts == [{'name': 'g1', 'port': 24007, 'transport': 'rdma'}]


def test_no_transport_no_key():
    assert _disk_xml.parse(_xml.parse(LIVE_GLUSTER))['source']['network']['hosts'] == [{'name': '127.0.0.1', 'port': 24007}]
