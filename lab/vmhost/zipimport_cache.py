# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A bytecode cache for modules imported from zip files, for the nested VM hosts only.

Installed by lab/vmhost/build-lib.sh as kvmst_zipimport_cache.py with a .pth file that
imports it, in /usr/lib/python3/dist-packages (on sys.path for every Python of the image).

Why: Ansible runs each module as an AnsiballZ payload, a zip that Python imports with
zipimport, and zipimport never writes bytecode, so every module run compiles all of
module_utils again. Under TCG that compilation is about 1 s of a 3.5 s module run; the VM
host tiers make hundreds of module calls. This keeps the compiled code of each source text,
keyed by its sha256 with the interpreter's cache tag and optimisation level, in
/var/cache/kvmst-zipimport. The same source runs: only compile() is skipped, and the
compiled code is deterministic for a given source, interpreter and flags. Any problem with
the cache (unreadable, corrupt, full disk) falls back to compiling, as without it.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import zipimport

CACHE_DIR = '/var/cache/kvmst-zipimport'
_compile_source = getattr(zipimport, '_compile_source', None)


def _with_filename(code, filename):
    """CODE with co_filename set to FILENAME, in it and in every code object it holds (the
    payload's temporary path differs on each run and shows in tracebacks)."""
    consts = tuple(_with_filename(c, filename) if isinstance(c, type(code)) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _cached_compile_source(pathname, source):
    path = None
    try:
        key = hashlib.sha256(b'%s\0%d\0' % (sys.implementation.cache_tag.encode(), sys.flags.optimize))
        key.update(source)
        path = os.path.join(CACHE_DIR, key.hexdigest())
        with open(path, 'rb') as handle:
            return _with_filename(marshal.load(handle), pathname)
    except Exception:  # pylint: disable=broad-except
        pass
    code = _compile_source(pathname, source)
    if path is None:
        return code
    tmp = None
    try:
        os.makedirs(CACHE_DIR, mode=0o700, exist_ok=True)
        tmp = '%s.%d.tmp' % (path, os.getpid())
        with open(tmp, 'wb') as handle:
            marshal.dump(code, handle)
        os.replace(tmp, path)   # readers see a whole file or none
    except Exception:  # pylint: disable=broad-except
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return code


if _compile_source is not None:
    zipimport._compile_source = _cached_compile_source  # pylint: disable=protected-access
