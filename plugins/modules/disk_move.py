#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: disk_move
short_description: Move one disk of a running libvirt guest to another pool or path without downtime
version_added: 0.1.0
description:
  - Copies one disk of a running guest to a new image with libvirt's block copy while the guest goes on writing,
    waits until the copy is in step with the disk, then switches the guest over (pivot) and points the persistent
    definition at the new image. Moving a guest from a local pool (V(dir), V(fs)) to a shared one (V(netfs) over
    gluster, a native V(gluster) pool) makes it ready for live migration.
  - The new image goes into the folder of O(to.pool) (named O(to.name), by default the current image's name with
    the extension of the format) or to O(to.path). In a native V(gluster) pool the image is made with qemu-img's
    gluster driver and the disk becomes a C(protocol='gluster') network disk.
  - A disk that is already in O(to.pool) (under any name) or at O(to.path) is no change; a persistent definition
    that still names the old image then (a run stopped after its pivot) is brought in line.
  - Until the pivot the guest writes to its original image; a copy that fails, is cancelled or exceeds O(timeout)
    leaves the guest there, and a new image file this run made is removed again.
  - A run cut off before its pivot (the module or libvirtd killed) leaves qemu copying to the new image; the next
    run with the same destination finishes that copy (waits until it is in step, then switches the guest) instead
    of refusing the disk's running block job. A block job to anywhere else is refused.
  - The former image is kept unless O(remove_source=true), and even then when another guest or image uses it (the
    collection's usage index over every guest's disks and every pool's volumes, by file identity) - a warning says so.
    Its backing files are always kept.
  - The guest must be running; for a stopped guest copy the volume (M(kvm.storage.volume) O(kvm.storage.volume#module:clone_from))
    and attach the copy (M(kvm.storage.disk)).
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._attributes
  - kvm.storage._attributes.CHANGES_STATE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
options:
  domain:
    description: The running guest (libvirt domain) name.
    type: str
    required: true
  target:
    description: The disk to move, by its target name (for example V(vda)).
    type: str
    required: true
  to:
    description: Where the disk goes. One of O(to.pool) and O(to.path).
    type: dict
    required: true
    suboptions:
      pool:
        description: A V(dir), V(fs), V(netfs) or V(gluster) pool; the pool must be running.
        type: str
      name:
        description: The new image's name in O(to.pool). Default the current image's name, with the extension of
          the format.
        type: str
      path:
        description: The new image's path (a file that does not exist yet).
        type: path
      format:
        description: Format of the new image. Default the disk's current format. A disk with a backing chain needs
          V(qcow2) unless O(flatten=true).
        type: str
        choices: [raw, qcow2]
  flatten:
    description:
      - V(true) copies the whole backing chain into the new image, which then stands alone (what a move to shared
        storage needs when the backing files are local). V(false) copies only the top image; the new image keeps
        the old backing chain.
    type: bool
    default: false
  remove_source:
    description: Delete the former image after the switch, unless another guest or image uses it.
    type: bool
    default: false
  timeout:
    description: Seconds the copy may take to get in step with the disk before it is cancelled.
    type: int
    default: 3600
  bandwidth:
    description:
      - The most the copy may read and write per second, a size such as V(64MiB) (per second), so that it leaves the
        storage to the guests. Default no limit. It applies to the copy this run starts.
    type: str
seealso:
  - module: kvm.storage.disk_snapshot
  - module: kvm.storage.pool_info
"""

EXAMPLES = r"""
- name: Move a guest's disk from the local pool to the gluster pool, making it migratable
  kvm.storage.disk_move:
    domain: web1
    target: vda
    to:
      pool: shared
    flatten: true
    remove_source: true

- name: Move it to a named file as raw
  kvm.storage.disk_move:
    domain: web1
    target: vdb
    to:
      path: /srv/fast/web1-data.raw
      format: raw
"""

RETURN = r"""
actions:
  description: The steps taken, or in check mode the steps a real run would take.
  returned: always
  type: list
  elements: str
  sample: ["copy disk vda of guest web1 to /mnt/shared/web1.qcow2 (qcow2, flattened: whole backing chain copied) and
            switch the guest to it once the copy is in step",
           "point the persistent definition of disk vda of guest web1 at /mnt/shared/web1.qcow2"]
image:
  description: The image the disk uses after the move (a path, or a C(gluster://) URL for a native gluster pool).
  returned: success
  type: str
format:
  description: The format of that image.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._disk_move import argument_spec
from ansible_collections.kvm.storage.plugins.module_utils._disk_move_module import disk_move_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


def main():
    spec = connection_argument_spec()
    spec.update(argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run(module, disk_move_work)


if __name__ == '__main__':
    main()
