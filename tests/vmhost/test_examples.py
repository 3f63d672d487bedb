# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The LVM thin modules' EXAMPLES run as written on the VM host (the host lab's kernel has
no device-mapper): tests/examples.py's vmhost_story, each example that changes state four
times (check mode, as written, again, check mode again) in one playbook run, on a volume
group named as the examples' ``vg_vms`` is substituted (on a sparse file: the examples'
sizes are a real host's). tests/integration/examples_story.py runs every other example."""

from __future__ import annotations

import os
import re
import sys

import yaml

from conftest import REPO, run_bounded

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_env  # noqa: E402  pylint: disable=wrong-import-position
import examples  # noqa: E402  pylint: disable=wrong-import-position


def test_lvm_thin_examples(vmhost, tmp_path):
    plays, index = examples.vmhost_story('kvmst-vmhost')
    playbook = tmp_path / 'lvm_thin_examples.yml'
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False, width=120))
    env = ansible_env.playbook_env(tmp_path, vmhost)
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', vmhost['KVMST_VMHOST_INVENTORY'],
           str(playbook)]
    proc = run_bounded(cmd, env=env, cwd=REPO)
    (tmp_path / 'ansible.log').write_text(proc.stdout + '\n--- stderr ---\n' + proc.stderr)
    tail = '\n'.join(proc.stdout.splitlines()[-60:] + ['--- stderr ---'] + proc.stderr.splitlines()[-8:])
    m = re.search(r'kvmst-vmhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', proc.stdout)
    assert m is not None, 'no play recap:\n' + tail
    assert proc.returncode == 0 and int(m.group(3)) == 0 and int(m.group(4)) == 0, tail
    for tag, _module, _example in index:
        assert '[%s]' % tag in proc.stdout, 'example %s did not run:\n%s' % (tag, tail)
