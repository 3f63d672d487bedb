# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pool planner and request validation as tables: (params, actual) -> steps or error."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._pool import (
    DeviceProbe, PoolActual, PoolFacts, build_refusal, devices_to_probe, plan, request_from_params)

UUID = '3e3fce45-4f53-4fa7-bb32-11f34168b82b'


# ---------------------------------------------------------------------------------------
# Building params as AnsibleModule gives them (every key present, defaults filled in)

def params(pool_type=None, **kw):
    p = dict(name='images', type=pool_type, state='active', autostart=None, build=True, overwrite=False,
             delete_data=False, force=False, xml=None, target=None, source=None)
    p.update(kw)
    return p


def src(**kw):
    s = dict(devices=None, hosts=None, dir=None, name=None, format=None, protocol_version=None,
             initiator=None, auth=None, adapter=None)
    s.update(kw)
    return s


def tgt(path=None, **perms):
    permissions = None
    if perms:
        permissions = dict(mode=None, owner=None, group=None, label=None)
        permissions.update(perms)
    return {'path': path, 'permissions': permissions}


def host(name, port=None):
    return {'name': name, 'port': port}


def auth(kind, username='admin', usage=None, uuid=None):
    return {'type': kind, 'username': username, 'secret_usage': usage, 'secret_uuid': uuid}


def adapter(**kw):
    a = dict(type='scsi_host', name=None, parent=None, wwnn=None, wwpn=None, managed=None)
    a.update(kw)
    return a


IQN_T = 'iqn.2024-01.com.example:storage.lun1'
IQN_I = 'iqn.2024-01.com.example:host1'

# Typed options that are enough to create a pool of each type (and match ACTUAL_XML).
TYPED = {
    'dir': dict(target=tgt('/var/lib/libvirt/images')),
    'fs': dict(source=src(devices=['/dev/vdb1'], format='ext4'), target=tgt('/srv/fs')),
    'netfs': dict(source=src(hosts=[host('nfs.example.com')], dir='/export/vms', format='nfs'),
                  target=tgt('/mnt/nfs')),
    'logical': dict(source=src(name='vg_guests', devices=['/dev/sdb'])),
    'logical-vg': dict(source=src(name='vg0')),
    'disk': dict(source=src(devices=['/dev/sdd'], format='gpt')),
    'iscsi': dict(source=src(hosts=[host('san.example.com', 3260)], devices=[IQN_T])),
    'iscsi_direct': dict(source=src(hosts=[host('192.0.2.10', 3260)], devices=[IQN_T], initiator=IQN_I)),
    'scsi': dict(source=src(adapter=adapter(name='host0'))),
    'mpath': dict(),
    'gluster': dict(source=src(hosts=[host('gluster1.example.com')], name='gv0')),
    'rbd': dict(source=src(hosts=[host('mon1.example.com', 6789), host('mon2.example.com', 6789)],
                           name='libvirt-pool', auth=auth('ceph', 'libvirt', uuid=UUID))),
    'zfs': dict(source=src(name='tank', devices=['/dev/sde'])),
}


def typed(kind, **kw):
    """Params for a pool of ``kind`` (a TYPED key), with changes."""
    pool_type = kind.split('-')[0]
    p = params(pool_type, **TYPED[kind])
    p.update(kw)
    return p


# ---------------------------------------------------------------------------------------
# What libvirt answers for an existing pool called images (virsh pool-dumpxml --inactive)

def _pool(libvirt_type, source, target):
    return ("<pool type='%s'>\n  <name>images</name>\n  <uuid>%s</uuid>\n"
            "  <capacity unit='bytes'>105089261568</capacity>\n  <allocation unit='bytes'>37288570880</allocation>\n"
            "  <available unit='bytes'>67800690688</available>\n  <source>\n%s  </source>\n%s</pool>\n"
            % (libvirt_type, UUID, source, target))


def _target(path):
    return ("  <target>\n    <path>%s</path>\n    <permissions>\n      <mode>0755</mode>\n      <owner>0</owner>\n"
            "      <group>0</group>\n    </permissions>\n  </target>\n" % path)


ACTUAL_XML = {
    'dir': _pool('dir', '', _target('/var/lib/libvirt/images')),
    'fs': _pool('fs', "    <device path='/dev/vdb1'/>\n    <format type='ext4'/>\n", _target('/srv/fs')),
    'netfs': _pool('netfs', "    <host name='nfs.example.com'/>\n    <dir path='/export/vms'/>\n"
                            "    <format type='nfs'/>\n", _target('/mnt/nfs')),
    'logical': _pool('logical', "    <device path='/dev/sdb'/>\n    <name>vg_guests</name>\n"
                                "    <format type='lvm2'/>\n", _target('/dev/vg_guests')),
    'logical-vg': _pool('logical', "    <device path='/dev/vdc'/>\n    <name>vg0</name>\n"
                                   "    <format type='lvm2'/>\n", _target('/dev/vg0')),
    'disk': _pool('disk', "    <device path='/dev/sdd' part_separator='no'>\n"
                          "      <freeExtent start='1048576' end='10737401856'/>\n    </device>\n"
                          "    <format type='gpt'/>\n", _target('/dev')),
    'iscsi': _pool('iscsi', "    <host name='san.example.com' port='3260'/>\n    <device path='%s'/>\n" % IQN_T,
                   _target('/dev/disk/by-path')),
    'iscsi_direct': _pool('iscsi-direct', "    <host name='192.0.2.10' port='3260'/>\n    <device path='%s'/>\n"
                                          "    <initiator>\n      <iqn name='%s'/>\n    </initiator>\n"
                                          % (IQN_T, IQN_I), ''),
    'scsi': _pool('scsi', "    <adapter type='scsi_host' name='host0'/>\n", _target('/dev/disk/by-path')),
    'mpath': _pool('mpath', '', _target('/dev/mapper')),
    'gluster': _pool('gluster', "    <host name='gluster1.example.com'/>\n    <dir path='/'/>\n"
                                "    <name>gv0</name>\n", ''),
    'rbd': _pool('rbd', "    <host name='mon2.example.com' port='6789'/>\n"
                        "    <host name='mon1.example.com' port='6789'/>\n    <name>libvirt-pool</name>\n"
                        "    <auth type='ceph' username='libvirt'>\n      <secret uuid='%s'/>\n    </auth>\n" % UUID,
                 ''),
    'zfs': _pool('zfs', "    <name>tank</name>\n    <device path='/dev/sde'/>\n", _target('/dev/zvol/tank')),
}


def A(kind='dir', active=True, persistent=True, autostart=False, volumes=(), target_exists=True):
    """An actual-state spec; made into a PoolActual (with a fresh element) inside the test."""
    return (kind, active, persistent, autostart, volumes, target_exists)


def make_actual(spec):
    if spec is None:
        return None
    kind, active, persistent, autostart, volumes, target_exists = spec
    return PoolActual(kind.split('-')[0], _xml.parse(ACTUAL_XML[kind]), active, persistent, autostart,
                      list(volumes) if active else None, target_exists)


