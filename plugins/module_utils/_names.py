# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Validation of object names (pools, volumes, secrets, domains)."""

from __future__ import annotations

import re

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError


_CONTROL = re.compile('[\x00-\x1f\x7f]')


def _has_control(text):
    return _CONTROL.search(text) is not None


def check_name(kind, name):
    """Refuse names that libvirt would turn into paths outside their pool.

    libvirt itself refuses a ``/`` in a pool name but builds volume paths by joining the
    name to the pool's directory, so ``..`` and ``/`` are refused for every object, and so
    are control characters (they break XML and logs) and leading dashes (they read as
    options to the command-line tools that receive volume paths).
    """
    if name is None or name == '':
        raise KvmStorageError('%s name must not be empty' % kind)
    if '/' in name:
        raise KvmStorageError('%s name %r must not contain "/"' % (kind, name))
    if name in ('.', '..') or '..' in name:
        raise KvmStorageError('%s name %r must not contain ".."' % (kind, name))
    if _has_control(name):
        raise KvmStorageError('%s name %r must not contain control characters' % (kind, name))
    if name.startswith('-'):
        raise KvmStorageError('%s name %r must not start with "-"' % (kind, name))
    if len(name.encode('utf-8')) > 255:
        raise KvmStorageError('%s name must be at most 255 bytes long' % kind)
    return name


def is_target(name):
    """A guest disk target as libvirt names them (vda, sdb, hdc): lower-case letters and digits."""
    return bool(name) and name.isalnum() and name.islower()


def check_targets(label, targets):
    """The disks a block-job module is asked for, by target, in order and once each;
    None (every disk) when none are given."""
    if targets is None:
        return None
    found = []
    for target in targets:
        if not is_target(target):
            raise KvmStorageError('%s: disk %r must be a target name such as vda or sdb' % (label, target))
        if target not in found:
            found.append(target)
    if not found:
        raise KvmStorageError('%s: disks must name at least one disk (leave it out for every disk)' % label)
    return found
