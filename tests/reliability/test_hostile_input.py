# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile and wrong input: hypothesis feeds each module's argument spec generated values
(names with ``/``, ``..``, NUL, newlines, XML metacharacters, huge/negative sizes, unknown
units, wrong types, exclusive options together) and every run must end in a clean
``failed`` with a message or a correct result - never a traceback - and touch nothing but
this test's own objects.

The modules run in-process (hostile/inproc.py) against the real libvirtd; a few
ansible-playbook runs at the end prove the same through Ansible itself. Runs are
reproducible: ``derandomize=True`` and no example database.
"""

from __future__ import annotations

import json
import os
import subprocess
import traceback
import uuid as uuidlib

import libvirt
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import host_listing
from hostile import objects
from hostile.inproc import run_module

PREFIX = objects.PREFIX
WORK = PREFIX + 'work'
WORK_DIR = objects.BASE + '/work'
POOLS_DIR = objects.BASE + '/p'
GUEST = PREFIX + 'guest'
BASE_VOLUMES = ('base.qcow2', 'small.raw')
HERE = os.path.dirname(os.path.abspath(__file__))

STATS = {}


def _settings(n):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


# --- strategies -------------------------------------------------------------------

NASTY = ['a/b', '../x', '..', '.', 'x\x00y', 'x\ny', '\r', '\t', '<a>&"\'', ']]>', '<!--', '&amp;', '-rf', '--help',
         '', ' ', 'x' * 300, '%s%n', '{{ lookup("pipe", "id") }}', '\u202e', 'a;id', '$(id)', '`id`', '*', '?',
         'gluster://h/v', 'C:\\x', '\udcff'[:0] + '\u00e4\u4e2d', '\x7f', ',', 'a,b=c', '@', '\\', '%00']
WRONG = [None, 0, -1, 3.5, True, [], ['x'], {}, {'a': 1}, 'yes', 2 ** 64]
# Printable text without surrogates (JSON cannot carry them to a module).
TEXT = st.text(st.characters(blacklist_categories=('Cs',)), max_size=12)
hostile = st.one_of(st.sampled_from(NASTY), TEXT, st.builds(lambda a, b: a + b, st.sampled_from(NASTY), TEXT))
wrong = st.sampled_from(WRONG)
SIZES = ['1G', '1GiB', '512M', '1k', '1KB', '-1', '0', '1.5G', '1e9', '1 GiB', ' 1G', '10XB', '0x10', 'NaN', 'inf',
         '', 'G', '1Q', '9' * 40, '\u0661\u0662', '1G1G', '1,5G', '-0', '+5M', '1Z', '18446744073709551616',
         '9223372036854775807', '1EiB', '16EiB', '1P', '1T']
size = st.one_of(st.sampled_from(SIZES), st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=True), wrong)
bounded_size = st.one_of(st.sampled_from(['1M', '64k', '2MiB', '0', '-1', 'x', '1Q', '', '1.5M']),
                         st.integers(-2 ** 20, 2 ** 21), wrong)
ours = st.builds(lambda t: PREFIX + 'x' + t, hostile)


def optional_dict(**fields):
    """A dict holding any subset of ``fields`` (each drawn from its strategy)."""
    return st.fixed_dictionaries({}, optional=fields)


SAFE = st.text('abcdefghijklmnopqrstuvwxyz0123456789_', min_size=1, max_size=8)


@st.composite
def overlay(draw, valid, fields, most=3):
    """A valid argument set with up to ``most`` options replaced by hostile values: a run
    gets past the argument checks often enough to reach the module's own code."""
    args = dict(draw(valid))
    for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=most, unique=True)):
        args[key] = draw(fields[key])
    return args


# --- the run and its checks ------------------------------------------------------

def _record(module, rc, result):
    entry = STATS.setdefault(module, {'examples': 0, 'ok': 0, 'failed': 0})
    entry['examples'] += 1
    entry['ok' if rc == 0 else 'failed'] += 1
    if os.environ.get('KVMST_HOSTILE_TRACE'):
        print(module, rc, (result.get('msg') or '')[:150].replace('\n', ' '))


