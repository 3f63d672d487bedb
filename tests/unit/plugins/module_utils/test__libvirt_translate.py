# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one libvirt error mapper: which errors get which hint (a fake libvirt, no daemon)."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt


class _FakeLibvirt(object):
    VIR_ERR_INTERNAL_ERROR = 1
    VIR_ERR_OPERATION_INVALID = 55
    VIR_ERR_OPERATION_FAILED = 9
    VIR_ERR_XML_ERROR = 27
    VIR_ERR_STORAGE_VOL_EXIST = 90
    VIR_ERR_NO_CONNECT = 5
    VIR_ERR_INVALID_CONN = 8
    VIR_FROM_RPC = 7
    VIR_FROM_STORAGE = 18

    class libvirtError(Exception):
        def __init__(self, code, domain, message):
            super(_FakeLibvirt.libvirtError, self).__init__(message)
            self.code, self.domain, self.message = code, domain, message

        def get_error_code(self):
            return self.code

        def get_error_domain(self):
            return self.domain

        def get_error_message(self):
            return self.message


@pytest.fixture(autouse=True)
def fake_libvirt(monkeypatch):
    monkeypatch.setattr(_libvirt, 'libvirt', _FakeLibvirt)


RACE = 'another run changed the same object at the same time; re-run'


@pytest.mark.parametrize('code, domain, message, hint', [
    # Two runs create the same volume: the loser is told why and what to do.
    (90, 18, "storage volume 'o2.raw' exists already", RACE),
    # Two runs attach disks and pick the same free target.
    (55, 10, 'Requested operation is not valid: target vdb already exists', RACE),
    # ... or the live attach won and the persistent one found the target taken.
    (27, 20, "XML error: target 'vda' duplicated for disk sources '/p/d0.raw' and '/p/d0.raw'", RACE),
    # Two runs define the same new pool.
    (9, 18, "operation failed: pool 'p1' already exists with uuid 6503fac0-57ef-4f12-8db7-da03b9a35ea4", RACE),
    # Two runs define a secret for the same usage (each planned a new UUID): libvirt's
    # internal error for it is a lost race too (seen with 8 host_storage plans at once).
    (1, 45, 'internal error: a secret with UUID cff4572e-b53a-41f0-8f7d-f946b93fe2fb already defined for use '
     'with /var/tmp/kvmst-rel-h-load-a/luks.qcow2', RACE),
    # A volume another run is still allocating (grown, read or deleted meanwhile).
    (55, 18, "Requested operation is not valid: volume 'shared1.qcow2' is still being allocated",
     'another run is creating it at the same time; re-run'),
    # A pool found stopped while a plan is applied: another run is starting it (libvirt calls
    # it active once its start has finished); planners refuse a stopped pool before writing.
    (55, 18, "Requested operation is not valid: storage pool 'kvmst-h' is not active",
     'starting or stopping the pool at the same time; re-run'),
    # The reverse: a run read the pool defined and stopped (another run between its define
    # and its start) and builds or starts it after the other run did (libvirt 9.0's words
    # for both pool.build and pool.create on a running pool, seen on the lab).
    (55, 18, "Requested operation is not valid: storage pool 'kvmst-h' is already active",
     'starting or stopping the pool at the same time; re-run'),
    # Other invalid operations and XML errors are not races.
    (27, 20, "XML error: Invalid value for attribute 'serial'", None),
    (55, 10, 'Requested operation is not valid: domain is not running', None),
    (1, 7, 'Cannot write data: Broken pipe', 'connection to libvirt was lost'),
    (38, 18, 'cannot open directory: No such file or directory', None),
    (9, 18, 'operation failed: storage pool is already active', None),
    (1, 45, 'internal error: cannot change private flag on existing secret', None),
])
def test_translate_hints(code, domain, message, hint):
    err = _libvirt.translate(_FakeLibvirt.libvirtError(code, domain, message), 'create volume x')
    assert err.msg.startswith('cannot create volume x: ' + message.rstrip('.'))
    assert err.details['libvirt_error'] == {'code': code, 'domain': domain, 'message': message}
    if hint is None:
        assert '(' not in err.msg[len('cannot create volume x: ' + message):]
    else:
        assert hint in err.msg
