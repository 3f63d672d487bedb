#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: secret
short_description: Manage a libvirt secret (LUKS passphrase, iSCSI CHAP, Ceph key, TLS)
version_added: 0.1.0
description:
  - Defines, updates and removes one libvirt secret and sets its value.
  - The secret is found by O(uuid) when it is given, otherwise by O(usage) and O(secret_usage)
    (libvirt's look-up by usage). One of the two is required.
  - "Secret values are never returned, never shown in a diff or an action, and never passed on a command line.
    A private secret (the default, O(private=true)) cannot be read back, not even by root, so its value cannot be
    compared: by default it is written only when the secret is created (O(update_value=on_create))."
  - An existing secret whose O(description), O(private), O(ephemeral) or O(usage) type differs from the request is
    redefined with the same UUID. libvirt refuses two changes, which are reported as conflicts - making a private
    secret non-private, and changing the usage ID of a secret (O(secret_usage) with a given O(uuid)); remove the secret
    and create it again for those.
  - O(state=absent) is refused while a storage pool definition refers to the secret in its C(<auth>), unless
    O(force=true). References from guest disks and encrypted volumes are not checked.
author:
  - kvm.storage developers (@kvm-storage)
extends_documentation_fragment:
  - kvm.storage._libvirt
  - kvm.storage._attributes
  - kvm.storage._attributes.CHANGES_STATE
  - kvm.storage._attributes.ACTIONGROUP_LIBVIRT
attributes:
  idempotent:
    support: partial
    details:
      - With O(update_value=always) a private secret's value is written on every run and reported as changed,
        because libvirt cannot tell whether it differs. Everything else, and a non-private secret's value, is
        idempotent.
options:
  uuid:
    description:
      - The UUID of the secret. When set, the secret is looked up by it, and a new secret gets it.
      - When not set, libvirt picks the UUID of a new secret; see RV(secret.uuid).
    type: str
  usage:
    description:
      - What the secret is for - V(volume) (a LUKS passphrase of an encrypted volume), V(iscsi) (a CHAP password),
        V(ceph) (a cephx key) or V(tls) (the passphrase of a TLS key).
      - Needed to create a secret; set together with O(secret_usage).
    type: str
    choices: [ceph, iscsi, tls, volume]
  secret_usage:
    description:
      - The identifier of the usage - the absolute path of the volume for V(volume), the iSCSI target (the name that
        pools refer to in C(<auth><secret usage>)) for V(iscsi), the Ceph client name for V(ceph), the name of the
        TLS credentials for V(tls).
      - The same value as C(secret_usage) in M(kvm.storage.pool)'s C(source.auth), M(kvm.storage.volume)'s
        C(encryption) and M(kvm.storage.disk)'s C(source.network.auth).
      - Unique per usage type on a host; libvirt cannot change it on an existing secret.
      - The alias O(usage_id), its first name, is deprecated and will be removed in release 0.2.0.
    type: str
    aliases: [usage_id]
  description:
    description:
      - A free text description. Left as it is when not set; an empty string removes it.
    type: str
  value:
    description:
      - The secret's value. Written when the secret is created, and for an existing secret as O(update_value)
        says.
      - When not set, the value is left as it is (a new secret then has none).
    type: str
  value_encoding:
    description:
      - How O(value) is written. V(plain) - the text itself (its UTF-8 bytes), for passphrases and CHAP passwords.
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
      - With O(state=absent), undefine the secret even while storage pool definitions refer to it (those pools
        then fail to start until they get a secret again).
    type: bool
    default: false
seealso:
  - module: kvm.storage.pool
  - name: libvirt secret XML format
    description: The definition this module writes.
    link: https://libvirt.org/formatsecret.html
"""

EXAMPLES = r"""
- name: CHAP password for an iSCSI pool
  kvm.storage.secret:
    usage: iscsi
    secret_usage: san1-chap
    description: CHAP secret of hv1 on san1
    value: "{{ vault_san1_chap_password }}"

- name: The pool that uses it
  kvm.storage.pool:
    name: san1
    type: iscsi_direct
    source:
      hosts: [{name: 192.0.2.10}]
      devices: [iqn.2026-01.com.example:store1]
      initiator: iqn.2026-01.com.example:hv1
      auth:
        type: chap
        username: hv1
        secret_usage: san1-chap

- name: A cephx key with a fixed UUID (ceph auth get-key prints it in base64)
  kvm.storage.secret:
    uuid: 5d2e7d7a-8f0e-4c4e-9a8d-2b1f4c1e9a10
    usage: ceph
    secret_usage: client.libvirt
    value: "{{ vault_ceph_libvirt_key }}"
    value_encoding: base64

# The value of a private secret cannot be read back, so it is written when the secret is
# created; update_value: always writes it on every run (and reports a change every time),
# for a one-off rotation.
- name: LUKS passphrase of an encrypted volume (usage_id is the volume's path)
  kvm.storage.secret:
    usage: volume
    secret_usage: /var/lib/libvirt/images/db.qcow2
    value: "{{ vault_db_luks_passphrase }}"

- name: Remove the pool that names the CHAP secret (its LUNs stay on the target)
  kvm.storage.pool:
    name: san1
    state: absent

- name: Then the secret (refused while a pool definition still names it, unless force)
  kvm.storage.secret:
    usage: iscsi
    secret_usage: san1-chap
    state: absent
"""

RETURN = r"""
actions:
  description: The steps taken, or in check mode the steps a real run would take, in order. They never hold the value.
  returned: always
  type: list
  elements: str
  sample: ["define secret iscsi san1-chap", "set the value of secret iscsi san1-chap"]
secret:
  description:
    - The secret after the change, without its value. In check mode the predicted secret, whose O(uuid) is null
      when libvirt would pick it.
  returned: success and O(state=present)
  type: dict
  contains:
    uuid:
      description: The UUID.
      type: str
    usage:
      description: V(volume), V(iscsi), V(ceph), V(tls), or null for a secret without a usage.
      type: str
    secret_usage:
      description: The usage identifier (volume path, iSCSI target, Ceph client name, TLS name).
      type: str
    usage_id:
      description: The same as RV(secret.secret_usage), its first name; deprecated, removed in release 0.2.0.
      type: str
    description:
      description: The description, or null.
      type: str
    private:
      description: Whether the value is hidden from the API.
      type: bool
    ephemeral:
      description: Whether the secret lives in memory only.
      type: bool
  sample:
    uuid: 5d2e7d7a-8f0e-4c4e-9a8d-2b1f4c1e9a10
    usage: iscsi
    secret_usage: san1-chap
    usage_id: san1-chap
    description: CHAP secret of hv1 on san1
    private: true
    ephemeral: false
diff:
  description:
    - In diff mode, the definition before and after (C(state), C(definition)); C(value_set=true) in C(after) when the
      run writes the value. Never the value itself.
  returned: diff mode
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kvm.storage.plugins.module_utils._secret import (
    argument_spec, REQUIRED_ONE_OF, REQUIRED_TOGETHER)
from ansible_collections.kvm.storage.plugins.module_utils._secret_module import secret_work
from ansible_collections.kvm.storage.plugins.module_utils._runner import connection_argument_spec, run


def main():
    spec = connection_argument_spec()
    spec.update(argument_spec())
    module = AnsibleModule(argument_spec=spec, required_one_of=REQUIRED_ONE_OF, required_together=REQUIRED_TOGETHER,
                           supports_check_mode=True)
    run(module, secret_work)


if __name__ == '__main__':
    main()
