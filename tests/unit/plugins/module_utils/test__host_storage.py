# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host_storage planner as tables: (declared lists, host) -> ordered actions, or the error.

The host is a ``_host_storage.Host`` as the adapter would read it; every family decision
is the family planner's, so these tables check what host_storage adds: validation that
names the element, the order, the simulated host each object is planned against, the
volume -> disk translation and the drift report."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _host_storage as hs
from ansible_collections.kvm.storage.plugins.module_utils import _volume_disk
from ansible_collections.kvm.storage.plugins.module_utils._disk import DomainView
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._volume import PoolView

MiB = 1024 ** 2
GiB = 1024 ** 3
BASE = '/srv/pool'


def run(host=None, unmanaged=True, **lists):
    """Validate, order and plan ``lists`` over ``host``: the HostPlan."""
    validated = hs.validate(lists)
    ordered = hs.order(hs.nodes(validated))
    return hs.plan(ordered, host or hs.Host(), unmanaged)


def actions(host=None, **lists):
    return run(host, **lists).actions


def vol(name, fmt='qcow2', capacity=GiB, backing=None, pool_path=BASE):
    return {'name': name, 'path': '%s/%s' % (pool_path, name), 'format': fmt, 'capacity': capacity,
            'allocation': 0, 'backing': backing, 'encryption': None, 'type': 'file', 'key': name,
            'physical': None, 'permissions': None}


def disk(target, source, bus='virtio', device='disk', fmt='qcow2'):
    return {'target': target, 'bus': bus, 'device': device, 'source': source, 'format': fmt,
            'readonly': False, 'shareable': False}


def guest(name='g1', active=True, disks=()):
    disks = list(disks)
    return DomainView(name, active, True, config_disks=[dict(d) for d in disks],
                      live_disks=[dict(d) for d in disks] if active else [], buses=None,
                      config_controllers=[('scsi', 'virtio-scsi', '0')], live_controllers=[('scsi', 'virtio-scsi', '0')],
                      machine='pc-q35')


DIR_POOL = {'name': 'images', 'type': 'dir', 'target': {'path': BASE}}


# ---------------------------------------------------------------------------------------
# Validation: every element against its family's spec, before anything is read

@pytest.mark.parametrize('lists, words', [
    ({'pools': [DIR_POOL, {'name': 'x', 'state': 'running'}]}, 'pools[1] (x): value of state must be one of'),
    ({'volumes': [{'name': 'a', 'pool': 'p', 'sise': '1G'}]}, 'volumes[0] (a of pool p): unsupported option(s) sise'),
    ({'volumes': [{'name': 'a'}]}, 'volumes[0] (a of pool None): missing required arguments: pool'),
    ({'disks': [{'source': {'file': '/x'}}]}, 'disks[0]: missing required arguments: domain'),
    ({'disks': [{'domain': 'g', 'bus': 'pci'}]}, 'disks[0] (guest g): value of bus must be one of'),
    ({'thin_volumes': [{'vg': 'vg0', 'name': 't', 'size': 3}]}, None),   # ints become strings, as in the module
    ({'thin_pools': [{'vg': 'vg0'}]}, 'thin_pools[0]: missing required arguments: name'),
    ({'secrets': [{'usage': 'volume'}]}, 'secrets[0]: parameters are required together: usage, secret_usage'),
    ({'pools': ['images']}, 'pools[0]: each element must be a dictionary of pool options'),
    ({'volumes': [{'name': 'a', 'pool': 'p', 'backing': {'name': 'b'}, 'clone_from': {'name': 'c'}}]},
     'mutually exclusive: backing|clone_from'),
])
def test_validation_names_the_element(lists, words):
    if words is None:
        hs.validate(lists)
        return
    with pytest.raises(KvmStorageError) as err:
        hs.validate(lists)
    assert words in err.value.msg


@pytest.mark.parametrize('lists, words', [
    ({'pools': [DIR_POOL, dict(DIR_POOL)]}, 'pool images is declared twice (pools[0] and pools[1])'),
    ({'volumes': [{'name': 'a/b', 'pool': 'p', 'capacity': '1G'}]}, 'volume name'),
    ({'volumes': [{'name': 'a', 'pool': 'p', 'capacity': '1X'}]}, 'volume a of pool p'),
    ({'disks': [{'domain': 'g', 'target': 'vdb', 'bus': 'sata', 'source': {'file': '/x'}}]}, 'does not fit bus sata'),
])
def test_family_request_errors_before_reading(lists, words):
    with pytest.raises(KvmStorageError) as err:
        hs.nodes(hs.validate(lists))
    assert words in err.value.msg