def _core_validator_crash(exc):
    """ansible-core 2.19's argument validator itself raises TypeError ("argument of type 'int'
    is not iterable") when a dict option with suboptions gets a number or a boolean: it
    validates the suboptions of the unconverted value. Users see "Module failed: ..." from
    any module with such an option; no module code runs, so it is counted, not failed on."""
    frames = traceback.extract_tb(exc.__traceback__)
    return (isinstance(exc, TypeError) and 'is not iterable' in str(exc)
            and frames[-1].filename.endswith(os.path.join('ansible', 'module_utils', 'common', 'parameters.py')))


def run_clean(module, args, check_mode, secret=None):
    """Run the module; assert it ended cleanly. Returns (rc, result)."""
    try:
        rc, result = run_module(module, args, check_mode=check_mode, diff=True)
    except TypeError as exc:
        if not _core_validator_crash(exc):
            raise
        STATS.setdefault('ansible-core validator crash', 0)
        STATS['ansible-core validator crash'] += 1
        return None, {}
    _record(module, rc, result)
    assert rc in (0, 1), (rc, result)
    if rc == 1:
        msg = result.get('msg')
        assert result.get('failed') is True, result
        assert isinstance(msg, str) and msg.strip(), result
        assert not msg.startswith('unexpected error'), '%s raised a bug, not an error: %s\n%s' % (
            module, msg, result.get('exception'))
        assert 'Traceback' not in msg and 'exception' not in result, result
    else:
        assert not result.get('failed'), result
        assert isinstance(result.get('changed'), bool), result
        if check_mode:
            assert 'actions' not in result or isinstance(result['actions'], list)
    if secret:
        assert secret not in repr(result), 'the secret value is in the result of %s' % module
    return rc, result


def _volumes(pool):
    pool.refresh(0)
    return sorted(pool.listVolumes())


class World(dict):
    """The test's lab objects; the connection is opened again when libvirtd was restarted
    meanwhile (the fault tests of the same tier restart it)."""

    def _live(self):
        if not self['_conn'].isAlive():
            self['_conn'] = objects.connect()
        return self['_conn']

    def __getitem__(self, key):
        if key == 'conn':
            return self._live()
        if key == 'pool':
            return self._live().storagePoolLookupByName(WORK)
        if key == 'dom':
            return self._live().lookupByName(GUEST)
        return dict.__getitem__(self, key)


@pytest.fixture(scope='module')
def world(lab_env):
    conn = objects.connect()
    listing_before = host_listing()
    pool = objects.dir_pool(conn, WORK, WORK_DIR)
    objects.add_volume(pool, 'base.qcow2', fmt='qcow2')
    objects.add_volume(pool, 'small.raw')
    os.makedirs(POOLS_DIR, exist_ok=True)
    dom = objects.define_guest(conn, GUEST)
    secrets_before = set(s.UUIDString() for s in conn.listAllSecrets(0))
    state = World(_conn=conn, guest_xml=dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), secret_uuids=set())
    yield state
    print('\nhostile-input examples per module (examples, ended ok, ended failed): %r' % STATS)
    conn = state['conn']
    objects.remove_guest(conn, GUEST)
    for name in objects.our_pools(conn):
        if name.startswith(PREFIX + 'x') or name == WORK:
            objects.remove_pool(conn, name)
    objects.remove_secrets(conn, [u for u in objects.our_secrets(conn, state['secret_uuids'])
                                  if u not in secrets_before])
    subprocess.run(['rm', '-rf', objects.BASE], check=False)
    conn.close()
    # Nothing outside this test's objects changed: pools that are neither the lab's test
    # objects (other helpers add and remove theirs meanwhile) nor ours are as before.
    after = host_listing()
    stable = dict((k, v) for k, v in listing_before.items() if not k.startswith('kvmst-'))
    assert dict((k, v) for k, v in after.items() if not k.startswith('kvmst-')) == stable
    assert not [k for k in after if k.startswith(PREFIX)]


def _reset_pool(world, allowed=()):
    """Check the work pool holds only its base volumes (plus ``allowed`` new ones) and no
    stray file, then remove the new ones."""
    pool = world['pool']
    vols = _volumes(pool)
    extra = [v for v in vols if v not in BASE_VOLUMES]
    assert set(extra) <= set(allowed), 'volumes appeared that were not asked for: %r' % extra
    assert set(BASE_VOLUMES) <= set(vols) or set(BASE_VOLUMES) - set(vols) <= set(allowed), vols
    files = sorted(os.listdir(WORK_DIR))
    assert set(files) <= set(vols), 'files in the pool directory that are no volume: %r' % (set(files) - set(vols))
    assert set(os.listdir(objects.BASE)) == {'p', 'work'}, os.listdir(objects.BASE)
    for name in extra:
        pool.storageVolLookupByName(name).delete(0)
    for name in set(BASE_VOLUMES) - set(vols):
        objects.add_volume(pool, name, fmt='qcow2' if name.endswith('qcow2') else 'raw')


