# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The XML layer: parse, canonical, differences/contains and merge, as tables of cases."""

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

P = _xml.parse


# ---------------------------------------------------------------------------------------
# parse

GOOD_XML = [
    # (text, root tag, text of the first <name> or None)
    ("<pool type='dir'><name>images</name></pool>", 'pool', 'images'),
    ("<?xml version='1.0' encoding='UTF-8'?>\n<pool type='dir'><name>images</name></pool>", 'pool', 'images'),
    (b"<pool type='dir'><name>images</name></pool>", 'pool', 'images'),
    ("<pool>\n  <!-- a comment -->\n  <name> images </name>\n</pool>\n", 'pool', ' images '),
    (u"<pool><name>bildspeicher-\u00e4</name></pool>", 'pool', u'bildspeicher-\u00e4'),
    ("<volume/>", 'volume', None),
]


@pytest.mark.parametrize('text, tag, name', GOOD_XML)
def test_parse_well_formed(text, tag, name):
    el = P(text)
    assert el.tag == tag
    assert el.findtext('name') == name
    # comments and blank text are dropped by the parser
    assert all(isinstance(child.tag, str) for child in el)


BAD_XML = [
    # (text, fragment of libxml2's complaint)
    ('', 'empty'),
    ('   ', "Start tag expected"),
    ('not xml at all', "Start tag expected"),
    ('<pool>', 'Premature end'),
    ('<pool></pol>', 'mismatch'),
    ('<pool/><pool/>', 'Extra content'),
    ("<pool type='dir></pool>", ''),
    ('<pool>&undefined;</pool>', 'undefined'),
]


@pytest.mark.parametrize('text, fragment', BAD_XML)
def test_parse_malformed(text, fragment):
    with pytest.raises(KvmStorageError) as exc:
        P(text, what='the xml option of pool images')
    assert exc.value.msg.startswith('the xml option of pool images is not well-formed XML: ')
    assert fragment.lower() in exc.value.msg.lower()


MARKER = 'KVMST-SECRET-FILE-CONTENT-7d1f'

ENTITY_XML = [
    # External general entity in element content: must not be read.
    '<!DOCTYPE pool [<!ENTITY leak SYSTEM "file://{path}">]><pool><name>&leak;</name></pool>',
    # External entity in an attribute: an XML error, never the file content.
    '<!DOCTYPE pool [<!ENTITY leak SYSTEM "file://{path}">]><pool type="&leak;"/>',
    # External parameter entity: the DTD is not loaded.
    '<!DOCTYPE pool [<!ENTITY % dtd SYSTEM "file://{path}"> %dtd;]><pool><name>&leak;</name></pool>',
    # External DTD subset: not loaded.
    '<!DOCTYPE pool SYSTEM "file://{path}"><pool><name>&leak;</name></pool>',
    # Internal entity in element content: not expanded either.
    '<!DOCTYPE pool [<!ENTITY leak "' + MARKER + '">]><pool><name>&leak;</name></pool>',
]


def _parsed_text(text):
    """Everything the parse made of ``text``, or '' when it was refused."""
    try:
        el = P(text)
    except KvmStorageError:
        return ''
    return _xml.to_string(el) + ' '.join('%s' % v for n in el.iter() for v in n.attrib.values()) + \
        ' '.join(n.text or '' for n in el.iter())


@pytest.mark.parametrize('template', ENTITY_XML)
def test_parse_does_not_expand_entities(tmp_path, template):
    # The file holds a DTD fragment defining &leak; plus the marker as plain text, so a
    # parser that loads it in any of the ways above would show the marker.
    secret = tmp_path / 'secret.txt'
    secret.write_text('<!ENTITY leak "%s">' % MARKER)
    plain = tmp_path / 'plain.txt'
    plain.write_text(MARKER)
    path = str(plain) if 'SYSTEM "file://{path}">]>' in template else str(secret)
    out = _parsed_text(template.format(path=path))
    assert MARKER not in out


def test_parse_refuses_entity_bomb():
    lol = '<!ENTITY l0 "lol">' + ''.join(
        '<!ENTITY l%d "%s">' % (i, ('&l%d;' % (i - 1)) * 10) for i in range(1, 10))
    with pytest.raises(KvmStorageError):
        P('<!DOCTYPE pool [%s]><pool type="&l9;"/>' % lol)


def test_parse_str_with_foreign_encoding_declaration():
    el = P(u'<?xml version="1.0" encoding="ISO-8859-1"?><pool><name>caf\u00e9</name></pool>')
    assert el.findtext('name') == u'caf\u00e9'


