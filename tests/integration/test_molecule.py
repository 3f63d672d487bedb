# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The molecule scenarios of extensions/molecule that run on this host's lab (the roles
and the host profiles; the VM host ones run in tests/vmhost).

molecule uses the collection from ANSIBLE_COLLECTIONS_PATH (this checkout, through
.cache/collections; ``prerun: false`` keeps it from copying the collection into
~/.ansible). A scenario passes when every step of its sequence did, its check mode told
the truth (tests/molecule_scenarios.py) and it left no ``kvmst-`` pool or guest behind.
"""

from __future__ import annotations

import os
import sys

import pytest

from conftest import SHARED_BACKENDS, left_behind, libvirt_objects, owned_names

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import molecule_scenarios  # noqa: E402  pylint: disable=wrong-import-position


# The profiles: gluster and san put pools on the lab's gluster volume and iSCSI target (see
# SHARED_BACKENDS), and all three name their pools kvmst-prof-*, which their checks read.
ON_SHARED_BACKENDS = {'profile_gluster', 'profile_local', 'profile_san'}
SCENARIOS = [pytest.param(name, marks=[SHARED_BACKENDS] if name in ON_SHARED_BACKENDS else [])
             for name in molecule_scenarios.scenarios(on_vmhost=False)]


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_molecule_scenario(scenario, lab_env, tmp_path):
    before = {kind: set(libvirt_objects(kind)) for kind in ('pool', 'domain')}
    owned = owned_names(os.path.join(molecule_scenarios.MOLECULE_ROOT, scenario))
    env = dict(lab_env)
    env['ANSIBLE_LOCAL_TEMP'] = str(tmp_path / 'ansible-local')
    rc, log = molecule_scenarios.run(scenario, str(tmp_path / 'molecule.log'), env)
    molecule_scenarios.assert_passed(rc, log)
    for kind, names in before.items():
        left = left_behind(kind, names, owned)
        assert not left, 'scenario %s left %ss behind: %s' % (scenario, kind, left)