def run(p, spec, **resolvers):
    return plan(request_from_params(p, **resolvers), make_actual(spec))


def steps_of(pl):
    return [(s.verb, s.text) for s in pl.steps]


DEFINE = ('define', 'define pool images')
START = ('start', 'start pool images')
STOP = ('stop', 'stop pool images')
UNDEFINE_KEPT = ('undefine', 'undefine pool images (data kept)')
MKDIR = ('build', 'build pool images (create the target directory)')
NO_OVERWRITE = ('build', 'build pool images (no overwrite)')
ZPOOL = ('build', 'build pool images (create the zpool, refused on used devices)')
ENABLE = ('autostart', 'enable autostart of pool images')
DISABLE = ('autostart', 'disable autostart of pool images')


def REDEFINE(what):
    return ('define', 'redefine pool images (%s changed)' % what)


# ---------------------------------------------------------------------------------------
# Creating a pool, per type and state

CREATE_BUILD = [
    # (TYPED key, the build step state: active plans or None, target path of the new definition)
    ('dir', MKDIR, '/var/lib/libvirt/images'),
    ('fs', NO_OVERWRITE, '/srv/fs'),
    ('netfs', MKDIR, '/mnt/nfs'),
    ('logical', NO_OVERWRITE, '/dev/vg_guests'),       # default target: /dev/<vg>
    ('logical-vg', None, '/dev/vg0'),                  # no devices: the volume group exists already
    ('disk', NO_OVERWRITE, '/dev'),
    ('iscsi', None, '/dev/disk/by-path'),
    ('iscsi_direct', None, None),
    ('scsi', None, '/dev/disk/by-path'),
    ('mpath', None, '/dev/mapper'),
    ('gluster', None, None),
    ('rbd', None, None),
    ('zfs', ZPOOL, None),
]

CREATE_CASES = []
for _kind, _build, _path in CREATE_BUILD:
    CREATE_CASES.append((_kind, 'present', [DEFINE], _path))
    CREATE_CASES.append((_kind, 'inactive', [DEFINE], _path))
    CREATE_CASES.append((_kind, 'active', [DEFINE] + ([_build] if _build else []) + [START], _path))


@pytest.mark.parametrize('kind, state, expected, path', CREATE_CASES, ids=['%s-%s' % c[:2] for c in CREATE_CASES])
def test_create(kind, state, expected, path):
    request = request_from_params(typed(kind, state=state))
    pl, after = plan(request, None)
    assert steps_of(pl) == expected
    assert pl.changed
    define = pl.steps[0]
    assert define.args['new'] is True and define.args['element'] is after
    assert _xml.contains(after, request.element)
    assert after.findtext('target/path') == path
    assert len(after.findall('target/path')) == (1 if path else 0)
    build = [s for s in pl.steps if s.verb == 'build']
    if build:
        assert build[0].args['overwrite'] is False and build[0].args['new'] is True


# ---------------------------------------------------------------------------------------
# Plans for (params, actual)

