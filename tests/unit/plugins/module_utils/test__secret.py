# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The secret planner and request validation as tables: (params, actual) -> steps or error."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._secret import (
    REQUIRED_TOGETHER, SecretActual, argument_spec, build, canonical, parse, plan, references, request_from_params,
    secret_strings)

UUID = '3e3fce45-4f53-4fa7-bb32-11f34168b82b'
OTHER = '9b1c54e2-61aa-4bd6-a7f0-5d0a1c2e3f40'
PATH = '/var/lib/libvirt/images/db.qcow2'
VALUE = 'kvmst-s3cr3t-unit'
NEW_VALUE = 'kvmst-s3cr3t-unit-2'


# ---------------------------------------------------------------------------------------
# Building params as AnsibleModule gives them (every key present, defaults filled in)

def params(**kw):
    p = dict(uuid=None, usage='iscsi', secret_usage='san1-chap', description=None, value=None, value_encoding='plain',
             update_value='on_create', private=True, ephemeral=False, state='present', force=False)
    p.update(kw)
    return p


def vol(**kw):
    kw.setdefault('secret_usage', PATH)
    return params(usage='volume', **kw)


# ---------------------------------------------------------------------------------------
# What libvirt answers (virsh secret-dumpxml)

def _secret(private='yes', ephemeral='no', usage="<usage type='iscsi'><target>san1-chap</target></usage>",
            description=None, uuid=UUID):
    desc = '' if description is None else '<description>%s</description>' % description
    return ("<secret ephemeral='%s' private='%s'>\n  <uuid>%s</uuid>\n  %s\n  %s\n</secret>\n"
            % (ephemeral, private, uuid, desc, usage))


VOLUME_USAGE = "<usage type='volume'><volume>%s</volume></usage>" % PATH


def A(private=True, ephemeral=False, usage=None, description=None, value=None, uuid=UUID, pending=False):
    """An actual-state spec: the value is known (readable) exactly when the secret is not private;
    ``pending``: a run that defined it was cut off before it set the value (its marker)."""
    return dict(private=private, ephemeral=ephemeral, usage=usage, description=description, value=value, uuid=uuid,
                pending=pending)


def make_actual(spec):
    if spec is None:
        return None
    kw = {}
    if spec['usage'] is not None:
        kw['usage'] = spec['usage']
    element = _xml.parse(_secret('yes' if spec['private'] else 'no', 'yes' if spec['ephemeral'] else 'no',
                                 description=spec['description'], uuid=spec['uuid'], **kw))
    value = spec['value'].encode('utf-8') if spec['value'] is not None else None
    return SecretActual(element, value=None if spec['private'] else value, value_known=not spec['private'],
                        value_pending=spec['pending'])


def run(p, spec, pool_auths=(), usage_holder=None):
    return plan(request_from_params(p), make_actual(spec), pool_auths, usage_holder)


def steps_of(pl):
    return [(s.verb, s.text) for s in pl.steps]


DEFINE = ('define', 'define secret iscsi san1-chap')
SET = ('set_value', 'set the value of secret iscsi san1-chap')
SET_PRIVATE = ('set_value', 'set the value of secret iscsi san1-chap (private: cannot be compared, written every run)')
SET_NONE = ('set_value', 'set the value of secret iscsi san1-chap (it had none)')
SET_PENDING = ('set_value', 'set the value of secret iscsi san1-chap (the run that defined it was cut off before it '
               'set the value)')
UNDEFINE = ('undefine', 'undefine secret iscsi san1-chap')


def REDEFINE(what):
    return ('define', 'redefine secret iscsi san1-chap (%s changed)' % what)


# ---------------------------------------------------------------------------------------
# Plans for (params, actual)

