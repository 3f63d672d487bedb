# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name


@pytest.mark.parametrize('name', ['images', 'kvmst-a_b.c', 'pool@1', 'x' * 255, u'bildspeicher-\u00e4'])
def test_good_names(name):
    assert check_name('pool', name) == name


@pytest.mark.parametrize('name, message', [
    ('', 'must not be empty'),
    (None, 'must not be empty'),
    ('a/b', 'must not contain "/"'),
    ('/etc', 'must not contain "/"'),
    ('..', 'must not contain ".."'),
    ('a..b', 'must not contain ".."'),
    ('a\nb', 'control characters'),
    ('a\x00b', 'control characters'),
    ('a\tb', 'control characters'),
    ('a\x7fb', 'control characters'),
    ('-rf', 'must not start with "-"'),
    ('x' * 256, 'at most 255 bytes'),
])
def test_bad_names(name, message):
    with pytest.raises(KvmStorageError) as exc:
        check_name('pool', name)
    assert message in exc.value.msg
    assert exc.value.msg.startswith('pool name')
