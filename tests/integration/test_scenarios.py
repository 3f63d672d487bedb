# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each playbook in playbooks/ is one scenario; it passes when the play recap shows no
failure and the scenario left no ``kvmst-`` object of its own behind. The scenarios on the
lab's shared gluster volume and iSCSI target run from test_shared_backends.py."""

from __future__ import annotations

import pytest

from conftest import check_scenario, playbooks


@pytest.mark.parametrize('playbook', playbooks(shared=False))
def test_scenario(playbook, run_playbook):
    check_scenario(playbook, run_playbook)
