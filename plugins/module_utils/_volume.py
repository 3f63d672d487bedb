# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Volumes: argument spec, requests from module params, and the planner.  Pure.

One request per volume; the ``volumes`` list form makes many requests that share the
top-level options as defaults.  ``plan(requests, world)`` reads only the ``World`` the
adapter filled in (pools, their volumes, who uses what) and returns one Plan.
"""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _volume_xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError, ConflictError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan
from ansible_collections.kvm.storage.plugins.module_utils._usage import Usage
from ansible_collections.kvm.storage.plugins.module_utils._pool import normalize_mode, normalize_id, permissions_options
from ansible_collections.kvm.storage.plugins.module_utils._secret import reference_options
from ansible_collections.kvm.storage.plugins.module_utils._size import parse_size, format_size, SizeError

FORMATS = ['raw', 'qcow2', 'qed', 'vmdk', 'vdi', 'vpc', 'vhdx']
# Formats an import_from source may have (qemu-img converts each into the volume's format).
IMPORT_FORMATS = ['raw', 'qcow2', 'vmdk', 'vhdx', 'vdi', 'vpc']
PREALLOCATION = ['sparse', 'metadata', 'falloc', 'full']
COMPAT = ['0.10', '1.1']
# qemu's limits on a qcow2 cluster: a power of two from 512 bytes to 2 MiB.
CLUSTER_MIN = 512
CLUSTER_MAX = 2 * 1024 * 1024
# The options that shape a new qcow2 image and cannot change on an existing one here.
QCOW2_OPTIONS = ('cluster_size', 'lazy_refcounts', 'compat')
WIPE_ALGORITHMS = ['zero', 'nnsa', 'dod', 'bsi', 'gutmann', 'schneier', 'pfitzner7', 'pfitzner33', 'random', 'trim']

# Pools whose volumes are LUNs or devices that libvirt lists but cannot create.
LUN_POOLS = ('iscsi', 'iscsi_direct', 'scsi', 'mpath')
# Shared pools whose storage keeps no lock a guest on another host would hold (gfapi,
# rbd): whether such a guest uses an image cannot be seen from here.
UNLOCKED_SHARED_POOLS = ('gluster', 'rbd', 'sheepdog')
# Shared pools of files whose lock reaches across hosts (NFS, gluster FUSE): probed.
LOCKED_SHARED_POOLS = ('netfs',)
# Pools whose volumes are files under the pool's target directory.
FILE_POOLS = ('dir', 'fs', 'netfs')


def _ref_options(with_path):
    opts = dict(pool=dict(type='str'), name=dict(type='str'))
    if with_path:
        opts.update(path=dict(type='path'), format=dict(type='str', choices=FORMATS))
    return opts


def volume_options():
    """Options that one volume takes, at the top level (as defaults) or in ``volumes``."""
    return dict(
        name=dict(type='str'),
        pool=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent']),
        capacity=dict(type='str'),
        format=dict(type='str', choices=FORMATS),
        preallocation=dict(type='str', choices=PREALLOCATION),
        allocation=dict(type='str'),
        cluster_size=dict(type='str'),
        lazy_refcounts=dict(type='bool'),
        compat=dict(type='str', choices=COMPAT),
        backing=dict(type='dict', options=_ref_options(True)),
        clone_from=dict(type='dict', options=_ref_options(False)),
        import_from=dict(type='str'),
        import_format=dict(type='str', choices=IMPORT_FORMATS),
        checksum=dict(type='str', no_log=False),
        compress=dict(type='bool'),
        encryption=dict(type='dict', no_log=False, options=dict(
            format=dict(type='str', choices=['luks']),
            **reference_options()
        )),
        permissions=dict(type='dict', options=permissions_options()),
        cloud_init=dict(type='dict', no_log=False, options=dict(
            # user-data (passwords, keys), network-config (Wi-Fi passwords) and even
            # meta-data (public keys are fine, but who knows) may hold secrets: all no_log.
            user_data=dict(type='str', no_log=True),
            meta_data=dict(type='str', no_log=True),
            network_config=dict(type='str', no_log=True),
        )),
        wipe=dict(type='str', choices=WIPE_ALGORITHMS),
        allow_shrink=dict(type='bool'),
        force=dict(type='bool'),
    )


def argument_spec():
    spec = volume_options()
    spec['volumes'] = dict(type='list', elements='dict', options=volume_options())
    return spec


MUTUALLY_EXCLUSIVE = [('name', 'volumes'), ('backing', 'clone_from'), ('backing', 'import_from'), ('clone_from', 'import_from'),
                      ('preallocation', 'allocation')]
REQUIRED_ONE_OF = [('name', 'volumes')]

DEFAULTS = dict(state='present', allow_shrink=False, force=False)


class VolumeRequest(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def label(self):
        return 'volume %s of pool %s' % (self.name, self.pool)


def requests_from_params(params, resolve_user=None, resolve_group=None):
    """One VolumeRequest per volume; list items inherit the top-level options."""
    items = params.get('volumes')
    if items is None:
        items = [{}]
    elif not items:
        raise KvmStorageError('volumes is an empty list; give at least one volume or use name')
    out = []
    seen = set()
    keys = list(volume_options())
    for index, item in enumerate(items):
        merged = {}
        for key in keys:
            value = item.get(key) if item else None
            merged[key] = value if value is not None else params.get(key)
            if merged[key] is None and key in DEFAULTS:
                merged[key] = DEFAULTS[key]
        where = 'volumes[%d]' % index if params.get('volumes') is not None else 'the request'
        req = _request(merged, where, resolve_user, resolve_group)
        if (req.pool, req.name) in seen:
            raise KvmStorageError('volume %s of pool %s is listed twice' % (req.name, req.pool))
        seen.add((req.pool, req.name))
        out.append(req)
    return out


def _size(value, what, label):
    if value is None:
        return None
    try:
        return parse_size(value, what=what)
    except SizeError as exc:
        raise KvmStorageError('%s: %s' % (label, exc))


def _request(p, where, resolve_user, resolve_group):
    if not p.get('name'):
        raise KvmStorageError('%s has no volume name' % where)
    if not p.get('pool'):
        raise KvmStorageError('volume %s: set pool (at the top level or for this volume)' % p['name'])
    name = check_name('volume', p['name'])
    check_name('pool', p['pool'])
    label = 'volume %s of pool %s' % (name, p['pool'])
    sources = [k for k in ('backing', 'clone_from', 'import_from') if p.get(k)]
    if len(sources) > 1:
        raise KvmStorageError('%s: %s are mutually exclusive' % (label, ' and '.join(sources)))
    if p.get('checksum') and not p.get('import_from'):
        raise KvmStorageError('%s: checksum only applies with import_from' % label)
    if p.get('import_from'):
        source = p['import_from']
        if not (source.startswith('/') or source.startswith('http://') or source.startswith('https://')):
            raise KvmStorageError('%s: import_from must be an absolute path on the host or an http(s) URL' % label)
        if any(ord(c) < 32 for c in source):
            raise KvmStorageError('%s: import_from must not contain control characters' % label)
    if p.get('preallocation') and p.get('allocation'):
        raise KvmStorageError('%s: preallocation and allocation are mutually exclusive' % label)
    capacity = _size(p.get('capacity'), 'capacity', label)
    allocation = _size(p.get('allocation'), 'allocation', label)
    if capacity is not None and capacity == 0:
        raise KvmStorageError('%s: capacity must be larger than 0' % label)
    if allocation is not None and capacity is not None and allocation > capacity:
        raise KvmStorageError('%s: allocation (%s) is larger than capacity (%s)'
                              % (label, format_size(allocation), format_size(capacity)))
    prealloc = p.get('preallocation')
    fmt = p.get('format')
    if prealloc == 'metadata' and fmt not in (None, 'qcow2'):
        raise KvmStorageError('%s: preallocation metadata needs format qcow2' % label)
    if prealloc in ('falloc', 'full') and fmt not in (None, 'raw', 'qcow2'):
        raise KvmStorageError('%s: preallocation %s applies to raw and qcow2 volumes, not %s' % (label, prealloc, fmt))
    cluster_size = _size(p.get('cluster_size'), 'cluster_size', label)
    if cluster_size is not None and (cluster_size & (cluster_size - 1) or not CLUSTER_MIN <= cluster_size <= CLUSTER_MAX):
        raise KvmStorageError('%s: cluster_size must be a power of two from 512 bytes to 2 MiB (qemu\'s limits), not %s'
                              % (label, format_size(cluster_size)))
    qcow2_opts = [k for k in QCOW2_OPTIONS if p.get(k) is not None]
    if qcow2_opts and fmt not in (None, 'qcow2'):
        raise KvmStorageError('%s: %s applies to qcow2 volumes, not %s' % (label, ' and '.join(qcow2_opts), fmt))
    if qcow2_opts and p.get('import_from') and fmt != 'qcow2':
        raise KvmStorageError('%s: %s with import_from needs format: qcow2 (the image is converted to qcow2 with '
                              'those options; its own format is known only once it is fetched)'
                              % (label, ' and '.join(qcow2_opts)))
    if p.get('import_format') and not p.get('import_from'):
        raise KvmStorageError('%s: import_format only applies with import_from' % label)
    if p.get('lazy_refcounts') and p.get('compat') == '0.10':
        raise KvmStorageError('%s: lazy_refcounts needs compat 1.1 (qcow2 v3); compat 0.10 images have no such '
                              'feature' % label)
    backing = p.get('backing')
    if backing is not None:
        backing = _ref(backing, label, 'backing', allow_path=True)
    clone = p.get('clone_from')
    if clone is not None:
        clone = _ref(clone, label, 'clone_from', allow_path=False)
    if p.get('compress') and not p.get('import_from'):
        raise KvmStorageError('%s: compress applies to import_from (qemu-img writes compressed clusters while '
                              'converting); libvirt cannot compress an empty or cloned volume' % label)
    if p.get('compress') and fmt not in (None, 'qcow2'):
        raise KvmStorageError('%s: compress needs format qcow2' % label)
    encryption = dict((k, v) for k, v in (p.get('encryption') or {}).items() if v is not None) or None
    if encryption:
        if bool(encryption.get('secret_uuid')) == bool(encryption.get('secret_usage')):
            raise KvmStorageError('%s: encryption needs exactly one of secret_uuid and secret_usage (the libvirt '
                                  'secret holding the passphrase)' % label)
        if fmt not in (None, 'qcow2', 'raw'):
            raise KvmStorageError('%s: LUKS encryption applies to qcow2 and raw volumes, not %s' % (label, fmt))
        if p.get('import_from') or p.get('clone_from'):
            raise KvmStorageError('%s: an encrypted volume is created empty (or as an overlay); import or clone '
                                  'into it is not supported' % label)
        encryption.setdefault('format', 'luks')
    cloud_init = _cloud_init(p, label)
    perms = dict((k, v) for k, v in (p.get('permissions') or {}).items() if v is not None) or None
    if perms:
        try:
            perms = {'mode': normalize_mode(perms.get('mode')),
                     'owner': normalize_id(perms.get('owner'), resolve_user),
                     'group': normalize_id(perms.get('group'), resolve_group),
                     'label': perms.get('label')}
        except KvmStorageError as exc:
            raise KvmStorageError('%s: %s' % (label, exc.msg.replace('target.permissions.', 'permissions.')))
    return VolumeRequest(name=name, pool=p['pool'], state=p['state'], capacity=capacity, allocation=allocation,
                         preallocation=prealloc, format=fmt, backing=backing, cluster_size=cluster_size,
                         lazy_refcounts=p.get('lazy_refcounts'), compat=p.get('compat'), clone_from=clone, permissions=perms,
                         import_from=p.get('import_from'), checksum=p.get('checksum'),
                         import_format=p.get('import_format'),
                         compress=bool(p.get('compress')), encryption=encryption, cloud_init=cloud_init,
                         wipe=p.get('wipe'), allow_shrink=bool(p.get('allow_shrink')), force=bool(p.get('force')))


# The files of a NoCloud seed, by option; cloud-init finds the seed by its label.
SEED_FILES = (('user_data', 'user-data'), ('meta_data', 'meta-data'), ('network_config', 'network-config'))
SEED_LABEL = 'cidata'
# Options that shape an image from other sources or sizes: a seed ISO is made of its files.
SEED_EXCLUSIVE = ('backing', 'clone_from', 'import_from', 'capacity', 'allocation', 'preallocation', 'cluster_size',
                  'lazy_refcounts', 'compat', 'compress', 'encryption', 'checksum', 'import_format')


def _cloud_init(p, label):
    """{file name: text} of the seed ISO a request asks for: user-data and meta-data always
    (NoCloud needs both; an empty one when not given), network-config when given."""
    given = dict((k, v) for k, v in (p.get('cloud_init') or {}).items() if v is not None)
    if not p.get('cloud_init'):
        return None
    if not given:
        raise KvmStorageError('%s: cloud_init needs at least one of user_data, meta_data and network_config' % label)
    clash = [k for k in SEED_EXCLUSIVE if p.get(k) not in (None, False)]
    if clash:
        raise KvmStorageError('%s: cloud_init makes a seed ISO from its files; %s do not apply to it'
                              % (label, ' and '.join(clash)))
    if p.get('format') not in (None, 'raw'):
        raise KvmStorageError('%s: a cloud_init seed ISO is a raw volume, not %s' % (label, p['format']))
    files = {}
    for option, name in SEED_FILES:
        if given.get(option) is not None or option != 'network_config':
            files[name] = given.get(option) or ''
    return files


def _ref(ref, label, what, allow_path):
    ref = dict((k, v) for k, v in ref.items() if v is not None)
    if allow_path and ref.get('path'):
        if ref.get('name') or ref.get('pool'):
            raise KvmStorageError('%s: %s takes either path or pool and name, not both' % (label, what))
        if not ref['path'].startswith('/'):
            raise KvmStorageError('%s: %s.path must be absolute' % (label, what))
        return ref
    if not ref.get('name'):
        raise KvmStorageError('%s: %s needs name (and pool, when it is in another pool)%s'
                              % (label, what, ' or path' if allow_path else ''))
    check_name('volume', ref['name'])
    return ref


# ---------------------------------------------------------------------------------------
# The world as the adapter read it

class PoolView(object):
    """One pool: its type, target path, whether it runs, and its volumes by name."""

    def __init__(self, name, pool_type, active, target_path=None, volumes=None, source_hosts=(), source_name=None,
                 source_dir=None):
        self.name = name
        self.type = pool_type
        self.active = active
        self.target_path = target_path
        self.volumes = volumes if volumes is not None else {}
        self.source_hosts = list(source_hosts)
        self.source_name = source_name
        self.source_dir = source_dir
        # Check mode only: a pool that does not exist yet, planned as if an earlier task made
        # it (its type and target are not known, so neither are the paths of its volumes).
        self.assumed = False
        # Volumes whose create was cut off (markers of runs that are gone: _inflight), by
        # name: {'markers': [{'marker': its file, 'doing': the step, 'survived': whether the
        # run lived on after the create failed, 'left': the fingerprint it then recorded
        # (None: killed first, or not readable there)}], 'now': the fingerprint now (None:
        # not readable here)}.
        self.incomplete = {}


class World(object):
    """Pools by name, plus ``usage`` (_usage.Usage: who holds which storage, by identity),
    read only when a request deletes, shrinks or grows (it costs a listing of all guests
    and pools); None until then.  ``users``/``children``/``running`` (path tables) build
    it for callers that know usage by name."""

    def __init__(self, pools, users=None, children=None, secrets=None, running=None, usage=None, locked=None):
        self.pools = pools
        # path -> what the lock probe said, for images of shared pools another process
        # (a guest on another host) holds open (lock_probe_paths says which are probed)
        self.locked = locked or {}
        if usage is None and (users is not None or children is not None or running is not None):
            usage = Usage.from_tables(users, children, running)
        self.usage = usage
        self.secrets = secrets or {}   # secret usage id -> UUID (volume secrets)
        # (pool, name) -> ImportFacts for an existing volume that a request imports into
        self.imports = {}
        # (pool, name) -> SeedFacts of an existing volume that a cloud_init request names
        self.seeds = {}
        # the tool that builds seed ISOs on the host (xorriso, genisoimage), None when there
        # is none; only looked for when a request has cloud_init
        self.iso_tool = None


class ImportFacts(object):
    """What the adapter could read cheaply of an import_from source and of the existing
    volume it would have filled: the source image's format and virtual size (None when not
    known without fetching it: a URL, a compressed file), and with ``checksum`` the digest
    of the volume's own content (None when it cannot be read here) to compare with it."""

    def __init__(self, fmt=None, size=None, volume_digest=None, why_not=None):
        self.format = fmt
        self.size = size
        self.volume_digest = volume_digest
        self.why_not = why_not   # why the content could not be compared (with checksum)


