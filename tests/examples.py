# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The examples a reader copies: every module's EXAMPLES and every code block of the guides
(README, docs/docsite/rst, the role READMEs), extracted, with names, hosts and paths
substituted for the lab's, and turned into playbooks (tests/integration/examples_story.py
runs them; tests/unit/test_examples_table.py checks that every block is accounted for).

Nothing but names, hosts and paths is changed. The substitution table (SUBSTITUTIONS, then
NAMES, per namespace) is applied to the parsed YAML - string values only, never a
``register`` name or a Jinja expression - so one example's ``images`` pool is the next
one's ``images`` pool. Each story (the module examples, the quick start, the README, the
role READMEs, the GitOps guide) has its own namespace, so its objects are
``kvmst-<namespace>-<name>`` and its paths live under ``/var/tmp/kvmst-ex/<namespace>``.

What the examples take as given - a guest, a template image, an ISO, an inventory
variable such as a vault password - is in PRECONDITIONS and VARIABLES; the test makes it
before the examples run.
"""

from __future__ import annotations

import ast
import copy
import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SANDBOX = '/var/tmp/kvmst-ex'

# The module examples, as one story, in this order: each example may use what an earlier
# one made (a pool, a volume, a secret).
MODULE_ORDER = ('secret', 'pool', 'volume', 'volume_info', 'volume_snapshot', 'volume_snapshot_info', 'disk',
                'disk_info', 'host_storage', 'pool_info')
# Modules whose examples need device-mapper, which the host lab's kernel lacks (LAB.md);
# tests/vmhost runs them on the nested VM host.
VMHOST_MODULES = ('lvm_thin_pool', 'lvm_thin_volume')
# The running-guest modules' examples, a story of their own (namespace ``rg``, after the module
# story in the same run): a running web1 whose disks are volumes of a dir pool (PRECONDITIONS).
RUNNING_ORDER = ('disk_snapshot', 'disk_move', 'disk_backup')
# Modules whose examples this test does not run yet, and why. They are listed so that the
# table test still fails for a module nobody accounted for.
NOT_YET_RUN = {}
# Single examples the stories do not run, and why (each is run by an integration scenario).
EXAMPLE_SKIPS = {
    ('disk_snapshot', 1): 'quiesce needs a qemu guest agent in the guest, which the lab guest lacks (the disk_live '
                          'scenario checks the refusal without one)',
    ('disk_snapshot', 3): 'a revert needs web1 shut down, and the examples after it need it running (the disk_live '
                          'scenario reverts a stopped guest)',
}

GUIDES = ('README.md', 'docs/docsite/rst/guide_quickstart.rst', 'docs/docsite/rst/guide_profiles.rst',
          'docs/docsite/rst/guide_safety.rst', 'docs/docsite/rst/guide_awx.rst', 'docs/docsite/rst/guide_gitops.rst',
          'docs/docsite/rst/guide_running_guests.rst', 'docs/docsite/rst/guide_platforms.rst',
          'roles/host_profile/README.md', 'roles/guest_disks/README.md', 'roles/hypervisor/README.md')

QUICKSTART = 'docs/docsite/rst/guide_quickstart.rst'
AWX = 'docs/docsite/rst/guide_awx.rst'
GITOPS = 'docs/docsite/rst/guide_gitops.rst'


class Play(object):
    """A playbook (a list of plays): run whole, four times - check mode, real, again, check mode
    again - as the quick start says. ``after``: it checks what the plays before it made (a
    drift check), so it runs in the last two rounds only."""

    def __init__(self, ns, after=False):
        self.ns, self.after = ns, after


class HostVars(object):
    """Variables of the lab host in the inventory (host_vars), for the plays of its story."""

    def __init__(self, ns, playbook=None):
        self.ns, self.playbook = ns, playbook


class GroupVars(object):
    """group_vars of an inventory group the lab host is in. ``role``: the group's play of
    playbooks/site.yml is run by this role alone (see BLOCKS for why)."""

    def __init__(self, ns, group, role=None, role_vars=None):
        self.ns, self.group, self.role, self.role_vars = ns, group, role, role_vars or {}


class Skip(object):
    def __init__(self, why):
        self.why = why


# Every code block of the guides, by (file, index among its code blocks): how it runs, or
# why it does not. A block that is not here fails tests/unit/test_examples_table.py.
BLOCKS = {
    ('README.md', 0): Play('readme'),
    (QUICKSTART, 0): Skip('console: installs the release artifact (tests/packaging does)'),
    (QUICKSTART, 1): Play('qs'),
    (QUICKSTART, 2): Skip('console: the runs this test makes of every play (check mode, real, again, check mode)'),
    (AWX, 0): Skip('meta/execution-environment.yml as ansible-builder reads it: no play'),
    (AWX, 1): Skip('console: ansible-builder and podman build an image'),
    (AWX, 2): Skip('awx.awx.job_template configures an AWX server; the lab has none '
                   '(tests/integration/test_ansible_runner.py runs the playbook the way AWX does)'),
    (AWX, 3): Play('awx'),
    (GITOPS, 0): Skip('a directory layout'),
    (GITOPS, 1): Play('gitops'),
    (GITOPS, 2): GroupVars('gitops', 'kvm_local'),
    # site.yml's kvm_san play without its first role: kvm.storage.hypervisor would install the san
    # profile's open-iscsi, which the lab does not have (its kernel has no iSCSI initiator).
    (GITOPS, 3): GroupVars('gitops', 'kvm_san', role='kvm.storage.host_profile', role_vars={'host_profile_name': 'san'}),
    (GITOPS, 4): Skip('collections/requirements.yml: installs from a Galaxy server, which the lab cannot reach'),
    (GITOPS, 5): Skip('console: the check-mode run, which this test makes of every play'),
    (GITOPS, 6): HostVars('gitops'),
    (GITOPS, 7): Play('gitops'),
    (GITOPS, 8): Play('gitops', after=True),
    (GITOPS, 9): Skip('GitLab CI configuration'),
    ('roles/host_profile/README.md', 0): Play('roles'),
    ('roles/guest_disks/README.md', 0): HostVars('roles', playbook='kvm.storage.guest_disks'),
    ('roles/hypervisor/README.md', 0): Play('roles'),
    # alternatives, not a sequence (merge or revert), on a running guest: NOT_YET_RUN
    ('docs/docsite/rst/guide_running_guests.rst', 0): Skip('disk_snapshot tasks on a running guest: not yet in a story '
                                                           '(the disk_live scenario runs the module)'),
    ('docs/docsite/rst/guide_running_guests.rst', 2): Skip('a disk_backup and a restore of web1: not yet in a story '
                                                           '(the disk_backup scenario runs both)'),
    ('docs/docsite/rst/guide_running_guests.rst', 1): Skip('a disk_move task onto a gluster pool: not yet in a story '
                                                           '(the disk_live scenario runs the module)'),
}

# The order the guide blocks run in: a story's blocks in the order a reader follows them.
GUIDE_ORDER = (('README.md', 0), (QUICKSTART, 1), ('roles/host_profile/README.md', 0),
               ('roles/guest_disks/README.md', 0), ('roles/hypervisor/README.md', 0), (AWX, 3),
               (GITOPS, 1), (GITOPS, 3), (GITOPS, 7), (GITOPS, 8))

# Examples that do not claim idempotence: a revert is an action, it reverts on every run.
NOT_IDEMPOTENT = ({'module': 'kvm.storage.volume_snapshot', 'state': 'reverted'},)

# ---------------------------------------------------------------------------------------
# The substitution table. Strings first (hosts, URLs, IQNs, devices, path prefixes), in
# this order; then whole names, each made kvmst-<namespace>-<name> (FIXED_NAMES: one lab
# object for every story). {...} are the lab's values (lab/fixtures.sh env, this test's
# fixtures).

SUBSTITUTIONS = (
    ('qemu+ssh://root@hv1.example.com/system', 'qemu:///system'),   # no SSH server: the same libvirt, locally
    ('https://images.example.com/', 'http://127.0.0.1:{http_port}/'),  # this test's HTTP server
    ('gluster1.example.com', '{gluster_host}'),
    ('192.0.2.10', '127.0.0.1'),                                     # this test's CHAP target on the lab's tgtd
    ('192.0.2.20', '{iscsi_host}'),                                  # this test's plain target, ditto
    ('iqn.2026-01.com.example:store1', '{chap_iqn}'),
    ('iqn.2026-01.com.example:store2', '{iscsi_iqn}'),
    ('iqn.2026-01.com.example:hv1', '{iscsi_initiator}'),
    ('/dev/sdb', '{loop_fs}'),                                       # an empty loop device
    ('/dev/vg0/web1-data', '{loop_block}'),                          # a loop device
    ('/var/lib/libvirt/', '{root}/libvirt/'),
    ('/var/lib/kvm-storage/', '{root}/kvm-storage/'),
    ('/srv/', '{root}/srv/'),
)
NAMES = ('images', 'isos', 'templates', 'vms', 'fast', 'scratch', 'shared', 'gluster-fuse', 'gluster-native',
         'san1', 'san2', 'san1-chap', 'client.libvirt', 'web1', 'web1-shared.raw', 'backups')
FIXED_NAMES = {'gv0': '{gluster_volume}', 'hv1': '{chap_user}', 'gluster1': '{gluster_host}', 'vg_vms': '{vg}'}
# What the roles name themselves: their name prefix, and their default paths substituted as
# the examples' paths are (so a guide's /var/lib/kvm-storage/images is the role's images pool).
ROLE_VARS = {
    'host_profile_prefix': 'kvmst-{ns}-',
    'host_profile_local_images_path': '/var/lib/kvm-storage/images',
    'host_profile_local_isos_path': '/var/lib/kvm-storage/isos',
}

# Inventory variables the examples name (vault passwords, checksums from a SHA*SUMS file).
# host_storage_spec (the module's drift example) is what its example before declares.
VARIABLES = ('vault_san1_chap_password', 'vault_ceph_libvirt_key', 'vault_db_luks_passphrase', 'vault_luks_passphrase',
             'debian12_xz_sha512', 'debian12_sha512', 'debian12_sha256', 'host_storage_spec')

# What the examples take as given, per story, in their own words: guests (running: hot-plug
# is what the example shows) and files on the host.
PRECONDITIONS = {
    'ex': {'guests': {'web1': 'running'},
           'files': {'/var/lib/libvirt/isos/debian-12.iso': 'iso', '/srv/export/legacy-app.vmdk': 'vmdk'}},
    'qs': {'guests': {'web1': 'defined'}, 'files': {'/srv/templates/debian12.qcow2': 'qcow2'}},
    'readme': {'guests': {}, 'files': {}},
    'roles': {'guests': {'web1': 'defined'},
              'files': {'/srv/templates/debian12.qcow2': 'qcow2', '/srv/isos/tools.iso': 'iso'}},
    'awx': {'guests': {}, 'files': {}},
    'gitops': {'guests': {'web1': 'defined'}, 'files': {}},
    # the running-guest examples: dir pools (a move or a backup needs nothing more of them) and
    # folders they name, and web1 running with a qcow2 system disk and a raw data disk
    'rg': {'guests': {'web1': 'running'}, 'files': {},
           'pools': {'images': '/var/lib/libvirt/images', 'shared': '/var/lib/libvirt/shared',
                     'backups': '/var/lib/libvirt/backups'},
           'folders': ['/srv/fast', '/srv/backups/web1'],
           'disks': {'web1': [('vda', 'images', 'web1.qcow2', 'qcow2', '64M'),
                              ('vdb', 'images', 'web1-data.raw', 'raw', '16M')]}},
}
# Served at https://images.example.com/ (this test's HTTP server), and their formats.
SERVED = {'debian-12-genericcloud-amd64.qcow2.xz': 'qcow2.xz', 'debian-12-genericcloud-amd64.qcow2': 'qcow2',
          'debian-12.qcow2': 'qcow2', 'appliance.raw.zst': 'raw.zst'}
NAMESPACES = tuple(PRECONDITIONS)

# Keys whose values are variable names or bare Jinja expressions, never names to substitute.
_RAW_KEYS = ('register', 'when', 'that', 'changed_when', 'failed_when', 'until', 'loop_var')
_JINJA = re.compile(r'({{.*?}}|{%.*?%})', re.S)


def _name_pattern(name):
    return re.compile(r'(?<![\w.-])%s(?![\w-])' % re.escape(name))


_NAME_PATTERNS = [(n, _name_pattern(n)) for n in sorted(NAMES + tuple(FIXED_NAMES), key=len, reverse=True)]


def substitute_text(text, ns, lab):
    """``text`` (outside Jinja) with the lab's names, hosts and paths."""
    values = dict(lab, ns=ns, root='%s/%s' % (SANDBOX, ns))
    out = []
    for index, part in enumerate(_JINJA.split(text)):
        if index % 2:
            out.append(part)
            continue
        for old, new in SUBSTITUTIONS:
            if old in part:
                part = part.replace(old, new.format(**values))
        for name, pattern in _NAME_PATTERNS:
            if pattern.search(part):
                new = FIXED_NAMES[name].format(**values) if name in FIXED_NAMES else 'kvmst-%s-%s' % (ns, name)
                part = pattern.sub(lambda _m, new=new: new, part)
        out.append(part)
    return ''.join(out)


