# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""disk_info's RETURN documents every key a disk entry can carry, and no other
(tests/integration/examples_story.py compares real results with RETURN for every module)."""

from __future__ import annotations

import ast
import os

import yaml

from ansible_collections.kvm.storage.plugins.module_utils import _disk_module

MODULE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'modules', 'disk_info.py')


def _return_docs():
    tree = ast.parse(open(MODULE).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == 'RETURN':
            return yaml.safe_load(node.value.value)
    raise AssertionError('disk_info.py has no RETURN')


def test_every_disk_key_is_documented_and_nothing_else():
    documented = set(_return_docs()['disks']['contains'])
    assert documented == set(_disk_module.INFO_KEYS)