# ---------------------------------------------------------------------------------------
# Order

def _keys(lists):
    return [n.key for n in hs.order(hs.nodes(hs.validate(lists)))]


def test_backing_and_clone_chains_in_any_list_order():
    keys = _keys({'volumes': [
        {'name': 'c', 'pool': 'images', 'clone_from': {'name': 'b'}},
        {'name': 'b', 'pool': 'images', 'backing': {'name': 'a'}},
        {'name': 'a', 'pool': 'images', 'capacity': '1G', 'format': 'qcow2'},
    ], 'pools': [DIR_POOL], 'disks': [{'domain': 'g', 'source': {'volume': {'pool': 'images', 'name': 'c'}}}],
        'secrets': [{'usage': 'iscsi', 'secret_usage': 'iqn.x'}]})
    assert keys == [('secret', 'iscsi', 'iqn.x'), ('pool', 'images'), ('volume', 'images', 'a'),
                    ('volume', 'images', 'b'), ('volume', 'images', 'c'), ('disk', 'g', 0)]


def test_removals_first_and_reversed_detach_before_attach():
    keys = _keys({'pools': [dict(DIR_POOL, state='absent'), {'name': 'new', 'type': 'dir', 'target': {'path': '/n'}}],
                  'volumes': [{'name': 'a', 'pool': 'images', 'state': 'absent'},
                              {'name': 'b', 'pool': 'images', 'backing': {'name': 'a'}, 'state': 'absent'},
                              {'name': 'n', 'pool': 'new', 'capacity': '1G'}],
                  'disks': [{'domain': 'g', 'source': {'volume': {'pool': 'new', 'name': 'n'}}},
                            {'domain': 'g', 'target': 'vdb', 'state': 'absent',
                             'source': {'volume': {'pool': 'images', 'name': 'b'}}}]})
    assert keys == [('disk', 'g', 1), ('volume', 'images', 'b'), ('volume', 'images', 'a'), ('pool', 'images'),
                    ('pool', 'new'), ('volume', 'new', 'n'), ('disk', 'g', 0)]


def test_thin_objects_after_the_logical_pool_that_builds_their_vg():
    keys = _keys({'thin_volumes': [{'vg': 'vg0', 'name': 'snap', 'snapshot_of': 'base'},
                                   {'vg': 'vg0', 'name': 'base', 'thin_pool': 'tp', 'size': '1G'}],
                  'thin_pools': [{'vg': 'vg0', 'name': 'tp', 'size': '4G'}],
                  'pools': [{'name': 'lvm', 'type': 'logical', 'source': {'name': 'vg0', 'devices': ['/dev/vdb']}}],
                  'disks': [{'domain': 'g', 'source': {'block': '/dev/vg0/snap'}}]})
    assert keys == [('pool', 'lvm'), ('thin_pool', 'vg0', 'tp'), ('thin_volume', 'vg0', 'base'),
                    ('thin_volume', 'vg0', 'snap'), ('disk', 'g', 0)]


def test_a_cycle_is_an_error_naming_the_objects():
    with pytest.raises(KvmStorageError) as err:
        _keys({'volumes': [{'name': 'a', 'pool': 'p', 'backing': {'name': 'b'}},
                           {'name': 'b', 'pool': 'p', 'clone_from': {'name': 'a'}}]})
    assert 'cycle' in err.value.msg
    assert 'volume a of pool p (volumes[0])' in err.value.msg and 'volumes[1]' in err.value.msg


# ---------------------------------------------------------------------------------------
# The simulated host: a fresh host plans every step

FRESH = {
    'pools': [DIR_POOL],
    'volumes': [
        {'name': 'web.qcow2', 'pool': 'images', 'backing': {'name': 'tpl.qcow2'}},
        {'name': 'tpl.qcow2', 'pool': 'images', 'format': 'qcow2', 'capacity': '1GiB'},
        {'name': 'luks.qcow2', 'pool': 'images', 'format': 'qcow2', 'capacity': '16MiB',
         'encryption': {'secret_usage': BASE + '/luks.qcow2'}},
    ],
    'secrets': [{'usage': 'volume', 'secret_usage': BASE + '/luks.qcow2', 'value': 'pw'}],
    # (a LUKS qcow2 volume is not handed to a guest: qemu would need its secret, and as raw the
    # guest would overwrite the qcow2 header)
    'disks': [{'domain': 'g1', 'source': {'volume': {'pool': 'images', 'name': 'web.qcow2'}}}],
}


