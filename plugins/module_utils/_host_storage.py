# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The storage of one host as one plan.  Pure: no libvirt, no AnsibleModule.

``host_storage`` composes the family planners (_secret, _pool, _lvm_thin, _volume, _disk)
over one simulated host: every declared object is planned, in dependency order, against
the host as the earlier steps of the same plan leave it (a volume in a pool the plan
defines, a disk on a volume the plan creates).  It adds ordering, never a second copy of a
rule: every decision and refusal is the family planner's.

Flow: ``validate`` every element against its family's argument spec (before anything is
read), ``nodes`` turns them into requests with their references, ``order`` sorts them
(removals first, in reverse), the adapter reads a ``Host``, and ``plan`` walks the order.
"""

from __future__ import annotations

import copy
import heapq

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kvm.storage.plugins.module_utils import _disk
from ansible_collections.kvm.storage.plugins.module_utils import _identity
from ansible_collections.kvm.storage.plugins.module_utils import _lvm_thin
from ansible_collections.kvm.storage.plugins.module_utils import _pool
from ansible_collections.kvm.storage.plugins.module_utils import _pool_xml
from ansible_collections.kvm.storage.plugins.module_utils import _secret
from ansible_collections.kvm.storage.plugins.module_utils import _volume
from ansible_collections.kvm.storage.plugins.module_utils import _volume_xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._usage import Usage

# The lists of the module, their kind, and the order of kinds when nothing else decides.
LISTS = (('secrets', 'secret'), ('pools', 'pool'), ('thin_pools', 'thin_pool'), ('thin_volumes', 'thin_volume'),
         ('volumes', 'volume'), ('disks', 'disk'))
RANK = dict((kind, index) for index, (_list, kind) in enumerate(LISTS))
LIST_NAMES = tuple(name for name, _kind in LISTS)
LIST_OF_KIND = dict((kind, name) for name, kind in LISTS)
# A VG whose free space is not known yet (the plan builds it): the size checks are left to LVM.
UNKNOWN_FREE = float('inf')
NEW_VG_EXTENT = 4 * 1024 * 1024


def element_specs():
    """{list name: (argument spec, constraints)}: each element takes exactly the options of
    its per-object module (``disks`` elements with ``domain``)."""
    volume = _volume.volume_options()
    volume['name']['required'] = True
    volume['pool']['required'] = True
    return {
        'secrets': (_secret.argument_spec(), dict(required_one_of=_secret.REQUIRED_ONE_OF,
                                                  required_together=_secret.REQUIRED_TOGETHER)),
        'pools': (_pool.argument_spec(), dict(mutually_exclusive=_pool.MUTUALLY_EXCLUSIVE)),
        'thin_pools': (_lvm_thin.pool_argument_spec(), {}),
        'thin_volumes': (_lvm_thin.volume_argument_spec(), {}),
        'volumes': (volume, dict(mutually_exclusive=[m for m in _volume.MUTUALLY_EXCLUSIVE if 'volumes' not in m])),
        'disks': (_disk.argument_spec(), {}),
    }


def argument_spec():
    """The lists.  ``secrets`` carries its element spec so that Ansible hides every secret
    value (no_log) in logs and results; the other lists are validated element by element by
    ``validate``, which names the element."""
    spec = dict((name, dict(type='list', elements='dict', default=[])) for name, _kind in LISTS)
    spec['secrets']['options'] = _secret.argument_spec()
    # The list itself is no secret; its elements' values are (no_log in the element spec).
    spec['secrets']['no_log'] = False
    spec['secrets']['required_one_of'] = _secret.REQUIRED_ONE_OF
    spec['secrets']['required_together'] = _secret.REQUIRED_TOGETHER
    spec['unmanaged'] = dict(type='bool', default=True)
    spec['results'] = dict(type='str', default='changed', choices=['changed', 'all'])
    return spec


def _element_name(kind, item):
    item = item if isinstance(item, dict) else {}
    if kind == 'secret':
        named = item.get('secret_usage') or item.get('usage_id') or item.get('uuid')
        return ' (%s)' % named if named else ''
    if kind == 'disk':
        what = item.get('target') or ''
        return ' (guest %s%s)' % (item.get('domain'), ' ' + what if what else '') if item.get('domain') else ''
    if kind == 'volume':
        return ' (%s of pool %s)' % (item.get('name'), item.get('pool')) if item.get('name') else ''
    if kind in ('thin_pool', 'thin_volume'):
        return ' (%s/%s)' % (item.get('vg'), item.get('name')) if item.get('name') else ''
    return ' (%s)' % item.get('name') if item.get('name') else ''


def validate(params):
    """Every element checked against its family's spec before anything is read: returns
    {list name: [validated params]}; the first bad element fails the call, named."""
    out = {}
    specs = element_specs()
    for name, kind in LISTS:
        spec, constraints = specs[name]
        validator = ArgumentSpecValidator(spec, **constraints)
        out[name] = []
        for index, item in enumerate(params.get(name) or []):
            where = '%s[%d]%s' % (name, index, _element_name(kind, item))
            if not isinstance(item, dict):
                raise KvmStorageError('%s: each element must be a dictionary of %s options' % (where, kind))
            result = validator.validate(dict(item))
            if result.error_messages:
                messages = []
                for msg in result.error_messages:
                    if result.unsupported_parameters and msg.startswith(', '.join(sorted(result.unsupported_parameters))):
                        msg = 'unsupported option(s) %s; %s takes %s' % (
                            ', '.join(sorted(result.unsupported_parameters)), kind, ', '.join(sorted(spec)))
                    messages.append(msg)
                raise KvmStorageError('%s: %s' % (where, '; '.join(messages)), element=where)
            out[name].append(result.validated_parameters)
    return out


# ---------------------------------------------------------------------------------------
# Nodes: one per declared object, with what it refers to

class Node(object):
    """One declared object: ``key`` identifies it across lists, ``refs`` are the keys it
    needs (whether declared or not), ``where`` names its list element."""

    def __init__(self, kind, index, key, label, state, request, refs=(), where=None):
        self.kind = kind
        self.index = index
        self.key = key
        self.label = label
        self.state = state
        self.request = request
        self.refs = list(refs)
        self.where = where

    @property
    def present(self):
        return self.state != 'absent'

    def __repr__(self):
        return 'Node(%r)' % (self.key,)


def vg_of_pool(request):
    """The volume group a logical pool request stands for (its source name, else its name)."""
    if request.type != 'logical' or request.element is None:
        return None
    return request.element.findtext('source/name') or request.name


def _lv_of(path):
    """(vg, lv) of a /dev/<vg>/<lv> path, else None."""
    parts = (path or '').split('/')
    if len(parts) == 4 and parts[0] == '' and parts[1] == 'dev' and parts[2] and parts[3] and parts[2] != 'mapper':
        return parts[2], parts[3]
    return None


def nodes(validated, resolve_user=None, resolve_group=None):
    """Requests from validated params, each family's own request builder; every user mistake
    is raised here, still before anything is read."""
    out = []
    seen = {}

    def add(node):
        if node.key in seen:
            raise KvmStorageError('%s is declared twice (%s and %s)' % (node.label, seen[node.key], node.where))
        seen[node.key] = node.where
        out.append(node)

    for index, p in enumerate(validated.get('secrets') or []):
        where = 'secrets[%d]' % index
        req = _secret.request_from_params(p)
        key = ('secret', req.usage, req.usage_id) if req.usage else ('secret', req.uuid)
        add(Node('secret', index, key, 'secret %s' % req.label, req.state, req, where=where))
    vgs = {}
    for index, p in enumerate(validated.get('pools') or []):
        req = _pool.request_from_params(p, resolve_user, resolve_group)
        refs = []
        if req.element is not None:
            for auth in req.element.findall('source/auth'):
                usage = auth.find('secret')
                if usage is not None and usage.get('usage'):
                    refs.append(('secret', _secret.AUTH_USAGE.get(auth.get('type')), usage.get('usage')))
        node = Node('pool', index, ('pool', req.name), 'pool %s' % req.name, req.state, req, refs,
                    where='pools[%d]' % index)
        vg = vg_of_pool(req)
        if vg:
            vgs[vg] = node.key
        add(node)
    for index, p in enumerate(validated.get('thin_pools') or []):
        _lvm_thin.check_pool_names(p)
        refs = [vgs[p['vg']]] if p['vg'] in vgs else []
        add(Node('thin_pool', index, ('thin_pool', p['vg'], p['name']), 'thin pool %s in volume group %s'
                 % (p['name'], p['vg']), p['state'], p, refs, where='thin_pools[%d]' % index))
    for index, p in enumerate(validated.get('thin_volumes') or []):
        _lvm_thin.check_volume_names(p)
        refs = [vgs[p['vg']]] if p['vg'] in vgs else []
        if p.get('thin_pool'):
            refs.append(('thin_pool', p['vg'], p['thin_pool']))
        if p.get('snapshot_of'):
            refs.append(('thin_volume', p['vg'], p['snapshot_of']))
        add(Node('thin_volume', index, ('thin_volume', p['vg'], p['name']), 'thin volume %s in volume group %s'
                 % (p['name'], p['vg']), p['state'], p, refs, where='thin_volumes[%d]' % index))
    items = validated.get('volumes') or []
    if items:
        top = dict((key, None) for key in _volume.volume_options())
        top['volumes'] = items
        for index, req in enumerate(_volume.requests_from_params(top, resolve_user, resolve_group)):
            refs = [('pool', req.pool)]
            for ref in (req.backing, req.clone_from):
                if ref and ref.get('name'):
                    refs.append(('volume', ref.get('pool') or req.pool, ref['name']))
            if req.encryption and req.encryption.get('secret_usage'):
                refs.append(('secret', 'volume', req.encryption['secret_usage']))
            add(Node('volume', index, ('volume', req.pool, req.name), req.label, req.state, req, refs,
                     where='volumes[%d]' % index))
    for index, p in enumerate(validated.get('disks') or []):
        req = _disk.request_from_params(p)
        source = req.model['source'] or {}
        refs = []
        if source.get('volume'):
            refs.append(('volume', source['volume']['pool'], source['volume']['name']))
            refs.append(('pool', source['volume']['pool']))
        lv = _lv_of(source.get('block'))
        if lv:
            refs.append(('thin_volume',) + lv)
        what = req.model['target'] or _disk._describe_source(req.model['source'])
        add(Node('disk', index, ('disk', req.domain, index), 'disk %s of guest %s' % (what, req.domain), req.state,
                 req, refs, where='disks[%d]' % index))
    return out


def order(all_nodes):
    """The order of the plan: removals first, each after whatever depends on it (disks,
    overlays, snapshots before what they use), then creations and updates after what they
    need.  Among independent objects the kind order (secrets, pools, thin pools, thin
    volumes, volumes, disks), then list order.  A cycle among declared objects is an error."""
    by_key = dict((n.key, n) for n in all_nodes)
    deps = dict((n.key, [r for r in n.refs if r in by_key and r != n.key]) for n in all_nodes)
    topo = _topo(all_nodes, deps, by_key)
    removals = [n for n in reversed(topo) if not n.present]
    return removals + [n for n in topo if n.present]


def _topo(all_nodes, deps, by_key):
    waiting = dict((n.key, set(deps[n.key])) for n in all_nodes)
    users = {}
    for key, needs in waiting.items():
        for need in needs:
            users.setdefault(need, []).append(key)

    def rank(key):
        node = by_key[key]
        return (RANK[node.kind], node.index, key)
    # A heap of the ready objects by rank: n log n, where sorting again on every freed
    # object grew with the square of the number of objects.
    ready = [rank(k) for k, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    out = []
    while ready:
        key = heapq.heappop(ready)[2]
        out.append(by_key[key])
        for user in users.get(key, []):
            waiting[user].discard(key)
            if not waiting[user]:
                heapq.heappush(ready, rank(user))
    if len(out) != len(all_nodes):
        stuck = sorted((by_key[k] for k, needs in waiting.items() if needs), key=lambda n: rank(n.key))
        raise KvmStorageError('the declared objects depend on each other in a cycle: %s; break it (a volume cannot '
                              'be backed by, or cloned from, a volume that needs it)'
                              % ', '.join('%s (%s)' % (n.label, n.where) for n in stuck),
                              cycle=[n.where for n in stuck])
    return out


# ---------------------------------------------------------------------------------------
# The host as the adapter read it

class Host(object):
    """Facts read once: secrets, pools, volume views, usage, LVM, guests."""

    def __init__(self, secrets=None, pools=None, pool_names=(), views=None, listed=None, volume_secrets=None,
                 usage=None, locked=None, vgs=None, lvs=None, thin_keys=None, domains=None):
        self.secrets = secrets or {}                # node key -> SecretActual or None
        self.pools = pools or {}                    # name -> PoolActual or None (declared pools)
        self.pool_facts = {}                        # name -> _pool.PoolFacts (declared pools)
        self.pool_names = list(pool_names)          # every pool on the host
        self.views = views or {}                    # name -> _volume.PoolView (pools volumes live in)
        self.listed = listed or {}                  # name -> every volume name libvirt lists in it
        self.volume_secrets = volume_secrets or {}  # usage id -> UUID of volume secrets
        self.usage = usage                          # _usage.Usage or None (not read)
        self.locked = locked or {}
        self.vgs = vgs                              # None: LVM not read
        self.lvs = lvs or {}                        # vg -> {lv name: model}
        self.thin_keys = thin_keys or {}            # (vg, lv) -> identity keys of a thin volume to remove
        self.profiles = {}                          # (vg, thin pool) -> {profile name: its file's text or None}
        self.profile_carriers = None                # {profile name: ['vg/lv', ...]} when read
        self.domains = domains or {}                # name -> _disk.DomainView or None
        self.disk_facts = {}                        # disk node key -> _disk.SourceFacts of its source
        self.imports = {}                           # (pool, volume) -> _volume.ImportFacts (import onto existing)
        self.seeds = {}                             # (pool, volume) -> _volume.SeedFacts (cloud_init, existing)
        self.iso_tool = None                        # the tool that builds seed ISOs (when one is declared)
        self.secret_holders = {}                    # node key -> UUID of another secret with the usage
        self.pool_auths = []                        # <auth> of every pool (for secret removal)
        self.new_uuids = {}                         # node key -> UUID a new secret will get


class Item(object):
    """One object of the plan: its node, its steps, and what diff and the result show."""

    def __init__(self, node, steps, before=None, after=None, extra=None):
        self.node = node
        self.steps = steps
        self.before = before
        self.after = after
        self.extra = extra or {}


class HostPlan(object):
    def __init__(self):
        self.items = []
        self.unmanaged = {'pools': [], 'volumes': [], 'disks': []}

    @property
    def changed(self):
        return any(item.steps.changed for item in self.items)

    @property
    def actions(self):
        return [text for item in self.items for text in item.steps.actions]

    @property
    def warnings(self):
        out = []
        for item in self.items:
            out.extend(w for w in item.steps.warnings if w not in out)
        return out

    @property
    def assumed(self):
        out = []
        for item in self.items:
            out.extend(a for a in item.steps.assumed if a not in out)
        return out

    def diff(self):
        before, after = {}, {}
        for item in self.items:
            name = diff_key(item.node)
            before[name] = item.before
            after[name] = item.after
        return {'before': before, 'after': after}


def diff_key(node):
    kind, rest = node.key[0], node.key[1:]
    if kind == 'disk':
        req = node.request
        return 'disk %s/%s' % (req.domain, req.model.get('target') or node.index)
    return '%s %s' % (kind.replace('_', ' '), '/'.join(str(x) for x in rest if x is not None))


class _Sim(object):
    """The simulated host: copies of the facts that each planned step updates."""

    def __init__(self, host, assume=False):
        self.host = host
        # check mode: what is neither on the host nor declared is planned as made by an
        # earlier task of the play (the family planners' ``assume``)
        self.assume = assume
        self.views = {}
        for name, view in host.views.items():
            copied = copy.copy(view)
            copied.volumes = dict(view.volumes)
            copied.incomplete = dict(view.incomplete)
            self.views[name] = copied
        self.listed = dict((k, set(v)) for k, v in host.listed.items())
        self.removed_pools = set()   # pools an earlier step of the plan removes
        self.usage = None if host.usage is None else SimUsage(host.usage, self)
        self.world = _volume.World(self.views, secrets=dict(host.volume_secrets), usage=self.usage,
                                   locked=host.locked)
        self.world.imports = dict(host.imports)
        self.world.seeds = dict(host.seeds)
        self.world.iso_tool = host.iso_tool
        self.created = {}
        self.deleted = set()
        self.vgs = dict(host.vgs or {})
        self.lvs = dict((vg, dict(lvs)) for vg, lvs in host.lvs.items())
        self.domains = {}
        for name, dom in host.domains.items():
            if dom is not None:
                dom = copy.copy(dom)
                dom.config_disks = list(dom.config_disks)
                dom.live_disks = list(dom.live_disks)
                dom.config_controllers = list(dom.config_controllers)
                dom.live_controllers = list(dom.live_controllers)
            self.domains[name] = dom
        self.declared_disks = {}
        self.disk_facts = host.disk_facts

    def source_keys(self, source):
        """Identity keys of a disk source as the simulated host has it."""
        source = source or {}
        path = source.get('file') or source.get('block')
        if source.get('volume'):
            view = self.views.get(source['volume']['pool'])
            volume = view.volumes.get(source['volume']['name']) if view is not None else None
            path = (volume or {}).get('path')
        return self.usage.keys(path) if path and self.usage is not None else frozenset()


class SimUsage(Usage):
    """Who holds what once the earlier steps of the plan ran: a guest from which the plan
    detaches every disk reaching an image no longer holds it (so the image may then be
    removed); one that still has such a disk attached still does."""

    def __init__(self, base, sim):  # pylint: disable=super-init-not-called
        self.__dict__.update(base.__dict__)
        self.sim = sim
        self.released = {}   # guest -> keys of the disks the plan detached from it

    def _walk(self, keys, exclude=frozenset()):
        guests, direct = Usage._walk(self, keys, exclude)
        for name in list(guests):
            gone = self.released.get(name)
            if not gone:
                continue
            via = guests[name][1]
            held = self.keys(via) if via else frozenset(keys)
            if not held & gone:
                continue
            dom = self.sim.domains.get(name)
            remaining = (dom.config_disks + dom.live_disks) if dom is not None else []
            if not any(self.sim.source_keys(d.get('source')) & held for d in remaining):
                del guests[name]
        return guests, direct


def plan(ordered, host, unmanaged=True, assume=False):
    """The HostPlan of ``ordered`` nodes (from ``order``) over ``host``. ``assume`` (check
    mode): a pool, volume or secret that is neither on the host nor declared is planned as if
    an earlier task of the play made it (a warning names it)."""
    sim = _Sim(host, assume)
    out = HostPlan()
    for node in ordered:
        out.items.append(_PLANNERS[node.kind](node, sim))
    if unmanaged:
        out.unmanaged = _unmanaged(ordered, sim, host)
    return out


def _plan_secret(node, sim):
    req = node.request
    actual = sim.host.secrets.get(node.key)
    if actual is None and req.state != 'absent' and req.uuid is None and node.key in sim.host.new_uuids:
        # A new secret gets its UUID now, so that volumes encrypted with it are planned with it.
        req = copy.copy(req)
        req.uuid = sim.host.new_uuids[node.key]
    # A pool the plan removes first (removals run in reverse order) no longer refers to it.
    auths = [a for a in sim.host.pool_auths if a['pool'] not in sim.removed_pools] if req.state == 'absent' else ()
    steps, after = _secret.plan(req, actual, auths, sim.host.secret_holders.get(node.key))
    model_after = _secret.parse(after) if after is not None else None
    if req.usage == 'volume':
        if after is None:
            sim.world.secrets.pop(req.usage_id, None)
        elif model_after.get('uuid'):
            sim.world.secrets[req.usage_id] = model_after['uuid']
    return Item(node, steps, _secret.diff_form(None if actual is None else actual.element),
                _secret.diff_form(after, 'set_value' in steps.verbs()), extra={'request': req})


def _plan_pool(node, sim):
    req = node.request
    actual = sim.host.pools.get(req.name)
    if actual is not None and req.state == 'absent' and req.delete_data:
        actual = _pool_as_left(req.name, actual, sim)
    steps, after = _pool.plan(req, actual, sim.host.pool_facts.get(req.name))
    verbs = steps.verbs()
    if after is None:
        sim.views.pop(req.name, None)
        if actual is not None:
            sim.removed_pools.add(req.name)
    else:
        model = _pool_xml.parse(after)
        running = 'start' in verbs or (actual is not None and actual.active and 'stop' not in verbs)
        old = sim.views.get(req.name)
        kept = old is not None and old.active and running
        # A new pool's definition already carries its type's default target (_pool.plan).
        view = _volume.PoolView(req.name, model['type'], running,
                                target_path=(model.get('target') or {}).get('path'),
                                volumes=dict(old.volumes) if kept else {},
                                source_hosts=[h['name'] for h in model['source']['hosts']],
                                source_name=model['source']['name'], source_dir=model['source']['dir'])
        if kept:
            # The volumes stay, and so do the in-flight markers of those whose create was
            # cut off: without them a half-made volume would be taken as made.
            view.incomplete = dict(old.incomplete)
        sim.views[req.name] = view
        if actual is None and model['type'] == 'logical':
            vg = vg_of_pool(req)
            if vg not in sim.vgs:
                # The build makes the VG: its size is known once LVM made it.
                sim.vgs[vg] = {'vg_name': vg, 'vg_size': None, 'vg_free': UNKNOWN_FREE,
                               'vg_extent_size': NEW_VG_EXTENT}
                sim.lvs.setdefault(vg, {})
    before = _pool_form(actual, None if actual is None else actual.element, actual)
    after_form = {'state': 'absent'} if after is None else {
        'state': 'active' if 'start' in verbs or (actual is not None and actual.active and 'stop' not in verbs)
        else 'inactive', 'definition': _pool_xml.canonical(after)}
    return Item(node, steps, before, after_form)


def _pool_as_left(name, actual, sim):
    """The pool as the earlier steps of the plan leave it, for a removal with delete_data:
    the volumes the plan deleted, and in its VG the thin volumes and thin pools the plan
    removed, are no longer there to refuse the deletion for (host_profile's absent run
    deletes the clones, templates and thin volumes, then the pools)."""
    listed = sim.listed.get(name)
    gone = set(actual.volumes or []) - listed if listed is not None else set()
    vg = actual.element.findtext('source/name') or actual.element.findtext('name') if actual.type == 'logical' \
        else None
    if vg is not None and vg in sim.host.lvs:
        gone |= set(sim.host.lvs[vg]) - set(sim.lvs.get(vg, {}))
    if not gone:
        return actual
    left = copy.copy(actual)
    left.volumes = None if actual.volumes is None else [v for v in actual.volumes if v not in gone]
    left.lvs = None if actual.lvs is None else dict((k, v) for k, v in actual.lvs.items() if k not in gone)
    return left


def _pool_form(exists, element, actual):
    if exists is None:
        return {'state': 'absent'}
    return {'state': 'active' if actual.active else 'inactive', 'definition': _pool_xml.canonical(element)}


def _lv_entry(name, kind, size, pool_lv='', origin=''):
    return {'lv_name': name, 'type': kind, 'lv_size': size, 'pool_lv': pool_lv, 'origin': origin, 'active': True,
            'open': False, 'lv_attr': ('t' if kind == 'thin-pool' else 'V') + 'wi-a-tz--', 'lv_metadata_size': None,
            'chunk_size': None, 'zero': False, 'discards': 'passdown', 'lv_profile': '', 'data_percent': None,
            'metadata_percent': None}


def _plan_thin_pool(node, sim):
    p = node.request
    lvs = sim.lvs.get(p['vg'], {})
    profiles = sim.host.profiles.get((p['vg'], p['name'])) or {}
    steps = _lvm_thin.plan_pool(p, sim.vgs, lvs, profiles, sim.host.profile_carriers, assume=sim.assume)
    before = _lvm_thin.pool_model(lvs.get(p['name']), lvs)
    after = _lvm_thin.predict_pool(before, steps)
    if after is None:
        sim.lvs.get(p['vg'], {}).pop(p['name'], None)
    elif p['name'] not in lvs:
        sim.lvs.setdefault(p['vg'], {})[p['name']] = _lv_entry(p['name'], 'thin-pool', after['size'])
    return Item(node, steps, _lvm_thin.diff_form(before), _lvm_thin.diff_form(after))


def _plan_thin_volume(node, sim):
    p = node.request
    lvs = sim.lvs.get(p['vg'], {})
    keys = sim.host.thin_keys.get((p['vg'], p['name']))
    users, overlays = None, ()
    if keys is not None and sim.usage is not None:
        users, overlays = sim.usage.holders(keys), sim.usage.backing_of_keys(keys)
    steps = _lvm_thin.plan_volume(p, sim.vgs, lvs, users, overlays, assume=sim.assume)
    before = _lvm_thin.volume_model(lvs.get(p['name']))
    after = _lvm_thin.predict_volume(before, steps, p, lvs)
    if after is None:
        sim.lvs.get(p['vg'], {}).pop(p['name'], None)
    elif p['name'] not in lvs:
        sim.lvs.setdefault(p['vg'], {})[p['name']] = _lv_entry(
            p['name'], 'thin', after['size'], after.get('thin_pool') or '', after.get('origin') or '')
    return Item(node, steps, _lvm_thin.diff_form(before), _lvm_thin.diff_form(after))


def _plan_volume(node, sim):
    req = node.request
    view = sim.views.get(req.pool)
    actual = view.volumes.get(req.name) if view is not None else None
    steps = _volume.plan([req], sim.world, created=sim.created, deleted=sim.deleted, assume=sim.assume)
    view = sim.views.get(req.pool)   # a pool check mode assumes is added by the planner
    verbs = steps.verbs()
    after = actual
    if view is not None:
        if 'delete' in verbs and not any(v in verbs for v in ('create', 'clone', 'create_gluster', 'import')):
            view.volumes.pop(req.name, None)
            sim.listed.get(req.pool, set()).discard(req.name)
            after = None
        elif (req.pool, req.name) in sim.created:
            made = sim.created[(req.pool, req.name)]
            element = next((s.args.get('element') for s in steps.steps if s.args.get('element') is not None), None)
            model = _volume_xml.parse(element) if element is not None else {'backing': None, 'encryption': None}
            after = {'name': req.name, 'path': made['path'], 'format': made['format'], 'capacity': made['capacity'],
                     'allocation': None, 'backing': model.get('backing'), 'encryption': model.get('encryption'),
                     'type': 'file', 'key': made['path'], 'physical': None, 'permissions': req.permissions}
            if made.get('sized_at_run'):
                after['sized_at_run'] = True
            view.volumes[req.name] = after
            sim.listed.setdefault(req.pool, set()).add(req.name)
        elif 'resize' in verbs:
            after = dict(actual, capacity=req.capacity)
            view.volumes[req.name] = after
    before_form, after_form = _volume.diff_form(actual), _volume.diff_form(after)
    if getattr(req, 'cloud_init', None) and req.state == 'present':
        seed_before, seed_after = _volume.seed_diff_forms(req, actual, sim.world.seeds.get((req.pool, req.name)), steps)
        if seed_before is not None:
            before_form['cloud_init'] = seed_before
        if seed_after is not None:
            after_form['cloud_init'] = seed_after
        if 'seed_replace' in verbs:
            after_form.pop('capacity', None)   # the new ISO's size is known once it is built
    return Item(node, steps, before_form, after_form)


def check_disk_source(req, sim_views, assume=False):
    """A disk whose source volume neither exists nor is declared is refused (its pool or
    the volume as the plan leaves them), unless ``assume`` (check mode: it is then planned
    as made by an earlier task of the play; _disk.SourceFacts.assumed)."""
    source = req.model['source'] or {}
    if not source.get('volume') or req.state == 'absent':
        return
    pool_name, name = source['volume']['pool'], source['volume']['name']
    view = sim_views.get(pool_name)
    if assume and (view is None or view.active and view.volumes.get(name) is None):
        return
    if view is None:
        raise KvmStorageError('%s: pool %s of its source volume %s neither exists nor is declared'
                              % (req.label, pool_name, name))
    if view.volumes.get(name) is None:
        if not view.active:
            raise KvmStorageError('%s: pool %s of its source volume %s is not running, so its volumes cannot be read; '
                                  'start it first' % (req.label, pool_name, name))
        raise KvmStorageError('%s: volume %s of pool %s neither exists nor is declared'
                              % (req.label, name, pool_name))


def disk_facts(node, sim):
    """What the disk planner knows of the source (_disk.SourceFacts): as read, or, for a
    volume or thin volume the plan makes, as the plan leaves it (it will exist, in the
    planned format, at the planned path; a new LV reads as raw). A volume's pool is the
    one the plan leaves (the planner attaches a volume of a gluster pool as a network
    disk)."""
    facts = sim.disk_facts.get(node.key)
    source = node.request.model['source'] or {}
    if source.get('volume'):
        view = sim.views.get(source['volume']['pool'])
        volume = view.volumes.get(source['volume']['name']) if view is not None else None
        if node.request.state != 'absent' and volume is None and sim.assume and (view is None or view.active):
            return _disk.SourceFacts(keys=facts.keys if facts is not None else frozenset(), assumed=True)
        if node.request.state != 'absent' and volume is not None and (facts is None or not facts.exists):
            facts = _disk.SourceFacts(keys=sim.source_keys(source) | (facts.keys if facts is not None else frozenset()),
                                      exists=True, volume_format=_volume.disk_format(volume.get('format')),
                                      path=volume.get('path'))
        if facts is not None and view is not None:
            facts = copy.copy(facts)
            facts.pool = view
            facts.path = facts.path or (volume or {}).get('path')
        return facts
    if node.request.state == 'absent' or facts is not None and facts.exists:
        return facts
    lv = _identity.lv_of_name(source['block']) if source.get('block') else None
    if lv is not None and lv[1] in sim.lvs.get(lv[0], {}):
        return _disk.SourceFacts(keys=(facts.keys if facts is not None else frozenset()) | _identity.lv_keys(*lv),
                                 exists=True, volume_format='raw', path=source['block'])
    return facts


def _plan_disk(node, sim):
    req = node.request
    check_disk_source(req, sim.views, sim.assume)
    dom = sim.domains.get(req.domain)
    steps, final = _disk.plan(req, dom, disk_facts(node, sim))
    before = sorted((d['target'] for d in (dom.config_disks or dom.live_disks)))
    for step in steps.steps:
        scopes = step.args.get('scopes') or []
        for scope in scopes:
            disks = dom.live_disks if scope == 'live' else dom.config_disks
            if step.verb == 'attach':
                disks.append(dict(final))
            elif step.verb == 'detach':
                gone = [d for d in disks if d['target'] == step.args['target']]
                disks[:] = [d for d in disks if d['target'] != step.args['target']]
                if sim.usage is not None:
                    for model in gone:
                        sim.usage.released.setdefault(req.domain, set()).update(sim.source_keys(model.get('source')))
            elif step.verb == 'update':
                disks[:] = [dict(final) if d['target'] == final['target'] else d for d in disks]
            elif step.verb == 'iotune':
                disks[:] = [dict(d, iotune=final['iotune']) if d['target'] == final['target'] else d for d in disks]
            elif step.verb == 'controller':
                (dom.live_controllers if scope == 'live' else dom.config_controllers).append(
                    ('scsi', 'virtio-scsi', str(step.args['index'])))
    if dom.free_ports is not None:
        # the running q35 guest's pcie-root-ports as the plan leaves them (a live detach of a
        # virtio disk frees one, once the guest released it: the module waits for that)
        freed = sum(1 for s in steps.steps if s.verb == 'detach' and 'live' in s.args['scopes']
                    and s.args['model'].get('bus') == 'virtio')
        dom.free_ports += freed - _disk.ports_needed(steps)
    target = final['target'] if final is not None else req.model.get('target')
    if final is None:
        target = next((s.args['target'] for s in steps.steps if s.verb == 'detach'), target)
    sim.declared_disks.setdefault(req.domain, set()).add(target)
    after = sorted((d['target'] for d in (dom.config_disks or dom.live_disks)))
    return Item(node, steps, {'guest': req.domain, 'targets': before}, {'guest': req.domain, 'targets': after},
                extra={'request': req, 'target': target, 'model': final})


_PLANNERS = {'secret': _plan_secret, 'pool': _plan_pool, 'thin_pool': _plan_thin_pool,
             'thin_volume': _plan_thin_volume, 'volume': _plan_volume, 'disk': _plan_disk}


def _unmanaged(ordered, sim, host):
    """What exists but is not declared: pools, volumes of declared pools, disks of declared
    guests. Reported for drift, never removed."""
    pools = set(n.request.name for n in ordered if n.kind == 'pool')
    volumes = set((n.request.pool, n.request.name) for n in ordered if n.kind == 'volume')
    out = {'pools': sorted(p for p in host.pool_names if p not in pools),
           'volumes': [], 'disks': []}
    for pool in sorted(pools):
        for name in sorted(sim.listed.get(pool, ())):
            if (pool, name) not in volumes:
                out['volumes'].append({'pool': pool, 'name': name})
    for domain in sorted(sim.declared_disks):
        dom = sim.domains.get(domain)
        if dom is None:
            continue
        seen = set()
        for disk in dom.config_disks + dom.live_disks:
            if disk['target'] in sim.declared_disks[domain] or disk['target'] in seen:
                continue
            seen.add(disk['target'])
            out['disks'].append({'domain': domain, 'target': disk['target'], 'device': disk.get('device'),
                                 'source': disk.get('source')})
    return out


def split_results(host_plan, every=True):
    """Per-object results: kind, name, changed, actions (what the result lists).  With
    ``every=False`` only the objects that change (in check mode: would change); returns
    (entries, {list name: number of declared objects left out because nothing changes})."""
    out = []
    unchanged = dict.fromkeys(LIST_NAMES, 0)
    for item in host_plan.items:
        if not every and not item.steps.changed:
            unchanged[LIST_OF_KIND[item.node.kind]] += 1
            continue
        entry = {'kind': item.node.kind, 'name': item.node.label, 'element': item.node.where,
                 'state': item.node.state, 'changed': item.steps.changed, 'actions': item.steps.actions}
        if item.node.kind == 'disk' and item.extra.get('target'):
            entry['target'] = item.extra['target']
        out.append(entry)
    return out, unchanged


def invocation(params):
    """The ``invocation`` the module returns instead of Ansible's echo of every argument:
    the scalar options and, per list, the number of elements (no element, so no secret)."""
    args = dict((key, value) for key, value in params.items() if key not in LIST_NAMES)
    for name in LIST_NAMES:
        args[name] = len(params.get(name) or [])
    return {'module_args': args}