def substitute(data, ns, lab, key=None):
    """Parsed YAML with every string value substituted (keys, register names and bare
    Jinja expressions are left alone)."""
    if isinstance(data, dict):
        # a key is an option name, or (guest_disks_guests) a guest's name
        return dict((substitute_text(k, ns, lab) if k in NAMES else k, substitute(v, ns, lab, k))
                    for k, v in data.items())
    if isinstance(data, list):
        return [substitute(v, ns, lab, key) for v in data]
    if isinstance(data, str) and key not in _RAW_KEYS:
        return substitute_text(data, ns, lab)
    return data


def role_vars(ns, lab):
    values = dict(lab, ns=ns, root='%s/%s' % (SANDBOX, ns))
    return dict((k, v.format(**values) if '{' in v else substitute_text(v, ns, lab)) for k, v in ROLE_VARS.items())


# ---------------------------------------------------------------------------------------
# Extraction

def module_docs(module):
    """(EXAMPLES text, RETURN dict) of plugins/modules/<module>.py."""
    tree = ast.parse(open(os.path.join(REPO, 'plugins', 'modules', module + '.py')).read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) in ('EXAMPLES', 'RETURN'):
            found[node.targets[0].id] = node.value.value
    return found.get('EXAMPLES', ''), yaml.safe_load(found.get('RETURN') or '{}') or {}


