# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""libvirt secrets: argument spec, the request from module params, and the planner.

Pure: no libvirt, no AnsibleModule.  ``plan(request, actual, pool_auths)`` is a function
of the request and of what the adapter read, and is unit-tested as a table of cases.

The secret's value travels only inside ``SecretRequest.value``, ``SecretActual.value``
and the ``value`` argument of a ``set_value`` step: never in a message, an action text,
a diff or a returned model.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re

from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError, ConflictError
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan

# The usage types this module manages, with the child of <usage> that holds the usage ID.
# (libvirt 9 also knows vtpm secrets; those belong to the guest and are left to it.)
USAGE_ID_TAGS = {'volume': 'volume', 'iscsi': 'target', 'ceph': 'name', 'tls': 'name'}

# Which secret usage a pool's <auth type> looks up by usage ID.
AUTH_USAGE = {'chap': 'iscsi', 'ceph': 'ceph'}

_UUID_RE = re.compile(r'^[0-9a-f]{32}$')

# The release that drops the alias usage_id of secret_usage (and the returned usage_id).
USAGE_ID_REMOVED_IN = '0.2.0'


def argument_spec():
    return dict(
        uuid=dict(type='str'),
        usage=dict(type='str', choices=sorted(USAGE_ID_TAGS)),
        # secret_usage, as pool, volume and disk name the usage ID of the secret they refer to;
        # usage_id, its first spelling, stays an alias for this release
        secret_usage=dict(type='str', no_log=False, aliases=['usage_id'],
                          deprecated_aliases=[dict(name='usage_id', version=USAGE_ID_REMOVED_IN,
                                                   collection_name='kvm.storage')]),
        description=dict(type='str'),
        value=dict(type='str', no_log=True),
        value_encoding=dict(type='str', default='plain', choices=['plain', 'base64']),
        update_value=dict(type='str', default='on_create', choices=['on_create', 'always']),
        private=dict(type='bool', default=True),
        ephemeral=dict(type='bool', default=False),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
    )


def reference_options():
    """How another definition names the libvirt secret it uses - a pool's C(source.auth), a
    volume's C(encryption), a network disk's C(source.network.auth): by usage ID or by UUID."""
    return dict(
        secret_usage=dict(type='str', no_log=False),
        secret_uuid=dict(type='str', no_log=False),
    )


REQUIRED_ONE_OF = [('uuid', 'usage')]
REQUIRED_TOGETHER = [('usage', 'secret_usage')]


class SecretRequest(object):
    """What the user asked for.  ``value`` is bytes (decoded) or None."""

    def __init__(self, uuid=None, usage=None, usage_id=None, description=None, value=None,
                 update_value='on_create', private=True, ephemeral=False, state='present', force=False):
        self.uuid = uuid
        self.usage = usage
        self.usage_id = usage_id
        self.description = description
        self.value = value
        self.update_value = update_value
        self.private = private
        self.ephemeral = ephemeral
        self.state = state
        self.force = force

    @property
    def label(self):
        """How messages name the secret: its usage and usage ID, else its UUID."""
        if self.usage is not None:
            return '%s %s' % (self.usage, self.usage_id)
        return self.uuid


class SecretActual(object):
    """What the adapter read.

    ``element`` is libvirt's definition; ``value_known`` says whether the value could be
    read (never for a private secret), ``value`` is the value then (None: it has none).
    ``value_pending``: a run that defined the secret was cut off before it set the value
    (its in-flight marker outlived it, _secret_adapter): libvirt never says whether a
    private secret has a value, so this is the only way to know it may have none.
    """

    def __init__(self, element, value=None, value_known=False, value_pending=False):
        self.element = element
        self.value = value
        self.value_known = value_known
        self.value_pending = value_pending


def normalize_uuid(uuid):
    """A UUID in libvirt's form (lower-case 8-4-4-4-12); refused when it is not one."""
    if uuid is None:
        return None
    digits = uuid.strip().lower().replace('-', '')
    if not _UUID_RE.match(digits):
        raise KvmStorageError('secret uuid %r is not a UUID such as 3e3fce45-4f53-4fa7-bb32-11f34168b82b' % uuid)
    return '-'.join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))


def _has_control(text, allowed=''):
    return any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in text)


