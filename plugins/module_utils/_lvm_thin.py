# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LVM thin pools and thin volumes: argument specs, request checks and the planners.

Pure: no LVM command, no file, no libvirt.  ``plan_pool`` and ``plan_volume`` are
functions of the request and of what the adapter (_lvm_thin_adapter) read - LVM's reports,
the profile files, who uses a thin volume - and return steps that carry values (sizes,
flags, paths); the adapter turns each step into its LVM command.
"""

from __future__ import annotations

import posixpath

from ansible_collections.kvm.storage.plugins.module_utils._errors import ConflictError, KvmStorageError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan
from ansible_collections.kvm.storage.plugins.module_utils._size import SizeError, format_size, parse_size

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


def check_pool_names(params):
    """The names of a thin pool request, refused before anything is read."""
    check_name('volume group', params['vg'])
    check_name('thin pool', params['name'])


def check_volume_names(params):
    """The names of a thin volume request, refused before anything is read."""
    check_name('volume group', params['vg'])
    check_name('thin volume', params['name'])
    for key in ('thin_pool', 'snapshot_of'):
        if params.get(key) is not None:
            check_name(key, params[key])


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
    return posixpath.join(PROFILE_DIR, name + '.profile')


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
                      vg=vg_name, name=name)
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
        steps.add('create', 'create %s of %s' % (label, format_size(size)), vg=vg_name, name=name, size=size,
                  metadata_size=metadata_size, chunk_size=chunk_size, zero=params.get('zero'),
                  discards=params.get('discards'))
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
                          vg=vg_name, name=name, size=size)
        if metadata_size is not None:
            metadata_size = _round_up(metadata_size, extent)
            if metadata_size < lv['lv_metadata_size']:
                raise KvmStorageError('refusing to shrink the metadata of %s from %s to %s: LVM cannot shrink it'
                                      % (label, format_size(lv['lv_metadata_size']), format_size(metadata_size)))
            if metadata_size > lv['lv_metadata_size']:
                steps.add('grow_metadata', 'grow the metadata of %s from %s to %s'
                          % (label, format_size(lv['lv_metadata_size']), format_size(metadata_size)),
                          vg=vg_name, name=name, metadata_size=metadata_size)
        zero = params.get('zero')
        if zero is not None and zero != lv['zero']:
            steps.add('zero', '%s zeroing of new blocks in %s' % ('turn on' if zero else 'turn off', label),
                      vg=vg_name, name=name, zero=zero)
        discards = params.get('discards')
        if discards is not None and discards != lv['discards']:
            if 'ignore' in (discards, lv['discards']):
                raise ConflictError('%s has discards %s; LVM changes discards to or from ignore only while the pool '
                                    'is inactive: deactivate it and its volumes, or keep %s'
                                    % (label, lv['discards'], lv['discards']))
            steps.add('discards', 'set discards of %s to %s' % (label, discards), vg=vg_name, name=name,
                      discards=discards)
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
            steps.add('attach_profile', 'attach profile %s to %s' % (own, label), vg=vg_name, name=name, profile=own)
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
            after['size'] = step.args['size']
        elif step.verb == 'grow_metadata':
            after['metadata_size'] = step.args['metadata_size']
        elif step.verb == 'zero':
            after['zero'] = step.args['zero']
        elif step.verb == 'discards':
            after['discards'] = step.args['discards']
        elif step.verb == 'attach_profile':
            after['profile'] = step.args['profile']
    return after


# ---- thin volume ----------------------------------------------------------------------

def volume_model(lv):
    if lv is None:
        return None
    return {'size': lv['lv_size'], 'thin_pool': lv['pool_lv'], 'origin': lv['origin'] or None,
            'active': lv['active'], 'open': lv['open'], 'data_percent': lv['data_percent']}


def needs_users(params, lvs=None):
    """Whether the planner needs to know which guests use the thin volume (the adapter asks
    libvirt before planning): for a removal without force of a volume that exists (``lvs``:
    the VG's LVs; None: not read yet, so it may)."""
    return params['state'] == 'absent' and not params['force'] and (lvs is None or params['name'] in lvs)


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
        steps.add('remove', 'remove %s' % label, vg=vg_name, name=name)
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
            steps.add('snapshot', 'create %s as a thin snapshot of %s' % (label, origin), vg=vg_name, name=name,
                      origin=origin)
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
            steps.add('create', 'create %s of %s in thin pool %s' % (label, format_size(size), pool), vg=vg_name,
                      name=name, thin_pool=pool, size=size)
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
                  vg=vg_name, name=name, size=size)
    elif size is not None:
        size = _round_up(size, extent)
        if size < current_size:
            raise KvmStorageError('refusing to shrink %s from %s to %s: thin volumes only grow here (shrinking cuts '
                                  'off data)' % (label, format_size(current_size), format_size(size)))
        if size > current_size:
            steps.add('grow', 'grow %s from %s to %s' % (label, format_size(current_size), format_size(size)),
                      vg=vg_name, name=name, size=size)
    if params['active'] != active:
        steps.add('activate' if params['active'] else 'deactivate',
                  '%s %s' % ('activate' if params['active'] else 'deactivate', label), vg=vg_name, name=name,
                  active=params['active'])
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
            after['size'] = step.args['size']
        elif step.verb in ('activate', 'deactivate'):
            after['active'] = step.verb == 'activate'
    return after


def diff_form(model):
    """A thin pool or thin volume model as diff mode shows it."""
    if model is None:
        return {}
    # Usage numbers move on their own; they are reported, not diffed.
    return dict((k, v) for k, v in model.items() if k not in ('data_percent', 'metadata_percent', 'open'))
