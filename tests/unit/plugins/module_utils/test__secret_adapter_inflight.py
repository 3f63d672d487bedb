# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The secret adapter's in-flight marker: a run killed between defining a private secret
and setting its value (tests/reliability/test_crash_points.py found it) leaves a secret
that libvirt shows like any other; the marker makes the next run set the value. libvirt is
faked: a connection that keeps the secrets it defines and, like libvirt, never says whether
a private secret has a value."""

from __future__ import annotations

import os

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils._inflight import Inflight
from ansible_collections.kvm.storage.plugins.module_utils._secret import plan, request_from_params
from ansible_collections.kvm.storage.plugins.module_utils._secret_adapter import MARKERS, SecretAdapter

libvirt = pytest.importorskip('libvirt')

URI = 'qemu:///system'
PATH = '/var/lib/libvirt/images/vault.qcow2'


class FakeSecret(object):
    def __init__(self, xml):
        self.xml = xml
        self.stored = None

    def XMLDesc(self, flags):  # pylint: disable=invalid-name
        return self.xml

    def setValue(self, value, flags):  # pylint: disable=invalid-name
        self.stored = value

    def value(self, flags):
        exc = libvirt.libvirtError('fake')
        exc.err = (_libvirt.code_of('VIR_ERR_INVALID_SECRET'), 0, 'secret is private', 0, None, None, None, 0, 0)
        raise exc

    def undefine(self):
        pass

    def UUIDString(self):  # pylint: disable=invalid-name
        return '3e3fce45-4f53-4fa7-bb32-11f34168b82b'


class FakeConn(object):
    def __init__(self):
        self.secret = None

    def getURI(self):  # pylint: disable=invalid-name
        return URI

    def secretDefineXML(self, xml, flags):  # pylint: disable=invalid-name
        self.secret = FakeSecret(xml)
        return self.secret

    def secretLookupByUsage(self, usage, usage_id):  # pylint: disable=invalid-name
        if self.secret is None:
            exc = libvirt.libvirtError('fake')
            exc.err = (_libvirt.code_of('VIR_ERR_NO_SECRET'), 0, 'no secret', 0, None, None, None, 0, 0)
            raise exc
        return self.secret


def _request():
    return request_from_params(dict(uuid=None, usage='volume', secret_usage=PATH, description=None,
                                    value='kvmst-s3cr3t-unit', value_encoding='plain', update_value='on_create',
                                    private=True, ephemeral=False, state='present', force=False))


def _adapter(conn, tmp_path):
    adapter = SecretAdapter(conn)
    adapter.inflight = Inflight(URI, dirs=(str(tmp_path / 'inflight'),))
    return adapter


def _plan(conn, tmp_path):
    adapter = _adapter(conn, tmp_path)
    request = _request()
    return adapter, plan(request, adapter.read(request), (), adapter.usage_holder)[0]


def test_killed_after_define_the_next_run_sets_the_value(tmp_path):
    conn = FakeConn()
    adapter, steps = _plan(conn, tmp_path)
    assert steps.verbs() == ['define', 'set_value']
    pid = os.fork()
    if pid == 0:  # the run that is killed right after the define
        try:
            adapter.apply(steps.steps[0])
        finally:
            os._exit(0)  # pylint: disable=protected-access
    os.waitpid(pid, 0)
    # the define went to the child's copy of the fake libvirt: it is libvirt's here too
    conn.secretDefineXML('<secret ephemeral="no" private="yes"><usage type="volume"><volume>%s</volume></usage>'
                         '</secret>' % PATH, 0)
    adapter, steps = _plan(conn, tmp_path)
    assert steps.actions == ['set the value of secret volume %s (the run that defined it was cut off before it set '
                             'the value)' % PATH]
    adapter.apply(steps.steps[0])
    assert conn.secret.stored == b'kvmst-s3cr3t-unit'
    assert adapter.inflight.incomplete(MARKERS) == {}
    # and the run after it has nothing to do
    assert _plan(conn, tmp_path)[1].actions == []


def test_a_whole_run_leaves_no_marker(tmp_path):
    conn = FakeConn()
    adapter, steps = _plan(conn, tmp_path)
    for step in steps.steps:
        adapter.apply(step)
    assert os.listdir(str(tmp_path / 'inflight')) == []
    assert _plan(conn, tmp_path)[1].actions == []


def test_a_secret_without_value_given_is_not_marked(tmp_path):
    conn = FakeConn()
    adapter = _adapter(conn, tmp_path)
    request = request_from_params(dict(uuid=None, usage='volume', secret_usage=PATH, description=None, value=None,
                                       value_encoding='plain', update_value='on_create', private=True,
                                       ephemeral=False, state='present', force=False))
    steps = plan(request, adapter.read(request), (), None)[0]
    adapter.apply(steps.steps[0])
    assert os.listdir(str(tmp_path / 'inflight')) == []