def _fresh_host():
    host = hs.Host(domains={'g1': guest(disks=[disk('vda', {'file': '/boot.qcow2'})])})
    host.new_uuids[('secret', 'volume', BASE + '/luks.qcow2')] = '11111111-2222-3333-4444-555555555555'
    return host


def test_fresh_host_lists_every_step():
    result = run(_fresh_host(), **FRESH)
    assert result.actions == [
        'define secret volume %s/luks.qcow2' % BASE,
        'set the value of secret volume %s/luks.qcow2' % BASE,
        'define pool images',
        'build pool images (create the target directory)',
        'start pool images',
        'create volume tpl.qcow2 of pool images (qcow2, 1 GiB)',
        'create volume web.qcow2 of pool images (qcow2, 1 GiB, backing %s/tpl.qcow2)' % BASE,
        'create volume luks.qcow2 of pool images (qcow2, 16 MiB, LUKS-encrypted)',
        'attach disk vdb (virtio, volume web.qcow2 of pool images) to guest g1 (live and persistent)',
    ]
    # the disk's format comes from the volume the plan creates; the LUKS volume gets the new secret's UUID
    web = [i for i in result.items if i.node.kind == 'disk'][0]
    assert web.extra['model']['format'] == 'qcow2'
    luks = [s for i in result.items for s in i.steps.steps if s.verb == 'create' and 'luks' in s.text][0]
    assert luks.args['element'].find('target/encryption/secret').get('uuid') == '11111111-2222-3333-4444-555555555555'
    assert result.diff()['before']['pool images'] == {'state': 'absent'}
    assert result.diff()['after']['volume images/web.qcow2']['backing']['path'] == BASE + '/tpl.qcow2'


def test_second_run_over_the_made_host_changes_nothing():
    views = {'images': PoolView('images', 'dir', True, target_path=BASE, volumes={
        'tpl.qcow2': vol('tpl.qcow2'),
        'web.qcow2': vol('web.qcow2', backing={'path': BASE + '/tpl.qcow2', 'format': 'qcow2'}),
        'luks.qcow2': dict(vol('luks.qcow2', capacity=16 * MiB), encryption={'format': 'luks', 'secret_uuid': 'u'}),
        'old.raw': vol('old.raw', fmt='raw')})}
    from ansible_collections.kvm.storage.plugins.module_utils._secret import SecretActual, build, SecretRequest
    from ansible_collections.kvm.storage.plugins.module_utils._pool import PoolActual
    from ansible_collections.kvm.storage.plugins.module_utils import _pool
    pool_req = _pool.request_from_params(dict(hs.validate({'pools': [DIR_POOL]})['pools'][0]))
    element = _pool._with_default_target('dir', pool_req.element)
    secret = SecretRequest(usage='volume', usage_id=BASE + '/luks.qcow2', uuid='u', private=True)
    host = hs.Host(pools={'images': PoolActual('dir', element, True, autostart=False, volumes=list(views['images'].volumes))},
                   pool_names=['default', 'images'], views=views, listed={'images': set(views['images'].volumes)},
                   volume_secrets={BASE + '/luks.qcow2': 'u'},
                   secrets={('secret', 'volume', BASE + '/luks.qcow2'): SecretActual(build(secret))},
                   domains={'g1': guest(disks=[disk('vda', {'file': '/boot.qcow2'}),
                                               disk('vdb', {'volume': {'pool': 'images', 'name': 'web.qcow2'}})])})
    lists = dict(FRESH)
    lists['secrets'] = [{'usage': 'volume', 'usage_id': BASE + '/luks.qcow2'}]   # the alias, deprecated
    result = run(host, **lists)
    assert result.actions == []
    assert not result.changed
    # drift: reported, never removed
    assert result.unmanaged == {'pools': ['default'], 'volumes': [{'pool': 'images', 'name': 'old.raw'}],
                                'disks': [{'domain': 'g1', 'target': 'vda', 'device': 'disk',
                                           'source': {'file': '/boot.qcow2'}}]}

    # results: the changed objects only (the default), the others counted per list; or all
    entries, unchanged = hs.split_results(result, every=False)
    assert entries == []
    assert unchanged == {'secrets': 1, 'pools': 1, 'thin_pools': 0, 'thin_volumes': 0, 'volumes': 3, 'disks': 1}
    entries, unchanged = hs.split_results(result, every=True)
    assert [e['element'] for e in entries if e['kind'] == 'pool'] == ['pools[0]'] and len(entries) == 6
    assert set(unchanged.values()) == {0}


