#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: host_storage
short_description: The desired storage of one host in one call, planned as one graph
version_added: 0.1.0
description:
  - Takes secrets, storage pools, LVM thin pools and thin volumes, volumes and guest disks of one host and plans them
    as one graph against a simulated host - each object is planned against the host as the earlier steps of the
    same plan leave it. A volume in a pool the plan defines, a thin snapshot of a thin volume the plan creates, a
    disk whose volume the plan creates (its path and format come from the plan) are planned like any other, so check
    mode on a fresh host lists every step the real run takes, in the same words, and diff shows every object.
  - Each element takes exactly the options of the per-object module (M(kvm.storage.secret), M(kvm.storage.pool),
    M(kvm.storage.lvm_thin_pool), M(kvm.storage.lvm_thin_volume), M(kvm.storage.volume) for one volume,
    M(kvm.storage.disk)) and is decided by the same planner, with the same refusals and the same action words.
    Every element is validated before anything is read or written; one bad element fails the call, named by its
    list and index.
  - The order comes from the dependencies, whatever the order of the lists - secrets, pools (and the volume groups
    logical pools build), thin pools, thin volumes (snapshots after their origin), volumes (backing and clone
    sources first), disks. Removals (elements with C(state=absent)) come first and in reverse (a disk is detached before
    its volume is deleted, an overlay before its backing file), so detaches come before attaches. A cycle, or a
    reference to an object that neither exists nor is declared, is an error before any change.
  - One libvirt connection, one listing per kind, LVM read once.
  - A failure stops the plan. The object being changed is rolled back as its own module does it; the error lists
    the finished steps (RV(ignore:actions)) and the ones not reached (RV(ignore:not_reached)). A re-run goes on from
    there.
  - A disk whose C(source.volume) is in a pool that libvirt does not hand to guests as a volume disk (native
    V(gluster), V(rbd), V(sheepdog), V(mpath)) is attached as the disk the volume stands for - a network disk with
    the pool's hosts and the volume's name, or a block disk - so users name volumes, not URLs.
    M(kvm.storage.disk_info) reports such a disk's volume back.
  - Objects that exist but are not declared are reported in RV(unmanaged) and never removed.
  - In check mode, a pool, volume, secret, volume group, thin pool or thin volume that is neither on the host nor
    declared (made by an earlier task of the play) is planned as if it existed - changed, the steps a real run takes
    in RV(actions) (a path or size not known yet is named by its volume instead), a warning naming each assumption,
    and RV(assumed) listing them. A real run assumes nothing and fails when it is still missing.
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._attributes
  - kvm.storage._attributes.CHANGES_STATE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
