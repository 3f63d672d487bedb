# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write a Sphinx inventory (objects.inv format 2) of the few ansible docs labels we use.

The real inventory lives on docs.ansible.com, which the docs build cannot reach; these
labels are stable ones the generated module pages (common return values, configuration)
and the guides (check mode, module defaults) link to.
"""

from __future__ import annotations

import sys
import zlib

LABELS = [
    ('common_return_values', 'reference_appendices/common_return_values.html#common-return-values',
     'Return Values'),
    ('ansible_configuration_settings', 'reference_appendices/config.html#ansible-configuration-settings',
     'Ansible Configuration Settings'),
    ('check_mode_dry', 'playbook_guide/playbooks_checkmode.html#check-mode-dry',
     'Validating tasks: check mode and diff mode'),
    ('module_defaults', 'playbook_guide/playbooks_module_defaults.html#module-defaults',
     'Module defaults'),
]


def main(path):
    body = ''.join('%s std:label -1 %s %s\n' % label for label in LABELS)
    header = ('# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n'
              '# The remainder of this file is compressed using zlib.\n')
    with open(path, 'wb') as handle:
        handle.write(header.encode() + zlib.compress(body.encode()))


if __name__ == '__main__':
    main(sys.argv[1])
