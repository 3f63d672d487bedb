# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The environment of the VM host tiers' ansible-playbook runs: this checkout's collection,
plain output, no retry files or host key prompts, and Ansible's temp and home below the
test's own tmp_path (a run leaves nothing in ~/.ansible)."""

from __future__ import annotations

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.cache', 'collections')


def vmhost_env(up_stdout):
    """The KVMST_VMHOST_* lines lab/vmhost/up.sh prints (inventory, name, port...), as a dict."""
    return dict(line.split('=', 1) for line in up_stdout.splitlines()
                if line.startswith('KVMST_VMHOST_') and '=' in line)


def playbook_env(tmp_path, lab_env):
    """os.environ with lab_env (the VM host's KVMST_VMHOST_* lines) and the settings above."""
    env = dict(os.environ)
    env.update(lab_env)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS,
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_HOST_KEY_CHECKING': '0',
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'),
        'ANSIBLE_HOME': str(tmp_path / 'ansible-home'),
    })
    return env
