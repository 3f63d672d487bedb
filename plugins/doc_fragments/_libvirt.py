# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the collection: may change without notice.

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  uri:
    description:
      - The libvirt connection URI, for example V(qemu:///system) or V(qemu+ssh://root@host/system).
      - When not set, the environment variable E(LIBVIRT_DEFAULT_URI) is used, and then V(qemu:///system).
      - The module opens exactly one connection for its whole run.
    type: str
    default: qemu:///system
  allow_insecure:
    description:
      - Accept a URI that turns off transport security, that is the plain C(+tcp) transport or C(no_verify=1).
      - Without it such URIs are refused before connecting.
    type: bool
    default: false
requirements:
  - libvirt-python (C(python3-libvirt)) on the host the module runs on
  - lxml (C(python3-lxml)) on the host the module runs on
notes:
  - The module runs on the managed host and talks to libvirt there (or at O(uri)); install the Python
    bindings on that host, for example with the P(kvm.storage.hypervisor#role) role.
"""