@pytest.mark.parametrize('every, elements, unchanged', [
    (False, ['pools[0]', 'volumes[0]'], {'volumes': 1}),
    (True, ['pools[0]', 'volumes[0]', 'volumes[1]'], {}),
])
def test_results_list_what_changes(every, elements, unchanged):
    views = {'images': PoolView('images', 'dir', True, target_path=BASE, volumes={'old.raw': vol('old.raw', fmt='raw')})}
    host = hs.Host(views=views, listed={'images': {'old.raw'}}, pool_names=[])
    result = run(host, pools=[DIR_POOL], volumes=[
        {'pool': 'images', 'name': 'new.raw', 'format': 'raw', 'capacity': '1MiB'},
        {'pool': 'images', 'name': 'old.raw', 'format': 'raw', 'capacity': GiB}])
    entries, counts = hs.split_results(result, every=every)
    assert [e['element'] for e in entries] == elements
    assert all(e['changed'] for e in entries if e['element'] != 'volumes[1]')
    assert dict((k, v) for k, v in counts.items() if v) == unchanged


def test_invocation_counts_the_lists_and_holds_no_element():
    params = {'uri': 'qemu:///system', 'allow_insecure': False, 'unmanaged': True, 'results': 'changed',
              'secrets': [{'usage': 'volume', 'usage_id': '/x', 'value': 'kvmst-secret-value'}],
              'pools': [DIR_POOL], 'thin_pools': [], 'thin_volumes': None, 'volumes': [], 'disks': []}
    assert hs.invocation(params) == {'module_args': {
        'uri': 'qemu:///system', 'allow_insecure': False, 'unmanaged': True, 'results': 'changed',
        'secrets': 1, 'pools': 1, 'thin_pools': 0, 'thin_volumes': 0, 'volumes': 0, 'disks': 0}}


def test_disks_without_target_get_consecutive_targets():
    result = run(hs.Host(domains={'g1': guest(disks=[disk('vda', {'file': '/a'})])}),
                 disks=[{'domain': 'g1', 'source': {'file': '/b'}, 'format': 'raw'},
                        {'domain': 'g1', 'source': {'file': '/c'}, 'format': 'raw'}])
    assert [i.extra['target'] for i in result.items] == ['vdb', 'vdc']


def test_thin_snapshot_of_a_thin_volume_the_plan_creates():
    host = hs.Host(vgs={'vg0': {'vg_name': 'vg0', 'vg_size': 8 * GiB, 'vg_free': 8 * GiB,
                                'vg_extent_size': 4 * MiB}}, lvs={'vg0': {}})
    assert actions(host, thin_pools=[{'vg': 'vg0', 'name': 'tp', 'size': '4G'}],
                   thin_volumes=[{'vg': 'vg0', 'name': 'snap', 'snapshot_of': 'base'},
                                 {'vg': 'vg0', 'name': 'base', 'thin_pool': 'tp', 'size': '1G'}]) == [
        'create thin pool tp in volume group vg0 of 4 GiB',
        'create thin volume base in volume group vg0 of 1 GiB in thin pool tp',
        'create thin volume snap in volume group vg0 as a thin snapshot of base',
    ]


def test_block_disk_on_a_thin_snapshot_the_plan_creates():
    """The disk planner refuses a block source that does not exist; a thin volume the same
    plan creates will exist (raw, a new LV), as the profile lvm_thin attaches its snapshots."""
    from ansible_collections.kvm.storage.plugins.module_utils._disk import SourceFacts
    host = hs.Host(vgs={'vg0': {'vg_name': 'vg0', 'vg_size': 8 * GiB, 'vg_free': 8 * GiB,
                                'vg_extent_size': 4 * MiB}}, lvs={'vg0': {}},
                   domains={'g1': guest(active=False)})
    lists = dict(thin_pools=[{'vg': 'vg0', 'name': 'tp', 'size': '4G'}],
                 thin_volumes=[{'vg': 'vg0', 'name': 'base', 'thin_pool': 'tp', 'size': '1G'},
                               {'vg': 'vg0', 'name': 'snap', 'snapshot_of': 'base'}],
                 disks=[{'domain': 'g1', 'source': {'block': '/dev/vg0/snap'}}])
    validated = hs.validate(lists)
    nodes = hs.order(hs.nodes(validated))
    for node in nodes:
        if node.kind == 'disk':   # as the adapter reads it: the device is not there yet
            host.disk_facts[node.key] = SourceFacts(keys=frozenset([('path', '/dev/vg0/snap')]), exists=False)
    result = hs.plan(nodes, host, True)
    assert result.actions[-1] == 'attach disk vda (virtio, /dev/vg0/snap) to guest g1 (persistent)'
    # without the thin volume in the plan the same disk is refused: the device never appears
    nodes = [n for n in nodes if n.kind != 'thin_volume' or n.request['name'] != 'snap']
    with pytest.raises(KvmStorageError) as exc:
        hs.plan(nodes, host, True)
    assert '/dev/vg0/snap does not exist' in exc.value.msg


