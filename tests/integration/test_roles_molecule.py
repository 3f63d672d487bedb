# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' molecule scenarios (extensions/molecule/<role>) against this host's lab.

molecule runs with the collection from ANSIBLE_COLLECTIONS_PATH (this checkout, through
.cache/collections; the scenarios set ``prerun: false`` so nothing is copied into
~/.ansible). A scenario passes when every step of its test sequence did; guest_disks
must also leave no ``kvmst-roles-`` guest behind.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import COLLECTIONS, REPO, libvirt_objects

BIN = os.path.dirname(sys.executable)


@pytest.mark.parametrize('scenario', ['hypervisor', 'guest_disks'])
def test_molecule_scenario(scenario, lab_env, tmp_path):
    env = dict(os.environ)
    env.update(lab_env)
    env.update({
        'PATH': BIN + os.pathsep + env.get('PATH', ''),  # molecule calls ansible-config, ansible-playbook
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS,
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'NO_COLOR': '1',
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'),
    })
    proc = subprocess.run([os.path.join(BIN, 'molecule'), 'test', '-s', scenario], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)
    out = proc.stdout + '\n--- stderr ---\n' + proc.stderr
    (tmp_path / 'molecule.log').write_text(out)
    tail = '\n'.join(out.splitlines()[-80:])
    assert proc.returncode == 0, tail
    assert 'Molecule executed 1 scenario (1 successful)' in out, tail
    if scenario == 'guest_disks':
        assert not [d for d in libvirt_objects('domain') if d.startswith('kvmst-roles-')]