PLAN_CASES = [
    # (id, params, actual spec or None, expected (verb, text) steps)
    # -- build and overwrite on create
    ('create, build false', typed('dir', build=False), None, [DEFINE, START]),
    ('create fs, build false', typed('fs', build=False), None, [DEFINE, START]),
    ('create fs, overwrite', typed('fs', overwrite=True), None,
     [DEFINE, ('build', 'build pool images (OVERWRITE existing data)'), START]),
    ('create disk, overwrite', typed('disk', overwrite=True), None,
     [DEFINE, ('build', 'build pool images (OVERWRITE existing data)'), START]),
    ('create dir, overwrite is only mkdir', typed('dir', overwrite=True), None, [DEFINE, MKDIR, START]),
    ('create rbd, overwrite builds nothing', typed('rbd', overwrite=True), None, [DEFINE, START]),
    # -- autostart
    ('create, autostart true', typed('dir', autostart=True), None, [DEFINE, ENABLE, MKDIR, START]),
    ('create present, autostart true', typed('dir', autostart=True, state='present'), None, [DEFINE, ENABLE]),
    ('create, autostart false', typed('dir', autostart=False), None, [DEFINE, MKDIR, START]),
    ('enable', typed('dir', autostart=True), A(autostart=False), [ENABLE]),
    ('disable', typed('dir', autostart=False), A(autostart=True), [DISABLE]),
    ('autostart unchanged true', typed('dir', autostart=True), A(autostart=True), []),
    ('autostart unchanged false', typed('dir', autostart=False), A(autostart=False), []),
    ('autostart not asked', typed('dir'), A(autostart=True), []),
    ('enable on inactive pool, state inactive', typed('dir', autostart=True, state='inactive'), A(active=False),
     [ENABLE]),
    # -- existing, identical
    ('identical, active', typed('dir'), A(), []),
    ('identical, present on running', typed('dir', state='present'), A(), []),
    ('identical, present on stopped', typed('dir', state='present'), A(active=False), []),
    ('identical, inactive on stopped', typed('dir', state='inactive'), A(active=False), []),
    ('identical rbd, hosts in other order', typed('rbd'), A('rbd'), []),
    ('identical disk with freeExtent', typed('disk'), A('disk'), []),
    ('identical with permissions', typed('dir', target=tgt('/var/lib/libvirt/images', mode='755', owner='0')),
     A(), []),
    ('identical, trailing slash', typed('dir', target=tgt('/var/lib/libvirt/images/')), A(), []),
    # -- existing, only the state differs
    ('stop', typed('dir', state='inactive'), A(), [STOP]),
    ('start', typed('dir'), A(active=False), [START]),
    ('start, target gone: mkdir', typed('dir'), A(active=False, target_exists=False), [MKDIR, START]),
    ('start, target unknown', typed('dir'), A(active=False, target_exists=None), [START]),
    ('start, target gone, build false', typed('dir', build=False), A(active=False, target_exists=False), [START]),
    ('start fs, target gone', typed('fs'), A('fs', active=False, target_exists=False), [NO_OVERWRITE, START]),
    ('start netfs, target gone', typed('netfs'), A('netfs', active=False, target_exists=False), [MKDIR, START]),
    ('start disk is never rebuilt', typed('disk'), A('disk', active=False, target_exists=False), [START]),
    ('start logical is never rebuilt', typed('logical'), A('logical', active=False), [START]),
    ('start, autostart too', typed('dir', autostart=True), A(active=False), [ENABLE, START]),
    # -- existing, definition changed
    ('stopped, path changed, present', typed('dir', state='present', target=tgt('/srv/images')),
     A(active=False), [REDEFINE('target/path')]),
    ('stopped, path changed, inactive', typed('dir', state='inactive', target=tgt('/srv/images')),
     A(active=False), [REDEFINE('target/path')]),
    ('stopped, mode changed, active', typed('dir', target=tgt('/var/lib/libvirt/images', mode='0711')),
     A(active=False), [REDEFINE('target/permissions/mode'), START]),
    ('stopped, owner added', typed('dir', target=tgt('/var/lib/libvirt/images', owner='107', group='0')),
     A(active=False), [REDEFINE('target/permissions/owner'), START]),
    ('stopped netfs, server changed', typed('netfs', source=src(hosts=[host('nfs2.example.com')],
                                                                dir='/export/vms', format='nfs')),
     A('netfs', active=False), [REDEFINE('source/host/@name'), START]),
    ('stopped logical, device added', typed('logical', source=src(name='vg_guests', devices=['/dev/sdb', '/dev/sdc'])),
     A('logical', active=False), [REDEFINE('source/device'), START]),      # a VG is never rebuilt
    ('stopped rbd, monitor removed', typed('rbd', state='present', source=src(
        hosts=[host('mon1.example.com', 6789)], name='libvirt-pool')), A('rbd', active=False),
     [REDEFINE('source/host')]),
    ('running, path changed, inactive', typed('dir', state='inactive', target=tgt('/srv/images')), A(),
     [STOP, REDEFINE('target/path')]),
    ('running, two changes, inactive, enable',
     typed('fs', state='inactive', autostart=True, source=src(devices=['/dev/vdc1'], format='xfs')), A('fs'),
     [STOP, REDEFINE('source/device/@path, source/format/@type'), ENABLE]),
    # -- existing pool, request without what a new pool would need
    ('existing fs, no devices given', typed('fs', source=None), A('fs'), []),
    ('existing dir, no target given', typed('dir', target=None), A(), []),
    ('existing netfs, only target', typed('netfs', source=None), A('netfs'), []),
    ('existing rbd, only name', typed('rbd', source=src(name='libvirt-pool')), A('rbd'), []),
    ('existing logical, only name', typed('logical', source=src(name='vg_guests')), A('logical', active=False),
     [START]),
    ('existing gluster, only name', typed('gluster', source=src(name='gv0')), A('gluster'), []),
    # -- only a state (type None)
    ('state only, stop', params(state='inactive'), A(), [STOP]),
    ('state only, present', params(state='present'), A(), []),
    ('state only, active on running', params(), A('rbd'), []),
    ('state only, start, dir target gone', params(), A(active=False, target_exists=False), [MKDIR, START]),
    ('state only, start logical with device', params(), A('logical-vg', active=False), [START]),
    ('state only, enable', params(autostart=True), A('zfs'), [ENABLE]),
    ('state only, absent', params(state='absent'), A(), [STOP, UNDEFINE_KEPT]),
    ('state only, absent on missing', params(state='absent'), None, []),
    # -- absent
    ('absent, missing', typed('dir', state='absent'), None, []),
    ('absent, active', typed('dir', state='absent'), A(), [STOP, UNDEFINE_KEPT]),
    ('absent, inactive', typed('dir', state='absent'), A(active=False), [UNDEFINE_KEPT]),
    ('absent, transient', typed('dir', state='absent'), A(persistent=False), [STOP]),
    ('absent, other type given', typed('rbd', state='absent'), A('dir'), [STOP, UNDEFINE_KEPT]),
    ('absent, volumes kept', typed('dir', state='absent'), A(volumes=['a.qcow2']), [STOP, UNDEFINE_KEPT]),
    # -- delete_data
    ('delete_data, no volumes', params(state='absent', delete_data=True), A(),
     [STOP, ('delete', 'delete the storage of pool images'), ('undefine', 'undefine pool images')]),
    ('delete_data, force, no volumes', params(state='absent', delete_data=True, force=True), A('logical'),
     [STOP, ('delete', 'delete the storage of pool images (remove volume group vg_guests)'), ('undefine', 'undefine pool images')]),
    ('delete_data, force, volumes', params(state='absent', delete_data=True, force=True),
     A(volumes=['web.qcow2', 'db.qcow2']),
     [('delete_volume', 'delete volume db.qcow2 of pool images'),
      ('delete_volume', 'delete volume web.qcow2 of pool images'),
      STOP, ('delete', 'delete the storage of pool images'), ('undefine', 'undefine pool images')]),
    ('delete_data, missing', params(state='absent', delete_data=True), None, []),
]


@pytest.mark.parametrize('case_id, p, spec, expected', PLAN_CASES, ids=[c[0] for c in PLAN_CASES])
def test_plan(case_id, p, spec, expected):
    pl, after = run(p, spec)
    assert steps_of(pl) == expected
    assert pl.changed is bool(expected)
    assert pl.actions == [text for _unused, text in expected]
    if p['state'] == 'absent':
        assert after is None
    else:
        assert after is not None
        assert after.findtext('name') == 'images'


def test_build_step_args():
    pl, _unused = run(typed('fs', overwrite=True), None)
    build = [s for s in pl.steps if s.verb == 'build'][0]
    assert build.args == {'kind': 'format', 'overwrite': True, 'new': True, 'type': 'fs', 'devices': ['/dev/vdb1'],
                          'format': 'ext4'}
    pl, _unused = run(typed('dir', overwrite=True), None)
    build = [s for s in pl.steps if s.verb == 'build'][0]
    assert build.args == {'kind': 'mkdir', 'overwrite': False, 'new': True, 'type': 'dir', 'devices': [],
                          'format': None}
    pl, _unused = run(typed('fs'), A('fs', active=False, target_exists=False))
    assert pl.steps[0].args == {'kind': 'format', 'overwrite': False, 'new': False, 'type': 'fs',
                                'devices': ['/dev/vdb1'], 'format': 'ext4'}
    pl, _unused = run(typed('dir', autostart=False), A(autostart=True))
    assert pl.steps[0].args == {'value': False}


REDEFINE_CASES = [
    # (id, params, actual spec, xpath in the new definition, expected values)
    ('uuid kept', typed('dir', state='present', target=tgt('/srv/images')), A(active=False), 'uuid', [UUID]),
    ('new path', typed('dir', state='present', target=tgt('/srv/images')), A(active=False), 'target/path',
     ['/srv/images']),
    ('permissions kept', typed('dir', state='present', target=tgt('/srv/images')), A(active=False),
     'target/permissions/mode', ['0755']),
    ('mode overlaid, owner kept', typed('dir', target=tgt('/var/lib/libvirt/images', mode='0711')),
     A(active=False), 'target/permissions/*', ['0711', '0', '0']),
    ('devices replaced as a list', typed('logical', source=src(name='vg_guests', devices=['/dev/sdc', '/dev/sdd'])),
     A('logical', active=False), 'source/device/@path', ['/dev/sdc', '/dev/sdd']),
    ('format kept', typed('logical', source=src(name='vg_guests', devices=['/dev/sdc', '/dev/sdd'])),
     A('logical', active=False), 'source/format/@type', ['lvm2']),
    ('monitors replaced, auth kept', typed('rbd', state='present', source=src(
        hosts=[host('mon9.example.com', 3300)], name='libvirt-pool')), A('rbd', active=False),
     'source/host/@name|source/auth/secret/@uuid', ['mon9.example.com', UUID]),
    ('running, stop and redefine keeps uuid', typed('dir', state='inactive', target=tgt('/srv/images')), A(),
     'uuid', [UUID]),
]


