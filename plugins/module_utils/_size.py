# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one size parser of the collection.

Units follow libvirt's rules (formatstorage "unit" attribute): ``k``/``KiB`` = 1024,
``KB`` = 1000, likewise M, G, T, P, E; ``b``/``bytes`` and bare integers are bytes.
The suffix is case-insensitive except for what makes the difference between the two
families, which libvirt spells by the presence of ``i`` (KiB) versus a bare ``B`` (KB).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_PREFIXES = 'kmgtpe'

_SIZE_RE = re.compile(r'^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z]*)\s*$')

# The largest size libvirt takes: its capacity and allocation fields are parsed as a
# signed 64-bit number ("numerical overflow: value too large" from 2^63 on), libvirt-python's
# resize() cannot even convert 2^63 ("int too big to convert"), and a file's size is a
# signed off_t. Refused here, for every caller, with a sentence that names the option.
MAX_BYTES = 2 ** 63 - 1


_UNKNOWN_UNIT = '%s has an unknown size unit %r: use bytes, KiB/MiB/GiB/TiB (1024) or KB/MB/GB/TB (1000)'


class SizeError(ValueError):
    """A size that cannot be parsed; the message is one sentence for the user."""


def unit_factor(unit, what='size'):
    """Return the number of bytes in one ``unit``, or raise SizeError."""
    u = unit.strip()
    low = u.lower()
    if low in ('', 'b', 'byte', 'bytes'):
        return 1
    if low[0] not in _PREFIXES:
        raise SizeError(_UNKNOWN_UNIT % (what, unit))
    power = _PREFIXES.index(low[0]) + 1
    rest = low[1:]
    if rest in ('', 'ib'):
        return 1024 ** power
    if rest == 'b':
        return 1000 ** power
    raise SizeError(_UNKNOWN_UNIT % (what, unit))


def parse_size(value, what='size'):
    """Parse ``value`` (int or string such as ``"20GiB"``, ``"512M"``, ``"10 GB"``) to bytes.

    Booleans, negatives, fractions of a byte and values beyond 2^63-1 (8 EiB less one byte,
    the most libvirt takes) are refused.
    """
    if isinstance(value, bool):
        raise SizeError('%s must be a size such as 20GiB, not a boolean' % what)
    if isinstance(value, int):
        num, factor = Decimal(value), 1
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise SizeError('%s must be a finite size' % what)
        num, factor = Decimal(repr(value)), 1
    elif isinstance(value, str):
        m = _SIZE_RE.match(value)
        if not m:
            raise SizeError('%s %r is not a size: write a number and a unit such as 20GiB, 512MiB or 10GB' % (what, value))
        try:
            num = Decimal(m.group('num'))
        except InvalidOperation:  # pragma: no cover - the regex already guarantees digits
            raise SizeError('%s %r is not a number' % (what, value))
        factor = unit_factor(m.group('unit'), what)
    else:
        raise SizeError('%s must be a size such as 20GiB, got %s' % (what, type(value).__name__))
    if num < 0:
        raise SizeError('%s must not be negative' % what)
    total = num * factor
    if total != total.to_integral_value():
        raise SizeError('%s %r is not a whole number of bytes' % (what, value))
    total = int(total)
    if total > MAX_BYTES:
        raise SizeError('%s %s is larger than libvirt accepts (at most 2^63-1 bytes, 8 EiB less one byte); give a '
                        'smaller size' % (what, value))
    return total


def format_size(nbytes):
    """Human form with binary units, exact when possible: 21474836480 -> '20 GiB'."""
    if nbytes is None:
        return None
    n = int(nbytes)
    for power, name in ((6, 'EiB'), (5, 'PiB'), (4, 'TiB'), (3, 'GiB'), (2, 'MiB'), (1, 'KiB')):
        unit = 1024 ** power
        if n >= unit:
            if n % unit == 0:
                return '%d %s' % (n // unit, name)
            return '%.2f %s' % (n / float(unit), name)
    return '%d bytes' % n