class SeedFacts(object):
    """What an existing volume named by a cloud_init request holds, read back from the
    volume itself: its ISO 9660 label and the files of its root folder (name -> bytes), or
    ``why_not`` when it is no ISO image (or too large to be a seed)."""

    def __init__(self, label=None, files=None, why_not=None):
        self.label = label
        self.files = files
        self.why_not = why_not


# ---------------------------------------------------------------------------------------
# Planning

def plan(requests, world, created=None, deleted=None, assume=False):
    """Plan for every request, in order; a later volume may be backed by, or cloned
    from, one created earlier in the same run.  ``created`` and ``deleted`` carry that
    memory across calls (host_storage plans one volume at a time between other objects).

    ``assume`` (check mode): a pool, a backing or clone source volume or a LUKS secret that
    does not exist yet is planned as if an earlier task of the play made it - the plan
    records it (``Plan.assume``: a warning) and adds an assumed pool to ``world``; a real
    run never assumes, so it fails if the object never appears."""
    steps = Plan()
    created = {} if created is None else created
    deleted = set() if deleted is None else deleted  # paths deleted earlier no longer hold their backing file
    for req in requests:
        pool = world.pools.get(req.pool)
        if pool is None:
            if req.state == 'absent':
                continue
            if not assume:
                raise KvmStorageError('%s: pool %s does not exist' % (req.label, req.pool))
            pool = world.pools[req.pool] = PoolView(req.pool, None, True)
            pool.assumed = True
        if pool.assumed and req.state != 'absent':
            steps.assume('pool %s' % req.pool)
        if not pool.active:
            raise KvmStorageError('%s: pool %s is not running, so its volumes cannot be read; start it first'
                                  % (req.label, req.pool))
        actual = pool.volumes.get(req.name)
        if req.state == 'absent':
            if actual is not None and pool.type in LUN_POOLS:
                raise KvmStorageError('%s is a LUN of a %s pool; remove it on the storage side, libvirt cannot '
                                      'delete it' % (req.label, pool.type))
            _plan_delete(steps, req, actual, world, deleted)
        elif actual is None or _empty_leftover(pool, actual) or req.name in pool.incomplete:
            if actual is not None:
                what = 'incomplete' if req.name in pool.incomplete else 'empty leftover'
                if req.name in pool.incomplete and not _empty_leftover(pool, actual):
                    _refuse_unless_as_left(req, pool.incomplete[req.name])
                _refuse_if_used(req, actual, world, 'replace the %s' % what, shared=False)
                steps.add('delete', 'delete the %s %s of an interrupted create' % (what, req.label), request=req)
            model = _plan_create(steps, req, pool, world, created, assume)
            created[(req.pool, req.name)] = model
        elif getattr(req, 'cloud_init', None):
            _plan_seed_existing(steps, req, actual, world, pool)
        else:
            if req.import_from:
                _note_import_kept(steps, req, actual, world.imports.get((req.pool, req.name)))
            _plan_existing(steps, req, actual, world, pool)
    return steps