def _drop_snapshots(world):
    """Names of the internal snapshots of base.qcow2; the image is made anew when it has any."""
    out = subprocess.run(['qemu-img', 'info', '-U', '--output=json', WORK_DIR + '/base.qcow2'], capture_output=True,
                         text=True, check=True).stdout
    names = [snap['name'] for snap in json.loads(out).get('snapshots', [])]
    if names:
        world['pool'].storageVolLookupByName('base.qcow2').delete(0)
        objects.add_volume(world['pool'], 'base.qcow2', fmt='qcow2')
    return names


# --- pool --------------------------------------------------------------------------

POOL_XML = st.builds(
    lambda name, path, junk: "<pool type='dir'><name>%s</name><target><path>%s/%s</path></target></pool>%s"
    % (name, POOLS_DIR, path, junk), st.one_of(ours, hostile), hostile, st.sampled_from(['', '<x>', ']]>', '&']))
POOL_STATES = ['present', 'active', 'inactive', 'absent']

valid_pool = st.fixed_dictionaries(
    {'name': st.builds(lambda t: PREFIX + 'x' + t, SAFE), 'type': st.just('dir'),
     'target': st.builds(lambda t: {'path': POOLS_DIR + '/' + t}, SAFE), 'state': st.sampled_from(POOL_STATES)},
    optional={'autostart': st.booleans(), 'delete_data': st.booleans(), 'build': st.booleans()})
hostile_pool = dict(
    # Only our prefix or no name: AnsibleModule turns a number into a string, and pool 0
    # would be a real pool outside this test's names.
    name=st.one_of(ours, st.none()),
    type=st.one_of(st.sampled_from(['fs', 'logical', 'zfs', 'rbd', 'DIR', '']), wrong),
    state=st.one_of(hostile, wrong),
    target=st.one_of(optional_dict(path=st.builds(lambda t: POOLS_DIR + '/' + t.replace('/', '_'), hostile),
                                   permissions=optional_dict(mode=st.one_of(hostile, st.sampled_from(
                                       ['0755', '0o755', '999', '-1', '7777'])), owner=hostile, group=hostile)),
                     wrong),
    source=st.one_of(optional_dict(dir=hostile, name=hostile, format=hostile), wrong),
    xml=POOL_XML, autostart=wrong, build=wrong, delete_data=wrong, force=st.booleans(), overwrite=st.booleans(),
    uri=st.sampled_from(['qemu+tcp://127.0.0.1/system', 'test:///default?no_verify=1', 'x\x00', 'bogus://']),
)


def _other_pools(conn):
    # Other helpers' test objects (kvmst-...) come and go meanwhile; the rest must not.
    return sorted((p.name(), p.isActive()) for p in conn.listAllStoragePools(0) if not p.name().startswith('kvmst-'))


@_settings(60)
@given(args=overlay(valid_pool, hostile_pool), check_mode=st.booleans())
def test_pool(world, args, check_mode):
    conn = world['conn']
    before = objects.our_pools(conn)
    others = _other_pools(conn)
    rc, result = run_clean('pool', args, check_mode)
    after = objects.our_pools(conn)
    assert _other_pools(conn) == others, 'a pool outside this test changed'
    new = [p for p in after if p not in before]
    assert all(p.startswith(PREFIX + 'x') for p in new), new
    if check_mode:
        assert after == before
    if rc == 0 and not check_mode and args.get('state') == 'absent':
        assert args['name'] not in after
    for pool in new:
        objects.remove_pool(conn, pool)
    # Pools the module made live under POOLS_DIR; whatever it built there goes with them.
    subprocess.run(['find', POOLS_DIR, '-mindepth', '1', '-delete'], check=False)
    _reset_pool(world)


# --- volume ------------------------------------------------------------------------

def _valid_volume(with_pool=True):
    fields = {'name': st.builds(lambda t, e: 'v' + t + e, SAFE, st.sampled_from(['.raw', '.qcow2', ''])),
              'capacity': st.sampled_from(['1M', '64KiB', '2MiB', '1048576'])}
    if with_pool:
        fields['pool'] = st.just(WORK)
    return st.fixed_dictionaries(fields, optional={'format': st.sampled_from(['raw', 'qcow2']),
                                                   'state': st.sampled_from(['present', 'absent'])})


