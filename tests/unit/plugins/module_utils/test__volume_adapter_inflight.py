# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The volume adapter's in-flight marker: what a create that fails (and survives) records
about the volume it leaves, and what the next run reads back for the planner. libvirt is
faked: a pool whose clone call and look-ups fail as they do when libvirtd dies."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._inflight import Inflight, fingerprint
from ansible_collections.kvm.storage.plugins.module_utils._volume import PoolView, World, plan, requests_from_params
from ansible_collections.kvm.storage.plugins.module_utils._volume_adapter import VolumeAdapter

libvirt = pytest.importorskip('libvirt')


def _error(code=None):
    exc = libvirt.libvirtError('fake')
    exc.err = (_libvirt.code_of(code) if code else 1, 0, 'fake: %s' % code, 0, None, None, None, 0, 0)
    return exc


class FakeVol(object):
    def __init__(self, path):
        self._path = path

    def path(self):
        return self._path

    def delete(self, flags):
        os.unlink(self._path)


class FakePool(object):
    """A dir pool; ``clone`` is what its clone call does to the target file."""

    def __init__(self, folder, clone, lookup):
        self.folder = folder
        self.clone = clone
        self.lookup = lookup

    def createXMLFrom(self, xml, source, flags):  # pylint: disable=invalid-name
        return self.clone(os.path.join(self.folder, 'disk.raw'))

    def storageVolLookupByName(self, name):  # pylint: disable=invalid-name
        return self.lookup(os.path.join(self.folder, name))


class FakeConn(object):
    def __init__(self, uri):
        self.uri = uri

    def getURI(self):  # pylint: disable=invalid-name
        return self.uri


def _half_copy_then_libvirtd_dies(path):
    with open(path, 'wb') as handle:
        handle.write(b'half' * 1024)
    raise _error()  # the connection is gone: no libvirt error code says "not found"


def _libvirtd_gone(path):
    raise _error()


def _not_found(path):
    raise _error('VIR_ERR_NO_STORAGE_VOL')


def _lookup_file(path):
    if not os.path.exists(path):
        raise _error('VIR_ERR_NO_STORAGE_VOL')
    return FakeVol(path)


def _whole_copy(path):
    with open(path, 'wb') as handle:
        handle.write(b'whole' * 1024)
    return FakeVol(path)


def _fails_cleanly(path):
    raise _error('VIR_ERR_INTERNAL_ERROR')  # libvirt removed what it began


def _vol(folder, name):
    path = os.path.join(folder, name)
    return {'name': name, 'type': 'file', 'key': path, 'path': path, 'format': 'raw', 'capacity': 4096,
            'allocation': 4096, 'physical': 4096, 'backing': None, 'encryption': None, 'permissions': None}


def _params(**kw):
    p = dict((name, None) for name in ('capacity', 'allocation', 'preallocation', 'format', 'backing', 'import_from',
                                       'checksum', 'compress', 'encryption', 'permissions', 'wipe', 'allow_shrink',
                                       'force', 'volumes', 'uri'))
    p.update(pool='images', name='disk.raw', state='present', clone_from={'name': 'src.raw', 'pool': None})
    p.update(kw)
    return p


def _setup(tmp_path, clone, lookup, uri='qemu:///system'):
    folder = str(tmp_path / 'pool')
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'src.raw'), 'wb') as handle:
        handle.write(b'whole' * 1024)
    adapter = VolumeAdapter(FakeConn(uri))
    adapter.inflight = Inflight(uri, dirs=(str(tmp_path / 'inflight'),))
    adapter.pools['images'] = FakePool(folder, clone, lookup)
    adapter.vol_objects[('images', 'src.raw')] = FakeVol(os.path.join(folder, 'src.raw'))
    view = PoolView('images', 'dir', True, folder, {'src.raw': _vol(folder, 'src.raw')})
    adapter.views['images'] = view
    return adapter, view, folder


def _clone_step(view):
    steps = plan(requests_from_params(_params()), World({'images': view}))
    assert [s.verb for s in steps.steps] == ['clone']
    return steps.steps[0]


def _as_a_dead_run_left_it(adapter):
    """The marker as the next run finds it: the run that wrote it is gone."""
    proc = subprocess.Popen(['true'])
    proc.wait()
    path = adapter.inflight._path('images', 'disk.raw')  # pylint: disable=protected-access
    with open(path) as handle:
        record = json.load(handle)
    record.update(pid=proc.pid, pid_started=None)
    os.unlink(path)
    with open(path.replace('.json', '-dead.json'), 'w') as handle:
        json.dump(record, handle)


