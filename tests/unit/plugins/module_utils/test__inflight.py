# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_inflight: markers of volumes being created, which ones a dead run left, and the
fingerprint that tells whether a volume is still as the cut-off run left it."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _inflight
from ansible_collections.kvm.storage.plugins.module_utils._inflight import Inflight, fingerprint

URI = 'qemu:///system'


def _dead_pid():
    proc = subprocess.Popen(['true'])
    proc.wait()
    return proc.pid


def _leave(markers, pool, name, pid, uri=URI, **extra):
    """A marker as a run that is gone (or still alive) leaves it; returns its file."""
    markers.mark(pool, name, 'create volume %s' % name)
    path = markers._path(pool, name)  # pylint: disable=protected-access
    with open(path) as handle:
        record = json.load(handle)
    record.update(pid=pid, uri=uri, **extra)
    os.unlink(path)
    left = os.path.join(markers.dir, '%s-%d-%s.json' % (name, pid, uri.replace('/', '_')))
    with open(left, 'w') as handle:
        json.dump(record, handle)
    return left


CASES = [
    # (id, markers left: (pool, name, pid kind, uri), pool asked, expected names)
    ('none', [], 'images', set()),
    ('dead run', [('images', 'a.raw', 'dead', URI)], 'images', {'a.raw'}),
    ('run still alive', [('images', 'a.raw', 'alive', URI)], 'images', set()),
    # The pid of a dead run given to a new process: its start time differs.
    ('pid reused', [('images', 'a.raw', 'reused', URI)], 'images', {'a.raw'}),
    ('other pool', [('isos', 'a.raw', 'dead', URI)], 'images', set()),
    ('other connection', [('images', 'a.raw', 'dead', 'qemu+ssh://hv2/system')], 'images', set()),
    ('several', [('images', 'a.raw', 'dead', URI), ('images', 'b.raw', 'alive', URI),
                 ('images', 'c.raw', 'dead', URI)], 'images', {'a.raw', 'c.raw'}),
]


@pytest.mark.parametrize('case_id, left, pool, expected', CASES, ids=[c[0] for c in CASES])
def test_incomplete(case_id, left, pool, expected, tmp_path):
    markers = Inflight(URI, dirs=(str(tmp_path / 'inflight'),))
    for pool_name, name, kind, uri in left:
        if kind == 'reused':
            _leave(markers, pool_name, name, os.getpid(), uri, pid_started=_inflight._start_time(os.getpid()) - 1)
        else:
            _leave(markers, pool_name, name, _dead_pid() if kind == 'dead' else os.getpid(), uri)
    found = markers.incomplete(pool)
    assert set(found) == expected, case_id
    for name, records in found.items():
        assert [r['doing'] for r in records] == ['create volume %s' % name] and records[0]['left'] is None
        assert os.path.exists(records[0]['marker'])


def test_mark_records_the_run_and_left_records_the_volume(tmp_path):
    markers = Inflight(URI, dirs=(str(tmp_path / 'inflight'),))
    markers.mark('images', 'a.raw', 'clone volume src.raw of pool images to volume a.raw of pool images')
    with open(markers._path('images', 'a.raw')) as handle:  # pylint: disable=protected-access
        record = json.load(handle)
    assert record['pid'] == os.getpid() and record['pid_started'] == _inflight._start_time(os.getpid())
    assert record['left'] is None and record['began'] > 0
    volume = tmp_path / 'a.raw'
    volume.write_bytes(b'half')
    markers.left('images', 'a.raw', fingerprint(str(volume)))
    with open(markers._path('images', 'a.raw')) as handle:  # pylint: disable=protected-access
        record = json.load(handle)
    assert record['left'] == fingerprint(str(volume)) and record['ended'] >= record['began']
    assert os.listdir(markers.dir) == [os.path.basename(markers._path('images', 'a.raw'))]  # no .tmp stays


