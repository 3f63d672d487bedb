# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Markers for volumes being created, so a create that died half-way is recognised.

A clone or import that loses libvirtd (or the whole module run) half-way leaves a volume
that libvirt lists like any other, with part of the data: a re-run would take it for
done. libvirt cannot rename volumes, so creating under a temporary name is not possible.
Instead the module writes a small marker on the host it runs on before it creates a
volume and removes it once the volume is complete (or rolled back).

A marker alone does not prove that the volume is still half-made: when only the module
process is killed, libvirtd finishes the copy, and the volume may hold a guest's data days
later. So a run that fails while it makes a volume, and survives the failure, records in
the marker the volume's fingerprint as it left it (:func:`fingerprint`: device, inode,
size, allocation, modification and change times, and for a block device the kernel's
count of sectors written). The next run reads the fingerprint again, and the planner
replaces the volume only when the two are equal (``_volume.plan``); a marker without one
(the run was killed and recorded nothing after the create began) or a volume that changed
since is a question for the user, never a replace.

Markers are best effort: a host where none can be written loses only this detection,
never a create.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time

STATE_DIRS = ('/var/lib/kvm-storage/inflight', '~/.cache/kvm-storage/inflight')


def _start_time(pid):
    """The start time of process ``pid`` (clock ticks since boot, /proc/PID/stat field 22),
    or None where /proc cannot say: it tells a live run from a new process that was given
    the pid of a dead one."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            data = handle.read()
        return int(data[data.rindex(')') + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid, started=None):
    try:
        os.kill(pid, 0)
    except OSError as exc:
        if exc.errno != 1:  # EPERM: alive, someone else's
            return False
    return started is None or _start_time(pid) in (None, started)


def _sectors_written(rdev):
    """Sectors written to the block device ``rdev`` since it appeared (its I/O statistics)."""
    try:
        with open('/sys/dev/block/%d:%d/stat' % (os.major(rdev), os.minor(rdev))) as handle:
            return int(handle.read().split()[6])
    except (OSError, ValueError, IndexError):
        return None


def fingerprint(path):
    """What a volume's local file or device looks like now, as a dict that changes when
    anything writes to it, resizes it or makes it anew; None when it cannot be read here
    (no path, a network URL, a path that is not there)."""
    if not path or not path.startswith('/'):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    found = {'dev': st.st_dev, 'ino': st.st_ino, 'size': st.st_size, 'blocks': st.st_blocks,
             'mtime_ns': st.st_mtime_ns, 'ctime_ns': st.st_ctime_ns}
    if stat.S_ISBLK(st.st_mode):
        # A device node's times do not move when its blocks are written; the kernel's
        # count of sectors written does (and starts again at 0 after a reboot: a change).
        found['rdev'] = st.st_rdev
        found['sectors_written'] = _sectors_written(st.st_rdev)
        if found['sectors_written'] is None:
            return None
    return found


class Inflight(object):
    """Markers of one libvirt connection. Each run writes its own file per volume (named by
    the connection, pool, volume and its pid), so concurrent runs never overwrite or remove
    each other's markers."""

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
        return os.path.join(self.dir, '%s-%d.json' % (key, os.getpid()))

    def _write(self, pool, name, record):
        path = self._path(pool, name)
        try:
            with open(path + '.tmp', 'w') as handle:
                json.dump(record, handle)
            os.rename(path + '.tmp', path)  # a reader sees the old record or the new one
        except OSError:
            pass

    def _records(self, pool):
        """(file, record) of every marker of this connection and ``pool``."""
        for entry in sorted(os.listdir(self.dir)):
            if not entry.endswith('.json'):
                continue
            path = os.path.join(self.dir, entry)
            try:
                with open(path) as handle:
                    record = json.load(handle)
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and record.get('uri') == self.uri and record.get('pool') == pool:
                yield path, record

    def mark(self, pool, name, doing):
        """Before a create begins: the volume is not there yet, so all the marker can say
        is which run (pid and its start time) makes it, and when it began."""
        if self.dir is None:
            return
        pid = os.getpid()
        self._write(pool, name, {'uri': self.uri, 'pool': pool, 'name': name, 'doing': doing, 'pid': pid,
                                 'pid_started': _start_time(pid), 'began': time.time(), 'left': None})

    def left(self, pool, name, found):
        """After a create failed and left the volume behind: record ``found`` (its
        :func:`fingerprint`, or None when it could not be read), so the next run can tell
        whether the volume is still as this run left it."""
        if self.dir is None:
            return
        path = self._path(pool, name)
        try:
            with open(path) as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            return
        record.update(left=found, ended=time.time())
        self._write(pool, name, record)

    def clear(self, pool, name, dead_too=False):
        """Remove this run's marker of the volume; with ``dead_too`` also those of runs that
        are gone (the volume they were making was deleted, or made anew by this run)."""
        if self.dir is None:
            return
        paths = [self._path(pool, name)]
        if dead_too:
            paths += [path for path, record in self._records(pool)
                      if record.get('name') == name and not _alive(record.get('pid', 0), record.get('pid_started'))]
        for path in paths:
            try:
                os.unlink(path)
            except OSError:
                pass

    def incomplete(self, pool):
        """Markers of volumes of ``pool`` whose create was cut off (their run is gone), by
        volume name: a list of the markers' records, each with ``marker`` set to its file."""
        if self.dir is None:
            return {}
        found = {}
        for path, record in self._records(pool):
            if not _alive(record.get('pid', 0), record.get('pid_started')):
                found.setdefault(record.get('name'), []).append(dict(record, marker=path))
        return found
