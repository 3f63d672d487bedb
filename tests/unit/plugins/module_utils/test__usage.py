# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who uses which storage: guests' disks (virsh dumpxml) and backing chains, as tables."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _usage
from ansible_collections.kvm.storage.plugins.module_utils import _usage_adapter
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._usage import Usage, backing_paths, disk_sources
from ansible_collections.kvm.storage.plugins.module_utils._volume import PoolView, World, plan, requests_from_params

IMAGES = '/var/lib/libvirt/images'


def domain(*disks, name='web'):
    """A domain definition as virsh dumpxml prints it, with these <disk> elements."""
    return """<domain type='kvm' id='3'>
  <name>%s</name>
  <uuid>0d1b6f4e-3c1a-4b7e-9f0e-5a6c2d8e1f00</uuid>
  <memory unit='KiB'>2097152</memory>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
%s
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <interface type='network'>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
""" % (name, '\n'.join(disks))


FILE_DISK = """    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='/var/lib/libvirt/images/web.qcow2' index='2'/>
      <backingStore type='file' index='3'>
        <format type='qcow2'/>
        <source file='/var/lib/libvirt/images/debian12.qcow2'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>"""

BLOCK_DISK = """    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source dev='/dev/vg_guests/web-data'/>
      <target dev='vdb' bus='virtio'/>
    </disk>"""

VOLUME_DISK = """    <disk type='volume' device='disk'>
      <driver name='qemu' type='raw'/>
      <source pool='images' volume='web-logs.img'/>
      <target dev='sda' bus='scsi'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>"""

GLUSTER_DISK = """    <disk type='network' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source protocol='gluster' name='gv0/vms/web-shared.qcow2'>
        <host name='gluster1.example.com' port='24007'/>
      </source>
      <target dev='vdc' bus='virtio'/>
    </disk>"""

ISCSI_DISK = """    <disk type='network' device='lun'>
      <driver name='qemu' type='raw'/>
      <source protocol='iscsi' name='iqn.2024-01.com.example:storage.lun1/1'>
        <host name='192.0.2.10' port='3260'/>
        <auth username='admin'>
          <secret type='iscsi' usage='libvirtiscsi'/>
        </auth>
      </source>
      <target dev='sdb' bus='scsi'/>
    </disk>"""

EMPTY_CDROM = """    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <target dev='sdc' bus='sata'/>
      <readonly/>
    </disk>"""

ISO_CDROM = """    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/srv/isos/debian-12.5.0-amd64-netinst.iso'/>
      <target dev='sdd' bus='sata'/>
      <readonly/>
    </disk>"""

NO_TARGET = """    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/orphan.img'/>
    </disk>"""

NVME_DISK = """    <disk type='nvme' device='disk'>
      <driver name='qemu' type='raw'/>
      <source type='pci' managed='yes' namespace='1'>
        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
      </source>
      <target dev='vde' bus='virtio'/>
    </disk>"""

FLOPPY = """    <disk type='file' device='floppy'>
      <source file='/srv/floppy/drivers.img'/>
      <target dev='fda' bus='fdc'/>
    </disk>"""

