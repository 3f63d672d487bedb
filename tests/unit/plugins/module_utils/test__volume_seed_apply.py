# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The volume adapter's seed ISO steps with libvirt faked, as a table: which part fails ->
what is left (the volume, its bytes, an in-flight marker). The ISO is built before the
volume is touched; a create whose write fails is removed again; a replace whose write fails
leaves a marker (the next run makes the seed again); a replace pads with zeros up to the
old size so no byte of the old seed stays."""

from __future__ import annotations

import os

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _volume_seed
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._inflight import Inflight
from ansible_collections.kvm.storage.plugins.module_utils._volume import (
    PoolView, SeedFacts, World, plan, requests_from_params, volume_options)
from ansible_collections.kvm.storage.plugins.module_utils._usage import Usage
from ansible_collections.kvm.storage.plugins.module_utils._volume_adapter import VolumeAdapter

libvirt = pytest.importorskip('libvirt')

OLD = b'OLD-SEED' * 512          # 4 KiB: the seed on the volume before
NEW = b'NEW-ISO!' * 256          # 2 KiB: the ISO the tool builds


class FakeVol(object):
    def __init__(self, path):
        self._path = path

    def path(self):
        return self._path

    def info(self):
        return [0, os.path.getsize(self._path), os.path.getsize(self._path)]

    def resize(self, capacity, flags):
        os.truncate(self._path, capacity)

    def delete(self, flags):
        os.unlink(self._path)


class FakePool(object):
    def __init__(self, folder):
        self.folder = folder

    def createXML(self, xml, flags):  # pylint: disable=invalid-name
        path = os.path.join(self.folder, 'seed.iso')
        with open(path, 'wb') as handle:
            handle.truncate(len(NEW))
        return FakeVol(path)

    def storageVolLookupByName(self, name):  # pylint: disable=invalid-name
        path = os.path.join(self.folder, name)
        if not os.path.exists(path):
            exc = libvirt.libvirtError('fake')
            exc.err = (_libvirt.code_of('VIR_ERR_NO_STORAGE_VOL'), 0, 'fake', 0, None, None, None, 0, 0)
            raise exc
        return FakeVol(path)


class FakeConn(object):
    def getURI(self):  # pylint: disable=invalid-name
        return 'qemu:///system'


class FakeModule(object):
    def __init__(self, tmpdir):
        self.tmpdir = tmpdir

    def run_command(self, *args, **kwargs):  # pragma: no cover - the build is faked
        raise AssertionError('no command runs here')


def _build_ok(module, tool, files, label, what):
    work = os.path.join(module.tmpdir, 'work')
    os.makedirs(work)
    iso = os.path.join(work, 'seed.iso')
    with open(iso, 'wb') as handle:
        handle.write(NEW)
    return work, iso


def _build_fails(module, tool, files, label, what):
    raise KvmStorageError('cannot %s: xorriso failed (rc 5): no space left' % what)


def _write(conn, vol, path, length, label):
    with open(path, 'rb') as src, open(vol.path(), 'r+b') as dst:
        data = src.read()
        dst.write(data + b'\0' * (length - len(data)))


def _write_cut_off(conn, vol, path, length, label):
    with open(vol.path(), 'r+b') as dst:
        dst.write(b'NEW')
    raise KvmStorageError('%s: writing the seed ISO into the volume failed: connection lost' % label)


def _setup(tmp_path, monkeypatch, build, write, existing):
    folder = str(tmp_path / 'pool')
    os.makedirs(folder)
    path = os.path.join(folder, 'seed.iso')
    volumes = {}
    if existing:
        with open(path, 'wb') as handle:
            handle.write(OLD)
        volumes['seed.iso'] = {'name': 'seed.iso', 'type': 'file', 'key': path, 'path': path, 'format': 'iso',
                               'capacity': len(OLD), 'allocation': len(OLD), 'physical': len(OLD), 'backing': None,
                               'encryption': None, 'permissions': None}
    module = FakeModule(str(tmp_path))
    monkeypatch.setattr(_volume_seed, 'find_tool', lambda module: '/usr/bin/xorriso')
    monkeypatch.setattr(_volume_seed, 'build', build)
    monkeypatch.setattr(_volume_seed, 'write', write)
    adapter = VolumeAdapter(FakeConn(), module)
    adapter.inflight = Inflight('qemu:///system', dirs=(str(tmp_path / 'inflight'),))
    adapter.pools['isos'] = FakePool(folder)
    if existing:
        adapter.vol_objects[('isos', 'seed.iso')] = FakeVol(path)
    view = PoolView('isos', 'dir', True, folder, volumes)
    adapter.views['isos'] = view
    world = World({'isos': view})
    world.iso_tool = '/usr/bin/xorriso'
    world.usage = Usage.from_tables({}, {}, {})
    if existing:
        world.seeds[('isos', 'seed.iso')] = SeedFacts('cidata', {'user-data': b'old', 'meta-data': b''})
    p = dict((key, None) for key in volume_options())
    p.update(volumes=None, state='present', pool='isos', name='seed.iso', cloud_init={'user_data': 'new'})
    [step] = plan(requests_from_params(p), world).steps
    assert step.verb == ('seed_replace' if existing else 'seed')
    return adapter, step, path


CASES = [
    # (id, existing, build, write, error part, the volume's bytes after (None: no volume), marker left)
    ('create: the tool fails - nothing made', False, _build_fails, _write, 'xorriso failed', None, False),
    ('create: the write is cut off - the volume removed again', False, _build_ok, _write_cut_off,
     'writing the seed ISO into the volume failed', None, False),
    ('create: written', False, _build_ok, _write, None, NEW, False),
    ('replace: the tool fails - the old seed as it was', True, _build_fails, _write, 'xorriso failed', OLD, False),
    ('replace: the write is cut off - marked for the next run', True, _build_ok, _write_cut_off,
     'writing the seed ISO into the volume failed', b'NEW' + OLD[3:], True),
    ('replace: written, zeros up to the old size', True, _build_ok, _write, None, NEW + b'\0' * (len(OLD) - len(NEW)),
     False),
]


@pytest.mark.parametrize('existing, build, write, error, after, marked', [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_seed_steps(tmp_path, monkeypatch, existing, build, write, error, after, marked):
    adapter, step, path = _setup(tmp_path, monkeypatch, build, write, existing)
    if error:
        with pytest.raises(KvmStorageError) as exc:
            adapter.apply(step)
        assert error in exc.value.msg
    else:
        adapter.apply(step)
    if after is None:
        assert not os.path.exists(path)
    else:
        with open(path, 'rb') as handle:
            assert handle.read() == after
    markers = os.listdir(adapter.inflight.dir) if os.path.isdir(adapter.inflight.dir) else []
    assert bool(markers) is marked, markers
    assert adapter.seed_built is None
    assert not os.path.exists(os.path.join(str(tmp_path), 'work'))   # the work folder is removed
