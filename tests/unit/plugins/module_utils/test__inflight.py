# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_inflight: markers of volumes being created, and which ones a dead run left."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._inflight import Inflight

URI = 'qemu:///system'


def _dead_pid():
    proc = subprocess.Popen(['true'])
    proc.wait()
    return proc.pid


def _leave(markers, pool, name, pid, uri=URI):
    """A marker as a run that is gone (or still alive) leaves it."""
    markers.mark(pool, name, 'create volume %s' % name)
    path = markers._path(pool, name)  # pylint: disable=protected-access
    with open(path) as handle:
        record = json.load(handle)
    record.update(pid=pid, uri=uri)
    os.unlink(path)
    with open(Inflight(uri, dirs=(markers.dir,))._path(pool, name), 'w') as handle:  # pylint: disable=protected-access
        json.dump(record, handle)


CASES = [
    # (id, markers left: (pool, name, pid kind, uri), pool asked, expected names)
    ('none', [], 'images', set()),
    ('dead run', [('images', 'a.raw', 'dead', URI)], 'images', {'a.raw'}),
    ('run still alive', [('images', 'a.raw', 'alive', URI)], 'images', set()),
    ('other pool', [('isos', 'a.raw', 'dead', URI)], 'images', set()),
    ('other connection', [('images', 'a.raw', 'dead', 'qemu+ssh://hv2/system')], 'images', set()),
    ('several', [('images', 'a.raw', 'dead', URI), ('images', 'b.raw', 'alive', URI),
                 ('images', 'c.raw', 'dead', URI)], 'images', {'a.raw', 'c.raw'}),
]


@pytest.mark.parametrize('case_id, left, pool, expected', CASES, ids=[c[0] for c in CASES])
def test_incomplete(case_id, left, pool, expected, tmp_path):
    markers = Inflight(URI, dirs=(str(tmp_path / 'inflight'),))
    for pool_name, name, kind, uri in left:
        _leave(markers, pool_name, name, _dead_pid() if kind == 'dead' else os.getpid(), uri)
    assert markers.incomplete(pool) == expected, case_id


def test_cleared_marker_is_gone(tmp_path):
    markers = Inflight(URI, dirs=(str(tmp_path / 'inflight'),))
    _leave(markers, 'images', 'a.raw', _dead_pid())
    markers.clear('images', 'a.raw')
    assert markers.incomplete('images') == set()
    assert os.listdir(markers.dir) == []


def test_unwritable_dirs_disable_markers_not_creates(tmp_path):
    blocked = tmp_path / 'file'
    blocked.write_text('not a directory')
    markers = Inflight(URI, dirs=(str(blocked / 'inflight'),))
    assert markers.dir is None
    markers.mark('images', 'a.raw', 'create')   # no error
    markers.clear('images', 'a.raw')
    assert markers.incomplete('images') == set()


def test_falls_back_to_the_next_dir(tmp_path):
    blocked = tmp_path / 'file'
    blocked.write_text('x')
    markers = Inflight(URI, dirs=(str(blocked / 'inflight'), str(tmp_path / 'second')))
    assert markers.dir == str(tmp_path / 'second')
    assert oct(os.stat(markers.dir).st_mode & 0o777) == '0o700'
