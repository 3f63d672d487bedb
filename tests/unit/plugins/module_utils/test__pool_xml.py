# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pool definitions: model -> XML -> model for every pool type, and libvirt's own XML."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _pool_xml
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._pool_types import POOL_TYPES

SECRET_UUID = '2a5b08e4-3dca-4ff9-9a1d-40389758d081'


def _model(name, pool_type, source=None, path=None, **perms):
    return {'name': name, 'type': pool_type, 'source': source or {},
            'target': {'path': path, 'permissions': perms or None}}


# One model per pool type and variant (the shape request_from_params gives build()), and
# the definition libvirt prints for it (virsh pool-dumpxml): uuid, runtime sizes and the
# defaults libvirt fills in.  Hosts and devices are in a different order in some samples.
CASES = [
    ('dir',
     _model('images', 'dir', path='/var/lib/libvirt/images', mode='0711', owner='0', group='0',
            label='system_u:object_r:virt_image_t:s0'),
     """<pool type='dir'>
  <name>images</name>
  <uuid>3e3fce45-4f53-4fa7-bb32-11f34168b82b</uuid>
  <capacity unit='bytes'>105089261568</capacity>
  <allocation unit='bytes'>37288570880</allocation>
  <available unit='bytes'>67800690688</available>
  <source>
  </source>
  <target>
    <path>/var/lib/libvirt/images</path>
    <permissions>
      <mode>0711</mode>
      <owner>0</owner>
      <group>0</group>
      <label>system_u:object_r:virt_image_t:s0</label>
    </permissions>
  </target>
</pool>
"""),
    ('fs',
     _model('fspool', 'fs', {'devices': ['/dev/vdb1'], 'format': 'ext4'}, '/srv/fspool', mode='0755'),
     """<pool type='fs'>
  <name>fspool</name>
  <uuid>0f9c7c59-5a38-4b8e-b0a5-1f3ad1fbc6d0</uuid>
  <capacity unit='bytes'>10464022528</capacity>
  <allocation unit='bytes'>24576</allocation>
  <available unit='bytes'>10463997952</available>
  <source>
    <device path='/dev/vdb1'/>
    <format type='ext4'/>
  </source>
  <target>
    <path>/srv/fspool</path>
    <permissions>
      <mode>0755</mode>
      <owner>0</owner>
      <group>0</group>
    </permissions>
  </target>
</pool>
"""),
    ('netfs-nfs',
     _model('nfs', 'netfs', {'hosts': [{'name': 'nfs.example.com', 'port': None}], 'dir': '/export/vms',
                             'format': 'nfs', 'protocol_version': '4'}, '/mnt/nfs', owner='107', group='107'),
     """<pool type='netfs'>
  <name>nfs</name>
  <uuid>8a1b3c5d-7e9f-4a2b-8c4d-6e8f0a2b4c6d</uuid>
  <capacity unit='bytes'>536870912000</capacity>
  <allocation unit='bytes'>107374182400</allocation>
  <available unit='bytes'>429496729600</available>
  <source>
    <host name='nfs.example.com'/>
    <dir path='/export/vms'/>
    <format type='nfs'/>
    <protocol ver='4'/>
  </source>
  <target>
    <path>/mnt/nfs</path>
    <permissions>
      <mode>0755</mode>
      <owner>107</owner>
      <group>107</group>
    </permissions>
  </target>
</pool>
"""),
    ('netfs-glusterfs',
     _model('gvfuse', 'netfs', {'hosts': [{'name': 'gluster1.example.com', 'port': None}], 'dir': 'gv0',
                                'format': 'glusterfs'}, '/mnt/gv0'),
     """<pool type='netfs'>
  <name>gvfuse</name>
  <uuid>c2a4e6f8-0b1d-4f3a-9c5e-7a9b1d3f5a7c</uuid>
  <capacity unit='bytes'>0</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>0</available>
  <source>
    <host name='gluster1.example.com'/>
    <dir path='gv0'/>
    <format type='glusterfs'/>
  </source>
  <target>
    <path>/mnt/gv0</path>
  </target>
</pool>
"""),
    ('netfs-cifs',
     _model('smb', 'netfs', {'hosts': [{'name': 'files.example.com', 'port': None}], 'dir': 'vms',
                             'format': 'cifs'}, '/mnt/smb'),
     """<pool type='netfs'>
  <name>smb</name>
  <uuid>d3b5f7a9-1c2e-4a4b-8d6f-8b0c2e4a6b8d</uuid>
  <capacity unit='bytes'>0</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>0</available>
  <source>
    <host name='files.example.com'/>
    <dir path='vms'/>
    <format type='cifs'/>
  </source>
  <target>
    <path>/mnt/smb</path>
  </target>
</pool>
"""),
    ('logical',
     _model('vg_guests', 'logical', {'name': 'vg_guests', 'devices': ['/dev/sdb', '/dev/sdc'], 'format': 'lvm2'},
            '/dev/vg_guests'),
     """<pool type='logical'>
  <name>vg_guests</name>
  <uuid>5d0e8a4c-2b6f-4e1a-9d3c-7f5b1e9a3c2d</uuid>
  <capacity unit='bytes'>21466447872</capacity>
  <allocation unit='bytes'>4294967296</allocation>
  <available unit='bytes'>17171480576</available>
  <source>
    <device path='/dev/sdc'/>
    <device path='/dev/sdb'/>
    <name>vg_guests</name>
    <format type='lvm2'/>
  </source>
  <target>
    <path>/dev/vg_guests</path>
  </target>
</pool>
"""),
    ('logical-existing-vg',
     _model('vg0', 'logical', {'name': 'vg0'}),
     """<pool type='logical'>
  <name>vg0</name>
  <uuid>6e1f9b5d-3c7a-4f2b-8e4d-0a6c2f8b4d3e</uuid>
  <capacity unit='bytes'>10733223936</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>10733223936</available>
  <source>
    <device path='/dev/vdc'/>
    <name>vg0</name>
    <format type='lvm2'/>
  </source>
  <target>
    <path>/dev/vg0</path>
  </target>
</pool>
"""),
    ('disk',
     _model('sdd', 'disk', {'devices': ['/dev/sdd'], 'format': 'gpt'}, '/dev'),
     """<pool type='disk'>
  <name>sdd</name>
  <uuid>7f2a0c6e-4d8b-4a3c-9f5e-1b7d3a9c5e4f</uuid>
  <capacity unit='bytes'>10737401856</capacity>
  <allocation unit='bytes'>1073741824</allocation>
  <available unit='bytes'>9663625216</available>
  <source>
    <device path='/dev/sdd' part_separator='no'>
      <freeExtent start='1074790400' end='10737401856'/>
    </device>
    <format type='gpt'/>
  </source>
  <target>
    <path>/dev</path>
  </target>
</pool>
"""),
    ('iscsi',
     _model('san', 'iscsi', {'hosts': [{'name': 'san.example.com', 'port': 3260}],
                             'devices': ['iqn.2024-01.com.example:storage.lun1'],
                             'initiator': 'iqn.2024-01.com.example:host1',
                             'auth': {'type': 'chap', 'username': 'chapuser', 'secret_usage': 'libvirtiscsi',
                                      'secret_uuid': None}},
            '/dev/disk/by-path'),
     """<pool type='iscsi'>
  <name>san</name>
  <uuid>803b1d7f-5e9c-4b4d-8a6f-2c8e4b0d6f5a</uuid>
  <capacity unit='bytes'>10737418240</capacity>
  <allocation unit='bytes'>10737418240</allocation>
  <available unit='bytes'>0</available>
  <source>
    <host name='san.example.com' port='3260'/>
    <device path='iqn.2024-01.com.example:storage.lun1'/>
    <auth type='chap' username='chapuser'>
      <secret usage='libvirtiscsi'/>
    </auth>
    <initiator>
      <iqn name='iqn.2024-01.com.example:host1'/>
    </initiator>
  </source>
  <target>
    <path>/dev/disk/by-path</path>
    <permissions>
      <mode>0755</mode>
      <owner>-1</owner>
      <group>-1</group>
    </permissions>
  </target>
</pool>
"""),
    ('iscsi_direct',
     _model('san-direct', 'iscsi_direct', {'hosts': [{'name': '192.0.2.10', 'port': 3260}],
                                           'devices': ['iqn.2024-01.com.example:storage.lun2'],
                                           'initiator': 'iqn.2024-01.com.example:host1',
                                           'auth': {'type': 'chap', 'username': 'chapuser', 'secret_usage': None,
                                                    'secret_uuid': SECRET_UUID}}),
     """<pool type='iscsi-direct'>
  <name>san-direct</name>
  <uuid>914c2e80-6fad-4c5e-9b70-3d9f5c1e7a6b</uuid>
  <capacity unit='bytes'>10737418240</capacity>
  <allocation unit='bytes'>10737418240</allocation>
  <available unit='bytes'>0</available>
  <source>
    <host name='192.0.2.10' port='3260'/>
    <device path='iqn.2024-01.com.example:storage.lun2'/>
    <auth type='chap' username='chapuser'>
      <secret uuid='2a5b08e4-3dca-4ff9-9a1d-40389758d081'/>
    </auth>
    <initiator>
      <iqn name='iqn.2024-01.com.example:host1'/>
    </initiator>
  </source>
</pool>
"""),
    ('scsi-scsi_host',
     _model('hba0', 'scsi', {'adapter': {'type': 'scsi_host', 'name': 'host0', 'parent': None, 'wwnn': None,
                                         'wwpn': None, 'managed': None}}, '/dev/disk/by-path'),
     """<pool type='scsi'>
  <name>hba0</name>
  <uuid>a25d3f91-7abe-4d6f-8c81-4eaf6d2f8b7c</uuid>
  <capacity unit='bytes'>0</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>0</available>
  <source>
    <adapter type='scsi_host' name='host0'/>
  </source>
  <target>
    <path>/dev/disk/by-path</path>
    <permissions>
      <mode>0755</mode>
      <owner>-1</owner>
      <group>-1</group>
    </permissions>
  </target>
</pool>
"""),
    ('scsi-fc_host',
     _model('vhba', 'scsi', {'adapter': {'type': 'fc_host', 'name': None, 'parent': 'scsi_host5',
                                         'wwnn': '20000000c9831b4b', 'wwpn': '10000000c9831b4b', 'managed': True}},
            '/dev/disk/by-path'),
     """<pool type='scsi'>
  <name>vhba</name>
  <uuid>b36e4fa2-8bcf-4e70-9d92-5fb07e3f9c8d</uuid>
  <capacity unit='bytes'>0</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>0</available>
  <source>
    <adapter type='fc_host' parent='scsi_host5' managed='yes' wwnn='20000000c9831b4b' wwpn='10000000c9831b4b'/>
  </source>
  <target>
    <path>/dev/disk/by-path</path>
  </target>
</pool>
"""),
    ('mpath',
     _model('mpath', 'mpath', path='/dev/mapper'),
     """<pool type='mpath'>
  <name>mpath</name>
  <uuid>c47f50b3-9cd0-4f81-8ea3-60c18f4a0d9e</uuid>
  <capacity unit='bytes'>0</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>0</available>
  <source>
  </source>
  <target>
    <path>/dev/mapper</path>
  </target>
</pool>
"""),
    ('gluster',
     _model('gv0', 'gluster', {'hosts': [{'name': 'gluster1.example.com', 'port': None}], 'dir': '/', 'name': 'gv0'}),
     """<pool type='gluster'>
  <name>gv0</name>
  <uuid>d58061c4-0de1-4092-9fb4-71d2905b1eaf</uuid>
  <capacity unit='bytes'>53660876800</capacity>
  <allocation unit='bytes'>1073741824</allocation>
  <available unit='bytes'>52587134976</available>
  <source>
    <host name='gluster1.example.com'/>
    <dir path='/'/>
    <name>gv0</name>
  </source>
</pool>
"""),
    ('rbd',
     _model('ceph', 'rbd', {'hosts': [{'name': 'mon1.example.com', 'port': 6789},
                                      {'name': 'mon2.example.com', 'port': 6789},
                                      {'name': 'mon3.example.com', 'port': 3300}],
                            'name': 'libvirt-pool',
                            'auth': {'type': 'ceph', 'username': 'libvirt', 'secret_usage': None,
                                     'secret_uuid': SECRET_UUID}}),
     """<pool type='rbd'>
  <name>ceph</name>
  <uuid>e6912d5a-1ef2-41a3-a0c5-82e3a16c2fb0</uuid>
  <capacity unit='bytes'>1099511627776</capacity>
  <allocation unit='bytes'>21474836480</allocation>
  <available unit='bytes'>1078036791296</available>
  <source>
    <host name='mon3.example.com' port='3300'/>
    <host name='mon1.example.com' port='6789'/>
    <host name='mon2.example.com' port='6789'/>
    <name>libvirt-pool</name>
    <auth type='ceph' username='libvirt'>
      <secret uuid='2a5b08e4-3dca-4ff9-9a1d-40389758d081'/>
    </auth>
  </source>
</pool>
"""),
    ('zfs',
     _model('tank', 'zfs', {'name': 'tank', 'devices': ['/dev/sde', '/dev/sdf']}),
     """<pool type='zfs'>
  <name>tank</name>
  <uuid>f7a23e6b-2f03-42b4-b1d6-93f4b27d3a01</uuid>
  <capacity unit='bytes'>21206401024</capacity>
  <allocation unit='bytes'>405504</allocation>
  <available unit='bytes'>21205995520</available>
  <source>
    <name>tank</name>
    <device path='/dev/sde'/>
    <device path='/dev/sdf'/>
  </source>
  <target>
    <path>/dev/zvol/tank</path>
  </target>
</pool>
"""),
]

