#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: disk_backup
short_description: Full and incremental backups of a running libvirt guest's disks
version_added: 0.1.0
description:
  - Backs up the disks of a running guest with libvirt's backup job (push mode) while the guest goes on writing; qemu
    copies a point-in-time view of each disk (the moment the job begins) into a qcow2 file in O(to.pool)'s folder or
    in O(to.path). Backups of one guest in one folder form a series.
  - Each backup is one file per disk, C(<domain>.<name>.<target>.qcow2), and a manifest C(<domain>.<name>.backup.json)
    written last. The images are written as C(*.part) and renamed once the job has succeeded, so a backup with its
    manifest is complete. A backup of that O(name) that is complete is no change.
  - O(mode=incremental) copies only what changed since the newest backup of the series, as recorded by that backup's
    libvirt checkpoint (a persistent change bitmap in each qcow2 disk image). The incremental image is a qcow2 overlay
    whose backing file is the previous backup's image (named relative, so the folder can be moved as a whole), so each
    backup reads as the whole disk.
  - A full backup is taken instead, with the reason in RV(actions), when there is no earlier backup in the series, when
    that backup's checkpoint is gone, covers other disks, or no longer matches the disk (libvirt no longer finds its
    bitmap in the disk's image - after a move to a raw image, a re-created image, a revert). A move with
    M(kvm.storage.disk_move) to a qcow2 image keeps the checkpoints valid (libvirt copies the bitmaps along).
  - Incremental backups need qcow2 disks; O(mode=incremental) is refused for a raw disk (rather than silently copying
    it whole on every run); back such disks up with O(mode=full) in a task of their own, or convert them to qcow2.
  - Every backup that has a qcow2 disk leaves a checkpoint named like the backup (marked in its description as this
    module's, with the folder). Only the newest backup's checkpoint is kept - the next incremental backup builds on
    it - older ones are deleted (each costs the guest a bitmap update on every write).
  - O(keep) removes the oldest backups beyond that number after the new one is complete. A kept incremental backup
    whose base goes is first made to stand on its own (C(qemu-img rebase) copies into it what it read from the base).
    A backup whose images a guest uses or another image is built on is kept, with a warning.
  - A backup job that fails, is cancelled or exceeds O(timeout) leaves nothing behind; its partial images and the
    checkpoint libvirt made when it began are removed. A run interrupted harder (libvirtd or the module killed) leaves
    C(*.part) files and a checkpoint without a manifest; the next run of the same backup removes them first. qemu's
    job outlives a killed libvirtd, which takes it up again when it restarts; until that job has ended a run is refused
    with a message that says to wait for it.
  - A target that runs out of space (or fails) while the job runs can pause the guest - qemu fails a guest write whose
    old data it could not copy to the target first, and a disk's default error policy pauses the guest on that
    error. When the job has ended, a guest that was running before it and is now paused by an I/O error is resumed,
    and the error or a warning says so.
  - In check mode, a backup pool or folder that does not exist yet (made by an earlier task of the play) is planned as
    if it existed - changed, the steps a real run takes in RV(actions) (the images named in the pool's folder as
    C(<folder of pool NAME>), not known yet), a warning naming the assumption, and RV(assumed) listing it. A real run
    assumes nothing and fails when it is still missing.
  - To restore, import a backup image into a new volume with M(kvm.storage.volume) O(kvm.storage.volume#module:import_from)
    (see EXAMPLES). An incremental image has a backing file, which O(kvm.storage.volume#module:import_from) refuses;
    flatten it first (C(qemu-img convert -O qcow2 <image> <file>) reads through the chain).
  - The guest must be running (libvirt's backup job needs qemu); for a stopped guest copy its volumes
    (M(kvm.storage.volume) O(kvm.storage.volume#module:clone_from)).
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
  name:
    description:
      - The backup's name, unique in the series; the module is idempotent by it, so a scheduled task puts the date in
        it (for example C(nightly-{{ now(utc=true, fmt='%Y%m%d') }})).
      - The checkpoint the backup leaves is named like it.
    type: str
    required: true
  disks:
    description:
      - The disks to back up, by target name (V(vda), V(sdb)). Default every writable disk with an image (CD-ROMs and
        read-only disks are left out).
    type: list
    elements: str
  to:
    description: Where the backups go. One of O(to.pool) and O(to.path).
    type: dict
    required: true
    suboptions:
      pool:
        description: A running V(dir), V(fs) or V(netfs) pool; its folder holds the backups, which it then lists as
          volumes (the manifests too).
        type: str
      path:
        description: A folder that exists.
        type: path
  mode:
    description:
      - V(full) copies every disk whole.
      - V(incremental) copies what changed since the newest backup of the series, or the whole disk (with the reason in
        RV(actions)) when there is no usable one. Refused for raw disks.
    type: str
    choices: [full, incremental]
    default: full
  keep:
    description:
      - How many backups of the series to keep, the new one included; the oldest go first. Default every backup.
      - With O(keep=1) and O(mode=incremental) each new incremental backup is made to stand on its own as its base is
        removed (as large as a full one on disk; only the copy from the guest is smaller).
    type: int
  timeout:
    description: Seconds the backup job may take before it is cancelled (and nothing of it kept).
    type: int
    default: 3600
seealso:
  - module: kvm.storage.volume
  - module: kvm.storage.disk_snapshot
  - module: kvm.storage.disk_move
"""

EXAMPLES = r"""
# Scheduled jobs name their backups by date, for example weekly-{{ now(utc=true, fmt='%G-W%V') }} or
# nightly-{{ now(utc=true, fmt='%Y%m%d') }}; the names below are what those gave on one day.
- name: A full backup of web1's disks into the backups pool
  kvm.storage.disk_backup:
    domain: web1
    name: weekly-2026-W48
    to:
      pool: backups
    mode: full

- name: Nightly, only what changed on the qcow2 system disk since the last backup; keep two weeks of them
  kvm.storage.disk_backup:
    domain: web1
    name: nightly-20261130
    disks: [vda]
    to:
      pool: backups
    mode: incremental
    keep: 14

- name: The raw data disk of web1, whole (incremental ones need qcow2), into a folder
  kvm.storage.disk_backup:
    domain: web1
    name: data-20261130
    disks: [vdb]
    to:
      path: /srv/backups/web1
    keep: 3

- name: Restore the full backup of web1's vda into a new volume
  kvm.storage.volume:
    pool: images
    name: web1-restored.qcow2
    import_from: /var/lib/libvirt/backups/web1.weekly-2026-W48.vda.qcow2   # in the folder of pool backups
"""

RETURN = r"""
actions:
  description: The steps taken, or in check mode the steps a real run would take. A full backup taken where an
    incremental one was asked for says why.
  returned: always
  type: list
  elements: str
  sample: ["take full backup b1 of guest web1 (vda -> /srv/backups/web1.b1.vda.qcow2); full because there is no
            earlier backup of guest web1 in /srv/backups to build on"]
assumed:
  description:
    - Check mode only - what did not exist yet and was planned as if an earlier task of the play made it (also named
      in a warning). A real run fails if it still does not exist then.
  returned: in check mode, when something was assumed
  type: list
  elements: str
  sample: ["pool backups"]
folder:
  description: The backup folder (O(to.path), or the folder of O(to.pool); none in check mode while the pool is
    assumed).
  returned: success
  type: str
backup:
  description: The backup named O(name) (in check mode, as it would be taken).
  returned: success
  type: dict
  contains:
    name:
      description: The backup's name.
      type: str
    mode:
      description: V(full) or V(incremental) (an incremental backup made to stand on its own by O(keep) stays
        V(incremental), with no RV(backup.base)).
      type: str
    base:
      description: The backup an incremental one builds on (its images are the backing files of this one's).
      type: str
    created:
      description: When the backup job began (the backup's point in time), seconds since the epoch; null in check mode.
      type: float
    checkpoint:
      description: The libvirt checkpoint taken with the backup (null when no disk is qcow2).
      type: str
    complete:
      description: Whether every image the manifest names is there.
      type: bool
    disks:
      description: One image per disk.
      type: list
      elements: dict
      contains:
        target:
          description: The disk's target name.
          type: str
        image:
          description: The backup image's path.
          type: str
backups:
  description: Every backup of the guest in the folder after the run, oldest first, each as RV(backup).
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._disk_backup import argument_spec
from ansible_collections.kvm.storage.plugins.module_utils._disk_backup_module import disk_backup_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


def main():
    spec = connection_argument_spec()
    spec.update(argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run(module, disk_backup_work)


if __name__ == '__main__':
    main()
