# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The molecule scenario profile_lvm_thin (host_profile lvm_thin: VG, thin pool, thin
template and snapshots, a logical pool, a snapshot attached to a defined guest) against the
Debian 13 VM host: KVMST_VMHOST_SUITE=trixie points its create/destroy (lab/vmhost/up.sh,
down.sh) and its inventory at kvmst-vmhost13. Needs the libvirt that test_13_2_hypervisor.py
installs. It ran on the Debian 12 VM host too until CI's time budget took it off there
(tests/vmhost/lvm_thin.yml and lvm_thin_profiles.yml drive the same modules on libvirt 9)."""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import molecule_scenarios  # noqa: E402  pylint: disable=wrong-import-position

from conftest import record_time  # noqa: E402  pylint: disable=wrong-import-position


ARCHIVES = 'ls /etc/lvm/archive/ 2>/dev/null | grep -c "^kvmst_prof_vg_" || true'


def test_every_vmhost_scenario_runs_here():
    # The VM host's molecule scenarios run in this tier only: a new one must be added here,
    # or it would run nowhere.
    assert molecule_scenarios.scenarios(on_vmhost=True) == ['profile_lvm_thin']


def test_profile_lvm_thin(vmhost13, ssh13, tmp_path):
    assert ssh13('virsh -c qemu:///system uri').returncode == 0, 'libvirt does not answer on the Debian 13 VM host'
    archived = int(ssh13(ARCHIVES).stdout.strip() or 0)
    start = time.monotonic()
    rc, log = molecule_scenarios.run('profile_lvm_thin', str(tmp_path / 'molecule.log'),
                                     {'KVMST_KEEP_VMHOST': '1', 'KVMST_VMHOST_SUITE': 'trixie'})
    record_time('molecule profile_lvm_thin', time.monotonic() - start)
    molecule_scenarios.assert_passed(rc, log)
    # It ran on the Debian 13 VM host: LVM archived the metadata of the scenario's VG there.
    assert int(ssh13(ARCHIVES).stdout.strip() or 0) > archived, 'the scenario did not make its VG on kvmst-vmhost13'