# ---------------------------------------------------------------------------------------
# cloud-init seed ISOs
#
# Idempotent by content, read back from the volume itself: the adapter downloads the
# existing ISO through libvirt and reads its label and the files of its root folder
# (_iso9660), and the plan compares them byte for byte with the files asked for. No digest
# or marker is stored anywhere, so nothing can drift from the volume: a seed edited or
# replaced by hand is seen as it is, and a newer ISO tool that lays the image out
# differently changes nothing while the files are the same.

def seed_changes(want, have):
    """What differs between the files asked for (name -> text) and those of the ISO
    (name -> bytes), in words without content: ['user-data changed', 'network-config added']."""
    out = []
    for name in sorted(set(want) | set(have)):
        if name not in have:
            out.append('%s added' % name)
        elif name not in want:
            out.append('%s removed' % name)
        elif want[name].encode('utf-8') != have[name]:
            out.append('%s changed' % name)
    return out


def _seed_pool(req, pool):
    if pool.type not in FILE_POOLS and not pool.assumed:
        raise KvmStorageError('%s: a cloud_init seed ISO is a file; make it in a dir, fs or netfs pool, not in a %s '
                              'pool' % (req.label, pool.type))


def _plan_seed_create(steps, req, pool, world, assume):
    _seed_pool(req, pool)
    if not world.iso_tool:
        if not assume:
            raise KvmStorageError('%s: building a cloud-init seed ISO needs xorriso (or genisoimage) on the host the '
                                  'module runs on; install the package xorriso (the kvm.storage.hypervisor role '
                                  'does)' % req.label)
        steps.assume('the ISO tool xorriso', ' (the kvm.storage.hypervisor role installs it)')
    steps.add('seed', 'create %s as a cloud-init seed ISO (label %s: %s)'
              % (req.label, SEED_LABEL, ', '.join(sorted(req.cloud_init))),
              request=req, files=sorted(req.cloud_init), path=_predicted_path(pool, req.name))
    return {'name': req.name, 'path': _predicted_path(pool, req.name), 'format': 'raw', 'capacity': None,
            'sized_at_run': True}


