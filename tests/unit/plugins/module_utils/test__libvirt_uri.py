# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._libvirt import check_uri, resolve_uri


@pytest.mark.parametrize('uri', [
    'qemu:///system',
    'qemu:///session',
    'qemu+ssh://root@hv1/system',
    'qemu+tls://hv1/system',
    'qemu+unix:///system?socket=/run/libvirt/libvirt-sock',
    'qemu+ssh://root@hv1/system?no_tty=1&keyfile=/root/.ssh/id',
    'test:///default',
])
def test_secure_uris_pass(uri):
    assert check_uri(uri) == uri


@pytest.mark.parametrize('uri, words', [
    ('qemu+tcp://hv1/system', '+tcp'),
    ('qemu+tls://hv1/system?no_verify=1', 'no_verify=1'),
    ('qemu+tcp://hv1/system?no_verify=1', '+tcp'),
])
def test_insecure_uris_refused(uri, words):
    with pytest.raises(KvmStorageError) as exc:
        check_uri(uri)
    assert words in exc.value.msg
    assert 'allow_insecure' in exc.value.msg
    assert check_uri(uri, allow_insecure=True) == uri


@pytest.mark.parametrize('uri', ['qemu:///system\x00', 'qemu:///sys\ntem', 'qemu+ssh://h\t/system', '\x7f'])
def test_uris_with_control_characters_refused(uri):
    for allow_insecure in (False, True):
        with pytest.raises(KvmStorageError) as exc:
            check_uri(uri, allow_insecure=allow_insecure)
        assert 'control characters' in exc.value.msg


def test_resolve_uri(monkeypatch):
    monkeypatch.delenv('LIBVIRT_DEFAULT_URI', raising=False)
    assert resolve_uri(None) == 'qemu:///system'
    monkeypatch.setenv('LIBVIRT_DEFAULT_URI', 'qemu:///session')
    assert resolve_uri(None) == 'qemu:///session'
    assert resolve_uri('test:///default') == 'test:///default'
