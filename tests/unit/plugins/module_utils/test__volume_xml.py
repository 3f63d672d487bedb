# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Volume definitions: model -> XML -> model, and what libvirt prints (virsh vol-dumpxml)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _volume_xml
from ansible_collections.kvm.storage.plugins.module_utils import _xml

GiB = 1024 ** 3
SECRET_UUID = '6d1e3b2c-9a44-4f0e-8c1d-2f5a7b9e0c31'
IMAGES = '/var/lib/libvirt/images'


def _model(name, capacity=10 * GiB, allocation=None, fmt=None, permissions=None, backing=None, encryption=None,
           compat=None, cluster_size=None, lazy_refcounts=None):
    return {'name': name, 'capacity': capacity, 'allocation': allocation, 'format': fmt, 'permissions': permissions,
            'backing': backing, 'encryption': encryption, 'compat': compat, 'cluster_size': cluster_size,
            'lazy_refcounts': lazy_refcounts}


def _parsed(name, capacity=10 * GiB, allocation=None, fmt=None, permissions=None, backing=None, encryption=None,
            compat=None, cluster_size=None, lazy_refcounts=None):
    """What parse() gives for an element that build() made from the same arguments."""
    if permissions is not None:
        permissions = dict({'mode': None, 'owner': None, 'group': None, 'label': None}, **permissions)
    if encryption is not None:
        encryption = dict({'format': 'luks'}, **encryption)
    return {'name': name, 'type': None, 'key': None, 'path': None, 'format': fmt, 'capacity': capacity,
            'allocation': allocation, 'physical': None, 'backing': backing, 'encryption': encryption,
            'permissions': permissions, 'compat': (compat or '1.1') if fmt == 'qcow2' else None,
            'cluster_size': cluster_size if fmt == 'qcow2' else None,
            'lazy_refcounts': bool(lazy_refcounts) if fmt == 'qcow2' else None}


ROUND_TRIPS = [
    # (id, keyword arguments of the model, {xpath: expected values} in the built element)
    ('raw', dict(name='a.img', fmt='raw', allocation=0),
     {'name': ['a.img'], 'capacity': [str(10 * GiB)], 'capacity/@unit': ['bytes'], 'allocation': ['0'],
      'allocation/@unit': ['bytes'], 'target/format/@type': ['raw'], 'target/compat': [], 'backingStore': [],
      'target/permissions': [], 'target/encryption': []}),
    ('raw preallocated', dict(name='a.img', fmt='raw', allocation=10 * GiB), {'allocation': [str(10 * GiB)]}),
    ('no allocation', dict(name='a.img', fmt='raw'), {'allocation': [], 'capacity': [str(10 * GiB)]}),
    ('no format (an LV)', dict(name='lv0', capacity=GiB, allocation=GiB),
     {'target/format': [], 'target/compat': [], 'target': ['']}),
    ('qcow2 is v3', dict(name='a.qcow2', fmt='qcow2', allocation=0),
     {'target/format/@type': ['qcow2'], 'target/compat': ['1.1']}),
    ('vmdk has no compat', dict(name='a.vmdk', fmt='vmdk'), {'target/compat': []}),
    ('qcow2 options', dict(name='a.qcow2', fmt='qcow2', compat='1.1', cluster_size=2 * 1024 ** 2, lazy_refcounts=True),
     {'target/compat': ['1.1'], 'target/clusterSize': [str(2 * 1024 ** 2)], 'target/clusterSize/@unit': ['B'],
      'target/features/*': ['lazy_refcounts']}),
    ('qcow2 compat 0.10', dict(name='a.qcow2', fmt='qcow2', compat='0.10', lazy_refcounts=False),
     {'target/compat': ['0.10'], 'target/clusterSize': [], 'target/features': []}),
    ('qcow2 options ignored for raw', dict(name='a.img', fmt='raw', compat='0.10', cluster_size=65536,
                                           lazy_refcounts=True),
     {'target/compat': [], 'target/clusterSize': [], 'target/features': []}),
    ('odd capacity', dict(name='a.img', fmt='raw', capacity=1000000007), {'capacity': ['1000000007']}),
    ('overlay', dict(name='vm.qcow2', fmt='qcow2', allocation=0,
                     backing={'path': IMAGES + '/base.qcow2', 'format': 'qcow2'}),
     {'backingStore/path': [IMAGES + '/base.qcow2'], 'backingStore/format/@type': ['qcow2'],
      'target/compat': ['1.1']}),
    ('overlay of a raw image', dict(name='vm.qcow2', fmt='qcow2', backing={'path': '/dev/vg0/tmpl', 'format': 'raw'}),
     {'backingStore/path': ['/dev/vg0/tmpl'], 'backingStore/format/@type': ['raw']}),
    ('overlay over gluster', dict(name='vm.qcow2', fmt='qcow2',
                                  backing={'path': 'gluster://g1/gv0/base.qcow2', 'format': 'qcow2'}),
     {'backingStore/path': ['gluster://g1/gv0/base.qcow2']}),
    ('luks qcow2', dict(name='s.qcow2', fmt='qcow2', encryption={'format': 'luks', 'secret_uuid': SECRET_UUID}),
     {'target/encryption/@format': ['luks'], 'target/encryption/secret/@type': ['passphrase'],
      'target/encryption/secret/@uuid': [SECRET_UUID], 'target/compat': ['1.1']}),
    ('luks raw, format by default', dict(name='s.img', fmt='raw', encryption={'secret_uuid': SECRET_UUID}),
     {'target/encryption/@format': ['luks'], 'target/encryption/secret/@uuid': [SECRET_UUID]}),
    ('permissions', dict(name='a.img', fmt='raw', permissions={'mode': '0600', 'owner': '107', 'group': '107',
                                                               'label': 'system_u:object_r:virt_image_t:s0'}),
     {'target/permissions/mode': ['0600'], 'target/permissions/owner': ['107'], 'target/permissions/group': ['107'],
      'target/permissions/label': ['system_u:object_r:virt_image_t:s0']}),
    ('mode only', dict(name='a.img', fmt='raw', permissions={'mode': '0644'}),
     {'target/permissions/mode': ['0644'], 'target/permissions/owner': [], 'target/permissions/group': []}),
    ('everything', dict(name='all.qcow2', fmt='qcow2', allocation=0, permissions={'mode': '0640', 'group': '36'},
                        backing={'path': '/srv/t.qcow2', 'format': 'qcow2'},
                        encryption={'format': 'luks', 'secret_uuid': SECRET_UUID}),
     {'target/*': ['format', 'permissions', 'compat', 'encryption'], 'backingStore/path': ['/srv/t.qcow2'],
      '*': ['name', 'capacity', 'allocation', 'target', 'backingStore']}),
]


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


