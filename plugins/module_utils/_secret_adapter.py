# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""libvirt secrets through libvirt: read the actual state, apply plan steps, report.

No value read or written here ever reaches a message: errors of the value calls are
reported with libvirt's code and a fixed sentence, not with the value.
"""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _secret
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._inflight import Inflight
from ansible_collections.kvm.storage.plugins.module_utils._secret import SecretActual

libvirt = _libvirt.libvirt

# The in-flight markers of secrets whose value is still to be set (_inflight: markers are
# kept per "pool"; this name is no libvirt pool's, since no volume is ever named like a
# secret's key).
MARKERS = '<secrets>'


def _usage_type(usage):
    return _libvirt.flag('VIR_SECRET_USAGE_TYPE_' + usage.upper())


def _key(element):
    """What names a secret in its marker: its usage (fixed for its life, and known before
    libvirt gives it a UUID), else its UUID."""
    model = _secret.parse(element)
    if model['usage']:
        return '%s %s' % (model['usage'], model['secret_usage'])
    return 'uuid %s' % model['uuid']


def _uri(conn):
    try:
        return conn.getURI()
    except Exception:  # a connection that cannot say its URI still works for the rest
        return ''


class SecretAdapter(object):
    def __init__(self, conn):
        self.conn = conn
        self.secret = None
        self.usage_holder = None
        # A secret is defined, then given its value: two calls. A run cut off between them
        # leaves a secret without a value, which a private secret never shows; a marker
        # from the define until the value is set tells the next run (_secret._value_reason).
        self.inflight = Inflight(_uri(conn))
        self.key = None

    # -- reading -------------------------------------------------------------------------

    def _by_uuid(self, uuid):
        try:
            return self.conn.secretLookupByUUIDString(uuid)
        except libvirt.libvirtError as exc:
            if _libvirt.is_not_found(exc):
                return None
            raise _libvirt.translate(exc, 'look up secret %s' % uuid)

    def _by_usage(self, usage, usage_id):
        try:
            return self.conn.secretLookupByUsage(_usage_type(usage), usage_id)
        except libvirt.libvirtError as exc:
            if _libvirt.is_not_found(exc):
                return None
            raise _libvirt.translate(exc, 'look up secret %s %s' % (usage, usage_id))

    def read(self, request):
        """The secret the request identifies (by UUID when given, else by usage), or None."""
        if request.uuid is not None:
            self.secret = self._by_uuid(request.uuid)
            if request.usage is not None:
                # Another secret with the requested usage makes the request a conflict (plan() says so).
                other = self._by_usage(request.usage, request.usage_id)
                if other is not None and other.UUIDString() != request.uuid:
                    self.usage_holder = other.UUIDString()
        else:
            self.secret = self._by_usage(request.usage, request.usage_id)
        if self.secret is None:
            return None
        secret = self.secret
        element = _xml.parse(_libvirt.call('read the definition of secret %s' % request.label, secret.XMLDesc, 0),
                             what='the definition of secret %s' % request.label)
        value, known = self._value(secret, element, request.label)
        self.key = _key(element)
        pending = not known and self.key in self.inflight.incomplete(MARKERS)
        return SecretActual(element, value=value, value_known=known, value_pending=pending)

    @staticmethod
    def _value(secret, element, label):
        """``(value, known)``: a private secret's value cannot be read (not even by root)."""
        if element.get('private') == 'yes':
            return None, False
        try:
            return secret.value(0), True
        except libvirt.libvirtError as exc:
            if _libvirt.is_error(exc, 'VIR_ERR_NO_SECRET'):
                return None, True           # defined, but no value yet
            if _libvirt.is_error(exc, 'VIR_ERR_INVALID_SECRET'):
                return None, False          # turned private since it was read
            raise _libvirt.translate(exc, 'read the value of secret %s' % label)

    def pool_auths(self):
        """Every <auth> of every pool definition: one listing, then each pool's own XML."""
        out = []
        pools = _libvirt.call('list storage pools', self.conn.listAllStoragePools, 0)
        for pool in pools:
            try:
                xml = pool.XMLDesc(_libvirt.flag('VIR_STORAGE_XML_INACTIVE'))
            except libvirt.libvirtError as exc:
                if _libvirt.is_not_found(exc):
                    continue            # removed since the listing
                raise _libvirt.translate(exc, 'read the definition of a storage pool')
            element = _xml.parse(xml, what='a storage pool definition')
            name = element.findtext('name')
            for auth in element.findall('source/auth'):
                ref = auth.find('secret')
                out.append({'pool': name, 'type': auth.get('type'),
                            'usage': None if ref is None else ref.get('usage'),
                            'uuid': None if ref is None else ref.get('uuid')})
        return out

    # -- writing -------------------------------------------------------------------------

    def apply(self, step):
        """Apply one step; returns ``(text, undo)`` for steps that can be undone."""
        return getattr(self, '_do_' + step.verb)(step, step.text)

    def _do_define(self, step, text):
        xml = _xml.to_string(step.args['element'], pretty=False)
        if step.args.get('value_follows'):
            self.key = _key(step.args['element'])
            self.inflight.mark(MARKERS, self.key, text)
        try:
            self.secret = _libvirt.call(text, self.conn.secretDefineXML, xml, 0)
        except KvmStorageError:
            if step.args.get('value_follows'):
                self.inflight.clear(MARKERS, self.key)
            raise
        if step.args.get('new'):
            secret = self.secret
            return ('undefine the secret defined by this run', secret.undefine)
        previous = _xml.to_string(step.args['previous'], pretty=False)
        return ('restore the previous definition', lambda: self.conn.secretDefineXML(previous, 0))

    def _do_set_value(self, step, text):
        # Called directly, not through _libvirt.call, so that the value is never an
        # argument of anything that might format it.
        try:
            self.secret.setValue(step.args['value'], 0)
        except libvirt.libvirtError as exc:
            raise _libvirt.translate(exc, text)
        if self.key is not None:
            self.inflight.clear(MARKERS, self.key, dead_too=True)  # the value is set: no run's marker holds
        return None

    def _do_undefine(self, step, text):
        _libvirt.call(text, self.secret.undefine)
        self.secret = None
        if self.key is not None:
            self.inflight.clear(MARKERS, self.key, dead_too=True)
        return None

    # -- reporting -----------------------------------------------------------------------

    def describe(self):
        """The secret as it is now, without its value."""
        xml = _libvirt.call('read the definition of the secret', self.secret.XMLDesc, 0)
        return _secret.parse(_xml.parse(xml, what='the definition of the secret'))