PLAN_CASES = [
    # (id, params, actual spec or None, expected (verb, text) steps)
    # -- create
    ('create, no value', params(), None, [DEFINE]),
    ('create with value', params(value=VALUE), None, [DEFINE, SET]),
    ('create with value, always', params(value=VALUE, update_value='always'), None, [DEFINE, SET]),
    ('create non-private', params(value=VALUE, private=False), None, [DEFINE, SET]),
    ('create with uuid', params(uuid=UUID, value=VALUE), None, [DEFINE, SET]),
    ('create volume secret', vol(value=VALUE), None,
     [('define', 'define secret volume %s' % PATH), ('set_value', 'set the value of secret volume %s' % PATH)]),
    ('create ceph, base64', params(usage='ceph', secret_usage='client.libvirt', value='AQBz', value_encoding='base64'),
     None, [('define', 'define secret ceph client.libvirt'), ('set_value', 'set the value of secret ceph client.libvirt')]),
    ('create tls', params(usage='tls', secret_usage='vnc-tls'), None, [('define', 'define secret tls vnc-tls')]),
    # -- identical
    ('identical, private', params(), A(), []),
    ('identical by uuid only', params(uuid=UUID, usage=None, secret_usage=None), A(), []),
    ('identical by uuid and usage', params(uuid=UUID), A(), []),
    ('identical, uuid in upper case', params(uuid=UUID.upper()), A(), []),
    ('identical, uuid without dashes', params(uuid=UUID.replace('-', '')), A(), []),
    ('identical, description', params(description='CHAP of hv1'), A(description='CHAP of hv1'), []),
    ('description not asked', params(), A(description='CHAP of hv1'), []),
    ('identical, ephemeral', params(ephemeral=True), A(ephemeral=True), []),
    ('identical volume secret', vol(), A(usage=VOLUME_USAGE), []),
    # -- the value of a private secret
    ('private, on_create: left alone', params(value=VALUE), A(), []),
    ('private, always: written every run', params(value=VALUE, update_value='always'), A(), [SET_PRIVATE]),
    ('private, always, no value given', params(update_value='always'), A(), []),
    # a run killed between define and set_value (tests/reliability/test_crash_points.py): libvirt never says
    # whether a private secret has a value; the marker that run left does
    ('private, value pending, on_create', params(value=VALUE), A(pending=True), [SET_PENDING]),
    ('private, value pending, always', params(value=VALUE, update_value='always'), A(pending=True), [SET_PENDING]),
    ('private, value pending, no value given', params(), A(pending=True), []),
    # -- the value of a non-private secret
    ('non-private, same value, on_create', params(value=VALUE, private=False), A(private=False, value=VALUE), []),
    ('non-private, same value, always', params(value=VALUE, private=False, update_value='always'),
     A(private=False, value=VALUE), []),
    ('non-private, other value, on_create', params(value=NEW_VALUE, private=False), A(private=False, value=VALUE),
     []),
    ('non-private, other value, always', params(value=NEW_VALUE, private=False, update_value='always'),
     A(private=False, value=VALUE), [SET]),
    ('non-private, no value yet, on_create', params(value=VALUE, private=False), A(private=False), [SET_NONE]),
    ('non-private, no value yet, always', params(value=VALUE, private=False, update_value='always'),
     A(private=False), [SET_NONE]),
    ('non-private, no value given', params(private=False, update_value='always'), A(private=False, value=VALUE), []),
    ('non-private, same value by base64', params(value=base64.b64encode(VALUE.encode()).decode(),
                                                 value_encoding='base64', private=False, update_value='always'),
     A(private=False, value=VALUE), []),
    # -- redefine
    ('description changed', params(description='new'), A(description='old'), [REDEFINE('description')]),
    ('description added', params(description='new'), A(), [REDEFINE('description')]),
    ('description removed', params(description=''), A(description='old'), [REDEFINE('description')]),
    ('no description, empty asked', params(description=''), A(), []),
    ('made private', params(private=True), A(private=False, value=VALUE), [REDEFINE('private')]),
    ('made private, value differs, always', params(value=NEW_VALUE, update_value='always'),
     A(private=False, value=VALUE), [REDEFINE('private'), SET]),
    ('made private, same value, always', params(value=VALUE, update_value='always'),
     A(private=False, value=VALUE), [REDEFINE('private')]),
    ('made ephemeral', params(ephemeral=True), A(), [REDEFINE('ephemeral')]),
    ('made persistent', params(), A(ephemeral=True), [REDEFINE('ephemeral')]),
    ('usage type changed, same id', params(uuid=UUID, usage='ceph'), A(), [
        ('define', 'redefine secret ceph san1-chap (usage changed)')]),
    ('three changes, then private value', params(description='d', private=True, ephemeral=True, value=VALUE,
                                                 update_value='always'),
     A(private=False, value=VALUE + 'x'), [REDEFINE('description, private, ephemeral'), SET]),
    ('by uuid only, description', params(uuid=UUID, usage=None, secret_usage=None, description='d'), A(),
     [REDEFINE('description')]),
    ('by uuid only, secret without usage', params(uuid=UUID, usage=None, secret_usage=None, description='d'),
     A(usage=''), [('define', 'redefine secret %s (description changed)' % UUID)]),
    # -- absent
    ('absent, missing', params(state='absent'), None, []),
    ('absent', params(state='absent'), A(), [UNDEFINE]),
    ('absent by uuid only', params(uuid=UUID, usage=None, secret_usage=None, state='absent'), A(), [UNDEFINE]),
    ('absent, value given is ignored', params(state='absent', value=VALUE, update_value='always'), A(), [UNDEFINE]),
    ('absent, non-private', params(state='absent'), A(private=False, value=VALUE), [UNDEFINE]),
    ('absent, unrelated pools', params(state='absent'), A(),
     [UNDEFINE], [{'pool': 'other', 'type': 'chap', 'usage': 'other-chap', 'uuid': None},
                  {'pool': 'rbd1', 'type': 'ceph', 'usage': None, 'uuid': OTHER},
                  {'pool': 'ceph1', 'type': 'ceph', 'usage': 'san1-chap', 'uuid': None}]),
    ('absent, referenced, force', params(state='absent', force=True), A(),
     [('undefine', 'undefine secret iscsi san1-chap (still referenced by pool san1)')],
     [{'pool': 'san1', 'type': 'chap', 'usage': 'san1-chap', 'uuid': None}]),
]