options:
  secrets:
    description:
      - libvirt secrets, each with the options of M(kvm.storage.secret).
      - A new secret without O(secrets[].uuid) gets a UUID from the plan, so that volumes encrypted with it are planned
        with it.
    type: list
    elements: dict
    default: []
    suboptions:
        uuid:
          description:
            - The UUID of the secret. When set, the secret is looked up by it, and a new secret gets it.
            - When not set, the plan picks the UUID of a new secret.
          type: str
        usage:
          description:
            - What the secret is for - V(volume) (a LUKS passphrase of an encrypted volume), V(iscsi) (a CHAP password),
              V(ceph) (a cephx key) or V(tls) (the passphrase of a TLS key).
            - Needed to create a secret; set together with O(secrets[].secret_usage).
          type: str
          choices: [ceph, iscsi, tls, volume]
        secret_usage:
          description:
            - The identifier of the usage - the absolute path of the volume for V(volume), the iSCSI target (the name that
              pools refer to in C(<auth><secret usage>)) for V(iscsi), the Ceph client name for V(ceph), the name of the
              TLS credentials for V(tls).
            - Unique per usage type on a host; libvirt cannot change it on an existing secret.
            - The alias O(secrets[].usage_id), its first name, is deprecated and will be removed in release 0.2.0.
          type: str
          aliases: [usage_id]
        description:
          description:
            - A free text description. Left as it is when not set; an empty string removes it.
          type: str
        value:
          description:
            - The secret's value. Written when the secret is created, and for an existing secret as O(secrets[].update_value)
              says.
            - When not set, the value is left as it is (a new secret then has none).
          type: str
        value_encoding:
          description:
            - How O(secrets[].value) is written. V(plain) - the text itself (its UTF-8 bytes), for passphrases and CHAP passwords.
              V(base64) - the base64 form of binary bytes, for example a Ceph key as C(ceph auth get-key) prints it.
          type: str
          default: plain
          choices: [plain, base64]
        update_value:
          description:
            - When the value of an existing secret is written.
            - V(on_create) - only when this run creates the secret, or when a non-private secret has no value yet.
            - V(always) - whenever it may differ. A non-private secret is read back and written only when it differs;
              a private secret cannot be read back and is written on every run (reported as changed, so not idempotent).
          type: str
          default: on_create
          choices: [on_create, always]
        private:
          description:
            - Whether libvirt refuses to reveal the value through its API (C(virsh secret-get-value)).
            - A non-private secret can be made private; libvirt refuses the reverse.
          type: bool
          default: true
        ephemeral:
          description:
            - Keep the secret in memory only; it is gone when libvirtd restarts.
          type: bool
          default: false
        state:
          description:
            - V(present) - defined, with the definition asked for.
            - V(absent) - undefined.
          type: str
          default: present
          choices: [present, absent]
        force:
          description:
            - With O(secrets[].state=absent), undefine the secret even while storage pool definitions refer to it (those pools
              then fail to start until they get a secret again).
          type: bool
          default: false
  pools:
    description:
      - Storage pools, each a dictionary with the options of M(kvm.storage.pool) (C(name), C(type), C(state),
        C(target), C(source), C(build), ...).
    type: list
    elements: dict
    default: []
  thin_pools:
    description:
      - LVM thin pools, each with the options of M(kvm.storage.lvm_thin_pool). A thin pool in the volume group of a
        declared C(logical) pool is made after that pool is built.
    type: list
    elements: dict
    default: []
  thin_volumes:
    description:
      - LVM thin volumes and thin snapshots, each with the options of M(kvm.storage.lvm_thin_volume).
      - Whether a guest uses a volume that is to be removed is read over the module's own connection (O(uri)).
    type: list
    elements: dict
    default: []
  volumes:
    description:
      - Volumes, each with the options of one volume of M(kvm.storage.volume) (C(name) and C(pool) required;
        C(backing), C(clone_from), C(encryption), C(capacity), C(cloud_init), ...). Backing and clone chains may be listed in any
        order.
    type: list
    elements: dict
    default: []
  disks:
    description:
      - Guest disks, each with the options of M(kvm.storage.disk), C(domain) included.
      - Several disks of one guest without a C(target) get consecutive free targets.
    type: list
    elements: dict
    default: []
  unmanaged:
    description:
      - Report RV(unmanaged) - pools, volumes of declared pools and disks of declared guests that exist but are not
        declared. Turn off to save the listing on very large hosts.
    type: bool
    default: true
  results:
    description:
      - Which declared objects RV(results) lists. V(changed) - only those that change (in check mode, would change);
        the others are counted in RV(unchanged). V(all) - every declared object.
      - A host of thousands of objects that changes nothing returns a short result with V(changed) (the default);
        the controller processes every entry of a result on every run.
    type: str
    choices: [changed, all]
    default: changed
notes:
  - The module returns its own C(invocation) - C(module_args) holds the scalar options (O(uri), O(allow_insecure),
    O(unmanaged), O(results)) and, for each list, the number of its elements instead of the elements (Ansible
    would otherwise echo every declared object back to the controller on every run). A failed run keeps Ansible's
    full echo.
  - The per-object modules stay; they share the planners with this one.
  - The roles C(kvm.storage.host_profile) (profiles, presets that build the lists) and C(kvm.storage.guest_disks)
    (disks per guest from inventory) each make one call of this module per host.
seealso:
  - module: kvm.storage.pool
  - module: kvm.storage.volume
  - module: kvm.storage.disk
  - module: kvm.storage.secret
  - module: kvm.storage.lvm_thin_pool
  - module: kvm.storage.lvm_thin_volume