def module_examples(module):
    return yaml.safe_load(module_docs(module)[0]) or []


def all_modules():
    return sorted(f[:-3] for f in os.listdir(os.path.join(REPO, 'plugins', 'modules')) if f.endswith('.py')
                  and not f.startswith('_'))


def _md_blocks(text):
    return [(m.group(1) or 'text', m.group(2)) for m in
            re.finditer(r'^```(\w*)\n(.*?)^```', text, re.S | re.M)]


def _rst_blocks(text):
    """``.. code-block:: LANG`` directives and ``::`` literal blocks, dedented."""
    out = []
    lines = text.split('\n')
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = re.match(r'^(\s*)\.\. code-block::\s*(\S+)', line)
        literal = line.rstrip().endswith('::') and not line.strip().startswith('..')
        if not (directive or literal):
            i += 1
            continue
        base = len(line) - len(line.lstrip())
        j = i + 1
        body = []
        while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > base):
            body.append(lines[j])
            j += 1
        while body and not body[-1].strip():
            body.pop()
        body = [b for b in body if not re.match(r'^\s*:\w+:', b) or not directive]
        indent = min([len(b) - len(b.lstrip()) for b in body if b.strip()] or [0])
        out.append((directive.group(2) if directive else 'literal',
                    '\n'.join(b[indent:] for b in body).strip('\n') + '\n'))
        i = j
    return out