# ---------------------------------------------------------------------------------------
# canonical

SAME_CANONICAL = [
    # (a, b, drop): the two documents have the same canonical form
    ("<pool type='dir' x='1'><name>a</name></pool>",
     "<pool x='1' type='dir'><name>a</name></pool>", ()),
    ("<pool type='dir'><name>a</name><target><path>/p</path></target></pool>",
     "<pool type='dir'>\n    <name>  a\n </name>\n  <target>\n <path>/p</path>\n</target>\n</pool>\n", ()),
    ("<pool><name>a</name><!-- note --></pool>", "<pool><name>a</name></pool>", ()),
    ("<pool><name>a</name><capacity unit='bytes'>1</capacity><allocation unit='bytes'>2</allocation></pool>",
     "<pool><name>a</name><capacity unit='bytes'>999</capacity></pool>", ('capacity', 'allocation')),
    ("<pool><name>a</name><capacity>1</capacity></pool>", "<pool><name>a</name></pool>", ('capacity',)),
    ("<pool><source><device path='/dev/sdb'><freeExtent start='0' end='9'/>"
     "<freeExtent start='20' end='99'/></device></source></pool>",
     "<pool><source><device path='/dev/sdb'/></source></pool>", ('source/device/freeExtent',)),
    ("<pool><name>a</name></pool>", "<pool><name>a</name></pool>", ('capacity', 'nothing/here')),
]


@pytest.mark.parametrize('a, b, drop', SAME_CANONICAL)
def test_canonical_same(a, b, drop):
    assert _xml.canonical(P(a), drop=drop) == _xml.canonical(P(b), drop=drop)


DIFFERENT_CANONICAL = [
    # (a, b, drop): a real difference survives canonical form
    ("<pool type='dir'><name>a</name></pool>", "<pool type='fs'><name>a</name></pool>", ()),
    ("<pool><name>a</name></pool>", "<pool><name>b</name></pool>", ()),
    ("<pool><name>a</name><capacity>1</capacity></pool>", "<pool><name>a</name><capacity>2</capacity></pool>", ()),
    ("<pool><a/><b/></pool>", "<pool><b/><a/></pool>", ()),       # element order is meaningful text
    ("<pool><source><device path='/dev/sdb'/></source></pool>",
     "<pool><source><device path='/dev/sdc'/></source></pool>", ('source/device/freeExtent',)),
]


@pytest.mark.parametrize('a, b, drop', DIFFERENT_CANONICAL)
def test_canonical_different(a, b, drop):
    assert _xml.canonical(P(a), drop=drop) != _xml.canonical(P(b), drop=drop)


def test_canonical_exact_form_and_input_untouched():
    el = P("<pool type='dir' a='z'>  <name> x </name><capacity unit='bytes'>5</capacity></pool>")
    assert _xml.canonical(el, drop=('capacity',)) == '<pool a="z" type="dir">\n  <name>x</name>\n</pool>\n'
    assert el.find('capacity') is not None          # worked on a copy
    assert el.findtext('name') == ' x '
    assert _xml.canonical(None) == ''


# ---------------------------------------------------------------------------------------
# differences / contains

