# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Debian 13 VM host as booted: lab/vmhost/smoke.sh (device-mapper thin pools, and
before the role, libvirt not installed but every .deb its install needs in apt's cache),
and the platform the tier claims (Debian 13, kernel 6.12, Python 3.13, qemu 10)."""

from __future__ import annotations

import re
import time

from conftest import lab_script, record_time


def test_smoke(vmhost13):
    start = time.monotonic()
    proc = lab_script('smoke.sh', timeout=900)
    record_time('smoke.sh', time.monotonic() - start)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    assert 'LVM thin pool, thin volume and thin snapshot' in proc.stdout, proc.stdout


def test_platform(ssh13):
    proc = ssh13('. /etc/os-release; echo "$VERSION_ID"; uname -r; python3 -c "import sys; print(sys.version_info[0], sys.version_info[1])";'
                 ' qemu-system-x86_64 --version | head -1; cat /proc/1/comm')
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == '13', lines
    assert lines[1].startswith('6.12.'), lines
    assert lines[2] == '3 13', lines
    assert re.search(r'QEMU emulator version 10\.', lines[3]), lines
    assert lines[4] == 'systemd', lines
