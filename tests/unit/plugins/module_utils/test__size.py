# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils._size import parse_size, format_size, SizeError

KI, MI, GI, TI = 1024, 1024 ** 2, 1024 ** 3, 1024 ** 4

PARSE_CASES = [
    # (input, bytes) -- libvirt's rules: k/KiB = 1024, KB = 1000, bare integers are bytes.
    (0, 0),
    (512, 512),
    ('512', 512),
    ('512b', 512),
    ('512 bytes', 512),
    ('1k', KI),
    ('1K', KI),
    ('1KiB', KI),
    ('1kib', KI),
    ('1KB', 1000),
    ('1kb', 1000),
    ('512M', 512 * MI),
    ('512MiB', 512 * MI),
    ('512MB', 512 * 10 ** 6),
    ('20G', 20 * GI),
    ('20GiB', 20 * GI),
    ('20 GiB', 20 * GI),
    ('  20GiB ', 20 * GI),
    ('10GB', 10 * 10 ** 9),
    ('2T', 2 * TI),
    ('2TiB', 2 * TI),
    ('2TB', 2 * 10 ** 12),
    ('1P', 1024 ** 5),
    ('1PB', 10 ** 15),
    ('1E', 1024 ** 6),
    ('9223372036854775807', 2 ** 63 - 1),
    (2 ** 63 - 1, 2 ** 63 - 1),
    ('1.5GiB', 3 * 512 * MI),
    ('0.5k', 512),
    (1.0, 1),
]


@pytest.mark.parametrize('value, expected', PARSE_CASES)
def test_parse_size(value, expected):
    assert parse_size(value) == expected


BAD_CASES = [
    ('', 'is not a size'),
    ('GiB', 'is not a size'),
    ('-1', 'is not a size'),
    (-1, 'must not be negative'),
    ('10 XB', 'unknown size unit'),
    ('10 Gibibytes', 'unknown size unit'),
    ('10GiBB', 'unknown size unit'),
    ('1.3b', 'not a whole number of bytes'),
    ('0.1k', 'not a whole number of bytes'),
    ('20E', 'larger than libvirt accepts'),
    (2 ** 64, 'larger than libvirt accepts'),
    (2 ** 63, 'capacity 9223372036854775808 is larger than libvirt accepts (at most 2^63-1 bytes'),
    ('8EiB', 'capacity 8EiB is larger than libvirt accepts'),
    ('18446744073709551615', 'larger than libvirt accepts'),
    (True, 'not a boolean'),
    (None, 'must be a size'),
    ([1], 'must be a size'),
    (float('nan'), 'finite'),
    ('1e9', 'is not a size'),
    ('0x10', 'is not a size'),
]


@pytest.mark.parametrize('value, message', BAD_CASES)
def test_parse_size_refuses(value, message):
    with pytest.raises(SizeError) as exc:
        parse_size(value, what='capacity')
    assert message in str(exc.value)
    assert str(exc.value).startswith('capacity')


@pytest.mark.parametrize('value, expected', [
    (0, '0 bytes'),
    (1023, '1023 bytes'),
    (KI, '1 KiB'),
    (20 * GI, '20 GiB'),
    (3 * 512 * MI, '1.50 GiB'),
    (2 * TI, '2 TiB'),
    (None, None),
])
def test_format_size(value, expected):
    assert format_size(value) == expected


@pytest.mark.parametrize('value', ['1K', '20GiB', '3T', '7M', '1E'])
def test_round_trip(value):
    assert parse_size(format_size(parse_size(value)).replace(' ', '')) == parse_size(value)
