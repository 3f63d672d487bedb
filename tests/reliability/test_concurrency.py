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
import os
import re
from collections import Counter
from xml.etree import ElementTree

import libvirt
import pytest

from hostile import objects

HERE = os.path.dirname(os.path.abspath(__file__))
POOL = objects.PREFIX + 'cc'
POOL_DIR = objects.BASE + '-cc'
GUEST = objects.PREFIX + 'ccguest'
# What a run that lost a race may say: the error names the conflict and tells to re-run.
RETRYABLE = re.compile(r're-run|retry|already exists|changed meanwhile', re.I)


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
    assert not [p for p in objects.our_pools(conn) if p == POOL]
    conn.close()


def _race(ansible_run, tmp_path, playbook, per_run_vars):
    """Start one run per entry of ``per_run_vars`` at once; returns each run's results."""
    procs, outs = [], []
    for v in per_run_vars:
        out = tmp_path / ('%s-%d.json' % (playbook, len(list(tmp_path.glob('*.json'))) + len(procs)))
        procs.append((out, ansible_run(os.path.join(HERE, 'concurrency', playbook), background=True,
                                       extra_vars=dict(v, kvmst_out=str(out)))))
    for out, proc in procs:
        stdout, stderr = proc.communicate()
        assert proc.returncode == 0, stdout[-3000:] + stderr[-3000:]
        outs.append(json.loads(out.read_text()))
    return outs


def _judge(results):
    """Each result ok, or failed with a clear retryable message; returns the failed ones."""
    failed = [r for r in results if r.get('failed')]
    for r in failed:
        msg = r.get('msg') or ''
        assert msg and 'unexpected error' not in msg and 'Traceback' not in msg, r
        assert RETRYABLE.search(msg), 'a lost race must say what to do: %r' % msg
    return failed


# --- volumes ----------------------------------------------------------------------

def _volume_lists(n):
    if n == 2:   # the same list twice
        same = [{'name': 'same%d.qcow2' % i, 'format': 'qcow2', 'capacity': '8MiB'} for i in range(3)]
        return [same, list(same)]
    # overlapping: two shared volumes, and each run shares one more with its neighbour
    shared = [{'name': 'shared0.raw', 'capacity': '4MiB'}, {'name': 'shared1.qcow2', 'format': 'qcow2',
                                                            'capacity': '4MiB'}]
    return [shared + [{'name': 'o%d.raw' % i, 'capacity': '2MiB'}, {'name': 'o%d.raw' % ((i + 1) % n),
                                                                      'capacity': '2MiB'}]
            for i in range(n)]


@pytest.mark.parametrize('n', [2, 8])
def test_volumes_raced(conn, ansible_run, tmp_path, n):
    objects.dir_pool(conn, POOL, POOL_DIR)
    lists = _volume_lists(n)
    runs = [{'kvmst_pool': POOL, 'kvmst_volumes': items} for items in lists]
    results = _race(ansible_run, tmp_path, 'volumes.yml', runs)
    results = [r[0] for r in results]
    failed = _judge(results)

    # No volume created twice: every "create" claimed by at most one run.
    creates = Counter(a for r in results for a in r.get('actions') or [] if a.startswith('create '))
    assert all(c == 1 for c in creates.values()), creates

    # The losers re-run (what their message asks for): then the pool holds exactly the union.
    for run, result in zip(runs, results):
        if result.get('failed'):
            again = _race(ansible_run, tmp_path, 'volumes.yml', [run])[0][0]
            assert not again.get('failed'), again
    wanted = dict((v['name'], v) for items in lists for v in items)
    pool = conn.storagePoolLookupByName(POOL)
    pool.refresh(0)
    assert sorted(pool.listVolumes()) == sorted(wanted)
    for name, item in wanted.items():
        xml = pool.storageVolLookupByName(name).XMLDesc(0)
        assert "<format type='%s'/>" % item.get('format', 'raw') in xml, xml
    # And the state equals every request: one more run with all of them changes nothing.
    again = _race(ansible_run, tmp_path, 'volumes.yml', [{'kvmst_pool': POOL, 'kvmst_volumes': list(wanted.values())}])
    assert again[0][0].get('changed') is False and not again[0][0].get('failed'), again
    print('\n%d volume runs raced: %d ok, %d lost with a retryable error' % (n, n - len(failed), len(failed)))


# --- guest disks ------------------------------------------------------------------

def _disk_lists(n):
    if n == 2:
        return [['d0.raw', 'd1.raw', 'd2.raw']] * 2
    return [['ds.raw', 'd%d.raw' % i, 'd%d.raw' % ((i + 1) % n)] for i in range(n)]


def _guest_disks(conn, flags):
    dom = conn.lookupByName(GUEST)
    disks = ElementTree.fromstring(dom.XMLDesc(flags)).findall('./devices/disk')
    sources = [os.path.basename(d.find('source').get('volume') or d.find('source').get('file')) for d in disks]
    return sources, [d.find('target').get('dev') for d in disks]


@pytest.mark.parametrize('n', [2, 8])
def test_disks_raced_persistent(conn, ansible_run, tmp_path, n):
    pool = objects.dir_pool(conn, POOL, POOL_DIR)
    lists = _disk_lists(n)
    for name in sorted(set(d for items in lists for d in items)):
        objects.add_volume(pool, name)
    objects.define_guest(conn, GUEST, root_ports=12)
    runs = [{'kvmst_guest': GUEST, 'kvmst_pool': POOL, 'kvmst_disks': items} for items in lists]
    results = _race(ansible_run, tmp_path, 'disks.yml', runs)
    items = [i for r in results for i in r]
    failed = _judge(items)

    # No disk attached twice, not even for a moment in the persistent definition.
    sources, targets = _guest_disks(conn, libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert len(sources) == len(set(sources)), sources
    assert len(targets) == len(set(targets)), targets
    attaches = Counter(i['item'] for i in items if i.get('changed'))
    assert all(c == 1 for c in attaches.values()), attaches

    for run, result in zip(runs, results):
        if any(i.get('failed') for i in result):
            again = _race(ansible_run, tmp_path, 'disks.yml', [run])[0]
            assert not [i for i in again if i.get('failed')], again
    sources, targets = _guest_disks(conn, libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert sorted(sources) == sorted(set(d for items in lists for d in items))
    assert len(targets) == len(set(targets)), targets
    union = sorted(set(d for items in lists for d in items))
    again = _race(ansible_run, tmp_path, 'disks.yml', [{'kvmst_guest': GUEST, 'kvmst_pool': POOL, 'kvmst_disks': union}])
    assert not [i for i in again[0] if i.get('changed') or i.get('failed')], again
    print('\n%d disk runs raced: %d disk attaches ok, %d lost with a retryable error'
          % (n, len(items) - len(failed), len(failed)))
