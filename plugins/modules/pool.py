#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pool
short_description: Manage a libvirt storage pool of any type
version_added: 0.1.0
description:
  - Defines, builds, starts, stops and removes one libvirt storage pool.
  - Every libvirt pool type is covered with typed options - local C(dir), C(fs), C(logical), C(disk), C(zfs) and
    C(scsi) pools, and shared C(netfs) (NFS, GlusterFS FUSE, CIFS), C(iscsi), C(iscsi_direct), C(gluster),
    C(rbd) and C(mpath) pools. O(xml) takes a whole C(<pool>) definition instead.
  - Local pools keep guests on one host; only shared pools (C(migratable) in RV(pool) and in M(kvm.storage.pool_info)) allow live migration.
  - "Data is never destroyed unless asked for in so many words: a build never overwrites (O(overwrite=true) is the
    explicit exception), O(state=absent) keeps the data, and O(delete_data=true) is refused while the pool holds
    volumes unless O(force=true)."
  - A defined pool whose options differ from the request is redefined with the same UUID while it is stopped;
    a running pool that differs is reported as a conflict and left alone (set O(state=inactive) to stop and
    redefine it).
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._attributes
  - kvm.storage._attributes.CHANGES_STATE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
options:
  name:
    description:
      - Name of the pool. C(/), C(..), control characters and a leading C(-) are refused.
    type: str
    required: true
  type:
    description:
      - The pool type. Needed to create a pool; for an existing pool it may be left out to manage only its
        state, and when given it must match (a pool type never changes).
      - V(iscsi_direct) is libvirt's C(iscsi-direct).
    type: str
    choices: [dir, disk, fs, gluster, iscsi, iscsi_direct, logical, mpath, netfs, rbd, scsi, zfs]
  state:
    description:
      - V(present) - defined (persistent), running or not as it is.
      - V(active) - defined, built when new (types that need it), and running.
      - V(inactive) - defined and stopped.
      - V(absent) - stopped and undefined; the data stays unless O(delete_data=true).
    type: str
    default: active
    choices: [present, active, inactive, absent]
  autostart:
    description:
      - Start the pool when libvirtd starts. Left as it is when not set.
    type: bool
  build:
    description:
      - Build the pool when it is created (or when the target directory of a stopped C(dir), C(fs) or
        C(netfs) pool has gone) before starting it - create the directory, make the filesystem, create the
        volume group, write the partition label, as the type needs.
      - Builds never overwrite existing data (libvirt's C(NO_OVERWRITE)); see O(overwrite).
    type: bool
    default: true
  overwrite:
    description:
      - DESTRUCTIVE. Let the build format a device that already holds a filesystem, a volume group or a
        partition table, destroying what is on it. Never done in check mode.
      - Without it, an C(fs), C(logical) or C(disk) build is also refused on a device that holds data blkid does not
        recognise (any non-zero byte; the whole device up to 256 MiB is read, a sample of a larger one), on a local
        URI, in check mode too. An empty device is all zeros (C(wipefs) alone does not empty it).
    type: bool
    default: false
  delete_data:
    description:
      - DESTRUCTIVE. With O(state=absent), also delete the pool's underlying storage (the directory, the
        volume group, the partition label).
      - Refused while the pool holds volumes, unless O(force=true), which deletes the volumes first. The pool is
        refreshed before they are counted; for a C(logical) pool every LV that LVM reports in the volume group counts
        (thin pools, thin volumes and inactive LVs, which libvirt does not list), and where LVM cannot be asked (a
        remote URI) the delete is refused unless O(force=true).
      - Refused for a stopped pool, whose volumes cannot be counted; start it first.
    type: bool
    default: false
  force:
    description:
      - With O(delete_data=true), delete the pool's volumes and then its storage.
    type: bool
    default: false
  xml:
    description:
      - A complete C(<pool>) definition, for what the typed options do not cover. Its C(<name>) must equal O(name).
      - Compared with libvirt's definition element by element; libvirt's own defaults and runtime values are ignored.
      - Mutually exclusive with O(type), O(source) and O(target).
    type: str
  target:
    description:
      - Where the pool's volumes are found on the host. Not used by C(iscsi_direct), C(gluster), C(rbd), C(zfs).
    type: dict
    suboptions:
      path:
        description:
          - The directory (C(dir)), the mount point (C(fs), C(netfs)) or the device directory
            (C(logical) C(/dev/VG), C(disk) C(/dev), C(iscsi)/C(scsi) C(/dev/disk/by-path), C(mpath) C(/dev/mapper)).
          - Required to create C(dir), C(fs) and C(netfs) pools.
        type: path
      permissions:
        description:
          - Permissions of the target directory, applied by the build.
        type: dict
        suboptions:
          mode:
            description: Octal mode, for example V(0755).
            type: str
          owner:
            description: User name or numeric uid; names are resolved on the host the module runs on.
            type: str
          group:
            description: Group name or numeric gid; names are resolved on the host the module runs on.
            type: str
          label:
            description: SELinux label.
            type: str
  source:
    description:
      - Where the pool's storage comes from. Which suboptions apply depends on O(type); one that does not is refused.
    type: dict
    suboptions:
      devices:
        description:
          - Block devices - one for C(fs) and C(disk), the physical volumes for C(logical), the vdevs for C(zfs).
          - For C(iscsi) and C(iscsi_direct), the target IQN (libvirt keeps it in C(<device path>)).
        type: list
        elements: str
      hosts:
        description:
          - Servers - the NFS/GlusterFS/CIFS server for C(netfs), the portal for C(iscsi) and C(iscsi_direct),
            a gluster server for C(gluster), the monitors for C(rbd).
        type: list
        elements: dict
        suboptions:
          name:
            description: Host name or address.
            type: str
            required: true
          port:
            description: Port, when not the protocol's default.
            type: int
      dir:
        description:
          - The exported directory for C(netfs) (for C(glusterfs) the volume name, for example V(gv0));
            the directory inside the volume for C(gluster) (default V(/)).
        type: str
      name:
        description:
          - The volume group for C(logical), the gluster volume for C(gluster), the RADOS pool for C(rbd), the zpool
            for C(zfs).
        type: str
      format:
        description:
          - C(fs) - the filesystem (V(auto), V(ext4), V(xfs), ...); C(netfs) - V(auto), V(nfs), V(glusterfs), V(cifs);
            C(disk) - the partition table (V(gpt), V(dos), ...); C(logical) - V(lvm2).
        type: str
      protocol_version:
        description: NFS protocol version for C(netfs) with format V(nfs), for example V(4).
        type: str
      initiator:
        description:
          - The initiator IQN to log in with (C(iscsi); required for C(iscsi_direct)).
        type: str
      auth:
        description:
          - Authentication by reference to a libvirt secret (see M(kvm.storage.secret)) - CHAP for iSCSI, cephx for rbd.
          - The secret value itself is never part of the pool definition.
        type: dict
        suboptions:
          type:
            description: V(chap) (iSCSI) or V(ceph) (rbd).
            type: str
            required: true
            choices: [chap, ceph]
          username:
            description: The user name to authenticate as.
            type: str
            required: true
          secret_usage:
            description: The usage ID of the libvirt secret. Exclusive with O(source.auth.secret_uuid).
            type: str
          secret_uuid:
            description: The UUID of the libvirt secret. Exclusive with O(source.auth.secret_usage).
            type: str
      adapter:
        description:
          - The SCSI host adapter of a C(scsi) pool.
        type: dict
        suboptions:
          type:
            description: V(scsi_host) or V(fc_host) (Fibre Channel, makes the pool shared).
            type: str
            default: scsi_host
            choices: [scsi_host, fc_host]
          name:
            description: The adapter name, for example V(host0).
            type: str
          parent:
            description: Parent adapter of an C(fc_host) vHBA.
            type: str
          wwnn:
            description: World wide node name of an C(fc_host) adapter.
            type: str
          wwpn:
            description: World wide port name of an C(fc_host) adapter.
            type: str
          managed:
            description: Whether libvirt manages the vHBA's lifetime.
            type: bool
