# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Free pcie-root-ports of a running q35 guest, counted from its live definition, and the
disk planner's refusal of a hot-plug that needs more of them than there are (libvirt's own
refusal, "No more available PCI slots", comes only once the attach is tried; check mode must
predict it)."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _host_storage as hs
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._disk import DomainView, plan, request_from_params
from ansible_collections.kvm.storage.plugins.module_utils._disk_xml import free_hotplug_ports
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError


def port(index, bus_of_port='0x00'):
    return ("<controller type='pci' index='%d' model='pcie-root-port'><model name='pcie-root-port'/>"
            "<address type='pci' domain='0x0000' bus='%s' slot='0x02' function='0x%d'/></controller>"
            % (index, bus_of_port, index))


def on_bus(bus, what="<controller type='usb' index='0' model='qemu-xhci'>"):
    tag = what.split()[0][1:]
    return "%s<address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' function='0x0'/></%s>" % (what, bus, tag)


def domain(devices, machine='pc-q35-7.2'):
    return _xml.parse("<domain type='qemu'><name>g</name><os><type arch='x86_64' machine='%s'>hvm</type></os>"
                      "<devices><controller type='pci' index='0' model='pcie-root'/>%s</devices></domain>"
                      % (machine, ''.join(devices)))


PORT_CASES = [
    ('six ports, the USB controller on one', [port(i) for i in range(1, 7)] + [on_bus(1)], 5),
    ('one port taken by USB', [port(1), on_bus(1)], 0),
    ('libvirt added a virtio-scsi controller and a disk', [port(1), port(2), port(3), on_bus(1),
                                                           on_bus(2, "<controller type='scsi' index='0' "
                                                                     "model='virtio-scsi'>"),
                                                           on_bus(3, "<disk type='file' device='disk'>")], 0),
    ('a device on the root bus takes no port', [port(1), on_bus(0)], 1),
    ('no ports at all', [], 0),
    ('a pc machine is not counted', [on_bus(0)], None),
]


@pytest.mark.parametrize('case_id, devices, expected', PORT_CASES, ids=[c[0] for c in PORT_CASES])
def test_free_hotplug_ports(case_id, devices, expected):
    machine = 'pc-i440fx-7.2' if expected is None else 'pc-q35-7.2'
    assert free_hotplug_ports(domain(devices, machine)) == expected


def params(**kw):
    p = dict(domain='g', state='present', target=None, device='disk', bus=None, source={'file': '/srv/a.raw'},
             format='raw', cache=None, io=None, discard=None, detect_zeroes=None, iothread=None, readonly=None,
             shareable=None, serial=None, wwn=None, boot_order=None, sgio=None, rawio=None, startup_policy=None,
             allow_missing=False, live=None, persistent=True, timeout=30)
    p.update(kw)
    return p


def guest(free, scsi_controller=False, active=True):
    ctl = [('usb', 'qemu-xhci', '0')] + ([('scsi', 'virtio-scsi', '0')] if scsi_controller else [])
    return DomainView('g', active, True, [], [], frozenset(['virtio', 'scsi', 'sata', 'usb', 'fdc']),
                      config_controllers=list(ctl), live_controllers=list(ctl) if active else [],
                      machine='pc-q35-7.2', free_ports=free if active else None)


PLAN_CASES = [
    ('virtio with a free port', params(), guest(1), None),
    ('virtio without', params(), guest(0), 'needs 1 free pcie-root-port(s) and the running q35 guest has 0'),
    ('scsi needs the controller and a port', params(bus='scsi'), guest(0), 'hot-plugging a virtio-scsi controller'),
    ('scsi on an existing controller needs none', params(bus='scsi'), guest(0, scsi_controller=True), None),
    ('usb needs none', params(bus='usb'), guest(0), None),
    ('persistent only needs none', params(live=False), guest(0), None),
    ('a stopped guest is not counted', params(), guest(0, active=False), None),
    ('unknown port count: left to libvirt', params(), guest(None), None),
]


@pytest.mark.parametrize('case_id, p, dom, refusal', PLAN_CASES, ids=[c[0] for c in PLAN_CASES])
def test_attach_refused_without_a_free_port(case_id, p, dom, refusal):
    if refusal is None:
        steps, _final = plan(request_from_params(p), dom)
        assert steps.changed
        return
    with pytest.raises(KvmStorageError) as err:
        plan(request_from_params(p), dom)
    assert refusal in err.value.msg
    assert 'pcie-root-port' in err.value.msg and 'live: false' in err.value.msg


def test_host_storage_counts_the_ports_its_plan_takes():
    dom = DomainView('g', True, True, [], [], None, config_controllers=[], live_controllers=[],
                     machine='pc-q35-7.2', free_ports=2)
    disks = [{'domain': 'g', 'source': {'file': '/srv/%d.raw' % i}, 'format': 'raw'} for i in range(3)]
    ordered = hs.order(hs.nodes(hs.validate({'disks': disks[:2]})))
    assert len(hs.plan(ordered, hs.Host(domains={'g': dom})).actions) == 2
    ordered = hs.order(hs.nodes(hs.validate({'disks': disks})))
    with pytest.raises(KvmStorageError) as err:
        hs.plan(ordered, hs.Host(domains={'g': dom}))
    assert 'has 0' in err.value.msg


def test_host_storage_second_scsi_disk_reuses_the_controller_it_adds():
    dom = DomainView('g', True, True, [], [], None, config_controllers=[], live_controllers=[],
                     machine='pc-q35-7.2', free_ports=1)
    disks = [{'domain': 'g', 'bus': 'scsi', 'source': {'file': '/srv/%d.raw' % i}, 'format': 'raw'} for i in range(2)]
    actions = hs.plan(hs.order(hs.nodes(hs.validate({'disks': disks}))), hs.Host(domains={'g': dom})).actions
    assert [a for a in actions if a.startswith('add virtio-scsi controller')] == [
        'add virtio-scsi controller 0 to guest g (live)', 'add virtio-scsi controller 0 to guest g (persistent)']