IDS = [c[0] for c in CASES]
UUIDS = {
    'dir': '3e3fce45-4f53-4fa7-bb32-11f34168b82b', 'fs': '0f9c7c59-5a38-4b8e-b0a5-1f3ad1fbc6d0',
    'netfs-nfs': '8a1b3c5d-7e9f-4a2b-8c4d-6e8f0a2b4c6d', 'netfs-glusterfs': 'c2a4e6f8-0b1d-4f3a-9c5e-7a9b1d3f5a7c',
    'netfs-cifs': 'd3b5f7a9-1c2e-4a4b-8d6f-8b0c2e4a6b8d', 'logical': '5d0e8a4c-2b6f-4e1a-9d3c-7f5b1e9a3c2d',
    'logical-existing-vg': '6e1f9b5d-3c7a-4f2b-8e4d-0a6c2f8b4d3e', 'disk': '7f2a0c6e-4d8b-4a3c-9f5e-1b7d3a9c5e4f',
    'iscsi': '803b1d7f-5e9c-4b4d-8a6f-2c8e4b0d6f5a', 'iscsi_direct': '914c2e80-6fad-4c5e-9b70-3d9f5c1e7a6b',
    'scsi-scsi_host': 'a25d3f91-7abe-4d6f-8c81-4eaf6d2f8b7c', 'scsi-fc_host': 'b36e4fa2-8bcf-4e70-9d92-5fb07e3f9c8d',
    'mpath': 'c47f50b3-9cd0-4f81-8ea3-60c18f4a0d9e', 'gluster': 'd58061c4-0de1-4092-9fb4-71d2905b1eaf',
    'rbd': 'e6912d5a-1ef2-41a3-a0c5-82e3a16c2fb0', 'zfs': 'f7a23e6b-2f03-42b4-b1d6-93f4b27d3a01',
}


