# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Markers for volumes being created, so a create that died half-way is recognised.

A clone or import that loses libvirtd (or the whole module run) half-way leaves a volume
that libvirt lists like any other, with part of the data: a re-run would take it for
done. libvirt cannot rename volumes, so creating under a temporary name is not possible.
Instead the module writes a small marker on the host it runs on before it creates a
volume and removes it once the volume is complete (or rolled back). A marker whose run is
no longer alive names an incomplete volume, which the next run replaces (unless a guest
uses it). Markers are best effort: a host where none can be written loses only this
detection, never a create.
"""

from __future__ import annotations

import hashlib
import json
import os

STATE_DIRS = ('/var/lib/kvm-storage/inflight', '~/.cache/kvm-storage/inflight')


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == 1  # EPERM: alive, someone else's
    return True


class Inflight(object):
    def __init__(self, uri, dirs=STATE_DIRS):
        self.uri = uri
        self.dir = None
        for candidate in dirs:
            path = os.path.expanduser(candidate)
            try:
                os.makedirs(path, mode=0o700, exist_ok=True)
            except OSError:
                continue
            if os.access(path, os.W_OK):
                self.dir = path
                break

    def _path(self, pool, name):
        key = hashlib.sha256('\0'.join((self.uri, pool, name)).encode('utf-8')).hexdigest()[:32]
        return os.path.join(self.dir, key + '.json')

    def mark(self, pool, name, doing):
        if self.dir is None:
            return
        record = {'uri': self.uri, 'pool': pool, 'name': name, 'doing': doing, 'pid': os.getpid()}
        try:
            with open(self._path(pool, name), 'w') as handle:
                json.dump(record, handle)
        except OSError:
            pass

    def clear(self, pool, name):
        if self.dir is None:
            return
        try:
            os.unlink(self._path(pool, name))
        except OSError:
            pass

    def incomplete(self, pool):
        """Names of volumes of ``pool`` whose create was cut off (its run is gone)."""
        if self.dir is None:
            return set()
        names = set()
        for entry in os.listdir(self.dir):
            try:
                with open(os.path.join(self.dir, entry)) as handle:
                    record = json.load(handle)
            except (OSError, ValueError):
                continue
            if record.get('uri') == self.uri and record.get('pool') == pool and not _alive(record.get('pid', 0)):
                names.add(record.get('name'))
        return names
