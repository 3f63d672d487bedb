# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""zstd as a command runner (Python's standard library has no zstd before 3.14): argument
lists, LANG=C, no shell."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

ENV = {'LANG': 'C', 'LC_ALL': 'C'}


def decompress_args(source, out):
    """Stream-decompress ``source`` into the file ``out``; zeros become holes (--sparse)."""
    return ['-d', '-q', '-f', '--sparse', '-o', out, '--', source]


def run(module, args, doing):
    binary = module.get_bin_path('zstd')
    if binary is None:
        raise KvmStorageError('cannot %s: the zstd tool is not installed on this host (Debian and RHEL: install the '
                              'package zstd)' % doing)
    rc, out, err = module.run_command([binary] + list(args), environ_update=ENV)
    if rc != 0:
        raise KvmStorageError('cannot %s: zstd: %s' % (doing, ' '.join((err or out or 'exit code %d' % rc).split())))
    return out