def _sorted_list(value):
    if isinstance(value, list):
        return sorted(value, key=repr)
    return value


def _assert_model(parsed, model, ordered):
    """Every value the model states is in ``parsed``; lists in order when ``ordered``."""
    assert parsed['name'] == model['name']
    assert parsed['type'] == model['type']
    for key, value in model['source'].items():
        got = parsed['source'][key]
        if not ordered:
            got, value = _sorted_list(got), _sorted_list(value)
        assert got == value, key
    path = model['target']['path']
    if path is not None:
        assert parsed['target']['path'] == path
    for key, value in (model['target']['permissions'] or {}).items():
        assert parsed['target']['permissions'][key] == value, key


def test_every_pool_type_has_a_case():
    assert set(c[1]['type'] for c in CASES) == set(POOL_TYPES)
    netfs_formats = set(c[1]['source'].get('format') for c in CASES if c[1]['type'] == 'netfs')
    assert netfs_formats == {'nfs', 'glusterfs', 'cifs'}
    adapters = set(c[1]['source']['adapter']['type'] for c in CASES if c[1]['type'] == 'scsi')
    assert adapters == {'scsi_host', 'fc_host'}


@pytest.mark.parametrize('case_id, model, libvirt_xml', CASES, ids=IDS)
def test_build_parse_round_trip(case_id, model, libvirt_xml):
    built = _pool_xml.build(model)
    assert built.get('type') == POOL_TYPES[model['type']]['libvirt']
    # through text, as the adapter sends it to libvirt
    parsed = _pool_xml.parse(_xml.parse(_xml.to_string(built)))
    _assert_model(parsed, model, ordered=True)
    assert parsed['uuid'] is None
    # what the model did not state stays empty
    for key, value in parsed['source'].items():
        if key not in model['source']:
            assert value in (None, []), key
    if model['target']['path'] is None and not model['target']['permissions']:
        assert parsed['target'] is None