def test_runs_keep_their_own_markers(tmp_path):
    """Concurrent runs on the same volume each write and clear their own marker; a run
    that made or deleted the volume also clears those of runs that are gone."""
    markers = Inflight(URI, dirs=(str(tmp_path / 'inflight'),))
    dead = _leave(markers, 'images', 'a.raw', _dead_pid())
    alive = _leave(markers, 'images', 'a.raw', os.getppid(), pid_started=_inflight._start_time(os.getppid()))
    markers.mark('images', 'a.raw', 'create volume a.raw')
    assert [r['marker'] for r in markers.incomplete('images')['a.raw']] == [dead]
    markers.clear('images', 'a.raw')                    # a lost race: only its own
    assert sorted(os.listdir(markers.dir)) == sorted(os.path.basename(p) for p in (dead, alive))
    markers.mark('images', 'a.raw', 'create volume a.raw')
    markers.clear('images', 'a.raw', dead_too=True)     # made: the dead run's marker is void
    assert os.listdir(markers.dir) == [os.path.basename(alive)]


def test_left_without_a_marker_writes_none(tmp_path):
    markers = Inflight(URI, dirs=(str(tmp_path / 'inflight'),))
    markers.left('images', 'a.raw', {'ino': 1})
    assert os.listdir(markers.dir) == []


def _past(ctime_ns, folder):
    """Wait until the file system's clock (coarse: a kernel tick) has moved past
    ``ctime_ns``, so that a change made now gets another change time (a condition, not a
    sleep)."""
    probe = os.path.join(str(folder), 'clock-probe')
    while True:
        with open(probe, 'w') as handle:
            handle.write('x')
        if os.stat(probe).st_ctime_ns > ctime_ns:
            os.unlink(probe)
            return


def test_fingerprint_moves_with_every_change(tmp_path):
    volume = tmp_path / 'v.raw'
    volume.write_bytes(b'\0' * 8192)
    first = fingerprint(str(volume))
    assert first == fingerprint(str(volume))
    _past(first['ctime_ns'], tmp_path)
    st = os.stat(str(volume))
    # A write whose modification time is set back afterwards: the change time still moves.
    with open(str(volume), 'r+b') as handle:
        handle.write(b'data')
    os.utime(str(volume), ns=(st.st_atime_ns, st.st_mtime_ns))
    written = fingerprint(str(volume))
    assert written['mtime_ns'] == first['mtime_ns'] and written != first
    # Made anew under the same name: another inode.
    os.rename(str(volume), str(tmp_path / 'old'))
    volume.write_bytes(b'\0' * 8192)
    assert fingerprint(str(volume))['ino'] != first['ino']


@pytest.mark.parametrize('path', [None, '', 'gluster://127.0.0.1/gv0/a.qcow2', '/nonexistent/kvmst/a.raw'])
def test_fingerprint_of_what_is_not_here(path):
    assert fingerprint(path) is None


def test_cleared_marker_is_gone(tmp_path):
    markers = Inflight(URI, dirs=(str(tmp_path / 'inflight'),))
    _leave(markers, 'images', 'a.raw', _dead_pid())
    markers.clear('images', 'a.raw', dead_too=True)
    assert markers.incomplete('images') == {}
    assert os.listdir(markers.dir) == []


def test_unwritable_dirs_disable_markers_not_creates(tmp_path):
    blocked = tmp_path / 'file'
    blocked.write_text('not a directory')
    markers = Inflight(URI, dirs=(str(blocked / 'inflight'),))
    assert markers.dir is None
    markers.mark('images', 'a.raw', 'create')   # no error
    markers.left('images', 'a.raw', None)
    markers.clear('images', 'a.raw')
    assert markers.incomplete('images') == {}


def test_falls_back_to_the_next_dir(tmp_path):
    blocked = tmp_path / 'file'
    blocked.write_text('x')
    markers = Inflight(URI, dirs=(str(blocked / 'inflight'), str(tmp_path / 'second')))
    assert markers.dir == str(tmp_path / 'second')
    assert oct(os.stat(markers.dir).st_mode & 0o777) == '0o700'