def test_thin_pool_in_the_vg_a_logical_pool_builds():
    host = hs.Host(vgs={}, lvs={})
    got = actions(host, pools=[{'name': 'lvm', 'type': 'logical', 'source': {'name': 'vg0', 'devices': ['/dev/vdb']}}],
                  thin_pools=[{'vg': 'vg0', 'name': 'tp', 'size': '4G'}])
    assert got[-1] == 'create thin pool tp in volume group vg0 of 4 GiB'
    assert 'build pool lvm' in ' '.join(got)


@pytest.mark.parametrize('lists, words', [
    ({'volumes': [{'name': 'a', 'pool': 'nowhere', 'capacity': '1G'}]}, 'volume a of pool nowhere: pool nowhere does not exist'),
    ({'disks': [{'domain': 'g1', 'source': {'volume': {'pool': 'nowhere', 'name': 'a'}}}]},
     'guest g1: pool nowhere of its source volume a neither exists nor is declared'),
    ({'pools': [DIR_POOL], 'disks': [{'domain': 'g1', 'source': {'volume': {'pool': 'images', 'name': 'a'}}}]},
     'guest g1: volume a of pool images neither exists nor is declared'),
    ({'pools': [dict(DIR_POOL, state='present')], 'volumes': [{'name': 'a', 'pool': 'images', 'capacity': '1G'}]},
     'pool images is not running'),
    ({'volumes': [{'name': 'a', 'pool': 'images', 'backing': {'name': 'tpl'}}], 'pools': [DIR_POOL]},
     'backing volume tpl of pool images does not exist'),
])
def test_references_that_neither_exist_nor_are_declared(lists, words):
    with pytest.raises(KvmStorageError) as err:
        run(hs.Host(domains={'g1': guest()}), **lists)
    assert words in err.value.msg


# ---------------------------------------------------------------------------------------
# Volumes of pools libvirt will not hand to guests as volume disks

GLUSTER = {'name': 'gfs', 'type': 'gluster', 'source': {'hosts': [{'name': '127.0.0.1'}], 'name': 'gv0'}}


def test_gluster_volume_becomes_a_gluster_network_disk():
    result = run(hs.Host(domains={'g1': guest()}), pools=[GLUSTER],
                 volumes=[{'name': 'img.qcow2', 'pool': 'gfs', 'format': 'qcow2', 'capacity': '16MiB'}],
                 disks=[{'domain': 'g1', 'source': {'volume': {'pool': 'gfs', 'name': 'img.qcow2'}}}])
    assert result.actions[-2] == ('create volume img.qcow2 of pool gfs with qemu-img over gluster (qcow2, 16 MiB)')
    assert result.actions[-1] == 'attach disk vda (virtio, gluster gv0/img.qcow2) to guest g1 (live and persistent)'
    model = [i for i in result.items if i.node.kind == 'disk'][0].extra['model']
    assert model['source'] == {'network': {'protocol': 'gluster', 'name': 'gv0/img.qcow2', 'auth': None,
                                           'hosts': [{'name': '127.0.0.1', 'port': None, 'transport': None}]}}
    assert model['format'] == 'qcow2'


def test_attached_gluster_disk_is_found_again():
    net = {'network': {'protocol': 'gluster', 'name': 'gv0/img.qcow2', 'auth': None,
                       'hosts': [{'name': '127.0.0.1', 'port': None}]}}
    view = PoolView('gfs', 'gluster', True, volumes={'img.qcow2': vol('img.qcow2')}, source_hosts=['127.0.0.1'],
                    source_name='gv0')
    host = hs.Host(views={'gfs': view}, domains={'g1': guest(disks=[disk('vda', net)])})
    assert actions(host, disks=[{'domain': 'g1', 'source': {'volume': {'pool': 'gfs', 'name': 'img.qcow2'}}}]) == []