def _hostile_volume(real):
    # Real runs allocate nothing big: huge sizes and full preallocation only in check mode.
    prealloc = ['sparse'] if real else ['sparse', 'metadata', 'falloc', 'full']
    return dict(
        name=st.one_of(hostile, st.sampled_from(['small.raw', 'base.qcow2']), wrong),
        pool=st.one_of(ours, wrong),
        state=st.one_of(hostile, wrong),
        capacity=bounded_size if real else size,
        format=st.one_of(st.sampled_from(['vmdk', 'iso', 'QCOW2', '']), wrong),
        preallocation=st.one_of(st.sampled_from(prealloc), hostile),
        allocation=bounded_size if real else size,
        backing=st.one_of(optional_dict(name=st.one_of(st.just('base.qcow2'), hostile), pool=st.one_of(
            st.just(WORK), ours), path=st.sampled_from(['/etc/passwd', '/nonexistent', 'rel', '../x', '']),
            format=st.sampled_from(['qcow2', 'raw', 'bogus'])), wrong),
        clone_from=st.one_of(optional_dict(name=st.one_of(st.just('small.raw'), hostile),
                                           pool=st.one_of(st.just(WORK), ours)), wrong),
        import_from=st.one_of(st.sampled_from(['/nonexistent/x', '/', '/dev/null', 'http://127.0.0.1:1/x',
                                               'ftp://127.0.0.1/x', 'file:///nonexistent', 'x\x00']), wrong),
        checksum=st.one_of(hostile, st.sampled_from(['sha256:00', 'md5:', 'sha1:' + 'a' * 40])),
        compress=st.one_of(st.booleans(), wrong),
        encryption=st.one_of(optional_dict(format=st.sampled_from(['luks', 'qcow']),
                                           secret_usage=st.one_of(ours, hostile),
                                           secret_uuid=st.one_of(hostile, st.just(str(uuidlib.UUID(int=7))))),
                             wrong),
        permissions=st.one_of(optional_dict(mode=st.one_of(hostile, st.sampled_from(['0600', '0o644', '888', '-1'])),
                                            owner=st.sampled_from(['root', 'nobody-kvmst', '-1', '0', 'x\ny', '']),
                                            group=st.sampled_from(['root', 'nogroup-kvmst', '99999999999', '']),
                                            label=hostile), wrong),
        wipe=st.one_of(st.sampled_from(['zero', 'trim', 'rot13']), wrong),
        allow_shrink=st.one_of(st.booleans(), wrong),
        force=st.one_of(st.booleans(), wrong),
    )


def _asked(args):
    items = args.get('volumes') if isinstance(args.get('volumes'), list) else [args]
    return [i.get('name') for i in items if isinstance(i, dict) and isinstance(i.get('name'), str)]


@_settings(150)
@given(data=st.data(), check_mode=st.booleans())
def test_volume_single(world, data, check_mode):
    args = data.draw(overlay(_valid_volume(), _hostile_volume(real=not check_mode)))
    rc, result = run_clean('volume', args, check_mode)
    if rc == 0 and not check_mode and args.get('state', 'present') == 'present' and args.get('pool') == WORK:
        assert args['name'] in _volumes(world['pool']), result
    _reset_pool(world, allowed=() if check_mode else _asked(args))


@_settings(60)
@given(data=st.data(), check_mode=st.booleans())
def test_volume_batch(world, data, check_mode):
    item = overlay(_valid_volume(), _hostile_volume(real=not check_mode), most=2)
    args = {'volumes': data.draw(st.lists(st.one_of(item, item, item, wrong), max_size=4))}
    args.update(data.draw(optional_dict(pool=st.one_of(st.just(WORK), ours), name=hostile, capacity=bounded_size)))
    rc, result = run_clean('volume', args, check_mode)
    if rc == 0:
        assert isinstance(result.get('volumes'), list), result
    _reset_pool(world, allowed=() if check_mode else _asked(args))


# --- volume_snapshot ----------------------------------------------------------------

valid_snapshot = st.fixed_dictionaries({'pool': st.just(WORK), 'volume': st.just('base.qcow2'), 'name': SAFE,
                                        'state': st.sampled_from(['present', 'absent', 'reverted', 'listed'])})
