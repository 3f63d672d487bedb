# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Read the files in the root folder of an ISO 9660 image (a cloud-init seed).  Pure.

Only what comparing a seed needs: the volume label and the regular files of the root
folder with their content. File names come from the Joliet tree when there is one, else
from the Rock Ridge names of the primary tree, else from the plain ISO 9660 names
(lower-cased, without the ``;1`` version), which is how Linux (and so cloud-init) sees them.
"""

from __future__ import annotations

import struct

SECTOR = 2048
FIRST_DESCRIPTOR = 16
MAX_DESCRIPTORS = 32
# Escape sequences of a Joliet supplementary volume descriptor (UCS-2 levels 1 to 3).
JOLIET_ESCAPES = (b'%/@', b'%/C', b'%/E')
# More entries than any seed has: a damaged or hostile image stops here.
MAX_ENTRIES = 4096


class NotIso(ValueError):
    """The data is not an ISO 9660 image this reader understands."""


def _u32(data, offset):
    return struct.unpack_from('<I', data, offset)[0]


def _descriptors(data):
    primary = joliet = None
    for index in range(FIRST_DESCRIPTOR, FIRST_DESCRIPTOR + MAX_DESCRIPTORS):
        start = index * SECTOR
        block = data[start:start + SECTOR]
        if len(block) < SECTOR or block[1:6] != b'CD001':
            raise NotIso('no ISO 9660 volume descriptor at sector %d' % index)
        kind = block[0]
        if kind == 255:
            break
        if kind == 1 and primary is None:
            primary = block
        elif kind == 2 and joliet is None and block[88:91] in JOLIET_ESCAPES:
            joliet = block
    if primary is None:
        raise NotIso('no primary volume descriptor')
    return primary, joliet


def _records(data, extent, size):
    """The directory records of a folder (bytes of each), '.' and '..' left out."""
    start = extent * SECTOR
    folder = data[start:start + size]
    if len(folder) < size:
        raise NotIso('a folder lies past the end of the image')
    out = []
    pos = 0
    while pos < len(folder) and len(out) < MAX_ENTRIES:
        length = folder[pos]
        if length == 0:
            pos = (pos // SECTOR + 1) * SECTOR   # records do not cross sectors: the rest is padding
            continue
        record = folder[pos:pos + length]
        if len(record) < 34 or 33 + record[32] > len(record):
            raise NotIso('a broken directory record')
        name = record[33:33 + record[32]]
        if name not in (b'\x00', b'\x01'):
            out.append(record)
        pos += length
    return out


def _rock_ridge_name(record):
    name_len = record[32]
    pos = 33 + name_len + (1 - name_len % 2)   # a pad byte follows an even-length name
    parts = []
    while pos + 4 <= len(record):
        sig, length = record[pos:pos + 2], record[pos + 2]
        if length < 4:
            break
        if sig == b'NM' and pos + 5 <= len(record):
            parts.append(record[pos + 5:pos + length])
        pos += length
    return b''.join(parts).decode('utf-8', 'replace') if parts else None


def _plain_name(raw):
    name = raw.decode('ascii', 'replace').split(';')[0]
    return (name[:-1] if name.endswith('.') else name).lower()


def _root_files(data, descriptor, joliet):
    root = descriptor[156:190]
    files = {}
    for record in _records(data, _u32(root, 2), _u32(root, 10)):
        if record[25] & 0x02:   # a folder
            continue
        raw = record[33:33 + record[32]]
        if joliet:
            name = raw.decode('utf-16-be', 'replace').split(';')[0]
        else:
            name = _rock_ridge_name(record) or _plain_name(raw)
        extent, size = _u32(record, 2), _u32(record, 10)
        content = data[extent * SECTOR:extent * SECTOR + size]
        if len(content) < size:
            raise NotIso('file %s lies past the end of the image' % name)
        files[name] = bytes(content)
    return files


def read_root(data):
    """(label, {file name: content}) of an ISO 9660 image given as bytes; NotIso when it
    is none."""
    primary, joliet = _descriptors(data)
    label = primary[40:72].decode('ascii', 'replace').strip()
    if joliet is not None:
        return label, _root_files(data, joliet, True)
    return label, _root_files(data, primary, False)