def guide_blocks(path):
    """[(language, text)] of the code blocks of one guide."""
    text = open(os.path.join(REPO, path)).read()
    return _md_blocks(text) if path.endswith('.md') else _rst_blocks(text)


def all_guide_blocks():
    return dict(((path, index), block) for path in GUIDES for index, block in enumerate(guide_blocks(path)))


# ---------------------------------------------------------------------------------------
# Module examples: one play, each state-changing example four times

def _module_of(task):
    for key in task:
        if key.startswith('kvm.storage.') or key.startswith('ansible.builtin.'):
            return key
    return None


def _claims_idempotence(module, args):
    for rule in NOT_IDEMPOTENT:
        if rule['module'] == module and isinstance(args, dict) and args.get('state') == rule['state']:
            return False
    return True


def module_story(lab):
    """The plays of the module examples (namespace ``ex``; the running-guest modules' in
    ``rg``), and [(tag, module, example)]."""
    plays, index = [], []
    for name, ns, order in (('Module examples', 'ex', MODULE_ORDER), ('Running-guest examples', 'rg', RUNNING_ORDER)):
        tasks = []
        for module in order:
            for number, example in enumerate(module_examples(module)):
                if (module, number) in EXAMPLE_SKIPS:
                    continue
                example = substitute(example, ns, lab)
                tag = '%s#%d' % (module, number)
                index.append((tag, module, example))
                tasks.extend(_four_steps(tag, example))
        plays.append({'name': name, 'hosts': 'lab', 'gather_facts': False, 'vars': _variables(lab, ns),
                      'tasks': tasks})
    return plays, index


