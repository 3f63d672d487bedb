# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The molecule scenarios of extensions/molecule that run on this host's lab (the roles;
the host profiles run from test_shared_backends.py, the VM host ones in tests/vmhost).

molecule uses the collection from ANSIBLE_COLLECTIONS_PATH (this checkout, through
.cache/collections; ``prerun: false`` keeps it from copying the collection into
~/.ansible). A scenario passes when every step of its sequence did, its check mode told
the truth (tests/molecule_scenarios.py) and it left no ``kvmst-`` pool or guest of its
own behind.
"""

from __future__ import annotations

import pytest

from conftest import SHARED_MOLECULE, check_molecule, molecule_scenarios


@pytest.mark.parametrize('scenario', [s for s in molecule_scenarios.scenarios(on_vmhost=False)
                                      if s not in SHARED_MOLECULE])
def test_molecule_scenario(scenario, lab_env, tmp_path):
    check_molecule(scenario, lab_env, tmp_path)
