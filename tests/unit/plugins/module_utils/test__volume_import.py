# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""import_from as tables: which compression a source has (by its first bytes), what qemu-img's
header probe allows, and the command lines of the tools."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _volume_import, _zstd
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

MAGICS = [
    ('gzip', gzip.compress(b'x' * 100)[:6], 'gzip'),
    ('xz', lzma.compress(b'x' * 100)[:6], 'xz'),
    ('bzip2', bz2.compress(b'x' * 100)[:6], 'bzip2'),
    ('zstd', b'\x28\xb5\x2f\xfd\x04\x58', 'zstd'),
    ('qcow2', b'QFI\xfb\x00\x00', None),
    ('raw zeros', b'\x00' * 6, None),
    ('BZ but no level', b'BZh0ab', None),
    ('empty', b'', None),
]


@pytest.mark.parametrize('case_id, magic, expected', MAGICS, ids=[c[0] for c in MAGICS])
def test_compression_of(case_id, magic, expected):
    assert _volume_import.compression_of(magic) == expected


@pytest.mark.parametrize('source, expected', [
    ('https://h/a.qcow2.zst', True), ('https://h/a.raw.bz2?x=1', True), ('https://h/a.img.gz', True),
    ('https://h/a.xz', True), ('https://h/a.vmdk', False), ('https://h/zst', False)])
def test_named_compressed(source, expected):
    assert _volume_import.named_compressed(source) is expected


class _Module(object):
    """run_command answers with one qemu-img info document."""

    def __init__(self, info=None, binary='/usr/bin/zstd'):
        self.info = info
        self.binary = binary
        self.calls = []

    def run_command(self, args, environ_update=None):
        self.calls.append(args)
        return 0, json.dumps(self.info), ''

    def get_bin_path(self, name):
        return self.binary


INSPECT = [
    # (id, qemu-img info, (format, size) or the refusal)
    ('vmdk, monolithic', {'format': 'vmdk', 'virtual-size': 1024, 'format-specific': {'type': 'vmdk', 'data': {
        'extents': [{'filename': '/w/unpacked', 'format': 'SPARSE'}]}}}, ('vmdk', 1024)),
    ('vmdk descriptor naming other files', {'format': 'vmdk', 'virtual-size': 1024, 'format-specific': {
        'type': 'vmdk', 'data': {'extents': [{'filename': '/etc/shadow', 'format': 'FLAT'}]}}},
     'the vmdk image to import is a descriptor that names other files (/etc/shadow)'),
    ('qcow2 with a data file', {'format': 'qcow2', 'virtual-size': 1024, 'format-specific': {
        'type': 'qcow2', 'data': {'data-file': '/dev/sda'}}}, 'keeps its data in another file (/dev/sda)'),
    ('backing file', {'format': 'qcow2', 'virtual-size': 1024, 'backing-filename': 'base.qcow2'},
     'has a backing file (base.qcow2)'),
    ('vpc', {'format': 'vpc', 'virtual-size': 2048}, ('vpc', 2048)),
    ('luks is no import format', {'format': 'luks', 'virtual-size': 2048},
     'volume v of pool p: https://h/x is a luks image by its header; import takes raw, qcow2, vmdk, vhdx, vdi, vpc'),
]


@pytest.mark.parametrize('case_id, info, expected', INSPECT, ids=[c[0] for c in INSPECT])
def test_inspect(case_id, info, expected):
    module = _Module(info)
    if isinstance(expected, str):
        with pytest.raises(KvmStorageError) as exc:
            _volume_import.inspect(module, '/w/unpacked', 'volume v of pool p', 'https://h/x')
        assert expected in exc.value.msg
    else:
        assert _volume_import.inspect(module, '/w/unpacked', 'volume v of pool p', 'https://h/x') == expected
    assert module.calls[0][:4] == ['qemu-img', 'info', '--output=json', '-U']


CONVERT = [
    # (id, source format, target, qcow2 options, compress, the qemu-img arguments after "convert")
    ('vmdk to qcow2', 'vmdk', 'qcow2', None, False, ['-f', 'vmdk', '-O', 'qcow2', '-o', 'compat=1.1']),
    ('vhdx to raw', 'vhdx', 'raw', None, False, ['-f', 'vhdx', '-O', 'raw']),
    ('compressed', 'raw', 'qcow2', None, True, ['-f', 'raw', '-O', 'qcow2', '-c', '-o', 'compat=1.1']),
    ('with options', 'qcow2', 'qcow2', {'compat': None, 'cluster_size': 2097152, 'lazy_refcounts': True}, False,
     ['-f', 'qcow2', '-O', 'qcow2', '-o', 'compat=1.1,cluster_size=2097152,lazy_refcounts=on']),
]


@pytest.mark.parametrize('case_id, fmt, target, qcow2, compress, args', CONVERT, ids=[c[0] for c in CONVERT])
def test_convert_args(case_id, fmt, target, qcow2, compress, args):
    module = _Module()
    out = _volume_import.convert(module, '/w/unpacked', fmt, target, '/w', 'volume v of pool p', qcow2, compress)
    assert out == '/w/converted.' + target
    assert module.calls == [['qemu-img', 'convert'] + args + ['/w/unpacked', out]]


def test_zstd_args_and_missing_tool():
    assert _zstd.decompress_args('/w/download', '/w/unpacked') == \
        ['-d', '-q', '-f', '--sparse', '-o', '/w/unpacked', '--', '/w/download']
    with pytest.raises(KvmStorageError) as exc:
        _zstd.run(_Module(binary=None), ['-d'], 'unpack x for volume v of pool p')
    assert exc.value.msg == ('cannot unpack x for volume v of pool p: the zstd tool is not installed on this host '
                             '(Debian and RHEL: install the package zstd)')


@pytest.mark.parametrize('kind, pack', [('gzip', gzip.compress), ('xz', lzma.compress), ('bzip2', bz2.compress)])
def test_unpack_streams_and_keeps_holes(tmp_path, kind, pack):
    data = b'head' + b'\0' * (256 * 1024) + b'tail'
    src = tmp_path / 'src'
    src.write_bytes(pack(data))
    out = _volume_import._unpack(_Module(), str(src), str(tmp_path), 'volume v of pool p', 'the source')
    with open(out, 'rb') as f:
        assert f.read() == data


def test_unpack_broken_bzip2(tmp_path):
    src = tmp_path / 'src'
    src.write_bytes(bz2.compress(b'x' * 4096)[:20])
    with pytest.raises(KvmStorageError) as exc:
        _volume_import._unpack(_Module(), str(src), str(tmp_path), 'volume v of pool p', 'https://h/a.raw.bz2')
    assert exc.value.msg.startswith('volume v of pool p: cannot unpack https://h/a.raw.bz2 (bzip2): ')
