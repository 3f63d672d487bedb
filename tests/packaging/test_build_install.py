# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build the collection artifact from a clean tree, install it, and use the installed copy.

Developer state (test output, caches, virtualenvs, benchmark results, byte code) is planted
in the clean tree before the build, so the build_ignore list of galaxy.yml is what keeps it
out of the artifact. The installed copy is the only collection Ansible can see: the
collections path names only the install folder and sys.path scanning is off.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile

import pytest
import yaml

from conftest import REPO, repo_modules, repo_roles

BIN = os.path.dirname(sys.executable)
POOL = 'kvmst-pkg-dir'
BASE = '/var/tmp/kvmst-pkg'

# Planted in the clean tree: none may reach the artifact.
JUNK = [
    'tests/output/junk.txt',
    '.cache/collections/junk.txt',
    '.venv/bin/junk',
    'bench/results/junk.json',
    'plugins/modules/__pycache__/junk.cpython-311.pyc',
    'plugins/module_utils/junk.pyc',
    '.pytest_cache/junk',
    'tests/unit/.pytest_cache/junk',
    'kvm-storage-0.0.1.tar.gz',
]
FORBIDDEN_PARTS = {'.venv', '.cache', '__pycache__', '.pytest_cache', '.git'}
FORBIDDEN_PREFIXES = ('tests/output', 'bench', 'lab/', 'tools/')


def _tool_path(name):
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else name


