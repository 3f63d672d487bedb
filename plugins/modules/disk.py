#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: disk
short_description: Attach, change and detach one disk of a libvirt guest, live and persistently
version_added: 0.1.0
description:
  - Manages one disk of one guest - a pool volume, an image file, a block device (a raw disk, an LV or thin LV, a
    host CD-ROM drive), a network disk (gluster, iSCSI, NBD, rbd, http/https) or a passthrough LUN - on virtio-blk,
    virtio-scsi, SATA, IDE, USB or floppy.
  - On a running guest the change is applied live as well as to the persistent definition (O(live) unset); on a
    stopped guest only the definition changes. Buses that cannot be hot-plugged (SATA, IDE, floppy) are attached
    persistently and take effect at the next boot; the action says so.
  - The bus is checked against the guest's domain capabilities before anything is written, because libvirt accepts
    for instance an IDE disk on a q35 guest, which then cannot start.
  - A disk is identified by the storage it reaches, not by how its source is spelled - a pool volume and its path,
    a symlink, a hard link or another alias of one block device are the same disk. A re-run does not attach a
    second copy; without O(target) the disk keeps the target it has in either definition (live or persistent), or
    gets the first free name of the bus (vdX, sdX, hdX, fdX). A second attachment of one image to one guest at
    another target is refused unless both are O(shareable) (or both read-only).
  - The image's format is read from its header (file, volume and readable block sources), so O(format) may be left
    out; a O(format) that contradicts the header (V(raw) on a qcow2 image, which the guest would overwrite) is
    refused. An image with a LUKS header is never guessed V(raw).
  - A file or block device that does not exist is refused (a stopped guest could not start) unless
    O(startup_policy) is V(optional) or V(requisite), or O(allow_missing=true).
  - Changing the media of a CD-ROM or floppy drive is an update of that drive, live where the guest runs; so is a
    change of O(iotune) (libvirt's block I/O tune call, live and in the persistent definition).
  - Any other setting of an attached disk that differs (O(cache), O(io), O(discard), O(detect_zeroes), O(iothread),
    O(format), O(bus), ...) is a conflict - libvirt 9.0 refuses to change them on a running guest ("cannot modify
    field 'cache' of the disk"); detach the disk and attach it again to change them.
  - A live detach waits until the guest has released the disk (up to O(timeout)); a guest that does not let go
    gets an error and its persistent definition stays unchanged. A guest that stops meanwhile takes the running
    copy with it; the persistent definition is then changed and a warning says so. The volume itself always stays.
  - O(state=absent) with a source detaches every target that holds that storage, in the running guest and in the
    persistent definition.
  - A virtio-scsi disk gets the controller its target sits on (libvirt puts seven units on each, V(sda)-V(sdg) on
    controller 0, V(sdh)-V(sdn) on controller 1, ...), a virtio-scsi one in each definition; controllers added by
    a run that then fails are removed again.
  - In check mode, a source volume that does not exist yet (made, with its pool perhaps, by an earlier task of the
    play) is planned as if it existed - changed, the steps a real run takes in RV(actions), a warning naming the
    assumption, and RV(assumed) listing it. A real run assumes nothing and fails when the volume is still missing.
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._attributes
  - kvm.storage._attributes.CHANGES_STATE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
options:
  domain:
    description: The guest (libvirt domain) name.
    type: str
    required: true
  state:
    description: V(present) attaches (or changes media); V(absent) detaches. Detaching never deletes the storage.
    type: str
    default: present
    choices: [present, absent]
  target:
    description:
      - The device name in the guest definition, for example V(vdb), V(sdc), V(hda), V(fda). Must fit the bus.
      - When omitted, the disk is found by its source, or gets the first free name of its bus.
    type: str
  device:
    description: What the guest sees.
    type: str
    default: disk
    choices: [disk, cdrom, floppy, lun]
  bus:
    description:
      - V(virtio) (virtio-blk), V(scsi) (virtio-scsi; the controller is added when the guest has none), V(sata),
        V(ide) (legacy guests; not on q35), V(usb) (USB mass storage), V(fdc) (floppy).
      - Defaults to V(virtio) for disks, V(sata) for CD-ROMs, V(fdc) for floppies and V(scsi) for LUNs.
    type: str
    choices: [virtio, scsi, sata, ide, usb, fdc]
  source:
    description:
      - What the disk reads and writes. Exactly one of the suboptions. A CD-ROM or floppy without source is an empty
        drive (which cannot be hot-plugged).
    type: dict
    suboptions:
      file:
        description: An image file on the host.
        type: path
      block:
        description: A block device on the host.
        type: path
      volume:
        description:
          - A volume of a libvirt pool; its format is used when O(format) is not given.
          - A volume of a pool that libvirt does not hand to guests as a volume disk (native V(gluster), V(rbd),
            V(sheepdog), V(mpath)) is attached as the disk it stands for - a network disk with the pool's hosts and
            the volume's name, or a block disk - and M(kvm.storage.disk_info) names the volume again.
        type: dict
        suboptions:
          pool:
            description: Pool name.
            type: str
            required: true
          name:
            description: Volume name.
            type: str
            required: true
      network:
        description: A network disk reached by qemu itself.
        type: dict
        suboptions:
          protocol:
            description: The protocol.
            type: str
            required: true
            choices: [gluster, iscsi, nbd, rbd, http, https]
          name:
            description:
              - V(volume/path/image) for gluster, V(IQN/LUN) for iSCSI, V(pool/image) for rbd, the export for nbd, the
                path for http(s).
            type: str
          hosts:
            description: Servers to contact.
            type: list
            elements: dict
            suboptions:
              name:
                description: Host name or address.
                type: str
                required: true
              port:
                description: Port, when not the default.
                type: int
              transport:
                description: Transport, for gluster.
                type: str
                choices: [tcp, unix, rdma]
          auth:
            description: Authentication by reference to a libvirt secret (iSCSI CHAP, Ceph).
            type: dict
            suboptions:
              username:
                description: User name.
                type: str
                required: true
              secret_usage:
                description: Usage id of the libvirt secret.
                type: str
              secret_uuid:
                description: UUID of the libvirt secret.
                type: str
  format:
    description:
      - Image format qemu uses (driver type).
      - When omitted, the format the image's header says (file, volume and readable block sources); for a volume
        whose image cannot be read from here, the volume's format as libvirt reports it. A network source, or a
        CD-ROM or floppy whose image is missing, gets V(raw). An image whose format cannot be read (a missing file
        allowed by O(startup_policy) or O(allow_missing), a remote libvirt URI) needs O(format).
      - A declared format that contradicts the image's header is refused, for example V(raw) on a qcow2 image (the
        guest would overwrite the qcow2 header). V(raw) on an image with a LUKS header hands the encrypted bytes to
        the guest, which unlocks them itself; without O(format) such an image is refused.
    type: str
    choices: [raw, qcow2, qed, vmdk, vdi, vpc, vhdx, iso]
  cache:
    description: Host cache mode.
    type: str
    choices: [default, none, writethrough, writeback, directsync, unsafe]
  io:
    description: I/O mode.
    type: str
    choices: [native, threads, io_uring]
  discard:
    description: V(unmap) passes the guest's TRIM/discard through (virtio-scsi and virtio-blk).
    type: str
    choices: [unmap, ignore]
  detect_zeroes:
    description: Turn zero writes into holes or unmaps.
    type: str
    choices: ['off', 'on', unmap]
  iothread:
    description: The guest iothread that serves the disk.
    type: int
  iotune:
    description:
      - Block I/O limits of the disk (libvirt's C(<iotune>)) - rates per second of bytes and of I/O operations, in
        total or for reads and writes apart (a total and a read or write limit of the same kind are exclusive),
        bursts above them (C(*_max)) and how long a burst may last (C(*_max_length), seconds).
      - The dict is the whole set of limits - a limit left out (or 0) is no limit, so V({}) lifts every limit. Unset,
        the disk's limits are not managed.
      - On an existing disk a change is made in place, never by a detach and attach - live through libvirt's block I/O
        tune call (virDomainSetBlockIoTune) on a running guest, and in the persistent definition; RV(actions) says
        C(update iotune of disk vdb of guest ...). A new disk is attached with its limits in its definition.
      - Values as libvirt takes them - integers, bytes (not sizes with units) and operations.
    type: dict
    suboptions:
      total_bytes_sec:
        description: Bytes per second for reads and writes together (0 - no limit).
        type: int
      read_bytes_sec:
        description: Bytes per second for reads (0 - no limit).
        type: int
      write_bytes_sec:
        description: Bytes per second for writes (0 - no limit).
        type: int
      total_iops_sec:
        description: I/O operations per second for reads and writes together (0 - no limit).
        type: int
      read_iops_sec:
        description: I/O operations per second for reads (0 - no limit).
        type: int
      write_iops_sec:
        description: I/O operations per second for writes (0 - no limit).
        type: int
      total_bytes_sec_max:
        description: Burst of O(iotune.total_bytes_sec) - the rate allowed while a burst lasts; at least that rate.
        type: int
      read_bytes_sec_max:
        description: Burst of O(iotune.read_bytes_sec) - the rate allowed while a burst lasts; at least that rate.
        type: int
      write_bytes_sec_max:
        description: Burst of O(iotune.write_bytes_sec) - the rate allowed while a burst lasts; at least that rate.
        type: int
      total_iops_sec_max:
        description: Burst of O(iotune.total_iops_sec) - the rate allowed while a burst lasts; at least that rate.
        type: int
      read_iops_sec_max:
        description: Burst of O(iotune.read_iops_sec) - the rate allowed while a burst lasts; at least that rate.
        type: int
      write_iops_sec_max:
        description: Burst of O(iotune.write_iops_sec) - the rate allowed while a burst lasts; at least that rate.
        type: int
      total_bytes_sec_max_length:
        description: Seconds a burst of O(iotune.total_bytes_sec_max) may last (qemu's default - 1).
        type: int
      read_bytes_sec_max_length:
        description: Seconds a burst of O(iotune.read_bytes_sec_max) may last (qemu's default - 1).
        type: int
      write_bytes_sec_max_length:
        description: Seconds a burst of O(iotune.write_bytes_sec_max) may last (qemu's default - 1).
        type: int
      total_iops_sec_max_length:
        description: Seconds a burst of O(iotune.total_iops_sec_max) may last (qemu's default - 1).
        type: int
      read_iops_sec_max_length:
        description: Seconds a burst of O(iotune.read_iops_sec_max) may last (qemu's default - 1).
        type: int
      write_iops_sec_max_length:
        description: Seconds a burst of O(iotune.write_iops_sec_max) may last (qemu's default - 1).
        type: int
      group_name:
        description:
          - Throttle group - disks of one guest with the same group name share one set of limits (qemu's throttle
            groups).
          - Compared only when set (qemu names a group for each throttled disk itself).
        type: str
  readonly:
    description: Read-only disk.
    type: bool
  shareable:
    description: Shared by several guests (a cluster filesystem inside).
    type: bool
  serial:
    description: Serial number the guest sees.
    type: str
  wwn:
    description: World wide name the guest sees (scsi, sata, ide).
    type: str
  boot_order:
    description: Boot order of the disk.
    type: int
  sgio:
    description: SG_IO filtering of a passthrough LUN (O(device=lun)).
    type: str
    choices: [filtered, unfiltered]
  rawio:
    description: Raw I/O capability for a passthrough LUN (O(device=lun)).
    type: bool
  startup_policy:
    description:
      - What libvirt does when the source is missing at guest start (O(source.file), O(source.block),
        O(source.volume)). V(optional) starts the guest without the media, V(requisite) (CD-ROM and floppy only)
        starts without it but keeps it required at a restore or migration, V(mandatory) (libvirt's default) refuses
        to start.
      - With V(optional) or V(requisite) a source that does not exist yet is accepted.
    type: str
    choices: [mandatory, requisite, optional]
  allow_missing:
    description:
      - Accept a O(source.file) or O(source.block) that does not exist yet, because it will exist before the guest
        starts. Without it (or O(startup_policy=optional)/V(requisite)) a missing path is refused, as a stopped
        guest could not start with it. Set O(format) too.
    type: bool
    default: false
  live:
    description:
      - Unset - apply to the running guest too, when it runs. V(false) - the persistent definition only (takes effect
        at the next boot). V(true) - require a running guest.
    type: bool
  persistent:
    description: Apply to the persistent definition. V(false) changes the running guest only.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for a running guest to release a disk that is detached live.
    type: int
    default: 30
seealso:
  - module: kvm.storage.disk_info
  - module: kvm.storage.volume
  - name: libvirt disk XML
    description: The definition the options write.
    link: https://libvirt.org/formatdomain.html#hard-drives-floppy-disks-cdroms
"""

EXAMPLES = r"""
- name: A pool volume as a virtio disk, live and persistent
  kvm.storage.disk:
    domain: web1
    source:
      volume: {pool: images, name: web1.qcow2}
    discard: unmap

- name: A virtio-scsi disk with TRIM (the controller is added when missing; the disk takes the first free sdX)
  kvm.storage.disk:
    domain: web1
    bus: scsi
    source: {block: /dev/vg0/web1-data}
    cache: none
    io: native
    discard: unmap

- name: Throttle that disk - 100 MiB/s and 2000 IOPS, bursts to 4000 IOPS for 30 s (changed in place, live too)
  kvm.storage.disk:
    domain: web1
    bus: scsi
    source: {block: /dev/vg0/web1-data}
    iotune:
      total_bytes_sec: 104857600
      total_iops_sec: 2000
      total_iops_sec_max: 4000
      total_iops_sec_max_length: 30

# SATA cannot be hot-plugged: on a running guest a new drive goes into the persistent
# definition and appears at the next boot. Changing the media of a drive the guest
# booted with is live.
- name: An ISO in a new SATA CD-ROM drive sdb (sda went to the virtio-scsi disk above)
  kvm.storage.disk:
    domain: web1
    device: cdrom
    target: sdb
    source: {file: /var/lib/libvirt/isos/debian-12.iso}
    readonly: true

- name: An ISO that may be missing when the guest starts (the guest then boots without it)
  kvm.storage.disk:
    domain: web1
    device: cdrom
    target: sdc
    source: {file: /var/lib/libvirt/isos/tools.iso}
    startup_policy: optional

- name: A qcow2 image file; its format is read from the image (format raw would be refused)
  kvm.storage.disk:
    domain: web1
    source: {file: /var/lib/libvirt/images/web2.qcow2}

- name: Eject the CD-ROM
  kvm.storage.disk:
    domain: web1
    device: cdrom
    target: sdb

- name: A gluster image over gfapi (owned by the qemu user, see kvm.storage.volume)
  kvm.storage.disk:
    domain: web1
    source:
      network:
        protocol: gluster
        name: gv0/web1-shared.raw
        hosts: [{name: gluster1.example.com}]
    format: raw

- name: Detach, waiting up to a minute for the guest to let go
  kvm.storage.disk:
    domain: web1
    target: vdb
    state: absent
    timeout: 60
"""

RETURN = r"""
actions:
  description: The steps taken, or in check mode the steps a real run would take.
  returned: always
  type: list
  elements: str
  sample: ["attach disk vdb (virtio, volume web1-data.qcow2 of pool images) to guest web1 (live and persistent)"]
assumed:
  description:
    - Check mode only - what did not exist yet and was planned as if an earlier task of the play made it
      (each also named in a warning). A real run fails if it still does not exist then.
  returned: in check mode, when something was assumed
  type: list
  elements: str
  sample: ["volume web1.qcow2 of pool images"]
target:
  description: The disk's target name (picked by the module when not given).
  returned: when O(state=present)
  type: str
  sample: vdb
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._disk import argument_spec
from ansible_collections.kvm.storage.plugins.module_utils._disk_module import disk_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


def main():
    spec = connection_argument_spec()
    spec.update(argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run(module, disk_work)


if __name__ == '__main__':
    main()