DISK_CASES = [
    # (id, <disk> elements, expected disk_sources)
    ('file with a backing chain', [FILE_DISK],
     [{'kind': 'file', 'target': 'vda', 'path': IMAGES + '/web.qcow2'}]),
    ('block', [BLOCK_DISK], [{'kind': 'block', 'target': 'vdb', 'path': '/dev/vg_guests/web-data'}]),
    ('pool volume', [VOLUME_DISK], [{'kind': 'volume', 'target': 'sda', 'pool': 'images', 'volume': 'web-logs.img'}]),
    ('gluster', [GLUSTER_DISK],
     [{'kind': 'network', 'target': 'vdc', 'protocol': 'gluster', 'name': 'gv0/vms/web-shared.qcow2',
       'hosts': [('gluster1.example.com', '24007')]}]),
    ('iscsi lun', [ISCSI_DISK],
     [{'kind': 'network', 'target': 'sdb', 'protocol': 'iscsi', 'name': 'iqn.2024-01.com.example:storage.lun1/1',
       'hosts': [('192.0.2.10', '3260')]}]),
    ('empty cdrom skipped', [EMPTY_CDROM], []),
    ('cdrom with media', [ISO_CDROM],
     [{'kind': 'file', 'target': 'sdd', 'path': '/srv/isos/debian-12.5.0-amd64-netinst.iso'}]),
    ('no target', [NO_TARGET], [{'kind': 'file', 'target': None, 'path': IMAGES + '/orphan.img'}]),
    ('nvme skipped', [NVME_DISK], []),
    ('floppy', [FLOPPY], [{'kind': 'file', 'target': 'fda', 'path': '/srv/floppy/drivers.img'}]),
    ('no disks', [], []),
    ('all, in order', [FILE_DISK, EMPTY_CDROM, BLOCK_DISK, VOLUME_DISK, NVME_DISK, GLUSTER_DISK, ISCSI_DISK, NO_TARGET],
     [{'kind': 'file', 'target': 'vda', 'path': IMAGES + '/web.qcow2'},
      {'kind': 'block', 'target': 'vdb', 'path': '/dev/vg_guests/web-data'},
      {'kind': 'volume', 'target': 'sda', 'pool': 'images', 'volume': 'web-logs.img'},
      {'kind': 'network', 'target': 'vdc', 'protocol': 'gluster', 'name': 'gv0/vms/web-shared.qcow2',
       'hosts': [('gluster1.example.com', '24007')]},
      {'kind': 'network', 'target': 'sdb', 'protocol': 'iscsi', 'name': 'iqn.2024-01.com.example:storage.lun1/1',
       'hosts': [('192.0.2.10', '3260')]},
      {'kind': 'file', 'target': None, 'path': IMAGES + '/orphan.img'}]),
]


@pytest.mark.parametrize('case_id, disks, expected', DISK_CASES, ids=[c[0] for c in DISK_CASES])
def test_disk_sources(case_id, disks, expected):
    assert disk_sources(_xml.parse(domain(*disks))) == expected


def test_disk_sources_of_an_inactive_definition():
    # virsh dumpxml --inactive: no ids, aliases or backing chains; same answer.
    text = domain(FILE_DISK).replace(" id='3'", '').replace(" index='2'", '')
    assert disk_sources(_xml.parse(text)) == [{'kind': 'file', 'target': 'vda', 'path': IMAGES + '/web.qcow2'}]


def test_disk_sources_only_devices():
    # A <disk> outside <devices> (here in metadata) is not a disk of the guest.
    text = domain(BLOCK_DISK).replace('<os>', "<metadata><disk type='file'><source file='/x'/></disk></metadata>\n  <os>")
    assert [d['path'] for d in disk_sources(_xml.parse(text))] == ['/dev/vg_guests/web-data']


BACKING_CASES = [
    ("<volume><name>a</name><backingStore><path>/b.qcow2</path><format type='qcow2'/></backingStore></volume>",
     ['/b.qcow2']),
    ('<volume><name>a</name><backingStore/></volume>', []),
    ('<volume><name>a</name><backingStore><path></path></backingStore></volume>', []),
    ('<volume><name>a</name></volume>', []),
]


@pytest.mark.parametrize('text, expected', BACKING_CASES, ids=range(len(BACKING_CASES)))
def test_backing_paths(text, expected):
    assert backing_paths(_xml.parse(text)) == expected


# ---------------------------------------------------------------------------------------
# Usage.users_of: direct users and users through volumes backed by the path

TEMPLATE = IMAGES + '/debian12.qcow2'
OVERLAY = IMAGES + '/web.qcow2'
OVERLAY2 = IMAGES + '/db.qcow2'
SNAP = IMAGES + '/web-snap.qcow2'