seealso:
  - module: kvm.storage.pool_info
  - name: libvirt storage pool XML format
    description: The definition that the typed options write.
    link: https://libvirt.org/formatstorage.html
"""

EXAMPLES = r"""
- name: A directory pool for images, started at boot
  kvm.storage.pool:
    name: images
    type: dir
    target:
      path: /var/lib/libvirt/images
      permissions:
        mode: "0711"
    autostart: true

- name: A filesystem pool on a disk (a build makes the ext4 filesystem only if the disk is empty)
  kvm.storage.pool:
    name: fast
    type: fs
    source:
      devices: [/dev/sdb]
      format: ext4
    target:
      path: /srv/fast

- name: GlusterFS through FUSE, shared by all hosts (live migration ready)
  kvm.storage.pool:
    name: gluster-fuse
    type: netfs
    source:
      hosts: [{name: gluster1.example.com}]
      dir: gv0
      format: glusterfs
    target:
      path: /var/lib/libvirt/gluster-gv0

- name: Native gluster pool over the same volume
  kvm.storage.pool:
    name: gluster-native
    type: gluster
    source:
      hosts: [{name: gluster1.example.com}]
      name: gv0

# For a target that requires CHAP, add source.auth naming a libvirt secret: see the
# examples of kvm.storage.secret.
- name: iSCSI LUNs through libiscsi (no kernel initiator needed)
  kvm.storage.pool:
    name: san2
    type: iscsi_direct
    source:
      hosts: [{name: 192.0.2.20, port: 3260}]
      devices: [iqn.2026-01.com.example:store2]
      initiator: iqn.2026-01.com.example:hv1

- name: Stop a pool without touching its definition
  kvm.storage.pool:
    name: fast
    state: inactive

- name: Remove a pool, keeping its data
  kvm.storage.pool:
    name: fast
    state: absent

- name: Remove an empty directory pool and its directory
  kvm.storage.pool:
    name: scratch
    state: absent
    delete_data: true
"""

RETURN = r"""
actions:
  description: The steps taken, or in check mode the steps a real run would take, in order.
  returned: always
  type: list
  elements: str
  sample: ["define pool images", "build pool images (no overwrite)", "start pool images"]
name:
  description: The pool name.
  returned: always
  type: str
pool:
  description: The pool after the change, as M(kvm.storage.pool_info) reports it. Not returned in check mode
    or when the pool was removed.
  returned: success and not check mode and O(state) is not V(absent)
  type: dict
  sample:
    name: images
    type: dir
    state: running
    active: true
    autostart: true
    capacity: 107374182400
    migratable: false
    sharing: local
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._pool import argument_spec, MUTUALLY_EXCLUSIVE
from ansible_collections.kvm.storage.plugins.module_utils._pool_module import pool_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


def main():
    spec = connection_argument_spec()
    spec.update(argument_spec())
    module = AnsibleModule(argument_spec=spec, mutually_exclusive=MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    run(module, pool_work)


if __name__ == '__main__':
    main()
