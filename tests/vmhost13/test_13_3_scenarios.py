# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scenarios on the Debian 13 VM host's libvirt 11 (installed by test_13_2_hypervisor.py),
run by the distribution's Python 3.13 with python3-libvirt 11:

- logical_pool.yml: a logical pool built over a real disk, LVs as volumes, the VG kept or
  deleted with the pool (its hosts come from KVMST_VMHOST_NAME, which up.sh prints);
- guest_disk.yml: a qcow2 volume attached to and detached from a defined guest.
"""

from __future__ import annotations

import os

import pytest

from conftest import HERE, assert_play_passed


@pytest.fixture(scope='module')
def libvirt11(ssh13):
    """The managed side of these scenarios: Python 3.13 with libvirt-python 11, libvirtd 11."""
    proc = ssh13('python3 -c "import sys, libvirt; print(\'%d.%d\' % sys.version_info[:2], libvirt.getVersion())";'
                 ' virsh -c qemu:///system version --daemon | sed -n "s/^Running against daemon: //p"')
    if proc.returncode != 0:
        pytest.fail('python3-libvirt or libvirtd is missing on the Debian 13 VM host (the hypervisor role test '
                    'installs them and runs first): %s' % proc.stderr.strip(), pytrace=False)
    python, binding, daemon = proc.stdout.split()
    assert python == '3.13', proc.stdout
    assert int(binding) // 1000000 == 11, proc.stdout   # libvirt.getVersion(): 11003000 = 11.3.0
    assert daemon.startswith('11.'), proc.stdout


@pytest.mark.parametrize('name', ['logical_pool', 'guest_disk'])
def test_scenario(libvirt11, play13, name):
    assert_play_passed(play13(os.path.join(HERE, name + '.yml'), step='scenario: %s.yml' % name))
