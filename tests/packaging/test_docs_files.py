# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The files the guides hand to users: AWX survey and job template, the execution
environment definitions, the guides' table of contents, and facts the guides state.

A survey question must set a variable some role documents in meta/argument_specs.yml, with
choices that role accepts; a role still being written elsewhere must be listed in
docs/pending-roles.txt, and is checked as soon as it exists.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

from conftest import REPO

DOCS = os.path.join(REPO, 'docs')
SURVEY_TYPES = {'text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect'}


def _json(*parts):
    with open(os.path.join(DOCS, *parts), encoding='utf-8') as handle:
        return json.load(handle)


def _yaml(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _pending_roles():
    if not os.path.exists(os.path.join(DOCS, 'pending-roles.txt')):
        return set()  # every role the docs name has landed
    with open(os.path.join(DOCS, 'pending-roles.txt'), encoding='utf-8') as handle:
        return {line.strip() for line in handle if line.strip() and not line.startswith('#')}


def _role_option(variable):
    """(role, option spec or None if the role is not in this tree yet) for a role variable."""
    roles_dir = os.path.join(REPO, 'roles')
    candidates = set(os.listdir(roles_dir)) if os.path.isdir(roles_dir) else set()
    candidates |= _pending_roles()
    role = max((r for r in candidates if variable.startswith(r + '_')), key=len, default=None)
    assert role, '%s belongs to no role of the collection' % variable
    spec_file = os.path.join(roles_dir, role, 'meta', 'argument_specs.yml')
    if not os.path.exists(spec_file):
        assert role in _pending_roles(), '%s: role %s has no argument specs' % (variable, role)
        return role, None
    options = _yaml(spec_file)['argument_specs']['main']['options']
    assert variable in options, '%s is not an option of role %s' % (variable, role)
    return role, options[variable]


def test_survey_spec_shape():
    survey = _json('awx', 'survey_site.json')
    assert isinstance(survey['name'], str) and isinstance(survey['description'], str)
    assert isinstance(survey['spec'], list) and survey['spec']
    variables = [q['variable'] for q in survey['spec']]
    assert len(variables) == len(set(variables))
    for question in survey['spec']:
        assert question['type'] in SURVEY_TYPES, question
        for key in ('question_name', 'question_description', 'variable'):
            assert isinstance(question[key], str) and question[key].strip(), (key, question)
        assert re.match(r'^[a-z_][a-z0-9_]*$', question['variable'])
        assert isinstance(question['required'], bool)
        if question['type'] in ('multiplechoice', 'multiselect'):
            assert isinstance(question['choices'], list) and question['choices']
            assert question['default'] in question['choices']
        if question['type'] in ('text', 'textarea', 'password') and question.get('max') is not None:
            assert len(question.get('default', '')) <= question['max']


@pytest.mark.parametrize('question', _json('awx', 'survey_site.json')['spec'], ids=lambda q: q['variable'])
def test_survey_sets_documented_role_variables(question):
    role, option = _role_option(question['variable'])
    if option is None:
        return
    # Destructive options are never offered in a survey.
    assert 'delete' not in question['variable']
    if 'choices' in option:
        assert set(question['choices']) <= set(option['choices']), role
    if question['type'] in ('text', 'textarea', 'multiplechoice'):
        assert option.get('type', 'str') in ('str', 'path', 'raw'), (role, option)


def test_job_template_uses_the_survey_and_the_site_playbook():
    template = _json('awx', 'job_template_site.json')
    assert template['survey_enabled'] is True
    assert template['job_type'] in ('run', 'check')
    assert template['ask_job_type_on_launch'] is True
    assert template['playbook'] == 'site.yml'
    assert isinstance(template['credentials'], list) and template['credentials']
    with open(os.path.join(DOCS, 'docsite', 'rst', 'guide_awx.rst'), encoding='utf-8') as handle:
        guide = handle.read()
    for key in ('name', 'project', 'inventory', 'execution_environment'):
        assert template[key] in guide, key


def test_collection_ee_metadata_shape():
    meta = _yaml(os.path.join(REPO, 'meta', 'execution-environment.yml'))
    assert meta['version'] == 1
    deps = meta['dependencies']
    assert set(deps) <= {'python', 'system', 'galaxy'}
    with open(os.path.join(REPO, deps['python']), encoding='utf-8') as handle:
        python = [line.split('#')[0].strip() for line in handle if line.split('#')[0].strip()]
    assert python and all(re.match(r'^[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,]+\])?\s*([<>=!~]=?[^,;\s]+\s*,?\s*)*$', r)
                          for r in python), python
    assert {'libvirt-python', 'lxml'} <= {re.split(r'[<>=!~\[ ]', r)[0] for r in python}
    with open(os.path.join(REPO, deps['system']), encoding='utf-8') as handle:
        system = [line.strip() for line in handle if line.strip() and not line.startswith('#')]
    assert system and all(re.match(r'^[A-Za-z0-9][\w.+-]*( \[[^\]]+\])?$', line) for line in system), system


def test_ee_definition_shape():
    definition = _yaml(os.path.join(DOCS, 'awx', 'execution-environment.yml'))
    assert definition['version'] == 3
    assert definition['images']['base_image']['name']
    deps = definition['dependencies']
    assert deps['ansible_core']['package_pip'].startswith('ansible-core')
    assert deps['ansible_runner']['package_pip'].startswith('ansible-runner')
    (ours,) = [c for c in deps['galaxy']['collections'] if c['name'] == 'kvm.storage']
    version = tuple(int(x) for x in _yaml(os.path.join(REPO, 'galaxy.yml'))['version'].split('.'))
    for clause in ours['version'].split(','):
        op, wanted = re.match(r'^(>=|<=|==|<|>)(.+)$', clause.strip()).groups()
        wanted = tuple(int(x) for x in wanted.split('.'))
        assert {'>=': version >= wanted, '<=': version <= wanted, '==': version == wanted,
                '<': version < wanted, '>': version > wanted}[op], (clause, version)


def test_guides_toctree_matches_files_and_labels():
    extra = _yaml(os.path.join(DOCS, 'docsite', 'extra-docs.yml'))
    entries = [e for section in extra['sections'] for e in section['toctree']]
    files = sorted(f[:-4] for f in os.listdir(os.path.join(DOCS, 'docsite', 'rst')) if f.endswith('.rst'))
    assert sorted(entries) == files
    for entry in entries:
        with open(os.path.join(DOCS, 'docsite', 'rst', entry + '.rst'), encoding='utf-8') as handle:
            labels = re.findall(r'^\.\. _([^:]+):$', handle.read(), re.M)
        assert labels[:1] == ['ansible_collections.kvm.storage.docsite.' + entry]


def test_profiles_guide_classifies_every_pool_type_as_the_code_does():
    with open(os.path.join(REPO, 'plugins', 'modules', 'pool.py'), encoding='utf-8') as handle:
        types = re.search(r'^  type:\n(?:    .*\n)*?    choices: \[([^\]]+)\]', handle.read(), re.M).group(1)
    types = [t.strip() for t in types.split(',')]
    with open(os.path.join(DOCS, 'docsite', 'rst', 'guide_profiles.rst'), encoding='utf-8') as handle:
        guide = handle.read()
    local = re.search(r'\*\*local\*\* \(not migratable\): (.+?);\n', guide, re.S).group(1)
    shared = re.search(r'\*\*shared\*\* \(migratable\): (.+?)\.\n', guide, re.S).group(1)
    local = set(re.findall(r'``(\w+)``', local))
    shared = set(re.findall(r'``(\w+)``', shared)) - {'fc_host'}
    # scsi is both: local on a host's own adapter, shared on a Fibre Channel fabric.
    assert local & shared == {'scsi'}
    assert sorted(local | shared) == sorted(types)
    from ansible_collections.kvm.storage.plugins.module_utils import _pool_types
    for pool_type in types:
        if pool_type == 'scsi':
            assert not _pool_types.is_shared('scsi', {'adapter': {'type': 'scsi_host'}})
            assert _pool_types.is_shared('scsi', {'adapter': {'type': 'fc_host'}})
        else:
            assert _pool_types.is_shared(pool_type) == (pool_type in shared), pool_type
