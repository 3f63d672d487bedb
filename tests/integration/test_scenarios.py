# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each playbook in playbooks/ is one scenario; it passes when the play recap shows no
failure and the scenario left no ``kvmst-`` object of its own behind."""

from __future__ import annotations

import glob
import os

import pytest

from conftest import HERE, SHARED_BACKENDS, assert_scenario_passed, libvirt_objects

# secret.yml runs in test_secret_leaks.py, at -vvvv, with these same checks.
RUN_ELSEWHERE = {'secret.yml'}
# Pools on the lab's one gluster volume or one iSCSI target (see SHARED_BACKENDS).
ON_SHARED_BACKENDS = {'disk_guest.yml', 'disk_live.yml', 'pool_gluster.yml', 'pool_iscsi_direct.yml', 'volume_edges.yml',
                      'volume_gluster.yml'}
PLAYBOOKS = [pytest.param(name, marks=[SHARED_BACKENDS] if name in ON_SHARED_BACKENDS else [])
             for name in sorted(os.path.basename(p) for p in glob.glob(os.path.join(HERE, 'playbooks', '*.yml')))
             if name not in RUN_ELSEWHERE]


@pytest.mark.parametrize('playbook', PLAYBOOKS)
def test_scenario(playbook, run_playbook):
    before = libvirt_objects('pool')
    assert_scenario_passed(playbook, run_playbook(playbook), before)
