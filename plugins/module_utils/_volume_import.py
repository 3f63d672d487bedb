# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Importing an image into a volume: fetch (file or URL, on the managed host), verify the
checksum (of the file as downloaded), unpack gz/xz/bz2 (Python, streamed) or zstd (the zstd
tool), read the format from the image's header with qemu-img, convert it into the volume's
format (qemu-img convert, sparse), and upload through libvirt's stream with holes kept as
holes. Every temporary file lives in one work folder that the caller removes on every path."""

from __future__ import annotations

import bz2
import errno
import gzip
import hashlib
import lzma
import os
import shutil
import tempfile

from ansible_collections.kvm.storage.plugins.module_utils import _qemu_img
from ansible_collections.kvm.storage.plugins.module_utils import _stream
from ansible_collections.kvm.storage.plugins.module_utils import _zstd
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

CHUNK = 1024 * 1024
ALGORITHMS = ('sha256', 'sha512')
# What a compressed source starts with, and the names such files usually end with.
COMPRESSIONS = (('gzip', (b'\x1f\x8b',)), ('xz', (b'\xfd7zXZ\x00',)), ('zstd', (b'\x28\xb5\x2f\xfd',)),
                ('bzip2', tuple(b'BZh' + str(level).encode() for level in range(1, 10))))
COMPRESSED_SUFFIXES = ('.gz', '.xz', '.bz2', '.zst')
# Source formats qemu-img converts from (what its header probe names them).
SOURCE_FORMATS = ('raw', 'qcow2', 'vmdk', 'vhdx', 'vdi', 'vpc')


def is_url(source):
    return source.startswith('http://') or source.startswith('https://')


def parse_checksum(checksum, label):
    """``sha256:<hex>`` -> (algorithm, hex)."""
    if checksum is None:
        return None
    if ':' not in checksum:
        raise KvmStorageError('%s: checksum must look like sha256:<hex> or sha512:<hex>' % label)
    algorithm, digest = checksum.split(':', 1)
    algorithm = algorithm.strip().lower()
    digest = digest.strip().lower()
    if algorithm not in ALGORITHMS:
        raise KvmStorageError('%s: checksum algorithm %s is not supported; use sha256 or sha512' % (label, algorithm))
    size = hashlib.new(algorithm).digest_size * 2
    if len(digest) != size or any(c not in '0123456789abcdef' for c in digest):
        raise KvmStorageError('%s: the %s checksum must be %d hex digits' % (label, algorithm, size))
    return algorithm, digest


def _copy(reader, writer, hasher=None):
    total = 0
    while True:
        chunk = reader.read(CHUNK)
        if not chunk:
            return total
        if hasher is not None:
            hasher.update(chunk)
        _write_sparse(writer, chunk)
        total += len(chunk)


HOLE_BLOCK = 64 * 1024


def _write_sparse(writer, chunk):
    # All-zero blocks become holes: an image with empty space stays sparse on the host.
    view = memoryview(chunk)
    for start in range(0, len(chunk), HOLE_BLOCK):
        block = view[start:start + HOLE_BLOCK]
        if block.tobytes().count(0) == len(block):
            writer.seek(len(block), os.SEEK_CUR)
        else:
            writer.write(block)


def _finish_sparse(writer):
    writer.truncate(writer.tell())


def fetch(module, source, workdir, checksum, label):
    """A local, uncompressed file with the source's content; the checksum (of the source
    as given, compressed or not) is verified before anything is created."""
    want = parse_checksum(checksum, label)
    hasher = hashlib.new(want[0]) if want else None
    if is_url(source):
        from ansible.module_utils.urls import open_url  # only when a URL is imported
        raw = os.path.join(workdir, 'download')
        try:
            response = open_url(source, timeout=60, http_agent='kvm.storage')
        except Exception as exc:
            raise KvmStorageError('%s: cannot download %s: %s' % (label, source, exc))
        try:
            with open(raw, 'wb') as out:
                _copy(response, out, hasher)
                _finish_sparse(out)
            length = response.headers.get('Content-Length') if hasattr(response, 'headers') else None
        except Exception as exc:
            raise KvmStorageError('%s: the download of %s broke off: %s' % (label, source, exc))
        if length is not None and str(os.path.getsize(raw)) != str(length).strip():
            raise KvmStorageError('%s: the download of %s broke off after %d of %s bytes'
                                  % (label, source, os.path.getsize(raw), length))
    else:
        raw = source
        if not os.path.isfile(raw):
            raise KvmStorageError('%s: import_from %s is not a file on this host' % (label, source))
        if hasher is not None:
            with open(raw, 'rb') as f:
                for chunk in iter(lambda: f.read(CHUNK), b''):
                    hasher.update(chunk)
    if want and hasher.hexdigest() != want[1]:
        raise KvmStorageError('%s: the %s checksum of %s is %s, not %s as expected; nothing was imported'
                              % (label, want[0], source, hasher.hexdigest(), want[1]))
    return _unpack(module, raw, workdir, label, source)


def compression_of(magic):
    """'gzip', 'xz', 'bzip2', 'zstd' or None for the first bytes of a file."""
    for name, magics in COMPRESSIONS:
        if any(magic.startswith(m) for m in magics):
            return name
    return None


def is_compressed(path):
    """Whether a local file is compressed (unpacked on import)."""
    with open(path, 'rb') as f:
        return compression_of(f.read(6)) is not None


def named_compressed(source):
    """Whether a URL's name says it is compressed (only for what a run cannot read without
    downloading; the import itself goes by the file's first bytes)."""
    return source.split('?')[0].endswith(COMPRESSED_SUFFIXES)


