# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make ``ansible_collections.kvm.storage`` importable from this checkout.

Ansible finds collections only under a folder named ``ansible_collections/<ns>/<name>``;
a symlink in the ignored ``.cache`` folder gives the checkout that name without copying
it (ansible-test sanity needs a real copy and makes its own: tests/sanity/run.sh).
pytest-ansible (``--ansible-unit-inject-only`` in pytest.ini) puts that folder on the
import path and in Ansible's collection finder once this file has named it in
ANSIBLE_COLLECTIONS_PATH: conftest files load before plugins are configured.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.cache', 'collections')


def _ensure_link():
    parent = os.path.join(COLLECTIONS, 'ansible_collections', 'kvm')
    link = os.path.join(parent, 'storage')
    os.makedirs(parent, exist_ok=True)
    if not os.path.islink(link):
        os.symlink(REPO, link)
    return COLLECTIONS


_ensure_link()
os.environ.setdefault('ANSIBLE_COLLECTIONS_PATH', COLLECTIONS)


# The reliability tier's kill tests kill this machine's libvirtd; the lanes of `make test`
# run side by side, and a scenario of another lane that uses this libvirtd meanwhile (the VM
# host tier's migration, the matrix smoke plays) would fail on the kill. Those hold this
# lock shared for their run, the kill tests exclusive (flock, so a killed holder frees it).
LOCAL_LIBVIRTD_LOCK = os.environ.get('KVMST_LOCAL_LIBVIRTD_LOCK', '/run/kvmst-lab/local-libvirtd.lock')


@contextlib.contextmanager
def _local_libvirtd(exclusive):
    os.makedirs(os.path.dirname(LOCAL_LIBVIRTD_LOCK), exist_ok=True)
    with open(LOCAL_LIBVIRTD_LOCK, 'a', encoding='utf-8') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


@pytest.fixture
def local_libvirtd_alone():
    """Nothing of another lane uses this machine's libvirtd while the test runs."""
    with _local_libvirtd(True):
        yield


@pytest.fixture
def local_libvirtd_used():
    """This machine's libvirtd is not killed by another lane while the test runs."""
    with _local_libvirtd(False):
        yield