def _four_steps(tag, example):
    """The example as written, after a check-mode run of it; then again and in check mode
    again, unless it is not a state change (info modules, builtins) or has check_mode set."""
    module = _module_of(example)
    name = '[%s] %s' % (tag, example.get('name', module))
    stateful = module and module.startswith('kvm.storage.') and not module.endswith('_info') \
        and 'check_mode' not in example
    if not stateful:
        return [dict(example, name=name)]
    base = dict((k, v) for k, v in example.items() if k not in ('register', 'name'))
    reg = example.get('register')
    idem = _claims_idempotence(module, example.get(module))
    steps = [
        dict(copy.deepcopy(base), name='%s - check mode' % name, check_mode=True, diff=True, register='kvmst_ex_check'),
        dict(copy.deepcopy(base), name=name, diff=True, register=reg or 'kvmst_ex_real'),
        dict(copy.deepcopy(base), name='%s - again' % name, register='kvmst_ex_again'),
        dict(copy.deepcopy(base), name='%s - check mode again' % name, check_mode=True,
             register='kvmst_ex_check_again'),
    ]
    real = reg or 'kvmst_ex_real'
    that = ['kvmst_ex_check.changed == %s.changed' % real,
            "kvmst_ex_check.assumed is defined or kvmst_ex_check.actions | default([]) == %s.actions | default([])"
            % real]
    if idem:
        that += ['kvmst_ex_again is not changed', 'kvmst_ex_check_again is not changed']
    steps.append({'name': '%s - check mode predicted it%s' % (name, ', a second run changed nothing' if idem else ''),
                  'ansible.builtin.assert': {
                      'that': that, 'quiet': True,
                      'fail_msg': '{{ {"check": kvmst_ex_check.actions | default(None), "real": %s.actions | '
                                  'default(None), "again": kvmst_ex_again.actions | default(None), "check again": '
                                  'kvmst_ex_check_again.actions | default(None)} | to_json }}' % real}})
    return steps


def _variables(lab, ns):
    values = dict(lab['variables'])
    return dict(values, **role_vars(ns, lab))


# ---------------------------------------------------------------------------------------
# The LVM thin examples, on the VM host (tests/vmhost/test_examples.py): a story of their own,
# the pool's removal last (it is refused while the pool holds thin volumes)

VMHOST_ORDER = (('lvm_thin_pool', 0), ('lvm_thin_pool', 1), ('lvm_thin_volume', 0), ('lvm_thin_volume', 1),
                ('lvm_thin_volume', 2), ('lvm_thin_volume', 3), ('lvm_thin_pool', 2))
# The VG the examples name (vg_vms), on a sparse file big enough for their sizes.
VMHOST_VG = 'kvmst_ex_vms'
VMHOST_VG_SIZE = '200G'