@pytest.mark.parametrize('case', PLAN_CASES, ids=[c[0] for c in PLAN_CASES])
def test_plan(case):
    case_id, p, spec, expected = case[:4]
    pool_auths = case[4] if len(case) > 4 else ()
    pl, after = run(p, spec, pool_auths)
    assert steps_of(pl) == expected
    assert pl.changed is bool(expected)
    assert pl.actions == [text for _unused, text in expected]
    if p['state'] == 'absent':
        assert after is None
    else:
        assert after is not None and after.tag == 'secret'
    for text in pl.actions:
        assert 'kvmst-s3cr3t' not in text


def test_define_says_a_value_follows():
    """The adapter marks the secret in flight from the define until the value is set."""
    with_value = run(params(value=VALUE), None)[0].steps
    without = run(params(), None)[0].steps
    assert with_value[0].args['value_follows'] is True and without[0].args['value_follows'] is False


def test_set_value_carries_bytes():
    pl, _unused = run(params(value=VALUE), None)
    assert pl.steps[1].args == {'value': VALUE.encode('utf-8')}
    pl, _unused = run(params(value='AAEC/w==', value_encoding='base64'), None)
    assert pl.steps[1].args == {'value': b'\x00\x01\x02\xff'}
    assert 'AAEC' not in repr(pl.steps[1])


CREATE_XML = [
    # (id, params, {xpath: expected values} of the new definition)
    ('iscsi, private default', params(), {'@private': ['yes'], '@ephemeral': ['no'], 'usage/@type': ['iscsi'],
                                          'usage/target/text()': ['san1-chap'], 'uuid': [], 'description': []}),
    ('volume', vol(private=False, ephemeral=True), {'@private': ['no'], '@ephemeral': ['yes'],
                                                    'usage/volume/text()': [PATH]}),
    ('ceph', params(usage='ceph', secret_usage='client.admin'),
     {'usage/@type': ['ceph'], 'usage/name/text()': ['client.admin']}),
    ('tls', params(usage='tls', secret_usage='vnc'), {'usage/name/text()': ['vnc']}),
    ('uuid, description', params(uuid=UUID.upper(), description='CHAP <of> "hv1" & co'),
     {'uuid/text()': [UUID], 'description/text()': ['CHAP <of> "hv1" & co']}),
    ('empty description left out', params(description=''), {'description': []}),
]


@pytest.mark.parametrize('case_id, p, expected', CREATE_XML, ids=[c[0] for c in CREATE_XML])
def test_create_definition(case_id, p, expected):
    pl, after = run(dict(p, value=VALUE), None)
    define = pl.steps[0]
    assert define.verb == 'define' and define.args['new'] is True and define.args['element'] is after
    for xpath, values in expected.items():
        found = after.xpath(xpath)
        assert [n if isinstance(n, str) else n.text for n in found] == values, xpath
    assert VALUE not in _xml.to_string(after)
    model = parse(after)
    assert model['usage'] == p['usage'] and model['secret_usage'] == p['secret_usage']