hostile_snapshot = dict(pool=st.one_of(ours, hostile, wrong), volume=st.one_of(st.just('small.raw'), hostile, wrong),
                        name=st.one_of(hostile, st.sampled_from(['snap 1', '1', '-d', '-l']), wrong),
                        state=st.one_of(hostile, wrong), force=st.one_of(st.booleans(), wrong))


@_settings(60)
@given(args=overlay(valid_snapshot, hostile_snapshot), check_mode=st.booleans())
def test_volume_snapshot(world, args, check_mode):
    rc, result = run_clean('volume_snapshot', args, check_mode)
    made = _drop_snapshots(world)
    if check_mode or rc != 0 or args.get('state', 'present') != 'present' or args.get('volume') != 'base.qcow2':
        assert not made, 'snapshots appeared: %r (%r)' % (made, result)
    elif rc == 0:
        assert len(made) == 1, result
    _reset_pool(world)


# --- disk ---------------------------------------------------------------------------

valid_disk = st.fixed_dictionaries(
    {'domain': st.just(GUEST),
     'source': st.sampled_from([{'file': WORK_DIR + '/small.raw'}, {'volume': {'pool': WORK, 'name': 'small.raw'}},
                                {'volume': {'pool': WORK, 'name': 'base.qcow2'}}]),
     'state': st.sampled_from(['present', 'absent'])},
    optional={'bus': st.sampled_from(['virtio', 'scsi', 'sata', 'usb']), 'target': st.sampled_from(['vdb', 'sdb']),
              'readonly': st.booleans(), 'cache': st.sampled_from(['none', 'writeback'])})
hostile_disk = dict(
    domain=st.one_of(ours, hostile, wrong),
    state=st.one_of(hostile, wrong),
    target=st.one_of(st.sampled_from(['vdz', 'sda', 'hda', 'fda', 'vd', 'vdaaaaaaa', 'xyz']), hostile, wrong),
    source=st.one_of(
        optional_dict(file=st.one_of(hostile, wrong), block=st.one_of(st.sampled_from(['/dev/null', '/dev/x']), hostile),
                      volume=st.one_of(optional_dict(pool=st.one_of(st.just(WORK), ours), name=st.one_of(
                          st.sampled_from(BASE_VOLUMES), hostile)), wrong)),
        st.builds(lambda n: {'network': n}, st.one_of(optional_dict(
            protocol=st.sampled_from(['gluster', 'iscsi', 'nbd', 'rbd', 'http', 'https', 'ftp']),
            name=hostile,
            hosts=st.one_of(st.lists(optional_dict(name=hostile, port=st.one_of(st.integers(-5, 70000), wrong),
                                                   transport=st.sampled_from(['tcp', 'unix', 'x'])), max_size=2),
                            wrong),
            auth=optional_dict(username=hostile, secret_usage=ours, secret_uuid=hostile)), wrong)),
        wrong),
    device=st.one_of(st.sampled_from(['cdrom', 'floppy', 'lun']), hostile),
    bus=st.one_of(st.sampled_from(['ide', 'fdc', 'xen']), wrong),
    format=st.one_of(st.sampled_from(['raw', 'qcow2', 'iso', 'vhdx', 'nope']), wrong),
    cache=st.sampled_from(['none', 'unsafe', 'bogus']),
    io=st.sampled_from(['native', 'threads', 'io_uring', 'aio']),
    discard=st.sampled_from(['unmap', 'ignore', 'trim']),
    detect_zeroes=st.sampled_from(['off', 'on', 'unmap', 'maybe']),
    iothread=st.one_of(st.integers(-3, 2 ** 40), wrong),
    readonly=wrong, shareable=st.one_of(st.booleans(), wrong),
    serial=st.one_of(hostile, st.just('x' * 100)),
    wwn=st.one_of(hostile, st.sampled_from(['0x5000c50015ea71ac', '5000c50015ea71ac', 'zz'])),
    boot_order=st.one_of(st.integers(-3, 2 ** 40), wrong),
    sgio=st.sampled_from(['filtered', 'unfiltered', 'x']), rawio=st.one_of(st.booleans(), wrong),
    live=st.one_of(st.booleans(), wrong), persistent=st.one_of(st.booleans(), wrong),
    timeout=st.one_of(st.integers(-5, 5), wrong),
)


