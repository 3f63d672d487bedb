# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_libvirt.each_present: a listing that races with another client's delete."""

from __future__ import annotations

import libvirt
import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError


def _error(code_name, domain_name='VIR_FROM_STORAGE'):
    exc = libvirt.libvirtError('test error')
    exc.err = (getattr(libvirt, code_name), getattr(libvirt, domain_name), 'test error', 2, None, None, None, 0, 0)
    return exc


def _read(behaviour):
    def read(item):
        what = behaviour.get(item)
        if what is None:
            return item.upper()
        if what == 'translated':
            raise _libvirt.translate(_error('VIR_ERR_NO_STORAGE_POOL'), 'read pool %s' % item)
        raise what
    return read


CASES = [
    ('nothing vanished', {}, ['A', 'B', 'C']),
    ('raw not-found skipped', {'b': _error('VIR_ERR_NO_STORAGE_POOL')}, ['A', 'C']),
    ('translated not-found skipped', {'b': 'translated'}, ['A', 'C']),
    ('guest gone skipped', {'a': _error('VIR_ERR_NO_DOMAIN', 'VIR_FROM_QEMU')}, ['B', 'C']),
    ('volume gone skipped', {'c': _error('VIR_ERR_NO_STORAGE_VOL')}, ['A', 'B']),
]


@pytest.mark.parametrize('name, behaviour, expected', CASES, ids=[c[0] for c in CASES])
def test_each_present_skips_vanished(name, behaviour, expected):
    assert _libvirt.each_present(['a', 'b', 'c'], _read(behaviour)) == expected, name


@pytest.mark.parametrize('name, error', [
    ('connection lost', _error('VIR_ERR_INTERNAL_ERROR', 'VIR_FROM_RPC')),
    ('other libvirt error', _error('VIR_ERR_OPERATION_FAILED')),
    ('collection error without libvirt code', KvmStorageError('cannot parse pool b')),
    ('translated other error', _libvirt.translate(_error('VIR_ERR_OPERATION_FAILED'), 'read pool b')),
])
def test_each_present_keeps_other_errors(name, error):
    with pytest.raises(Exception) as caught:
        _libvirt.each_present(['a', 'b'], _read({'b': error}))
    assert caught.value is error, name