@pytest.mark.parametrize('case_id, kw, expected', ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_build(case_id, kw, expected):
    element = _volume_xml.build(_model(**kw))
    assert element.tag == 'volume'
    for xpath, values in expected.items():
        assert _values(element, xpath) == values, xpath


@pytest.mark.parametrize('case_id, kw, expected', ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_round_trip(case_id, kw, expected):
    element = _volume_xml.build(_model(**kw))
    assert _volume_xml.parse(element) == _parsed(**kw)
    # through text, as libvirt receives it
    again = _xml.parse(_xml.to_string(element, pretty=False))
    assert _volume_xml.parse(again) == _parsed(**kw)
    # parse -> build gives the same definition back
    rebuilt = _volume_xml.build(_volume_xml.parse(element))
    assert _volume_xml.canonical(rebuilt) == _volume_xml.canonical(element)


def test_build_does_not_change_the_model():
    model = _model('vm.qcow2', fmt='qcow2', permissions={'mode': '0600', 'owner': None},
                   backing={'path': '/b', 'format': 'raw'})
    before = copy.deepcopy(model)
    _volume_xml.build(model)
    assert model == before


@pytest.mark.parametrize('name', ['a&b.img', 'a<b>.img', "it's \"quoted\".img", 'caf\u00e9.img'])
def test_build_escapes_names(name):
    element = _volume_xml.build(_model(name, fmt='raw'))
    assert _volume_xml.parse(_xml.parse(_xml.to_string(element)))['name'] == name


# ---------------------------------------------------------------------------------------
# What libvirt prints

DIR_FILE = """<volume type='file'>
  <name>web.img</name>
  <key>/var/lib/libvirt/images/web.img</key>
  <capacity unit='bytes'>21474836480</capacity>
  <allocation unit='bytes'>1708232704</allocation>
  <physical unit='bytes'>21474836480</physical>
  <target>
    <path>/var/lib/libvirt/images/web.img</path>
    <format type='raw'/>
    <permissions>
      <mode>0600</mode>
      <owner>64055</owner>
      <group>64055</group>
      <label>system_u:object_r:svirt_image_t:s0:c12,c345</label>
    </permissions>
    <timestamps>
      <atime>1717400000.123456789</atime>
      <mtime>1717400100.223456789</mtime>
      <ctime>1717400100.223456789</ctime>
      <btime>0</btime>
    </timestamps>
  </target>
</volume>
"""

OVERLAY = """<volume type='file'>
  <name>vm1.qcow2</name>
  <key>/var/lib/libvirt/images/vm1.qcow2</key>
  <capacity unit='bytes'>10737418240</capacity>
  <allocation unit='bytes'>200704</allocation>
  <physical unit='bytes'>196688</physical>
  <target>
    <path>/var/lib/libvirt/images/vm1.qcow2</path>
    <format type='qcow2'/>
    <permissions>
      <mode>0644</mode>
      <owner>0</owner>
      <group>0</group>
    </permissions>
    <timestamps>
      <atime>1717400000.5</atime>
      <mtime>1717400000.5</mtime>
      <ctime>1717400000.5</ctime>
    </timestamps>
    <compat>1.1</compat>
    <clusterSize unit='B'>65536</clusterSize>
    <features>
      <lazy_refcounts/>
    </features>
  </target>
  <backingStore>
    <path>/var/lib/libvirt/images/debian12.qcow2</path>
    <format type='qcow2'/>
    <permissions>
      <mode>0644</mode>
      <owner>0</owner>
      <group>0</group>
    </permissions>
    <timestamps>
      <atime>1717300000.1</atime>
      <mtime>1717300000.1</mtime>
      <ctime>1717300000.1</ctime>
    </timestamps>
  </backingStore>
</volume>
"""

LV = """<volume type='block'>
  <name>web-root</name>
  <key>gh1Bch-0dGk-PCsT-5Zr4-Vh3m-2m2x-ZnRkLe</key>
  <source>
    <device path='/dev/sdb'>
      <extent start='0' end='10737418240'/>
    </device>
  </source>
  <capacity unit='bytes'>10737418240</capacity>
  <allocation unit='bytes'>10737418240</allocation>
  <physical unit='bytes'>10737418240</physical>
  <target>
    <path>/dev/vg_guests/web-root</path>
    <permissions>
      <mode>0660</mode>
      <owner>0</owner>
      <group>6</group>
      <label>system_u:object_r:fixed_disk_device_t:s0</label>
    </permissions>
    <timestamps>
      <atime>1717400000.0</atime>
      <mtime>1717400000.0</mtime>
      <ctime>1717400000.0</ctime>
    </timestamps>
  </target>
</volume>
"""

ISCSI_DIRECT = """<volume type='network'>
  <name>unit:0:0:1</name>
  <key>ip-192.0.2.10:3260-iscsi-iqn.2024-01.com.example:storage.lun1-lun-1</key>
  <capacity unit='bytes'>0</capacity>
  <allocation unit='bytes'>0</allocation>
  <target>
    <path>ip-192.0.2.10:3260-iscsi-iqn.2024-01.com.example:storage.lun1-lun-1</path>
  </target>
</volume>
"""

LUKS = """<?xml version='1.0' encoding='UTF-8'?>
<volume type='file'>
  <name>secure.qcow2</name>
  <key>/var/lib/libvirt/images/secure.qcow2</key>
  <capacity unit='bytes'>5368709120</capacity>
  <allocation unit='bytes'>2297856</allocation>
  <physical unit='bytes'>2293760</physical>
  <target>
    <path>/var/lib/libvirt/images/secure.qcow2</path>
    <format type='qcow2'/>
    <permissions>
      <mode>0600</mode>
      <owner>107</owner>
      <group>107</group>
    </permissions>
    <timestamps>
      <atime>1717400000.0</atime>
      <mtime>1717400000.0</mtime>
      <ctime>1717400000.0</ctime>
    </timestamps>
    <compat>1.1</compat>
    <clusterSize unit='B'>65536</clusterSize>
    <features/>
    <encryption format='luks'>
      <secret type='passphrase' uuid='6d1e3b2c-9a44-4f0e-8c1d-2f5a7b9e0c31'/>
    </encryption>
  </target>
</volume>
"""

LIBVIRT_SAMPLES = [
    ('file in a dir pool', DIR_FILE, {
        'name': 'web.img', 'type': 'file', 'key': IMAGES + '/web.img', 'path': IMAGES + '/web.img', 'format': 'raw',
        'capacity': 21474836480, 'allocation': 1708232704, 'physical': 21474836480, 'backing': None,
        'encryption': None, 'permissions': {'mode': '0600', 'owner': '64055', 'group': '64055',
                                            'label': 'system_u:object_r:svirt_image_t:s0:c12,c345'},
        'compat': None, 'cluster_size': None, 'lazy_refcounts': None}),
    ('qcow2 overlay', OVERLAY, {
        'name': 'vm1.qcow2', 'type': 'file', 'key': IMAGES + '/vm1.qcow2', 'path': IMAGES + '/vm1.qcow2',
        'format': 'qcow2', 'capacity': 10737418240, 'allocation': 200704, 'physical': 196688,
        'backing': {'path': IMAGES + '/debian12.qcow2', 'format': 'qcow2'}, 'encryption': None,
        'permissions': {'mode': '0644', 'owner': '0', 'group': '0', 'label': None},
        'compat': '1.1', 'cluster_size': 65536, 'lazy_refcounts': True}),
    ('LV in a logical pool', LV, {
        'name': 'web-root', 'type': 'block', 'key': 'gh1Bch-0dGk-PCsT-5Zr4-Vh3m-2m2x-ZnRkLe',
        'path': '/dev/vg_guests/web-root', 'format': None, 'capacity': 10737418240, 'allocation': 10737418240,
        'physical': 10737418240, 'backing': None, 'encryption': None,
        'permissions': {'mode': '0660', 'owner': '0', 'group': '6', 'label': 'system_u:object_r:fixed_disk_device_t:s0'},
        'compat': None, 'cluster_size': None, 'lazy_refcounts': None}),
    ('iscsi-direct LUN', ISCSI_DIRECT, {
        'name': 'unit:0:0:1', 'type': 'network', 'key': 'ip-192.0.2.10:3260-iscsi-iqn.2024-01.com.example:storage.lun1-lun-1',
        'path': 'ip-192.0.2.10:3260-iscsi-iqn.2024-01.com.example:storage.lun1-lun-1', 'format': None,
        'capacity': 0, 'allocation': 0, 'physical': None, 'backing': None, 'encryption': None, 'permissions': None,
        'compat': None, 'cluster_size': None, 'lazy_refcounts': None}),
    ('LUKS qcow2', LUKS, {
        'name': 'secure.qcow2', 'type': 'file', 'key': IMAGES + '/secure.qcow2', 'path': IMAGES + '/secure.qcow2',
        'format': 'qcow2', 'capacity': 5368709120, 'allocation': 2297856, 'physical': 2293760, 'backing': None,
        'encryption': {'format': 'luks', 'secret_uuid': SECRET_UUID},
        'permissions': {'mode': '0600', 'owner': '107', 'group': '107', 'label': None},
        'compat': '1.1', 'cluster_size': 65536, 'lazy_refcounts': False}),
]


@pytest.mark.parametrize('case_id, text, expected', LIBVIRT_SAMPLES, ids=[c[0] for c in LIBVIRT_SAMPLES])
def test_parse_libvirt(case_id, text, expected):
    assert _volume_xml.parse(_xml.parse(text)) == expected


# Things that are not in every sample.
PARSE_EDGE = [
    # (id, xml, {key: expected})
    ('backingStore without path (libvirt prints an empty one)',
     "<volume><name>a</name><target><format type='qcow2'/></target><backingStore/></volume>", {'backing': None}),
    ('backing without format', "<volume><name>a</name><backingStore><path>/b</path></backingStore></volume>",
     {'backing': {'path': '/b', 'format': None}}),
    ('no target', "<volume><name>a</name><capacity>5</capacity></volume>",
     {'format': None, 'path': None, 'permissions': None, 'encryption': None, 'capacity': 5}),
    ('target without format', "<volume><name>a</name><target><path>/x</path></target></volume>",
     {'format': None, 'path': '/x'}),
    ('capacity not a number', "<volume><name>a</name><capacity unit='bytes'>lots</capacity></volume>",
     {'capacity': None}),
    ('capacity with spaces', "<volume><name>a</name><capacity unit='bytes'> 42 </capacity></volume>",
     {'capacity': 42}),
    ('no capacity', "<volume><name>a</name></volume>", {'capacity': None, 'allocation': None, 'physical': None}),
    ('encryption without secret', "<volume><name>a</name><target><encryption format='luks'/></target></volume>",
     {'encryption': {'format': 'luks', 'secret_uuid': None}}),
    ('legacy qcow encryption', "<volume><name>a</name><target><encryption format='qcow'>"
                               "<secret type='passphrase' uuid='%s'/></encryption></target></volume>" % SECRET_UUID,
     {'encryption': {'format': 'qcow', 'secret_uuid': SECRET_UUID}}),
    ('cluster size in KiB', "<volume><name>a</name><target><format type='qcow2'/><clusterSize unit='KiB'>128"
                            "</clusterSize></target></volume>", {'cluster_size': 131072, 'lazy_refcounts': False}),
    ('empty permissions', "<volume><name>a</name><target><permissions/></target></volume>",
     {'permissions': {'mode': None, 'owner': None, 'group': None, 'label': None}}),
]


@pytest.mark.parametrize('case_id, text, expected', PARSE_EDGE, ids=[c[0] for c in PARSE_EDGE])
def test_parse_edges(case_id, text, expected):
    got = _volume_xml.parse(_xml.parse(text))
    assert dict((key, got[key]) for key in expected) == expected


# ---------------------------------------------------------------------------------------
# Canonical form (diff): runtime values dropped, the definition kept

CANONICAL_CASES = [
    # (id, xml, fragments kept, fragments dropped)
    ('file', DIR_FILE,
     ['<name>web.img</name>', '<capacity unit="bytes">21474836480</capacity>',
      '<path>/var/lib/libvirt/images/web.img</path>', '<format type="raw"/>', '<mode>0600</mode>'],
     ['allocation', 'physical', '<key>', 'timestamps', 'atime', '<owner>', '<group>', '<label>', 'svirt']),
    ('overlay', OVERLAY,
     ['<compat>1.1</compat>', '<backingStore>', '<path>/var/lib/libvirt/images/debian12.qcow2</path>',
      '<clusterSize unit="B">65536</clusterSize>'],
     ['allocation', 'physical', '<key>', 'timestamps', '1717300000', '1717400000']),
    ('LV', LV, ['<path>/dev/vg_guests/web-root</path>', '<mode>0660</mode>', '<device path="/dev/sdb">'],
     ['allocation', 'physical', 'gh1Bch', 'timestamps', '<owner>', '<group>', 'fixed_disk_device_t']),
    ('LUN', ISCSI_DIRECT, ['<capacity unit="bytes">0</capacity>', '<name>unit:0:0:1</name>'],
     ['allocation', '<key>']),
    ('luks', LUKS, ['<encryption format="luks">', 'uuid="%s"' % SECRET_UUID, '<mode>0600</mode>'],
     ['allocation', 'physical', '<key>', 'timestamps', '<owner>', '<group>']),
]


@pytest.mark.parametrize('case_id, text, kept, dropped', CANONICAL_CASES, ids=[c[0] for c in CANONICAL_CASES])
def test_canonical(case_id, text, kept, dropped):
    element = _xml.parse(text)
    before = _xml.to_string(element)
    out = _volume_xml.canonical(element)
    for fragment in kept:
        assert fragment in out
    for fragment in dropped:
        assert fragment not in out
    assert _xml.to_string(element) == before       # the element itself is untouched


def test_canonical_ignores_runtime_changes():
    # The same file later: more allocated, other timestamps, relabelled and chowned by a running guest.
    later = (DIR_FILE.replace('1708232704', '9999999999').replace('1717400100.223456789', '1717999999.0')
             .replace('<owner>64055</owner>', '<owner>0</owner>').replace('c12,c345', 'c1,c2'))
    assert later != DIR_FILE
    assert _volume_xml.canonical(_xml.parse(later)) == _volume_xml.canonical(_xml.parse(DIR_FILE))


CANONICAL_DIFFERS = [
    ('capacity', ('21474836480</capacity>', '32212254720</capacity>')),
    ('format', ("<format type='raw'/>", "<format type='qcow2'/>")),
    ('mode', ('<mode>0600</mode>', '<mode>0644</mode>')),
    ('path', ('<path>/var/lib/libvirt/images/web.img</path>', '<path>/srv/web.img</path>')),
]


@pytest.mark.parametrize('case_id, change', CANONICAL_DIFFERS, ids=[c[0] for c in CANONICAL_DIFFERS])
def test_canonical_shows_real_changes(case_id, change):
    changed = DIR_FILE.replace(*change)
    assert changed != DIR_FILE
    assert _volume_xml.canonical(_xml.parse(changed)) != _volume_xml.canonical(_xml.parse(DIR_FILE))


def test_canonical_drops_backing_owner():
    out = _volume_xml.canonical(_xml.parse(OVERLAY))
    assert '<owner>' not in out and '<group>' not in out
