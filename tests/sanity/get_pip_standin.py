# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the get-pip script that ``ansible-test --venv`` downloads.

The lab machines reach only the package registries, not the host that serves get-pip,
so ansible-test is given this file instead (tests/sanity/run.sh puts it in its cache):
it bootstraps pip from the interpreter's own ``ensurepip`` and then installs what
ansible-test asked for from the configured package index.
"""

from __future__ import annotations

import ensurepip
import os
import runpy
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null, which would hide the machine's pip
# configuration (its index and CA certificate) from the install below.
os.environ.pop('PIP_CONFIG_FILE', None)
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.argv = ['pip', 'install', '--upgrade'] + args
runpy.run_module('pip', run_name='__main__', alter_sys=True)
