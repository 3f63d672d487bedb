# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load: 8 and then 32 host-level plans (kvm.storage.host_storage, one ansible-playbook
process each) started at once on this host, declaring the same and overlapping objects -
two pools, shared and neighbouring volumes, a LUKS volume with its secret, a second
secret, disks of one defined guest. Every run ends ok or fails with the collection's
"re-run" error (never a traceback, never another error); nothing is made twice; one more
run with the union of every request ends ok, and then the host holds exactly the union
(pools, volumes, secrets, the guest's disks), and a last run of the union changes nothing.

The runs wait at a start line (a lock the test holds until every run is ready), so their
module runs overlap instead of following each other at ansible-playbook's start-up pace.
The figures (wall time, ok / re-run counts, load average) are printed (pytest -s)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from xml.etree import ElementTree

import libvirt
import pytest

from conftest import REPO, ansible_env
from hostile import objects

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOK = os.path.join(HERE, 'concurrency', 'load_plan.yml')
BIN = os.path.dirname(sys.executable)
# A prefix of its own: the hostile-input tests (kvmst-rel-h-, on the other xdist worker)
# count every pool and secret of theirs, and would count these.
PREFIX = 'kvmst-rel-load-'
POOL_A = PREFIX + 'a'
POOL_B = PREFIX + 'b'
DIR_A = '/var/tmp/' + POOL_A
DIR_B = '/var/tmp/' + POOL_B
GUEST = PREFIX + 'guest'
LUKS = 'luks.qcow2'
LUKS_PATH = os.path.join(DIR_A, LUKS)
CHAP = PREFIX + 'chap'
# What a run that lost a race says (_libvirt.translate), inside host_storage's own words.
RETRYABLE = re.compile(r'at the same time; re-run')
PLAN_TASK = 'The plan'


def _remove_pool(conn, name):
    """Stop and undefine pool ``name`` (ours only) after deleting its volumes."""
    assert name.startswith(PREFIX)
    try:
        pool = conn.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        return
    if pool.isActive():
        pool.refresh(0)
        for vol in pool.listAllVolumes(0):
            vol.delete(0)
        pool.destroy()
    pool.undefine()


def _cleanup(conn):
    try:
        dom = conn.lookupByName(GUEST)
        if dom.isActive():
            dom.destroy()
        dom.undefine()
    except libvirt.libvirtError:
        pass
    _remove_pool(conn, POOL_A)
    _remove_pool(conn, POOL_B)
    objects.remove_secrets(conn, _our_secrets(conn))
    for path in (DIR_A, DIR_B):
        shutil.rmtree(path, ignore_errors=True)


def _our_secrets(conn):
    out = []
    for sec in conn.listAllSecrets(0):
        if sec.usageID() in (LUKS_PATH, CHAP):
            out.append(sec.UUIDString())
    return out


@pytest.fixture
def conn(lab_env):
    conn = objects.connect()
    _cleanup(conn)
    yield conn
    conn.close()
    conn = objects.connect()   # a fresh one: the fault tests of this tier restart libvirtd
    _cleanup(conn)
    assert not [p for p in conn.listAllStoragePools(0) if p.name().startswith(PREFIX)] and not _our_secrets(conn)
    conn.close()


def _plan(i, n):
    """Run i of n: pool A, two shared volumes, the LUKS volume and its secret, its own
    volume and its neighbour's, a disk on the first shared volume; odd runs also pool B with
    a shared and an own volume and the CHAP secret; every fourth run also a disk of its own."""
    secrets = [{'usage': 'volume', 'secret_usage': LUKS_PATH, 'value': 'kvmst-load-passphrase'}]
    pools = [{'name': POOL_A, 'type': 'dir', 'target': {'path': DIR_A}}]
    volumes = [{'pool': POOL_A, 'name': 'shared0.raw', 'capacity': '4MiB'},
               {'pool': POOL_A, 'name': 'shared1.qcow2', 'format': 'qcow2', 'capacity': '4MiB'},
               {'pool': POOL_A, 'name': LUKS, 'format': 'qcow2', 'capacity': '4MiB',
                'encryption': {'secret_usage': LUKS_PATH}},
               {'pool': POOL_A, 'name': 'o%d.raw' % i, 'capacity': '1MiB'},
               {'pool': POOL_A, 'name': 'o%d.raw' % ((i + 1) % n), 'capacity': '1MiB'}]
    disks = [{'domain': GUEST, 'source': {'volume': {'pool': POOL_A, 'name': 'shared0.raw'}}}]
    if i % 2:
        secrets.append({'usage': 'iscsi', 'secret_usage': CHAP, 'value': 'kvmst-load-chap'})
        pools.append({'name': POOL_B, 'type': 'dir', 'target': {'path': DIR_B}})
        volumes += [{'pool': POOL_B, 'name': 'b-shared.raw', 'capacity': '1MiB'},
                    {'pool': POOL_B, 'name': 'b%d.raw' % i, 'capacity': '1MiB'}]
    if i % 4 == 0:
        disks.append({'domain': GUEST, 'source': {'volume': {'pool': POOL_A, 'name': 'o%d.raw' % i}}})
    return {'secrets': secrets, 'pools': pools, 'volumes': volumes, 'disks': disks}


def _union(plans):
    """Every element of every plan, once (elements are equal when their dicts are)."""
    out = {}
    for plan in plans:
        for kind, items in plan.items():
            seen = out.setdefault(kind, [])
            for item in items:
                if item not in seen:
                    seen.append(item)
    return out


def _round(lab_env, tmp_path, plans):
    """Start one ansible-playbook per plan, release them together, wait for all. Returns
    (results of the plan task, figures)."""
    round_dir = tmp_path / ('round-%d' % len(list(tmp_path.glob('round-*'))))
    round_dir.mkdir()
    go = round_dir / 'go'
    env = ansible_env(lab_env, tmp_path, {'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json',
                                          'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1'})
    load_peak = os.getloadavg()[0]
    with open(go, 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = time.monotonic()
        procs = []
        for i, plan in enumerate(plans):
            extra = {'kvmst_plan': plan, 'kvmst_ready': str(round_dir / ('%d.ready' % i)), 'kvmst_go': str(go)}
            with open(round_dir / ('%d.out' % i), 'w') as out, open(round_dir / ('%d.err' % i), 'w') as err:
                procs.append(subprocess.Popen([os.path.join(BIN, 'ansible-playbook'), PLAYBOOK, '-e', json.dumps(extra)],
                                              env=env, cwd=REPO, stdout=out, stderr=err))
        while len(list(round_dir.glob('*.ready'))) < len(procs):
            if any(p.poll() is not None for p in procs):
                break       # a run ended before the start line: its output says why (below)
            load_peak = max(load_peak, os.getloadavg()[0])
            time.sleep(0.1)
        released = time.monotonic()
        fcntl.flock(lock, fcntl.LOCK_UN)
    while any(p.poll() is None for p in procs):
        load_peak = max(load_peak, os.getloadavg()[0])
        time.sleep(0.1)
    ended = time.monotonic()
    results = []
    for i, proc in enumerate(procs):
        stdout = (round_dir / ('%d.out' % i)).read_text()
        stderr = (round_dir / ('%d.err' % i)).read_text()
        assert proc.returncode == 0, 'run %d: rc %d\n%s\n%s' % (i, proc.returncode, stdout[-3000:], stderr[-3000:])
        assert 'Traceback' not in stdout + stderr, 'run %d:\n%s\n%s' % (i, stdout[-3000:], stderr[-3000:])
        tasks = json.loads(stdout)['plays'][0]['tasks']
        results.append([t for t in tasks if t['task']['name'] == PLAN_TASK][0]['hosts']['localhost'])
    figures = {'runs': len(plans), 'wall_s': round(ended - started, 1), 'start_up_s': round(released - started, 1),
               'plans_s': round(ended - released, 1), 'load_peak_1min': round(load_peak, 2),
               'load_after': tuple(round(x, 2) for x in os.getloadavg())}
    return results, figures


def _judge(results):
    """Each result ok, or failed with the clear re-run error; returns the failed ones."""
    failed = [r for r in results if r.get('failed')]
    for r in failed:
        dump = json.dumps(r)
        msg = r.get('msg') or ''
        assert 'Traceback' not in dump and 'MODULE FAILURE' not in msg and 'unexpected error' not in msg, dump
        assert '\n' not in msg and RETRYABLE.search(msg), 'a lost race must say to re-run: %r' % msg
    return failed


def _made_once(results):
    """No object is defined, created or attached by two runs."""
    actions = [a for r in results for a in r.get('actions') or []]
    made = Counter(a for a in actions if a.startswith(('define pool', 'create volume', 'define secret')))
    assert all(c == 1 for c in made.values()), 'made twice: %r' % made
    attached = Counter(re.sub(r'^attach disk \w+ ', 'attach ', a) for a in actions if a.startswith('attach'))
    assert all(c == 1 for c in attached.values()), 'attached twice: %r' % attached


def _guest_disks():
    dom = objects.connect().lookupByName(GUEST)
    disks = ElementTree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).findall('./devices/disk')
    return ([os.path.basename(d.find('source').get('volume') or d.find('source').get('file')) for d in disks],
            [d.find('target').get('dev') for d in disks])


def _host_state():
    conn = objects.connect()
    pools = {}
    for name in (POOL_A, POOL_B):
        pool = conn.storagePoolLookupByName(name)
        pool.refresh(0)
        pools[name] = sorted(pool.listVolumes())
    secrets = sorted((s.usageType(), s.usageID()) for s in conn.listAllSecrets(0) if s.usageID() in (LUKS_PATH, CHAP))
    luks = conn.storagePoolLookupByName(POOL_A).storageVolLookupByName(LUKS).XMLDesc(0)
    ours = [p.name() for p in conn.listAllStoragePools(0) if p.name().startswith(PREFIX)]
    conn.close()
    return pools, secrets, luks, sorted(ours)


@pytest.mark.parametrize('n', [8, 32])
def test_host_plans_at_once(conn, lab_env, tmp_path, n):
    conn.defineXML(objects.guest_xml(GUEST, root_ports=12))     # defined, not running: persistent attach
    plans = [_plan(i, n) for i in range(n)]
    results, figures = _round(lab_env, tmp_path, plans)
    lost = _judge(results)
    _made_once(results)
    sources, targets = _guest_disks()
    assert len(sources) == len(set(sources)) and len(targets) == len(set(targets)), (sources, targets)

    # One more run with the union of every request ends ok; then the host holds the union.
    union = _union(plans)
    final, dummy = _round(lab_env, tmp_path, [union])
    assert not final[0].get('failed'), final[0]
    pools, secrets, luks, ours = _host_state()
    assert ours == [POOL_A, POOL_B]
    wanted = {}
    for v in union['volumes']:
        wanted.setdefault(v['pool'], []).append(v['name'])
    assert pools == dict((k, sorted(v)) for k, v in wanted.items())
    assert secrets == sorted([(libvirt.VIR_SECRET_USAGE_TYPE_VOLUME, LUKS_PATH),
                              (libvirt.VIR_SECRET_USAGE_TYPE_ISCSI, CHAP)]), secrets
    assert "<encryption format='luks'>" in luks, luks
    sources, targets = _guest_disks()
    assert sorted(sources) == sorted(d['source']['volume']['name'] for d in union['disks']), sources
    assert len(set(targets)) == len(targets), targets

    # The host equals every request: the union again changes nothing.
    again, dummy = _round(lab_env, tmp_path, [union])
    assert not again[0].get('failed') and again[0]['changed'] is False and again[0]['actions'] == [], again[0]
    print('\nload: %d host_storage plans at once: %d ok, %d lost with the re-run error; %r; lost: %r'
          % (n, n - len(lost), len(lost), figures, sorted(set(re.sub(r'\d+', 'N', r['msg']) for r in lost))))
