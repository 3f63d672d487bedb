# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LVM thin pools and thin volumes: specs and planners (pure), plus the work functions
that read LVM, apply the plan through the _lvm runner and build the result."""

from __future__ import annotations

import os
import traceback

from ansible_collections.kvm.storage.plugins.module_utils import _identity
from ansible_collections.kvm.storage.plugins.module_utils import _libvirt
from ansible_collections.kvm.storage.plugins.module_utils import _lvm
from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan
from ansible_collections.kvm.storage.plugins.module_utils._runner import apply_plan
from ansible_collections.kvm.storage.plugins.module_utils._size import SizeError, format_size, parse_size
from ansible_collections.kvm.storage.plugins.module_utils._usage_adapter import read_usage

PROFILE_DIR = '/etc/lvm/profile'
DISCARDS = ['passdown', 'nopassdown', 'ignore']


def pool_argument_spec():
    return dict(
        vg=dict(type='str', required=True),
        name=dict(type='str', required=True),
        size=dict(type='str'),
        metadata_size=dict(type='str'),
        chunk_size=dict(type='str'),
        zero=dict(type='bool'),
        discards=dict(type='str', choices=DISCARDS),
        autoextend=dict(type='dict', options=dict(
            threshold=dict(type='int', required=True),
            percent=dict(type='int', required=True),
        )),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
    )


def volume_argument_spec():
    return dict(
        vg=dict(type='str', required=True),
        thin_pool=dict(type='str'),
        name=dict(type='str', required=True),
        size=dict(type='str'),
        snapshot_of=dict(type='str'),
        active=dict(type='bool', default=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
    )


def _escaped(name):
    # device-mapper's rule: a dash in a name is doubled, so a single dash only separates.
    return name.replace('-', '--')


def profile_name(vg, pool):
    """The autoextend profile of one thin pool: unambiguous (vg-x/tp and vg/x-tp differ),
    and never equal to a legacy name (those all begin with 'kvmst-')."""
    return 'kvmst_thin-%s-%s' % (_escaped(vg), _escaped(pool))


def legacy_profile_name(vg, pool):
    """The name releases before 0.2 gave the profile: VG and pool joined by a dash, which
    two pools can share (vg-x/tp and vg/x-tp). Still recognised on a pool that carries it."""
    return 'kvmst-%s-%s' % (vg, pool)


def profile_path_of(name):
    return os.path.join(PROFILE_DIR, name + '.profile')


def profile_path(vg, pool):
    return profile_path_of(profile_name(vg, pool))


def profiles_to_read(vg, pool, lv):
    """The profile names whose files the planner compares: this pool's own, and the one
    the pool carries when it is one of its names (the legacy one)."""
    names = [profile_name(vg, pool)]
    carried = (lv or {}).get('lv_profile') or ''
    if carried == legacy_profile_name(vg, pool):
        names.append(carried)
    return names


def profile_text(threshold, percent):
    return ('# Written by kvm.storage.lvm_thin_pool: autoextend of one thin pool (lvmthin(7)).\n'
            'activation {\n\tthin_pool_autoextend_threshold=%d\n\tthin_pool_autoextend_percent=%d\n}\n'
            % (threshold, percent))


def _size(value, what):
    if value is None:
        return None
    try:
        return parse_size(value, what)
    except SizeError as exc:
        raise KvmStorageError(str(exc))


def _round_up(size, extent):
    if not extent:
        return size
    return -(-size // extent) * extent


# LVM's default extent size, taken for a volume group check mode assumes.
DEFAULT_EXTENT = 4 * 1024 * 1024


def _vg(vg_name, vgs, label, assume=None):
    """The VG report of ``vg_name``. ``assume`` (check mode: the Plan): a VG that does not
    exist yet is planned as if an earlier task (a logical pool's build) made it; its free
    space is not known, so the size checks are left to LVM."""
    vg = vgs.get(vg_name)
    if vg is None and assume is not None:
        assume.assume('volume group %s' % vg_name)
        return {'vg_name': vg_name, 'vg_size': None, 'vg_free': float('inf'), 'vg_extent_size': DEFAULT_EXTENT}
    if vg is None:
        raise KvmStorageError('%s: volume group %s does not exist; create it first (vgcreate) or fix vg' % (label, vg_name))
    return vg


# ---- thin pool ------------------------------------------------------------------------

def pool_model(lv, lvs):
    """The canonical form of an existing thin pool (for diff and the result)."""
    if lv is None:
        return None
    return {'size': lv['lv_size'], 'metadata_size': lv['lv_metadata_size'], 'chunk_size': lv['chunk_size'],
            'zero': lv['zero'], 'discards': lv['discards'], 'profile': lv['lv_profile'] or None,
            'data_percent': lv['data_percent'], 'metadata_percent': lv['metadata_percent'],
            'volumes': sorted(n for n, v in lvs.items() if v.get('pool_lv') == lv['lv_name'])}


def _carried_elsewhere(carriers, profile, vg_name, name):
    """Whether an LV other than vg_name/name carries ``profile`` (``carriers``: profile name
    -> ['vg/lv', ...] over every VG; None when LVM was not asked: then assume it may)."""
    if carriers is None:
        return True
    return any(c != '%s/%s' % (vg_name, name) for c in carriers.get(profile, ()))


def plan_pool(params, vgs, lvs, profiles, carriers=None, assume=False):
    """Steps for one thin pool request.  ``vgs``/``lvs``: parsed reports (lvs of the
    requested VG, empty when it does not exist); ``profiles``: {profile name: the text of
    its file, or None when there is none} for the names of ``profiles_to_read``;
    ``carriers``: {profile name: ['vg/lv', ...]} as LVM reports over every VG.

    Only a profile the pool carries (lv_profile) is rewritten or deleted, and a legacy name
    only while no other LV carries it: two pools never share, or lose, one profile file."""
    steps = Plan()
    vg_name, name = params['vg'], params['name']
    label = 'thin pool %s in volume group %s' % (name, vg_name)
    lv = lvs.get(name)
    own = profile_name(vg_name, name)
    carried = (lv or {}).get('lv_profile') or ''
    if params['state'] == 'absent':
        if lv is None and vg_name not in vgs:
            return steps
        if lv is not None:
            if lv['type'] != 'thin-pool':
                raise ConflictError('refusing to remove %s: %s/%s is not a thin pool' % (label, vg_name, name))
            users = sorted(n for n, v in lvs.items() if v.get('pool_lv') == name)
            if users and not params['force']:
                raise KvmStorageError('refusing to remove %s: it holds thin volume(s) %s; remove them first or set '
                                      'force: true to remove them with it' % (label, ', '.join(users)), volumes=users)
            steps.add('remove', 'remove %s%s' % (label, ' with its thin volumes %s' % ', '.join(users) if users else ''),
                      args=_lvm.lvremove_args(vg_name, name))
            mine = carried in (own, legacy_profile_name(vg_name, name))
            if mine and profiles.get(carried) is not None \
                    and not (carried != own and _carried_elsewhere(carriers, carried, vg_name, name)):
                steps.add('delete_profile', 'delete autoextend profile %s' % profile_path_of(carried),
                          path=profile_path_of(carried))
        elif profiles.get(own) is not None and carriers is not None and not carriers.get(own):
            # This pool's own (unambiguous) profile, left behind and carried by nothing.
            steps.add('delete_profile', 'delete autoextend profile %s' % profile_path_of(own), path=profile_path_of(own))
        return steps

    # The request is checked before the host: a size LVM or libvirt cannot take is refused
    # whatever state the VG is in.
    size = _size(params.get('size'), '%s: size' % label)
    metadata_size = _size(params.get('metadata_size'), '%s: metadata_size' % label)
    chunk_size = _size(params.get('chunk_size'), '%s: chunk_size' % label)
    vg = _vg(vg_name, vgs, label, steps if assume else None)
    extent = vg['vg_extent_size']
    autoextend = params.get('autoextend')
    if autoextend:
        if not 50 <= autoextend['threshold'] <= 100:
            raise KvmStorageError('%s: autoextend threshold must be a percent from 50 to 100 (100 turns autoextend '
                                  'off), not %d' % (label, autoextend['threshold']))
        if autoextend['percent'] < 1:
            raise KvmStorageError('%s: autoextend percent must be at least 1, not %d' % (label, autoextend['percent']))
    if lv is None:
        if size is None:
            raise KvmStorageError('%s does not exist: size is needed to create it' % label)
        size = _round_up(size, extent)
        if size > vg['vg_free']:
            raise KvmStorageError('%s: size %s is larger than the %s free in the volume group; give a smaller size or '
                                  'add a physical volume' % (label, format_size(size), format_size(vg['vg_free'])))
        steps.add('create', 'create %s of %s' % (label, format_size(size)),
                  args=_lvm.lvcreate_thin_pool_args(vg_name, name, size, metadata_size, chunk_size,
                                                    params.get('zero'), params.get('discards')))
        current = {'lv_profile': '', 'zero': None, 'discards': None}
    else:
        if lv['type'] != 'thin-pool':
            raise ConflictError('%s: %s/%s exists and is not a thin pool (lv_attr %s); pick another name'
                                % (label, vg_name, name, lv['lv_attr']))
        current = lv
        if chunk_size is not None and chunk_size != lv['chunk_size']:
            raise ConflictError('%s has chunk size %s, not %s; LVM cannot change the chunk size of a thin pool'
                                % (label, format_size(lv['chunk_size']), format_size(chunk_size)))
        if size is not None:
            size = _round_up(size, extent)
            if size < lv['lv_size']:
                raise KvmStorageError('refusing to shrink %s from %s to %s: LVM cannot shrink thin pools'
                                      % (label, format_size(lv['lv_size']), format_size(size)))
            if size > lv['lv_size']:
                if size - lv['lv_size'] > vg['vg_free']:
                    raise KvmStorageError('%s: growing it to %s needs %s but the volume group has %s free'
                                          % (label, format_size(size), format_size(size - lv['lv_size']),
                                             format_size(vg['vg_free'])))
                steps.add('grow', 'grow %s from %s to %s' % (label, format_size(lv['lv_size']), format_size(size)),
                          args=_lvm.lvextend_args(vg_name, name, size))
        if metadata_size is not None:
            metadata_size = _round_up(metadata_size, extent)
            if metadata_size < lv['lv_metadata_size']:
                raise KvmStorageError('refusing to shrink the metadata of %s from %s to %s: LVM cannot shrink it'
                                      % (label, format_size(lv['lv_metadata_size']), format_size(metadata_size)))
            if metadata_size > lv['lv_metadata_size']:
                steps.add('grow_metadata', 'grow the metadata of %s from %s to %s'
                          % (label, format_size(lv['lv_metadata_size']), format_size(metadata_size)),
                          args=_lvm.lvextend_metadata_args(vg_name, name, metadata_size))
        zero = params.get('zero')
        if zero is not None and zero != lv['zero']:
            steps.add('zero', '%s zeroing of new blocks in %s' % ('turn on' if zero else 'turn off', label),
                      args=_lvm.lvchange_zero_args(vg_name, name, zero))
        discards = params.get('discards')
        if discards is not None and discards != lv['discards']:
            if 'ignore' in (discards, lv['discards']):
                raise ConflictError('%s has discards %s; LVM changes discards to or from ignore only while the pool '
                                    'is inactive: deactivate it and its volumes, or keep %s'
                                    % (label, lv['discards'], lv['discards']))
            steps.add('discards', 'set discards of %s to %s' % (label, discards),
                      args=_lvm.lvchange_discards_args(vg_name, name, discards))
    if autoextend:
        # lvm.conf is global; a profile attached to the pool keeps the setting to this pool.
        text = profile_text(autoextend['threshold'], autoextend['percent'])
        legacy = legacy_profile_name(vg_name, name)
        if current['lv_profile'] == legacy and profiles.get(legacy) == text:
            return steps  # set up by an older release, and as asked: left as it is
        path = profile_path_of(own)
        if profiles.get(own) != text:
            steps.add('write_profile', 'write autoextend profile %s (threshold %d%%, grow by %d%%)'
                      % (path, autoextend['threshold'], autoextend['percent']), path=path, content=text)
        if current['lv_profile'] != own:
            steps.add('attach_profile', 'attach profile %s to %s' % (own, label),
                      args=_lvm.lvchange_profile_args(vg_name, name, own))
            if current['lv_profile'] == legacy and profiles.get(legacy) is not None \
                    and not _carried_elsewhere(carriers, legacy, vg_name, name):
                steps.add('delete_profile', 'delete autoextend profile %s (its old name, now carried by no pool)'
                          % profile_path_of(legacy), path=profile_path_of(legacy))
    return steps


def predict_pool(before, steps):
    """The canonical form after the steps (what diff.after shows, also in check mode)."""
    if any(s.verb == 'remove' for s in steps.steps):
        return None
    after = dict(before or {'size': None, 'metadata_size': None, 'chunk_size': None, 'zero': None, 'discards': None,
                            'profile': None, 'data_percent': None, 'metadata_percent': None, 'volumes': []})
    for step in steps.steps:
        if step.verb in ('create', 'grow'):
            after['size'] = int(step.args['args'][step.args['args'].index('-L') + 1][:-1])
        elif step.verb == 'grow_metadata':
            after['metadata_size'] = int(step.args['args'][2][:-1])
        elif step.verb == 'zero':
            after['zero'] = step.args['args'][2] == 'y'
        elif step.verb == 'discards':
            after['discards'] = step.args['args'][2]
        elif step.verb == 'attach_profile':
            after['profile'] = step.args['args'][2]
    return after


# ---- thin volume ----------------------------------------------------------------------

def volume_model(lv):
    if lv is None:
        return None
    return {'size': lv['lv_size'], 'thin_pool': lv['pool_lv'], 'origin': lv['origin'] or None,
            'active': lv['active'], 'open': lv['open'], 'data_percent': lv['data_percent']}


def plan_volume(params, vgs, lvs, users, overlays=(), assume=False):
    """Steps for one thin volume request.  ``users``: the libvirt guests whose definition
    has the volume as a disk, directly or through an overlay (None when libvirt could not
    be asked); ``overlays``: images whose backing file it is. ``assume`` (check mode): a VG,
    thin pool or origin that does not exist yet is planned as made by an earlier task."""
    steps = Plan()
    vg_name, name = params['vg'], params['name']
    label = 'thin volume %s in volume group %s' % (name, vg_name)
    lv = lvs.get(name)
    if params['state'] == 'absent':
        if lv is None:
            return steps
        if lv['type'] != 'thin':
            raise ConflictError('refusing to remove %s: %s/%s is not a thin volume' % (label, vg_name, name))
        if lv['open'] and not params['force']:
            raise KvmStorageError('refusing to remove %s: it is open (a running guest or a mount uses it); stop the '
                                  'user first or set force: true' % label)
        if users and not params['force']:
            raise KvmStorageError('refusing to remove %s: libvirt guest(s) %s use it as a disk; detach it first or '
                                  'set force: true' % (label, ', '.join(users)), used_by=users)
        if overlays and not params['force']:
            raise KvmStorageError('refusing to remove %s: it is the backing file of %s; set force: true only if '
                                  'those may break' % (label, ', '.join(overlays)), backing_of=list(overlays))
        steps.add('remove', 'remove %s' % label, args=_lvm.lvremove_args(vg_name, name))
        return steps

    size = _size(params.get('size'), '%s: size' % label)
    assumed = steps if assume else None
    extent = _vg(vg_name, vgs, label, assumed)['vg_extent_size']
    pool, origin = params.get('thin_pool'), params.get('snapshot_of')
    if lv is None:
        current_size, active = None, True
        if origin is not None:
            source = lvs.get(origin)
            if source is None and assumed is not None:
                steps.assume('thin volume %s in volume group %s' % (origin, vg_name))
                source = {'type': 'thin', 'pool_lv': pool, 'lv_size': None}
            if source is None:
                raise KvmStorageError('%s: snapshot_of %s does not exist in volume group %s; create it first or fix '
                                      'snapshot_of' % (label, origin, vg_name))
            if source['type'] != 'thin':
                raise KvmStorageError('%s: snapshot_of %s is not a thin volume; thin snapshots need a thin origin'
                                      % (label, origin))
            if pool is not None and source['pool_lv'] is not None and pool != source['pool_lv']:
                raise ConflictError('%s: snapshot_of %s is in thin pool %s, not %s; a thin snapshot lives in the pool '
                                    'of its origin' % (label, origin, source['pool_lv'], pool))
            steps.add('snapshot', 'create %s as a thin snapshot of %s' % (label, origin),
                      args=_lvm.lvcreate_thin_snapshot_args(vg_name, origin, name))
            current_size = source['lv_size']
        else:
            if pool is None:
                raise KvmStorageError('%s does not exist: thin_pool is needed to create it' % label)
            target = lvs.get(pool)
            if target is None and assumed is not None:
                steps.assume('thin pool %s in volume group %s' % (pool, vg_name))
                target = {'type': 'thin-pool'}
            if target is None or target['type'] != 'thin-pool':
                raise KvmStorageError('%s: thin pool %s does not exist in volume group %s; create it first (module '
                                      'kvm.storage.lvm_thin_pool)' % (label, pool, vg_name))
            if size is None:
                raise KvmStorageError('%s does not exist: size is needed to create it' % label)
            size = _round_up(size, extent)
            steps.add('create', 'create %s of %s in thin pool %s' % (label, format_size(size), pool),
                      args=_lvm.lvcreate_thin_args(vg_name, pool, name, size))
            current_size = size
    else:
        if lv['type'] != 'thin':
            raise ConflictError('%s: %s/%s exists and is not a thin volume (lv_attr %s); pick another name'
                                % (label, vg_name, name, lv['lv_attr']))
        if pool is not None and pool != lv['pool_lv']:
            raise ConflictError('%s is in thin pool %s, not %s; the module does not move volumes'
                                % (label, lv['pool_lv'], pool))
        if origin is not None and lv['origin'] and origin != lv['origin']:
            raise ConflictError('%s is a snapshot of %s, not of %s; the module does not recreate it'
                                % (label, lv['origin'], origin))
        current_size, active = lv['lv_size'], lv['active']
    if size is not None and current_size is None:
        # a snapshot of an origin check mode assumes: its size is not known yet
        size = _round_up(size, extent)
        steps.add('grow', 'grow %s from the size of %s to %s' % (label, origin, format_size(size)),
                  args=_lvm.lvextend_args(vg_name, name, size))
    elif size is not None:
        size = _round_up(size, extent)
        if size < current_size:
            raise KvmStorageError('refusing to shrink %s from %s to %s: thin volumes only grow here (shrinking cuts '
                                  'off data)' % (label, format_size(current_size), format_size(size)))
        if size > current_size:
            steps.add('grow', 'grow %s from %s to %s' % (label, format_size(current_size), format_size(size)),
                      args=_lvm.lvextend_args(vg_name, name, size))
    if params['active'] != active:
        steps.add('activate' if params['active'] else 'deactivate',
                  '%s %s' % ('activate' if params['active'] else 'deactivate', label),
                  args=_lvm.lvchange_active_args(vg_name, name, params['active']))
    return steps


def predict_volume(before, steps, params, lvs):
    if any(s.verb == 'remove' for s in steps.steps):
        return None
    after = dict(before or {'size': None, 'thin_pool': params.get('thin_pool'), 'origin': None, 'active': True,
                            'open': False, 'data_percent': None})
    for step in steps.steps:
        if step.verb == 'snapshot':
            source = lvs.get(params['snapshot_of']) or {'lv_size': None, 'pool_lv': params.get('thin_pool')}
            after.update(size=source['lv_size'], thin_pool=source['pool_lv'], origin=params['snapshot_of'])
        elif step.verb in ('create', 'grow'):
            args = step.args['args']
            after['size'] = int(args[args.index('-V' if step.verb == 'create' else '-L') + 1][:-1])
        elif step.verb in ('activate', 'deactivate'):
            after['active'] = step.verb == 'activate'
    return after


# ---- work: read, plan, apply, report --------------------------------------------------

def run_module(module, work):
    """Call ``work(module)`` and exit with its result; a KvmStorageError becomes fail_json."""
    try:
        result = work(module)
    except KvmStorageError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    except Exception as exc:  # a bug, not a user error: keep the traceback for the report
        module.fail_json(msg='unexpected error in kvm.storage: %s' % exc, exception=traceback.format_exc())
    module.exit_json(**result)


def _read(module, vg):
    vgs = _lvm.read_vgs(module)
    lvs = _lvm.read_lvs(module, vg) if vg in vgs else {}
    return vgs, lvs


def _apply(module, step):
    if step.verb == 'write_profile':
        if not os.path.isdir(PROFILE_DIR):
            os.makedirs(PROFILE_DIR, 0o755)
        module.atomic_move(_write_temp(module, step.args['content']), step.args['path'])
        os.chmod(step.args['path'], 0o644)
    elif step.verb == 'delete_profile':
        os.remove(step.args['path'])
    else:
        _lvm.run(module, step.args['args'], step.text)


def _write_temp(module, content):
    path = os.path.join(module.tmpdir, 'kvmst-lvm.profile')
    with open(path, 'w') as handle:
        handle.write(content)
    return path


def _read_profile(name):
    path = profile_path_of(name)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def pool_work(module):
    p = module.params
    check_name('volume group', p['vg'])
    check_name('thin pool', p['name'])
    vgs, lvs = _read(module, p['vg'])
    lv = lvs.get(p['name'])
    profiles = dict((n, _read_profile(n)) for n in profiles_to_read(p['vg'], p['name'], lv))
    carriers = None
    if p['state'] == 'absent' or p.get('autoextend'):
        # Which LVs carry which profile, over every VG: a profile file is deleted only when
        # no other LV carries it.
        carriers = _lvm.read_profile_carriers(module)
    steps = plan_pool(p, vgs, lvs, profiles, carriers, assume=module.check_mode)
    before = pool_model(lvs.get(p['name']), lvs)
    if not module.check_mode:
        apply_plan(steps, lambda step: _apply(module, step))
    for warning in steps.warnings:
        module.warn(warning)
    result = {'changed': steps.changed, 'actions': steps.actions}
    if steps.assumed:
        result['assumed'] = steps.assumed
    if module._diff:
        result['diff'] = {'before': _diffable(before), 'after': _diffable(predict_pool(before, steps))}
    if not module.check_mode and steps.changed:
        vgs, lvs = _read(module, p['vg'])
    model = pool_model(lvs.get(p['name']), lvs)
    result['thin_pool'] = dict(model, vg=p['vg'], name=p['name']) if model else None
    result['data_percent'] = model['data_percent'] if model else None
    result['metadata_percent'] = model['metadata_percent'] if model else None
    return result


def volume_work(module):
    p = module.params
    check_name('volume group', p['vg'])
    check_name('thin volume', p['name'])
    for key in ('thin_pool', 'snapshot_of'):
        if p.get(key) is not None:
            check_name(key, p[key])
    vgs, lvs = _read(module, p['vg'])
    users, overlays = None, ()
    if p['state'] == 'absent' and p['name'] in lvs and not p['force']:
        users, overlays, warning = guest_users(p['vg'], p['name'], p.get('uri'), p.get('allow_insecure'))
        if warning:
            module.warn(warning)
    steps = plan_volume(p, vgs, lvs, users, overlays, assume=module.check_mode)
    before = volume_model(lvs.get(p['name']))
    if not module.check_mode:
        apply_plan(steps, lambda step: _apply(module, step))
    for warning in steps.warnings:
        module.warn(warning)
    result = {'changed': steps.changed, 'actions': steps.actions}
    if steps.assumed:
        result['assumed'] = steps.assumed
    if module._diff:
        result['diff'] = {'before': _diffable(before), 'after': _diffable(predict_volume(before, steps, p, lvs))}
    if not module.check_mode and steps.changed:
        vgs, lvs = _read(module, p['vg'])
    model = volume_model(lvs.get(p['name']))
    result['thin_volume'] = dict(model, vg=p['vg'], name=p['name'], path='/dev/%s/%s' % (p['vg'], p['name'])) \
        if model else None
    return result


def _diffable(model):
    if model is None:
        return {}
    # Usage numbers move on their own; they are reported, not diffed.
    return dict((k, v) for k, v in model.items() if k not in ('data_percent', 'metadata_percent', 'open'))


def guest_users(vg, name, uri=None, allow_insecure=False):
    """(guests, images, warning): libvirt guests (running or only defined) that hold the LV,
    by any of its names (an inactive LV has no device node: its udev names still count),
    directly or through a qcow2 overlay whose backing file it is; images whose backing file
    it is; a warning when libvirt cannot be asked (not installed, not running)."""
    if not _libvirt.HAS_LIBVIRT or not _xml.HAS_LXML:
        return None, [], ('libvirt-python or lxml is not installed: cannot check whether a libvirt guest uses '
                          '%s/%s as a disk' % (vg, name))
    try:
        conn = _libvirt.connect(_libvirt.check_uri(_libvirt.resolve_uri(uri), allow_insecure))
    except KvmStorageError as exc:
        return None, [], 'libvirt is not reachable (%s): cannot check whether a guest uses %s/%s' % (exc.msg, vg, name)
    try:
        usage = read_usage(conn)
    finally:
        conn.close()
    # its udev names hold for an inactive LV too; an active one adds its device node's keys
    keys = _identity.lv_keys(vg, name) | _identity.keys('/dev/%s/%s' % (vg, name))
    return usage.holders(keys), usage.backing_of_keys(keys), None
