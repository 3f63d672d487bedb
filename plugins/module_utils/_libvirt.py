# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The libvirt adapter core: the one connection, look-ups and the one error mapper."""

from __future__ import annotations

import os

from ansible.module_utils.six.moves.urllib.parse import urlparse, parse_qs

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

try:
    import libvirt
    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module through missing_required_lib
    libvirt = None
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR = exc

DEFAULT_URI = 'qemu:///system'

# Error codes by name, resolved lazily so this module imports without libvirt.
NOT_FOUND_CODES = ('VIR_ERR_NO_STORAGE_POOL', 'VIR_ERR_NO_STORAGE_VOL', 'VIR_ERR_NO_DOMAIN',
                   'VIR_ERR_NO_SECRET', 'VIR_ERR_NO_NETWORK')


def code_of(name):
    return getattr(libvirt, name, None) if libvirt else None


def flag(name, default=0):
    """A libvirt flag by name; ``default`` when these bindings predate it."""
    return getattr(libvirt, name, default) if libvirt else default


def error_details(exc):
    """libvirt's code, domain and message of a libvirtError, for the result."""
    if libvirt is None or not isinstance(exc, libvirt.libvirtError):
        return {'message': str(exc)}
    return {
        'code': exc.get_error_code(),
        'domain': exc.get_error_domain(),
        'message': exc.get_error_message() or str(exc),
    }


def is_error(exc, *names):
    if libvirt is None or not isinstance(exc, libvirt.libvirtError):
        return False
    code = exc.get_error_code()
    return any(code == code_of(n) for n in names)


def is_not_found(exc):
    return is_error(exc, *NOT_FOUND_CODES)


def each_present(items, read):
    """``[read(item) for item in items]`` without the objects another client removed between
    the listing and the read (libvirt answers "not found" for those): a listing that races
    with a delete describes what is there, it does not fail."""
    out = []
    for item in items:
        try:
            out.append(read(item))
        except KvmStorageError as err:
            code = (err.details.get('libvirt_error') or {}).get('code')
            if code is None or code not in [code_of(n) for n in NOT_FOUND_CODES]:
                raise
        except Exception as exc:  # libvirt.libvirtError; libvirt may be absent at import
            if not is_not_found(exc):
                raise
    return out


def is_connection_lost(exc):
    if libvirt is None or not isinstance(exc, libvirt.libvirtError):
        return False
    return exc.get_error_domain() == code_of('VIR_FROM_RPC') or is_error(exc, 'VIR_ERR_NO_CONNECT', 'VIR_ERR_INVALID_CONN')


def appeared_meanwhile(exc):
    """libvirt refused to create what the module had just seen missing: another run (or
    user) made it between the module's read and its write."""
    if is_error(exc, 'VIR_ERR_STORAGE_VOL_EXIST'):
        return True
    # A guest's disk target taken meanwhile comes as a generic "operation invalid" (live, or
    # a persistent-only attach) or, when the live attach won and the persistent one lost,
    # as an XML error about the target being duplicated. A pool defined meanwhile under the
    # same name: "operation failed: pool 'x' already exists with uuid ...". A secret defined
    # meanwhile for the same usage (the reader saw none, so the plan chose a new UUID):
    # "internal error: a secret with UUID ... already defined for use with ...".
    message = error_details(exc)['message'] or ''
    return (is_error(exc, 'VIR_ERR_OPERATION_INVALID') and 'already exists' in message
            or is_error(exc, 'VIR_ERR_XML_ERROR') and ' duplicated for disk sources ' in message
            or is_error(exc, 'VIR_ERR_OPERATION_FAILED') and ' already exists with uuid ' in message
            or is_error(exc, 'VIR_ERR_INTERNAL_ERROR') and ' already defined for use with ' in message)