@pytest.mark.parametrize('pool_type, source_dir, source_name, expected', [
    ('gluster', None, 'gv0', {'network': {'protocol': 'gluster', 'name': 'gv0/v1'}}),
    ('gluster', '/vms/a', 'gv0', {'network': {'protocol': 'gluster', 'name': 'gv0/vms/a/v1'}}),
    ('rbd', None, 'rbdpool', {'network': {'protocol': 'rbd', 'name': 'rbdpool/v1'}}),
    ('mpath', None, None, {'block': '/dev/mapper/v1'}),
    ('dir', None, None, None),
    ('iscsi_direct', None, None, None),
    ('logical', None, None, None),
])
def test_volume_disk_translation(pool_type, source_dir, source_name, expected):
    view = PoolView('p', pool_type, True, source_hosts=['h1'], source_name=source_name, source_dir=source_dir,
                    volumes={'v1': {'path': '/dev/mapper/v1'}})
    got = _volume_disk.disk_source(view, 'v1', '/dev/mapper/v1')
    if expected is None or 'block' in expected:
        assert got == expected
    else:
        assert got['network']['protocol'] == expected['network']['protocol']
        assert got['network']['name'] == expected['network']['name']
        assert got['network']['hosts'] == [{'name': 'h1', 'port': None, 'transport': None}]
        # and disk_info finds the volume again
        assert _volume_disk.volume_of(got, {'p': view}) == {'pool': 'p', 'name': 'v1'}


# ---------------------------------------------------------------------------------------
# Removal: a volume whose only disk the plan detaches may go; one still attached may not

def _used_host(extra_disks=()):
    from ansible_collections.kvm.storage.plugins.module_utils._usage import Usage
    usage = Usage.from_tables(users={BASE + '/web.qcow2': ['g1']}, running={BASE + '/web.qcow2': ['g1']})
    views = {'images': PoolView('images', 'dir', True, target_path=BASE, volumes={'web.qcow2': vol('web.qcow2')})}
    web = disk('vdb', {'volume': {'pool': 'images', 'name': 'web.qcow2'}})
    return hs.Host(views=views, listed={'images': {'web.qcow2'}}, usage=usage,
                   domains={'g1': guest(disks=[web] + list(extra_disks))})


REMOVE = dict(volumes=[{'name': 'web.qcow2', 'pool': 'images', 'state': 'absent'}])


def test_removal_after_the_plan_detaches_the_disk():
    got = actions(_used_host(), disks=[{'domain': 'g1', 'state': 'absent', 'timeout': 5,
                                        'source': {'volume': {'pool': 'images', 'name': 'web.qcow2'}}}], **REMOVE)
    assert got == ['detach disk vdb from guest g1 (live, waiting up to 5 s for the guest to release it)',
                   'detach disk vdb from guest g1 (persistent)',
                   'delete volume web.qcow2 of pool images']


def test_removal_refused_while_the_guest_keeps_it():
    with pytest.raises(KvmStorageError) as err:
        run(_used_host(), **REMOVE)
    assert 'refusing to delete volume web.qcow2 of pool images: it is used by guest(s) g1' in err.value.msg


# ---------------------------------------------------------------------------------------
# A volume whose create was cut off (its in-flight marker outlived the run): the plan sees
# the marker whether or not the pool is declared too, and decides as the volume module does

LEFT = {'dev': 2049, 'ino': 131, 'size': 16 * MiB, 'blocks': 32768, 'mtime_ns': 1700000000123456789,
        'ctime_ns': 1700000000123456789}
CLONE = {'name': 'c1.raw', 'pool': 'images', 'capacity': '16MiB', 'clone_from': {'name': 'tpl.raw'}}
CLONE_STEP = 'clone volume tpl.raw of pool images to volume c1.raw of pool images (raw, 16 MiB)'
REPLACE_CUT = ['delete the incomplete volume c1.raw of pool images of an interrupted create', CLONE_STEP]


def _cut_host(markers):
    """The pool images as the adapter reads it after a run was cut off cloning c1.raw:
    running, with tpl.raw and the half-copied c1.raw, and ``markers`` ((left, survived)
    per marker; none: no marker) whose fingerprint now is LEFT."""
    from ansible_collections.kvm.storage.plugins.module_utils import _pool
    from ansible_collections.kvm.storage.plugins.module_utils._pool import PoolActual
    view = PoolView('images', 'dir', True, target_path=BASE, volumes={
        'tpl.raw': vol('tpl.raw', fmt='raw', capacity=16 * MiB), 'c1.raw': vol('c1.raw', fmt='raw', capacity=16 * MiB)})
    if markers:
        view.incomplete = {'c1.raw': {'now': LEFT, 'markers': [
            {'marker': '/m%d.json' % i, 'doing': CLONE_STEP, 'left': left, 'survived': survived}
            for i, (left, survived) in enumerate(markers)]}}
    pool_req = _pool.request_from_params(dict(hs.validate({'pools': [DIR_POOL]})['pools'][0]))
    element = _pool._with_default_target('dir', pool_req.element)
    return hs.Host(pools={'images': PoolActual('dir', element, True, autostart=False, volumes=list(view.volumes))},
                   pool_names=['images'], views={'images': view}, listed={'images': set(view.volumes)})