REDEFINE_CASES = [
    # (id, params, actual spec, {xpath: expected values} of the new definition)
    ('uuid and usage kept', params(description='new'), A(description='old'),
     {'uuid/text()': [UUID], 'usage/target/text()': ['san1-chap'], 'description/text()': ['new']}),
    ('description inserted after uuid', params(description='new'), A(), {'*[2]/self::description/text()': ['new']}),
    ('description removed', params(description=''), A(description='old'), {'description': []}),
    ('private set', params(), A(private=False), {'@private': ['yes'], '@ephemeral': ['no']}),
    ('ephemeral set', params(ephemeral=True), A(), {'@ephemeral': ['yes']}),
    ('usage type replaced', params(uuid=UUID, usage='ceph'), A(description='d'),
     {'usage/@type': ['ceph'], 'usage/name/text()': ['san1-chap'], 'usage/target': [], 'description/text()': ['d'],
      '*[3]/self::usage/@type': ['ceph']}),
]


@pytest.mark.parametrize('case_id, p, spec, expected', REDEFINE_CASES, ids=[c[0] for c in REDEFINE_CASES])
def test_redefine_keeps_definition(case_id, p, spec, expected):
    actual = make_actual(spec)
    before = canonical(actual.element)
    pl, after = plan(request_from_params(p), actual)
    define = pl.steps[0]
    assert define.verb == 'define' and define.args['new'] is False
    assert define.args['element'] is after and define.args['previous'] is actual.element
    assert canonical(actual.element) == before          # actual untouched
    for xpath, values in expected.items():
        found = after.xpath(xpath)
        assert [n if isinstance(n, str) else n.text for n in found] == values, xpath


def test_unchanged_after_is_actual():
    actual = make_actual(A())
    pl, after = plan(request_from_params(params()), actual)
    assert after is actual.element and not pl.changed


# ---------------------------------------------------------------------------------------
# Refusals of the planner

ERROR_CASES = [
    # (id, params, actual spec, pool auths, usage holder, exception class, fragments of the message)
    ('private to non-private', params(private=False), A(), (), None, ConflictError,
     ['secret iscsi san1-chap is private', 'cannot make an existing secret readable', 'set private: true']),
    ('usage id change by uuid', params(uuid=UUID, secret_usage='san2-chap'), A(), (), None, ConflictError,
     ['secret %s is defined for iscsi san1-chap, not iscsi san2-chap' % UUID, 'cannot change the usage ID']),
    ('usage added to a secret without one', params(uuid=UUID), A(usage=''), (), None, ConflictError,
     ['is defined for no usage, not iscsi san1-chap']),
    ('usage held by another uuid, new', params(uuid=UUID), None, (), OTHER, ConflictError,
     ['secret iscsi san1-chap already exists with UUID %s, not %s' % (OTHER, UUID), 'leave uuid out']),
    ('usage held by another uuid, existing', params(uuid=UUID), A(), (), OTHER, ConflictError,
     ['already exists with UUID %s' % OTHER]),
    ('missing, uuid only', params(uuid=UUID, usage=None, secret_usage=None), None, (), None, KvmStorageError,
     ['secret %s does not exist' % UUID, 'set usage and secret_usage']),
    ('absent, referenced by usage', params(state='absent'), A(),
     [{'pool': 'san1', 'type': 'chap', 'usage': 'san1-chap', 'uuid': None}], None, KvmStorageError,
     ['refusing to undefine secret iscsi san1-chap: pool(s) san1 reference it', 'force: true']),
    ('absent, referenced by uuid, two pools', params(state='absent'), A(),
     [{'pool': 'b', 'type': 'chap', 'usage': None, 'uuid': UUID.upper()},
      {'pool': 'a', 'type': 'chap', 'usage': 'san1-chap', 'uuid': None}], None, KvmStorageError,
     ['pool(s) a, b reference it']),
    ('absent by uuid, referenced by usage', params(uuid=UUID, usage=None, secret_usage=None, state='absent'), A(),
     [{'pool': 'san1', 'type': 'chap', 'usage': 'san1-chap', 'uuid': None}], None, KvmStorageError,
     ['refusing to undefine secret iscsi san1-chap']),
    ('absent, unknown auth type counts', params(state='absent'), A(),
     [{'pool': 'x', 'type': None, 'usage': 'san1-chap', 'uuid': None}], None, KvmStorageError, ['pool(s) x']),
]