@pytest.mark.parametrize('case_id, p, spec, xpath, expected', REDEFINE_CASES, ids=[c[0] for c in REDEFINE_CASES])
def test_redefine_keeps_definition(case_id, p, spec, xpath, expected):
    actual = make_actual(spec)
    before = _xml.canonical(actual.element)
    pl, after = plan(request_from_params(p), actual)
    define = [s for s in pl.steps if s.verb == 'define'][0]
    assert define.args['new'] is False
    assert define.args['element'] is after
    assert define.args['previous'] is actual.element
    assert _xml.canonical(actual.element) == before          # actual untouched
    assert [n if isinstance(n, str) else n.text for n in after.xpath(xpath)] == expected
    assert _xml.contains(after, request_from_params(p).element)


# ---------------------------------------------------------------------------------------
# Refusals of the planner

ERROR_CASES = [
    # (id, params, actual spec, exception class, fragments of the message)
    ('running, path changed', typed('dir', target=tgt('/srv/images')), A(), ConflictError,
     ['pool images is running', 'differs in target/path', 'set state: inactive']),
    ('running, path changed, present', typed('dir', state='present', target=tgt('/srv/images')), A(),
     ConflictError, ['target/path']),
    ('running netfs, server changed',
     typed('netfs', source=src(hosts=[host('nfs2.example.com')], dir='/export/vms', format='nfs')),
     A('netfs'), ConflictError, ['source/host/@name']),
    ('running fs, two changes', typed('fs', source=src(devices=['/dev/vdc1'], format='xfs')), A('fs'),
     ConflictError, ['source/device/@path, source/format/@type']),
    ('running rbd, monitor added', typed('rbd', source=src(
        hosts=[host('mon1.example.com', 6789), host('mon2.example.com', 6789), host('mon3.example.com', 6789)],
        name='libvirt-pool')), A('rbd'), ConflictError, ['source/host']),
    ('type change', typed('netfs'), A('dir'), ConflictError,
     ['pool images exists with type dir, not netfs', 'state: absent keeps its data']),
    ('type change, stopped', typed('fs', state='present'), A('dir', active=False), ConflictError,
     ['exists with type dir, not fs']),
    ('type change by xml', params(xml="<pool type='netfs'><name>images</name></pool>"), A('dir'), ConflictError,
     ['exists with type dir, not netfs']),
    ('state only, missing pool', params(), None, KvmStorageError,
     ['pool images does not exist', 'set type']),
    ('state only present, missing pool', params(state='present', autostart=True), None, KvmStorageError,
     ['does not exist']),
    ('delete_data, volumes, no force', params(state='absent', delete_data=True),
     A(volumes=['web.qcow2', 'db.qcow2']), KvmStorageError,
     ['refusing to delete the data of pool images', '2 volume(s) (db.qcow2, web.qcow2)', 'force: true']),
    ('delete_data, many volumes', params(state='absent', delete_data=True),
     A(volumes=['v%d' % i for i in range(7)]), KvmStorageError, ['7 volume(s) (v0, v1, v2, v3, v4 and 2 more)']),
    ('delete_data, inactive', params(state='absent', delete_data=True, force=True), A(active=False),
     KvmStorageError, ['pool images is inactive', 'state: active']),
]


