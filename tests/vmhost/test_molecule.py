# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The molecule scenarios that run on the VM host (their molecule.yml names its inventory).

The session's VM host stays up between scenarios (KVMST_KEEP_VMHOST=1 for each
scenario's destroy step); the vmhost fixture stops it at the end.
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import molecule_scenarios  # noqa: E402  pylint: disable=wrong-import-position


@pytest.mark.parametrize('scenario', molecule_scenarios.scenarios(on_vmhost=True))
def test_molecule_scenario(scenario, vmhost, tmp_path):
    rc, log = molecule_scenarios.run(scenario, str(tmp_path / 'molecule.log'), {'KVMST_KEEP_VMHOST': '1'})
    molecule_scenarios.assert_passed(rc, log)