def _plan_seed_existing(steps, req, actual, world, pool):
    """An existing volume is replaced only when it is a seed ISO (an ISO 9660 image labelled
    cidata) whose files differ, and no running guest has it open: qemu keeps the image
    open, and its CD-ROM would read the new file under the guest's cached view of the old
    one. Anything else under the name is a conflict, never overwritten."""
    fmt = pool_format(actual)
    if fmt not in ('raw', None):
        raise ConflictError('%s exists as a %s volume, not a cloud-init seed ISO; it is never overwritten: delete it '
                            '(state: absent) or choose another name' % (req.label, fmt))
    facts = world.seeds.get((req.pool, req.name))
    if facts is None or facts.files is None:
        raise ConflictError('%s exists and is not a cloud-init seed ISO (%s); it is never overwritten: delete it '
                            '(state: absent) or choose another name'
                            % (req.label, facts.why_not if facts is not None else 'its content was not read'))
    if (facts.label or '').lower() != SEED_LABEL:
        raise ConflictError('%s exists as an ISO image labelled %s, not %s, so it is no cloud-init seed; it is never '
                            'overwritten: delete it (state: absent) or choose another name'
                            % (req.label, facts.label or '(none)', SEED_LABEL))
    changes = seed_changes(req.cloud_init, facts.files)
    if not changes:
        return
    path = actual.get('path')
    if world.usage is None:
        raise KvmStorageError('%s: who uses the seed ISO was not read; it is not replaced blindly' % req.label)
    running = world.usage.running_users_of(path)
    if running:
        raise ConflictError('refusing to replace the cloud-init seed ISO %s (%s): running guest(s) %s have it open; '
                            'shut them off and run again (a guest reads the new seed when it boots)'
                            % (req.label, ', '.join(changes), ', '.join(running)), used_by=running)
    children = world.usage.backing_of(path)
    if children:
        raise ConflictError('refusing to replace the cloud-init seed ISO %s: it is the backing file of %s'
                            % (req.label, ', '.join(children)), backing_of=children)
    steps.add('seed_replace', 'replace the cloud-init seed ISO %s (%s)' % (req.label, ', '.join(changes)),
              request=req, files=sorted(req.cloud_init), path=path)


def seed_differs(req, world):
    """Whether an existing volume of a cloud_init request holds a seed ISO whose files
    differ from the request (then who uses it is read before planning)."""
    facts = world.seeds.get((req.pool, req.name))
    return bool(facts is not None and facts.files is not None and seed_changes(req.cloud_init, facts.files))


def seed_diff_forms(req, actual, facts, steps):
    """(before, after) of a seed in diff mode: each file with its size, never its content
    (user-data may hold secrets); a file this run writes anew says so."""
    before = None
    if actual is not None and facts is not None and facts.files is not None:
        before = dict((name, '%d bytes' % len(data)) for name, data in facts.files.items())
    verbs = steps.verbs() if steps is not None else []
    if 'seed' not in verbs and 'seed_replace' not in verbs:
        return before, before
    have = facts.files if facts is not None and facts.files is not None and 'seed_replace' in verbs else {}
    after = {}
    for name, text in req.cloud_init.items():
        data = text.encode('utf-8')
        after[name] = '%d bytes%s' % (len(data), '' if have.get(name) == data else ', written')
    return before, after


def import_target_format(volume_format, source_format, pool_type=None, compress=False):
    """The format an imported image is stored in: raw data in a logical pool, compressed
    qcow2 with compress, the volume's format when given; otherwise raw and qcow2 images keep
    their format and images of other hypervisors (vmdk, vhdx, vdi, vpc) become qcow2."""
    if pool_type == 'logical':
        return None
    if compress:
        return 'qcow2'
    if volume_format:
        return volume_format
    return source_format if source_format in ('raw', 'qcow2', None) else 'qcow2'


def import_converts(req, source_format, pool_type=None):
    """Whether the import runs qemu-img convert: another format, compression, or qcow2
    creation options the image must be made with."""
    target = import_target_format(req.format, source_format, pool_type, req.compress)
    return (target or 'raw') != source_format or req.compress or \
        any(getattr(req, k, None) is not None for k in QCOW2_OPTIONS)


