# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the collection: may change without notice.

from __future__ import annotations


class ModuleDocFragment(object):

    # The volume whose internal snapshots volume_snapshot and volume_snapshot_info handle.
    DOCUMENTATION = r"""
options:
  pool:
    description: The pool holding the volume.
    type: str
    required: true
  volume:
    description: The qcow2 volume.
    type: str
    required: true
"""
