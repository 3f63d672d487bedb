# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The volume planner and request validation as tables: (params, world) -> steps or error."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _volume
from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._volume import (
    ImportFacts, PoolView, World, lock_probe_paths, needs_usage, plan, pools_to_refresh, requests_from_params,
    volume_options)

KiB = 1024
MiB = 1024 ** 2
GiB = 1024 ** 3
TiB = 1024 ** 4
IMAGES = '/var/lib/libvirt/images'


# ---------------------------------------------------------------------------------------
# Params as AnsibleModule gives them (every key present, None when not set)

def _blank():
    return dict((key, None) for key in volume_options())


def params(**kw):
    p = _blank()
    p['volumes'] = None
    p.update(kw)
    return p


def item(**kw):
    p = _blank()
    p.update(kw)
    return p


def ref(name=None, pool=None, path=None, fmt=None):
    """A backing option as AnsibleModule gives it (clone_from has no path and format)."""
    return {'pool': pool, 'name': name, 'path': path, 'format': fmt}


def cref(name=None, pool=None):
    return {'pool': pool, 'name': name}


def perms(mode=None, owner=None, group=None, label=None):
    return {'mode': mode, 'owner': owner, 'group': group, 'label': label}


def vp(**kw):
    """Params for one volume of pool images."""
    kw.setdefault('pool', 'images')
    return params(**kw)


# ---------------------------------------------------------------------------------------
# The world: volumes as _volume_xml.parse gives them

def vol(name, directory=IMAGES, fmt='raw', capacity=10 * GiB, backing=None, vol_type='file', path=None):
    path = path or '%s/%s' % (directory, name)
    return {'name': name, 'type': vol_type, 'key': path, 'path': path, 'format': fmt, 'capacity': capacity,
            'allocation': capacity // 10, 'physical': capacity // 10, 'backing': backing, 'encryption': None,
            'permissions': {'mode': '0600', 'owner': '0', 'group': '0', 'label': None}}


def _volumes(*models):
    return dict((m['name'], m) for m in models)


def world(users=None, children=None):
    pools = {
        'images': PoolView('images', 'dir', True, IMAGES, _volumes(
            vol('base.qcow2', fmt='qcow2', capacity=10 * GiB),
            vol('vm1.qcow2', fmt='qcow2', capacity=10 * GiB,
                backing={'path': IMAGES + '/base.qcow2', 'format': 'qcow2'}),
            vol('disk.raw', capacity=20 * GiB),
            vol('spare.raw', capacity=20 * GiB),
            vol('odd.img', capacity=1000 * MiB + 512),
            vol('tools.iso', fmt='iso', capacity=4 * MiB),
            dict(vol('tuned.qcow2', fmt='qcow2', capacity=GiB), compat='1.1', cluster_size=64 * KiB,
                 lazy_refcounts=False),
            dict(vol('old.qcow2', fmt='qcow2', capacity=GiB), compat='0.10', cluster_size=2 * MiB,
                 lazy_refcounts=False))),
        'other': PoolView('other', 'netfs', True, '/mnt/nfs/', _volumes(
            vol('golden.qcow2', directory='/mnt/nfs', fmt='qcow2', capacity=8 * GiB))),
        'lvm': PoolView('lvm', 'logical', True, '/dev/vg0', _volumes(
            vol('lv1', directory='/dev/vg0', fmt=None, capacity=4 * GiB, vol_type='block'))),
        'gv': PoolView('gv', 'gluster', True, None, _volumes(
            vol('shared.qcow2', fmt='qcow2', capacity=10 * GiB, vol_type='network',
                path='gluster://gluster1.example.com/gv0/shared.qcow2')),
            source_hosts=['gluster1.example.com', 'gluster2.example.com'], source_name='gv0', source_dir='/'),
        'gvdir': PoolView('gvdir', 'gluster', True, None, {}, source_hosts=['gluster1.example.com'],
                          source_name='gv0', source_dir='/vms'),
        'gvnodir': PoolView('gvnodir', 'gluster', True, None, {}, source_hosts=['192.0.2.7'], source_name='gv1'),
        'iscsi': PoolView('iscsi', 'iscsi', True, '/dev/disk/by-path', _volumes(
            vol('unit:0:0:1', directory='/dev/disk/by-path', fmt=None, vol_type='block'))),
        'iscsi_direct': PoolView('iscsi_direct', 'iscsi_direct', True, None, {}),
        'scsi': PoolView('scsi', 'scsi', True, '/dev/disk/by-path', {}),
        'mpath': PoolView('mpath', 'mpath', True, '/dev/mapper', {}),
        'stopped': PoolView('stopped', 'dir', False, '/srv/stopped'),
    }
    return World(pools, users, children)


USERS = {IMAGES + '/disk.raw': ['web', 'db', 'web'], IMAGES + '/vm1.qcow2': ['vm1']}
CHILDREN = {IMAGES + '/base.qcow2': [IMAGES + '/vm1.qcow2']}


_USAGE = object()


def run(p, users=_USAGE, children=_USAGE, **resolvers):
    """Plan ``p`` against the world; who uses what is USERS and CHILDREN unless given."""
    users = USERS if users is _USAGE else users
    children = CHILDREN if children is _USAGE else children
    return plan(requests_from_params(p, **resolvers), world(users, children))


def steps_of(pl):
    return [(s.verb, s.text) for s in pl.steps]


def facts(element):
    """What a test checks in a <volume> element built by the planner."""
    def text(xpath):
        return element.findtext(xpath)

    backing = element.find('backingStore')
    return {
        'name': text('name'),
        'capacity': None if text('capacity') is None else int(text('capacity')),
        'allocation': None if text('allocation') is None else int(text('allocation')),
        'format': None if element.find('target/format') is None else element.find('target/format').get('type'),
        'compat': text('target/compat'),
        'cluster': None if text('target/clusterSize') is None else int(text('target/clusterSize')),
        'lazy': element.find('target/features/lazy_refcounts') is not None,
        'backing': None if backing is None else (backing.findtext('path'), backing.find('format').get('type')),
        'mode': text('target/permissions/mode'),
        'owner': text('target/permissions/owner'),
    }


# ---------------------------------------------------------------------------------------
# requests_from_params: sizes, parsed as libvirt does

