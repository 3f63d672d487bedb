# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one XML layer: lxml builders, parsing, canonical form, compare and merge.

libvirt answers with its own normalised form of whatever it was given (defaults filled
in, runtime values such as capacity added), so a definition is never compared as text.
Instead the request is a *partial* document holding only what the user asked for and it
is compared with :func:`contains`: every attribute, text and child of the request must be
present in libvirt's answer.  :func:`merge` lays a request over an existing definition for
a redefine, so what the user did not mention is kept.
"""

from __future__ import annotations

import copy

from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError

try:
    from lxml import etree
    HAS_LXML = True
    LXML_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module through missing_required_lib
    etree = None
    HAS_LXML = False
    LXML_IMPORT_ERROR = exc


def _parser(encoding=None):
    # No entities, no network, no huge trees: the XML comes from libvirt or from the user.
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True,
                           remove_comments=True, huge_tree=False, encoding=encoding)


def parse(text, what='XML'):
    """Parse a string to an element; a syntax error becomes one sentence."""
    encoding = None
    if isinstance(text, str):
        # A text string is already decoded: its encoding declaration, if any, no longer applies.
        text, encoding = text.encode('utf-8'), 'utf-8'
    try:
        return etree.fromstring(text, _parser(encoding))
    except etree.XMLSyntaxError as exc:
        raise KvmStorageError('%s is not well-formed XML: %s' % (what, exc))


def element(tag, attrs=None, text=None):
    """A new element; attributes whose value is None are left out, others become strings."""
    el = etree.Element(tag)
    _set(el, attrs, text)
    return el


def sub(parent, tag, attrs=None, text=None):
    """A child element, built like :func:`element`."""
    el = etree.SubElement(parent, tag)
    _set(el, attrs, text)
    return el


def _set(el, attrs, text):
    for key, value in (attrs or {}).items():
        if value is not None:
            el.set(key, _str(value))
    if text is not None:
        el.text = _str(text)


def _str(value):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return str(value)


def to_string(el, pretty=True):
    return etree.tostring(el, encoding='unicode', pretty_print=pretty)


def _norm_text(text):
    if text is None:
        return None
    text = text.strip()
    return text or None


def canonical(el, drop=()):
    """Canonical text form for diff output: sorted attributes, no blank text,
    elements matching any XPath in ``drop`` (volatile runtime values) removed."""
    if el is None:
        return ''
    root = copy.deepcopy(el)
    for xpath in drop:
        for node in root.xpath(xpath):
            parent = node.getparent()
            if parent is not None:
                parent.remove(node)
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        items = sorted(node.attrib.items())
        node.attrib.clear()
        for key, value in items:
            node.set(key, value)
        node.text = _norm_text(node.text)
        node.tail = None
    return to_string(root)


def _children_by_tag(el):
    groups = {}
    for child in el:
        if isinstance(child.tag, str):
            groups.setdefault(child.tag, []).append(child)
    return groups


def differences(actual, desired, path=None):
    """Paths (``source/device/@path``) where ``desired`` is not contained in ``actual``.

    Repeated children (several ``<device>`` or ``<host>``) are compared as a set of the
    same size: order does not matter, a missing or extra one does.
    """
    path = path or desired.tag
    if actual is None:
        return [path]
    out = []
    for key, value in desired.attrib.items():
        if actual.get(key) != value:
            out.append('%s/@%s' % (path, key))
    want = _norm_text(desired.text)
    if want is not None and _norm_text(actual.text) != want:
        out.append(path)
    have_groups = _children_by_tag(actual)
    for tag, wanted in _children_by_tag(desired).items():
        have = have_groups.get(tag, [])
        sub_path = '%s/%s' % (path, tag)
        if len(wanted) == 1 and len(have) == 1:
            out.extend(differences(have[0], wanted[0], sub_path))
        elif len(wanted) != len(have) or not _all_matched(have, wanted):
            out.append(sub_path)
    return out


def _all_matched(have, wanted):
    """Whether each wanted child can be paired with its own matching child of ``have``
    (a bipartite matching, so the order of the request does not matter)."""
    fits = [[j for j, h in enumerate(have) if not differences(h, w)] for w in wanted]
    owner = {}

    def place(i, seen):
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or place(owner[j], seen):
                owner[j] = i
                return True
        return False

    return all(place(i, set()) for i in range(len(wanted)))


def contains(actual, desired):
    """True when everything the request states is already in libvirt's definition."""
    return not differences(actual, desired)


def merge(actual, desired):
    """A copy of ``actual`` with the request laid over it.

    Attributes and texts of the request win; a child tag that appears once on both sides
    is merged recursively; a tag that repeats on either side is replaced as a whole by
    the request's children of that tag (a list of devices or hosts is the user's list).
    """
    out = copy.deepcopy(actual)
    _merge_into(out, desired)
    return out


def _merge_into(target, desired):
    for key, value in desired.attrib.items():
        target.set(key, value)
    if _norm_text(desired.text) is not None:
        target.text = desired.text
    have_groups = _children_by_tag(target)
    for tag, wanted in _children_by_tag(desired).items():
        have = have_groups.get(tag, [])
        if len(wanted) == 1 and len(have) == 1:
            _merge_into(have[0], wanted[0])
            continue
        index = len(target)
        if have:
            index = list(target).index(have[0])
            for node in have:
                target.remove(node)
        for offset, node in enumerate(wanted):
            target.insert(index + offset, copy.deepcopy(node))