def vmhost_story(host):
    """The play of the LVM thin examples on the VM host ``host``: a VG made first and
    removed again (always), the examples between, each four times."""
    values = {'vg': VMHOST_VG}
    tasks, index = [], []
    for module, number in VMHOST_ORDER:
        example = substitute(module_examples(module)[number], 'vm', values)
        tag = '%s#%d' % (module, number)
        index.append((tag, module, example))
        tasks.extend(_four_steps(tag, example))
    image = '/var/tmp/%s.img' % VMHOST_VG
    setup = {'name': 'The volume group the examples name, on a sparse file', 'changed_when': True,
             'ansible.builtin.shell': 'set -e\ntruncate -s %s %s\ndev=$(losetup -f --show %s)\n'
                                      'pvcreate -q "$dev"\nvgcreate -q %s "$dev"\n'
                                      % (VMHOST_VG_SIZE, image, image, VMHOST_VG)}
    teardown = {'name': 'Teardown', 'changed_when': True, 'failed_when': False,
                'ansible.builtin.shell': 'vgremove -f -y %s\nfor d in $(losetup -j %s -O NAME -n); do pvremove -ff -y '
                                         '"$d"; losetup -d "$d"; done\nrm -f %s /etc/lvm/profile/kvmst_thin-%s-*\n'
                                         'true\n' % (VMHOST_VG, image, image, VMHOST_VG)}
    play = {'name': 'LVM thin examples', 'hosts': host, 'gather_facts': False,
            'tasks': [{'name': 'Examples', 'block': [setup] + tasks, 'always': [teardown]}]}
    return [play], index


# ---------------------------------------------------------------------------------------
# Guides: one playbook of every runnable block, run four times

def guide_story(lab):
    """(plays, inventory vars): the playbook of the guide blocks in GUIDE_ORDER, and
    {'host_vars': {...}, 'group_vars': {group: {...}}} from the variable blocks."""
    blocks = all_guide_blocks()
    host_vars, group_vars = {}, {}
    for key, how in BLOCKS.items():
        if isinstance(how, HostVars):
            host_vars.update(substitute(yaml.safe_load(blocks[key][1]), how.ns, lab))
        elif isinstance(how, GroupVars) and not how.role:
            group_vars.setdefault(how.group, {}).update(substitute(yaml.safe_load(blocks[key][1]), how.ns, lab))
    plays = []
    for key in GUIDE_ORDER:
        how = BLOCKS[key]
        tag = '%s#%d' % key
        variables = _variables(lab, how.ns)
        if isinstance(how, HostVars):
            plays.append({'name': '[%s] %s' % (tag, how.playbook), 'ansible.builtin.import_playbook': how.playbook,
                          'vars': variables})
            continue
        if isinstance(how, GroupVars):
            plays.append({'name': '[%s] %s group_vars, applied by %s' % (tag, how.group, how.role), 'hosts': 'lab',
                          'gather_facts': False,
                          'vars': dict(variables, **substitute(yaml.safe_load(blocks[key][1]), how.ns, lab)),
                          'roles': [{'role': how.role, 'vars': how.role_vars}]})
            continue
        for play in substitute(yaml.safe_load(blocks[key][1]), how.ns, lab):
            play = copy.deepcopy(play)
            play['name'] = '[%s] %s' % (tag, play.get('name', 'play'))
            play['vars'] = dict(variables, **(play.get('vars') or {}))
            if how.after:
                play['tags'] = ['kvmst_after']
            plays.append(play)
    return plays, {'host_vars': host_vars, 'group_vars': group_vars}


# ---------------------------------------------------------------------------------------
# Results against RETURN

# Keys Ansible adds to every result, and those of loops.
COMMON_KEYS = frozenset(['changed', 'failed', 'msg', 'warnings', 'deprecations', 'diff', 'invocation', 'skipped',
                         'skip_reason', 'item', 'ansible_loop_var', 'results', 'exception', 'rc', 'stdout',
                         'stderr', 'ansible_facts', 'false_condition', 'censored'])


def undocumented_keys(result, returns):
    """Keys of ``result`` (a module result) that RETURN does not document, and for lists and
    dicts of documented ``contains``, the keys of their elements that it does not either."""
    out = []
    for key, value in result.items():
        if key in COMMON_KEYS or key.startswith('_ansible'):
            continue
        doc = returns.get(key)
        if doc is None:
            out.append(key)
            continue
        contains = doc.get('contains') if isinstance(doc, dict) else None
        if not contains:
            continue
        items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        for item in items:
            if isinstance(item, dict):
                out.extend('%s[].%s' % (key, k) for k in item if k not in contains)
    return sorted(set(out))