def file_digest(path, algorithm):
    """Hex digest of a file's content (sha256 or sha512)."""
    hasher = hashlib.new(algorithm)
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(CHUNK), b''):
            hasher.update(chunk)
    return hasher.hexdigest()


OPENERS = {'gzip': gzip.open, 'xz': lzma.open, 'bzip2': bz2.open}


def _unpack(module, path, workdir, label, source):
    with open(path, 'rb') as f:
        kind = compression_of(f.read(6))
    if kind is None:
        return path
    out_path = os.path.join(workdir, 'unpacked')
    if kind == 'zstd':
        _zstd.run(module, _zstd.decompress_args(path, out_path), 'unpack %s for %s' % (source, label))
        return out_path
    try:
        with OPENERS[kind](path, 'rb') as reader, open(out_path, 'wb') as writer:
            _copy(reader, writer)
            _finish_sparse(writer)
    except (OSError, EOFError, ValueError, lzma.LZMAError) as exc:
        raise KvmStorageError('%s: cannot unpack %s (%s): %s' % (label, source, kind, exc))
    return out_path


def inspect(module, path, label, source=None):
    """qemu-img's view of a local image, probed from its header: (format, virtual size).
    An image that would make qemu open other files is refused: a backing file, a qcow2
    external data file, a vmdk whose descriptor names extents in other files."""
    info = _qemu_img.info(module, path, 'read the image to import into %s' % label)
    if info.get('backing-filename'):
        raise KvmStorageError('%s: the image to import has a backing file (%s); import a flattened image'
                              % (label, info['backing-filename']))
    fmt = info.get('format')
    data = (info.get('format-specific') or {}).get('data') or {}
    if data.get('data-file'):
        raise KvmStorageError('%s: the image to import keeps its data in another file (%s); import a self-contained '
                              'image' % (label, data['data-file']))
    others = [e.get('filename') for e in data.get('extents') or [] if e.get('filename') not in (None, path)]
    if fmt == 'vmdk' and others:
        raise KvmStorageError('%s: the vmdk image to import is a descriptor that names other files (%s); import a '
                              'monolithic (single-file) vmdk' % (label, ', '.join(others)))
    if fmt not in SOURCE_FORMATS:
        raise KvmStorageError('%s: %s is a %s image by its header; import takes %s images'
                              % (label, source or path, fmt, ', '.join(SOURCE_FORMATS)))
    return fmt, int(info.get('virtual-size'))


def convert(module, path, fmt, target, workdir, label, qcow2=None, compress=False):
    """A copy of the image in format ``target`` (qemu-img convert: zeros stay holes), its
    source format given explicitly (never probed again); ``compress`` writes compressed
    qcow2 clusters, ``qcow2`` holds the creation options of a qcow2 target."""
    out = os.path.join(workdir, 'converted.' + target)
    args = ['convert', '-f', fmt, '-O', target]
    if compress:
        args.append('-c')
    options = _qemu_img.create_options(qcow2 or ({'compat': '1.1'} if target == 'qcow2' else {}))
    if options:
        args += ['-o', options]
    _qemu_img.run(module, args + [path, out], 'convert the %s image to import into %s to %s%s'
                  % (fmt, label, target, ' (compressed)' if compress else ''))
    return out


def workdir(module):
    return tempfile.mkdtemp(prefix='kvm-storage-import-', dir=getattr(module, 'tmpdir', None))


def cleanup(path):
    shutil.rmtree(path, ignore_errors=True)


def upload(conn, vol, path, libvirt, label):
    """Send the file into the volume, holes as holes (libvirt's sparse stream)."""
    size = os.path.getsize(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        _stream.transfer(conn, lambda stream: vol.upload(stream, 0, size, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM),
                         lambda stream: stream.sparseSendAll(_read, _hole, _skip, fd),
                         '%s: the upload into the volume failed' % label)
    finally:
        os.close(fd)


def _read(_stream, nbytes, fd):
    return os.read(fd, nbytes)


def _skip(_stream, length, fd):
    return os.lseek(fd, length, os.SEEK_CUR)


def _hole(_stream, fd):
    """(in_data, length) of the section at the current offset, as sparseSendAll wants."""
    cur = os.lseek(fd, 0, os.SEEK_CUR)
    end = os.fstat(fd).st_size
    try:
        data = os.lseek(fd, cur, os.SEEK_DATA)
    except OSError as exc:
        if exc.errno != errno.ENXIO:
            raise
        data = -1
    if data < 0:
        result = [False, end - cur]
    elif data > cur:
        result = [False, data - cur]
    else:
        hole = os.lseek(fd, cur, os.SEEK_HOLE)
        result = [True, hole - cur]
    os.lseek(fd, cur, os.SEEK_SET)
    return result
