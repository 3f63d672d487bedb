# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a role writes down a module's options in YAML, the list is the module's own
(the argument spec in module_utils): a new option reaches the roles, or this fails."""

from __future__ import annotations

import os

import yaml

from ansible_collections.kvm.storage.plugins.module_utils import _disk
from ansible_collections.kvm.storage.plugins.module_utils import _lvm_thin

ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'roles')


def _yaml(*parts):
    with open(os.path.join(ROLES, *parts), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _shape(options):
    """Names, types, required, defaults and choices of an option list, nested."""
    out = {}
    for name, spec in options.items():
        out[name] = (spec.get('type', 'str'), bool(spec.get('required')), spec.get('default'),
                     tuple(sorted(spec.get('choices') or ())), _shape(spec.get('options') or {}))
    return out


def test_guest_disks_takes_every_disk_option():
    listed = _yaml('guest_disks', 'vars', 'main.yml')['__guest_disks_options']
    assert len(listed) == len(set(listed))
    # domain is the key of guest_disks_guests, uri is guest_disks_uri
    assert sorted(listed) == sorted(set(_disk.argument_spec()) - set(['domain']))


def test_host_profile_autoextend_is_lvm_thin_pools():
    role = _yaml('host_profile', 'meta', 'argument_specs.yml')['argument_specs']['main']['options']
    assert _shape(role['host_profile_lvm_thin_autoextend']['options']) == \
        _shape(_lvm_thin.pool_argument_spec()['autoextend']['options'])