@pytest.mark.parametrize('declared, markers, expected', [
    # the kill test's plan: the pool declared too (its definition read and planned first)
    ([DIR_POOL], [(LEFT, True)], REPLACE_CUT),
    ([], [(LEFT, True)], REPLACE_CUT),
    ([DIR_POOL], [], []),
    ([DIR_POOL], [(LEFT, True), (LEFT, True)], REPLACE_CUT),
    ([DIR_POOL], [(None, False)], 'killed before it could record how it left the volume'),
    ([DIR_POOL], [(dict(LEFT, ino=132), True)], 'the volume was made anew after that run stopped'),
    ([DIR_POOL], [(dict(LEFT, mtime_ns=1), True)], 'the volume was written after that run stopped'),
], ids=['declared pool: replaced', 'pool not declared: replaced', 'no marker: kept', 'two cut-off runs: replaced',
        'killed before recording: asked', 'made anew since: asked', 'written since: asked'])
def test_volume_cut_off_mid_create(declared, markers, expected):
    host = _cut_host(markers)
    lists = dict(volumes=[CLONE, {'name': 'tpl.raw', 'pool': 'images', 'format': 'raw'}])
    if declared:
        lists['pools'] = declared
    if isinstance(expected, list):
        assert actions(host, **lists) == expected
    else:
        with pytest.raises(KvmStorageError) as err:
            run(host, **lists)
        assert 'refusing to replace volume c1.raw of pool images as incomplete' in err.value.msg
        assert expected in err.value.msg


# ---------------------------------------------------------------------------------------
# A removal with delete_data after the plan removed what the pool held (host_profile's
# absent run with host_profile_delete_data): planned against the pool as those steps leave it

def _pool_actual(kind, volumes, element_lists, lvs=None):
    from ansible_collections.kvm.storage.plugins.module_utils import _pool
    from ansible_collections.kvm.storage.plugins.module_utils._pool import PoolActual
    req = _pool.request_from_params(dict(hs.validate({'pools': element_lists})['pools'][0]))
    element = _pool._with_default_target(kind, req.element)
    return PoolActual(kind, element, True, autostart=False, volumes=list(volumes), lvs=lvs)


def test_pool_data_deleted_after_the_plan_deleted_its_volumes():
    web = vol('web.qcow2', backing={'path': BASE + '/tpl.qcow2', 'format': 'qcow2'})
    views = {'images': PoolView('images', 'dir', True, target_path=BASE,
                                volumes={'tpl.qcow2': vol('tpl.qcow2'), 'web.qcow2': web})}
    from ansible_collections.kvm.storage.plugins.module_utils._usage import Usage
    host = hs.Host(pools={'images': _pool_actual('dir', views['images'].volumes, [DIR_POOL])}, pool_names=['images'],
                   views=views, listed={'images': set(views['images'].volumes)},
                   usage=Usage.from_tables(users={}, children={BASE + '/tpl.qcow2': [BASE + '/web.qcow2']}))
    pools = [{'name': 'images', 'state': 'absent', 'delete_data': True}]
    volumes = [{'name': 'tpl.qcow2', 'pool': 'images', 'state': 'absent'},
               {'name': 'web.qcow2', 'pool': 'images', 'state': 'absent', 'backing': {'name': 'tpl.qcow2'}}]
    assert actions(host, pools=pools, volumes=volumes) == [
        'delete volume web.qcow2 of pool images', 'delete volume tpl.qcow2 of pool images',
        'stop pool images', 'delete the storage of pool images', 'undefine pool images']
    # a volume the plan keeps still refuses the deletion
    with pytest.raises(KvmStorageError) as err:
        run(host, pools=pools, volumes=volumes[1:])
    assert 'refusing to delete the data of pool images: it holds 1 volume(s) (tpl.qcow2)' in err.value.msg