SIZES = [
    ('10GiB', 10 * GiB), ('10GB', 10 * 1000 ** 3), ('10G', 10 * GiB), ('10g', 10 * GiB), ('10gib', 10 * GiB),
    ('10 GiB', 10 * GiB), (' 10GiB ', 10 * GiB), ('512M', 512 * MiB), ('512MiB', 512 * MiB),
    ('512MB', 512 * 1000 ** 2), ('1k', KiB), ('1K', KiB), ('1KiB', KiB), ('1KB', 1000), ('1kb', 1000),
    ('2T', 2 * TiB), ('2TiB', 2 * TiB), ('2TB', 2 * 1000 ** 4), ('1P', 1024 ** 5), ('1PiB', 1024 ** 5),
    ('1PB', 1000 ** 5), ('1E', 1024 ** 6), ('1EiB', 1024 ** 6), ('1EB', 1000 ** 6), ('7EiB', 7 * 1024 ** 6),
    ('9223372036854775807', 2 ** 63 - 1),
    ('1073741824', GiB), ('100b', 100), ('100B', 100), ('100 bytes', 100), ('1 byte', 1),
    ('1.5GiB', 3 * GiB // 2), ('0.5KiB', 512), ('2.5KB', 2500), ('1', 1),
]


@pytest.mark.parametrize('text, expected', SIZES, ids=[s[0] for s in SIZES])
def test_capacity_units(text, expected):
    req, = requests_from_params(vp(name='a.img', capacity=text))
    assert req.capacity == expected
    req, = requests_from_params(vp(name='a.img', capacity=str(2 ** 63 - 1), allocation=text))
    assert req.allocation == expected


def test_gib_and_gb_differ():
    gib, = requests_from_params(vp(name='a.img', capacity='10GiB'))
    gb, = requests_from_params(vp(name='a.img', capacity='10GB'))
    assert (gib.capacity, gb.capacity) == (10737418240, 10000000000)


BAD_SIZES = [
    ('10XB', "capacity has an unknown size unit 'XB'"),
    ('10 GiBs', 'unknown size unit'),
    ('10Gi', 'unknown size unit'),
    ('ten', "capacity 'ten' is not a size"),
    ('-1G', 'is not a size'),
    ('', 'is not a size'),
    ('1.5', "capacity '1.5' is not a whole number of bytes"),
    ('0.1KiB', 'not a whole number of bytes'),
    ('17EiB', 'larger than libvirt accepts'),
    ('16EiB', 'larger than libvirt accepts'),
    ('8EiB', 'capacity 8EiB is larger than libvirt accepts (at most 2^63-1 bytes'),
    ('9223372036854775808', 'capacity 9223372036854775808 is larger than libvirt accepts'),
    ('18446744073709551615', 'capacity 18446744073709551615 is larger than libvirt accepts'),
]


@pytest.mark.parametrize('text, fragment', BAD_SIZES, ids=[s[0] or 'empty' for s in BAD_SIZES])
def test_bad_capacity(text, fragment):
    with pytest.raises(KvmStorageError) as exc:
        requests_from_params(vp(name='a.img', capacity=text))
    assert exc.value.msg.startswith('volume a.img of pool images: capacity')
    assert fragment in exc.value.msg


@pytest.mark.parametrize('option', ['capacity', 'allocation'])
def test_sizes_beyond_libvirt_name_the_option(option):
    # 2^63 and more made libvirt-python's resize() raise OverflowError (a traceback).
    p = vp(name='a.img', capacity='1GiB')
    p[option] = str(2 ** 63)
    with pytest.raises(KvmStorageError) as exc:
        requests_from_params(p)
    assert exc.value.msg == ('volume a.img of pool images: %s 9223372036854775808 is larger than libvirt accepts (at '
                             'most 2^63-1 bytes, 8 EiB less one byte); give a smaller size' % option)
    item = dict(name='b.img', capacity='1GiB')
    item[option] = '9EiB'
    listed = dict(vp(name=None, pool='images'), volumes=[item])
    with pytest.raises(KvmStorageError) as exc:
        requests_from_params(listed)
    assert exc.value.msg.startswith('volume b.img of pool images: %s 9EiB is larger than libvirt accepts' % option)


def test_bad_allocation_names_allocation():
    with pytest.raises(KvmStorageError) as exc:
        requests_from_params(vp(name='a.img', capacity='1GiB', allocation='1 GiBi'))
    assert exc.value.msg.startswith('volume a.img of pool images: allocation has an unknown size unit')


# ---------------------------------------------------------------------------------------
# requests_from_params: what the requests hold

def _resolve_user(name):
    return {'qemu': 107, 'libvirt-qemu': 64055}[name]


def _resolve_group(name):
    return {'kvm': 36}[name]


GOOD_REQUESTS = [
    # (id, params, [{attribute: expected} per request])
    ('single, defaults', vp(name='a.img'),
     [dict(name='a.img', pool='images', state='present', capacity=None, allocation=None, preallocation=None,
           format=None, backing=None, clone_from=None, permissions=None, wipe=None, allow_shrink=False,
           force=False, label='volume a.img of pool images')]),
    ('single, every option', vp(name='a.qcow2', state='present', capacity='20GiB', format='qcow2',
                                preallocation='metadata', wipe='zero', allow_shrink=True, force=True),
     [dict(capacity=20 * GiB, format='qcow2', preallocation='metadata', wipe='zero', allow_shrink=True,
           force=True)]),
    ('allocation equal to capacity', vp(name='a.img', capacity='1GiB', allocation='1073741824'),
     [dict(capacity=GiB, allocation=GiB)]),
    ('allocation 0', vp(name='a.img', capacity='1GiB', allocation='0'), [dict(allocation=0)]),
    ('allocation without capacity', vp(name='a.img', allocation='1GiB'), [dict(capacity=None, allocation=GiB)]),
    ('metadata with qcow2', vp(name='a', capacity='1G', preallocation='metadata', format='qcow2'),
     [dict(preallocation='metadata')]),
    ('metadata, no format yet', vp(name='a', capacity='1G', preallocation='metadata'),
     [dict(preallocation='metadata', format=None)]),
    ('falloc with raw', vp(name='a', capacity='1G', preallocation='falloc', format='raw'),
     [dict(preallocation='falloc')]),
    ('full, no format', vp(name='a', capacity='1G', preallocation='full'), [dict(preallocation='full')]),
    ('sparse with qcow2', vp(name='a', capacity='1G', preallocation='sparse', format='qcow2'),
     [dict(preallocation='sparse')]),
    ('absent', vp(name='a.img', state='absent', wipe='dod'), [dict(state='absent', wipe='dod')]),
    # -- backing and clone_from: None values dropped
    ('backing by name', vp(name='vm.qcow2', backing=ref('base.qcow2')),
     [dict(backing={'name': 'base.qcow2'}, clone_from=None)]),
    ('backing by pool and name', vp(name='vm.qcow2', backing=ref('golden.qcow2', pool='other', fmt='qcow2')),
     [dict(backing={'name': 'golden.qcow2', 'pool': 'other', 'format': 'qcow2'})]),
    ('backing by path', vp(name='vm.qcow2', backing=ref(path='/srv/templates/debian.qcow2', fmt='qcow2')),
     [dict(backing={'path': '/srv/templates/debian.qcow2', 'format': 'qcow2'})]),
    ('backing by path without format', vp(name='vm.qcow2', backing=ref(path='/srv/t.raw')),
     [dict(backing={'path': '/srv/t.raw'})]),
    ('clone by name', vp(name='c.raw', clone_from=cref('disk.raw')), [dict(clone_from={'name': 'disk.raw'})]),
    ('clone across pools', vp(name='c.raw', clone_from=cref('golden.qcow2', 'other')),
     [dict(clone_from={'name': 'golden.qcow2', 'pool': 'other'}, backing=None)]),
    # -- permissions
    ('mode 644', vp(name='a', permissions=perms('644')),
     [dict(permissions={'mode': '0644', 'owner': None, 'group': None, 'label': None})]),
    ('mode 0600', vp(name='a', permissions=perms('0600')), [dict(permissions=dict(perms('0600')))]),
    ('mode 00640', vp(name='a', permissions=perms('00640')), [dict(permissions=dict(perms('0640')))]),
    ('mode 1777', vp(name='a', permissions=perms('1777')), [dict(permissions=dict(perms('1777')))]),
    ('mode with spaces', vp(name='a', permissions=perms(' 660 ')), [dict(permissions=dict(perms('0660')))]),
    ('numeric owner and group', vp(name='a', permissions=perms(owner='107', group=' 36 ')),
     [dict(permissions=perms(owner='107', group='36'))]),
    ('label only', vp(name='a', permissions=perms(label='system_u:object_r:virt_image_t:s0')),
     [dict(permissions=perms(label='system_u:object_r:virt_image_t:s0'))]),
    ('all permissions None', vp(name='a', permissions=perms()), [dict(permissions=None)]),
    # -- the volumes list: top-level options are defaults, items override them
    ('list inherits top level',
     params(pool='images', capacity='10GiB', format='qcow2', permissions=perms('640'), force=True,
            volumes=[item(name='a'), item(name='b')]),
     [dict(name='a', pool='images', capacity=10 * GiB, format='qcow2', permissions=perms('0640'), force=True),
      dict(name='b', pool='images', capacity=10 * GiB, format='qcow2', permissions=perms('0640'), force=True)]),
    ('list items override',
     params(pool='images', capacity='10GiB', format='qcow2', state='absent', allow_shrink=True,
            permissions=perms('640'),
            volumes=[item(name='a'),
                     item(name='b', pool='other', capacity='20GB', format='raw', state='present', allow_shrink=False,
                          permissions=perms('600', owner='107'))]),
     [dict(name='a', pool='images', capacity=10 * GiB, format='qcow2', state='absent', allow_shrink=True,
           permissions=perms('0640')),
      dict(name='b', pool='other', capacity=20 * 1000 ** 3, format='raw', state='present', allow_shrink=False,
           permissions=perms('0600', owner='107'))]),
    ('list, pool only per item', params(volumes=[item(name='a', pool='images'), item(name='a', pool='other')]),
     [dict(name='a', pool='images', state='present'), dict(name='a', pool='other', state='present')]),
    ('list, backing inherited, name per item',
     params(pool='images', backing=ref('base.qcow2'), volumes=[item(name='vm1'), item(name='vm2')]),
     [dict(backing={'name': 'base.qcow2'}), dict(backing={'name': 'base.qcow2'})]),
    ('list, item backing replaces top level',
     params(pool='images', backing=ref('base.qcow2'),
            volumes=[item(name='vm1', backing=ref(path='/srv/t.qcow2', fmt='qcow2'))]),
     [dict(backing={'path': '/srv/t.qcow2', 'format': 'qcow2'})]),
    ('list, order kept', params(pool='images', volumes=[item(name=n) for n in ('c', 'a', 'b')]),
     [dict(name='c'), dict(name='a'), dict(name='b')]),
]


@pytest.mark.parametrize('case_id, p, expected', GOOD_REQUESTS, ids=[c[0] for c in GOOD_REQUESTS])
def test_requests(case_id, p, expected):
    reqs = requests_from_params(p)
    assert len(reqs) == len(expected)
    for req, want in zip(reqs, expected):
        assert dict((key, getattr(req, key)) for key in want) == want


def test_owner_names_resolved():
    req, = requests_from_params(vp(name='a', permissions=perms('600', 'libvirt-qemu', 'kvm')),
                                resolve_user=_resolve_user, resolve_group=_resolve_group)
    assert req.permissions == perms('0600', '64055', '36')


def test_params_not_changed():
    p = params(pool='images', capacity='1GiB', volumes=[item(name='a'), item(name='b', capacity='2GiB')])
    before = repr(p)
    requests_from_params(p)
    assert repr(p) == before


BAD_REQUESTS = [
    # (id, params, fragments of the message)
    ('no name', params(pool='images'), ['the request has no volume name']),
    ('empty name', params(pool='images', name=''), ['the request has no volume name']),
    ('list item without name', params(pool='images', volumes=[item(name='a'), item(capacity='1G')]),
     ['volumes[1] has no volume name']),
    ('empty list', params(pool='images', volumes=[]), ['volumes is an empty list', 'use name']),
    ('no pool', params(name='a.img'), ['volume a.img: set pool']),
    ('no pool in list', params(volumes=[item(name='a', pool='images'), item(name='b')]), ['volume b: set pool']),
    ('duplicate in list', params(pool='images', volumes=[item(name='a'), item(name='b'), item(name='a')]),
     ['volume a of pool images is listed twice']),
    ('duplicate, pool inherited and given', params(pool='images', volumes=[item(name='a'), item(name='a', pool='images')]),
     ['volume a of pool images is listed twice']),
    # -- names
    ('slash', vp(name='a/b'), ['volume name', 'must not contain "/"']),
    ('absolute path as name', vp(name='/etc/passwd'), ['must not contain "/"']),
    ('dot-dot', vp(name='..'), ['must not contain ".."']),
    ('dot-dot inside', vp(name='a..b'), ['must not contain ".."']),
    ('newline', vp(name='a\nb'), ['control characters']),
    ('tab', vp(name='a\tb'), ['control characters']),
    ('delete char', vp(name='a\x7fb'), ['control characters']),
    ('leading dash', vp(name='-o.img'), ['must not start with "-"']),
    ('too long', vp(name='x' * 256), ['at most 255 bytes']),
    ('too long in bytes', vp(name='\u00e9' * 128), ['at most 255 bytes']),
    ('bad pool name', params(name='a', pool='po/ol'), ['pool name', 'must not contain "/"']),
    ('bad name in list', params(pool='images', volumes=[item(name='ok'), item(name='x..y')]), ['".."']),
    ('bad backing name', vp(name='vm', backing=ref('base..qcow2')), ['must not contain ".."']),
    ('bad clone name', vp(name='vm', clone_from=cref('a/b')), ['must not contain "/"']),
    # -- sizes and preallocation
    ('capacity 0', vp(name='a', capacity='0'), ['volume a of pool images: capacity must be larger than 0']),
    ('capacity 0GiB', vp(name='a', capacity='0GiB'), ['capacity must be larger than 0']),
    ('allocation above capacity', vp(name='a', capacity='10GiB', allocation='20GiB'),
     ['volume a of pool images: allocation (20 GiB) is larger than capacity (10 GiB)']),
    ('allocation one byte above', vp(name='a', capacity='1GiB', allocation='1073741825'),
     ['allocation (1.00 GiB) is larger than capacity (1 GiB)']),
    ('metadata with raw', vp(name='a', capacity='1G', format='raw', preallocation='metadata'),
     ['volume a of pool images: preallocation metadata needs format qcow2']),
    ('metadata with vmdk', vp(name='a', capacity='1G', format='vmdk', preallocation='metadata'),
     ['needs format qcow2']),
    ('falloc with vmdk', vp(name='a', capacity='1G', format='vmdk', preallocation='falloc'),
     ['volume a of pool images: preallocation falloc applies to raw and qcow2 volumes, not vmdk']),
    ('full with vdi', vp(name='a', capacity='1G', format='vdi', preallocation='full'),
     ['preallocation full applies to raw and qcow2 volumes, not vdi']),
    # -- qcow2 creation options
    ('cluster_size not a power of two', vp(name='a', capacity='1G', format='qcow2', cluster_size='96KiB'),
     ['volume a of pool images: cluster_size must be a power of two from 512 bytes to 2 MiB (qemu\'s limits), '
      'not 96 KiB']),
    ('cluster_size too small', vp(name='a', capacity='1G', format='qcow2', cluster_size='256'),
     ['cluster_size must be a power of two']),
    ('cluster_size too large', vp(name='a', capacity='1G', format='qcow2', cluster_size='4MiB'),
     ['not 4 MiB']),
    ('cluster_size not a size', vp(name='a', capacity='1G', format='qcow2', cluster_size='big'),
     ["cluster_size 'big' is not a size"]),
    ('cluster_size with raw', vp(name='a', capacity='1G', format='raw', cluster_size='64KiB'),
     ['volume a of pool images: cluster_size applies to qcow2 volumes, not raw']),
    ('lazy_refcounts and compat with vmdk',
     vp(name='a', capacity='1G', format='vmdk', lazy_refcounts=True, compat='1.1'),
     ['lazy_refcounts and compat applies to qcow2 volumes, not vmdk']),
    ('lazy_refcounts off with raw', vp(name='a', capacity='1G', format='raw', lazy_refcounts=False),
     ['lazy_refcounts applies to qcow2 volumes']),
    ('lazy refcounts on compat 0.10', vp(name='a', capacity='1G', format='qcow2', lazy_refcounts=True, compat='0.10'),
     ['volume a of pool images: lazy_refcounts needs compat 1.1 (qcow2 v3)']),
    ('qcow2 options on an import, no format', vp(name='a', import_from='/srv/a.qcow2', cluster_size='64KiB'),
     ['volume a of pool images: cluster_size with import_from needs format: qcow2']),
    ('import_format without import_from', vp(name='a', capacity='1G', import_format='vmdk'),
     ['volume a of pool images: import_format only applies with import_from']),
    ('preallocation and allocation', vp(name='a', capacity='1G', allocation='1G', preallocation='full'),
     ['preallocation and allocation are mutually exclusive']),
    # -- backing and clone_from
    ('backing and clone_from', vp(name='vm', backing=ref('base.qcow2'), clone_from=cref('disk.raw')),
     ['volume vm of pool images: backing and clone_from are mutually exclusive']),
    ('backing and clone_from in list', params(pool='images', backing=ref('base.qcow2'),
                                              volumes=[item(name='vm', clone_from=cref('disk.raw'))]),
     ['backing and clone_from are mutually exclusive']),
    ('relative backing path', vp(name='vm', backing=ref(path='images/base.qcow2', fmt='qcow2')),
     ['volume vm of pool images: backing.path must be absolute']),
    ('backing path and name', vp(name='vm', backing=ref('base.qcow2', path='/srv/base.qcow2')),
     ['backing takes either path or pool and name, not both']),
    ('backing path and pool', vp(name='vm', backing=ref(pool='other', path='/srv/base.qcow2')),
     ['either path or pool and name']),
    ('backing without name or path', vp(name='vm', backing=ref(pool='other', fmt='qcow2')),
     ['backing needs name (and pool, when it is in another pool) or path']),
    ('empty backing', vp(name='vm', backing=ref()), ['backing needs name']),
    ('clone_from without name', vp(name='vm', clone_from=cref(pool='other')),
     ['clone_from needs name (and pool, when it is in another pool)']),
    # -- permissions
    ('mode with 8', vp(name='a', permissions=perms('0648')), ["'0648' is not an octal mode"]),
    ('mode letters', vp(name='a', permissions=perms('rw-r--r--')), ['is not an octal mode such as 0755']),
    ('mode too short', vp(name='a', permissions=perms('64')), ['is not an octal mode']),
    ('owner name without resolver', vp(name='a', permissions=perms(owner='qemu')), ["'qemu' must be numeric"]),
    ('group name without resolver', vp(name='a', permissions=perms(group='kvm')), ["'kvm' must be numeric"]),
]


@pytest.mark.parametrize('case_id, p, fragments', BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_requests_refused(case_id, p, fragments):
    with pytest.raises(KvmStorageError) as exc:
        requests_from_params(p)
    for fragment in fragments:
        assert fragment in exc.value.msg


def test_clone_from_takes_no_path():
    # clone_from has no path option; a path that slips through is not taken for a path.
    with pytest.raises(KvmStorageError) as exc:
        requests_from_params(vp(name='vm', clone_from={'path': '/srv/x.raw', 'name': None, 'pool': None}))
    assert 'clone_from needs name' in exc.value.msg
    assert 'or path' not in exc.value.msg


def test_permission_error_names_the_volume():
    with pytest.raises(KvmStorageError) as exc:
        requests_from_params(vp(name='a.img', permissions=perms('rwx')))
    assert 'volume a.img of pool images' in exc.value.msg
    assert 'target.permissions' not in exc.value.msg


# ---------------------------------------------------------------------------------------
# plan(): creating volumes

def _create(label, what):
    return ('create', 'create %s (%s)' % (label, what))


def _new(name, what, pool='images'):
    return _create('volume %s of pool %s' % (name, pool), what)


BASE = IMAGES + '/base.qcow2'
UUID = '0f5b0c3e-6f1a-4c5e-9a57-2d1c2e3f4a5b'

CREATE_CASES = [
    # (id, params, expected steps, facts of the built element (subset) or None)
    ('raw default, sparse', vp(name='new.img', capacity='10GiB'), [_new('new.img', 'raw, 10 GiB')],
     dict(name='new.img', capacity=10 * GiB, allocation=0, format='raw', compat=None, backing=None, mode=None)),
    ('raw in GB', vp(name='new.img', capacity='10GB'), [_new('new.img', 'raw, 9.31 GiB')],
     dict(capacity=10 ** 10, allocation=0)),
    ('qcow2 v3', vp(name='new.qcow2', capacity='10GiB', format='qcow2'), [_new('new.qcow2', 'qcow2, 10 GiB')],
     dict(format='qcow2', compat='1.1', allocation=0)),
    ('vmdk has no compat', vp(name='new.vmdk', capacity='1GiB', format='vmdk'), [_new('new.vmdk', 'vmdk, 1 GiB')],
     dict(format='vmdk', compat=None)),
    ('falloc', vp(name='new.img', capacity='10GiB', preallocation='falloc'),
     [_new('new.img', 'raw, 10 GiB, preallocated')], dict(format='raw', capacity=10 * GiB, allocation=10 * GiB)),
    ('full', vp(name='new.img', capacity='4GiB', preallocation='full', format='raw'),
     [_new('new.img', 'raw, 4 GiB, preallocated')], dict(allocation=4 * GiB)),
    ('sparse explicit', vp(name='new.img', capacity='4GiB', preallocation='sparse'),
     [_new('new.img', 'raw, 4 GiB')], dict(allocation=0)),
    ('explicit allocation', vp(name='new.img', capacity='10GiB', allocation='1GiB'),
     [_new('new.img', 'raw, 10 GiB')], dict(allocation=GiB)),
    ('explicit full allocation', vp(name='new.img', capacity='10GiB', allocation='10GiB'),
     [_new('new.img', 'raw, 10 GiB, preallocated')], dict(allocation=10 * GiB)),
    ('metadata', vp(name='new.qcow2', capacity='10GiB', format='qcow2', preallocation='metadata'),
     [_new('new.qcow2', 'qcow2, 10 GiB')], dict(format='qcow2', allocation=0)),
    # -- qcow2 creation options (libvirt 9.0 hands them to qemu-img create)
    ('qcow2 options', vp(name='n.qcow2', capacity='1GiB', format='qcow2', cluster_size='128KiB', lazy_refcounts=True),
     [_new('n.qcow2', 'qcow2, 1 GiB, cluster size 128 KiB, lazy refcounts')],
     dict(format='qcow2', compat='1.1', cluster=128 * KiB, lazy=True)),
    ('qcow2 compat 0.10', vp(name='n.qcow2', capacity='1GiB', format='qcow2', compat='0.10', lazy_refcounts=False),
     [_new('n.qcow2', 'qcow2, 1 GiB, compat 0.10')], dict(compat='0.10', cluster=None, lazy=False)),
    ('qcow2 compat 1.1 said', vp(name='n.qcow2', capacity='1GiB', format='qcow2', compat='1.1'),
     [_new('n.qcow2', 'qcow2, 1 GiB')], dict(compat='1.1')),
    ('qcow2 falloc', vp(name='n.qcow2', capacity='1GiB', format='qcow2', preallocation='falloc'),
     [_new('n.qcow2', 'qcow2, 1 GiB, preallocated')], dict(allocation=GiB)),
    ('qcow2 full', vp(name='n.qcow2', capacity='1GiB', format='qcow2', preallocation='full', cluster_size='1MiB'),
     [_new('n.qcow2', 'qcow2, 1 GiB, cluster size 1 MiB, preallocated in full by qemu-img')],
     dict(allocation=0, cluster=MiB)),
    ('overlay with qcow2 options', vp(name='vm.qcow2', backing=ref('base.qcow2'), cluster_size='2MiB',
                                      lazy_refcounts=True),
     [_new('vm.qcow2', 'qcow2, 10 GiB, backing %s, cluster size 2 MiB, lazy refcounts' % BASE)],
     dict(cluster=2 * MiB, lazy=True, backing=(BASE, 'qcow2'))),
    ('clone with qcow2 options', vp(name='c.qcow2', clone_from=cref('base.qcow2'), cluster_size='64KiB'),
     [('clone', 'clone volume base.qcow2 of pool images to volume c.qcow2 of pool images (qcow2, 10 GiB, '
                'cluster size 64 KiB)')], dict(cluster=64 * KiB)),
    ('permissions', vp(name='new.img', capacity='1GiB', permissions=perms('644', '107')),
     [_new('new.img', 'raw, 1 GiB')], dict(mode='0644', owner='107')),
    ('in a netfs pool', params(name='n.qcow2', pool='other', capacity='1GiB', format='qcow2'),
     [_new('n.qcow2', 'qcow2, 1 GiB', 'other')], dict(format='qcow2')),
    # -- logical pools: no format, fully allocated unless asked otherwise
    ('logical default', params(name='lv2', pool='lvm', capacity='10GiB'), [_new('lv2', '10 GiB, preallocated', 'lvm')],
     dict(format=None, compat=None, capacity=10 * GiB, allocation=10 * GiB)),
    ('logical, format ignored', params(name='lv2', pool='lvm', capacity='10GiB', format='raw'),
     [_new('lv2', '10 GiB, preallocated', 'lvm')], dict(format=None, allocation=10 * GiB)),
    ('logical sparse', params(name='lv2', pool='lvm', capacity='10GiB', preallocation='sparse'),
     [_new('lv2', '10 GiB', 'lvm')], dict(format=None, allocation=0)),
    ('logical explicit allocation', params(name='lv2', pool='lvm', capacity='10GiB', allocation='2GiB'),
     [_new('lv2', '10 GiB', 'lvm')], dict(allocation=2 * GiB)),
    ('logical falloc', params(name='lv2', pool='lvm', capacity='1GiB', preallocation='falloc'),
     [_new('lv2', '1 GiB, preallocated', 'lvm')], dict(allocation=GiB)),
    # -- linked clones
    ('linked clone', vp(name='vm.qcow2', backing=ref('base.qcow2')),
     [_new('vm.qcow2', 'qcow2, 10 GiB, backing %s' % BASE)],
     dict(format='qcow2', compat='1.1', capacity=10 * GiB, allocation=0, backing=(BASE, 'qcow2'))),
    ('linked clone, bigger', vp(name='vm.qcow2', capacity='20GiB', backing=ref('base.qcow2')),
     [_new('vm.qcow2', 'qcow2, 20 GiB, backing %s' % BASE)], dict(capacity=20 * GiB, backing=(BASE, 'qcow2'))),
    ('linked clone, same size given', vp(name='vm.qcow2', capacity='10GiB', format='qcow2', backing=ref('base.qcow2')),
     [_new('vm.qcow2', 'qcow2, 10 GiB, backing %s' % BASE)], dict(capacity=10 * GiB)),
    ('linked clone of a raw volume', vp(name='vm.qcow2', backing=ref('disk.raw')),
     [_new('vm.qcow2', 'qcow2, 20 GiB, backing %s/disk.raw' % IMAGES)],
     dict(format='qcow2', capacity=20 * GiB, backing=(IMAGES + '/disk.raw', 'raw'))),
    ('linked clone, backing format stated', vp(name='vm.qcow2', backing=ref('disk.raw', fmt='raw')),
     [_new('vm.qcow2', 'qcow2, 20 GiB, backing %s/disk.raw' % IMAGES)], dict(backing=(IMAGES + '/disk.raw', 'raw'))),
    ('linked clone across pools', vp(name='vm.qcow2', backing=ref('golden.qcow2', pool='other')),
     [_new('vm.qcow2', 'qcow2, 8 GiB, backing /mnt/nfs/golden.qcow2')],
     dict(capacity=8 * GiB, backing=('/mnt/nfs/golden.qcow2', 'qcow2'))),
    ('linked clone by path', vp(name='vm.qcow2', capacity='5GiB', backing=ref(path='/srv/t/deb.raw', fmt='raw')),
     [_new('vm.qcow2', 'qcow2, 5 GiB, backing /srv/t/deb.raw')], dict(capacity=5 * GiB, backing=('/srv/t/deb.raw', 'raw'))),
    ('linked clone with metadata', vp(name='vm.qcow2', preallocation='metadata', backing=ref('base.qcow2')),
     [_new('vm.qcow2', 'qcow2, 10 GiB, backing %s' % BASE)], dict(allocation=0)),
    ('linked clone with permissions', vp(name='vm.qcow2', permissions=perms('0600'), backing=ref('base.qcow2')),
     [_new('vm.qcow2', 'qcow2, 10 GiB, backing %s' % BASE)], dict(mode='0600')),
    # -- full clones
    ('clone', vp(name='copy.raw', clone_from=cref('disk.raw')),
     [('clone', 'clone volume disk.raw of pool images to volume copy.raw of pool images (raw, 20 GiB)')],
     dict(format='raw', capacity=20 * GiB, allocation=None, backing=None)),
    ('clone, format from a qcow2 source', vp(name='copy.qcow2', clone_from=cref('base.qcow2')),
     [('clone', 'clone volume base.qcow2 of pool images to volume copy.qcow2 of pool images (qcow2, 10 GiB)')],
     dict(format='qcow2', compat='1.1', capacity=10 * GiB)),
    ('clone, converted', vp(name='copy.raw', format='raw', clone_from=cref('base.qcow2')),
     [('clone', 'clone volume base.qcow2 of pool images to volume copy.raw of pool images (raw, 10 GiB)')],
     dict(format='raw')),
    ('clone, bigger', vp(name='copy.raw', capacity='30GiB', clone_from=cref('disk.raw')),
     [('clone', 'clone volume disk.raw of pool images to volume copy.raw of pool images (raw, 30 GiB)')],
     dict(capacity=30 * GiB)),
    ('clone, same size', vp(name='copy.raw', capacity='20GiB', clone_from=cref('disk.raw')),
     [('clone', 'clone volume disk.raw of pool images to volume copy.raw of pool images (raw, 20 GiB)')],
     dict(capacity=20 * GiB)),
    ('clone across pools', vp(name='g.qcow2', clone_from=cref('golden.qcow2', 'other')),
     [('clone', 'clone volume golden.qcow2 of pool other to volume g.qcow2 of pool images (qcow2, 8 GiB)')],
     dict(format='qcow2', capacity=8 * GiB)),
    ('clone falloc', vp(name='copy.raw', preallocation='falloc', clone_from=cref('disk.raw')),
     [('clone', 'clone volume disk.raw of pool images to volume copy.raw of pool images (raw, 20 GiB, preallocated)')],
     dict(allocation=20 * GiB)),
    ('clone into a logical pool', params(name='lv9', pool='lvm', clone_from=cref('disk.raw', 'images')),
     [('clone', 'clone volume disk.raw of pool images to volume lv9 of pool lvm (20 GiB, preallocated)')],
     dict(format=None, allocation=20 * GiB)),
]


@pytest.mark.parametrize('case_id, p, expected, want', CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
def test_create(case_id, p, expected, want):
    pl = run(p)
    assert steps_of(pl) == expected
    assert pl.changed
    assert pl.actions == [text for _unused, text in expected]
    step = pl.steps[0]
    assert step.args['request'].name == p['name']
    got = facts(step.args['element'])
    assert dict((key, got[key]) for key in want) == want
    if step.verb == 'create':
        # libvirt's metadata flag: metadata for qcow2, and falloc with allocation = capacity
        assert step.args['metadata'] is (p['preallocation'] == 'metadata' or
                                         p['preallocation'] == 'falloc' and got['format'] == 'qcow2')
        assert step.args['qemu_full'] is (p['preallocation'] == 'full' and got['format'] == 'qcow2')


CLONE_ARGS = [
    # (id, params, source, grow_to)
    ('same size', vp(name='c.raw', clone_from=cref('disk.raw')),
     {'path': IMAGES + '/disk.raw', 'format': 'raw', 'capacity': 20 * GiB, 'pool': 'images', 'name': 'disk.raw'}, None),
    ('bigger', vp(name='c.raw', capacity='21GiB', clone_from=cref('disk.raw')),
     {'path': IMAGES + '/disk.raw', 'format': 'raw', 'capacity': 20 * GiB, 'pool': 'images', 'name': 'disk.raw'},
     21 * GiB),
    ('equal given', vp(name='c.raw', capacity='20GiB', clone_from=cref('disk.raw')),
     {'path': IMAGES + '/disk.raw', 'format': 'raw', 'capacity': 20 * GiB, 'pool': 'images', 'name': 'disk.raw'}, None),
    ('other pool', vp(name='c.qcow2', capacity='9GiB', clone_from=cref('golden.qcow2', 'other')),
     {'path': '/mnt/nfs/golden.qcow2', 'format': 'qcow2', 'capacity': 8 * GiB, 'pool': 'other',
      'name': 'golden.qcow2'}, 9 * GiB),
]


@pytest.mark.parametrize('case_id, p, source, grow_to', CLONE_ARGS, ids=[c[0] for c in CLONE_ARGS])
def test_clone_args(case_id, p, source, grow_to):
    step, = run(p).steps
    assert step.verb == 'clone'
    assert step.args['source'] == source
    assert step.args['grow_to'] == grow_to


def test_clone_smaller_than_source_refused():
    with pytest.raises(KvmStorageError) as exc:
        run(vp(name='c.raw', capacity='10GiB', clone_from=cref('disk.raw')))
    assert '10 GiB' in exc.value.msg and '20 GiB' in exc.value.msg


GLUSTER_CASES = [
    # (id, params, url, text)
    ('qcow2 at the volume root', params(name='g.qcow2', pool='gv', capacity='10GiB', format='qcow2'),
     'gluster://gluster1.example.com/gv0/g.qcow2',
     'create volume g.qcow2 of pool gv with qemu-img over gluster (qcow2, 10 GiB)'),
    ('raw default', params(name='g.img', pool='gv', capacity='1GiB'), 'gluster://gluster1.example.com/gv0/g.img',
     'create volume g.img of pool gv with qemu-img over gluster (raw, 1 GiB)'),
    ('source dir', params(name='g.qcow2', pool='gvdir', capacity='10GiB', format='qcow2'),
     'gluster://gluster1.example.com/gv0/vms/g.qcow2',
     'create volume g.qcow2 of pool gvdir with qemu-img over gluster (qcow2, 10 GiB)'),
    ('no source dir', params(name='g.qcow2', pool='gvnodir', capacity='2GiB', format='qcow2'),
     'gluster://192.0.2.7/gv1/g.qcow2', 'create volume g.qcow2 of pool gvnodir with qemu-img over gluster (qcow2, 2 GiB)'),
    ('linked clone in gluster', params(name='vm.qcow2', pool='gv', backing=ref('shared.qcow2')),
     'gluster://gluster1.example.com/gv0/vm.qcow2',
     'create volume vm.qcow2 of pool gv with qemu-img over gluster '
     '(qcow2, 10 GiB, backing gluster://gluster1.example.com/gv0/shared.qcow2)'),
]


@pytest.mark.parametrize('case_id, p, url, text', GLUSTER_CASES, ids=[c[0] for c in GLUSTER_CASES])
def test_create_gluster(case_id, p, url, text):
    step, = run(p).steps
    assert (step.verb, step.text) == ('create_gluster', text)
    assert step.args['url'] == url
    assert step.args['format'] == (p['format'] or ('qcow2' if p['backing'] else 'raw'))
    assert step.args['capacity'] == (requests_from_params(p)[0].capacity or 10 * GiB)
    if p['backing']:
        assert step.args['backing'] == {'path': 'gluster://gluster1.example.com/gv0/shared.qcow2', 'format': 'qcow2'}
    else:
        assert step.args['backing'] is None


# ---------------------------------------------------------------------------------------
# plan(): several volumes in one run

BATCH_CASES = [
    # (id, params, expected steps)
    ('overlay of a volume made in the same run',
     params(pool='images', volumes=[item(name='tmpl.qcow2', capacity='8GiB', format='qcow2'),
                                    item(name='web.qcow2', backing=ref('tmpl.qcow2'))]),
     [_new('tmpl.qcow2', 'qcow2, 8 GiB'), _new('web.qcow2', 'qcow2, 8 GiB, backing %s/tmpl.qcow2' % IMAGES)]),
    ('overlay in another pool, target path with a trailing slash',
     params(volumes=[item(name='t.qcow2', pool='other', capacity='8GiB', format='qcow2'),
                     item(name='w.qcow2', pool='images', capacity='9GiB', backing=ref('t.qcow2', pool='other'))]),
     [_new('t.qcow2', 'qcow2, 8 GiB', 'other'), _new('w.qcow2', 'qcow2, 9 GiB, backing /mnt/nfs/t.qcow2')]),
    ('overlay of a raw image made in the same run',
     params(pool='images', volumes=[item(name='t.img', capacity='1GiB'), item(name='w.qcow2', backing=ref('t.img'))]),
     [_new('t.img', 'raw, 1 GiB'), _new('w.qcow2', 'qcow2, 1 GiB, backing %s/t.img' % IMAGES)]),
    ('overlay of an LV made in the same run',
     params(volumes=[item(name='lvt', pool='lvm', capacity='1GiB'),
                     item(name='w.qcow2', pool='images', backing=ref('lvt', pool='lvm', fmt='raw'))]),
     [_new('lvt', '1 GiB, preallocated', 'lvm'), _new('w.qcow2', 'qcow2, 1 GiB, backing /dev/vg0/lvt')]),
    ('clone of a volume made in the same run',
     params(pool='images', volumes=[item(name='t.qcow2', capacity='8GiB', format='qcow2'),
                                    item(name='c.qcow2', clone_from=cref('t.qcow2'))]),
     [_new('t.qcow2', 'qcow2, 8 GiB'),
      ('clone', 'clone volume t.qcow2 of pool images to volume c.qcow2 of pool images (qcow2, 8 GiB)')]),
    ('existing, new and absent together',
     params(pool='images', volumes=[item(name='disk.raw', capacity='30GiB'), item(name='n.img', capacity='1GiB'),
                                    item(name='spare.raw', state='absent'), item(name='gone.img', state='absent')]),
     [('resize', 'grow volume disk.raw of pool images from 20 GiB to 30 GiB'), _new('n.img', 'raw, 1 GiB'),
      ('delete', 'delete volume spare.raw of pool images')]),
    ('overlays of one template',
     params(pool='images', volumes=[item(name='t.qcow2', capacity='8GiB', format='qcow2')]
            + [item(name='vm%d.img' % i, backing=ref('t.qcow2')) for i in (7, 8)]),
     [_new('t.qcow2', 'qcow2, 8 GiB'), _new('vm7.img', 'qcow2, 8 GiB, backing %s/t.qcow2' % IMAGES),
      _new('vm8.img', 'qcow2, 8 GiB, backing %s/t.qcow2' % IMAGES)]),
]


@pytest.mark.parametrize('case_id, p, expected', BATCH_CASES, ids=[c[0] for c in BATCH_CASES])
def test_batch(case_id, p, expected):
    assert steps_of(run(p)) == expected


def test_batch_backing_element():
    pl = run(params(pool='images', volumes=[item(name='t.qcow2', capacity='8GiB', format='qcow2'),
                                            item(name='w.qcow2', capacity='9GiB', backing=ref('t.qcow2'))]))
    assert facts(pl.steps[1].args['element'])['backing'] == (IMAGES + '/t.qcow2', 'qcow2')
    assert facts(pl.steps[1].args['element'])['capacity'] == 9 * GiB


def test_batch_order_matters():
    p = params(pool='images', volumes=[item(name='w.qcow2', backing=ref('t.qcow2')),
                                       item(name='t.qcow2', capacity='8GiB', format='qcow2')])
    with pytest.raises(KvmStorageError) as exc:
        run(p)
    assert 'backing volume t.qcow2 of pool images does not exist' in exc.value.msg


IMPORTED_TEMPLATE = [
    # (id, volumes, expected steps): the template's size is known only once it is fetched
    ('overlay of a template imported in the same run',
     [item(name='t.qcow2', import_from='/srv/t.qcow2', format='qcow2'), item(name='w.qcow2', backing=ref('t.qcow2'))],
     [('import', 'import volume t.qcow2 of pool images from /srv/t.qcow2'),
      _new('w.qcow2', 'qcow2, size of its backing file, backing %s/t.qcow2' % IMAGES)]),
    ('overlay of that overlay',
     [item(name='t.qcow2', import_from='/srv/t.qcow2', format='qcow2'), item(name='w.qcow2', backing=ref('t.qcow2')),
      item(name='w2.qcow2', backing=ref('w.qcow2'))],
     [('import', 'import volume t.qcow2 of pool images from /srv/t.qcow2'),
      _new('w.qcow2', 'qcow2, size of its backing file, backing %s/t.qcow2' % IMAGES),
      _new('w2.qcow2', 'qcow2, size of its backing file, backing %s/w.qcow2' % IMAGES)]),
    ('overlay with its own capacity',
     [item(name='t.qcow2', import_from='/srv/t.qcow2', format='qcow2'),
      item(name='w.qcow2', capacity='9GiB', backing=ref('t.qcow2'))],
     [('import', 'import volume t.qcow2 of pool images from /srv/t.qcow2'),
      _new('w.qcow2', 'qcow2, 9 GiB, backing %s/t.qcow2' % IMAGES)]),
    ('imported with a capacity: size known',
     [item(name='t.qcow2', import_from='/srv/t.qcow2', format='qcow2', capacity='4GiB'),
      item(name='w.qcow2', backing=ref('t.qcow2'))],
     [('import', 'import volume t.qcow2 of pool images from /srv/t.qcow2'),
      _new('w.qcow2', 'qcow2, 4 GiB, backing %s/t.qcow2' % IMAGES)]),
]


@pytest.mark.parametrize('case_id, volumes, expected', IMPORTED_TEMPLATE, ids=[c[0] for c in IMPORTED_TEMPLATE])
def test_batch_overlay_of_imported_template(case_id, volumes, expected):
    pl = run(params(pool='images', volumes=volumes))
    assert steps_of(pl) == expected
    sized = [v for v in volumes if v.get('capacity')]
    if not sized:
        # no <capacity>: libvirt and qemu-img take the backing file's size
        assert facts(pl.steps[1].args['element'])['capacity'] is None


def test_overlay_of_existing_path_without_size_still_needs_capacity():
    with pytest.raises(KvmStorageError) as exc:
        run(vp(name='vm.qcow2', backing=ref(path='/srv/t.img', fmt='qcow2')))
    assert 'set capacity; the size of backing file /srv/t.img is not known' in exc.value.msg


def test_batch_gluster_source_dir_backing():
    pl = run(params(pool='gvdir', volumes=[item(name='t.qcow2', capacity='8GiB', format='qcow2'),
                                           item(name='w.qcow2', backing=ref('t.qcow2'))]))
    assert pl.steps[0].args['url'] == 'gluster://gluster1.example.com/gv0/vms/t.qcow2'
    assert pl.steps[1].args['backing']['path'] == pl.steps[0].args['url']


# ---------------------------------------------------------------------------------------
# plan(): existing volumes

def _grow(name, old, new):
    return ('resize', 'grow volume %s of pool images from %s to %s' % (name, old, new))


def _shrink(name, old, new):
    return ('resize', 'SHRINK volume %s of pool images from %s to %s' % (name, old, new))


def _delete(name, pool='images'):
    return ('delete', 'delete volume %s of pool %s' % (name, pool))


EXISTING_CASES = [
    # (id, params, expected steps)
    ('identical', vp(name='disk.raw', capacity='20GiB', format='raw'), []),
    ('identical in bytes', vp(name='disk.raw', capacity=str(20 * GiB)), []),
    ('identical, nothing asked', vp(name='disk.raw'), []),
    ('identical overlay', vp(name='vm1.qcow2', format='qcow2', backing=ref('base.qcow2')), []),
    ('identical overlay, backing by path', vp(name='vm1.qcow2', backing=ref(path=BASE, fmt='qcow2')), []),
    ('identical, preallocation not compared', vp(name='disk.raw', capacity='20GiB', preallocation='full'), []),
    ('identical, clone_from not compared', vp(name='disk.raw', clone_from=cref('spare.raw')), []),
    ('identical LV', params(name='lv1', pool='lvm', capacity='4GiB'), []),
    ('existing LUN', params(name='unit:0:0:1', pool='iscsi'), []),
    ('existing gluster volume', params(name='shared.qcow2', pool='gv', capacity='10GiB', format='qcow2'), []),
    ('grow', vp(name='disk.raw', capacity='30GiB'), [_grow('disk.raw', '20 GiB', '30 GiB')]),
    ('grow by one byte', vp(name='disk.raw', capacity=str(20 * GiB + 1)), [_grow('disk.raw', '20 GiB', '20.00 GiB')]),
    ('grow a volume in use', vp(name='disk.raw', capacity='1TiB'), [_grow('disk.raw', '20 GiB', '1 TiB')]),
    ('grow a backing volume', vp(name='base.qcow2', capacity='11GiB'), [_grow('base.qcow2', '10 GiB', '11 GiB')]),
    ('grow, odd size', vp(name='odd.img', capacity='1GiB'), [_grow('odd.img', '1000.00 MiB', '1 GiB')]),
    ('grow, GB', vp(name='disk.raw', capacity='22GB'), [_grow('disk.raw', '20 GiB', '20.49 GiB')]),
    ('grow LV', params(name='lv1', pool='lvm', capacity='8GiB'),
     [('resize', 'grow volume lv1 of pool lvm from 4 GiB to 8 GiB')]),
    ('shrink allowed', vp(name='spare.raw', capacity='10GiB', allow_shrink=True), [_shrink('spare.raw', '20 GiB', '10 GiB')]),
    ('shrink allowed, GB', vp(name='spare.raw', capacity='20GB', allow_shrink=True),
     [_shrink('spare.raw', '20 GiB', '18.63 GiB')]),
    ('shrink in use, forced', vp(name='disk.raw', capacity='10GiB', allow_shrink=True, force=True),
     [_shrink('disk.raw', '20 GiB', '10 GiB')]),
    ('shrink a backing file, forced', vp(name='base.qcow2', capacity='5GiB', allow_shrink=True, force=True),
     [_shrink('base.qcow2', '10 GiB', '5 GiB')]),
    ('allow_shrink while growing', vp(name='spare.raw', capacity='30GiB', allow_shrink=True),
     [_grow('spare.raw', '20 GiB', '30 GiB')]),
    ('allow_shrink, same size', vp(name='disk.raw', capacity='20GiB', allow_shrink=True), []),
    # qcow2 creation options: only what is asked is compared
    ('qcow2 options as made', vp(name='tuned.qcow2', cluster_size='64KiB', compat='1.1', lazy_refcounts=False), []),
    ('qcow2 0.10 as made', vp(name='old.qcow2', compat='0.10', cluster_size='2MiB'), []),
    ('qcow2 options not asked', vp(name='old.qcow2', format='qcow2', capacity='1GiB'), []),
    ('qcow2 options not reported', vp(name='base.qcow2', cluster_size='1MiB', lazy_refcounts=True), []),
    ('qcow2 preallocation not compared', vp(name='tuned.qcow2', preallocation='full'), []),
    # libvirt reports a raw file holding an ISO 9660 image as format 'iso'
    ('ISO image, format raw', vp(name='tools.iso', format='raw'), []),
]


@pytest.mark.parametrize('case_id, p, expected', EXISTING_CASES, ids=[c[0] for c in EXISTING_CASES])
def test_existing(case_id, p, expected):
    pl = run(p)
    assert steps_of(pl) == expected
    assert pl.changed is bool(expected)


@pytest.mark.parametrize('volume_format, expected', [
    ('qcow2', 'qcow2'), ('raw', 'raw'), ('vmdk', 'vmdk'),
    ('iso', 'raw'),                      # libvirt refuses driver type 'iso' in a disk
    (None, 'raw'), ('dos', 'raw'), ('lvm2', 'raw'),  # LUNs, partitions, LVs
])
def test_disk_format(volume_format, expected):
    assert _volume.disk_format(volume_format) == expected


def test_resize_args():
    step, = run(vp(name='disk.raw', capacity='30GiB')).steps
    assert (step.args['capacity'], step.args['shrink'], step.args['path']) == (30 * GiB, False, IMAGES + '/disk.raw')
    step, = run(vp(name='spare.raw', capacity='1GiB', allow_shrink=True)).steps
    assert (step.args['capacity'], step.args['shrink'], step.args['path']) == (GiB, True, IMAGES + '/spare.raw')


def test_grow_needs_no_usage():
    # Growing is safe: it plans without knowing who uses the volume.
    assert steps_of(run(vp(name='disk.raw', capacity='30GiB'), users=None, children=None)) == [
        _grow('disk.raw', '20 GiB', '30 GiB')]


# ---------------------------------------------------------------------------------------
# plan(): deleting volumes

DELETE_CASES = [
    # (id, params, expected steps)
    ('missing', vp(name='gone.img', state='absent'), []),
    ('missing, wipe', vp(name='gone.img', state='absent', wipe='zero'), []),
    ('missing pool', params(name='a.img', pool='nopool', state='absent'), []),
    ('unused', vp(name='spare.raw', state='absent'), [_delete('spare.raw')]),
    ('unused, attributes ignored', vp(name='spare.raw', state='absent', capacity='1GiB', format='qcow2'),
     [_delete('spare.raw')]),
    ('wipe then delete', vp(name='spare.raw', state='absent', wipe='zero'),
     [('wipe', 'wipe volume spare.raw of pool images (zero)'), _delete('spare.raw')]),
    ('wipe trim', vp(name='spare.raw', state='absent', wipe='trim'),
     [('wipe', 'wipe volume spare.raw of pool images (trim)'), _delete('spare.raw')]),
    ('missing overlay', vp(name='vm9.qcow2', state='absent'), []),
    ('in use, forced', vp(name='disk.raw', state='absent', force=True), [_delete('disk.raw')]),
    ('in use, forced, wipe', vp(name='disk.raw', state='absent', force=True, wipe='random'),
     [('wipe', 'wipe volume disk.raw of pool images (random)'), _delete('disk.raw')]),
    ('backing file, forced', vp(name='base.qcow2', state='absent', force=True), [_delete('base.qcow2')]),
    ('LV', params(name='lv1', pool='lvm', state='absent'), [_delete('lv1', 'lvm')]),
    ('gluster volume, forced', params(name='shared.qcow2', pool='gv', state='absent', force=True),
     [_delete('shared.qcow2', 'gv')]),
    ('netfs volume whose lock is free', params(name='golden.qcow2', pool='other', state='absent'),
     [_delete('golden.qcow2', 'other')]),
    ('several', params(pool='images', state='absent', volumes=[item(name='spare.raw'), item(name='odd.img')]),
     [_delete('spare.raw'), _delete('odd.img')]),
]


@pytest.mark.parametrize('case_id, p, expected', DELETE_CASES, ids=[c[0] for c in DELETE_CASES])
def test_delete(case_id, p, expected):
    pl = run(p)
    assert steps_of(pl) == expected
    assert pl.changed is bool(expected)
    wipes = [s for s in pl.steps if s.verb == 'wipe']
    for step in wipes:
        assert step.args['algorithm'] == p['wipe']


SHARED_CASES = [
    # (id, params, locked paths, error fragment or None)
    ('gluster needs force', params(name='shared.qcow2', pool='gv', state='absent'), {},
     'a gluster pool keeps no lock that would show a guest on another host'),
    ('gluster wipe needs force', params(name='shared.qcow2', pool='gv', state='absent', wipe='zero'), {},
     'set force: true once no guest on any host uses it'),
    ('gluster shrink needs force', params(name='shared.qcow2', pool='gv', capacity='1GiB', allow_shrink=True), {},
     'refusing to shrink'),
    ('netfs locked: delete', params(name='golden.qcow2', pool='other', state='absent'),
     {'/mnt/nfs/golden.qcow2': 'Failed to get "write" lock'},
     'another process holds its lock (Failed to get "write" lock), a guest on another host that shares pool other'),
    ('netfs locked: shrink', params(name='golden.qcow2', pool='other', capacity='1GiB', allow_shrink=True),
     {'/mnt/nfs/golden.qcow2': 'Failed to get "write" lock'}, 'refusing to shrink'),
    ('netfs locked, forced', params(name='golden.qcow2', pool='other', state='absent', force=True),
     {'/mnt/nfs/golden.qcow2': 'Failed to get "write" lock'}, None),
    ('netfs locked: grow is fine', params(name='golden.qcow2', pool='other', capacity='9GiB'),
     {'/mnt/nfs/golden.qcow2': 'Failed to get "write" lock'}, None),
    ('local pool: no lock rule', params(name='spare.raw', pool='images', state='absent'), {}, None),
]


@pytest.mark.parametrize('case_id, p, locked, error', SHARED_CASES, ids=[c[0] for c in SHARED_CASES])
def test_shared_pools(case_id, p, locked, error):
    w = world({}, {})
    w.locked = locked
    reqs = requests_from_params(p)
    if error is None:
        assert plan(reqs, w).changed
        return
    with pytest.raises(KvmStorageError) as exc:
        plan(reqs, w)
    assert error in exc.value.msg


LOCK_PROBE_CASES = [
    ('netfs delete', params(name='golden.qcow2', pool='other', state='absent'), ['/mnt/nfs/golden.qcow2']),
    ('netfs shrink allowed', params(name='golden.qcow2', pool='other', capacity='1GiB', allow_shrink=True),
     ['/mnt/nfs/golden.qcow2']),
    ('netfs, forced', params(name='golden.qcow2', pool='other', state='absent', force=True), []),
    ('netfs, missing', params(name='nothere.qcow2', pool='other', state='absent'), []),
    ('netfs create', params(name='golden.qcow2', pool='other', capacity='8GiB'), []),
    ('dir delete', params(name='spare.raw', pool='images', state='absent'), []),
]


@pytest.mark.parametrize('case_id, p, expected', LOCK_PROBE_CASES, ids=[c[0] for c in LOCK_PROBE_CASES])
def test_lock_probe_paths(case_id, p, expected):
    assert lock_probe_paths(requests_from_params(p), world({}, {})) == expected


BATCH_DELETE = [
    # (id, names in the order listed, expected steps or the error fragment)
    ('overlay, then its template', ['vm1.qcow2', 'base.qcow2'], [_delete('vm1.qcow2'), _delete('base.qcow2')]),
    ('template first', ['base.qcow2', 'vm1.qcow2'], 'it is the backing file of %s/vm1.qcow2' % IMAGES),
    ('template only', ['base.qcow2'], 'it is the backing file of'),
]


@pytest.mark.parametrize('case_id, names, expected', BATCH_DELETE, ids=[c[0] for c in BATCH_DELETE])
def test_batch_delete_chain(case_id, names, expected):
    p = params(pool='images', state='absent', volumes=[item(name=n) for n in names])
    if isinstance(expected, str):
        with pytest.raises(KvmStorageError) as exc:
            run(p, users={})
        assert expected in exc.value.msg
    else:
        assert steps_of(run(p, users={})) == expected


# ---------------------------------------------------------------------------------------
# plan(): refusals

ERROR_CASES = [
    # (id, params, users, children, exception class, fragments, details)
    ('pool missing', params(name='a.img', pool='nopool', capacity='1G'), USERS, CHILDREN, KvmStorageError,
     ['volume a.img of pool nopool: pool nopool does not exist'], {}),
    ('pool missing in list', params(capacity='1G', volumes=[item(name='a', pool='images'), item(name='b', pool='x')]),
     USERS, CHILDREN, KvmStorageError, ['volume b of pool x: pool x does not exist'], {}),
    ('pool inactive', params(name='a.img', pool='stopped', capacity='1G'), USERS, CHILDREN, KvmStorageError,
     ['volume a.img of pool stopped: pool stopped is not running', 'start it first'], {}),
    ('pool inactive, absent', params(name='a.img', pool='stopped', state='absent'), USERS, CHILDREN, KvmStorageError,
     ['pool stopped is not running'], {}),
    ('new without capacity', vp(name='new.img'), USERS, CHILDREN, KvmStorageError,
     ['volume new.img of pool images does not exist; set capacity (for example 20GiB) to create it'], {}),
    ('new LV without capacity', params(name='lv9', pool='lvm'), USERS, CHILDREN, KvmStorageError,
     ['set capacity'], {}),
    ('metadata, raw by default', vp(name='n.img', capacity='1G', preallocation='metadata'), USERS, CHILDREN,
     KvmStorageError, ['volume n.img of pool images: preallocation metadata needs format qcow2'], {}),
    ('metadata in a logical pool', params(name='lv9', pool='lvm', capacity='1G', preallocation='metadata'),
     USERS, CHILDREN, KvmStorageError, ['preallocation metadata needs format qcow2'], {}),
    # -- qcow2 creation options
    ('cluster_size on a raw default', vp(name='n.img', capacity='1G', cluster_size='64KiB'), USERS, CHILDREN,
     KvmStorageError, ['volume n.img of pool images: cluster_size applies to qcow2 volumes; set format: qcow2'], {}),
    ('lazy_refcounts in a logical pool', params(name='lv9', pool='lvm', capacity='1G', lazy_refcounts=True),
     USERS, CHILDREN, KvmStorageError, ['lazy_refcounts applies to qcow2 volumes; set format: qcow2 in a file pool'],
     {}),
    ('clone of raw with cluster_size', vp(name='c.img', clone_from=cref('disk.raw'), cluster_size='64KiB'), USERS,
     CHILDREN, KvmStorageError, ['cluster_size applies to qcow2 volumes'], {}),
    ('falloc overlay', vp(name='vm.qcow2', backing=ref('base.qcow2'), preallocation='falloc'), USERS, CHILDREN,
     KvmStorageError, ['volume vm.qcow2 of pool images: preallocation falloc of a qcow2 overlay is refused by qemu'],
     {}),
    # -- encryption: what libvirt cannot deliver is refused, not reported as done
    ('encrypted qcow2, full', vp(name='c.qcow2', capacity='1G', format='qcow2', preallocation='full',
                                 encryption={'secret_uuid': UUID, 'secret_usage': None, 'format': None}),
     USERS, CHILDREN, KvmStorageError, ['volume c.qcow2 of pool images: preallocation full of an encrypted qcow2 '
                                        'volume is not supported', 'use preallocation falloc'], {}),
    ('encrypted raw, falloc', vp(name='c.raw', capacity='1G', preallocation='falloc',
                                 encryption={'secret_uuid': UUID, 'secret_usage': None, 'format': None}),
     USERS, CHILDREN, KvmStorageError, ['volume c.raw of pool images: libvirt creates an encrypted raw volume sparse'],
     {}),
    ('encrypted raw, an allocation', vp(name='c.raw', capacity='1G', allocation='512M',
                                        encryption={'secret_uuid': UUID, 'secret_usage': None, 'format': None}),
     USERS, CHILDREN, KvmStorageError, ['libvirt creates an encrypted raw volume sparse, whatever the preallocation'],
     {}),
    ('full qcow2 in a logical pool is no qcow2', params(name='lv9', pool='lvm', capacity='1G', format='qcow2',
                                                        preallocation='full', cluster_size='64KiB'),
     USERS, CHILDREN, KvmStorageError, ['cluster_size applies to qcow2 volumes'], {}),
    ('cluster size differs', vp(name='tuned.qcow2', cluster_size='128KiB'), USERS, CHILDREN, ConflictError,
     ['volume tuned.qcow2 of pool images exists with cluster size 64 KiB, not 128 KiB; these are set when an image '
      'is made and this module never remakes it'], {}),
    ('compat and lazy refcounts differ', vp(name='old.qcow2', compat='1.1', lazy_refcounts=True), USERS, CHILDREN,
     ConflictError, ['exists with lazy refcounts off, compat 0.10, not 1.1;', 'qemu-img amend'], {}),
    ('qcow2 options on a raw volume', vp(name='spare.raw', lazy_refcounts=False), USERS, CHILDREN, ConflictError,
     ['volume spare.raw of pool images exists as a raw volume; lazy_refcounts applies to qcow2 images only'], {}),
    # -- LUN pools
    ('iscsi pool', params(name='lun9', pool='iscsi', capacity='1G'), USERS, CHILDREN, KvmStorageError,
     ['volume lun9 of pool iscsi: volumes of iscsi pools are LUNs', 'libvirt cannot create them'], {}),
    ('iscsi_direct pool', params(name='lun9', pool='iscsi_direct', capacity='1G'), USERS, CHILDREN,
     KvmStorageError, ['volumes of iscsi_direct pools are LUNs', 'libvirt cannot create them'], {}),
    ('scsi pool', params(name='lun9', pool='scsi', capacity='1G'), USERS, CHILDREN, KvmStorageError,
     ['volumes of scsi pools', 'cannot create'], {}),
    ('mpath pool', params(name='dm-9', pool='mpath', capacity='1G'), USERS, CHILDREN, KvmStorageError,
     ['volumes of mpath pools', 'cannot create'], {}),
    ('clone into a LUN pool', params(name='lun9', pool='scsi', clone_from=cref('disk.raw', 'images')), USERS,
     CHILDREN, KvmStorageError, ['volumes of scsi pools'], {}),
    # -- linked clones
    ('backing missing', vp(name='vm.qcow2', backing=ref('nope.qcow2')), USERS, CHILDREN, KvmStorageError,
     ['volume vm.qcow2 of pool images: backing volume nope.qcow2 of pool images does not exist'], {}),
    ('backing in a missing pool', vp(name='vm.qcow2', backing=ref('b', pool='nopool')), USERS, CHILDREN,
     KvmStorageError, ['backing volume b of pool nopool does not exist'], {}),
    ('backing path without format', vp(name='vm.qcow2', capacity='1G', backing=ref(path='/srv/t.img')), USERS,
     CHILDREN, KvmStorageError, ['the format of backing file /srv/t.img is not known; set backing.format'], {}),
    ('backing path without capacity', vp(name='vm.qcow2', backing=ref(path='/srv/t.img', fmt='raw')), USERS,
     CHILDREN, KvmStorageError, ['set capacity; the size of backing file /srv/t.img is not known'], {}),
    ('backing of unknown format', vp(name='vm.qcow2', backing=ref('lv1', pool='lvm')), USERS, CHILDREN,
     KvmStorageError, ['the format of backing file /dev/vg0/lv1 is not known'], {}),
    ('smaller than backing', vp(name='vm.qcow2', capacity='5GiB', backing=ref('base.qcow2')), USERS, CHILDREN,
     KvmStorageError, ['volume vm.qcow2 of pool images: capacity 5 GiB is smaller than its backing volume (10 GiB)'], {}),
    ('overlay must be qcow2', vp(name='vm.img', format='raw', backing=ref('base.qcow2')), USERS, CHILDREN,
     KvmStorageError, ['a volume with a backing file must be qcow2, not raw'], {}),
    ('clone source missing', vp(name='c.raw', clone_from=cref('nope.raw')), USERS, CHILDREN, KvmStorageError,
     ['volume c.raw of pool images: clone_from volume nope.raw of pool images does not exist'], {}),
    ('clone source in another pool missing', vp(name='c.raw', clone_from=cref('disk.raw', 'other')), USERS,
     CHILDREN, KvmStorageError, ['clone_from volume disk.raw of pool other does not exist'], {}),
    # -- existing volumes: conflicts
    ('format conflict', vp(name='disk.raw', format='qcow2'), USERS, CHILDREN, ConflictError,
     ['volume disk.raw of pool images exists with format raw, not qcow2', 'never recreated'], {}),
    ('format conflict, qcow2 to raw', vp(name='base.qcow2', capacity='10GiB', format='raw'), USERS, CHILDREN,
     ConflictError, ['exists with format qcow2, not raw'], {}),
    ('format conflict, ISO image', vp(name='tools.iso', format='qcow2'), USERS, CHILDREN, ConflictError,
     ['exists with format raw, not qcow2'], {}),
    ('format conflict before grow', vp(name='disk.raw', format='vdi', capacity='30GiB'), USERS, CHILDREN,
     ConflictError, ['exists with format raw, not vdi'], {}),
    ('backing conflict', vp(name='vm1.qcow2', backing=ref('disk.raw')), USERS, CHILDREN, ConflictError,
     ['volume vm1.qcow2 of pool images exists with backing file %s, not %s/disk.raw' % (BASE, IMAGES),
      'never changed'], {}),
    ('backing conflict by path', vp(name='vm1.qcow2', backing=ref(path='/srv/other.qcow2', fmt='qcow2')), USERS,
     CHILDREN, ConflictError, ['backing file %s, not /srv/other.qcow2' % BASE], {}),
    ('backing added to a plain volume', vp(name='disk.raw', backing=ref('base.qcow2')), USERS, CHILDREN,
     ConflictError, ['exists with backing file (none), not %s' % BASE], {}),
    ('backing that does not exist', vp(name='vm1.qcow2', backing=ref('nope.qcow2')), USERS, CHILDREN,
     ConflictError, ['not images/nope.qcow2'], {}),
    # -- existing volumes: shrinking
    ('shrink', vp(name='disk.raw', capacity='10GiB'), USERS, CHILDREN, KvmStorageError,
     ['refusing to shrink volume disk.raw of pool images from 20 GiB to 10 GiB', 'allow_shrink: true'], {}),
    ('shrink unused', vp(name='spare.raw', capacity='1GiB', force=True), USERS, CHILDREN, KvmStorageError,
     ['refusing to shrink volume spare.raw of pool images from 20 GiB to 1 GiB'], {}),
    ('shrink by a byte', vp(name='odd.img', capacity='1000MiB'), USERS, CHILDREN, KvmStorageError,
     ['from 1000.00 MiB to 1000 MiB'], {}),
    ('shrink in use', vp(name='disk.raw', capacity='10GiB', allow_shrink=True), USERS, CHILDREN, KvmStorageError,
     ['refusing to shrink volume disk.raw of pool images: it is used by guest(s) db, web', 'force: true'],
     {'used_by': ['db', 'web']}),
    ('shrink a backing file', vp(name='base.qcow2', capacity='5GiB', allow_shrink=True), USERS, CHILDREN,
     KvmStorageError, ['refusing to shrink volume base.qcow2 of pool images: it is used by guest(s) vm1 (through '
                       '%s/vm1.qcow2)' % IMAGES], {'backing_of': [IMAGES + '/vm1.qcow2'], 'used_by': ['vm1']}),
    ('shrink a backing file no guest uses', vp(name='base.qcow2', capacity='5GiB', allow_shrink=True), {}, CHILDREN,
     KvmStorageError, ['refusing to shrink volume base.qcow2 of pool images: it is the backing file of %s/vm1.qcow2'
                       % IMAGES], {'backing_of': [IMAGES + '/vm1.qcow2']}),
    # -- deleting
    ('delete in use', vp(name='disk.raw', state='absent'), USERS, CHILDREN, KvmStorageError,
     ['refusing to delete volume disk.raw of pool images: it is used by guest(s) db, web'], {'used_by': ['db', 'web']}),
    ('delete in use, wipe', vp(name='disk.raw', state='absent', wipe='zero'), USERS, CHILDREN, KvmStorageError,
     ['refusing to delete volume disk.raw'], {}),
    ('delete an overlay in use', vp(name='vm1.qcow2', state='absent'), USERS, CHILDREN, KvmStorageError,
     ['used by guest(s) vm1'], {'used_by': ['vm1']}),
    ('delete a backing file', vp(name='base.qcow2', state='absent'), {}, CHILDREN, KvmStorageError,
     ['refusing to delete volume base.qcow2 of pool images: it is the backing file of %s/vm1.qcow2' % IMAGES],
     {'backing_of': [IMAGES + '/vm1.qcow2']}),
    ('delete a backing file a guest uses through its overlay', vp(name='base.qcow2', state='absent'), USERS,
     CHILDREN, KvmStorageError, ['it is used by guest(s) vm1 (through %s/vm1.qcow2)' % IMAGES],
     {'used_by': ['vm1'], 'backing_of': [IMAGES + '/vm1.qcow2']}),
    ('delete through another spelling of the path', vp(name='disk.raw', state='absent'),
     {IMAGES + '//./disk.raw': ['web']}, {}, KvmStorageError, ['it is used by guest(s) web'], {'used_by': ['web']}),
    ('delete a backing file of many', vp(name='base.qcow2', state='absent'), USERS,
     {BASE: ['/b/z.qcow2', '/b/a.qcow2', '/b/z.qcow2']}, KvmStorageError,
     ['it is the backing file of /b/a.qcow2, /b/z.qcow2'], {'backing_of': ['/b/a.qcow2', '/b/z.qcow2']}),
    ('delete in a list stops the plan', params(pool='images', state='absent',
                                               volumes=[item(name='spare.raw'), item(name='disk.raw')]),
     USERS, CHILDREN, KvmStorageError, ['refusing to delete volume disk.raw'], {}),
]


@pytest.mark.parametrize('case_id, p, users, children, exc_class, fragments, details', ERROR_CASES,
                         ids=[c[0] for c in ERROR_CASES])
def test_plan_refuses(case_id, p, users, children, exc_class, fragments, details):
    with pytest.raises(exc_class) as exc:
        run(p, users, children)
    for fragment in fragments:
        assert fragment in exc.value.msg
    for key, value in details.items():
        assert exc.value.details[key] == value


def test_conflict_is_not_a_plain_error():
    with pytest.raises(KvmStorageError) as exc:
        run(vp(name='spare.raw', capacity='1GiB'))
    assert not isinstance(exc.value, ConflictError)


def test_grow_lun_refused():
    with pytest.raises(KvmStorageError) as exc:
        run(params(name='unit:0:0:1', pool='iscsi', capacity='20GiB'))
    assert 'iscsi' in exc.value.msg


# ---------------------------------------------------------------------------------------
# needs_usage

# Whether the adapter reads who uses what before the one plan: (id, params, from the requests
# alone, with the listing)
NEEDS_USAGE = [
    ('create', vp(name='a', capacity='1G'), False, False),
    ('grow', vp(name='disk.raw', capacity='30G'), False, True),
    ('same size', vp(name='disk.raw', capacity='20G'), False, False),
    ('smaller without allow_shrink (refused by the planner)', vp(name='disk.raw', capacity='10G'), False, False),
    ('existing, no capacity', vp(name='disk.raw'), False, False),
    ('force alone', vp(name='a', force=True), False, False),
    ('absent', vp(name='a', state='absent'), True, True),
    ('allow_shrink', vp(name='a', allow_shrink=True), True, True),
    ('list, one absent', params(pool='images', volumes=[item(name='a'), item(name='b', state='absent')]), True, True),
    ('list, allow_shrink inherited', params(pool='images', allow_shrink=True, volumes=[item(name='a')]), True, True),
    ('list, allow_shrink overridden', params(pool='images', allow_shrink=True,
                                             volumes=[item(name='a', allow_shrink=False)]), False, False),
    ('list, all present', params(pool='images', volumes=[item(name='a'), item(name='b')]), False, False),
    ('list, one grows', params(pool='images', volumes=[item(name='a', capacity='1G'),
                                                       item(name='spare.raw', capacity='21G')]), False, True),
    ('pool missing', params(pool='nowhere', name='a', capacity='1G'), False, False),
]


@pytest.mark.parametrize('case_id, p, alone, listed', NEEDS_USAGE, ids=[c[0] for c in NEEDS_USAGE])
def test_needs_usage(case_id, p, alone, listed):
    reqs = requests_from_params(p)
    assert needs_usage(reqs) is alone
    assert needs_usage(reqs, world()) is listed


@pytest.mark.parametrize('case_id, p, alone, listed', NEEDS_USAGE, ids=[c[0] for c in NEEDS_USAGE])
def test_needs_usage_covers_the_plan(case_id, p, alone, listed):
    """Read before planning: every plan that grows, shrinks or deletes had usage read."""
    reqs = requests_from_params(p)
    try:
        steps = plan(reqs, world())
    except KvmStorageError:
        return
    if set(steps.verbs()) & set(['resize', 'delete', 'wipe']):
        assert listed


# ---------------------------------------------------------------------------------------
# An empty file left by a gluster create that was cut off (brick killed between qemu-img's
# file creation and its header write): replaced, never called a conflict; elsewhere an
# empty volume is left alone.

HALF = 'gluster://gluster1.example.com/gv0/half.qcow2'


def leftover_world(users=None, pool_type='gluster'):
    path = HALF if pool_type == 'gluster' else IMAGES + '/half.qcow2'
    half = vol('half.qcow2', fmt='raw', capacity=0, vol_type='network' if pool_type == 'gluster' else 'file',
               path=path)
    pool = PoolView('gv', pool_type, True, None if pool_type == 'gluster' else IMAGES, _volumes(half),
                    source_hosts=['gluster1.example.com'], source_name='gv0', source_dir='/')
    return World({'gv': pool}, users or {}, {})


LEFTOVER_CASES = [
    # (id, pool type, users, expected steps or error fragment)
    ('gluster leftover replaced', 'gluster', {}, [
        ('delete', 'delete the empty leftover volume half.qcow2 of pool gv of an interrupted create'),
        ('create_gluster', 'create volume half.qcow2 of pool gv with qemu-img over gluster (qcow2, 64 MiB)')]),
    ('gluster leftover in use refused', 'gluster', {HALF: ['vm1']}, 'used by guest(s) vm1'),
    ('empty file in a dir pool is a conflict', 'dir', {}, 'exists with format raw, not qcow2'),
]


@pytest.mark.parametrize('case_id, pool_type, users, expected', LEFTOVER_CASES, ids=[c[0] for c in LEFTOVER_CASES])
def test_empty_leftover(case_id, pool_type, users, expected):
    reqs = requests_from_params(params(name='half.qcow2', pool='gv', format='qcow2', capacity='64MiB'))
    if isinstance(expected, list):
        steps = plan(reqs, leftover_world(users, pool_type))
        assert steps_of(steps) == expected
        assert needs_usage(reqs, leftover_world(users, pool_type))
        assert pools_to_refresh(reqs, leftover_world(users, pool_type)) == ['gv']
    else:
        with pytest.raises(KvmStorageError) as exc:
            plan(reqs, leftover_world(users, pool_type))
        assert expected in exc.value.msg


REFRESH_CASES = [
    # (id, params, pools the adapter lists afresh before the one plan)
    ('create in a gluster pool', params(name='g.qcow2', pool='gv', capacity='1GiB', format='qcow2'), ['gv']),
    ('existing gluster volume: no refresh', params(name='shared.qcow2', pool='gv'), []),
    ('removal in a gluster pool: no refresh', params(name='g.qcow2', pool='gv', state='absent'), []),
    ('clone into a gluster pool (libvirt copies): no refresh',
     params(name='c.qcow2', pool='gv', clone_from=cref('shared.qcow2')), []),
    ('import into a gluster pool (refused): no refresh', params(name='i.qcow2', pool='gv', import_from='/srv/i.qcow2'),
     []),
    ('create in a dir pool: no refresh', vp(name='new.raw', capacity='1GiB'), []),
    ('batch over two gluster pools', params(pool='gv', volumes=[
        item(name='a.qcow2', pool='gv', capacity='1GiB', format='qcow2'),
        item(name='b.qcow2', pool='gvdir', capacity='1GiB', format='qcow2'),
        item(name='c.qcow2', pool='gv', capacity='1GiB', format='qcow2')]), ['gv', 'gvdir']),
]


@pytest.mark.parametrize('case_id, p, expected', REFRESH_CASES, ids=[c[0] for c in REFRESH_CASES])
def test_pools_to_refresh(case_id, p, expected):
    reqs = requests_from_params(p)
    assert pools_to_refresh(reqs, world()) == expected
    try:
        steps = plan(reqs, world())
    except KvmStorageError:
        return
    # every pool the plan makes a volume in with qemu-img was listed afresh
    assert set(s.args['request'].pool for s in steps.steps if s.verb == 'create_gluster') <= set(expected)


# ---------------------------------------------------------------------------------------
# A volume whose create was cut off (its in-flight marker outlived its run): replaced only
# while it is exactly as the cut-off run left it; otherwise the user decides.

MARKER = '/var/lib/kvm-storage/inflight/0123.json'
DOING = 'clone volume spare.raw of pool images to volume disk.raw of pool images (raw, 20 GiB)'
# A half-copied file as the failed run recorded it (it survived the loss of libvirtd).
LEFT = {'dev': 2049, 'ino': 131, 'size': 8 << 20, 'blocks': 16384, 'mtime_ns': 1700000000123456789,
        'ctime_ns': 1700000000123456789}


def changed(**kw):
    return dict(LEFT, **kw)


def incomplete_world(users=None, left=None, now=None, survived=None, more=()):
    w = world(users or {}, {})
    markers = [{'marker': MARKER, 'doing': DOING, 'left': left,
                'survived': left is not None if survived is None else survived}]
    markers += [{'marker': MARKER.replace('0123', '0123-%d' % i), 'doing': DOING, 'left': other,
                 'survived': other is not None} for i, other in enumerate(more)]
    w.pools['images'].incomplete = {'disk.raw': {'markers': markers, 'now': now}}
    return w


REPLACE = ('delete', 'delete the incomplete volume disk.raw of pool images of an interrupted create')
ASK = 'refusing to replace volume disk.raw of pool images as incomplete: the marker %s says a run was cut off' % MARKER
KEEP_OR_FORCE = 'remove that marker to keep the volume as it is, or delete the volume (state: absent) or set force: true'

INCOMPLETE_CASES = [
    # (id, params, users, (left, now) fingerprints, expected steps or error fragments)
    ('half-copied clone, untouched since: replaced', vp(name='disk.raw', capacity='20GiB'), {}, (LEFT, LEFT), [
        REPLACE, _new('disk.raw', 'raw, 20 GiB')]),
    ('replaced by a clone again', params(pool='images', name='disk.raw', clone_from=cref('spare.raw')), {},
     (LEFT, LEFT), [REPLACE,
                    ('clone', 'clone volume spare.raw of pool images to volume disk.raw of pool images (raw, 20 GiB)')]),
    ('incomplete but used by a guest: refused', vp(name='disk.raw', capacity='20GiB'), {IMAGES + '/disk.raw': ['web']},
     (LEFT, LEFT), ['refusing to replace the incomplete volume disk.raw of pool images: it is used by guest(s) web']),
    ('other volumes untouched', vp(name='spare.raw', capacity='20GiB'), {}, (LEFT, LEFT), []),
    ('absent: just deleted', vp(name='disk.raw', state='absent'), {}, (None, None), [
        ('delete', 'delete volume disk.raw of pool images')]),
    # The module process was killed, libvirtd finished the copy: the marker records nothing
    # after the create began, and the volume may be whole and in use by now.
    ('run killed before it recorded anything: asked', vp(name='disk.raw', capacity='20GiB'), {}, (None, LEFT),
     [ASK, 'step "%s"' % DOING, 'killed before it could record how it left the volume', KEEP_OR_FORCE]),
    ('killed run, force: replaced', vp(name='disk.raw', capacity='20GiB', force=True), {}, (None, LEFT), [
        REPLACE, _new('disk.raw', 'raw, 20 GiB')]),
    # Recorded, then changed: a guest or user wrote to it, it was resized, it was made anew.
    ('written since (mtime set back, ctime moved): asked', vp(name='disk.raw', capacity='20GiB'), {},
     (LEFT, changed(ctime_ns=LEFT['ctime_ns'] + 1)), [ASK, 'the volume was changed after that run stopped, so '
                                                      'it may hold data now', KEEP_OR_FORCE]),
    ('written since: asked', vp(name='disk.raw', capacity='20GiB'), {},
     (LEFT, changed(mtime_ns=LEFT['mtime_ns'] + 10 ** 9, ctime_ns=LEFT['ctime_ns'] + 10 ** 9, blocks=32768)),
     [ASK, 'the volume was written after that run stopped']),
    ('resized since: asked', vp(name='disk.raw', capacity='20GiB'), {}, (LEFT, changed(size=1 << 30, ctime_ns=1)),
     [ASK, 'was resized after']),
    ('made anew since (same times, other inode): asked', vp(name='disk.raw', capacity='20GiB'), {},
     (LEFT, changed(ino=132)), [ASK, 'was made anew after']),
    ('block device written since: asked', vp(name='disk.raw', capacity='20GiB'), {},
     (changed(rdev=64768, sectors_written=100), changed(rdev=64768, sectors_written=108)), [ASK, 'was written after']),
    ('not readable here (remote URI): asked', vp(name='disk.raw', capacity='20GiB'), {}, (LEFT, None),
     [ASK, 'cannot be read here']),
    ('not readable by the failed run: asked', vp(name='disk.raw', capacity='20GiB'), {}, (None, LEFT, True),
     [ASK, 'cannot be read here']),
    # Several runs cut off on the same volume (each its own marker): all must agree.
    ('two cut-off runs, both untouched since: replaced', vp(name='disk.raw', capacity='20GiB'), {},
     (LEFT, LEFT, None, [LEFT]), [REPLACE, _new('disk.raw', 'raw, 20 GiB')]),
    ('two cut-off runs, one killed: asked, naming that marker', vp(name='disk.raw', capacity='20GiB'), {},
     (LEFT, LEFT, None, [None]), ['the marker %s says' % MARKER.replace('0123', '0123-0'), 'remove that marker']),
    ('two cut-off runs, both blocking: both named', vp(name='disk.raw', capacity='20GiB'), {},
     (None, LEFT, None, [None]),
     ['the marker %s, %s says' % (MARKER, MARKER.replace('0123', '0123-0')), 'remove those markers']),
    ('changed since, force: replaced', vp(name='disk.raw', capacity='20GiB', force=True), {},
     (LEFT, changed(mtime_ns=1)), [REPLACE, _new('disk.raw', 'raw, 20 GiB')]),
    ('changed and used, force: replaced', vp(name='disk.raw', capacity='20GiB', force=True),
     {IMAGES + '/disk.raw': ['web']}, (LEFT, changed(mtime_ns=1)), [REPLACE, _new('disk.raw', 'raw, 20 GiB')]),
]


@pytest.mark.parametrize('case_id, p, users, prints, expected', INCOMPLETE_CASES, ids=[c[0] for c in INCOMPLETE_CASES])
def test_incomplete_volume(case_id, p, users, prints, expected):
    reqs = requests_from_params(p)
    w = incomplete_world(users, *prints)
    if expected and isinstance(expected[0], tuple) or expected == []:
        assert steps_of(plan(reqs, w)) == expected
    else:
        with pytest.raises(KvmStorageError) as exc:
            plan(reqs, w)
        assert '\n' not in exc.value.msg
        for fragment in expected:
            assert fragment in exc.value.msg, exc.value.msg


# ---------------------------------------------------------------------------------------
# import_from onto an existing volume: kept, never changed, and a warning when it differs

SHA = 'sha256:' + 'a' * 64

IMPORT_KEPT = [
    # (id, request options, facts (format, size, volume digest, why not), words of the warning or None)
    ('same format and size', dict(), ('qcow2', 10 * GiB, None, None), None),
    ('nothing known (a URL, no checksum)', dict(import_from='https://example.com/t.qcow2'),
     (None, None, None, None), None),
    ('size differs', dict(), ('qcow2', 2 * GiB, None, None),
     'volume base.qcow2 of pool images exists and was kept, and it differs from import_from /srv/t.qcow2 (size '
     '10 GiB, the image 2 GiB); import_from fills only a missing volume: delete it (state: absent)'),
    ('format differs', dict(), ('raw', 10 * GiB, None, None), 'format qcow2, the image raw'),
    # a vmdk is imported as qcow2 unless format says otherwise
    ('vmdk kept as its qcow2', dict(), ('vmdk', 10 * GiB, None, None), None),
    ('vhdx of another size', dict(import_from='/srv/t.vhdx'), ('vhdx', 20 * GiB, None, None),
     '(size 10 GiB, the image 20 GiB)'),
    ('size grown on purpose by capacity', dict(capacity='10GiB'), ('qcow2', 2 * GiB, None, None), None),
    ('checksum matches the volume', dict(checksum=SHA), ('qcow2', 10 * GiB, 'a' * 64, None), None),
    ('checksum does not match the volume', dict(checksum=SHA), ('qcow2', 10 * GiB, 'b' * 64, None),
     'its sha256 is not the checksum given'),
    ('checksum of a URL image of unknown format', dict(checksum=SHA, import_from='https://example.com/t'),
     (None, None, 'b' * 64, None), 'its sha256 is not the checksum given (or the image was converted on import: set '
                                   'import_format to say its format)'),
    ('checksum, content not comparable', dict(checksum=SHA), (None, None, None, 'the volume is not a file on this host'),
     'its content was not compared with checksum (the volume is not a file on this host)'),
]


@pytest.mark.parametrize('case_id, options, facts, words', IMPORT_KEPT, ids=[c[0] for c in IMPORT_KEPT])
def test_import_onto_existing_volume(case_id, options, facts, words):
    options = dict(dict(name='base.qcow2', import_from='/srv/t.qcow2'), **options)
    w = world()
    w.imports[('images', 'base.qcow2')] = ImportFacts(*facts)
    steps = plan(requests_from_params(vp(**options)), w)
    assert steps.actions == [] and not steps.changed
    if words is None:
        assert steps.warnings == []
    else:
        assert len(steps.warnings) == 1 and words in steps.warnings[0], steps.warnings
        assert '\n' not in steps.warnings[0]


# ---------------------------------------------------------------------------------------
# import_from: the format an image is stored in, decided once its header is read

def _imp(**kw):
    req, = requests_from_params(vp(name='i', import_from='/srv/src', **kw))
    return req


IMPORT_DECISIONS = [
    # (id, request options, pool type, source format from the header, (stored format, converted) or error)
    ('raw stays raw', {}, 'dir', 'raw', ('raw', False)),
    ('qcow2 stays qcow2', {}, 'dir', 'qcow2', ('qcow2', False)),
    ('vmdk becomes qcow2', {}, 'dir', 'vmdk', ('qcow2', True)),
    ('vhdx becomes qcow2', {}, 'dir', 'vhdx', ('qcow2', True)),
    ('vdi becomes qcow2', {}, 'dir', 'vdi', ('qcow2', True)),
    ('vpc becomes qcow2', {}, 'dir', 'vpc', ('qcow2', True)),
    ('vmdk into raw', dict(format='raw'), 'dir', 'vmdk', ('raw', True)),
    ('qcow2 into raw', dict(format='raw'), 'dir', 'qcow2', ('raw', True)),
    ('raw into qcow2', dict(format='qcow2'), 'dir', 'raw', ('qcow2', True)),
    ('qcow2 into qcow2', dict(format='qcow2'), 'dir', 'qcow2', ('qcow2', False)),
    ('qcow2 made anew with options', dict(format='qcow2', cluster_size='1MiB'), 'dir', 'qcow2', ('qcow2', True)),
    ('compressed', dict(compress=True), 'dir', 'qcow2', ('qcow2', True)),
    ('compressed vdi', dict(compress=True), 'dir', 'vdi', ('qcow2', True)),
    ('raw into an LV', {}, 'logical', 'raw', (None, False)),
    ('qcow2 into an LV', {}, 'logical', 'qcow2', (None, True)),
    ('declared and found', dict(import_format='vmdk'), 'dir', 'vmdk', ('qcow2', True)),
    ('declared raw, header qcow2', dict(import_format='raw'), 'dir', 'qcow2',
     'volume i of pool images: /srv/src is a qcow2 image by its header, not raw as import_format says; nothing was '
     'imported'),
    ('declared vhdx, header vpc', dict(import_format='vhdx'), 'dir', 'vpc', 'is a vpc image by its header, not vhdx'),
]


@pytest.mark.parametrize('case_id, options, pool_type, source, expected', IMPORT_DECISIONS,
                         ids=[c[0] for c in IMPORT_DECISIONS])
def test_import_decision(case_id, options, pool_type, source, expected):
    req = _imp(**options)
    if isinstance(expected, str):
        with pytest.raises(KvmStorageError) as exc:
            _volume.import_decision(req, source, pool_type)
        assert expected in exc.value.msg
    else:
        assert _volume.import_decision(req, source, pool_type) == expected
