#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: volume
short_description: Manage libvirt storage volumes and disk images, one or many at once
version_added: 0.1.0
description:
  - Creates, grows and deletes volumes in any libvirt pool - raw and qcow2 images (sparse or preallocated),
    linked clones over a template (qcow2 overlays with an explicit backing format), full clones (also across
    pools), LVs in logical pools, and images in native gluster pools (through qemu-img's gluster driver, since
    libvirt cannot create volumes there).
  - O(volumes) manages many volumes in one task over one libvirt connection.
  - Data is safe by default - volumes only grow, a different format or backing file is a conflict (never a
    recreate), and a volume used by a guest or backing another volume is not deleted or shrunk without O(force).
  - Volumes of iSCSI, SCSI and multipath pools are LUNs the storage provides; creating one is refused.
  - In check mode, a pool, a backing or clone source volume, or the libvirt secret of a LUKS volume that does not
    exist yet (made by an earlier task of the play) is planned as if it existed - changed, the steps a real run takes
    in RV(actions) (a backing path or size not known yet is named by its volume instead), a warning naming each
    assumption, and RV(assumed) listing them. A real run assumes nothing and fails when it is still missing.
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
      - Name of the volume (the file name in a directory pool, the LV name in a logical pool).
        C(/), C(..), control characters and a leading C(-) are refused.
      - Exclusive with O(volumes).
    type: str
  pool:
    description:
      - The pool that holds the volume. Required at the top level or in every item of O(volumes).
    type: str
  state:
    description:
      - V(present) creates the volume when it is missing and grows it when O(capacity) is larger.
      - V(absent) deletes it; refused while a guest (running or defined) uses it or another volume has it as
        backing file, unless O(force=true).
      - Defaults to V(present).
    type: str
    choices: [present, absent]
  capacity:
    description:
      - Size the guest sees, with libvirt's units - V(20GiB) or V(20G) is 20 * 1024^3 bytes, V(20GB) is 20 * 10^9
        bytes, a bare number is bytes.
      - Needed to create a volume unless it comes from O(backing) or O(clone_from) (their size is the default).
      - A larger value grows an existing volume; a smaller one is refused unless O(allow_shrink=true).
      - At most 2^63-1 bytes (8 EiB less one byte), the most libvirt accepts.
    type: str
  format:
    description:
      - Image format. Defaults to V(raw) for a new volume, V(qcow2) when O(backing) is set, and the source's format
        for O(clone_from). Not used in logical pools (an LV has no format).
      - New qcow2 volumes are qcow2 v3 (compat 1.1) unless O(compat) says otherwise; O(cluster_size),
        O(lazy_refcounts) and O(preallocation) shape them further.
      - An existing volume with another format is a conflict; it is never recreated.
    type: str
    choices: [raw, qcow2, qed, vmdk, vdi, vpc, vhdx]
  preallocation:
    description:
      - How much space a new volume takes at once. V(sparse) (the default in file pools) allocates nothing;
        V(metadata) preallocates qcow2 metadata; V(falloc) and V(full) allocate the whole raw volume (libvirt uses
        fallocate where the filesystem supports it and writes zeros otherwise).
      - For qcow2, V(falloc) reserves the whole image with fallocate (libvirt's metadata flag with allocation =
        capacity) and V(full) writes every cluster - libvirt cannot ask qemu for that, so libvirt creates the volume
        and C(qemu-img create -o preallocation=full) formats the same file in place (file pools on the libvirt host;
        native gluster pools through qemu-img). A qcow2 overlay (O(backing)) takes no V(falloc) or V(full) (qemu
        refuses them).
      - Applies when a volume is created; an existing volume is not compared (its allocation changes with use).
      - In logical pools volumes are fully allocated by default, because libvirt turns an LV with allocation below
        capacity into an old-style LVM snapshot that becomes invalid when it fills; V(sparse) asks for that anyway.
    type: str
    choices: [sparse, metadata, falloc, full]
  allocation:
    description:
      - Bytes to allocate when creating, instead of O(preallocation) (same units as O(capacity)).
    type: str
  cluster_size:
    description:
      - Cluster size of a new qcow2 image (a power of two from V(512) bytes to V(2MiB), same units as O(capacity));
        qemu's default is 64 KiB. Larger clusters mean less metadata and faster sequential I/O, smaller ones less
        waste in sparse images and overlays.
      - Needs O(format=qcow2) (an overlay from O(backing) is qcow2 already). With O(import_from), the image is
        converted to qcow2 with it.
      - An existing volume with another cluster size is a conflict; it is never recreated.
    type: str
  lazy_refcounts:
    description:
      - V(true) makes a new qcow2 image with lazy refcounts (refcount updates are deferred; faster writes with
        C(cache=writethrough), a repair by qemu after a crash). Needs compat V(1.1).
      - An existing volume with the other setting is a conflict (change it with C(qemu-img amend) while no guest
        uses the image).
    type: bool
  compat:
    description:
      - qcow2 version of a new image - V(1.1) (qcow2 v3, the default for new images) or V(0.10) (v2, for old qemu
        releases).
      - Compared only when set - an existing qcow2 volume of the other version is then a conflict.
    type: str
    choices: ['0.10', '1.1']
  backing:
    description:
      - Make the new volume a linked clone - a qcow2 overlay over a template volume, given by O(backing.pool) and
        O(backing.name) or by O(backing.path).
      - The backing format is always written into the overlay (taken from the template volume, or from
        O(backing.format)), so qemu never probes it.
      - An existing volume with another backing file is a conflict.
    type: dict
    suboptions:
      pool:
        description: Pool of the template volume; defaults to O(pool).
        type: str
      name:
        description: Name of the template volume.
        type: str
      path:
        description: Path of a template file outside any pool. Needs O(backing.format).
        type: path
      format:
        description: Format of the template; read from the volume when it is in a pool.
        type: str
        choices: [raw, qcow2, qed, vmdk, vdi, vpc, vhdx]
  clone_from:
    description:
      - Make the new volume a full copy of another volume, also from another pool. libvirt copies with a reflink where
        the filesystem supports it and keeps the copy sparse otherwise.
      - Exclusive with O(backing). An existing volume is never copied over.
    type: dict
    suboptions:
      pool:
        description: Pool of the source volume; defaults to O(pool).
        type: str
      name:
        description: Name of the source volume.
        type: str
  import_from:
    description:
      - Create the volume from an image - an absolute path of a file on the managed host, or an C(http://) or
        C(https://) URL that the managed host downloads (not the controller).
      - C(gzip), C(xz) and C(bzip2) compressed images are unpacked on the way (streamed, in Python), C(zstd) ones with
        the C(zstd) tool (install the package C(zstd) on the host); what a file is compressed with is read from its
        first bytes, not its name.
      - The image's format is read from its header with qemu-img (never from its name) - raw, qcow2, and the
        formats of other hypervisors vmdk (monolithic, single file), vhdx, vdi and vpc (VHD). It is converted with
        C(qemu-img convert) (zeros stay holes) into O(format) when that differs, or when O(compress) or a qcow2
        creation option (O(cluster_size), O(lazy_refcounts), O(compat), which need O(format=qcow2) here) is set.
        Without O(format), raw and qcow2 images keep their format and the others become qcow2. A logical pool takes
        the image as raw data.
      - An image that would make qemu open other files is refused - a backing file, a qcow2 external data file, a
        vmdk descriptor with extents in other files.
      - The (converted) data is uploaded through libvirt with holes kept as holes. Temporary files live in one work
        folder under the module's temporary directory, removed when the import ends, fails or is cut off by an
        error.
      - Only a missing volume is imported; an existing one is left as it is, with a warning when it differs from the
        source (format and virtual size of a local uncompressed image; with O(checksum), the volume's content).
      - Exclusive with O(backing) and O(clone_from). Not for native gluster pools (use a FUSE C(netfs) pool).
    type: str
  import_format:
    description:
      - The format the O(import_from) image is expected to have. When its header says otherwise the import is refused
        before anything is created (a raw image that holds a qcow2 header must not be opened as qcow2).
      - Without it, the header alone decides.
    type: str
    choices: [raw, qcow2, vmdk, vhdx, vdi, vpc]
  checksum:
    description:
      - Checksum of the O(import_from) source as given (compressed or not), V(sha256:<hex>) or V(sha512:<hex>).
        A mismatch fails before any volume is created.
      - When the volume already exists, its content (a file volume on the host, imported uncompressed and not
        converted, without O(compress) or O(capacity)) is hashed and compared with this checksum; a difference is a warning, the volume is
        kept.
    type: str
  compress:
    description:
      - With O(import_from), store the image as qcow2 with compressed clusters (qemu-img convert -c on the host).
    type: bool
  encryption:
    description:
      - Create the volume LUKS-encrypted; the passphrase is a libvirt secret (usage type volume), referenced by
        O(encryption.secret_uuid) or O(encryption.secret_usage) - see M(kvm.storage.secret). The passphrase itself
        never passes through this module.
      - An existing unencrypted volume is a conflict; it is never recreated.
      - An encrypted qcow2 volume takes no O(preallocation=full) and an encrypted raw volume no O(preallocation) or
        O(allocation) (libvirt makes a raw LUKS image sparse, and formatting a qcow2 image again for V(full) would
        drop the encryption); both are refused.
      - The qemu-img 7.2 of Debian 12 fails LUKS creation at random on fast machines with C(Unable to get accurate
        CPU usage) (a qemu bug in its PBKDF benchmark, fixed in qemu 10.0); the create fails before anything is
        written and libvirt removes the file, so the module repeats it, up to 25 times.
    type: dict
    suboptions:
      format:
        description: Encryption format; V(luks) (the default).
        type: str
        choices: [luks]
      secret_uuid:
        description: UUID of the libvirt secret.
        type: str
      secret_usage:
        description: Usage id of the libvirt volume secret.
        type: str
  cloud_init:
    description:
      - Make the volume a cloud-init NoCloud seed - a raw ISO 9660 image labelled C(cidata) whose root folder holds
        the files C(user-data) and C(meta-data) (each empty when not given; NoCloud reads both) and
        C(network-config) when O(cloud_init.network_config) is set. Attach it to the guest as a CD-ROM
        (M(kvm.storage.disk) with C(device=cdrom)); cloud-init finds it by its label.
      - Built with C(xorriso) (or C(genisoimage)) on the host the module runs on (the C(kvm.storage.hypervisor) role
        installs C(xorriso)) - from files in a private temporary folder (the content never reaches a command line),
        complete before any volume is touched, then written through libvirt.
      - Idempotent by content - an existing volume is read back through libvirt and its files are compared byte
        for byte with the ones asked for (nothing is stored elsewhere that could drift). When they differ the ISO is
        written anew in place (zeros after it up to the old size), refused as a conflict while a running guest has
        it open (shut the guest off; it reads the new seed when it boots). A volume under the name that is no
        C(cidata) ISO image is a conflict, never overwritten.
      - The values are C(no_log); RV(actions) and diff mode show file names and sizes, never content.
      - File pools only (V(dir), V(fs), V(netfs)). Exclusive with O(capacity) (the size is the image's),
        O(backing), O(clone_from), O(import_from), O(encryption) and the qcow2 options; O(format) is V(raw) or unset.
    type: dict
    suboptions:
      user_data:
        description:
          - The C(user-data) file, as text - usually a C(#cloud-config) YAML document, or a script.
        type: str
      meta_data:
        description:
          - The C(meta-data) file, as text, for example C(instance-id) and C(local-hostname). cloud-init runs its
            once-per-instance modules again only when the instance id changes.
        type: str
      network_config:
        description:
          - The C(network-config) file (network configuration version 1 or 2, YAML text); left out of the ISO when
            not set.
        type: str
  permissions:
    description:
      - Mode, owner and group of a new file volume. Names are resolved on the host the module runs on.
      - Applied when the volume is created only - libvirt's dynamic ownership changes the owner of an image while a
        guest uses it, so the module does not chase owners of existing volumes.
    type: dict
    suboptions:
      mode:
        description: Octal mode, for example V(0600).
        type: str
      owner:
        description: User name or uid.
        type: str
      group:
        description: Group name or gid.
        type: str
      label:
        description: SELinux label.
        type: str
  wipe:
    description:
      - With O(state=absent), overwrite the volume's data with this algorithm before deleting it.
    type: str
    choices: [zero, nnsa, dod, bsi, gutmann, schneier, pfitzner7, pfitzner33, random, trim]
  allow_shrink:
    description:
      - Let a smaller O(capacity) shrink an existing volume, cutting off the data at its end. Still refused while the
        volume is in use unless O(force=true). Defaults to V(false).
    type: bool
  force:
    description:
      - Delete, wipe or shrink a volume even though a guest uses it (directly or through an image backed by it, by
        any name, since usage is decided by the file itself), another image is backed by it, or, in a V(netfs) pool,
        another process (a guest on another host) holds its lock.
      - In a native V(gluster) or V(rbd) pool deleting, wiping or shrinking always needs O(force), because that
        storage keeps no lock that would show a guest on another host using the image.
      - Replace a volume that an earlier run was cut off while making (its in-flight marker under
        C(/var/lib/kvm-storage/inflight) outlived it) even though the volume changed since or the
        cut-off run could not record how it left it; without O(force) such a volume is refused.
        Defaults to V(false).
    type: bool
  volumes:
    description:
      - Many volumes in one task and one libvirt connection. Each item takes the per-volume options; an option not
        set in an item comes from the top level, so common settings are written once.
      - Items are applied in order, so a later item may use an earlier one as O(backing) or O(clone_from).
      - When an item fails, the volumes before it stay (they are complete) and the failed one is rolled back.
    type: list
    elements: dict
    suboptions:
      name:
        description: As O(name). Required in each item.
        type: str
      pool:
        description: As O(pool); overrides it for this volume.
        type: str
      state:
        description: As O(state).
        type: str
        choices: [present, absent]
      capacity:
        description: As O(capacity).
        type: str
      format:
        description: As O(format).
        type: str
        choices: [raw, qcow2, qed, vmdk, vdi, vpc, vhdx]
      preallocation:
        description: As O(preallocation).
        type: str
        choices: [sparse, metadata, falloc, full]
      allocation:
        description: As O(allocation).
        type: str
      cluster_size:
        description: As O(cluster_size).
        type: str
      lazy_refcounts:
        description: As O(lazy_refcounts).
        type: bool
      compat:
        description: As O(compat).
        type: str
        choices: ['0.10', '1.1']
      backing:
        description:
          - Make the new volume a linked clone - a qcow2 overlay over a template volume, given by O(volumes[].backing.pool) and
            O(volumes[].backing.name) or by O(volumes[].backing.path).
          - The backing format is always written into the overlay (taken from the template volume, or from
            O(volumes[].backing.format)), so qemu never probes it.
          - An existing volume with another backing file is a conflict.
        type: dict
        suboptions:
          pool:
            description: Pool of the template volume; defaults to O(pool).
            type: str
          name:
            description: Name of the template volume.
            type: str
          path:
            description: Path of a template file outside any pool. Needs O(volumes[].backing.format).
            type: path
          format:
            description: Format of the template; read from the volume when it is in a pool.
            type: str
            choices: [raw, qcow2, qed, vmdk, vdi, vpc, vhdx]
      clone_from:
        description:
          - Make the new volume a full copy of another volume, also from another pool. libvirt copies with a reflink where
            the filesystem supports it and keeps the copy sparse otherwise.
          - Exclusive with O(backing). An existing volume is never copied over.
        type: dict
        suboptions:
          pool:
            description: Pool of the source volume; defaults to O(pool).
            type: str
          name:
            description: Name of the source volume.
            type: str
      import_from:
        description: As O(import_from).
        type: str
      import_format:
        description: As O(import_format).
        type: str
        choices: [raw, qcow2, vmdk, vhdx, vdi, vpc]
      checksum:
        description: As O(checksum).
        type: str
      compress:
        description: As O(compress).
        type: bool
      encryption:
        description: As O(encryption).
        type: dict
        suboptions:
          format:
            description: As O(encryption.format).
            type: str
            choices: [luks]
          secret_uuid:
            description: As O(encryption.secret_uuid).
            type: str
          secret_usage:
            description: As O(encryption.secret_usage).
            type: str
      cloud_init:
        description: As O(cloud_init).
        type: dict
        suboptions:
          user_data:
            description: As O(cloud_init.user_data).
            type: str
          meta_data:
            description: As O(cloud_init.meta_data).
            type: str
          network_config:
            description: As O(cloud_init.network_config).
            type: str
      permissions:
        description:
          - Mode, owner and group of a new file volume. Names are resolved on the host the module runs on.
          - Applied when the volume is created only - libvirt's dynamic ownership changes the owner of an image while a
            guest uses it, so the module does not chase owners of existing volumes.
        type: dict
        suboptions:
          mode:
            description: Octal mode, for example V(0600).
            type: str
          owner:
            description: User name or uid.
            type: str
          group:
            description: Group name or gid.
            type: str
          label:
            description: SELinux label.
            type: str
      wipe:
        description: As O(wipe).
        type: str
        choices: [zero, nnsa, dod, bsi, gutmann, schneier, pfitzner7, pfitzner33, random, trim]
      allow_shrink:
        description: As O(allow_shrink).
        type: bool
      force:
        description: As O(force).
        type: bool
seealso:
  - module: kvm.storage.volume_info
  - module: kvm.storage.pool
  - name: libvirt storage volume XML format
    description: The definition the options write.
    link: https://libvirt.org/formatstorage.html#storage-volume-xml
"""

EXAMPLES = r"""
- name: A 20 GiB sparse raw image
  kvm.storage.volume:
    pool: images
    name: data.raw
    capacity: 20GiB

- name: A template and three linked clones of it, in one task
  kvm.storage.volume:
    pool: images
    format: qcow2
    volumes:
      - name: debian12-template.qcow2
        capacity: 10GiB
      - name: web1.qcow2
        backing: {name: debian12-template.qcow2}
      - name: web2.qcow2
        backing: {name: debian12-template.qcow2}
        capacity: 40GiB
      - name: web3.qcow2
        backing: {name: debian12-template.qcow2}

# qemu runs as its own user (Debian: libvirt-qemu) and libvirt does not relabel network
# disks, so an image that guests reach over gfapi must belong to that user.
- name: A full copy into another pool - the shared GlusterFS pool, as raw, for a guest reached over gfapi
  kvm.storage.volume:
    pool: gluster-fuse
    name: web1-shared.raw
    format: raw
    clone_from: {pool: images, name: debian12-template.qcow2}
    permissions: {owner: libvirt-qemu, group: libvirt-qemu, mode: "0600"}

- name: A database disk - qcow2 with 1 MiB clusters, lazy refcounts and its metadata allocated up front (sparse)
  kvm.storage.volume:
    pool: images
    name: db-data.qcow2
    format: qcow2
    capacity: 100GiB
    cluster_size: 1MiB
    lazy_refcounts: true
    preallocation: metadata

- name: A small journal disk with every cluster written up front (full preallocation writes the whole capacity)
  kvm.storage.volume:
    pool: images
    name: journal.qcow2
    format: qcow2
    capacity: 1GiB
    preallocation: full

- name: Grow a volume (never shrinks without allow_shrink)
  kvm.storage.volume:
    pool: images
    name: data.raw
    capacity: 40GiB

- name: A template imported from a URL, checked, unpacked on the host
  kvm.storage.volume:
    pool: images
    name: debian12.qcow2
    import_from: https://images.example.com/debian-12-genericcloud-amd64.qcow2.xz
    # the digest the image's SHA512SUMS lists
    checksum: "sha512:{{ debian12_xz_sha512 }}"

- name: A VMware disk converted into a qcow2 volume on import (the header must say vmdk)
  kvm.storage.volume:
    pool: images
    name: legacy-app.qcow2
    import_from: /srv/export/legacy-app.vmdk
    import_format: vmdk

- name: A zstd-compressed raw image, checked (the checksum is of the .zst file), stored as raw
  kvm.storage.volume:
    pool: images
    name: appliance.raw
    format: raw
    import_from: https://images.example.com/appliance.raw.zst
    checksum: "sha256:{{ appliance_zst_sha256 }}"

# Attach it to web1 as a CD-ROM (kvm.storage.disk, device cdrom); cloud-init finds it by
# its label cidata. A changed user_data rewrites the ISO only while web1 is shut off.
- name: A cloud-init seed ISO for web1 (user-data is no_log; actions and diff show sizes only)
  kvm.storage.volume:
    pool: images
    name: web1-seed.iso
    cloud_init:
      meta_data: |
        instance-id: web1
        local-hostname: web1
      user_data: |
        #cloud-config
        users:
          - name: admin
            sudo: ALL=(ALL) NOPASSWD:ALL
            ssh_authorized_keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly admin@example.com]
      network_config: |
        version: 2
        ethernets:
          eth0: {dhcp4: true}

- name: The passphrase of an encrypted volume, in a libvirt secret named by the volume's path
  kvm.storage.secret:
    usage: volume
    usage_id: /var/lib/libvirt/images/vault.qcow2
    value: "{{ vault_luks_passphrase }}"

- name: A LUKS-encrypted volume, its passphrase in that secret
  kvm.storage.volume:
    pool: images
    name: vault.qcow2
    format: qcow2
    capacity: 50GiB
    encryption:
      secret_usage: /var/lib/libvirt/images/vault.qcow2

- name: Delete a volume, overwriting it with zeros first
  kvm.storage.volume:
    pool: images
    name: old.raw
    state: absent
    wipe: zero
"""

RETURN = r"""
actions:
  description: The steps taken, or in check mode the steps a real run would take, in order.
  returned: always
  type: list
  elements: str
  sample: ["create volume web1.qcow2 of pool images (qcow2, 10 GiB, backing /var/lib/libvirt/images/tpl.qcow2)"]
assumed:
  description:
    - Check mode only - what did not exist yet and was planned as if an earlier task of the play made it
      (each also named in a warning). A real run fails if it still does not exist then.
  returned: in check mode, when something was assumed
  type: list
  elements: str
  sample: ["pool images", "the libvirt volume secret with usage id /var/lib/libvirt/images/vault.qcow2"]
volume:
  description: The volume after the change, as M(kvm.storage.volume_info) reports it (without C(used_by)).
  returned: with O(name), not in check mode, when the volume exists
  type: dict
  sample:
    name: web1.qcow2
    pool: images
    path: /var/lib/libvirt/images/web1.qcow2
    format: qcow2
    capacity: 10737418240
    backing: {path: /var/lib/libvirt/images/tpl.qcow2, format: qcow2}
volumes:
  description: The volumes after the change, in the order of O(volumes) (deleted ones left out).
  returned: with O(volumes), not in check mode
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._volume import argument_spec, MUTUALLY_EXCLUSIVE, REQUIRED_ONE_OF
from ansible_collections.kvm.storage.plugins.module_utils._volume_module import hide_escaped, volume_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


class VolumeModule(AnsibleModule):
    """Hides the cloud_init values also as the invocation log spells them (escaped, inside
    the printed option) before it logs how it was invoked."""

    def _log_invocation(self):
        hide_escaped(self)
        super(VolumeModule, self)._log_invocation()


def main():
    spec = connection_argument_spec()
    spec.update(argument_spec())
    module = VolumeModule(argument_spec=spec, mutually_exclusive=MUTUALLY_EXCLUSIVE, required_one_of=REQUIRED_ONE_OF,
                          supports_check_mode=True)
    run(module, volume_work)


if __name__ == '__main__':
    main()
