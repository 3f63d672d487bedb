# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""qemu-img's error text as a table: (stderr, stdout) -> the one line the user reads."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._qemu_img import error_text

GFAPI = (
    '[2026-11-27 14:35:37.015375 +0000] I [io-stats.c:3701:ios_sample_buf_size_configure] 0-gv: Configure '
    'ios_sample_buf size is 1024 because ios_sample_interval is 0\n'
    '[2026-11-27 14:35:47.033933 +0000] E [MSGID: 114058] [client-handshake.c:1193:client_query_portmap_cbk] '
    '0-gv-client-0: failed to get the port number for remote subvolume. Please run gluster volume status on server '
    'to see if brick process is running []\n'
    "qemu-img: gluster://127.0.0.1/gv/b.qcow2: Gluster connection for volume gv, path b.qcow2 failed to connect\n"
    'hint: failed on host 127.0.0.1 and port 24007 Please refer to gluster logs for more info\n')

CASES = [
    # (id, stderr, stdout, expected)
    ('gfapi log lines dropped', GFAPI, '',
     'qemu-img: gluster://127.0.0.1/gv/b.qcow2: Gluster connection for volume gv, path b.qcow2 failed to connect '
     'hint: failed on host 127.0.0.1 and port 24007 Please refer to gluster logs for more info'),
    ('plain error kept', "qemu-img: /x.qcow2: Could not open '/x.qcow2': No such file or directory\n", '',
     "qemu-img: /x.qcow2: Could not open '/x.qcow2': No such file or directory"),
    ('stdout when stderr is empty', '', 'something\\nwent wrong\n', 'something\\nwent wrong'),
    ('only log lines: keep them rather than nothing', GFAPI.splitlines()[0], '', GFAPI.splitlines()[0]),
    ('nothing at all', '', '', ''),
]


@pytest.mark.parametrize('case_id, err, out, expected', CASES, ids=[c[0] for c in CASES])
def test_error_text(case_id, err, out, expected):
    assert error_text(err, out) == expected


CREATE_OPTIONS = [
    # (id, qcow2 options, preallocation, the -o value)
    ('qcow2 default', {'compat': None}, None, 'compat=1.1'),
    ('qcow2 everything', {'compat': '1.1', 'cluster_size': 1048576, 'lazy_refcounts': True}, 'full',
     'compat=1.1,cluster_size=1048576,lazy_refcounts=on,preallocation=full'),
    ('qcow2 v2', {'compat': '0.10', 'lazy_refcounts': False}, 'metadata', 'compat=0.10,preallocation=metadata'),
    ('raw falloc', {}, 'falloc', 'preallocation=falloc'),
    ('raw sparse', {}, 'sparse', ''),
]


@pytest.mark.parametrize('case_id, qcow2, prealloc, expected', CREATE_OPTIONS, ids=[c[0] for c in CREATE_OPTIONS])
def test_create_options(case_id, qcow2, prealloc, expected):
    from ansible_collections.kvm.storage.plugins.module_utils._qemu_img import create_options
    assert create_options(qcow2, prealloc) == expected


FLAKE = ('cannot create volume c.qcow2 of pool p: internal error: Child process (/usr/bin/qemu-img create ...) '
         'unexpected exit status 1: qemu-img: /p/c.qcow2: Unable to get accurate CPU usage')
OTHER = 'cannot create volume c.qcow2 of pool p: qemu-img: /p/c.qcow2: No space left on device'

RETRIES = [
    # (id, what each call does in turn: an error text or 'ok', calls made, the outcome)
    ('succeeds at once', ['ok'], 1, 'ok'),
    ('the flake twice, then made', [FLAKE, FLAKE, 'ok'], 3, 'ok'),
    ('another error is not repeated', [OTHER, 'ok'], 1, OTHER),
    ('the flake, then another error: that one is reported', [FLAKE, OTHER, 'ok'], 2, OTHER),
    ('the flake every time: reported after the last try', [FLAKE] * 30, 25, FLAKE),
]


@pytest.mark.parametrize('case_id, outcomes, calls, expected', RETRIES, ids=[c[0] for c in RETRIES])
def test_retry_pbkdf_flake(case_id, outcomes, calls, expected):
    from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
    from ansible_collections.kvm.storage.plugins.module_utils._qemu_img import retry_pbkdf_flake
    made = []

    def create(name):
        made.append(name)
        outcome = outcomes[len(made) - 1]
        if outcome != 'ok':
            raise KvmStorageError(outcome)
        return outcome

    try:
        result = retry_pbkdf_flake(create, 'c.qcow2')
    except KvmStorageError as exc:
        result = str(exc)
    assert (result, len(made), made[0]) == (expected, calls, 'c.qcow2')