@pytest.mark.parametrize('case_id, p, spec, auths, holder, exc_class, fragments', ERROR_CASES,
                         ids=[c[0] for c in ERROR_CASES])
def test_plan_refuses(case_id, p, spec, auths, holder, exc_class, fragments):
    with pytest.raises(exc_class) as exc:
        run(dict(p, value=VALUE), spec, auths, holder)
    for fragment in fragments:
        assert fragment in exc.value.msg
    assert VALUE not in exc.value.msg and '\n' not in exc.value.msg


def test_refusal_details():
    with pytest.raises(KvmStorageError) as exc:
        run(params(state='absent'), A(), [{'pool': 'b', 'type': 'chap', 'usage': 'san1-chap', 'uuid': None},
                                          {'pool': 'a', 'type': 'chap', 'usage': None, 'uuid': UUID}])
    assert exc.value.details == {'pools': ['a', 'b']}


REFERENCE_CASES = [
    # (id, secret model, pool auths, referencing pools)
    ('ceph by usage', {'uuid': UUID, 'usage': 'ceph', 'secret_usage': 'client.libvirt'},
     [{'pool': 'rbd', 'type': 'ceph', 'usage': 'client.libvirt', 'uuid': None}], ['rbd']),
    ('chap usage does not look up ceph', {'uuid': UUID, 'usage': 'ceph', 'secret_usage': 'x'},
     [{'pool': 'san', 'type': 'chap', 'usage': 'x', 'uuid': None}], []),
    ('by uuid, any case', {'uuid': UUID, 'usage': None, 'secret_usage': None},
     [{'pool': 'p', 'type': 'ceph', 'usage': None, 'uuid': UUID.upper()}], ['p']),
    ('pool listed once', {'uuid': UUID, 'usage': 'iscsi', 'secret_usage': 'c'},
     [{'pool': 'p', 'type': 'chap', 'usage': 'c', 'uuid': None},
      {'pool': 'p', 'type': 'chap', 'usage': None, 'uuid': UUID}], ['p']),
    ('no secret element', {'uuid': UUID, 'usage': 'iscsi', 'secret_usage': 'c'},
     [{'pool': 'p', 'type': 'chap', 'usage': None, 'uuid': None}], []),
    ('no usage on the secret', {'uuid': UUID, 'usage': None, 'secret_usage': None},
     [{'pool': 'p', 'type': 'chap', 'usage': 'c', 'uuid': None}], []),
]


@pytest.mark.parametrize('case_id, model, auths, expected', REFERENCE_CASES, ids=[c[0] for c in REFERENCE_CASES])
def test_references(case_id, model, auths, expected):
    assert references(model, auths) == expected


# ---------------------------------------------------------------------------------------
# request_from_params

BAD_PARAMS = [
    # (id, params, fragment)
    ('nothing to identify', params(usage=None, secret_usage=None), 'identified by uuid or by usage and secret_usage'),
    ('usage without id', params(secret_usage=None), 'secret_usage must name the iSCSI target (CHAP) (usage: iscsi)'),
    ('usage with empty id', params(usage='ceph', secret_usage=''), 'secret_usage must name the Ceph client name'),
    ('id without usage', params(uuid=UUID, usage=None), 'set usage together with secret_usage'),
    ('bad uuid', params(uuid='not-a-uuid'), "secret uuid 'not-a-uuid' is not a UUID"),
    ('short uuid', params(uuid=UUID[:-1]), 'is not a UUID'),
    ('uuid with braces', params(uuid='{%s}' % UUID), 'is not a UUID'),
    ('relative volume path', vol(secret_usage='images/db.qcow2'),
     'secret volume images/db.qcow2: secret_usage must be the absolute path of the volume'),
    ('control char in usage id', params(secret_usage='san1\nchap'), 'must not contain control characters'),
    ('blank around usage id', params(secret_usage=' san1-chap'), 'surrounding blanks'),
    ('control char in description', params(description='a\x07b'),
     'secret iscsi san1-chap: description must not contain control characters'),
    ('empty value', params(value=''), 'secret iscsi san1-chap: value must not be empty'),
    ('bad base64', params(value='kvmst-s3cr3t-!!', value_encoding='base64'),
     'secret iscsi san1-chap: value is not valid base64'),
    ('bad base64 padding', params(value='kvmst-s3cr3t-abc', value_encoding='base64'), 'is not valid base64'),
    ('base64 of nothing', params(value='  ', value_encoding='base64'), 'decodes to nothing'),
]