@pytest.fixture(scope='module')
def artifact(tool, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('kvmst-pkg-build')
    tree = tool.copy_tree(str(tmp / 'src'))
    for rel in JUNK:
        path = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write('junk\n')
    tool.release_changelog(tree)
    tarball = tool.build(str(tmp / 'dist'), tree)
    with tarfile.open(tarball) as tar:
        members = {m.name: m for m in tar.getmembers()}
        texts = {name: tar.extractfile(m).read().decode('utf-8')
                 for name, m in members.items()
                 if m.isfile() and name in ('MANIFEST.json', 'CHANGELOG.rst', 'changelogs/changelog.yaml')}
    return {'tarball': tarball, 'members': members, 'texts': texts, 'tmp': tmp, 'version': tool.galaxy_version(tree)}


def test_clean_tree_leaves_out_ignored_files(tool):
    files = tool.git_files()
    # .venv is a symlink in worktrees: a .gitignore entry with a trailing slash missed it.
    assert not [f for f in files if f.split('/')[0] in ('.venv', '.cache', 'tests/output')]
    assert 'galaxy.yml' in files and 'plugins/modules/pool.py' in files


def test_artifact_holds_no_developer_state(artifact):
    bad = [name for name in artifact['members']
           if FORBIDDEN_PARTS & set(name.split('/')) or name.startswith(FORBIDDEN_PREFIXES)
           or name.endswith(('.pyc', '.tar.gz'))]
    assert bad == []


def test_artifact_holds_the_collection(artifact):
    names = set(artifact['members'])
    expected = {'MANIFEST.json', 'FILES.json', 'CHANGELOG.rst', 'meta/runtime.yml', 'meta/execution-environment.yml',
                'requirements/ee.txt', 'bindep.txt', 'docs/docsite/extra-docs.yml', 'changelogs/changelog.yaml'}
    expected |= {'plugins/modules/%s.py' % m for m in repo_modules()}
    expected |= {'roles/%s/meta/argument_specs.yml' % r for r in repo_roles()}
    assert sorted(expected - names) == []
    manifest = json.loads(artifact['texts']['MANIFEST.json'])['collection_info']
    assert (manifest['namespace'], manifest['name'], manifest['version']) == ('kvm', 'storage', artifact['version'])


def test_changelog_generated_from_fragments(artifact):
    text = artifact['texts']['CHANGELOG.rst']
    assert re.search(r'^v%s\n=+$' % re.escape(artifact['version']), text, re.M)
    for module in repo_modules():
        assert '- kvm.storage.%s - ' % module in text, module
    for role in repo_roles():
        assert '- kvm.storage.%s - ' % role in text, role
    released = yaml.safe_load(artifact['texts']['changelogs/changelog.yaml'])
    assert artifact['version'] in released['releases']
    # The checkout is untouched: its fragments stay for the changes still to come.
    with open(os.path.join(REPO, 'changelogs', 'changelog.yaml'), encoding='utf-8') as handle:
        assert artifact['version'] not in (yaml.safe_load(handle).get('releases') or {})
    assert not os.path.exists(os.path.join(REPO, 'CHANGELOG.rst')) or \
        'v%s\n' % artifact['version'] not in open(os.path.join(REPO, 'CHANGELOG.rst'), encoding='utf-8').read()
    flat = ' '.join(text.split())
    for fragment in os.listdir(os.path.join(REPO, 'changelogs', 'fragments')):
        with open(os.path.join(REPO, 'changelogs', 'fragments', fragment), encoding='utf-8') as handle:
            for section, entries in (yaml.safe_load(handle) or {}).items():
                if section == 'trivial':        # by design not in the rendered changelog
                    continue
                for entry in entries if isinstance(entries, list) else [entries]:
                    if section.startswith('add '):      # add object.role / add plugin.filter ...
                        entry = 'kvm.storage.%s - %s' % (entry['name'], entry['description'])
                    assert ' '.join(entry.split()[:6]) in flat, (fragment, entry[:60])


@pytest.fixture(scope='module')
def installed(artifact):
    tmp = artifact['tmp']
    dest = tmp / 'installed'
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': str(dest),
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_HOME': str(tmp / 'ansible-home'),
        'ANSIBLE_LOCAL_TEMP': str(tmp / 'ansible-local'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
    })
    proc = subprocess.run([_tool_path('ansible-galaxy'), 'collection', 'install', '--offline', '-p', str(dest),
                           artifact['tarball']], env=env, cwd=str(tmp), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = os.path.join(str(dest), 'ansible_collections', 'kvm', 'storage')
    assert os.path.isfile(os.path.join(root, 'MANIFEST.json'))
    return {'env': env, 'root': root, 'cwd': str(tmp), 'dest': str(dest)}


def _run(installed, cmd):
    return subprocess.run(cmd, env=installed['env'], cwd=installed['cwd'], capture_output=True, text=True, check=False)


def test_galaxy_lists_the_installed_copy(installed, artifact):
    proc = _run(installed, [_tool_path('ansible-galaxy'), 'collection', 'list', 'kvm.storage', '--format', 'json'])
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    assert listing == {os.path.join(installed['dest'], 'ansible_collections'): {
        'kvm.storage': {'version': artifact['version']}}}


def test_ansible_doc_reads_every_module_from_the_installed_copy(installed):
    modules = repo_modules()
    listed = _run(installed, [_tool_path('ansible-doc'), '-l', 'kvm.storage', '--json'])
    assert listed.returncode == 0, listed.stderr
    assert sorted(json.loads(listed.stdout)) == ['kvm.storage.%s' % m for m in modules]
    proc = _run(installed, [_tool_path('ansible-doc')] + ['kvm.storage.%s' % m for m in modules])
    assert proc.returncode == 0, proc.stderr
    for module in modules:
        path = os.path.join(installed['root'], 'plugins', 'modules', module + '.py')
        assert '> MODULE kvm.storage.%s (%s)' % (module, path) in proc.stdout, module


def test_ansible_doc_reads_every_role_from_the_installed_copy(installed):
    proc = _run(installed, [_tool_path('ansible-doc'), '-t', 'role', '-l', 'kvm.storage', '--json'])
    assert proc.returncode == 0, proc.stderr
    assert sorted(json.loads(proc.stdout) if proc.stdout.strip() else []) == \
        ['kvm.storage.%s' % r for r in repo_roles()]


PLAYBOOK = """
- name: A dir pool through the installed collection
  hosts: lab
  gather_facts: false
  vars:
    pool: %(pool)s
    base: %(base)s
  module_defaults:
    group/kvm.storage.libvirt:
      uri: qemu:///system
  tasks:
    - name: Pool life cycle
      block:
        - name: Create
          kvm.storage.pool:
            name: "{{ pool }}"
            type: dir
            target: {path: "{{ base }}/images"}
          register: created

        - name: Again
          kvm.storage.pool:
            name: "{{ pool }}"
            type: dir
            target: {path: "{{ base }}/images"}
          register: again

        - name: Read it
          kvm.storage.pool_info:
            name: "{{ pool }}"
          register: info

        - name: What libvirt says
          ansible.builtin.command: virsh -c qemu:///system pool-info {{ pool }}
          register: virsh
          changed_when: false

        - name: Created, running, local, idempotent
          ansible.builtin.assert:
            that:
              - created is changed
              - created.actions[0] == 'define pool ' + pool
              - again is not changed
              - info.pools | length == 1
              - info.pools[0].name == pool
              - info.pools[0].state == 'running'
              - not info.pools[0].migratable
              - virsh.stdout is search('State:\\s+running')
      always:
        - name: Remove the pool and its directory
          kvm.storage.pool:
            name: "{{ pool }}"
            state: absent
            delete_data: true

        - name: Remove the base directory
          ansible.builtin.file:
            path: "{{ base }}"
            state: absent

    - name: Read all pools
      kvm.storage.pool_info:
      register: after

    - name: Gone
      ansible.builtin.assert:
        that: pool not in (after.pools | map(attribute='name'))
"""


def _pools():
    out = subprocess.run(['virsh', '-c', 'qemu:///system', '-q', 'pool-list', '--all', '--name'],
                         capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


@pytest.fixture
def lab_pool():
    check = subprocess.run(['virsh', '-c', 'qemu:///system', 'uri'], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        pytest.fail('libvirtd does not answer at qemu:///system (%s); run `make lab`' % check.stderr.strip(),
                    pytrace=False)
    assert POOL not in _pools(), 'a previous run left %s behind' % POOL
    yield POOL
    if POOL in _pools():
        subprocess.run(['virsh', '-q', 'pool-destroy', POOL], capture_output=True, check=False)
        subprocess.run(['virsh', '-q', 'pool-undefine', POOL], capture_output=True, check=False)
    subprocess.run(['rm', '-rf', BASE], check=False)


def test_playbook_runs_modules_from_the_installed_copy(installed, lab_pool):
    tmp = installed['cwd']
    with open(os.path.join(tmp, 'inventory.ini'), 'w', encoding='utf-8') as handle:
        handle.write('[lab]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n')
    with open(os.path.join(tmp, 'pool.yml'), 'w', encoding='utf-8') as handle:
        handle.write(PLAYBOOK % {'pool': lab_pool, 'base': BASE})
    proc = _run(installed, [_tool_path('ansible-playbook'), '-vvv', '-i', 'inventory.ini', 'pool.yml'])
    log = proc.stdout + '\n--- stderr ---\n' + proc.stderr
    with open(os.path.join(tmp, 'ansible.log'), 'w', encoding='utf-8') as handle:
        handle.write(log)
    assert proc.returncode == 0, log[-4000:]
    assert re.search(r'ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0', proc.stdout)
    used = set(re.findall(r'Using module file (\S+)', proc.stdout))
    ours = {p for p in used if '/kvm/storage/' in p}
    assert {os.path.join(installed['root'], 'plugins', 'modules', m + '.py') for m in ('pool', 'pool_info')} == ours
    assert lab_pool not in _pools()
    assert not os.path.exists(BASE)