def test_vg_deleted_after_the_plan_removed_its_thin_volumes_and_pool():
    lvm = {'name': 'lvm', 'type': 'logical', 'source': {'name': 'vg0', 'devices': ['/dev/vdb']},
           'target': {'path': '/dev/vg0'}}
    host = hs.Host(pools={'lvm': _pool_actual('logical', [], [lvm], lvs={'tp': 'thin pool', 'base': 'thin volume',
                                                                         'snap': 'thin volume'})},
                   pool_names=['lvm'], views={'lvm': PoolView('lvm', 'logical', True, target_path='/dev/vg0')},
                   listed={'lvm': set()},
                   vgs={'vg0': {'vg_name': 'vg0', 'vg_size': 8 * GiB, 'vg_free': 4 * GiB, 'vg_extent_size': 4 * MiB}},
                   lvs={'vg0': {'tp': hs._lv_entry('tp', 'thin-pool', 4 * GiB),
                                'base': hs._lv_entry('base', 'thin', GiB, 'tp'),
                                'snap': hs._lv_entry('snap', 'thin', GiB, 'tp', 'base')}})
    lists = dict(pools=[{'name': 'lvm', 'state': 'absent', 'delete_data': True}],
                 thin_pools=[{'vg': 'vg0', 'name': 'tp', 'state': 'absent'}],
                 thin_volumes=[{'vg': 'vg0', 'name': 'base', 'state': 'absent'},
                               {'vg': 'vg0', 'name': 'snap', 'state': 'absent'}])
    got = actions(host, **lists)
    assert got[:3] == ['remove thin volume snap in volume group vg0', 'remove thin volume base in volume group vg0',
                       'remove thin pool tp in volume group vg0'], got
    assert got[3:] == ['stop pool lvm', 'delete the storage of pool lvm (remove volume group vg0)', 'undefine pool lvm']
    # without the thin pool in the plan, the VG still holds it: refused
    lists['thin_pools'] = []
    with pytest.raises(KvmStorageError) as err:
        run(host, **lists)
    assert 'holds 1 logical volume(s) that LVM reports (tp (thin pool))' in err.value.msg


def _chap_host(pool_active=True):
    from ansible_collections.kvm.storage.plugins.module_utils._secret import SecretActual, build, SecretRequest
    from ansible_collections.kvm.storage.plugins.module_utils._pool import PoolActual
    from ansible_collections.kvm.storage.plugins.module_utils import _pool
    pool_req = _pool.request_from_params(dict(hs.validate({'pools': [DIR_POOL]})['pools'][0]))
    element = _pool._with_default_target('dir', pool_req.element)
    secret = SecretRequest(usage='iscsi', usage_id='chap1', uuid='u2', private=True)
    host = hs.Host(pools={'images': PoolActual('dir', element, pool_active, autostart=False, volumes=[])},
                   pool_names=['images'], views={}, listed={'images': set()},
                   secrets={('secret', 'iscsi', 'chap1'): SecretActual(build(secret))})
    host.pool_auths = [{'pool': 'images', 'type': 'chap', 'usage': 'chap1', 'uuid': None}]
    return host


@pytest.mark.parametrize('pool_state, refused', [('absent', False), ('present', True)])
def test_secret_removal_sees_the_pools_the_plan_removes_first(pool_state, refused):
    """host_profile san absent: the pool that logs in with the CHAP secret goes first, so
    the secret's removal is not refused for it; a pool that stays still refuses it."""
    lists = {'pools': [dict(DIR_POOL, state=pool_state)],
             'secrets': [{'usage': 'iscsi', 'secret_usage': 'chap1', 'state': 'absent'}]}
    if refused:
        with pytest.raises(KvmStorageError, match='reference it in their auth'):
            run(_chap_host(), **lists)
    else:
        acts = run(_chap_host(), **lists).actions
        assert any('secret' in a for a in acts) and any('images' in a for a in acts), acts


def test_disk_iotune_is_an_update_in_place():
    """A disks element takes the disk module's iotune: a change is one update, no detach or
    attach; planning leaves the host as read untouched."""
    host = hs.Host(domains={'g1': guest(disks=[disk('vda', {'file': '/a'}), disk('vdb', {'file': '/b'}, fmt='raw')])})
    element = {'domain': 'g1', 'source': {'file': '/b'}, 'format': 'raw', 'iotune': {'total_iops_sec': 500}}
    result = run(host, disks=[element])
    assert result.actions == ['update iotune of disk vdb of guest g1 (live and persistent): total_iops_sec 500']
    assert host.domains['g1'].config_disks[1].get('iotune') is None
    limited = hs.Host(domains={'g1': guest(disks=[disk('vda', {'file': '/a'}),
                                                  dict(disk('vdb', {'file': '/b'}, fmt='raw'),
                                                       iotune={'total_iops_sec': 500})])})
    assert run(limited, disks=[element]).actions == []