@pytest.mark.parametrize('case_id, model, libvirt_xml', CASES, ids=IDS)
def test_parse_libvirt_xml(case_id, model, libvirt_xml):
    parsed = _pool_xml.parse(_xml.parse(libvirt_xml))
    _assert_model(parsed, model, ordered=False)
    assert parsed['uuid'] == UUIDS[case_id]


@pytest.mark.parametrize('case_id, model, libvirt_xml', CASES, ids=IDS)
def test_libvirt_xml_contains_the_request(case_id, model, libvirt_xml):
    actual = _xml.parse(libvirt_xml)
    assert _xml.differences(actual, _pool_xml.build(model)) == []
    # the same request with a uuid libvirt knows is still contained
    assert _xml.contains(actual, _pool_xml.build(dict(model, uuid=UUIDS[case_id])))


@pytest.mark.parametrize('case_id, model, libvirt_xml', CASES, ids=IDS)
def test_canonical_drops_runtime_values(case_id, model, libvirt_xml):
    text = _pool_xml.canonical(_xml.parse(libvirt_xml))
    for volatile in ('<capacity', '<allocation', '<available', 'freeExtent'):
        assert volatile not in text
    assert '<uuid>%s</uuid>' % UUIDS[case_id] in text
    assert '<name>%s</name>' % model['name'] in text
    # other runtime values, same definition: same canonical form
    other = libvirt_xml.replace("unit='bytes'>", "unit='bytes'>1").replace("start='", "start='9")
    assert other != libvirt_xml
    assert _pool_xml.canonical(_xml.parse(other)) == text


