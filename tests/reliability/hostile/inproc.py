# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a collection module's main() inside the test process, against the real libvirtd.

Ansible's own module test pattern (ansible.module_utils.testing.patch_module_args): main() prints its JSON result and exits.
One run costs milliseconds instead of the seconds of an ansible-playbook run, which is
what lets hypothesis try hundreds of argument sets within the tier's time budget.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os

from ansible.module_utils.testing import patch_module_args

PACKAGE = 'ansible_collections.kvm.storage.plugins.modules.'


class ModuleCrash(AssertionError):
    """The module did not end with exit_json/fail_json (an exception escaped main())."""


def run_module(name, args, check_mode=False, diff=False, tmpdir='/tmp'):
    """Run kvm.storage.<name> with ``args``; returns (rc, result dict)."""
    module = importlib.import_module(PACKAGE + name)
    payload = dict(args)
    payload.update(_ansible_check_mode=check_mode, _ansible_diff=diff, _ansible_remote_tmp=tmpdir,
                   _ansible_tmpdir=tmpdir, _ansible_keep_remote_files=False)
    out = io.StringIO()
    rc = None
    cwd = os.getcwd()
    try:
        with patch_module_args(payload), contextlib.redirect_stdout(out):
            module.main()
    except SystemExit as exc:
        rc = exc.code
    finally:
        os.chdir(cwd)
    if rc is None:
        raise ModuleCrash('kvm.storage.%s returned without exit_json/fail_json' % name)
    text = out.getvalue()
    try:
        return rc, json.loads(text)
    except ValueError:
        raise ModuleCrash('kvm.storage.%s printed no JSON result: %r' % (name, text[-2000:]))