def import_decision(req, source_format, pool_type=None):
    """Once the image is fetched and its header read: (the format it is stored in, whether
    qemu-img converts it). The header decides, never the file's name: a declared
    import_format the header contradicts is refused (a raw image that holds a qcow2 header
    is exactly what must not be opened as qcow2)."""
    if req.import_format and source_format != req.import_format:
        raise KvmStorageError('%s: %s is a %s image by its header, not %s as import_format says; nothing was imported'
                              % (req.label, req.import_from, source_format, req.import_format))
    target = import_target_format(req.format, source_format, pool_type, req.compress)
    return target, import_converts(req, source_format, pool_type)


def _note_import_kept(steps, req, actual, facts):
    """import_from fills only a missing volume: an existing one is kept as it is. Say so
    when it differs from the source - size and format first (cheap), and with checksum
    the volume's content against the checksum."""
    if facts is None:
        return
    differs = []
    target = import_target_format(None, facts.format, compress=req.compress) if facts.format else None
    if target and not req.format and pool_format(actual) not in (None, target) and actual.get('format') \
            not in ('lvm2', 'none'):
        differs.append('format %s, the image %s%s' % (pool_format(actual), facts.format,
                                                      '' if target == facts.format else ' (imported as %s)' % target))
    if facts.size is not None and actual.get('capacity') is not None and facts.size != actual['capacity'] \
            and not (req.capacity and req.capacity == actual['capacity']):
        differs.append('size %s, the image %s' % (format_size(actual['capacity']), format_size(facts.size)))
    if req.checksum:
        want = req.checksum.split(':', 1)[1].strip().lower()
        if facts.volume_digest is not None and facts.volume_digest != want:
            differs.append('its %s is not the checksum given%s' % (
                req.checksum.split(':', 1)[0].strip().lower(),
                ' (or the image was converted on import: set import_format to say its format)'
                if facts.format is None and not req.import_format and pool_format(actual) in ('raw', 'qcow2') else ''))
        elif facts.volume_digest is None and facts.why_not:
            steps.warnings.append('%s exists and was kept; its content was not compared with checksum (%s)'
                                  % (req.label, facts.why_not))
    if differs:
        steps.warnings.append('%s exists and was kept, and it differs from import_from %s (%s); import_from fills only '
                              'a missing volume: delete it (state: absent) and run again to import the image anew'
                              % (req.label, req.import_from, '; '.join(differs)))


def _empty_leftover(pool, actual):
    """qemu-img over gluster makes the file before it writes the image: a create cut off in
    between (a brick gone) leaves an empty file, listed as a 0-byte raw volume. It holds no
    data, so a later run replaces it instead of calling it a format conflict."""
    return pool.type == 'gluster' and actual.get('capacity') == 0 and not actual.get('allocation')


# What a change of each fingerprint field means, in words.
# (The change time moves with every write, chmod or chown, and cannot be set back.)
_CHANGES = (('dev', 'made anew'), ('ino', 'made anew'), ('rdev', 'made anew'), ('size', 'resized'),
            ('blocks', 'written'), ('mtime_ns', 'written'), ('sectors_written', 'written'), ('ctime_ns', 'changed'))


def _refuse_unless_as_left(req, found):
    """A marker outlives its run both when the create was cut off half-way and when only
    the module was killed while libvirtd finished the volume (which may hold a guest's data
    by now). The volume is replaced only when every run that left a marker recorded how it
    left it and the volume is still exactly that; otherwise the user decides (force)."""
    if req.force:
        return
    now = found.get('now')
    blocking = [m for m in found['markers'] if m.get('left') is None or m['left'] != now]
    if not blocking:
        return
    marker = blocking[0]
    left = marker.get('left')
    if left is None and not marker.get('survived'):
        why = 'that run was killed before it could record how it left the volume, which libvirtd may have ' \
              'finished since and which may hold data by now'
    elif left is None or now is None:
        why = 'the volume cannot be read here to check that nothing wrote to it since'
    else:
        words = []
        for key, word in _CHANGES:
            if left.get(key) != now.get(key) and word not in words and not (word == 'changed' and words):
                words.append(word)
        why = 'the volume was %s after that run stopped, so it may hold data now' % ' and '.join(words or ['changed'])
    raise KvmStorageError('refusing to replace %s as incomplete: the marker %s says a run was cut off in the '
                          'step "%s", but %s; remove %s to keep the volume as it is, or delete the volume '
                          '(state: absent) or set force: true to have it made again'
                          % (req.label, ', '.join(m['marker'] for m in blocking), marker.get('doing') or 'make it',
                             why, 'that marker' if len(blocking) == 1 else 'those markers'))


def _find(world, created, pool_name, name):
    pool = world.pools.get(pool_name)
    if pool is not None and name in pool.volumes:
        return pool.volumes[name]
    return created.get((pool_name, name))


def _ref_words(resolved):
    """How an action names a backing file: its path, or while check mode assumes it, its volume."""
    if resolved.get('path'):
        return resolved['path']
    return 'volume %s of pool %s' % (resolved['name'], resolved['pool'])


def _resolve_ref(req, ref, world, created, what, assume=None):
    """The backing or clone source ``ref`` as {path, format, capacity, ...}. ``assume``
    (check mode: the Plan) takes a volume that does not exist yet as made by an earlier task:
    its path is predicted where its pool is known, its format and size are not known."""
    if ref.get('path'):
        return {'path': ref['path'], 'format': ref.get('format'), 'capacity': None}
    pool_name = ref.get('pool') or req.pool
    found = _find(world, created, pool_name, ref['name'])
    if found is None and assume is not None:
        assume.assume('volume %s of pool %s' % (ref['name'], pool_name))
        pool = world.pools.get(pool_name)
        return {'path': _predicted_path(pool, ref['name']) if pool is not None else None,
                'format': ref.get('format'), 'capacity': None, 'pool': pool_name, 'name': ref['name'],
                'sized_at_run': True, 'assumed': True}
    if found is None:
        raise KvmStorageError('%s: %s volume %s of pool %s does not exist' % (req.label, what, ref['name'], pool_name))
    resolved = {'path': found['path'], 'format': ref.get('format') or found['format'],
                'capacity': found['capacity'], 'pool': pool_name, 'name': ref['name']}
    if found.get('sized_at_run'):
        resolved['sized_at_run'] = True
    return resolved


def _predicted_path(pool, name):
    if pool.type in FILE_POOLS and pool.target_path:
        return pool.target_path.rstrip('/') + '/' + name
    if pool.type == 'logical' and pool.target_path:
        return pool.target_path.rstrip('/') + '/' + name
    if pool.type == 'gluster':
        return gluster_url(pool, name)
    return None


