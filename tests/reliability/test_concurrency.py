# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrency: two and then eight ansible-playbook runs started at once against the same
pool and the same guest, with the same and with overlapping lists. Every run must end ok
or with a clear error that says to re-run; no volume is created twice, no guest gets the
same disk twice, and after the failed runs are re-run the final state equals the union of
the requests (and one more run changes nothing)."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import time
from collections import Counter
from xml.etree import ElementTree

import libvirt
import pytest

from hostile import objects
from hostile.inproc import run_module

HERE = os.path.dirname(os.path.abspath(__file__))
# Not objects.PREFIX: the hostile-input tests, on the other worker, own that one.
POOL = objects.OURS + 'cc'
POOL_DIR = objects.OURS_BASE + 'cc'
GUEST = objects.OURS + 'cc-guest'
# What a run that lost a race must say (_libvirt.translate): what happened and to re-run.
RETRYABLE = re.compile(r'at the same time; re-run')


@pytest.fixture
def conn(lab_env):
    conn = objects.connect()
    objects.remove_guest(conn, GUEST)
    objects.remove_pool(conn, POOL)
    yield conn
    conn.close()
    conn = objects.connect()   # a fresh one: the fault tests of this tier restart libvirtd
    objects.remove_guest(conn, GUEST)
    objects.remove_pool(conn, POOL)
    assert POOL not in [p.name() for p in conn.listAllStoragePools(0)]
    conn.close()


def _race(ansible_run, tmp_path, playbook, per_run_vars):
    """Start one run per entry of ``per_run_vars``, release them together from the start
    line (concurrency/start_line.yml), and return each run's results."""
    round_dir = tmp_path / ('round-%d' % len(list(tmp_path.glob('round-*'))))
    round_dir.mkdir()
    go = round_dir / 'go'
    procs = []
    for i, v in enumerate(per_run_vars):
        extra = dict(v, kvmst_out=str(round_dir / ('%d.json' % i)), kvmst_ready=str(round_dir / ('%d.ready' % i)),
                     kvmst_go=str(go))
        procs.append(ansible_run(os.path.join(HERE, 'concurrency', playbook), background=True, extra_vars=extra))
    while len(list(round_dir.glob('*.ready'))) < len(procs):
        if any(p.poll() is not None for p in procs):
            break       # a run ended before the start line: its output says why (below)
        time.sleep(0.05)
    go.touch()
    outs = []
    for i, proc in enumerate(procs):
        stdout, stderr = proc.communicate()
        assert proc.returncode == 0, stdout[-3000:] + stderr[-3000:]
        outs.append(json.loads((round_dir / ('%d.json' % i)).read_text()))
    return outs


def _judge(results):
    """Each result ok, or failed with a clear retryable message; returns the failed ones."""
    failed = [r for r in results if r.get('failed')]
    for r in failed:
        msg = r.get('msg') or ''
        assert msg and 'unexpected error' not in msg and 'Traceback' not in msg, r
        assert RETRYABLE.search(msg), 'a lost race must say what to do: %r' % msg
    return failed


# --- volumes and guest disks through ansible-playbook ---------------------------------

def _volume_lists(n):
    if n == 2:   # the same list twice
        same = [{'name': 'same%d.qcow2' % i, 'format': 'qcow2', 'capacity': '8MiB'} for i in range(3)]
        return [same, list(same)]
    # overlapping: two shared volumes, and each run shares one more with its neighbour
    shared = [{'name': 'shared0.raw', 'capacity': '4MiB'}, {'name': 'shared1.qcow2', 'format': 'qcow2',
                                                            'capacity': '4MiB'}]
    return [shared + [{'name': 'o%d.raw' % i, 'capacity': '2MiB'},
                      {'name': 'o%d.raw' % ((i + 1) % n), 'capacity': '2MiB'}]
            for i in range(n)]


def _disk_list(volumes, n):
    """The disks of one run: all its volumes for two runs; for eight, one shared and its own."""
    names = [v['name'] for v in volumes]
    return names if n == 2 else [names[0]] + names[2:]


def _guest_disks(flags, guest=GUEST):
    dom = objects.connect().lookupByName(guest)
    disks = ElementTree.fromstring(dom.XMLDesc(flags)).findall('./devices/disk')
    sources = [os.path.basename(d.find('source').get('volume') or d.find('source').get('file')) for d in disks]
    return sources, [d.find('target').get('dev') for d in disks]