@_settings(120)
@given(args=overlay(valid_disk, hostile_disk), check_mode=st.booleans())
def test_disk(world, args, check_mode):
    dom = world['dom']
    rc, result = run_clean('disk', args, check_mode)
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert not dom.isActive()
    if check_mode or rc != 0:
        assert xml == world['guest_xml'], 'the guest definition changed: %r' % (result,)
    elif xml != world['guest_xml']:
        world['conn'].defineXML(world['guest_xml'])
    assert objects.our_pools(world['conn']) == [WORK]


# --- secret -------------------------------------------------------------------------

valid_secret = st.fixed_dictionaries(
    {'usage': st.just('volume'), 'secret_usage': st.builds(lambda t: objects.BASE + '-sec-' + t, SAFE),
     'value': st.builds(lambda t: 'S3cr3t-' + t, SAFE), 'state': st.sampled_from(['present', 'absent'])},
    optional={'description': st.builds(lambda t: PREFIX + t, SAFE), 'private': st.booleans(),
              'update_value': st.sampled_from(['on_create', 'always'])})
hostile_secret = dict(
    usage=st.one_of(st.sampled_from(['iscsi', 'ceph', 'tls', 'nfs']), wrong),
    # Usage ids keep our prefix so that every secret a run makes is found and removed.
    secret_usage=st.one_of(ours, st.builds(lambda t: objects.BASE + '-' + t, hostile)),
    uuid=st.one_of(st.builds(lambda i: str(uuidlib.UUID(int=i)), st.integers(1, 2 ** 128 - 1)), hostile, wrong),
    value=st.one_of(hostile, st.sampled_from(['=', '!!!', 'a' * 5000]), wrong),
    value_encoding=st.one_of(st.sampled_from(['base64', 'hex']), wrong),
    private=wrong, ephemeral=st.one_of(st.booleans(), wrong), force=st.one_of(st.booleans(), wrong),
    description=hostile, state=st.one_of(hostile, wrong),
    update_value=st.sampled_from(['always', 'never']),
)


@_settings(80)
@given(args=overlay(valid_secret, hostile_secret), check_mode=st.booleans())
def test_secret(world, args, check_mode):
    conn = world['conn']
    secret = None
    if isinstance(args.get('value'), str) and len(args['value']) >= 6:
        # A marker that cannot appear in the result unless the value leaked.
        secret = args['value'] = 'S3cr3t-kvmst-' + args['value']
    if isinstance(args.get('uuid'), str):
        world['secret_uuids'].add(args['uuid'])
    before = objects.our_secrets(conn, world['secret_uuids'])
    rc, result = run_clean('secret', args, check_mode, secret=secret)
    after = objects.our_secrets(conn, world['secret_uuids'])
    if check_mode or rc != 0:
        assert after == before, result
    objects.remove_secrets(conn, [u for u in after if u not in before])


# --- the info modules -----------------------------------------------------------------

@_settings(60)
@given(module=st.sampled_from(['pool_info', 'volume_info', 'disk_info']),
       args=optional_dict(name=st.one_of(st.just(WORK), st.sampled_from(BASE_VOLUMES), hostile, wrong),
                          pool=st.one_of(st.just(WORK), st.just(WORK), ours, hostile, wrong),
                          domain=st.one_of(st.just(GUEST), st.just(GUEST), ours, hostile, wrong),
                          used_by=st.one_of(st.booleans(), wrong)))
def test_info(world, module, args):
    args = dict((k, v) for k, v in args.items() if k in {'pool_info': ('name',), 'volume_info': (
        'pool', 'name', 'used_by'), 'disk_info': ('domain',)}[module])
    rc, result = run_clean(module, args, check_mode=True)
    assert result.get('changed') in (False, None), result
    _reset_pool(world)


# --- end to end -----------------------------------------------------------------------

def test_bad_input_through_ansible(ansible_run):
    """The same kinds of input through ansible-playbook at -vvv: each task fails with a
    message of the module's, never a module traceback."""
    proc = ansible_run(os.path.join(HERE, 'hostile', 'bad_input.yml'), args=['-vvv'])
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert out.count('...ignoring') == 7, out[-5000:]
    assert 'MODULE FAILURE' not in out and 'Traceback' not in out and 'unexpected error' not in out, out[-5000:]
    assert 'kvmst-rel-h-e2e-value' not in out
    for words in ('must not contain \\"/\\"', 'control characters', 'mutually exclusive', 'unknown size unit'):
        assert words in out, words