def gluster_url(pool, name):
    """The path libvirt gives a volume of a native gluster pool."""
    inner = ((pool.source_dir or '/').strip('/') + '/' + name).lstrip('/')
    return 'gluster://%s/%s/%s' % (pool.source_hosts[0] if pool.source_hosts else '', pool.source_name, inner)


def _plan_create(steps, req, pool, world, created, assume=False):
    if pool.type in LUN_POOLS:
        raise KvmStorageError('%s: volumes of %s pools are LUNs or devices that the storage side provides; '
                              'libvirt cannot create them (existing ones are listed by volume_info)'
                              % (req.label, pool.type))
    if req.import_from:
        return _plan_import(steps, req, pool)
    if getattr(req, 'cloud_init', None):
        return _plan_seed_create(steps, req, pool, world, assume)
    fmt = req.format
    capacity = req.capacity
    backing = None
    if req.backing:
        backing = _resolve_ref(req, req.backing, world, created, 'backing', steps if assume else None)
        if not backing['format'] and not backing.get('assumed'):
            raise KvmStorageError('%s: the format of backing file %s is not known; set backing.format'
                                  % (req.label, backing['path']))
        fmt = fmt or 'qcow2'
        if fmt != 'qcow2':
            raise KvmStorageError('%s: a volume with a backing file must be qcow2, not %s' % (req.label, fmt))
        capacity = capacity or backing['capacity']
        if capacity is None and not backing.get('sized_at_run'):
            raise KvmStorageError('%s: set capacity; the size of backing file %s is not known'
                                  % (req.label, backing['path']))
        # A template imported earlier in the same run (or an overlay of one) has no known
        # size until it is fetched: the overlay is then created without a capacity, which libvirt and
        # qemu-img take from the backing file.
        if backing['capacity'] is not None and capacity < backing['capacity']:
            raise KvmStorageError('%s: capacity %s is smaller than its backing volume (%s)'
                                  % (req.label, format_size(capacity), format_size(backing['capacity'])))
    source = None
    if req.clone_from:
        source = _resolve_ref(req, req.clone_from, world, created, 'clone_from', steps if assume else None)
        fmt = fmt or source['format']
        if capacity is not None and source['capacity'] is not None and capacity < source['capacity']:
            raise KvmStorageError('%s: capacity %s is smaller than the clone source (%s); a clone keeps at least '
                                  'the size of its source' % (req.label, format_size(capacity),
                                                              format_size(source['capacity'])))
        capacity = capacity or source['capacity']
    if pool.type == 'logical':
        fmt = None  # an LV has no image format
    elif fmt is None and not (source and source.get('assumed')):
        fmt = 'raw'   # (a clone takes its source's format: unknown while the source is assumed)
    if capacity is None and not (backing and backing.get('sized_at_run')) and not (source and source.get('assumed')):
        raise KvmStorageError('%s does not exist; set capacity (for example 20GiB) to create it' % req.label)
    allocation = req.allocation
    if allocation is None:
        if req.preallocation in ('falloc', 'full') or (pool.type == 'logical' and req.preallocation != 'sparse'):
            # A logical-pool volume with allocation below capacity is an old-style LVM
            # snapshot that turns invalid when it fills: LVs are fully allocated unless
            # the user insists (preallocation: sparse or an explicit allocation).
            allocation = capacity
        elif not source:
            allocation = 0
    if req.preallocation == 'metadata' and fmt != 'qcow2':
        raise KvmStorageError('%s: preallocation metadata needs format qcow2' % req.label)
    _check_qcow2_create(req, fmt, pool, backing, source)
    # qcow2 full preallocation: libvirt 9.0 passes only metadata or falloc to qemu-img, so
    # libvirt makes the volume (sparse) and qemu-img create writes it out in full in place.
    qemu_full = fmt == 'qcow2' and req.preallocation == 'full' and not source
    if qemu_full and req.encryption:
        # qemu-img would format the file again without the LUKS layer: the data unencrypted.
        raise KvmStorageError('%s: preallocation full of an encrypted qcow2 volume is not supported (libvirt cannot '
                              'ask qemu-img for it, and formatting it again would drop the encryption); use '
                              'preallocation falloc' % req.label)
    if req.encryption and fmt == 'raw' and allocation:
        # libvirt makes a LUKS raw image with qemu-img create -f luks, without preallocation.
        raise KvmStorageError('%s: libvirt creates an encrypted raw volume sparse, whatever the preallocation or '
                              'allocation; leave both out, or use format qcow2 with preallocation falloc' % req.label)
    if qemu_full and pool.type != 'gluster':
        allocation = 0
    encryption = _encryption(req, world, steps if assume else None)
    model = {'name': req.name, 'capacity': capacity, 'allocation': allocation, 'format': fmt,
             'permissions': req.permissions, 'encryption': encryption,
             'backing': None if backing is None else {'path': backing['path'], 'format': backing['format']}}
    qcow2 = {}
    if fmt == 'qcow2':
        qcow2 = {'compat': req.compat or '1.1', 'cluster_size': req.cluster_size, 'lazy_refcounts': req.lazy_refcounts}
        model.update(qcow2)
    element = _volume_xml.build(model)
    size = format_size(capacity) if capacity is not None else 'size of its %s' % ('source' if source else 'backing file')
    what = ', '.join(x for x in (fmt, size, 'backing %s' % _ref_words(backing) if backing else None,
                                 'cluster size %s' % format_size(req.cluster_size) if req.cluster_size else None,
                                 'lazy refcounts' if req.lazy_refcounts else None,
                                 'compat %s' % req.compat if req.compat and req.compat != '1.1' else None,
                                 'preallocated in full by qemu-img' if qemu_full else
                                 'preallocated' if allocation and allocation == capacity else None,
                                 'LUKS-encrypted' if encryption else None) if x)
    if source:
        steps.add('clone', 'clone volume %s of pool %s to %s (%s)' % (source['name'], source['pool'], req.label, what),
                  request=req, element=element, source=source, grow_to=req.capacity
                  if req.capacity and source['capacity'] and req.capacity > source['capacity'] else None,
                  path=_predicted_path(pool, req.name))
    elif pool.type == 'gluster':
        steps.add('create_gluster', 'create %s with qemu-img over gluster (%s)' % (req.label, what),
                  request=req, format=fmt, capacity=capacity, backing=model['backing'], url=gluster_url(pool, req.name),
                  path=_predicted_path(pool, req.name), qcow2=qcow2,
                  preallocation=req.preallocation if req.preallocation in ('metadata', 'falloc', 'full') else None)
    else:
        # libvirt preallocates a qcow2 image with the metadata flag: metadata when the
        # allocation is below the capacity, falloc when it is the capacity.
        steps.add('create', 'create %s (%s)' % (req.label, what), request=req, element=element,
                  metadata=req.preallocation == 'metadata' or fmt == 'qcow2' and req.preallocation == 'falloc',
                  qemu_full=qemu_full, path=_predicted_path(pool, req.name))
    return {'name': req.name, 'path': _predicted_path(pool, req.name), 'format': fmt, 'capacity': capacity,
            'sized_at_run': capacity is None}


