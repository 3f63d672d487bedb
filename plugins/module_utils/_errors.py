# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one exception of the collection.

Planners and adapters raise it; the runner turns it into ``fail_json`` with the message
(one sentence naming the object, what failed and what to do) and the details (libvirt's
error code, domain and message when there is one). It imports nothing but the standard
library so the pure planning layer can raise it.
"""

from __future__ import annotations


class KvmStorageError(Exception):
    def __init__(self, msg, **details):
        super(KvmStorageError, self).__init__(msg)
        self.msg = msg
        self.details = details


class ConflictError(KvmStorageError):
    """The existing object differs from the request in a way the module will not fix."""