USERS_CASES = [
    # (id, users, children, path, expected)
    ('unknown path', {}, {}, '/nowhere', []),
    ('direct user', {OVERLAY: ['web']}, {}, OVERLAY, ['web']),
    ('direct users sorted', {OVERLAY: ['web', 'db', 'app']}, {}, OVERLAY, ['app', 'db', 'web']),
    ('template -> overlay -> guest', {OVERLAY: ['web']}, {TEMPLATE: [OVERLAY]}, TEMPLATE, ['web']),
    ('template -> two overlays', {OVERLAY: ['web'], OVERLAY2: ['db']}, {TEMPLATE: [OVERLAY, OVERLAY2]}, TEMPLATE,
     ['db', 'web']),
    ('three levels', {SNAP: ['web']}, {TEMPLATE: [OVERLAY], OVERLAY: [SNAP]}, TEMPLATE, ['web']),
    ('users at every level', {TEMPLATE: ['rescue'], OVERLAY: ['web'], SNAP: ['web', 'test']},
     {TEMPLATE: [OVERLAY], OVERLAY: [SNAP]}, TEMPLATE, ['rescue', 'test', 'web']),
    ('not upwards', {TEMPLATE: ['rescue']}, {TEMPLATE: [OVERLAY]}, OVERLAY, []),
    ('middle of a chain', {TEMPLATE: ['rescue'], SNAP: ['web']}, {TEMPLATE: [OVERLAY], OVERLAY: [SNAP]}, OVERLAY,
     ['web']),
    ('backing without users', {}, {TEMPLATE: [OVERLAY]}, TEMPLATE, []),
    ('guest on two branches once', {OVERLAY: ['web'], OVERLAY2: ['web']}, {TEMPLATE: [OVERLAY, OVERLAY2]}, TEMPLATE,
     ['web']),
    ('diamond', {SNAP: ['web']}, {TEMPLATE: [OVERLAY, OVERLAY2], OVERLAY: [SNAP], OVERLAY2: [SNAP]}, TEMPLATE, ['web']),
    ('cycle', {OVERLAY: ['web']}, {TEMPLATE: [OVERLAY], OVERLAY: [TEMPLATE]}, TEMPLATE, ['web']),
    ('cycle, from the other end', {TEMPLATE: ['rescue']}, {TEMPLATE: [OVERLAY], OVERLAY: [TEMPLATE]}, OVERLAY,
     ['rescue']),
    ('self loop', {TEMPLATE: ['web']}, {TEMPLATE: [TEMPLATE]}, TEMPLATE, ['web']),
    ('long cycle', {'/p7': ['g7']}, dict(('/p%d' % i, ['/p%d' % ((i + 1) % 10)]) for i in range(10)), '/p0', ['g7']),
]


@pytest.mark.parametrize('case_id, users, children, path, expected', USERS_CASES, ids=[c[0] for c in USERS_CASES])
def test_users_of(case_id, users, children, path, expected):
    assert Usage.from_tables(users, children).users_of(path) == expected


def test_add_user_once():
    usage = Usage()
    for path, name in ((OVERLAY, 'web'), (OVERLAY, 'db'), (OVERLAY, 'web'), (TEMPLATE, 'web')):
        usage.add_user(path, name)
    assert usage.users_of(OVERLAY) == ['db', 'web'] and usage.users_of(TEMPLATE) == ['web']


# ---------------------------------------------------------------------------------------
# Identity: one storage under many names. keys_of stands in for _identity.keys with stat.

LINKED = '/srv/big/images'          # /var/lib/libvirt/images -> /srv/big/images
INODE = ('inode', 2049, 77)
DM = ('rdev', 253, 3)
ALIASES = {
    # every spelling of the overlay's file
    IMAGES + '/web.qcow2': {('path', LINKED + '/web.qcow2'), INODE},
    LINKED + '/web.qcow2': {('path', LINKED + '/web.qcow2'), INODE},
    IMAGES + '//web.qcow2': {('path', LINKED + '/web.qcow2'), INODE},
    IMAGES + '/./web.qcow2': {('path', LINKED + '/web.qcow2'), INODE},
    '/srv/hardlink.qcow2': {('path', '/srv/hardlink.qcow2'), INODE},
    # every alias of an active LV
    '/dev/vg0/data': {('path', '/dev/dm-3'), DM, ('lv', 'vg0', 'data')},
    '/dev/mapper/vg0-data': {('path', '/dev/dm-3'), DM, ('lv', 'vg0', 'data')},
    '/dev/dm-3': {('path', '/dev/dm-3'), DM, ('lv', 'vg0', 'data')},
    '/dev/disk/by-id/dm-name-vg0-data': {('path', '/dev/dm-3'), DM, ('lv', 'vg0', 'data')},
    # an inactive thin LV: no device node, known by its names alone
    '/dev/disk/by-id/dm-name-vg0-thin1': {('path', '/dev/disk/by-id/dm-name-vg0-thin1'), ('lv', 'vg0', 'thin1')},
    '/dev/vg0/thin1': {('path', '/dev/vg0/thin1'), ('lv', 'vg0', 'thin1')},
}