"""

EXAMPLES = r"""
- name: The storage of this host, in one plan
  kvm.storage.host_storage:
    pools:
      - {name: vms, type: dir, target: {path: /var/lib/libvirt/vms}}
      - {name: templates, type: dir, target: {path: /srv/templates}}
    volumes:
      # listed before its backing file: the plan orders them
      - {name: web1.qcow2, pool: vms, backing: {pool: templates, name: debian12.qcow2}}
      - {name: debian12.qcow2, pool: templates, format: qcow2, capacity: 20GiB}
      - name: secret.qcow2
        pool: vms
        format: qcow2
        capacity: 1GiB
        encryption: {secret_usage: /var/lib/libvirt/vms/secret.qcow2}
    secrets:
      - usage: volume
        secret_usage: /var/lib/libvirt/vms/secret.qcow2
        value: "{{ vault_luks_passphrase }}"
    disks:
      - {domain: web1, source: {volume: {pool: vms, name: web1.qcow2}}}

# host_storage_spec: the same lists, kept per host in Git (host_vars; see the GitOps guide).
- name: GitOps drift check - what would change, and what is there but not declared
  kvm.storage.host_storage: "{{ host_storage_spec }}"
  check_mode: true
  diff: true
  register: drift

- name: Fail on drift
  ansible.builtin.assert:
    that:
      - drift is not changed
      - drift.unmanaged.volumes == []
"""

RETURN = r"""
actions:
  description: Every step taken, or in check mode every step a real run would take, in plan order.
  returned: always
  type: list
  elements: str
  sample: ["define pool images", "start pool images", "create volume web1.qcow2 of pool images (qcow2, 20 GiB, backing /srv/templates/debian12.qcow2)"]
assumed:
  description:
    - Check mode only - what did not exist yet and was planned as if an earlier task of the play made it
      (each also named in a warning). A real run fails if it still does not exist then.
  returned: in check mode, when something was assumed
  type: list
  elements: str
  sample: ["volume web1.qcow2 of pool images"]
results:
  description:
    - One entry per declared object that changes (in check mode, would change), in plan order - C(kind), C(name),
      C(element) (its list and index), C(state), C(changed), C(actions), and for disks the C(target).
    - With O(results=all), one entry per declared object, changed or not.
  returned: always
  type: list
  elements: dict
  sample: [{kind: volume, name: volume web1.qcow2 of pool images, element: "volumes[0]", state: present, changed: true,
            actions: ["create volume web1.qcow2 of pool images (qcow2, 20 GiB)"]}]
unchanged:
  description: Per list, the number of declared objects left out of RV(results) because nothing changes for them
    (all zero with O(results=all)).
  returned: always
  type: dict
  sample: {secrets: 0, pools: 2, thin_pools: 0, thin_volumes: 0, volumes: 51, disks: 0}
unmanaged:
  description:
    - Objects that exist but are not declared (drift), never removed - C(pools) (names), C(volumes) (C(pool), C(name))
      of declared pools, C(disks) (C(domain), C(target), C(device), C(source)) of guests that have a declared disk.
  returned: always
  type: dict
  sample: {pools: [default], volumes: [{pool: images, name: old.qcow2}], disks: []}
not_reached:
  description: When a step fails - the steps of the plan that were not reached (the failed object's remaining ones,
    then the later objects'). RV(actions) then lists the steps that finished.
  returned: on failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._host_storage import argument_spec
from ansible_collections.kvm.storage.plugins.module_utils._host_storage_module import hide_seed_values, host_storage_work
from ansible_collections.kvm.storage.plugins.module_utils._volume_module import hide_escaped
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


class HostStorageModule(AnsibleModule):
    """Hides the volumes' cloud_init values (validated element by element later, so not
    known to AnsibleModule as no_log) before it logs how it was invoked (to syslog or the
    journal of the managed host)."""

    def _log_invocation(self):
        hide_seed_values(self)
        hide_escaped(self)   # the secrets list's values too, inside the printed list
        super(HostStorageModule, self)._log_invocation()


def main():
    spec = connection_argument_spec()
    spec.update(argument_spec())
    module = HostStorageModule(argument_spec=spec, supports_check_mode=True)
    run(module, host_storage_work)


if __name__ == '__main__':
    main()