# A change of one model value is seen as a difference at the right path.
MUTATIONS = [
    # (case id, change to the model, expected difference)
    ('dir', lambda m: m['target'].update(path='/srv/images'), ['pool/target/path']),
    ('dir', lambda m: m['target']['permissions'].update(mode='0755'), ['pool/target/permissions/mode']),
    ('fs', lambda m: m['source'].update(devices=['/dev/vdc1']), ['pool/source/device/@path']),
    ('fs', lambda m: m['source'].update(format='xfs'), ['pool/source/format/@type']),
    ('netfs-nfs', lambda m: m['source'].update(hosts=[{'name': 'nfs2.example.com', 'port': None}]),
     ['pool/source/host/@name']),
    ('netfs-nfs', lambda m: m['source'].update(protocol_version='3'), ['pool/source/protocol/@ver']),
    ('logical', lambda m: m['source'].update(devices=['/dev/sdb']), ['pool/source/device']),
    ('logical', lambda m: m['source'].update(devices=['/dev/sdb', '/dev/sdd']), ['pool/source/device']),
    ('iscsi', lambda m: m['source'].update(initiator='iqn.2024-01.com.example:host2'),
     ['pool/source/initiator/iqn/@name']),
    ('iscsi', lambda m: m['source']['auth'].update(username='other'), ['pool/source/auth/@username']),
    ('iscsi', lambda m: m['source']['hosts'][0].update(port=3261), ['pool/source/host/@port']),
    ('scsi-fc_host', lambda m: m['source']['adapter'].update(managed=False), ['pool/source/adapter/@managed']),
    ('rbd', lambda m: m['source']['hosts'].pop(), ['pool/source/host']),
    ('rbd', lambda m: m['source']['hosts'][2].update(port=6789), ['pool/source/host']),
    ('rbd', lambda m: m['source']['auth'].update(secret_uuid='00000000-0000-0000-0000-000000000000'),
     ['pool/source/auth/secret/@uuid']),
    ('gluster', lambda m: m['source'].update(name='gv1'), ['pool/source/name']),
    ('zfs', lambda m: m['source'].update(name='tank2'), ['pool/source/name']),
    ('mpath', lambda m: m['target'].update(path='/dev/disk/by-id'), ['pool/target/path']),
    ('disk', lambda m: m.update(name='sde'), ['pool/name']),
]


