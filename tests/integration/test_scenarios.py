# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each playbook in playbooks/ is one scenario; it passes when the play recap shows no
failure and the scenario left no ``kvmst-`` object of its own behind."""

from __future__ import annotations

import glob
import os
import re

import pytest

from conftest import HERE, libvirt_objects

PLAYBOOKS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(HERE, 'playbooks', '*.yml')))


def _recap(stdout):
    m = re.search(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', stdout)
    return None if m is None else dict(zip(('ok', 'changed', 'unreachable', 'failed'), map(int, m.groups())))


@pytest.mark.parametrize('playbook', PLAYBOOKS)
def test_scenario(playbook, run_playbook):
    before = libvirt_objects('pool')
    proc = run_playbook(playbook)
    tail = '\n'.join(proc.stdout.splitlines()[-60:] + ['--- stderr (last lines) ---'] + proc.stderr.splitlines()[-8:])
    recap = _recap(proc.stdout)
    assert recap is not None, 'no play recap:\n' + tail
    assert proc.returncode == 0 and recap['failed'] == 0 and recap['unreachable'] == 0, tail
    assert recap['ok'] > 0
    # Teardown check: what the scenario made, it removed.
    leftover = sorted(set(libvirt_objects('pool')) - set(before))
    assert not leftover, 'scenario %s left pools behind: %s' % (playbook, leftover)
    assert 'Traceback' not in proc.stdout, tail
