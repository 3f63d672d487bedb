# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Storage pools: argument spec, the request from module params, and the planner.

Pure: no libvirt, no AnsibleModule.  ``plan(request, actual, facts)`` is a function of the
request and of what the adapter read (the pool, and the host's devices and target path),
and is unit-tested as a table of cases.
"""

from __future__ import annotations

import copy
import posixpath
import re

from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils import _pool_xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError, ConflictError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan
from ansible_collections.kvm.storage.plugins.module_utils._secret import reference_options
from ansible_collections.kvm.storage.plugins.module_utils._pool_types import (
    DEFAULT_TARGETS, POOL_TYPES, FROM_LIBVIRT, SOURCE_HELP, WHAT_IT_NEEDS)


def permissions_options():
    """Permissions of a pool's target directory or of a volume, as libvirt keeps them."""
    return dict(
        mode=dict(type='str'),
        owner=dict(type='str'),
        group=dict(type='str'),
        label=dict(type='str'),
    )


def argument_spec():
    return dict(
        name=dict(type='str', required=True),
        type=dict(type='str', choices=sorted(POOL_TYPES)),
        state=dict(type='str', default='active', choices=['present', 'active', 'inactive', 'absent']),
        autostart=dict(type='bool'),
        build=dict(type='bool', default=True),
        overwrite=dict(type='bool', default=False),
        delete_data=dict(type='bool', default=False),
        force=dict(type='bool', default=False),
        xml=dict(type='str'),
        target=dict(type='dict', options=dict(
            path=dict(type='path'),
            permissions=dict(type='dict', options=permissions_options()),
        )),
        source=dict(type='dict', options=dict(
            devices=dict(type='list', elements='str'),
            hosts=dict(type='list', elements='dict', options=dict(
                name=dict(type='str', required=True),
                port=dict(type='int'),
            )),
            dir=dict(type='str'),
            name=dict(type='str'),
            format=dict(type='str'),
            protocol_version=dict(type='str'),
            initiator=dict(type='str'),
            auth=dict(type='dict', no_log=False, options=dict(
                type=dict(type='str', required=True, choices=['chap', 'ceph']),
                username=dict(type='str', required=True),
                **reference_options()
            ), mutually_exclusive=[('secret_usage', 'secret_uuid')],
                required_one_of=[('secret_usage', 'secret_uuid')]),
            adapter=dict(type='dict', options=dict(
                type=dict(type='str', default='scsi_host', choices=['scsi_host', 'fc_host']),
                name=dict(type='str'),
                parent=dict(type='str'),
                wwnn=dict(type='str'),
                wwpn=dict(type='str'),
                managed=dict(type='bool'),
            )),
        )),
    )


MUTUALLY_EXCLUSIVE = [('xml', 'type'), ('xml', 'source'), ('xml', 'target')]

_MODE_RE = re.compile(r'^0?[0-7]{3,4}$')


class PoolRequest(object):
    """What the user asked for: the partial definition plus the state options."""

    def __init__(self, name, pool_type, element, state='active', autostart=None, build=True,
                 overwrite=False, delete_data=False, force=False, missing=()):
        self.name = name
        self.type = pool_type
        self.element = element          # partial <pool> or None (only a state was asked for)
        self.state = state
        self.autostart = autostart
        self.build = build
        self.overwrite = overwrite
        self.delete_data = delete_data
        self.force = force
        self.missing = tuple(missing)   # what a *new* pool of this type still needs


class PoolActual(object):
    """What the adapter read: ``element`` is the persistent (inactive) definition."""

    def __init__(self, pool_type, element, active, persistent=True, autostart=False, volumes=None,
                 target_exists=None, lvs=None, lvs_error=None):
        self.type = pool_type
        self.element = element
        self.active = active
        self.persistent = persistent
        self.autostart = autostart
        self.volumes = volumes            # list of names when active, None when unknown
        self.target_exists = target_exists
        # A logical pool's VG as LVM reports it (read only before delete_data): {LV name:
        # kind} with kind 'thin pool', 'thin volume', 'inactive' or 'LV'; None when not read,
        # and lvs_error says why LVM could not be asked.
        self.lvs = lvs
        self.lvs_error = lvs_error


class PoolFacts(object):
    """What the adapter read of the host for one request, before planning (on a local URI
    only, where the module runs on the hypervisor; over a remote URI nothing is read and
    every field is empty):

    ``real_paths``: {source device as given: the device it links to}, for the devices given
    by a symlink; ``missing``: the source devices that do not exist; ``target``: what the
    requested target path is, 'dir', 'other' (a file, say), or None (not there, or not
    read); ``probes``: {device: DeviceProbe} of the devices a no-overwrite build may format
    (``devices_to_probe``)."""

    def __init__(self, real_paths=None, missing=(), target=None, probes=None):
        self.real_paths = dict(real_paths or {})
        self.missing = frozenset(missing)
        self.target = target
        self.probes = dict(probes or {})


NO_FACTS = PoolFacts()


def lv_kind(lv):
    """How an LV of an lvs report is named in a refusal (_lvm.parse_lvs model)."""
    kind = {'thin-pool': 'thin pool', 'thin': 'thin volume'}.get(lv.get('type'), 'LV')
    if not lv.get('active') and lv.get('type') != 'thin-pool':
        kind = 'inactive ' + kind
    return kind


def normalize_mode(mode):
    if mode is None:
        return None
    mode = str(mode).strip()
    if not _MODE_RE.match(mode):
        raise KvmStorageError('target.permissions.mode %r is not an octal mode such as 0755' % mode)
    return '%04o' % int(mode, 8)


def normalize_id(value, resolve):
    """An owner or group as libvirt stores it: a number.  Names go through ``resolve``."""
    if value is None:
        return None
    value = str(value).strip()
    if re.match(r'^-?[0-9]+$', value):
        return value
    if resolve is None:
        raise KvmStorageError('owner/group %r must be numeric here' % value)
    return str(resolve(value))


def request_from_params(params, resolve_user=None, resolve_group=None):
    """Validate params and build the PoolRequest.  Raises KvmStorageError for user mistakes."""
    name = check_name('pool', params['name'])
    common = dict(state=params['state'], autostart=params.get('autostart'), build=params['build'],
                  overwrite=params['overwrite'], delete_data=params['delete_data'], force=params['force'])
    if params['delete_data'] and params['state'] != 'absent':
        raise KvmStorageError('pool %s: delete_data only applies with state: absent' % name)
    if params.get('xml'):
        element = _request_from_xml(name, params['xml'])
        return PoolRequest(name, FROM_LIBVIRT[element.get('type')], element, **common)
    pool_type = params.get('type')
    if pool_type is None:
        if params.get('source') or params.get('target'):
            raise KvmStorageError('pool %s: set type when giving source or target options' % name)
        return PoolRequest(name, None, None, **common)
    model = {'name': name, 'type': pool_type,
             'source': _source_model(name, pool_type, params.get('source') or {}),
             'target': _target_model(name, pool_type, params.get('target') or {}, resolve_user, resolve_group)}
    return PoolRequest(name, pool_type, _pool_xml.build(model), missing=_missing(pool_type, model), **common)


def _request_from_xml(name, text):
    element = _xml.parse(text, what='the xml option of pool %s' % name)
    if element.tag != 'pool':
        raise KvmStorageError('pool %s: the xml option must hold a <pool> element, not <%s>' % (name, element.tag))
    libvirt_type = element.get('type')
    if libvirt_type not in FROM_LIBVIRT:
        raise KvmStorageError('pool %s: the xml option has pool type %r; known types are %s'
                              % (name, libvirt_type, ', '.join(sorted(FROM_LIBVIRT))))
    # Pasted `virsh pool-dumpxml` output carries runtime values; they are not a request.
    for xpath in _pool_xml.VOLATILE:
        for node in element.findall(xpath):
            node.getparent().remove(node)
    name_el = element.find('name')
    if name_el is None:
        name_el = _xml.sub(element, 'name', text=name)
        element.insert(0, name_el)
    elif (name_el.text or '').strip() != name:
        raise KvmStorageError('pool %s: the xml option names the pool %r; the two must match'
                              % (name, (name_el.text or '').strip()))
    return element


def _source_model(name, pool_type, source):
    info = POOL_TYPES[pool_type]
    given = dict((k, v) for k, v in source.items() if v not in (None, [], {}))
    for key in given:
        if key not in info['source']:
            raise KvmStorageError('pool %s: %s does not apply to pool type %s' % (name, SOURCE_HELP[key], pool_type))
    fmt = given.get('format')
    if fmt is not None and fmt not in info['formats']:
        raise KvmStorageError('pool %s: source.format %r is not a %s pool format; use one of %s'
                              % (name, fmt, pool_type, ', '.join(info['formats'])))
    for key, limit in (('devices', info.get('max_devices')), ('hosts', info.get('max_hosts'))):
        if limit and len(given.get(key) or []) > limit:
            raise KvmStorageError('pool %s: a %s pool takes at most %d entry in %s'
                                  % (name, pool_type, limit, SOURCE_HELP[key]))
    auth = given.get('auth')
    if auth and auth['type'] not in info.get('auth', ()):
        raise KvmStorageError('pool %s: auth type %s does not apply to pool type %s' % (name, auth['type'], pool_type))
    for device in given.get('devices') or []:
        if not device or any(ord(c) < 32 for c in device):
            raise KvmStorageError('pool %s: source.devices holds an empty or malformed entry' % name)
    return given


def _target_model(name, pool_type, target, resolve_user, resolve_group):
    info = POOL_TYPES[pool_type]
    path = target.get('path')
    perms = dict((k, v) for k, v in (target.get('permissions') or {}).items() if v is not None)
    if info['target'] == 'none' and (path or perms):
        raise KvmStorageError('pool %s: a %s pool has no target; remove the target option' % (name, pool_type))
    if path is not None and not path.startswith('/'):
        raise KvmStorageError('pool %s: target.path %r must be an absolute path' % (name, path))
    if path is not None:
        # libvirt stores the path sanitised (no doubled or trailing slashes).
        path = posixpath.normpath(path)
        if path.startswith('//'):
            path = '/' + path.lstrip('/')
    if perms:
        perms = {
            'mode': normalize_mode(perms.get('mode')),
            'owner': normalize_id(perms.get('owner'), resolve_user),
            'group': normalize_id(perms.get('group'), resolve_group),
            'label': perms.get('label'),
        }
    return {'path': path, 'permissions': perms or None}


def _missing(pool_type, model):
    info = POOL_TYPES[pool_type]
    out = []
    for key in info['required']:
        if not model['source'].get(key):
            out.append('%s (%s)' % (SOURCE_HELP[key], WHAT_IT_NEEDS.get((pool_type, key), key)))
    if info['target'] == 'required' and not model['target'].get('path'):
        out.append('target.path (where the pool keeps or mounts its volumes)')
    return out


# ---------------------------------------------------------------------------------------
# Planning

def with_real_paths(request, facts):
    """The request as the planner compares and defines it: a logical pool names its PVs as
    LVM reports them (/dev/vda, not a /dev/disk/by-id link), or libvirt cannot match the VG
    to its devices when it starts the pool."""
    if request.type != 'logical' or request.element is None or not facts.real_paths:
        return request
    devices = [d for d in request.element.findall('source/device') if d.get('path') in facts.real_paths]
    if not devices:
        return request
    out = copy.copy(request)
    out.element = copy.deepcopy(request.element)
    for device in out.element.findall('source/device'):
        if device.get('path') in facts.real_paths:
            device.set('path', facts.real_paths[device.get('path')])
    return out


def _refuse_doomed_create(request, actual, facts):
    """A create that cannot work is refused before anything is written, in check mode too:
    source devices that do not exist, a target path that is not a directory."""
    if actual is not None or request.element is None:
        return
    name = request.name
    if request.type in ('fs', 'disk', 'logical', 'zfs'):
        for device in request.element.findall('source/device'):
            if device.get('path') in facts.missing:
                raise KvmStorageError('pool %s: source device %s does not exist on this host' % (name, device.get('path')))
    path = request.element.findtext('target/path')
    if path and facts.target == 'other' and request.type in ('dir', 'fs', 'netfs'):
        raise KvmStorageError('pool %s: target path %s exists and is not a directory' % (name, path))


def plan(request, actual, facts=None):
    """Steps that take ``actual`` (None: no such pool) to ``request``, given ``facts``
    (PoolFacts; None: nothing read of the host).

    Returns ``(plan, after)`` where ``after`` is the definition element the pool will
    have (for the diff), or None when it will not exist.
    """
    facts = facts or NO_FACTS
    request = with_real_paths(request, facts)
    _refuse_doomed_create(request, actual, facts)
    steps = Plan()
    name = request.name
    if request.state == 'absent':
        _plan_absent(steps, request, actual)
        return steps, None

    created = False
    target_moved = False
    after = actual.element if actual is not None else None
    if actual is None:
        if request.element is None:
            raise KvmStorageError('pool %s does not exist; set type (and its source and target) to create it' % name)
        if request.missing:
            raise KvmStorageError('pool %s of type %s cannot be created without %s'
                                  % (name, request.type, ', '.join(request.missing)))
        after = _with_default_target(request.type, request.element)
        steps.add('define', 'define pool %s' % name, element=after, new=True)
        created = True
    else:
        if request.type is not None and actual.type != request.type:
            raise ConflictError('pool %s exists with type %s, not %s; a pool type cannot change: remove the pool '
                                'first (state: absent keeps its data)' % (name, actual.type, request.type))
        if request.element is not None:
            diffs = _xml.differences(actual.element, request.element)
            if diffs:
                if actual.active and request.state != 'inactive':
                    raise ConflictError(
                        'pool %s is running and its definition differs in %s; a running pool cannot change: '
                        'set state: inactive to stop and redefine it, then state: active'
                        % (name, ', '.join(_readable(d) for d in diffs)), differences=diffs)
                if actual.active:
                    steps.add('stop', 'stop pool %s' % name)
                after = _xml.merge(actual.element, request.element)
                target_moved = 'pool/target/path' in diffs
                steps.add('define', 'redefine pool %s (%s changed)' % (name, ', '.join(_readable(d) for d in diffs)),
                          element=after, new=False, previous=actual.element, persistent=actual.persistent)
        if not actual.persistent and 'define' not in steps.verbs():
            # A transient pool (started from XML, never defined) is made persistent as it is.
            after = actual.element if request.element is None else _xml.merge(actual.element, request.element)
            steps.add('define', 'define pool %s (make the running transient pool persistent)' % name,
                      element=after, new=False, previous=None, persistent=False)

    active = actual is not None and actual.active and 'stop' not in steps.verbs()
    if request.autostart is not None and (created or bool(actual.autostart) != request.autostart):
        if request.autostart or not created:
            steps.add('autostart', '%s autostart of pool %s' % ('enable' if request.autostart else 'disable', name),
                      value=request.autostart)

    if request.state == 'active' and not active:
        pool_type = request.type or actual.type
        build_kind = POOL_TYPES[pool_type]['build']
        if request.build and build_kind and _needs_build(pool_type, created, actual, request, target_moved):
            built = after if after is not None else request.element
            fmt = built.find('source/format') if built is not None else None
            steps.add('build', 'build pool %s (%s)' % (name, _build_words(build_kind, request.overwrite)),
                      kind=build_kind, overwrite=request.overwrite and build_kind == 'format',
                      new=created, type=pool_type,
                      devices=[d.get('path') for d in built.findall('source/device')] if built is not None else [],
                      format=fmt.get('type') if fmt is not None else None)
        steps.add('start', 'start pool %s' % name)
    elif request.state == 'inactive' and active:
        steps.add('stop', 'stop pool %s' % name)
    # A no-overwrite build is refused on a device that is not empty, in check mode too.
    refuse_build(name, steps, facts.probes)
    return steps, after


class DeviceProbe(object):
    """What the adapter read of one device before a no-overwrite build: the signature
    ``blkid -p`` finds (TYPE, PTTYPE; empty when none), the device size, and the offset of
    the first non-zero byte it found in what it read (None: all zero), and whether it read
    the whole device or a sample of it."""

    def __init__(self, signature=None, data_at=None, size=None, whole=True):
        self.signature = dict(signature or {})
        self.data_at = data_at
        self.size = size
        self.whole = whole


def devices_to_probe(request, actual, facts=None):
    """The devices a no-overwrite build (fs, logical, disk) may format under ``request``:
    the adapter reads a DeviceProbe of each before planning (``facts``: what it read so
    far, the real paths), and the planner refuses a build over one that is not empty. The
    same conditions as the build step of ``plan``."""
    facts = facts or NO_FACTS
    request = with_real_paths(request, facts)
    if request.state != 'active' or not request.build or request.overwrite:
        return []
    if actual is not None and actual.active:
        return []   # a running pool is not built (a definition that differs is a conflict)
    pool_type = request.type or (actual.type if actual is not None else None)
    if pool_type not in POOL_TYPES or POOL_TYPES[pool_type]['build'] != 'format':
        return []
    if actual is None:
        if request.element is None:
            return []
        element = request.element
        target_moved = False
    else:
        diffs = _xml.differences(actual.element, request.element) if request.element is not None else []
        element = _xml.merge(actual.element, request.element) if diffs else actual.element
        target_moved = 'pool/target/path' in diffs
    if not _needs_build(pool_type, actual is None, actual, request, target_moved):
        return []
    out = []
    for device in element.findall('source/device'):
        path = device.get('path')
        if path and path not in out and path not in facts.missing:
            out.append(path)
    return out


def refuse_build(name, steps, probes):
    """Raise for the first device of a planned no-overwrite build that is not empty.

    ``probes``: {device path: DeviceProbe}; a device without a probe (a remote URI, where
    the module cannot read the hypervisor's devices) is left to libvirt's own check."""
    for step in steps.steps:
        if step.verb != 'build' or step.args.get('kind') != 'format' or step.args.get('overwrite'):
            continue
        for device in step.args.get('devices') or []:
            probe = probes.get(device)
            if probe is None:
                continue
            why = build_refusal(step.args['type'], step.args.get('format'), device, probe.signature, probe.data_at,
                                probe.whole)
            if why:
                raise KvmStorageError('refusing to build pool %s: %s' % (name, why), device=device,
                                      signature=probe.signature or None, data_at=probe.data_at)


def build_refusal(pool_type, requested_format, device, signature, data_at=None, whole=True):
    """Why a no-overwrite build of ``device`` must be refused, or None.

    ``signature`` is what ``blkid -p`` finds on the device (TYPE, PTTYPE). libvirt probes
    the same way when it builds without overwrite and refuses a device that holds another
    filesystem, PV label or partition table; asking first lets check mode predict the
    refusal a real run meets, and a real run refuse before it defines anything.

    libvirt looks only for signatures: a device whose data blkid does not recognise (a
    wiped signature, an encrypted or raw-image disk) would be formatted. ``data_at`` is the
    offset of the first non-zero byte the adapter found (None: every byte read was zero);
    a device with no signature and data is refused too.
    """
    if pool_type not in ('fs', 'logical', 'disk'):
        return None
    found_type = signature.get('TYPE')
    found_table = signature.get('PTTYPE')
    if pool_type == 'fs' and found_table:
        held = 'a %s partition table' % found_table
    elif pool_type == 'fs' and found_type and requested_format not in (None, 'auto') and found_type != requested_format:
        held = 'a %s filesystem' % found_type
    elif pool_type == 'logical' and found_table:
        held = 'a %s partition table' % found_table
    elif pool_type == 'logical' and found_type and found_type != 'LVM2_member':
        held = 'a %s signature' % found_type
    elif pool_type == 'disk' and found_table and found_table != (requested_format or 'dos'):
        held = 'a %s partition table' % found_table
    elif pool_type == 'disk' and found_type and not found_table:
        held = 'a %s signature' % found_type
    elif not found_type and not found_table and data_at is not None:
        held = ('data that blkid does not recognise (no filesystem, PV or partition table signature, but non-zero '
                'bytes %s, the first at offset %d)' % ('on it' if whole else 'in the blocks sampled', data_at))
    else:
        return None
    return ('device %s holds %s; building the pool would destroy it: set overwrite: true only if that data may '
            'be destroyed' % (device, held))


def _build_words(kind, overwrite):
    if kind == 'mkdir':
        return 'create the target directory'
    if kind == 'tool':
        return 'create the zpool, refused on used devices'
    return 'OVERWRITE existing data' if overwrite else 'no overwrite'


def _with_default_target(pool_type, element):
    default = DEFAULT_TARGETS.get(pool_type)
    if default is None or element.findtext('target/path'):
        return element
    out = copy.deepcopy(element)
    target = out.find('target')
    if target is None:
        target = _xml.sub(out, 'target')
    path = _xml.element('path', text=default.format(name=out.findtext('source/name') or ''))
    target.insert(0, path)
    return out


def _needs_build(pool_type, created, actual, request, target_moved=False):
    if pool_type == 'logical':
        # Without devices the volume group must already exist: nothing to build.
        element = request.element if request.element is not None else actual.element
        if element is None or element.find('source/device') is None:
            return False
    if created:
        return True
    # An existing, stopped pool whose target directory has gone, or moves to a new path,
    # is rebuilt (dir, fs, netfs: mkdir; no-overwrite protects a filesystem that is there).
    return pool_type in ('dir', 'fs', 'netfs') and (target_moved or actual.target_exists is False)


def _plan_absent(steps, request, actual):
    name = request.name
    if actual is None:
        return
    if request.delete_data:
        if not actual.persistent:
            raise KvmStorageError('pool %s is transient (never defined): stopping it makes it disappear, so its '
                                  'data cannot be deleted through libvirt; define it first (state: present)' % name)
        if not actual.active:
            raise KvmStorageError('pool %s is inactive, so its volumes cannot be counted before deleting its data: '
                                  'start it (state: active), then remove it with delete_data' % name)
        volumes = actual.volumes or []
        lvs = _lvs_to_count(request, actual)
        if volumes and not request.force and not lvs:
            shown = ', '.join(sorted(volumes)[:5]) + (' and %d more' % (len(volumes) - 5) if len(volumes) > 5 else '')
            raise KvmStorageError('refusing to delete the data of pool %s: it holds %d volume(s) (%s); remove them '
                                  'first or set force: true' % (name, len(volumes), shown), volumes=sorted(volumes))
        if lvs and not request.force:
            # libvirt lists neither thin pools nor thin volumes, and inactive LVs only at
            # times: LVM's own report is what vgremove would take with it.
            names = sorted(lvs)
            shown = ', '.join('%s (%s)' % (n, lvs[n]) for n in names[:5]) \
                + (' and %d more' % (len(names) - 5) if len(names) > 5 else '')
            raise KvmStorageError('refusing to delete the data of pool %s: its volume group %s holds %d logical '
                                  'volume(s) that LVM reports (%s); remove them first or set force: true'
                                  % (name, _vg_name(actual), len(names), shown), volumes=names)
        for vol in sorted(volumes):
            steps.add('delete_volume', 'delete volume %s of pool %s' % (vol, name), volume=vol)
    if actual.active:
        steps.add('stop', 'stop pool %s' % name)
    if request.delete_data:
        if actual.type == 'logical':
            held = sorted(set(actual.lvs or {}) - set(actual.volumes or []))
            steps.add('delete', 'delete the storage of pool %s (remove volume group %s%s)'
                      % (name, _vg_name(actual), ' with LVs libvirt does not list: %s' % ', '.join(held) if held else ''))
        else:
            steps.add('delete', 'delete the storage of pool %s' % name)
    if actual.persistent:
        steps.add('undefine', 'undefine pool %s%s' % (name, '' if request.delete_data else ' (data kept)'))


def _vg_name(actual):
    return actual.element.findtext('source/name') or actual.element.findtext('name')


def _lvs_to_count(request, actual):
    """The LVs of a logical pool's VG, as LVM reports them, that delete_data would remove
    ({} for other pool types). A VG that LVM could not be asked about is refused unless
    force: deleting it blind is what this check is for."""
    if actual.type != 'logical':
        return {}
    if actual.lvs is None:
        if request.force:
            return {}
        raise KvmStorageError('refusing to delete the data of pool %s: cannot count the logical volumes of volume '
                              'group %s (%s); run the module on the hypervisor itself (a local URI) or set force: '
                              'true' % (request.name, _vg_name(actual), actual.lvs_error or 'LVM was not asked'))
    return actual.lvs


def _readable(path):
    """'pool/source/device/@path' -> 'source/device/@path'."""
    return path.split('/', 1)[1] if '/' in path else path
