# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each playbook in tests/vmhost/ is one scenario run over SSH on the VM host."""

from __future__ import annotations

import glob
import os
import re

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# Written and not yet run once on the VM host: kept out of the tier until a run shows it
# passes (a scenario that was never seen to pass must not decide whether CI lands).
NOT_YET_RUN = {}
PLAYBOOKS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(HERE, '*.yml'))
                   if os.path.basename(p) not in NOT_YET_RUN)


# Scenarios that use this machine's libvirtd too (not only the VM host's): the kill tests
# of the reliability tier, in the other lane, wait until they end (tests/conftest.py).
USES_LOCAL_LIBVIRTD = {'migrate_gluster.yml'}


@pytest.mark.parametrize('playbook', PLAYBOOKS)
def test_vmhost_scenario(playbook, run_vmhost_playbook, request):
    if playbook in USES_LOCAL_LIBVIRTD:
        request.getfixturevalue('local_libvirtd_used')
    proc = run_vmhost_playbook(playbook)
    m = re.search(r'kvmst-vmhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', proc.stdout)
    if m is None or proc.returncode != 0 or int(m.group(3)) or int(m.group(4)):
        # The failed task's own lines last: a CI log is read from its end.
        fatal = [line[:1500] for line in proc.stdout.splitlines() if re.match(r'\s*(fatal|failed): \[', line)]
        lines = (proc.stdout.splitlines()[-60:] + ['--- stderr ---'] + proc.stderr.splitlines()[-8:]
                 + ['--- failed tasks ---'] + (fatal or ['(no fatal line: rc %d)' % proc.returncode]))
        pytest.fail('\n'.join(lines), pytrace=False)