def _keys_of(path):
    return frozenset(ALIASES.get(path, {('path', path)}))


IDENTITY_CASES = [
    # (id, users {name a guest gives: [guests]}, children {backing name: [overlay names]}, asked, users_of)
    ('symlinked folder', {IMAGES + '/web.qcow2': ['web']}, {}, LINKED + '/web.qcow2', ['web']),
    ('double slash', {IMAGES + '//web.qcow2': ['web']}, {}, IMAGES + '/web.qcow2', ['web']),
    ('dot segment', {IMAGES + '/./web.qcow2': ['web']}, {}, LINKED + '/web.qcow2', ['web']),
    ('hard link', {'/srv/hardlink.qcow2': ['web']}, {}, IMAGES + '/web.qcow2', ['web']),
    ('mapper name of a pool LV', {'/dev/mapper/vg0-data': ['db']}, {}, '/dev/vg0/data', ['db']),
    ('by-id name of a pool LV', {'/dev/disk/by-id/dm-name-vg0-data': ['db']}, {}, '/dev/vg0/data', ['db']),
    ('dm node', {'/dev/dm-3': ['db']}, {}, '/dev/mapper/vg0-data', ['db']),
    ('inactive thin LV by its by-id name', {'/dev/disk/by-id/dm-name-vg0-thin1': ['web']}, {}, '/dev/vg0/thin1',
     ['web']),
    ('backing named through the link', {'/srv/o.qcow2': ['web']}, {LINKED + '/web.qcow2': ['/srv/o.qcow2']},
     IMAGES + '/web.qcow2', ['web']),
    ('thin LV as a backing file', {'/srv/o.qcow2': ['web']}, {'/dev/vg0/thin1': ['/srv/o.qcow2']},
     '/dev/disk/by-id/dm-name-vg0-thin1', ['web']),
    ('other file', {IMAGES + '/web.qcow2': ['web']}, {}, IMAGES + '/db.qcow2', []),
    ('other LV', {'/dev/mapper/vg0-data': ['db']}, {}, '/dev/vg0/thin1', []),
]


@pytest.mark.parametrize('case_id, users, children, asked, expected', IDENTITY_CASES,
                         ids=[c[0] for c in IDENTITY_CASES])
def test_users_by_identity(case_id, users, children, asked, expected):
    usage = Usage(keys_of=_keys_of)
    for name, guests in users.items():
        for guest in guests:
            usage.add_user(name, guest)
    for parent, kids in children.items():
        for kid in kids:
            usage.add_child(parent, kid)
    assert usage.users_of(asked) == expected


def test_backing_of_by_identity_and_deleted():
    usage = Usage(keys_of=_keys_of)
    usage.add_volume_chain(['/srv/o1.qcow2', IMAGES + '//web.qcow2'])
    usage.add_volume_chain(['/srv/o2.qcow2', LINKED + '/web.qcow2'])
    assert usage.backing_of(IMAGES + '/web.qcow2') == ['/srv/o1.qcow2', '/srv/o2.qcow2']
    assert usage.backing_of(IMAGES + '/web.qcow2', deleted=['/srv/o1.qcow2']) == ['/srv/o2.qcow2']


def test_guest_chain_holds_every_link_and_says_through_what():
    usage = Usage(keys_of=_keys_of)
    # a defined guest whose overlay sits outside any pool: the chain comes from the header
    usage.add_guest_chain('web', False, ['/srv/o.qcow2', IMAGES + '/web.qcow2', '/dev/vg0/thin1'])
    assert usage.users_of('/dev/disk/by-id/dm-name-vg0-thin1') == ['web']
    assert usage.running_users_of(IMAGES + '/web.qcow2') == []
    assert usage.backing_of(LINKED + '/web.qcow2') == ['/srv/o.qcow2']
    assert usage.holders_text(_keys_of('/dev/vg0/thin1')) == 'web (through /srv/o.qcow2)'
    usage.add_guest_chain('web', True, [IMAGES + '/web.qcow2'])
    assert usage.running_users_of(LINKED + '/web.qcow2') == ['web']
    assert usage.holders_text(_keys_of(IMAGES + '/web.qcow2')) == 'web'