def decode_value(value, encoding, label):
    """The secret's bytes from the option's text.  The messages never show the value."""
    if value is None:
        return None
    if value == '':
        raise KvmStorageError('secret %s: value must not be empty (libvirt refuses an empty secret value)' % label)
    if encoding == 'base64':
        try:
            decoded = base64.b64decode(''.join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise KvmStorageError('secret %s: value is not valid base64 (value_encoding: base64)' % label)
        if not decoded:
            raise KvmStorageError('secret %s: value decodes to nothing; libvirt refuses an empty secret value' % label)
        return decoded
    return value.encode('utf-8')


def secret_strings(value):
    """Text forms of secret bytes that might show up in output: for ``no_log_values``."""
    if not value:
        return []
    out = [base64.b64encode(value).decode('ascii')]
    try:
        out.append(value.decode('utf-8'))
    except UnicodeDecodeError:
        pass
    return [text for text in out if text.strip()]


def request_from_params(params):
    """Validate params and build the SecretRequest.  Raises KvmStorageError for user mistakes."""
    uuid = normalize_uuid(params.get('uuid'))
    usage = params.get('usage')
    usage_id = params.get('secret_usage')
    if usage is None and usage_id is not None:
        raise KvmStorageError('secret %s: set usage together with secret_usage' % usage_id)
    if usage is not None and not usage_id:
        raise KvmStorageError('secret %s: secret_usage must name the %s (usage: %s)'
                              % (usage, _USAGE_ID_WORDS[usage], usage))
    if usage is None and uuid is None:
        raise KvmStorageError('a secret is identified by uuid or by usage and secret_usage; set one of them')
    if usage_id is not None:
        if _has_control(usage_id) or usage_id != usage_id.strip():
            raise KvmStorageError('secret %s: secret_usage %r must not contain control characters or surrounding '
                                  'blanks' % (usage, usage_id))
        if usage == 'volume' and not usage_id.startswith('/'):
            raise KvmStorageError('secret volume %s: secret_usage must be the absolute path of the volume' % usage_id)
    request = SecretRequest(uuid=uuid, usage=usage, usage_id=usage_id, description=params.get('description'),
                            update_value=params.get('update_value') or 'on_create',
                            private=bool(params.get('private', True)), ephemeral=bool(params.get('ephemeral')),
                            state=params.get('state') or 'present', force=bool(params.get('force')))
    if request.description is not None and _has_control(request.description, '\t\n\r'):
        raise KvmStorageError('secret %s: description must not contain control characters' % request.label)
    request.value = decode_value(params.get('value'), params.get('value_encoding') or 'plain', request.label)
    return request


_USAGE_ID_WORDS = {'volume': 'path of the encrypted volume', 'iscsi': 'iSCSI target (CHAP)',
                   'ceph': 'Ceph client name', 'tls': 'TLS credentials name'}


# ---------------------------------------------------------------------------------------
# The definition as a model and as XML

def parse(element):
    """The model of a secret definition (libvirt's or a built one)."""
    usage_el = element.find('usage')
    usage = usage_id = None
    if usage_el is not None:
        usage = usage_el.get('type')
        tag = USAGE_ID_TAGS.get(usage)
        usage_id = usage_el.findtext(tag) if tag else None
        usage_id = usage_id.strip() if usage_id is not None else None
    description = element.findtext('description')
    return {
        'uuid': (element.findtext('uuid') or '').strip() or None,
        'usage': usage,
        'secret_usage': usage_id,
        'description': description,
        'private': element.get('private') == 'yes',
        'ephemeral': element.get('ephemeral') == 'yes',
    }


def build(request):
    """The complete <secret> definition for a new secret."""
    root = _xml.element('secret', {'ephemeral': request.ephemeral, 'private': request.private})
    if request.uuid:
        _xml.sub(root, 'uuid', text=request.uuid)
    if request.description:
        _xml.sub(root, 'description', text=request.description)
    if request.usage is not None:
        usage = _xml.sub(root, 'usage', {'type': request.usage})
        _xml.sub(usage, USAGE_ID_TAGS[request.usage], text=request.usage_id)
    return root


def _redefined(actual_element, request):
    """libvirt's definition with the request laid over it (UUID and anything else kept)."""
    root = copy.deepcopy(actual_element)
    root.set('ephemeral', 'yes' if request.ephemeral else 'no')
    root.set('private', 'yes' if request.private else 'no')
    desc = root.find('description')
    if request.description == '' and desc is not None:
        root.remove(desc)
    elif request.description:
        if desc is None:
            desc = _xml.element('description')
            uuid_el = root.find('uuid')
            root.insert(0 if uuid_el is None else list(root).index(uuid_el) + 1, desc)
        desc.text = request.description
    if request.usage is not None:
        old = root.find('usage')
        usage = _xml.element('usage', {'type': request.usage})
        _xml.sub(usage, USAGE_ID_TAGS[request.usage], text=request.usage_id)
        if old is not None:
            old.addprevious(usage)
            root.remove(old)
        else:
            root.append(usage)
    return root


def canonical(element):
    """The definition as text for ``diff`` (it never holds the value)."""
    return _xml.canonical(element)


def label_of(request, model):
    """The request's words for the secret, or the existing secret's when the request gave only a UUID."""
    if request.usage is None and model is not None and model.get('usage'):
        return '%s %s' % (model['usage'], model['secret_usage'])
    return request.label


def _differences(model, request):
    diffs = []
    if request.usage is not None and model['usage'] != request.usage:
        diffs.append('usage')
    if request.description is not None and (model['description'] or '') != request.description:
        diffs.append('description')
    if model['private'] != request.private:
        diffs.append('private')
    if model['ephemeral'] != request.ephemeral:
        diffs.append('ephemeral')
    return diffs


def references(model, pool_auths):
    """Names of the pools whose <auth> points at the secret ``model``.

    ``pool_auths`` holds one dict per <auth> element of a pool definition: ``pool``,
    ``type`` (chap, ceph), ``usage`` and ``uuid`` of its <secret>.  A reference by usage
    counts when the usage ID matches and the auth type looks up this secret's usage type
    (an unknown auth type counts on the usage ID alone: refusing too much is safer).
    """
    out = set()
    for auth in pool_auths:
        if auth.get('uuid') and model.get('uuid') and auth['uuid'].lower() == model['uuid'].lower():
            out.add(auth['pool'])
        elif auth.get('usage') and model.get('secret_usage') is not None and auth['usage'] == model['secret_usage']:
            wanted = AUTH_USAGE.get(auth.get('type'))
            if wanted is None or wanted == model['usage']:
                out.add(auth['pool'])
    return sorted(out)


# ---------------------------------------------------------------------------------------
# Planning

def plan(request, actual, pool_auths=(), usage_holder=None):
    """Steps that take ``actual`` (None: no such secret) to ``request``.

    ``pool_auths`` (see :func:`references`) matter for ``state: absent``;
    ``usage_holder`` is the UUID of *another* secret that has the requested usage already
    (when the request names a UUID and a usage).

    Returns ``(plan, after)`` where ``after`` is the definition element the secret will
    have (for the diff and the returned model), or None when it will not exist.
    """
    steps = Plan()
    model = parse(actual.element) if actual is not None else None
    label = label_of(request, model)

    if request.state == 'absent':
        if actual is None:
            return steps, None
        used_by = references(model, pool_auths)
        if used_by and not request.force:
            raise KvmStorageError(
                'refusing to undefine secret %s: pool(s) %s reference it in their auth; remove or change them first, '
                'or set force: true' % (label, ', '.join(used_by)), pools=used_by)
        still = ' (still referenced by pool %s)' % ', '.join(used_by) if used_by else ''
        steps.add('undefine', 'undefine secret %s%s' % (label, still))
        return steps, None

    if usage_holder:
        raise ConflictError('secret %s already exists with UUID %s, not %s; a secret cannot change its UUID: '
                            'remove that secret first (state: absent) or leave uuid out'
                            % (request.label, usage_holder, request.uuid), uuid=usage_holder)

    if actual is None:
        if request.usage is None:
            raise KvmStorageError('secret %s does not exist; set usage and secret_usage to create it' % request.uuid)
        after = build(request)
        steps.add('define', 'define secret %s' % label, element=after, new=True,
                  value_follows=request.value is not None)
        if request.value is not None:
            steps.add('set_value', 'set the value of secret %s' % label, value=request.value)
        return steps, after

    after = actual.element
    diffs = _differences(model, request)
    if request.usage is not None and model['secret_usage'] != request.usage_id:
        held = '%s %s' % (model['usage'], model['secret_usage']) if model['usage'] else 'no usage'
        raise ConflictError('secret %s is defined for %s, not %s; libvirt cannot change the usage ID of a secret: '
                            'remove it (state: absent) and create it again' % (request.uuid, held, request.label))
    if 'private' in diffs and not request.private:
        raise ConflictError('secret %s is private and libvirt cannot make an existing secret readable again: '
                            'set private: true, or remove the secret (state: absent) and create it again' % label)
    if diffs:
        after = _redefined(actual.element, request)
        steps.add('define', 'redefine secret %s (%s changed)' % (label, ', '.join(diffs)), element=after,
                  new=False, previous=actual.element)

    if request.value is not None:
        reason = _value_reason(request, actual)
        if reason is not None:
            steps.add('set_value', 'set the value of secret %s%s' % (label, reason), value=request.value)
    return steps, after


def _value_reason(request, actual):
    """Why the value of an existing secret is written ('' or words in brackets), None when it is not."""
    if actual.value_known:
        if actual.value is None:
            return ' (it had none)'
        if actual.value == request.value:
            return None
        return '' if request.update_value == 'always' else None
    if actual.value_pending:
        return ' (the run that defined it was cut off before it set the value)'
    if request.update_value == 'always':
        return ' (private: cannot be compared, written every run)'
    return None


def diff_form(element, value_set=False):
    """A secret as diff mode shows it: its canonical definition, never a value."""
    if element is None:
        return {'state': 'absent'}
    out = {'state': 'present', 'definition': canonical(element)}
    if value_set:
        out['value_set'] = True
    return out
