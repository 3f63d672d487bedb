# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Packaging tier: the release artifact as users get it, and the docs' example files.

The artifact is built from a clean copy of the git tree by tools/collection.py (the same
code `make package` runs), installed with ansible-galaxy into a temporary folder, and used
from there only.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _load_tool():
    spec = importlib.util.spec_from_file_location('kvmst_collection_tool', os.path.join(REPO, 'tools', 'collection.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def tool():
    return _load_tool()


def repo_modules():
    return sorted(f[:-3] for f in os.listdir(os.path.join(REPO, 'plugins', 'modules'))
                  if f.endswith('.py') and not f.startswith('_'))


def repo_roles():
    roles = os.path.join(REPO, 'roles')
    if not os.path.isdir(roles):
        return []
    return sorted(r for r in os.listdir(roles) if os.path.isfile(os.path.join(roles, r, 'meta', 'argument_specs.yml')))
