# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Who uses which storage: guests' disks and images' backing files, by identity.

Pure functions over XML and the Usage index; _usage_adapter.read_usage fills it from one
listing of the guests and of the pools, shared by every safety check.
Identity is _identity's: a symlinked folder, ``//``, ``/./``, a device alias or an
inactive LV's udev name are the same storage as the name libvirt lists.
"""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _identity


def disk_sources(domain_element):
    """The storage each ``<disk>`` of a domain definition points at:
    dicts with kind (file, block, volume, network) and path / pool+volume / protocol+name."""
    out = []
    for disk in domain_element.findall('devices/disk'):
        source = disk.find('source')
        if source is None:
            continue
        kind = disk.get('type')
        entry = {'kind': kind, 'target': disk.find('target').get('dev') if disk.find('target') is not None else None}
        if kind == 'file':
            entry['path'] = source.get('file')
        elif kind == 'block':
            entry['path'] = source.get('dev')
        elif kind == 'volume':
            entry['pool'] = source.get('pool')
            entry['volume'] = source.get('volume')
        elif kind == 'network':
            entry['protocol'] = source.get('protocol')
            entry['name'] = source.get('name')
            entry['hosts'] = [(h.get('name'), h.get('port')) for h in source.findall('host')]
        else:
            continue
        out.append(entry)
    return out


def source_path(disk_type, source):
    """The name a ``<source>`` element (of a ``<disk>`` or a ``<backingStore>``) gives its
    storage: the path of a file or block device, a URL-like name for network storage (what
    _identity.keys understands), None for a volume source or no source."""
    if source is None:
        return None
    if disk_type == 'file':
        return source.get('file')
    if disk_type == 'block':
        return source.get('dev')
    if disk_type == 'network':
        return network_path(source.get('protocol'), source.get('name'))
    return None


def network_path(protocol, name):
    """``protocol://-/name``: the one spelling of a network source; the host is left out of
    its identity (_identity.network_key_of_path)."""
    if not protocol:
        return None
    return '%s://-/%s' % (protocol, (name or '').lstrip('/'))


def xml_backing_chain(disk):
    """The backing chain libvirt wrote under a live ``<disk>`` (``<backingStore>`` elements),
    as names (see source_path), top first, without the top itself."""
    out = []
    store = disk.find('backingStore')
    while store is not None and store.get('type'):
        name = source_path(store.get('type'), store.find('source'))
        if name:
            out.append(name)
        store = store.find('backingStore')
    return out


def backing_paths(volume_element):
    """Paths of the backing chain libvirt reports for a volume (only the first link: the
    rest is found by following the chain through other volumes)."""
    path = volume_element.findtext('backingStore/path')
    return [path] if path else []


def _spelled_keys(path):
    return _identity.keys(path, local=False)


class Usage(object):
    """Who holds which storage, by identity (_identity.keys), not by spelling.

    Two kinds of holder: guests (a disk of a live or persistent definition names the
    storage, or names an image whose backing chain reaches it) and overlays (images whose
    backing file it is).  Queries follow overlays transitively, so a template is used by
    every guest of every overlay above it.  ``keys_of`` turns a name into its keys; the
    adapter passes one that stats local files, the tables in the unit tests the default
    (spelling only)."""

    def __init__(self, keys_of=None):
        self._keys_of = keys_of or _spelled_keys
        self._keys = {}
        self._guests = {}     # key -> {guest: [live, via]}  via: the image the guest names, when not this one
        self._overlays = {}   # key -> [overlay paths] whose backing file it is

    def keys(self, path):
        if path not in self._keys:
            self._keys[path] = self._keys_of(path)
        return self._keys[path]

    def add_user(self, path, domain, live=False, via=None, keys=None):
        for key in keys if keys is not None else self.keys(path):
            held = self._guests.setdefault(key, {}).setdefault(domain, [False, via])
            held[0] = held[0] or live
            if via is None:
                held[1] = None

    def add_child(self, parent, child):
        for key in self.keys(parent):
            kids = self._overlays.setdefault(key, [])
            if child not in kids:
                kids.append(child)

    def add_guest_chain(self, domain, live, chain):
        """A guest's disk: ``chain`` is the name it gives and every backing file below it."""
        for index, path in enumerate(chain):
            self.add_user(path, domain, live, via=chain[0] if index else None)
            if index:
                self.add_child(path, chain[index - 1])

    def add_volume_chain(self, chain):
        for index in range(1, len(chain)):
            self.add_child(chain[index], chain[index - 1])

    def _walk(self, keys, exclude=frozenset()):
        """(guests {name: [running, via]}, direct overlays) of storage with these keys,
        through overlays (those whose keys meet ``exclude`` are left out).  ``via`` is the
        image through which the guest holds it, None when it names the storage itself."""
        guests, direct, seen = {}, [], set()
        todo = [(frozenset(keys), None)]
        while todo:
            current, through = todo.pop(0)
            if current & seen:
                continue
            seen |= current
            for key in current:
                for name, (live, via) in self._guests.get(key, {}).items():
                    held = guests.setdefault(name, [False, through or via])
                    held[0] = held[0] or live
                    if through is None and via is None:
                        held[1] = None
                for overlay in self._overlays.get(key, []):
                    okeys = self.keys(overlay)
                    if okeys & exclude:
                        continue
                    if through is None and overlay not in direct:
                        direct.append(overlay)
                    todo.append((okeys, through or overlay))
        return guests, sorted(direct)

    def users_of(self, path):
        """Guests using ``path`` directly or through any image backed by it."""
        return sorted(self._walk(self.keys(path))[0])

    def users_of_keys(self, keys):
        return sorted(self._walk(keys)[0])

    def running_users_of(self, path):
        """Running guests that have ``path`` open, directly or through an overlay."""
        return sorted(n for n, (live, _via) in self._walk(self.keys(path))[0].items() if live)

    def backing_of(self, path, deleted=()):
        """Images whose backing file ``path`` is (directly), leaving out ``deleted`` ones."""
        exclude = frozenset().union(*[self.keys(p) for p in deleted]) if deleted else frozenset()
        return self._walk(self.keys(path), exclude)[1]

    def backing_of_keys(self, keys):
        return self._walk(keys)[1]

    def holders(self, keys):
        """``['db', 'web (through /images/web.qcow2)']``: the guests holding storage with
        these keys, each with the image it holds it through, for a refusal."""
        guests = self._walk(keys)[0]
        return ['%s (through %s)' % (n, guests[n][1]) if guests[n][1] else n for n in sorted(guests)]

    def holders_text(self, keys):
        return ', '.join(self.holders(keys))

    @classmethod
    def from_tables(cls, users=None, children=None, running=None):
        """A Usage from path tables (users[path] -> guests, children[path] -> overlays,
        running[path] -> guests whose live definition has it); for callers and tests that
        know usage by name."""
        usage = cls()
        for path, domains in (users or {}).items():
            for name in domains:
                usage.add_user(path, name, live=name in (running or {}).get(path, ()))
        for path, domains in (running or {}).items():
            for name in domains:
                usage.add_user(path, name, live=True)
        for parent, kids in (children or {}).items():
            for kid in kids:
                usage.add_child(parent, kid)
        return usage