def translate(exc, doing):
    """Turn a libvirtError into the collection's error: ``cannot <doing>: <libvirt's words>``."""
    details = error_details(exc)
    # libvirt messages may carry a child process's output: keep one line.
    message = ' '.join((details.get('message') or str(exc)).split())
    hint = ''
    if is_connection_lost(exc):
        hint = ' (the connection to libvirt was lost; re-run when libvirtd answers again)'
    elif is_error(exc, 'VIR_ERR_OPERATION_INVALID') and 'still being allocated' in message:
        # A volume another run is creating right now (libvirt holds it while it allocates).
        hint = ' (another run is creating it at the same time; re-run once that run is done)'
    elif is_error(exc, 'VIR_ERR_OPERATION_INVALID') and "storage pool '" in message \
            and ('is not active' in message or 'is already active' in message):
        # Every planner refuses a pool that is not running before anything is written, so a
        # pool found stopped while the plan is applied was being started (or stopped) by
        # another run: libvirt calls a pool active only once its start has finished. The
        # reverse: the pool planner builds and starts only a pool it read stopped, so one
        # found running at the build or the start was started by another run meanwhile.
        hint = ' (another run is starting or stopping the pool at the same time; re-run once that run is done)'
    elif appeared_meanwhile(exc):
        hint = (' (it appeared after this run looked: another run changed the same object at the same time; '
                're-run to compare it with the request)')
    return KvmStorageError('cannot %s: %s%s' % (doing, message.rstrip('.'), hint), libvirt_error=details)


def check_uri(uri, allow_insecure=False):
    """Refuse URIs that turn off transport security unless the user opted in."""
    if any(ord(c) < 32 or ord(c) == 127 for c in uri):
        # libvirt-python raises ValueError on a NUL (not a libvirtError); no URI has one.
        raise KvmStorageError('refusing libvirt URI %r: it contains control characters; write the URI without them'
                              % uri)
    parsed = urlparse(uri)
    scheme = parsed.scheme or ''
    transport = scheme.split('+', 1)[1] if '+' in scheme else ''
    problems = []
    if transport == 'tcp':
        problems.append('the plain "+tcp" transport sends everything unencrypted')
    query = parse_qs(parsed.query)
    if any(v in ('1', 'yes', 'true') for v in query.get('no_verify', [])):
        problems.append('"no_verify=1" turns off certificate checks')
    if problems and not allow_insecure:
        raise KvmStorageError('refusing libvirt URI %s: %s; use a secure transport or set allow_insecure: true'
                              % (uri, '; '.join(problems)))
    return uri


def _quiet_error_handler(_ctx, _err):
    # libvirt prints every error to stderr unless a handler is set; the module reports
    # errors itself, once, in its result.
    return None


def resolve_uri(uri):
    return uri or os.environ.get('LIBVIRT_DEFAULT_URI') or DEFAULT_URI


def connect(uri):
    """Open the one connection a module run uses."""
    libvirt.registerErrorHandler(_quiet_error_handler, None)
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        details = error_details(exc)
        raise KvmStorageError('cannot connect to libvirt at %s: %s; check that libvirtd (or virtqemud) runs '
                              'there and that this user may use it' % (uri, ' '.join(details['message'].split()).rstrip('.')),
                              libvirt_error=details)
    if conn is None:  # pragma: no cover - old bindings returned None instead of raising
        raise KvmStorageError('cannot connect to libvirt at %s' % uri)
    return conn


def is_local(conn):
    """Whether ``conn`` talks to this machine's daemon (a URI without a host), so that the
    paths libvirt names are this machine's files and may be probed here."""
    try:
        uri = conn.getURI()
    except Exception:  # a connection that cannot say its URI is not known to be local
        return False
    return '://' in uri and uri.split('://', 1)[1].startswith('/')


def lookup_pool(conn, name):
    """The pool called ``name``, or None when there is none."""
    try:
        return conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as exc:
        if is_not_found(exc):
            return None
        raise translate(exc, 'look up pool %s' % name)


def lookup_volume(conn, pool_name, name, label, missing_ok=False):
    """The volume ``name`` of pool ``pool_name``; a missing pool or volume is an error, or
    with ``missing_ok`` None."""
    pool = lookup_pool(conn, pool_name)
    if pool is None and missing_ok:
        return None
    if pool is None:
        raise KvmStorageError('%s: pool %s does not exist' % (label, pool_name))
    try:
        return pool.storageVolLookupByName(name)
    except libvirt.libvirtError as exc:
        if is_not_found(exc) and missing_ok:
            return None
        if is_not_found(exc):
            raise KvmStorageError('%s: volume %s of pool %s does not exist' % (label, name, pool_name))
        raise translate(exc, 'look up volume %s of pool %s' % (name, pool_name))


def call(doing, func, *args):
    """Run one libvirt call; its error becomes ``cannot <doing>: ...``."""
    try:
        return func(*args)
    except libvirt.libvirtError as exc:
        raise translate(exc, doing)
