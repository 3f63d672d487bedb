# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal qcow2 snapshots on the host: read the volume (libvirt), its snapshots
(qemu-img), who holds the image (libvirt's guests and volumes, the image's lock); apply
one step with qemu-img."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _qemu_img
from ansible_collections.kvm.storage.plugins.module_utils import _volume_xml
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._usage_adapter import read_usage
from ansible_collections.kvm.storage.plugins.module_utils._volume import LOCKED_SHARED_POOLS
from ansible_collections.kvm.storage.plugins.module_utils._volume_snapshot import SnapshotFacts

# qemu-img snapshot's flag per step verb
FLAGS = {'create': '-c', 'delete': '-d', 'revert': '-a'}


class SnapshotAdapter(object):
    def __init__(self, conn, module):
        self.conn = conn
        self.module = module
        self.listed = []   # qemu-img info's snapshots of the volume, as last read

    def read(self, pool, volume, holders=True, missing_ok=False):
        """SnapshotFacts of ``volume`` of ``pool``; with ``holders``, who holds the image too
        (running guests, overlays, the lock of an image in a shared pool whose lock reaches
        across hosts). With ``missing_ok`` (check mode), a volume or pool that does not exist
        reads as SnapshotFacts(None)."""
        label = 'volume %s of pool %s' % (volume, pool)
        vol = _libvirt.lookup_volume(self.conn, pool, volume, 'volume_snapshot', missing_ok)
        if vol is None:
            return SnapshotFacts(None)
        model = _volume_xml.parse(_xml.parse(_libvirt.call('read %s' % label, vol.XMLDesc, 0)))
        self.listed = self.snapshots(model['path'], label)
        pool_type = _xml.parse(_libvirt.call('read pool %s' % pool, vol.storagePoolLookupByVolume().XMLDesc, 0)).get(
            'type')
        facts = SnapshotFacts(model, [s.get('name') for s in self.listed], pool_type)
        if holders:
            usage = read_usage(self.conn)
            facts.running_users = usage.running_users_of(model['path'])
            facts.children = usage.backing_of(model['path'])
            if pool_type in LOCKED_SHARED_POOLS:
                facts.locked = _qemu_img.lock_holder(self.module, model['path'])
        return facts

    def snapshots(self, path, label):
        return _qemu_img.snapshots(self.module, path, 'list the snapshots of %s' % label)

    def apply(self, step):
        _qemu_img.run(self.module, ['snapshot', FLAGS[step.verb], step.args['name'], step.args['path']], step.text)
        return None