SOURCE_CASES = [
    ('file', "<disk type='file'><source file='/a'/></disk>", '/a'),
    ('block', "<disk type='block'><source dev='/dev/sdb'/></disk>", '/dev/sdb'),
    ('gluster', "<disk type='network'><source protocol='gluster' name='/gv0/a.qcow2'><host name='h'/></source></disk>",
     'gluster://-/gv0/a.qcow2'),
    ('volume', "<disk type='volume'><source pool='p' volume='v'/></disk>", None),
    ('no source', "<disk type='file'/>", None),
]


@pytest.mark.parametrize('case_id, text, expected', SOURCE_CASES, ids=[c[0] for c in SOURCE_CASES])
def test_source_path(case_id, text, expected):
    disk = _xml.parse(text)
    assert _usage.source_path(disk.get('type'), disk.find('source')) == expected


def test_xml_backing_chain():
    disk = _xml.parse(FILE_DISK.strip())
    assert _usage.xml_backing_chain(disk) == [TEMPLATE]
    assert _usage.xml_backing_chain(_xml.parse(BLOCK_DISK.strip())) == []


# ---------------------------------------------------------------------------------------
# read_usage over a fake connection (plain objects, no libvirt): the keys must match the
# paths the volume planner looks up.

class _FakeLibvirt(object):
    VIR_DOMAIN_XML_INACTIVE = 2

    class libvirtError(Exception):
        pass


class _Dom(object):
    def __init__(self, name, live=None, inactive=None):
        self._name, self._live, self._inactive = name, live, inactive

    def name(self):
        return self._name

    def isActive(self):
        return self._live is not None

    def isPersistent(self):
        return self._inactive is not None

    def XMLDesc(self, flags):
        return self._inactive if flags == _FakeLibvirt.VIR_DOMAIN_XML_INACTIVE else self._live


class _Vol(object):
    def __init__(self, xml):
        self._xml = xml

    def XMLDesc(self, flags):
        return self._xml

    def path(self):
        return _xml.parse(self._xml).findtext('target/path')


class _Pool(object):
    def __init__(self, name, vols, active=True, target=None):
        self._name, self._vols, self._active, self._target = name, vols, active, target

    def name(self):
        return self._name

    def XMLDesc(self, flags):
        return "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" % (
            self._name, self._target or '/nowhere')

    def isActive(self):
        return self._active

    def listAllVolumes(self, flags):
        return list(self._vols.values())

    def storageVolLookupByName(self, name):
        if name not in self._vols or not self._active:
            raise _FakeLibvirt.libvirtError('no volume %s' % name)
        return self._vols[name]


class _Conn(object):
    def __init__(self, domains, pools):
        self._domains, self._pools = domains, pools

    def listAllDomains(self, flags):
        return self._domains

    def listAllStoragePools(self, flags):
        return list(self._pools.values())

    def storagePoolLookupByName(self, name):
        if name not in self._pools:
            raise _FakeLibvirt.libvirtError('no pool %s' % name)
        return self._pools[name]


def _vol_xml(path, backing=None):
    back = "<backingStore><path>%s</path><format type='qcow2'/></backingStore>" % backing if backing else ''
    return "<volume type='file'><name>%s</name><target><path>%s</path></target>%s</volume>" % (
        path.rsplit('/', 1)[-1], path, back)


@pytest.fixture
def fake_libvirt(monkeypatch):
    monkeypatch.setattr(_libvirt, 'libvirt', _FakeLibvirt)


