# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""cloud-init NoCloud seed ISOs: build one with xorriso (or genisoimage) on the host the
module runs on, read an existing one back through libvirt, write one into a volume.

The files' content never reaches a command line: it is written into files (mode 0600) in
a private work folder, and the tool is given that folder. Everything is built complete in
the work folder before a volume is touched."""

from __future__ import annotations

import os
import tempfile

from ansible_collections.kvm.storage.plugins.module_utils import _iso9660
from ansible_collections.kvm.storage.plugins.module_utils import _stream
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

# The tools, in order of preference; both take mkisofs' options.
TOOLS = (('xorriso', ['-as', 'mkisofs']), ('genisoimage', []), ('mkisofs', []))
# A seed is a few hundred KiB; a volume larger than this is not read back (and is no seed).
MAX_SEED = 16 * 1024 * 1024
CHUNK = 256 * 1024


def find_tool(module):
    """The path of the first ISO tool found, or None."""
    for name, _args in TOOLS:
        path = module.get_bin_path(name)
        if path:
            return path
    return None


def build(module, tool, files, label, what):
    """Build the seed ISO (label ``label``, the files name -> text in its root, with Joliet
    and Rock Ridge names as cloud-localds makes them) into a new work folder; returns
    (work folder, ISO path). The caller removes the work folder."""
    workdir = tempfile.mkdtemp(prefix='kvm-storage-seed-', dir=getattr(module, 'tmpdir', None))
    content = os.path.join(workdir, 'files')
    os.mkdir(content, 0o700)
    for name, text in files.items():
        fd = os.open(os.path.join(content, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(text.encode('utf-8'))
    out = os.path.join(workdir, 'seed.iso')
    extra = dict(TOOLS).get(os.path.basename(tool), [])
    cmd = [tool] + extra + ['-quiet', '-output', out, '-volid', label, '-joliet', '-rock', content]
    if os.path.basename(tool) != 'xorriso':
        cmd[1:1] = ['-input-charset', 'utf-8']
    rc, stdout, stderr = module.run_command(cmd, environ_update={'LANG': 'C', 'LC_ALL': 'C'})
    if rc != 0 or not os.path.isfile(out):
        lines = [line for line in (stderr or stdout or '').splitlines() if line.strip() and 'libburnia' not in line]
        last = lines[-1] if lines else 'no message'
        raise KvmStorageError('cannot %s: %s failed (rc %s): %s' % (what, os.path.basename(tool), rc, last))
    return workdir, out


def read(conn, vol, capacity, label):
    """SeedFacts-like tuple (label, files, why_not) of a volume, read through libvirt (so a
    remote host's volume too)."""
    if capacity is None or capacity > MAX_SEED:
        return None, None, 'it is larger than %d MiB' % (MAX_SEED // (1024 * 1024))
    if capacity == 0:
        return None, None, 'it is empty'
    chunks = []
    _stream.transfer(conn, lambda stream: vol.download(stream, 0, capacity, 0),
                     lambda stream: stream.recvAll(lambda _stream, data, sink: sink.append(data) or len(data), chunks),
                     '%s: cannot read the volume back to compare it with cloud_init' % label)
    try:
        iso_label, files = _iso9660.read_root(b''.join(chunks))
    except _iso9660.NotIso as exc:
        return None, None, 'no ISO 9660 image: %s' % exc
    return iso_label, files, None


def write(conn, vol, path, length, label):
    """Write the ISO at ``path`` into the volume from its start, followed by zeros up to
    ``length`` (an old, longer seed leaves no bytes of its own behind). Not sparse: the
    zeros overwrite what was there."""
    size = os.path.getsize(path)
    state = {'left': length - size}

    def source(_stream, nbytes, f):
        data = f.read(nbytes)
        if data:
            return data
        pad = min(nbytes, state['left'])
        state['left'] -= pad
        return b'\0' * pad

    with open(path, 'rb') as f:
        _stream.transfer(conn, lambda stream: vol.upload(stream, 0, length, 0), lambda stream: stream.sendAll(source, f),
                         '%s: writing the seed ISO into the volume failed' % label)