DIFF_CASES = [
    # (id, actual, desired, expected paths)
    ('identical', "<pool type='dir'><name>a</name></pool>", "<pool type='dir'><name>a</name></pool>", []),
    ('extra attribute in actual', "<pool type='dir' x='1'><name>a</name></pool>", "<pool type='dir'/>", []),
    ('attribute differs', "<pool type='fs'/>", "<pool type='dir'/>", ['pool/@type']),
    ('attribute missing', "<pool/>", "<pool type='dir'/>", ['pool/@type']),
    ('text differs', "<pool><name>a</name></pool>", "<pool><name>b</name></pool>", ['pool/name']),
    ('text whitespace only', "<pool><name>\n a \n</name></pool>", "<pool><name>a</name></pool>", []),
    ('desired without text', "<pool><name>a</name></pool>", "<pool><name/></pool>", []),
    ('actual without text', "<pool><name/></pool>", "<pool><name>a</name></pool>", ['pool/name']),
    ('nested attribute', "<pool><source><dir path='/a'/></source></pool>",
     "<pool><source><dir path='/b'/></source></pool>", ['pool/source/dir/@path']),
    ('missing child', "<pool><name>a</name></pool>", "<pool><target><path>/p</path></target></pool>",
     ['pool/target']),
    ('extra child in actual', "<pool><name>a</name><uuid>u</uuid><capacity>1</capacity></pool>",
     "<pool><name>a</name></pool>", []),
    ('two differences', "<pool><name>a</name><target><path>/p</path></target></pool>",
     "<pool><name>b</name><target><path>/q</path></target></pool>", ['pool/name', 'pool/target/path']),
    ('repeated, other order',
     "<pool><source><host name='a'/><host name='b'/><host name='c'/></source></pool>",
     "<pool><source><host name='c'/><host name='a'/><host name='b'/></source></pool>", []),
    ('repeated, one missing in actual',
     "<pool><source><host name='a'/></source></pool>",
     "<pool><source><host name='a'/><host name='b'/></source></pool>", ['pool/source/host']),
    ('repeated, one extra in actual',
     "<pool><source><host name='a'/><host name='b'/></source></pool>",
     "<pool><source><host name='a'/></source></pool>", ['pool/source/host']),
    ('repeated, one differs',
     "<pool><source><device path='/dev/sdb'/><device path='/dev/sdc'/></source></pool>",
     "<pool><source><device path='/dev/sdb'/><device path='/dev/sdd'/></source></pool>", ['pool/source/device']),
    ('repeated, partial entries',
     "<pool><source><host name='m1' port='6789'/><host name='m2' port='3300'/></source></pool>",
     "<pool><source><host name='m2'/><host name='m1'/></source></pool>", []),
    ('repeated, duplicates are counted',
     "<pool><source><device path='/dev/sdb'/><device path='/dev/sdc'/></source></pool>",
     "<pool><source><device path='/dev/sdb'/><device path='/dev/sdb'/></source></pool>", ['pool/source/device']),
    ('repeated, port differs',
     "<pool><source><host name='m1' port='6789'/><host name='m2' port='6789'/></source></pool>",
     "<pool><source><host name='m1' port='6789'/><host name='m2' port='3300'/></source></pool>",
     ['pool/source/host']),
    ('single child with children', "<pool><target><permissions><mode>0755</mode><owner>0</owner>"
     "</permissions></target></pool>", "<pool><target><permissions><mode>0711</mode></permissions></target></pool>",
     ['pool/target/permissions/mode']),
    ('missing deep child', "<pool><source/></pool>",
     "<pool><source><auth type='chap'><secret usage='x'/></auth></source></pool>", ['pool/source/auth']),
]

DIFF_IDS = [c[0] for c in DIFF_CASES]


@pytest.mark.parametrize('case_id, actual, desired, expected', DIFF_CASES, ids=DIFF_IDS)
def test_differences(case_id, actual, desired, expected):
    assert sorted(_xml.differences(P(actual), P(desired))) == sorted(expected)
    assert _xml.contains(P(actual), P(desired)) is (not expected)


def test_differences_with_nothing_there():
    assert _xml.differences(None, P("<pool><name>a</name></pool>")) == ['pool']
    assert _xml.contains(None, P("<pool/>")) is False


@pytest.mark.parametrize('desired', [
    "<source><host name='m' port='1'/><host name='m'/></source>",
    "<source><host name='m'/><host name='m' port='1'/></source>",
])
def test_differences_repeated_children_order_insensitive(desired):
    # {m (any port), m:1} is contained in {m:1, m:2} whatever order the request lists it in.
    actual = "<source><host name='m' port='1'/><host name='m' port='2'/></source>"
    assert _xml.differences(P(actual), P(desired)) == []


# ---------------------------------------------------------------------------------------
# merge

