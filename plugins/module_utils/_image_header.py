# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What an image says about itself: its format (from the magic bytes qemu probes) and,
for qcow2, its backing file and the backing file's format.

``parse`` is pure (bytes in, dict out); ``read`` is the one reader (a few KiB from the
start of the file or device). Reading the header is how the safety checks follow whole
backing chains and how a declared format is checked against the image: spawning
qemu-img once per image would cost about 20 ms each, a header read about 30 us.
"""

from __future__ import annotations

import os
import struct

HEAD = 4096           # enough for every magic and, in practice, qcow2's backing file name
MAX_BACKING = 1023    # qemu's limit on a qcow2 backing file name

QCOW_MAGIC = b'QFI\xfb'
LUKS_MAGIC = b'LUKS\xba\xbe'
EXT_BACKING_FORMAT = 0xE2792ACA
EXT_END = 0


def parse(data, size_hint=None):
    """{'format': 'qcow2'|'qcow'|'qed'|'luks'|'vmdk'|'vdi'|'vhdx'|'vpc'|'raw',
    'backing': str|None, 'backing_format': str|None, 'encrypted': bool,
    'need': int|None}.  ``need`` is set when the backing file name lies past ``data``:
    read that many bytes and parse again."""
    out = {'format': 'raw', 'backing': None, 'backing_format': None, 'encrypted': False, 'need': None}
    if data[:4] == QCOW_MAGIC and len(data) >= 72:
        version, = struct.unpack('>I', data[4:8])
        out['format'] = 'qcow' if version == 1 else 'qcow2'
        if version == 1:
            return out
        offset, size = struct.unpack('>QI', data[8:20])
        crypt, = struct.unpack('>I', data[32:36])
        out['encrypted'] = crypt != 0
        if offset and 0 < size <= MAX_BACKING:
            if offset + size > len(data):
                out['need'] = offset + size
                return out
            out['backing'] = data[offset:offset + size].decode('utf-8', 'replace')
            out['backing_format'] = _backing_format(data, version)
        return out
    if data[:6] == LUKS_MAGIC:
        out['format'] = 'luks'
        out['encrypted'] = True
    elif data[:4] == b'QED\x00':
        out['format'] = 'qed'
    elif data[:4] == b'KDMV' or data[:21] == b'# Disk DescriptorFile':
        out['format'] = 'vmdk'
    elif data[:8] == b'vhdxfile':
        out['format'] = 'vhdx'
    elif data[:8] == b'conectix':
        out['format'] = 'vpc'
    elif len(data) >= 0x44 and struct.unpack('<I', data[0x40:0x44])[0] == 0xbeda107f:
        out['format'] = 'vdi'
    return out


def _backing_format(data, version):
    """The backing format header extension, when the image records one."""
    start = 72
    if version >= 3 and len(data) >= 104:
        start, = struct.unpack('>I', data[100:104])
    pos = start
    while pos + 8 <= len(data):
        kind, length = struct.unpack('>II', data[pos:pos + 8])
        if kind == EXT_END:
            return None
        if kind == EXT_BACKING_FORMAT:
            return data[pos + 8:pos + 8 + length].decode('ascii', 'replace')
        pos += 8 + ((length + 7) & ~7)
    return None


def resolve_backing(image_path, backing):
    """The path qemu opens for ``backing`` named in ``image_path``: relative names are
    relative to the image's folder; protocol names (``gluster://``, ``json:``) stay."""
    if backing is None or '://' in backing or backing.startswith('json:'):
        return backing
    if os.path.isabs(backing):
        return backing
    return os.path.join(os.path.dirname(image_path), backing)


def read(path):
    """``parse`` of the file or device at ``path``, or None when it cannot be opened."""
    try:
        with open(path, 'rb') as f:
            data = f.read(HEAD)
            out = parse(data)
            if out['need']:
                f.seek(0)
                out = parse(f.read(out['need']))
            return out
    except (IOError, OSError):
        return None


def chain(path, limit=64):
    """[(path, header), ...] from ``path`` down its backing chain, as far as the files can
    be read (a network backing file ends the walk; its header stays unread)."""
    out, seen = [], set()
    while path and path not in seen and len(out) < limit:
        seen.add(path)
        header = None if '://' in path or path.startswith('json:') else read(path)
        out.append((path, header))
        if header is None:
            break
        path = resolve_backing(path, header['backing'])
    return out
