# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""host_storage through libvirt and LVM: read the whole host once with each family's
adapter over the one connection, and apply one object's steps with that family's adapter."""

from __future__ import annotations

import uuid

from ansible_collections.kvm.storage.plugins.module_utils import _host_storage
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _lvm
from ansible_collections.kvm.storage.plugins.module_utils import _lvm_thin
from ansible_collections.kvm.storage.plugins.module_utils import _secret
from ansible_collections.kvm.storage.plugins.module_utils import _volume
from ansible_collections.kvm.storage.plugins.module_utils._disk_adapter import DiskAdapter
from ansible_collections.kvm.storage.plugins.module_utils._lvm_thin_adapter import LvmThinAdapter, thin_volume_keys
from ansible_collections.kvm.storage.plugins.module_utils._pool_adapter import PoolAdapter
from ansible_collections.kvm.storage.plugins.module_utils._secret_adapter import SecretAdapter
from ansible_collections.kvm.storage.plugins.module_utils._volume_adapter import VolumeAdapter


class HostAdapter(object):
    def __init__(self, module, conn):
        self.module = module
        self.conn = conn
        self.secrets = {}       # node key -> SecretAdapter
        self.pools = {}         # pool name -> PoolAdapter
        self.volumes = VolumeAdapter(conn, module)
        self.disks = {}         # guest -> DiskAdapter
        self.disk_caps = {}     # domain capabilities, read once for every guest of the same kind
        self.disk_volumes = {}  # (pool, volume) -> (path, format) for the disk adapters
        self.pool_objects = {}  # every pool on the host by name (one listing)
        self.lvm_thin = LvmThinAdapter(module)

    # -- reading -------------------------------------------------------------------------

    def read(self, nodes):
        """The Host the planner simulates: each kind read once, by its family's adapter."""
        host = _host_storage.Host()
        by_kind = {}
        for node in nodes:
            by_kind.setdefault(node.kind, []).append(node)
        self._read_secrets(host, by_kind.get('secret', []))
        for pool in _libvirt.call('list storage pools', self.conn.listAllStoragePools, 0):
            self.pool_objects[pool.name()] = pool
        host.pool_names = sorted(self.pool_objects)
        for node in by_kind.get('pool', []):
            req = node.request
            adapter = self.pools.setdefault(req.name, PoolAdapter(self.conn))
            # delete_data counts afresh, and for a logical pool every LV LVM reports (as pool does)
            actual = adapter.read(req.name, refresh=req.delete_data) if req.name in self.pool_objects else None
            if req.delete_data:
                adapter.read_lvs(self.module, actual)
            host.pools[req.name] = actual
            host.pool_facts[req.name] = adapter.read_facts(self.module, req, actual)
        requests = [n.request for n in by_kind.get('volume', [])]
        self._read_views(host, nodes)
        stale = _volume.pools_to_refresh(requests, _volume.World(host.views))
        if stale:
            self._read_views(host, nodes, refresh=stale)
        thin_absent = [n for n in by_kind.get('thin_volume', []) if _lvm_thin.needs_users(n.request)]
        imports = _volume.World(host.views)
        self.volumes.add_import_facts(requests, imports)
        host.imports = imports.imports
        # seed ISOs read back before usage: only one that differs needs to know who has it open
        seeds = self.volumes.add_seed_facts(requests, _volume.World(host.views))
        host.seeds, host.iso_tool = seeds.seeds, seeds.iso_tool
        if _volume.needs_usage(requests, seeds) or thin_absent:
            world = _volume.World(host.views)
            self.volumes.add_usage(world, requests)
            host.usage, host.locked = world.usage, world.locked
        if by_kind.get('thin_pool') or by_kind.get('thin_volume'):
            self._read_lvm(host, by_kind.get('thin_pool', []) + by_kind.get('thin_volume', []), thin_absent)
        self._read_guests(host, by_kind.get('disk', []))
        return host

    def _read_secrets(self, host, nodes):
        removing = False
        for node in nodes:
            adapter = self.secrets.setdefault(node.key, SecretAdapter(self.conn))
            actual = adapter.read(node.request)
            host.secrets[node.key] = actual
            if adapter.usage_holder:
                host.secret_holders[node.key] = adapter.usage_holder
            if actual is None and node.present and node.request.uuid is None:
                host.new_uuids[node.key] = str(uuid.uuid4())
            removing = removing or (actual is not None and not node.present)
            if actual is not None:
                self.hide(actual.value)
            self.hide(node.request.value)
        if removing:
            host.pool_auths = SecretAdapter(self.conn).pool_auths()

    def hide(self, value):
        for text in _secret.secret_strings(value):
            self.module.no_log_values.add(text)

    def _read_views(self, host, nodes, refresh=()):
        """Each pool that a declared volume or disk lives in, or that backs or is cloned
        from, read once: one listing, the definitions of the volumes of interest. With
        ``refresh``: only those pools again, listed afresh."""
        wanted = {}
        for node in nodes:
            if node.kind == 'pool':
                wanted.setdefault(node.request.name, set())
            elif node.kind == 'volume':
                req = node.request
                wanted.setdefault(req.pool, set()).add(req.name)
                for ref in (req.backing, req.clone_from):
                    if ref and ref.get('name'):
                        wanted.setdefault(ref.get('pool') or req.pool, set()).add(ref['name'])
                usage_id = (req.encryption or {}).get('secret_usage')
                if usage_id and usage_id not in host.volume_secrets:
                    host.volume_secrets[usage_id] = self.volumes._secret_uuid(usage_id)
            elif node.kind == 'disk':
                source = node.request.model['source'] or {}
                if source.get('volume'):
                    wanted.setdefault(source['volume']['pool'], set()).add(source['volume']['name'])
        for name, names in sorted(wanted.items()):
            if name not in self.pool_objects or refresh and name not in refresh:
                continue
            view = self.volumes.read_pool(name, names, refresh=bool(refresh))
            if view is None:
                continue
            host.views[name] = view
            host.listed[name] = set(vol for pool, vol in self.volumes.vol_objects if pool == name)
        host.volume_secrets = dict((k, v) for k, v in host.volume_secrets.items() if v is not None)

    def _read_lvm(self, host, nodes, thin_absent):
        host.vgs = _lvm.read_vgs(self.module)
        for vg in sorted(set(n.request['vg'] for n in nodes)):
            host.lvs[vg] = _lvm.read_lvs(self.module, vg) if vg in host.vgs else {}
        pools = [node.request for node in nodes if node.kind == 'thin_pool']
        for p in pools:
            # as lvm_thin_pool reads them: this pool's own profile and a legacy one it carries
            lv = host.lvs.get(p['vg'], {}).get(p['name'])
            host.profiles[(p['vg'], p['name'])] = self.lvm_thin.read_profiles(p['vg'], p['name'], lv)
        if any(p['state'] == 'absent' or p.get('autoextend') for p in pools):
            host.profile_carriers = _lvm.read_profile_carriers(self.module)
        for node in thin_absent:
            p = node.request
            if p['name'] in host.lvs.get(p['vg'], {}) and host.usage is not None:
                keys = thin_volume_keys(p['vg'], p['name'])
                host.thin_keys[(p['vg'], p['name'])] = keys

    def _read_guests(self, host, nodes):
        # The volumes already read (one listing per pool) need no second look-up per guest.
        for pool, view in host.views.items():
            for name, model in view.volumes.items():
                self.disk_volumes.setdefault((pool, name), (model['path'], _volume.disk_format(model['format'])))
        for domain in sorted(set(n.request.domain for n in nodes)):
            adapter = self.disks.setdefault(domain, DiskAdapter(self.conn, self.disk_caps, self.disk_volumes))
            buses = any(n.present and n.request.model['bus'] != 'virtio' for n in nodes if n.request.domain == domain)
            host.domains[domain] = adapter.read(domain, with_buses=buses)
            for node in nodes:
                if node.request.domain == domain and host.domains[domain] is not None:
                    host.disk_facts[node.key] = adapter.source_facts(node.request.model['source'], node.request.label,
                                                                     need_volume=False, with_pool=False)

    # -- writing -------------------------------------------------------------------------

    def applier(self, item):
        """The function that applies one step of ``item``, with its family's adapter."""
        node = item.node
        if node.kind == 'secret':
            return self.secrets[node.key].apply
        if node.kind == 'pool':
            adapter = self.pools[node.request.name]

            def apply_pool(step):
                undo = adapter.apply(step)
                if adapter.pool is not None:
                    # volumes planned into this pool are made through the same object
                    self.volumes.pools[node.request.name] = adapter.pool
                return undo
            return apply_pool
        if node.kind == 'volume':
            req = node.request
            for name in set([req.pool] + [(r.get('pool') or req.pool) for r in (req.backing, req.clone_from) if r]):
                if name not in self.volumes.pools:
                    pool = _libvirt.lookup_pool(self.conn, name)
                    if pool is not None:
                        self.volumes.pools[name] = pool
            return self.volumes.apply
        if node.kind in ('thin_pool', 'thin_volume'):
            return self.lvm_thin.apply
        return self.disks[node.request.domain].apply
