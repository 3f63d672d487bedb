# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The disk adapter against a fake guest: a guest that goes away or stops during a live
detach, and controllers rolled back only when they are really gone."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _disk_adapter
from ansible_collections.kvm.storage.plugins.module_utils._disk_adapter import DiskAdapter, GuestGone
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._plan import Step

libvirt = pytest.importorskip('libvirt')

VDB = "<disk type='file' device='disk'><source file='/srv/d.raw'/><target dev='vdb' bus='virtio'/></disk>"


def _not_found():
    err = libvirt.libvirtError('Domain not found: no domain with matching name')
    err.err = (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_FROM_QEMU, 'Domain not found', 2, '', None, None, 0, 0)
    return err


class FakeDom(object):
    """A running guest that keeps vdb (it never releases it) until ``event`` happens at the
    ``after``-th look: 'gone' (transient guest destroyed) or 'stopped' (persistent guest destroyed)."""

    def __init__(self, event=None, after=2, controllers=(), keep_live_controllers=False):
        self.event, self.after, self.looks = event, after, 0
        self.controllers = {'live': list(controllers), 'config': list(controllers)}
        self.keep_live_controllers = keep_live_controllers
        self.calls = []

    def _happened(self):
        self.looks += 1
        return self.event is not None and self.looks > self.after

    def isActive(self):
        if self._happened() and self.event == 'gone':
            raise _not_found()
        return 0 if self.looks > self.after and self.event == 'stopped' else 1

    def XMLDesc(self, flags):
        scope = 'config' if flags & libvirt.VIR_DOMAIN_XML_INACTIVE else 'live'
        ctl = ''.join("<controller type='scsi' index='%s' model='virtio-scsi'/>" % i for i in self.controllers[scope])
        return "<domain><devices>%s%s</devices></domain>" % (VDB, ctl)

    def detachDeviceFlags(self, xml, flags):
        self.calls.append(('detach', xml, flags))
        if '<controller' in xml:
            index = xml.split("index='")[1].split("'")[0]
            if flags & libvirt.VIR_DOMAIN_AFFECT_CONFIG:
                self.controllers['config'].remove(index)
            if flags & libvirt.VIR_DOMAIN_AFFECT_LIVE and not self.keep_live_controllers:
                self.controllers['live'].remove(index)
        return 0

    def attachDeviceFlags(self, xml, flags):
        self.calls.append(('attach', xml, flags))
        index = xml.split("index='")[1].split("'")[0]
        for scope, flag in (('live', libvirt.VIR_DOMAIN_AFFECT_LIVE), ('config', libvirt.VIR_DOMAIN_AFFECT_CONFIG)):
            if flags & flag:
                self.controllers[scope].append(index)
        return 0


def adapter(dom):
    a = DiskAdapter(conn=None)
    a.dom, a.name = dom, 'web1'
    return a


def detach_step(scope):
    model = {'device': 'disk', 'bus': 'virtio', 'target': 'vdb', 'source': {'file': '/srv/d.raw'}, 'format': 'raw'}
    return Step('detach', 'detach disk vdb from guest web1 (%s)' % scope, scopes=[scope], target='vdb', model=model,
                timeout=30)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(_disk_adapter.time, 'sleep', lambda s: None)


def test_guest_gone_during_a_live_detach_is_a_clean_error():
    a = adapter(FakeDom('gone'))
    with pytest.raises(GuestGone) as exc:
        a.apply(detach_step('live'))
    assert exc.value.msg == ('cannot detach disk vdb from guest web1 (live): guest web1 went away meanwhile (stopped and '
                             'undefined by someone else); there is nothing left to detach from')
    assert exc.value.details['libvirt_error']['code'] == libvirt.VIR_ERR_NO_DOMAIN


def test_guest_stopped_during_a_live_detach_goes_on_with_the_definition():
    dom = FakeDom('stopped')
    a = adapter(dom)
    assert a.apply(detach_step('live')) is None
    assert a.stopped_during_detach == ['vdb']
    assert a.apply(detach_step('config')) is None
    assert [c[2] for c in dom.calls] == [libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG]
    # a further live detach of the same run has nothing left to do
    assert a.apply(detach_step('live')) is None
    assert len(dom.calls) == 2


def test_guest_that_keeps_the_disk_times_out(monkeypatch):
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(_disk_adapter.time, 'time', lambda: next(clock))
    with pytest.raises(KvmStorageError) as exc:
        adapter(FakeDom()).apply(detach_step('live'))
    assert 'did not release the disk within 30 s' in exc.value.msg


@pytest.mark.parametrize('scope, flag', [(['live'], 'VIR_DOMAIN_AFFECT_LIVE'), (['config'], 'VIR_DOMAIN_AFFECT_CONFIG')])
def test_controller_added_with_its_index_and_removed(scope, flag):
    dom = FakeDom(controllers=['0'])
    a = adapter(dom)
    words, undo = a.apply(Step('controller', 'add virtio-scsi controller 1', scopes=scope, index=1))
    assert dom.calls[0] == ('attach', "<controller type='scsi' index='1' model='virtio-scsi'/>", getattr(libvirt, flag))
    assert words.startswith('remove virtio-scsi controller 1 added by this run')
    undo()
    assert dom.controllers[scope[0]] == ['0']


def test_live_controller_that_stays_is_not_reported_removed(monkeypatch):
    clock = iter(range(0, 1000, 5))
    monkeypatch.setattr(_disk_adapter.time, 'time', lambda: next(clock))
    dom = FakeDom(controllers=['0'], keep_live_controllers=True)
    _words, undo = adapter(dom).apply(Step('controller', 'add virtio-scsi controller 1', scopes=['live'], index=1))
    with pytest.raises(KvmStorageError) as exc:
        undo()
    assert 'still shows controller 1' in exc.value.msg


class DiesInTheCall(FakeDom):
    """libvirt's detach call itself fails because the guest was destroyed under it."""

    def __init__(self, gone):
        super(DiesInTheCall, self).__init__()
        self.gone = gone

    def detachDeviceFlags(self, xml, flags):
        if flags & libvirt.VIR_DOMAIN_AFFECT_LIVE:
            err = libvirt.libvirtError('internal error: Missing monitor reply object')
            err.err = (libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_QEMU, 'Missing monitor reply object', 2, '',
                       None, None, 0, 0)
            raise err
        return super(DiesInTheCall, self).detachDeviceFlags(xml, flags)

    def isActive(self):
        if self.gone:
            raise _not_found()
        return 0


def test_guest_destroyed_under_the_detach_call():
    a = adapter(DiesInTheCall(gone=False))
    assert a.apply(detach_step('live')) is None
    assert a.stopped_during_detach == ['vdb']
    with pytest.raises(GuestGone) as exc:
        adapter(DiesInTheCall(gone=True)).apply(detach_step('live'))
    assert 'went away meanwhile' in exc.value.msg