@pytest.mark.parametrize('case_id, change, expected', MUTATIONS,
                         ids=['%s-%d' % (m[0], i) for i, m in enumerate(MUTATIONS)])
def test_changed_model_differs(case_id, change, expected):
    model, libvirt_xml = copy.deepcopy([c[1:] for c in CASES if c[0] == case_id][0])
    change(model)
    assert _xml.differences(_xml.parse(libvirt_xml), _pool_xml.build(model)) == expected


# Details of the built XML that libvirt depends on.
BUILT = [
    # (case id, xpath, expected list of values)
    ('iscsi_direct', '/pool/@type', ['iscsi-direct']),
    ('scsi-fc_host', 'source/adapter/@managed', ['yes']),
    ('scsi-fc_host', 'source/adapter/@name', []),
    ('scsi-scsi_host', 'source/adapter/@managed', []),
    ('rbd', 'source/host/@port', ['6789', '6789', '3300']),
    ('rbd', 'source/host/@name', ['mon1.example.com', 'mon2.example.com', 'mon3.example.com']),
    ('netfs-nfs', 'source/host/@port', []),
    ('iscsi', 'source/auth/secret/@usage', ['libvirtiscsi']),
    ('iscsi', 'source/auth/secret/@uuid', []),
    ('iscsi', 'source/initiator/iqn/@name', ['iqn.2024-01.com.example:host1']),
    ('logical', 'source/device/@path', ['/dev/sdb', '/dev/sdc']),
    ('logical-existing-vg', 'source/device', []),
    ('zfs', 'target', []),
    ('rbd', 'target', []),
    ('mpath', 'source', []),
    ('dir', 'source', []),
    ('dir', 'target/permissions/*', ['0711', '0', '0', 'system_u:object_r:virt_image_t:s0']),
    ('netfs-nfs', 'target/permissions/mode', []),
    ('dir', 'uuid', []),
    ('dir', 'capacity', []),
]


@pytest.mark.parametrize('case_id, xpath, expected', BUILT, ids=['%s:%s' % (b[0], b[1]) for b in BUILT])
def test_built_xml(case_id, xpath, expected):
    model = [c[1] for c in CASES if c[0] == case_id][0]
    nodes = _pool_xml.build(model).xpath(xpath)
    assert [n if isinstance(n, str) else (n.text or n.tag) for n in nodes] == expected


def test_parse_full_shape():
    parsed = _pool_xml.parse(_xml.parse([c[2] for c in CASES if c[0] == 'disk'][0]))
    assert parsed == {
        'name': 'sdd', 'uuid': '7f2a0c6e-4d8b-4a3c-9f5e-1b7d3a9c5e4f', 'type': 'disk',
        'source': {'devices': ['/dev/sdd'], 'hosts': [], 'dir': None, 'name': None, 'format': 'gpt',
                   'initiator': None, 'auth': None, 'adapter': None, 'protocol_version': None},
        'target': {'path': '/dev', 'permissions': None},
    }
    parsed = _pool_xml.parse(_xml.parse([c[2] for c in CASES if c[0] == 'rbd'][0]))
    assert parsed['source']['hosts'] == [{'name': 'mon3.example.com', 'port': 3300},
                                         {'name': 'mon1.example.com', 'port': 6789},
                                         {'name': 'mon2.example.com', 'port': 6789}]
    assert parsed['source']['auth'] == {'type': 'ceph', 'username': 'libvirt', 'secret_usage': None,
                                        'secret_uuid': SECRET_UUID}
    assert parsed['target'] is None


def test_parse_minimal_and_unknown():
    parsed = _pool_xml.parse(_xml.parse("<pool type='vstorage'><name>v</name></pool>"))
    assert parsed['type'] == 'vstorage'          # a type the module does not manage is reported as is
    assert parsed['uuid'] is None and parsed['target'] is None
    assert parsed['source']['devices'] == [] and parsed['source']['hosts'] == []
    odd = _xml.parse("<pool type='rbd'><name>c</name><source><host name='m' port='x'/></source></pool>")
    assert _pool_xml.parse(odd)['source']['hosts'] == [{'name': 'm', 'port': None}]