MERGE_CASES = [
    # (id, actual, desired, expected)
    ('keeps what the request does not mention',
     "<pool type='dir'><name>a</name><uuid>u-1</uuid><capacity unit='bytes'>1</capacity>"
     "<source/><target><path>/old</path><permissions><mode>0755</mode></permissions></target></pool>",
     "<pool type='dir'><name>a</name><target><path>/new</path></target></pool>",
     "<pool type='dir'><name>a</name><uuid>u-1</uuid><capacity unit='bytes'>1</capacity>"
     "<source/><target><path>/new</path><permissions><mode>0755</mode></permissions></target></pool>"),
    ('overlays attributes, keeps others',
     "<pool type='fs'><source><device path='/dev/sdb' part_separator='no'/><format type='auto'/></source></pool>",
     "<pool type='fs'><source><format type='ext4'/></source></pool>",
     "<pool type='fs'><source><device path='/dev/sdb' part_separator='no'/><format type='ext4'/></source></pool>"),
    ('overlays text',
     "<pool><source><name>vg0</name></source></pool>",
     "<pool><source><name>vg1</name></source></pool>",
     "<pool><source><name>vg1</name></source></pool>"),
    ('blank text in the request keeps the text',
     "<pool><name>a</name></pool>",
     "<pool><name>   </name></pool>",
     "<pool><name>a</name></pool>"),
    ('new child is added at the end of its parent',
     "<pool><name>a</name><target><path>/p</path></target></pool>",
     "<pool><target><permissions><owner>107</owner></permissions></target></pool>",
     "<pool><name>a</name><target><path>/p</path><permissions><owner>107</owner></permissions></target></pool>"),
    ('new subtree',
     "<pool><name>a</name><source><host name='h'/></source></pool>",
     "<pool><source><auth type='chap' username='u'><secret usage='s'/></auth></source></pool>",
     "<pool><name>a</name><source><host name='h'/><auth type='chap' username='u'><secret usage='s'/></auth>"
     "</source></pool>"),
    ('repeated group replaced as a whole, in place',
     "<pool><source><host name='m1' port='6789'/><host name='m2' port='6789'/><name>rbd</name></source></pool>",
     "<pool><source><host name='m3'/></source></pool>",
     "<pool><source><host name='m3'/><name>rbd</name></source></pool>"),
    ('one device grows to two, in place',
     "<pool><source><device path='/dev/sdb'/><name>vg</name><format type='lvm2'/></source></pool>",
     "<pool><source><device path='/dev/sdb'/><device path='/dev/sdc'/></source></pool>",
     "<pool><source><device path='/dev/sdb'/><device path='/dev/sdc'/><name>vg</name>"
     "<format type='lvm2'/></source></pool>"),
    ('scattered repeated group gathered at the first one',
     "<pool><source><host name='a'/><dir path='/x'/><host name='b'/></source></pool>",
     "<pool><source><host name='c'/><host name='d'/></source></pool>",
     "<pool><source><host name='c'/><host name='d'/><dir path='/x'/></source></pool>"),
    ('single child merged recursively',
     "<pool><source><device path='/dev/sdb' part_separator='no'/></source></pool>",
     "<pool><source><device path='/dev/sdc'/></source></pool>",
     "<pool><source><device path='/dev/sdc' part_separator='no'/></source></pool>"),
    ('identical request changes nothing',
     "<pool type='dir'><name>a</name><uuid>u</uuid><target><path>/p</path></target></pool>",
     "<pool type='dir'><name>a</name><target><path>/p</path></target></pool>",
     "<pool type='dir'><name>a</name><uuid>u</uuid><target><path>/p</path></target></pool>"),
    ('root attribute overlaid',
     "<pool type='dir'><name>a</name></pool>",
     "<pool type='fs'/>",
     "<pool type='fs'><name>a</name></pool>"),
]

MERGE_IDS = [c[0] for c in MERGE_CASES]


@pytest.mark.parametrize('case_id, actual, desired, expected', MERGE_CASES, ids=MERGE_IDS)
def test_merge(case_id, actual, desired, expected):
    a = P(actual)
    before = _xml.canonical(a)
    merged = _xml.merge(a, P(desired))
    assert _xml.canonical(merged) == _xml.canonical(P(expected))
    assert _xml.canonical(a) == before                # the actual definition is not modified


LAW_CASES = [(c[0], c[1], c[2]) for c in MERGE_CASES] + [(c[0], c[1], c[2]) for c in DIFF_CASES]


@pytest.mark.parametrize('case_id, actual, desired', LAW_CASES, ids=[c[0] for c in LAW_CASES])
def test_merge_then_contains(case_id, actual, desired):
    d = P(desired)
    merged = _xml.merge(P(actual), d)
    assert _xml.differences(merged, d) == []
    # merging again is a no-op
    assert _xml.canonical(_xml.merge(merged, d)) == _xml.canonical(merged)


# ---------------------------------------------------------------------------------------
# builders

@pytest.mark.parametrize('attrs, text, expected', [
    ({'type': 'dir', 'skip': None}, None, '<pool type="dir"/>'),
    ({'managed': True}, None, '<pool managed="yes"/>'),
    ({'managed': False, 'port': 6789}, None, '<pool managed="no" port="6789"/>'),
    (None, 'a<b>&c', '<pool>a&lt;b&gt;&amp;c</pool>'),
    (None, 0, '<pool>0</pool>'),
])
def test_element(attrs, text, expected):
    assert _xml.to_string(_xml.element('pool', attrs, text), pretty=False) == expected