def _check_qcow2_create(req, fmt, pool, backing, source):
    """The qcow2 creation options against what the plan resolved the new volume to be."""
    asked = [k for k in QCOW2_OPTIONS if getattr(req, k, None) is not None]
    if asked and fmt != 'qcow2' and not (source and source.get('assumed') and fmt is None):
        raise KvmStorageError('%s: %s applies to qcow2 volumes; set format: qcow2%s'
                              % (req.label, ' and '.join(asked),
                                 '' if pool.type != 'logical' else ' in a file pool (an LV has no image format)'))
    if fmt == 'qcow2' and req.preallocation in ('falloc', 'full'):
        if backing:
            raise KvmStorageError('%s: preallocation %s of a qcow2 overlay is refused by qemu (a backing file and '
                                  'preallocation need extended L2 entries); leave preallocation out for a linked clone'
                                  % (req.label, req.preallocation))
        if pool.type not in FILE_POOLS + ('gluster',) and not pool.assumed:
            raise KvmStorageError('%s: preallocation %s of a qcow2 image applies to file pools, not %s pools'
                                  % (req.label, req.preallocation, pool.type))


def _encryption(req, world, assume=None):
    enc = req.encryption
    if not enc:
        return None
    uuid = enc.get('secret_uuid')
    if uuid is None:
        uuid = world.secrets.get(enc['secret_usage'])
        if uuid is None and assume is not None:
            # check mode: the secret an earlier task creates (its UUID is known only then)
            assume.assume('the libvirt volume secret with usage id %s' % enc['secret_usage'])
        elif uuid is None:
            raise KvmStorageError('%s: there is no libvirt volume secret with usage id %s; create it with '
                                  'kvm.storage.secret first' % (req.label, enc['secret_usage']))
    return {'format': enc.get('format', 'luks'), 'secret_uuid': uuid}


def _plan_import(steps, req, pool):
    if pool.type == 'gluster':
        raise KvmStorageError('%s: libvirt cannot upload into a native gluster pool; import into a FUSE netfs pool '
                              '(format glusterfs) over the same gluster volume' % req.label)
    # The image's format and size are known only once it is fetched, so the action says
    # where it comes from; a real run and check mode report the same words.
    notes = [n for n in ('%s checked' % req.checksum.split(':')[0] if req.checksum else None,
                         'compressed' if req.compress else None) if n]
    steps.add('import', 'import %s from %s%s' % (req.label, req.import_from, ' (%s)' % ', '.join(notes) if notes else ''),
              request=req, pool_type=pool.type, path=_predicted_path(pool, req.name))
    return {'name': req.name, 'path': _predicted_path(pool, req.name), 'format': req.format, 'capacity': req.capacity,
            'sized_at_run': req.capacity is None}


def _plan_existing(steps, req, actual, world, pool=None):
    if req.format and pool_format(actual) != req.format:
        raise ConflictError('%s exists with format %s, not %s; a volume is never recreated to change its format '
                            '(convert it into a new volume instead)' % (req.label, pool_format(actual), req.format))
    if req.backing:
        want = req.backing.get('path')
        have = (actual.get('backing') or {}).get('path')
        if want is None:
            pool_name = req.backing.get('pool') or req.pool
            found = _find(world, {}, pool_name, req.backing['name'])
            want = found['path'] if found else '%s/%s' % (pool_name, req.backing['name'])
        if have != want:
            raise ConflictError('%s exists with backing file %s, not %s; the backing file of an existing volume is '
                                'never changed by this module' % (req.label, have or '(none)', want))
    _check_qcow2_existing(req, actual)
    if req.encryption and not actual.get('encryption'):
        raise ConflictError('%s exists unencrypted; a volume is never recreated to encrypt it (create a new '
                            'encrypted volume and copy the data inside the guest)' % req.label)
    if req.capacity is None or actual['capacity'] is None or req.capacity == actual['capacity']:
        return
    if pool is not None and pool.type in LUN_POOLS:
        raise KvmStorageError('%s is a LUN of a %s pool; its size is set on the storage side, not through libvirt'
                              % (req.label, pool.type))
    if req.capacity > actual['capacity']:
        # A running guest holds the image open: qemu must grow it (block_resize), which
        # also tells the guest its disk grew.
        live = world.usage.running_users_of(actual['path']) if world.usage is not None else []
        text = 'grow %s from %s to %s' % (req.label, format_size(actual['capacity']), format_size(req.capacity))
        if live:
            text += ' live in running guest %s' % live[0]
        steps.add('resize', text, request=req, capacity=req.capacity, shrink=False, path=actual['path'], live=live,
                  pool_type=pool.type if pool is not None else None)
        return
    if not req.allow_shrink:
        raise KvmStorageError('refusing to shrink %s from %s to %s: shrinking cuts off data at the end; set '
                              'allow_shrink: true if that is intended'
                              % (req.label, format_size(actual['capacity']), format_size(req.capacity)))
    _refuse_if_used(req, actual, world, 'shrink', pool=pool)
    text = 'SHRINK %s from %s to %s' % (req.label, format_size(actual['capacity']), format_size(req.capacity))
    steps.add('resize', text, request=req, capacity=req.capacity, shrink=True, path=actual['path'], live=[],
              pool_type=pool.type if pool is not None else None)