@pytest.mark.parametrize('case_id, p, spec, exc_class, fragments', ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_plan_refuses(case_id, p, spec, exc_class, fragments):
    with pytest.raises(exc_class) as exc:
        run(p, spec)
    for fragment in fragments:
        assert fragment in exc.value.msg


def test_conflict_details():
    with pytest.raises(ConflictError) as exc:
        run(typed('dir', target=tgt('/srv/images', mode='0700')), A())
    assert sorted(exc.value.details['differences']) == ['pool/target/path', 'pool/target/permissions/mode']
    with pytest.raises(KvmStorageError) as exc:
        run(params(state='absent', delete_data=True), A(volumes=['b', 'a']))
    assert exc.value.details['volumes'] == ['a', 'b']


MISSING_CASES = [
    # (type, typed options, fragments naming what a new pool needs)
    ('dir', dict(), ['target.path (where the pool keeps or mounts its volumes)']),
    ('dir', dict(target=tgt(None, mode='0755')), ['target.path']),
    ('fs', dict(target=tgt('/srv/fs')), ['source.devices (the block device that holds the filesystem)']),
    ('fs', dict(source=src(devices=['/dev/vdb1'])), ['target.path']),
    ('netfs', dict(target=tgt('/mnt/nfs')), ['source.hosts (the file server)', 'source.dir (the exported']),
    ('netfs', dict(source=src(hosts=[host('nfs.example.com')]), target=tgt('/mnt/nfs')), ['source.dir']),
    ('logical', dict(source=src(devices=['/dev/sdb'])), ['source.name (the volume group name)']),
    ('disk', dict(source=src(format='gpt')), ['source.devices (the disk to partition)']),
    ('iscsi', dict(source=src(hosts=[host('san.example.com')])), ['source.devices (the target IQN)']),
    ('iscsi_direct', dict(source=src(hosts=[host('192.0.2.10')], devices=[IQN_T])),
     ['source.initiator (the initiator IQN libiscsi logs in with)']),
    ('scsi', dict(), ['source.adapter (the SCSI host adapter)']),
    ('gluster', dict(source=src(hosts=[host('gluster1.example.com')])), ['source.name (the gluster volume name)']),
    ('rbd', dict(source=src(name='libvirt-pool')), ['source.hosts (the Ceph monitors)']),
    ('zfs', dict(source=src(devices=['/dev/sde'])), ['source.name (the zpool name)']),
]


@pytest.mark.parametrize('pool_type, options, fragments', MISSING_CASES,
                         ids=['%s-%d' % (c[0], i) for i, c in enumerate(MISSING_CASES)])
@pytest.mark.parametrize('state', ['active', 'present', 'inactive'])
def test_create_needs_required_options(pool_type, options, fragments, state):
    with pytest.raises(KvmStorageError) as exc:
        run(params(pool_type, state=state, **options), None)
    assert exc.value.msg.startswith('pool images of type %s cannot be created without ' % pool_type)
    for fragment in fragments:
        assert fragment in exc.value.msg


@pytest.mark.parametrize('pool_type, options, fragments', MISSING_CASES,
                         ids=['%s-%d' % (c[0], i) for i, c in enumerate(MISSING_CASES)])
def test_existing_pool_needs_no_required_options(pool_type, options, fragments):
    # The same incomplete request on a pool that exists (running, with that part of the
    # definition the same) is fine: no error and nothing to do, or absent works.
    p = params(pool_type, **options)
    pl, _unused = run(p, A(pool_type))
    assert steps_of(pl) == []
    pl, _unused = run(dict(p, state='absent'), A(pool_type))
    assert steps_of(pl) == [STOP, UNDEFINE_KEPT]


# ---------------------------------------------------------------------------------------
# request_from_params: refusals

BAD_PARAMS = [
    # (id, params, fragment)
    ('slash in name', params('dir', name='a/b', target=tgt('/p')), 'must not contain "/"'),
    ('dot-dot name', params('dir', name='..', target=tgt('/p')), 'must not contain ".."'),
    ('dot-dot inside name', params('dir', name='a..b', target=tgt('/p')), 'must not contain ".."'),
    ('control char in name', params('dir', name='im\nages', target=tgt('/p')), 'control characters'),
    ('empty name', params('dir', name='', target=tgt('/p')), 'must not be empty'),
    ('dir takes no source', typed('dir', source=src(dir='/x')), 'source.dir does not apply to pool type dir'),
    ('fs takes no hosts', typed('fs', source=src(devices=['/dev/vdb1'], hosts=[host('h')])),
     'source.hosts does not apply to pool type fs'),
    ('rbd takes no devices', typed('rbd', source=src(hosts=[host('m')], name='p', devices=['/dev/sdb'])),
     'source.devices does not apply to pool type rbd'),
    ('netfs takes no auth', typed('netfs', source=src(hosts=[host('h')], dir='/e', auth=auth('chap', usage='u'))),
     'source.auth does not apply to pool type netfs'),
    ('scsi takes no name', typed('scsi', source=src(adapter=adapter(name='host0'), name='x')),
     'source.name does not apply to pool type scsi'),
    ('logical takes no initiator', typed('logical', source=src(name='vg', initiator=IQN_I)),
     'source.initiator does not apply'),
    ('iscsi takes no adapter', typed('iscsi', source=src(hosts=[host('h')], devices=[IQN_T], adapter=adapter())),
     'source.adapter does not apply'),
    ('fs protocol version', typed('fs', source=src(devices=['/dev/vdb1'], protocol_version='4')),
     'source.protocol_version does not apply'),
    ('fs format on netfs', typed('netfs', source=src(hosts=[host('h')], dir='/e', format='ext4')),
     "source.format 'ext4' is not a netfs pool format; use one of auto, nfs, glusterfs, cifs"),
    ('nfs format on fs', typed('fs', source=src(devices=['/dev/vdb1'], format='nfs')),
     "source.format 'nfs' is not a fs pool format"),
    ('bad disk label', typed('disk', source=src(devices=['/dev/sdd'], format='msdos')),
     "source.format 'msdos' is not a disk pool format"),
    ('format on rbd', typed('rbd', source=src(hosts=[host('m')], name='p', format='raw')),
     'source.format does not apply to pool type rbd'),
    ('target on gluster', typed('gluster', target=tgt('/mnt/g')), 'a gluster pool has no target'),
    ('target on rbd', typed('rbd', target=tgt('/mnt/r')), 'a rbd pool has no target'),
    ('target on iscsi_direct', typed('iscsi_direct', target=tgt('/dev/disk/by-path')),
     'a iscsi_direct pool has no target'),
    ('permissions on zfs', typed('zfs', target=tgt(None, mode='0755')), 'a zfs pool has no target'),
    ('relative target', typed('dir', target=tgt('images')), "target.path 'images' must be an absolute path"),
    ('dot-relative target', typed('dir', target=tgt('./images')), 'must be an absolute path'),
    ('bad mode 8', typed('dir', target=tgt('/p', mode='0855')), "mode '0855' is not an octal mode"),
    ('bad mode letters', typed('dir', target=tgt('/p', mode='u+rwx')), 'is not an octal mode such as 0755'),
    ('bad mode short', typed('dir', target=tgt('/p', mode='75')), 'is not an octal mode'),
    ('bad mode long', typed('dir', target=tgt('/p', mode='107555')), 'is not an octal mode'),
    ('owner name without resolver', typed('dir', target=tgt('/p', owner='qemu')), "'qemu' must be numeric"),
    ('two devices for fs', typed('fs', source=src(devices=['/dev/vdb1', '/dev/vdc1'])),
     'a fs pool takes at most 1 entry in source.devices'),
    ('two devices for disk', typed('disk', source=src(devices=['/dev/sdd', '/dev/sde'])),
     'a disk pool takes at most 1 entry in source.devices'),
    ('two hosts for netfs', typed('netfs', source=src(hosts=[host('a'), host('b')], dir='/e')),
     'a netfs pool takes at most 1 entry in source.hosts'),
    ('two portals for iscsi', typed('iscsi', source=src(hosts=[host('a'), host('b')], devices=[IQN_T])),
     'at most 1 entry in source.hosts'),
    ('ceph auth on iscsi', typed('iscsi', source=src(hosts=[host('a')], devices=[IQN_T],
                                                     auth=auth('ceph', uuid=UUID))),
     'auth type ceph does not apply to pool type iscsi'),
    ('chap auth on rbd', typed('rbd', source=src(hosts=[host('m')], name='p', auth=auth('chap', usage='u'))),
     'auth type chap does not apply to pool type rbd'),
    ('empty device', typed('logical', source=src(name='vg', devices=[''])), 'source.devices holds an empty'),
    ('control char in device', typed('logical', source=src(name='vg', devices=['/dev/sdb\n'])),
     'empty or malformed entry'),
    ('source without type', params(source=src(name='vg')), 'set type when giving source or target options'),
    ('target without type', params(target=tgt('/p')), 'set type when giving source or target'),
    ('delete_data, state active', params('dir', delete_data=True), 'delete_data only applies with state: absent'),
    ('delete_data, state present', params(state='present', delete_data=True, force=True),
     'delete_data only applies with state: absent'),
    ('xml wrong root', params(xml="<volume type='file'><name>images</name></volume>"),
     'the xml option must hold a <pool> element, not <volume>'),
    ('xml unknown type', params(xml="<pool type='vstorage'><name>images</name></pool>"),
     "the xml option has pool type 'vstorage'; known types are dir, disk, fs, gluster"),
    ('xml without type', params(xml="<pool><name>images</name></pool>"), 'pool type None'),
    ('xml module spelling of the type', params(xml="<pool type='iscsi_direct'/>"), "pool type 'iscsi_direct'"),
    ('xml name mismatch', params(xml="<pool type='dir'><name>other</name></pool>"),
     "the xml option names the pool 'other'; the two must match"),
    ('xml empty name', params(xml="<pool type='dir'><name/></pool>"), "names the pool ''"),
    ('xml malformed', params(xml="<pool type='dir'><name>images</name>"),
     'the xml option of pool images is not well-formed XML'),
    ('xml with external entity', params(xml='<!DOCTYPE pool [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                                            '<pool type="&e;"/>'), 'not well-formed XML'),
]


@pytest.mark.parametrize('case_id, p, fragment', BAD_PARAMS, ids=[c[0] for c in BAD_PARAMS])
def test_request_refused(case_id, p, fragment):
    with pytest.raises(KvmStorageError) as exc:
        request_from_params(p)
    assert fragment in exc.value.msg


# ---------------------------------------------------------------------------------------
# request_from_params: what the request holds

def _resolve_user(name):
    return {'qemu': 107, 'libvirt-qemu': 64055}[name]


def _resolve_group(name):
    return {'kvm': 36, 'libvirt': 992}[name]


def _never(name):
    raise AssertionError('resolver called for %r' % name)


GOOD_PARAMS = [
    # (id, params, resolvers, {xpath: expected values} for the request element)
    ('mode 755 normalised', typed('dir', target=tgt('/p', mode='755')), None,
     {'target/permissions/mode': ['0755']}),
    ('mode 0700 kept', typed('dir', target=tgt('/p', mode='0700')), None, {'target/permissions/mode': ['0700']}),
    ('mode 1777', typed('dir', target=tgt('/p', mode='1777')), None, {'target/permissions/mode': ['1777']}),
    ('mode 00750', typed('dir', target=tgt('/p', mode='00750')), None, {'target/permissions/mode': ['0750']}),
    ('mode with spaces', typed('dir', target=tgt('/p', mode=' 644 ')), None, {'target/permissions/mode': ['0644']}),
    ('trailing slash removed', typed('dir', target=tgt('/srv/images/')), None, {'target/path': ['/srv/images']}),
    ('trailing slashes removed', typed('dir', target=tgt('/srv/images///')), None, {'target/path': ['/srv/images']}),
    ('root path kept', typed('dir', target=tgt('/')), None, {'target/path': ['/']}),
    ('owner and group names resolved', typed('dir', target=tgt('/p', owner='qemu', group='kvm')),
     (_resolve_user, _resolve_group), {'target/permissions/owner': ['107'], 'target/permissions/group': ['36']}),
    ('numeric owner kept', typed('dir', target=tgt('/p', owner='0', group='107')), (_never, _never),
     {'target/permissions/owner': ['0'], 'target/permissions/group': ['107']}),
    ('owner -1 kept', typed('dir', target=tgt('/p', owner='-1', group=' 5 ')), (_never, _never),
     {'target/permissions/owner': ['-1'], 'target/permissions/group': ['5']}),
    ('label passed through', typed('dir', target=tgt('/p', label='system_u:object_r:virt_image_t:s0')), None,
     {'target/permissions/label': ['system_u:object_r:virt_image_t:s0'], 'target/permissions/mode': []}),
    ('no permissions element when none given', typed('dir', target=tgt('/p', mode=None)), None,
     {'target/permissions': []}),
    ('xml without name gets one first', params(xml="<pool type='dir'><target><path>/p</path></target></pool>"),
     None, {'*[1]/self::name': ['images'], 'name': ['images'], 'target/path': ['/p']}),
    ('xml name kept', params(xml="<pool type='dir'>\n  <name> images </name>\n</pool>"), None,
     {'name': [' images ']}),
    ('typed element', typed('rbd'), None,
     {'/pool/@type': ['rbd'], 'name': ['images'], 'source/host/@port': ['6789', '6789'],
      'source/auth/secret/@uuid': [UUID], 'target': []}),
    ('iscsi_direct spelled the libvirt way', typed('iscsi_direct'), None, {'/pool/@type': ['iscsi-direct']}),
]


@pytest.mark.parametrize('case_id, p, resolvers, expected', GOOD_PARAMS, ids=[c[0] for c in GOOD_PARAMS])
def test_request_element(case_id, p, resolvers, expected):
    kw = {}
    if resolvers:
        kw = dict(resolve_user=resolvers[0], resolve_group=resolvers[1])
    request = request_from_params(p, **kw)
    for xpath, values in expected.items():
        got = [n if isinstance(n, str) else n.text for n in request.element.xpath(xpath)]
        assert got == values, xpath


REQUEST_FIELDS = [
    # (id, params, expected attributes of the request)
    ('typed', typed('dir', autostart=True, build=False),
     dict(type='dir', state='active', autostart=True, build=False, missing=())),
    ('xml type mapped', params(xml="<pool type='iscsi-direct'><name>images</name></pool>"),
     dict(type='iscsi_direct', missing=())),
    ('state only', params(state='inactive'), dict(type=None, element=None, state='inactive')),
    ('absent, delete_data', params(state='absent', delete_data=True, force=True),
     dict(state='absent', delete_data=True, force=True)),
    ('missing listed', params('netfs', target=tgt('/mnt')), dict(
        missing=('source.hosts (the file server)', 'source.dir (the exported directory (for glusterfs: the volume '
                 'name))'))),
]


@pytest.mark.parametrize('case_id, p, expected', REQUEST_FIELDS, ids=[c[0] for c in REQUEST_FIELDS])
def test_request_fields(case_id, p, expected):
    request = request_from_params(p)
    assert request.name == 'images'
    for key, value in expected.items():
        assert getattr(request, key) == value, key


def test_xml_request_plans():
    libvirt_form = ACTUAL_XML['dir']
    pl, _unused = run(params(xml=libvirt_form.replace('<capacity', '<!-- c --><capacity')), A(active=True))
    assert steps_of(pl) == []
    changed = "<pool type='dir'><name>images</name><target><path>/srv/images</path></target></pool>"
    pl, after = run(params(xml=changed, state='present'), A(active=False))
    assert steps_of(pl) == [REDEFINE('target/path')]
    assert after.findtext('uuid') == UUID
    xml = ("<pool type='iscsi-direct'><source><host name='h'/><device path='%s'/><initiator>"
           "<iqn name='%s'/></initiator></source></pool>" % (IQN_T, IQN_I))
    pl, _unused = run(params(xml=xml), None)
    assert steps_of(pl) == [DEFINE, START]


# ---------------------------------------------------------------------------------------
# Cases that once were bugs

def test_xml_request_ignores_runtime_values():
    pasted = ACTUAL_XML['dir'].replace('105089261568', '105089261000').replace('37288570880', '37288570000')
    pl, _unused = run(params(xml=pasted), A())
    assert steps_of(pl) == []


def test_target_path_double_slash_normalised():
    request = request_from_params(typed('dir', target=tgt('/var/lib//libvirt/images/')))
    assert request.element.findtext('target/path') == '/var/lib/libvirt/images'
    pl, _unused = plan(request, make_actual(A()))
    assert steps_of(pl) == []


def test_delete_data_on_transient_pool_is_refused():
    with pytest.raises(KvmStorageError):
        run(params(state='absent', delete_data=True), A(persistent=False))


@pytest.mark.parametrize('p', [typed('dir', state='present'), typed('dir'), typed('dir', autostart=True)],
                         ids=['present', 'active', 'autostart'])
def test_transient_pool_is_made_persistent(p):
    try:
        pl, _unused = run(p, A(persistent=False))
    except KvmStorageError:
        return
    assert pl.verbs()[:1] == ['define']


def test_changed_target_path_is_built_before_start():
    pl, _unused = run(typed('dir', target=tgt('/srv/images')), A(active=False, target_exists=True))
    assert pl.verbs() == ['define', 'build', 'start']


# ---------------------------------------------------------------------------------------
# build_refusal(): what blkid finds on a device that a no-overwrite build would destroy

MiB = 1024 * 1024

BUILD_REFUSAL = [
    # (id, pool type, requested format, signature, first non-zero byte, words in the refusal or None)
    ('fs on a blank device', 'fs', 'ext4', {}, None, None),
    ('fs over the same filesystem (libvirt: already built)', 'fs', 'ext4', {'TYPE': 'ext4'}, 1024, None),
    ('fs over another filesystem', 'fs', 'ext4', {'TYPE': 'ext2'}, 1024, 'holds a ext2 filesystem'),
    ('fs over a PV label', 'fs', 'xfs', {'TYPE': 'LVM2_member'}, 512, 'holds a LVM2_member filesystem'),
    ('fs with format auto: nothing to compare', 'fs', 'auto', {'TYPE': 'ext2'}, 1024, None),
    ('fs over a dos partition table', 'fs', 'ext4', {'PTTYPE': 'dos'}, 446, 'holds a dos partition table'),
    ('fs, format auto, over a gpt table', 'fs', 'auto', {'PTTYPE': 'gpt'}, 446, 'holds a gpt partition table'),
    ('fs over data without a signature', 'fs', 'ext4', {}, 8 * MiB, 'data that blkid does not recognise'),
    ('fs, format auto, over data without a signature', 'fs', 'auto', {}, 0, 'offset 0'),
    ('logical on a blank device', 'logical', 'lvm2', {}, None, None),
    ('logical over a PV label (libvirt decides)', 'logical', 'lvm2', {'TYPE': 'LVM2_member'}, 512, None),
    ('logical over a filesystem', 'logical', 'lvm2', {'TYPE': 'xfs'}, 0, 'holds a xfs signature'),
    ('logical over a partition table', 'logical', 'lvm2', {'PTTYPE': 'gpt'}, 446, 'holds a gpt partition table'),
    ('logical over data without a signature', 'logical', 'lvm2', {}, 3 * MiB, 'at offset 3145728'),
    ('disk on a blank device', 'disk', 'gpt', {}, None, None),
    ('disk over the same table', 'disk', 'gpt', {'PTTYPE': 'gpt'}, 446, None),
    ('disk over another table', 'disk', 'gpt', {'PTTYPE': 'dos'}, 446, 'holds a dos partition table'),
    ('disk, default dos, over dos', 'disk', None, {'PTTYPE': 'dos'}, 446, None),
    ('disk over a whole-device filesystem', 'disk', 'gpt', {'TYPE': 'ext4'}, 1024, 'holds a ext4 signature'),
    ('disk over data without a signature', 'disk', 'gpt', {}, 4096, 'data that blkid does not recognise'),
    ('dir pools are never formatted', 'dir', None, {'TYPE': 'ext4'}, 0, None),
    ('netfs pools are never formatted', 'netfs', None, {}, 0, None),
]


@pytest.mark.parametrize('case_id, pool_type, fmt, signature, data_at, words', BUILD_REFUSAL,
                         ids=[c[0] for c in BUILD_REFUSAL])
def test_build_refusal(case_id, pool_type, fmt, signature, data_at, words):
    why = build_refusal(pool_type, fmt, '/dev/vdz', signature, data_at)
    if words is None:
        assert why is None, case_id
    else:
        assert words in why and '/dev/vdz' in why and 'overwrite: true' in why, (case_id, why)
        assert '\n' not in why


def test_build_refusal_says_when_it_sampled():
    assert 'in the blocks sampled, the first at offset 5' in build_refusal('fs', 'ext4', '/dev/vdz', {}, 5, whole=False)
    assert 'non-zero bytes on it, the first at offset 5' in build_refusal('fs', 'ext4', '/dev/vdz', {}, 5)


# The adapter probes the devices a no-overwrite build may format (devices_to_probe) before
# planning; the planner refuses from its probes, in check mode and real runs alike.

REFUSE_BUILD = [
    # (id, params, actual spec, probes {device: (signature, data_at)}, words or None, devices probed)
    ('new fs pool over data', typed('fs'), None, {'/dev/vdb1': ({}, 4096)}, 'refusing to build pool images: device '
     '/dev/vdb1 holds data that blkid does not recognise', ['/dev/vdb1']),
    ('new fs pool over zeros', typed('fs'), None, {'/dev/vdb1': ({}, None)}, None, ['/dev/vdb1']),
    ('new fs pool over a dos table', typed('fs'), None, {'/dev/vdb1': ({'PTTYPE': 'dos'}, 446)},
     'holds a dos partition table', ['/dev/vdb1']),
    ('overwrite: no probe, no refusal', typed('fs', overwrite=True), None, {'/dev/vdb1': ({}, 0)}, None, []),
    ('new logical pool over data', typed('logical'), None, {'/dev/sdb': ({}, 0)}, 'device /dev/sdb', ['/dev/sdb']),
    ('logical over an existing VG: no build', typed('logical-vg'), None, {}, None, []),
    ('new disk pool over data', typed('disk'), None, {'/dev/sdd': ({}, 512)}, 'device /dev/sdd', ['/dev/sdd']),
    ('remote URI: no probe, left to libvirt', typed('fs'), None, {}, None, ['/dev/vdb1']),
    ('stopped fs pool whose target went: the stored device', params(), A('fs', active=False, target_exists=False),
     {'/dev/vdb1': ({}, 0)}, 'device /dev/vdb1', ['/dev/vdb1']),
    ('stopped fs pool whose target moves', typed('fs', target=tgt('/srv/elsewhere')),
     A('fs', active=False), {'/dev/vdb1': ({}, 0)}, 'device /dev/vdb1', ['/dev/vdb1']),
    ('stopped fs pool, target there: started, not built', typed('fs'), A('fs', active=False),
     {'/dev/vdb1': ({}, 0)}, None, []),
    ('stopped fs pool, target there, build: false', typed('fs', build=False), A('fs', active=False, target_exists=False),
     {}, None, []),
    ('state present: no build', typed('fs', state='present'), None, {}, None, []),
    ('running pool: no build', typed('fs'), A('fs'), {'/dev/vdb1': ({}, 0)}, None, []),
    ('dir pool: mkdir only', typed('dir'), None, {}, None, []),
]


@pytest.mark.parametrize('case_id, p, spec, probes, words, probed', REFUSE_BUILD, ids=[c[0] for c in REFUSE_BUILD])
def test_refuse_build(case_id, p, spec, probes, words, probed):
    request, actual = request_from_params(p), make_actual(spec)
    assert devices_to_probe(request, actual) == probed
    facts = PoolFacts(probes=dict((dev, DeviceProbe(sig, data_at)) for dev, (sig, data_at) in probes.items()))
    if words is None:
        plan(request, actual, facts)
        return
    with pytest.raises(KvmStorageError) as exc:
        plan(request, actual, facts)
    assert words in exc.value.msg and 'set overwrite: true' in exc.value.msg, exc.value.msg
    assert '\n' not in exc.value.msg


# What else the adapter read of the host before planning: devices given by a symlink (a
# logical pool is defined with the device LVM reports), devices that do not exist and a
# target path that is a file (a create that cannot work is refused before any write).

HOST_FACTS = [
    # (id, params, actual spec, PoolFacts, words of the refusal or None, devices of the define step)
    ('logical pool over a by-id link: defined with the device',
     typed('logical', source=src(name='vg_guests', devices=['/dev/disk/by-id/virtio-a'])), None,
     PoolFacts(real_paths={'/dev/disk/by-id/virtio-a': '/dev/sdb'}), None, ['/dev/sdb']),
    ('logical pool over a link that matches the running pool: nothing to do',
     typed('logical', source=src(name='vg_guests', devices=['/dev/disk/by-id/virtio-a'])), A('logical'),
     PoolFacts(real_paths={'/dev/disk/by-id/virtio-a': '/dev/sdb'}), None, None),
    ('fs pool over a link: kept as given (libvirt mounts it)',
     typed('fs', source=src(devices=['/dev/disk/by-id/virtio-b'], format='ext4')), None,
     PoolFacts(real_paths={'/dev/disk/by-id/virtio-b': '/dev/vdb1'}), None, ['/dev/disk/by-id/virtio-b']),
    ('missing device', typed('fs'), None, PoolFacts(missing=['/dev/vdb1']),
     'pool images: source device /dev/vdb1 does not exist on this host', None),
    ('missing device behind a broken link', typed('logical', source=src(name='vg_guests', devices=['/dev/disk/by-id/x'])),
     None, PoolFacts(real_paths={'/dev/disk/by-id/x': '/dev/sdq'}, missing=['/dev/disk/by-id/x', '/dev/sdq']),
     'source device /dev/sdq does not exist', None),
    ('missing device of an existing pool: not looked at', typed('fs'), A('fs'), PoolFacts(missing=['/dev/vdb1']),
     None, None),
    ('missing device of a zfs pool', typed('zfs'), None, PoolFacts(missing=['/dev/sde']),
     'source device /dev/sde does not exist', None),
    ('a netfs pool has no source device to check', typed('netfs'), None, PoolFacts(missing=['/dev/vdb1']), None,
     []),
    ('target path is a file', typed('dir'), None, PoolFacts(target='other'),
     'pool images: target path /var/lib/libvirt/images exists and is not a directory', None),
    ('target path is a directory', typed('dir'), None, PoolFacts(target='dir'), None, []),
    ('a logical pool target is not checked', typed('logical'), None, PoolFacts(target='other'), None, ['/dev/sdb']),
]


@pytest.mark.parametrize('case_id, p, spec, facts, words, devices', HOST_FACTS, ids=[c[0] for c in HOST_FACTS])
def test_host_facts(case_id, p, spec, facts, words, devices):
    request, actual = request_from_params(p), make_actual(spec)
    if words is not None:
        with pytest.raises(KvmStorageError) as exc:
            plan(request, actual, facts)
        assert words in exc.value.msg, exc.value.msg
        return
    steps, after = plan(request, actual, facts)
    defines = [s for s in steps.steps if s.verb == 'define']
    if devices is None:
        assert not steps.changed, steps.actions
        return
    assert [d.get('path') for d in defines[0].args['element'].findall('source/device')] == devices
    assert [d.get('path') for d in after.findall('source/device')] == devices
    # the request itself is left as the user gave it
    assert [d.get('path') for d in request.element.findall('source/device')] == ((p['source'] or {}).get('devices') or [])


# ---------------------------------------------------------------------------------------
# delete_data on a logical pool counts what LVM reports, not what libvirt lists

def logical_actual(volumes=(), lvs=None, lvs_error=None):
    return PoolActual('logical', _xml.parse(ACTUAL_XML['logical']), True, True, False, list(volumes), True,
                      lvs=lvs, lvs_error=lvs_error)


DELETE_LOGICAL = [
    # (id, force, libvirt volumes, LVM's LVs, lvs error, words of the refusal or the delete step)
    ('empty VG', False, [], {}, None, 'delete the storage of pool images (remove volume group vg_guests)'),
    ('thin pool and thin volume libvirt does not list', False, [], {'tp': 'thin pool', 'thin1': 'thin volume'}, None,
     "its volume group vg_guests holds 2 logical volume(s) that LVM reports (thin1 (thin volume), tp (thin pool))"),
    ('inactive LV', False, [], {'old': 'inactive LV'}, None, 'holds 1 logical volume(s) that LVM reports (old (inactive LV))'),
    ('LV made after the pool started', False, ['data'], {'data': 'LV', 'late': 'LV'}, None,
     'holds 2 logical volume(s) that LVM reports (data (LV), late (LV))'),
    ('LVM could not be asked', False, [], None, 'the URI is not local', 'cannot count the logical volumes of volume '
     'group vg_guests (the URI is not local'),
    ('force over LVs libvirt does not list', True, ['data'], {'data': 'LV', 'tp': 'thin pool'}, None,
     'delete the storage of pool images (remove volume group vg_guests with LVs libvirt does not list: tp)'),
    ('force when LVM could not be asked', True, [], None, 'lvs failed', 'delete the storage of pool images (remove '
     'volume group vg_guests)'),
]


@pytest.mark.parametrize('case_id, force, volumes, lvs, error, words', DELETE_LOGICAL, ids=[c[0] for c in DELETE_LOGICAL])
def test_delete_data_of_logical_pool(case_id, force, volumes, lvs, error, words):
    request = request_from_params(params(state='absent', delete_data=True, force=force))
    actual = logical_actual(volumes, lvs, error)
    if words.startswith('delete the storage'):
        pl, _unused = plan(request, actual)
        assert words in pl.actions, pl.actions
        assert pl.verbs()[-3:] == ['stop', 'delete', 'undefine']
        return
    with pytest.raises(KvmStorageError) as exc:
        plan(request, actual)
    assert words in exc.value.msg and 'force: true' in exc.value.msg, exc.value.msg
    assert exc.value.msg.startswith('refusing to delete the data of pool images')


def test_delete_data_of_other_pools_ignores_lvs():
    pl, _unused = run(params(state='absent', delete_data=True), A())
    assert pl.actions[-2:] == ['delete the storage of pool images', 'undefine pool images']