@pytest.mark.parametrize('case_id, p, fragment', BAD_PARAMS, ids=[c[0] for c in BAD_PARAMS])
def test_request_refused(case_id, p, fragment):
    with pytest.raises(KvmStorageError) as exc:
        request_from_params(p)
    assert fragment in exc.value.msg
    assert 'kvmst-s3cr3t' not in exc.value.msg


GOOD_PARAMS = [
    # (id, params, {attribute: expected})
    ('plain value is utf-8', params(value='pä55'), {'value': 'pä55'.encode('utf-8')}),
    ('base64 value', params(value='AAEC/w==', value_encoding='base64'), {'value': b'\x00\x01\x02\xff'}),
    ('base64 with line breaks', params(value='AAEC\n/w==\n', value_encoding='base64'), {'value': b'\x00\x01\x02\xff'}),
    ('no value', params(), {'value': None}),
    ('uuid normalised', params(uuid=' %s ' % UUID.upper()), {'uuid': UUID}),
    ('uuid without dashes', params(uuid=UUID.replace('-', '')), {'uuid': UUID}),
    ('uuid only', params(uuid=UUID, usage=None, secret_usage=None), {'usage': None, 'label': UUID}),
    ('label by usage', params(uuid=UUID), {'label': 'iscsi san1-chap'}),
    ('defaults', params(), {'private': True, 'ephemeral': False, 'update_value': 'on_create', 'state': 'present'}),
]


@pytest.mark.parametrize('case_id, p, expected', GOOD_PARAMS, ids=[c[0] for c in GOOD_PARAMS])
def test_request(case_id, p, expected):
    request = request_from_params(p)
    for attr, value in expected.items():
        assert getattr(request, attr) == value, attr


# ---------------------------------------------------------------------------------------
# The model and the strings hidden from output

def test_parse_libvirt_definition():
    element = _xml.parse(_secret('no', 'yes', VOLUME_USAGE, description='LUKS of db'))
    assert parse(element) == {'uuid': UUID, 'usage': 'volume', 'secret_usage': PATH, 'description': 'LUKS of db',
                              'private': False, 'ephemeral': True}
    bare = _xml.parse("<secret ephemeral='no' private='no'><uuid>%s</uuid></secret>" % UUID)
    assert parse(bare) == {'uuid': UUID, 'usage': None, 'secret_usage': None, 'description': None,
                           'private': False, 'ephemeral': False}


def test_build_round_trip():
    request = request_from_params(vol(uuid=UUID, description='d', private=False))
    assert parse(build(request)) == {'uuid': UUID, 'usage': 'volume', 'secret_usage': PATH, 'description': 'd',
                                     'private': False, 'ephemeral': False}


SECRET_STRINGS = [
    (None, []),
    (b'', []),
    (VALUE.encode(), [base64.b64encode(VALUE.encode()).decode(), VALUE]),
    (b'\xff\xfe\x00', ['//4A']),
    (b' ', ['IA==']),
]


@pytest.mark.parametrize('value, expected', SECRET_STRINGS)
def test_secret_strings(value, expected):
    assert secret_strings(value) == expected


# ---------------------------------------------------------------------------------------
# One spelling across modules: secret_usage, as pool, volume and disk call the usage ID of
# the secret they refer to; usage_id stays an alias for this release, with a warning.

@pytest.mark.parametrize('key', ['secret_usage', 'usage_id'])
def test_usage_id_is_an_alias_of_secret_usage(key):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    validator = ArgumentSpecValidator(argument_spec(), required_together=REQUIRED_TOGETHER)
    result = validator.validate({'usage': 'iscsi', key: 'san1-chap'})
    assert not result.error_messages
    assert request_from_params(result.validated_parameters).usage_id == 'san1-chap'
    deprecated = [(d['version'], d['collection_name']) for d in result._deprecations if 'usage_id' in d['msg']]
    assert deprecated == ([('0.2.0', 'kvm.storage')] if key == 'usage_id' else [])
