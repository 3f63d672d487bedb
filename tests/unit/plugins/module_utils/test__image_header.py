# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image headers as tables: the bytes qemu probes -> format, backing file, backing format."""

from __future__ import annotations

import struct

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _image_header as h


def qcow2(version=3, backing=None, backing_format=None, crypt=0, header_length=104, name_at=None):
    """A qcow2 header as qemu-img writes it: fixed fields, extensions, then the backing name."""
    exts = b''
    if backing_format:
        data = backing_format.encode()
        exts += struct.pack('>II', h.EXT_BACKING_FORMAT, len(data)) + data + b'\0' * ((8 - len(data) % 8) % 8)
    exts += struct.pack('>II', h.EXT_END, 0)
    start = header_length if version >= 3 else 72
    name = (backing or '').encode()
    offset = name_at if name_at is not None else start + len(exts)
    fixed = QFI = h.QCOW_MAGIC + struct.pack('>IQI', version, offset if name else 0, len(name))
    fixed += struct.pack('>IQI', 16, 1 << 20, crypt)
    fixed = fixed.ljust(100, b'\0') + struct.pack('>I', header_length) if version >= 3 else fixed.ljust(72, b'\0')
    del QFI
    body = fixed.ljust(start, b'\0') + exts
    return body.ljust(offset, b'\0') + name if name else body


PARSE_CASES = [
    ('raw zeros', b'\0' * 512, {'format': 'raw', 'backing': None}),
    ('empty file', b'', {'format': 'raw'}),
    ('qcow2 v3 alone', qcow2(), {'format': 'qcow2', 'backing': None, 'encrypted': False}),
    ('qcow2 v3 overlay', qcow2(backing='base.qcow2', backing_format='qcow2'),
     {'format': 'qcow2', 'backing': 'base.qcow2', 'backing_format': 'qcow2'}),
    ('qcow2 v2 overlay, absolute', qcow2(version=2, backing='/srv/t.qcow2', backing_format='raw'),
     {'format': 'qcow2', 'backing': '/srv/t.qcow2', 'backing_format': 'raw'}),
    ('overlay without a format extension', qcow2(backing='/dev/vg/thin1'),
     {'backing': '/dev/vg/thin1', 'backing_format': None}),
    ('LUKS inside qcow2', qcow2(crypt=2), {'format': 'qcow2', 'encrypted': True}),
    ('gluster backing', qcow2(backing='gluster://h/gv0/t.qcow2'), {'backing': 'gluster://h/gv0/t.qcow2'}),
    ('name past the first read', qcow2(backing='far.qcow2', name_at=8192)[:4096], {'need': 8192 + 9}),
    ('qcow v1', h.QCOW_MAGIC + struct.pack('>I', 1) + b'\0' * 100, {'format': 'qcow'}),
    ('luks', h.LUKS_MAGIC + b'\0\x01' + b'\0' * 500, {'format': 'luks', 'encrypted': True}),
    ('qed', b'QED\0' + b'\0' * 100, {'format': 'qed'}),
    ('vmdk sparse', b'KDMV' + b'\0' * 100, {'format': 'vmdk'}),
    ('vmdk descriptor', b'# Disk DescriptorFile\nversion=1\n', {'format': 'vmdk'}),
    ('vhdx', b'vhdxfile' + b'\0' * 100, {'format': 'vhdx'}),
    ('vpc', b'conectix' + b'\0' * 100, {'format': 'vpc'}),
    ('vdi', b'<<< Oracle VM VirtualBox Disk Image >>>\n'.ljust(0x40, b'\0') + struct.pack('<I', 0xbeda107f),
     {'format': 'vdi'}),
    ('a short qcow2 magic is raw', h.QCOW_MAGIC + b'\0' * 8, {'format': 'raw'}),
]


@pytest.mark.parametrize('case_id, data, expected', PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_parse(case_id, data, expected):
    out = h.parse(data)
    assert dict((k, out[k]) for k in expected) == expected


RESOLVE_CASES = [
    ('/srv/a/o.qcow2', 'base.qcow2', '/srv/a/base.qcow2'),
    ('/srv/a/o.qcow2', '../t/base.qcow2', '/srv/a/../t/base.qcow2'),
    ('/srv/a/o.qcow2', '/abs/base.qcow2', '/abs/base.qcow2'),
    ('/srv/a/o.qcow2', 'gluster://h/gv/b', 'gluster://h/gv/b'),
    ('/srv/a/o.qcow2', 'json:{"file": {}}', 'json:{"file": {}}'),
    ('/srv/a/o.qcow2', None, None),
]


@pytest.mark.parametrize('image, backing, expected', RESOLVE_CASES)
def test_resolve_backing(image, backing, expected):
    assert h.resolve_backing(image, backing) == expected


def test_read_and_chain(tmp_path):
    (tmp_path / 'base.raw').write_bytes(b'\0' * 4096)
    (tmp_path / 'mid.qcow2').write_bytes(qcow2(backing='base.raw', backing_format='raw'))
    (tmp_path / 'top.qcow2').write_bytes(qcow2(backing=str(tmp_path / 'mid.qcow2')))
    (tmp_path / 'far.qcow2').write_bytes(qcow2(backing='top.qcow2', name_at=9000))
    assert h.read(str(tmp_path / 'far.qcow2'))['backing'] == 'top.qcow2'
    assert [p for p, _hdr in h.chain(str(tmp_path / 'far.qcow2'))] == [
        str(tmp_path / n) for n in ('far.qcow2', 'top.qcow2', 'mid.qcow2', 'base.raw')]
    assert h.read(str(tmp_path / 'missing')) is None
    # a missing backing file ends the chain with its name, header unread
    (tmp_path / 'orphan.qcow2').write_bytes(qcow2(backing='gone.qcow2'))
    assert h.chain(str(tmp_path / 'orphan.qcow2'))[-1] == (str(tmp_path / 'gone.qcow2'), None)
    # a loop (a -> b -> a) ends
    (tmp_path / 'a.qcow2').write_bytes(qcow2(backing='b.qcow2'))
    (tmp_path / 'b.qcow2').write_bytes(qcow2(backing='a.qcow2'))
    assert len(h.chain(str(tmp_path / 'a.qcow2'))) == 2