def _check_no_duplicates(results):
    creates = Counter(a for r in results for a in r['volumes'].get('actions') or [] if a.startswith('create '))
    assert all(c == 1 for c in creates.values()), 'a volume created twice: %r' % creates
    attaches = Counter(d['item'] for r in results for d in r['disks'] if d.get('changed'))
    assert all(c == 1 for c in attaches.values()), 'a disk attached twice: %r' % attaches
    sources, targets = _guest_disks(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert len(sources) == len(set(sources)), sources
    assert len(targets) == len(set(targets)), targets


@pytest.mark.parametrize('n', [2, 8])
def test_playbooks_raced(conn, ansible_run, tmp_path, n):
    objects.dir_pool(conn, POOL, POOL_DIR)
    objects.define_guest(conn, GUEST, root_ports=12)     # defined, not running: persistent attach
    lists = _volume_lists(n)
    runs = [{'kvmst_pool': POOL, 'kvmst_volumes': items, 'kvmst_guest': GUEST, 'kvmst_disks': _disk_list(items, n)}
            for items in lists]
    results = _race(ansible_run, tmp_path, 'raced.yml', runs)
    lost = _judge([r['volumes'] for r in results] + [d for r in results for d in r['disks']])
    _check_no_duplicates(results)

    # The losers re-run (what their message asks for): then pool and guest hold the union.
    for run, result in zip(runs, results):
        if result['volumes'].get('failed') or any(d.get('failed') for d in result['disks']):
            again = _race(ansible_run, tmp_path, 'raced.yml', [run])[0]
            assert not again['volumes'].get('failed') and not [d for d in again['disks'] if d.get('failed')], again
    wanted = dict((v['name'], v) for items in lists for v in items)
    pool = objects.connect().storagePoolLookupByName(POOL)   # fresh: the fault tests restart libvirtd
    pool.refresh(0)
    assert sorted(pool.listVolumes()) == sorted(wanted)
    for name, item in wanted.items():
        assert "<format type='%s'/>" % item.get('format', 'raw') in pool.storageVolLookupByName(name).XMLDesc(0)
    union = sorted(set(d for run in runs for d in run['kvmst_disks']))
    sources, targets = _guest_disks(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert sorted(sources) == union and len(set(targets)) == len(targets), (sources, targets)

    # The state equals every request: one run asking for all of it changes nothing.
    again = _race(ansible_run, tmp_path, 'raced.yml', [{'kvmst_pool': POOL, 'kvmst_volumes': list(wanted.values()),
                                                        'kvmst_guest': GUEST, 'kvmst_disks': union}])[0]
    assert again['volumes'].get('changed') is False and not [d for d in again['disks'] if d.get('changed')], again
    print('\n%d playbook runs raced: %d lost (volume batches or disks) with a retryable error' % (n, len(lost)))


# --- the same races with no start-up jitter -----------------------------------------
# ansible-playbook runs start seconds apart on a loaded machine, so their module runs
# rarely overlap. Forked module runs (hostile/inproc.py) released by one barrier read and
# write libvirt within milliseconds of each other: the window a real race needs.

def _forked(module, per_run_args):
    ctx = multiprocessing.get_context('fork')
    barrier, queue = ctx.Barrier(len(per_run_args)), ctx.Queue()

    def child(i, args):
        barrier.wait()
        try:
            queue.put((i, run_module(module, args)[1]))
        except BaseException as exc:  # a crash is a result too: the parent fails on it
            queue.put((i, {'failed': True, 'msg': 'unexpected error: crash %r' % exc}))

    procs = [ctx.Process(target=child, args=(i, a)) for i, a in enumerate(per_run_args)]
    for proc in procs:
        proc.start()
    results = dict(queue.get(timeout=600) for dummy in procs)
    for proc in procs:
        proc.join()
    return [results[i] for i in range(len(procs))]


def test_volumes_raced_forked(conn):
    objects.dir_pool(conn, POOL, POOL_DIR)
    lists = _volume_lists(8)
    args = [{'pool': POOL, 'volumes': items} for items in lists]
    results = _forked('volume', args)
    failed = _judge(results)
    creates = Counter(a for r in results for a in r.get('actions') or [] if a.startswith('create '))
    assert all(c == 1 for c in creates.values()), creates
    for a, r in zip(args, results):
        if r.get('failed'):
            assert not _forked('volume', [a])[0].get('failed')
    wanted = sorted(set(v['name'] for items in lists for v in items))
    pool = objects.connect().storagePoolLookupByName(POOL)
    pool.refresh(0)
    assert sorted(pool.listVolumes()) == wanted
    print('\n8 forked volume runs raced: %d ok, %d lost with a retryable error: %r'
          % (8 - len(failed), len(failed), [r['msg'] for r in failed]))


def test_disks_raced_forked(conn):
    pool = objects.dir_pool(conn, POOL, POOL_DIR)
    for name in ('d0.raw', 'd1.raw', 'd2.raw'):
        objects.add_volume(pool, name)
    objects.define_guest(conn, GUEST, root_ports=12)
    # Four runs attach the same disk, four others two more disks (two runs each), all at once.
    args = [{'domain': GUEST, 'source': {'volume': {'pool': POOL, 'name': 'd0.raw'}}} for dummy in range(4)]
    args += [{'domain': GUEST, 'source': {'volume': {'pool': POOL, 'name': 'd%d.raw' % (1 + i % 2)}}}
             for i in range(4)]
    results = _forked('disk', args)
    failed = _judge(results)
    sources, targets = _guest_disks(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert len(sources) == len(set(sources)), sources
    assert len(targets) == len(set(targets)), targets
    assert sum(1 for r in results if r.get('changed')) == len(set(sources)), results
    for a, r in zip(args, results):
        if r.get('failed'):
            assert not _forked('disk', [a])[0].get('failed')
    sources, targets = _guest_disks(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert sorted(sources) == ['d0.raw', 'd1.raw', 'd2.raw']
    print('\n8 forked disk runs raced: %d ok, %d lost with a retryable error: %r'
          % (8 - len(failed), len(failed), [r['msg'] for r in failed]))


def test_disks_raced_forked_live(conn):
    """The same race on a running guest: live and persistent attach (live: auto)."""
    pool = objects.dir_pool(conn, POOL, POOL_DIR)
    for name in ('d0.raw', 'd1.raw', 'd2.raw'):
        objects.add_volume(pool, name)
    objects.define_guest(conn, GUEST, root_ports=12).create()
    args = [{'domain': GUEST, 'source': {'volume': {'pool': POOL, 'name': 'd%d.raw' % (i % 3)}}} for i in range(8)]
    results = _forked('disk', args)
    failed = _judge(results)
    for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):
        sources, targets = _guest_disks(flags)
        assert len(sources) == len(set(sources)) and len(targets) == len(set(targets)), (flags, sources, targets)
    for a, r in zip(args, results):
        if r.get('failed'):
            assert not _forked('disk', [a])[0].get('failed')
    for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):
        assert sorted(_guest_disks(flags)[0]) == ['d0.raw', 'd1.raw', 'd2.raw'], flags
    print('\n8 forked live disk runs raced: %d ok, %d lost with a retryable error' % (8 - len(failed), len(failed)))


# --- two host_storage plans at once on overlapping objects -----------------------------

HS_POOL = objects.OURS + 'hs2cc'
HS_POOL_DIR = objects.OURS_BASE + 'hs2cc'
HS_GUEST = objects.OURS + 'hs2cc-guest'


@pytest.fixture
def hs_conn(lab_env):
    conn = objects.connect()
    objects.remove_guest(conn, HS_GUEST)
    objects.remove_pool(conn, HS_POOL)
    yield conn
    conn.close()
    conn = objects.connect()
    objects.remove_guest(conn, HS_GUEST)
    objects.remove_pool(conn, HS_POOL)
    assert HS_POOL not in objects.our_pools(conn)
    conn.close()


def _hs_spec(own):
    """One run's plan: the pool both declare, two shared volumes and one of its own, and as
    disks of the guest one shared volume and its own."""
    volumes = [{'pool': HS_POOL, 'name': 'shared0.raw', 'capacity': '4MiB'},
               {'pool': HS_POOL, 'name': 'shared1.qcow2', 'format': 'qcow2', 'capacity': '4MiB'},
               {'pool': HS_POOL, 'name': own, 'capacity': '2MiB'}]
    disks = [{'domain': HS_GUEST, 'source': {'volume': {'pool': HS_POOL, 'name': name}}}
             for name in ('shared0.raw', own)]
    return {'pools': [{'name': HS_POOL, 'type': 'dir', 'target': {'path': HS_POOL_DIR}}],
            'volumes': volumes, 'disks': disks}


def test_host_storage_raced_forked(hs_conn):
    """Two host_storage runs released together behind a barrier, declaring the same new pool,
    two of the same volumes and one disk of the same guest: each ends ok or with an error
    that says to re-run; nothing is defined, created or attached twice; re-running the
    losers converges to the union, and then neither plan changes anything."""
    objects.define_guest(hs_conn, HS_GUEST, root_ports=12)   # defined, not running: persistent attach
    args = [_hs_spec('a0.raw'), _hs_spec('b0.raw')]
    results = _forked('host_storage', args)
    failed = _judge(results)
    actions = [a for r in results for a in r.get('actions') or []]
    made = Counter(a for a in actions if a.startswith(('define pool', 'create volume')))
    assert all(c == 1 for c in made.values()), 'made twice: %r' % made
    attached = Counter(re.sub(r'^attach disk \w+ ', 'attach ', a) for a in actions if a.startswith('attach'))
    assert all(c == 1 for c in attached.values()), 'attached twice: %r' % attached
    sources, targets = _guest_disks(libvirt.VIR_DOMAIN_XML_INACTIVE, HS_GUEST)
    assert len(sources) == len(set(sources)) and len(targets) == len(set(targets)), (sources, targets)

    for a, r in zip(args, results):
        if r.get('failed'):
            again = _forked('host_storage', [a])[0]
            assert not again.get('failed'), again
    pool = objects.connect().storagePoolLookupByName(HS_POOL)
    pool.refresh(0)
    assert sorted(pool.listVolumes()) == ['a0.raw', 'b0.raw', 'shared0.raw', 'shared1.qcow2']
    sources, targets = _guest_disks(libvirt.VIR_DOMAIN_XML_INACTIVE, HS_GUEST)
    assert sorted(sources) == ['a0.raw', 'b0.raw', 'shared0.raw'] and len(set(targets)) == 3, (sources, targets)
    for a in args:
        rerun = _forked('host_storage', [a])[0]
        assert not rerun.get('failed') and rerun['changed'] is False and rerun['actions'] == [], rerun
    print('\n2 forked host_storage plans raced: %d lost with a retryable error: %r'
          % (len(failed), [r['msg'] for r in failed]))