def _next_plan(adapter, view, folder, **kw):
    view.volumes['disk.raw'] = _vol(folder, 'disk.raw')
    view.incomplete = adapter._incomplete('images', view)  # pylint: disable=protected-access
    return plan(requests_from_params(_params(**kw)), World({'images': view}, users={}, children={}))


def test_libvirtd_dies_mid_clone_the_next_run_replaces_the_untouched_volume(tmp_path):
    adapter, view, folder = _setup(tmp_path, _half_copy_then_libvirtd_dies, _libvirtd_gone)
    with pytest.raises(KvmStorageError):
        adapter.apply(_clone_step(view))
    _as_a_dead_run_left_it(adapter)
    [record] = adapter.inflight.incomplete('images')['disk.raw']
    assert record['left'] == fingerprint(os.path.join(folder, 'disk.raw'))
    steps = _next_plan(adapter, view, folder)
    assert [s.verb for s in steps.steps] == ['delete', 'clone']
    # The next run replaces it: the dead run's marker goes with the volume it named.
    for step in steps.steps:
        adapter.pools['images'].clone = _whole_copy
        adapter.pools['images'].lookup = _lookup_file
        adapter.vol_objects[('images', 'disk.raw')] = FakeVol(os.path.join(folder, 'disk.raw'))
        adapter.apply(step)
    assert os.listdir(adapter.inflight.dir) == []


def test_libvirtd_dies_mid_clone_into_a_pool_this_adapter_never_read(tmp_path):
    """A pool the same plan defined (host_storage) was never read by this adapter: when
    libvirtd dies, the planned path still says which file to fingerprint."""
    adapter, view, folder = _setup(tmp_path, _half_copy_then_libvirtd_dies, _libvirtd_gone)
    step = _clone_step(view)
    del adapter.views['images']
    assert step.args['path'] == os.path.join(folder, 'disk.raw')
    with pytest.raises(KvmStorageError):
        adapter.apply(step)
    _as_a_dead_run_left_it(adapter)
    [record] = adapter.inflight.incomplete('images')['disk.raw']
    assert record['left'] == fingerprint(os.path.join(folder, 'disk.raw'))
    assert [s.verb for s in _next_plan(adapter, view, folder).steps] == ['delete', 'clone']


def test_libvirtd_dies_mid_clone_then_the_volume_is_written_the_next_run_asks(tmp_path):
    adapter, view, folder = _setup(tmp_path, _half_copy_then_libvirtd_dies, _libvirtd_gone)
    with pytest.raises(KvmStorageError):
        adapter.apply(_clone_step(view))
    _as_a_dead_run_left_it(adapter)
    path = os.path.join(folder, 'disk.raw')
    with open(path, 'ab') as handle:
        handle.write(b'the user data')
    with pytest.raises(KvmStorageError) as exc:
        _next_plan(adapter, view, folder)
    assert 'refusing to replace volume disk.raw of pool images as incomplete' in exc.value.msg
    assert 'was resized' in exc.value.msg


def test_remote_connection_records_and_reads_no_fingerprint(tmp_path):
    """Paths of a remote libvirt are not this machine's files: never compare them here."""
    adapter, view, folder = _setup(tmp_path, _half_copy_then_libvirtd_dies, _libvirtd_gone, uri='qemu+ssh://hv2/system')
    with pytest.raises(KvmStorageError):
        adapter.apply(_clone_step(view))
    _as_a_dead_run_left_it(adapter)
    assert adapter.inflight.incomplete('images')['disk.raw'][0]['left'] is None
    with pytest.raises(KvmStorageError) as exc:
        _next_plan(adapter, view, folder)
    assert 'cannot be read here' in exc.value.msg


def _another_run_made_it(path):
    with open(path, 'wb') as handle:
        handle.write(b'theirs')
    raise _error('VIR_ERR_STORAGE_VOL_EXIST')


@pytest.mark.parametrize('clone, lookup', [(_whole_copy, _lookup_file), (_fails_cleanly, _not_found),
                                           (_another_run_made_it, _lookup_file)],
                         ids=['clone done', 'clone failed, nothing left', 'lost a race: not ours to mark'])
def test_no_marker_stays(clone, lookup, tmp_path):
    adapter, view, dummy = _setup(tmp_path, clone, lookup)
    try:
        adapter.apply(_clone_step(view))
    except KvmStorageError:
        pass
    assert os.listdir(adapter.inflight.dir) == []
