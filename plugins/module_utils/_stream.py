# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One libvirt stream transfer (a volume upload or download): run it, finish the stream,
and on any failure abort the stream so libvirt drops the job, then raise one clear error."""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError


def transfer(conn, start, move, failure):
    """``start(stream)`` opens the transfer (vol.upload/vol.download), ``move(stream)`` moves
    the data; ``failure`` begins the error message ("<label>: the upload ... failed")."""
    stream = conn.newStream(0)
    try:
        start(stream)
        move(stream)
        stream.finish()
    except Exception as exc:
        try:
            stream.abort()
        except Exception:  # the stream may be broken already; the first error is the one to report
            pass
        raise KvmStorageError('%s: %s' % (failure, ' '.join(str(exc).split())))