def _conn():
    images = _Pool('images', dict((p.rsplit('/', 1)[-1], _Vol(_vol_xml(p, b))) for p, b in (
        (TEMPLATE, None), (OVERLAY, TEMPLATE), (IMAGES + '/web-logs.img', None))))
    gluster = _Pool('gv', {'web-shared.qcow2': _Vol(
        "<volume type='network'><name>web-shared.qcow2</name>"
        "<target><path>gluster://gluster1.example.com/gv0/vms/web-shared.qcow2</path></target></volume>")})
    stopped = _Pool('stopped', {'x.img': _Vol(_vol_xml('/srv/x.img', TEMPLATE))}, active=False)
    domains = [
        _Dom('web', live=domain(FILE_DISK, VOLUME_DISK, GLUSTER_DISK), inactive=domain(FILE_DISK, VOLUME_DISK)),
        _Dom('db', inactive=domain(BLOCK_DISK, EMPTY_CDROM, name='db')),
        _Dom('gone', live=domain("    <disk type='volume'><source pool='nopool' volume='v'/></disk>", name='gone')),
    ]
    return _Conn(domains, {'images': images, 'gv': gluster, 'stopped': stopped})


READ_USAGE_CASES = [
    # (id, path, users_of)
    ('file disk', OVERLAY, ['web']),
    ('pool volume disk, resolved to its path', IMAGES + '/web-logs.img', ['web']),
    ('block disk of a defined guest', '/dev/vg_guests/web-data', ['db']),
    ('template through its overlay', TEMPLATE, ['web']),
]


@pytest.mark.parametrize('case_id, path, expected', READ_USAGE_CASES, ids=[c[0] for c in READ_USAGE_CASES])
def test_read_usage(fake_libvirt, case_id, path, expected):
    usage = _usage_adapter.read_usage(_conn())
    assert usage.users_of(path) == expected


def test_read_usage_unresolved_volume(fake_libvirt):
    # A disk on a volume whose pool is gone names no path: it is left out, not keyed None.
    usage = _usage_adapter.read_usage(_conn())
    assert all('gone' not in guests for guests in usage._guests.values())  # pylint: disable=protected-access


def test_read_usage_children(fake_libvirt):
    usage = _usage_adapter.read_usage(_conn())
    # a remote-like connection (no local URI): the stopped pool cannot be read
    assert usage.backing_of(TEMPLATE) == [OVERLAY]
    assert usage.users_of(OVERLAY) == ['web'] and usage.running_users_of(OVERLAY) == ['web']


def test_read_usage_volume_of_a_stopped_pool(fake_libvirt):
    # A defined guest's disk on a volume of a stopped pool: libvirt cannot look the volume
    # up, the pool's folder says where it is.
    conn = _conn()
    conn._pools['stopped']._target = '/srv/stopped'  # pylint: disable=protected-access
    conn._domains.append(_Dom('cold', inactive=domain(  # pylint: disable=protected-access
        "    <disk type='volume'><source pool='stopped' volume='x.img'/><target dev='vda'/></disk>", name='cold')))
    assert _usage_adapter.read_usage(conn).users_of('/srv/stopped/x.img') == ['cold']


def test_read_usage_known_pools(fake_libvirt):
    known = {'images': {'web.qcow2': {'path': OVERLAY, 'backing': {'path': TEMPLATE, 'format': 'qcow2'}},
                        'debian12.qcow2': {'path': TEMPLATE, 'backing': None}}}
    usage = _usage_adapter.read_usage(_conn(), known_pools=known)
    assert usage.backing_of(TEMPLATE) == [OVERLAY]
    assert usage.users_of(TEMPLATE) == ['web']


def test_gluster_volume_in_use_not_deleted(fake_libvirt):
    usage = _usage_adapter.read_usage(_conn())
    path = 'gluster://gluster1.example.com/gv0/vms/web-shared.qcow2'
    model = {'name': 'web-shared.qcow2', 'type': 'network', 'key': 'gv0/vms/web-shared.qcow2', 'path': path,
             'format': 'qcow2', 'capacity': 1, 'allocation': 1, 'physical': 1, 'backing': None, 'encryption': None,
             'permissions': None}
    pools = {'gv': PoolView('gv', 'gluster', True, None, {'web-shared.qcow2': model},
                            source_hosts=['gluster1.example.com'], source_name='gv0', source_dir='/vms')}
    p = {'name': 'web-shared.qcow2', 'pool': 'gv', 'state': 'absent', 'volumes': None}
    with pytest.raises(KvmStorageError) as exc:
        plan(requests_from_params(p), World(pools, usage=usage))
    assert 'web' in exc.value.msg