def _check_qcow2_existing(req, actual):
    """cluster_size, lazy_refcounts and compat shape an image when it is made: a different
    value on an existing volume is a conflict, never fixed behind the user's back (a
    different cluster size needs a new image; compat and lazy refcounts change only with
    qemu-img amend while no guest has the image open). What libvirt does not report is not
    compared."""
    asked = [k for k in QCOW2_OPTIONS if getattr(req, k, None) is not None]
    if not asked:
        return
    fmt = pool_format(actual)
    if fmt != 'qcow2':
        raise ConflictError('%s exists as a %s volume; %s applies to qcow2 images only'
                            % (req.label, fmt or 'format-less', ' and '.join(asked)))
    differ = []
    for key in asked:
        want, have = getattr(req, key), actual.get(key)
        if have is None or want == have:
            continue
        if key == 'cluster_size':
            differ.append('cluster size %s, not %s' % (format_size(have), format_size(want)))
        elif key == 'lazy_refcounts':
            differ.append('lazy refcounts %s' % ('on' if have else 'off'))
        else:
            differ.append('compat %s, not %s' % (have, want))
    if differ:
        raise ConflictError('%s exists with %s; these are set when an image is made and this module never remakes '
                            'it (copy the data into a new volume, or change compat and lazy refcounts with qemu-img '
                            'amend while no guest uses the image)' % (req.label, ', '.join(differ)))


def pool_format(actual):
    # libvirt's file backends probe a raw file that holds an ISO 9660 image and report its
    # format as 'iso', a name qemu does not know: to qemu (and in O(format)) it is raw.
    # Without this, re-importing an ISO with format raw would be a format conflict.
    fmt = actual.get('format')
    return 'raw' if fmt == 'iso' else fmt


def disk_format(volume_format):
    """The driver format of a guest disk on a volume whose libvirt format is ``volume_format``.

    An ISO is raw to qemu (libvirt refuses type 'iso' in a disk: "use 'raw' instead");
    partitions, LVs and LUNs report their type, not an image format: they are raw too.
    """
    fmt = pool_format({'format': volume_format})
    return fmt if fmt in FORMATS else 'raw'


def _refuse_if_used(req, actual, world, doing, deleted=(), pool=None, shared=True):
    """Refuse when a guest holds the volume (directly or through an image backed by it),
    another image has it as its backing file, or (``shared``) a guest on another host may
    hold it: its lock is taken (NFS, gluster FUSE) or its storage keeps none (gfapi).
    Identity by the file, not its spelling."""
    if req.force or world.usage is None:
        return
    path = actual.get('path')
    users = world.usage.users_of(path)
    children = world.usage.backing_of(path, deleted)
    if users:
        raise KvmStorageError('refusing to %s %s: it is used by guest(s) %s; detach it first or set force: true'
                              % (doing, req.label, world.usage.holders_text(world.usage.keys(path))),
                              used_by=users, backing_of=children)
    if children:
        raise KvmStorageError('refusing to %s %s: it is the backing file of %s; set force: true only if those may '
                              'break' % (doing, req.label, ', '.join(children)), backing_of=children)
    if not shared or pool is None:
        return
    if path in world.locked:
        raise KvmStorageError('refusing to %s %s: another process holds its lock (%s), a guest on another host that '
                              'shares pool %s perhaps; stop it there or set force: true'
                              % (doing, req.label, world.locked[path], req.pool), locked=True)
    if pool.type in UNLOCKED_SHARED_POOLS:
        raise KvmStorageError('refusing to %s %s: a %s pool keeps no lock that would show a guest on another host '
                              'using the image, so no check here can tell; set force: true once no guest on any '
                              'host uses it' % (doing, req.label, pool.type))


def lock_probe_paths(requests, world):
    """Paths of existing images in pools whose lock reaches across hosts that a request may
    delete, wipe or shrink: the adapter probes their lock before planning."""
    out = []
    for req in requests:
        pool = world.pools.get(req.pool)
        if req.force or pool is None or pool.type not in LOCKED_SHARED_POOLS:
            continue
        actual = pool.volumes.get(req.name)
        if actual is not None and actual.get('path') and (req.state == 'absent' or req.allow_shrink):
            out.append(actual['path'])
    return out


def _plan_delete(steps, req, actual, world, deleted):
    if actual is None:
        return
    _refuse_if_used(req, actual, world, 'delete', deleted, pool=world.pools.get(req.pool))
    deleted.add(actual.get('path'))
    if req.wipe:
        steps.add('wipe', 'wipe %s (%s)' % (req.label, req.wipe), request=req, algorithm=req.wipe)
    steps.add('delete', 'delete %s' % req.label, request=req)


def diff_form(model):
    """A volume as diff mode shows it (the volume module and host_storage alike). What is not
    known (an LV's format, the size of an image before it is imported) is left out, not null."""
    if model is None:
        return {'state': 'absent'}
    out = {'state': 'present'}
    for key in ('format', 'capacity', 'backing'):
        if model.get(key) is not None:
            out[key] = model[key]
    return out


def predicted_diff_form(actual, req, made):
    """The diff form of a volume the plan changes: an existing one with its new size, a new
    one as the planner made it (``made``: its entry in plan's ``created``)."""
    if actual is not None:
        out = diff_form(actual)
        if req.capacity:
            out['capacity'] = req.capacity
        return out
    made = made or {'format': req.format, 'capacity': req.capacity}
    return diff_form({'format': made.get('format'), 'capacity': made.get('capacity')})


def pools_to_refresh(requests, world):
    """Gluster pools in which a request would create a volume (one that is not listed, or
    is listed as an empty leftover or an incomplete one). libvirt lists a gluster pool as
    of its last refresh, other gluster clients add images behind its back, and qemu-img
    create (how volumes are made there) truncates an existing file: the adapter lists such
    a pool afresh before planning. Only then: a refresh costs a gfapi round (about 10 s)."""
    out = set()
    for req in requests:
        pool = world.pools.get(req.pool)
        if pool is None or pool.type != 'gluster' or not pool.active or req.state != 'present' \
                or req.import_from or req.clone_from:
            continue
        actual = pool.volumes.get(req.name)
        if actual is None or _empty_leftover(pool, actual) or req.name in pool.incomplete:
            out.add(req.pool)
    return sorted(out)


def needs_usage(requests, world=None):
    """Whether the planner needs to know who uses which volume (the adapter reads it before
    planning: it costs a listing of every guest and pool): for deletes and shrinks always,
    for a grow (a running guest must grow its image itself), and for the removal of an
    empty leftover or incomplete volume that a request makes again. Without ``world`` (the
    listing), only what the requests alone say."""
    if any(r.state == 'absent' or r.allow_shrink for r in requests):
        return True
    if world is None:
        return False
    for req in requests:
        pool = world.pools.get(req.pool)
        actual = pool.volumes.get(req.name) if pool is not None else None
        if actual is None:
            continue
        if _empty_leftover(pool, actual) or req.name in pool.incomplete:
            return True
        if req.capacity is not None and actual.get('capacity') is not None and req.capacity > actual['capacity']:
            return True
        if req.state == 'present' and getattr(req, 'cloud_init', None) and seed_differs(req, world):
            return True
    return False
