# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Guest disks: argument spec, request from params, and the planner.  Pure.

A disk is found by its target when one is given, otherwise by its source, so a re-run
without a target does not attach a second copy.  The guest's persistent definition and
its live one (when it runs) are planned side by side.
"""

from __future__ import annotations

from ansible_collections.kvm.storage.plugins.module_utils import _disk_xml
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError, ConflictError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan

BUSES = ['virtio', 'scsi', 'sata', 'ide', 'usb', 'fdc']
DEVICES = ['disk', 'cdrom', 'floppy', 'lun']
PREFIX = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'usb': 'sd', 'ide': 'hd', 'fdc': 'fd'}
DEFAULT_BUS = {'disk': 'virtio', 'cdrom': 'sata', 'floppy': 'fdc', 'lun': 'scsi'}
# Buses qemu can hot-plug a disk on (LAB.md: sata and ide refuse, fdc has no hotplug).
HOTPLUG = ('virtio', 'scsi', 'usb')
TUNING = ('format', 'cache', 'io', 'discard', 'detect_zeroes', 'iothread', 'readonly', 'shareable', 'serial',
          'wwn', 'boot_order', 'sgio', 'rawio')


def argument_spec():
    host = dict(name=dict(type='str', required=True), port=dict(type='int'),
                transport=dict(type='str', choices=['tcp', 'unix', 'rdma']))
    return dict(
        domain=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        target=dict(type='str'),
        device=dict(type='str', default='disk', choices=DEVICES),
        bus=dict(type='str', choices=BUSES),
        source=dict(type='dict', options=dict(
            file=dict(type='path'),
            block=dict(type='path'),
            volume=dict(type='dict', options=dict(pool=dict(type='str', required=True),
                                                  name=dict(type='str', required=True))),
            network=dict(type='dict', options=dict(
                protocol=dict(type='str', required=True, choices=['gluster', 'iscsi', 'nbd', 'rbd', 'http', 'https']),
                name=dict(type='str'),
                hosts=dict(type='list', elements='dict', options=host),
                auth=dict(type='dict', no_log=False, options=dict(
                    username=dict(type='str', required=True),
                    secret_usage=dict(type='str', no_log=False),
                    secret_uuid=dict(type='str', no_log=False),
                )),
            )),
        ), mutually_exclusive=[('file', 'block', 'volume', 'network')]),
        format=dict(type='str', choices=['raw', 'qcow2', 'qed', 'vmdk', 'vdi', 'vpc', 'vhdx', 'iso']),
        cache=dict(type='str', choices=['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe']),
        io=dict(type='str', choices=['native', 'threads', 'io_uring']),
        discard=dict(type='str', choices=['unmap', 'ignore']),
        detect_zeroes=dict(type='str', choices=['off', 'on', 'unmap']),
        iothread=dict(type='int'),
        readonly=dict(type='bool'),
        shareable=dict(type='bool'),
        serial=dict(type='str'),
        wwn=dict(type='str'),
        boot_order=dict(type='int'),
        sgio=dict(type='str', choices=['filtered', 'unfiltered']),
        rawio=dict(type='bool'),
        live=dict(type='bool'),
        persistent=dict(type='bool', default=True),
        timeout=dict(type='int', default=30),
    )


class DiskRequest(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


def request_from_params(p):
    domain = check_name('domain', p['domain'])
    source = dict((k, v) for k, v in (p.get('source') or {}).items() if v is not None) or None
    if source and source.get('network'):
        source['network'] = dict(source['network'])
    device = p['device']
    bus = p.get('bus') or DEFAULT_BUS[device]
    label = 'guest %s' % domain
    target = p.get('target')
    if target is not None and (not target.isalnum() or not target.islower()):
        raise KvmStorageError('%s: target %r must be a device name such as vdb, sdc or hda' % (label, target))
    # A detach by target needs no bus: the target alone names the disk.
    if target is not None and (p.get('bus') or p['state'] == 'present') and not target.startswith(PREFIX[bus]):
        raise KvmStorageError('%s: target %s does not fit bus %s, whose disks are named %sX'
                              % (label, target, bus, PREFIX[bus]))
    if device == 'floppy' and bus != 'fdc':
        raise KvmStorageError('%s: a floppy drive sits on bus fdc' % label)
    if device == 'lun':
        if bus != 'scsi':
            raise KvmStorageError('%s: a passthrough LUN (device lun) needs bus scsi' % label)
        kind = _disk_xml.source_kind(source)
        if kind not in ('block', 'network') or kind == 'network' and source['network']['protocol'] != 'iscsi':
            raise KvmStorageError('%s: device lun needs a block source or an iscsi network source' % label)
    elif p.get('sgio') or p.get('rawio') is not None:
        raise KvmStorageError('%s: sgio and rawio apply to device lun only' % label)
    if source is None and device not in ('cdrom', 'floppy') and p['state'] == 'present':
        raise KvmStorageError('%s: a %s needs a source (file, block, volume or network)' % (label, device))
    if source is None and target is None:
        # Without media there is nothing to find the drive by: an empty drive, an eject or
        # a detach must name it, or every run would add another drive.
        raise KvmStorageError('%s: set target to name the drive (a %s without source cannot be found by its source)'
                              % (label, device))
    if source and source.get('network'):
        net = source['network']
        if net['protocol'] != 'nbd' and not net.get('name'):
            raise KvmStorageError('%s: the %s network source needs name (volume/image, or IQN/LUN)'
                                  % (label, net['protocol']))
        if not net.get('hosts'):
            raise KvmStorageError('%s: a network source needs hosts' % label)
        auth = dict(net['auth']) if net.get('auth') else None
        net = source['network'] = dict(net, auth=auth)
        if auth:
            if bool(auth.get('secret_usage')) == bool(auth.get('secret_uuid')):
                raise KvmStorageError('%s: source.network.auth needs exactly one of secret_usage and secret_uuid' % label)
            auth['type'] = {'iscsi': 'iscsi', 'rbd': 'ceph'}.get(net['protocol'])
            if auth['type'] is None:
                raise KvmStorageError('%s: auth applies to iscsi and rbd network sources' % label)
    if source and source.get('volume'):
        check_name('volume', source['volume']['name'])
        check_name('pool', source['volume']['pool'])
    if p['timeout'] <= 0:
        raise KvmStorageError('%s: timeout must be a positive number of seconds' % label)
    model = {'device': device, 'bus': bus, 'target': target, 'source': source}
    for key in TUNING:
        model[key] = p.get(key)
    return DiskRequest(domain=domain, state=p['state'], model=model, live=p.get('live'), persistent=p['persistent'],
                       timeout=p['timeout'], label=label)


class DomainView(object):
    """What the adapter read of one guest."""

    def __init__(self, name, active, persistent, config_disks, live_disks, buses, config_controllers=(),
                 live_controllers=(), machine=None):
        self.name = name
        self.active = active
        self.persistent = persistent
        self.config_disks = config_disks      # models, [] when not persistent
        self.live_disks = live_disks          # models, [] when not running
        self.buses = buses                    # disk buses the machine type carries (domain capabilities)
        self.config_controllers = list(config_controllers)   # e.g. [('scsi', 'virtio-scsi')]
        self.live_controllers = list(live_controllers)
        self.machine = machine


def _find(disks, model):
    if model['target']:
        for d in disks:
            if d['target'] == model['target']:
                return d
        return None
    for d in disks:
        if model['source'] and _disk_xml.same_source(d['source'], model['source']):
            return d
    return None


def pick_target(bus, *disk_lists):
    """The first free name for ``bus`` (vda, vdb, ..., vdz, vdaa, ...) across the definitions."""
    prefix = PREFIX[bus]
    taken = set(d['target'] for disks in disk_lists for d in disks)
    letters = 'abcdefghijklmnopqrstuvwxyz'
    for i in range(26 * 27):
        suffix = letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26]
        if prefix + suffix not in taken:
            return prefix + suffix
    raise KvmStorageError('no free %s target names are left' % bus)


def _describe_source(source):
    kind = _disk_xml.source_kind(source)
    if kind is None:
        return 'no media'
    if kind == 'volume':
        return 'volume %s of pool %s' % (source['volume']['name'], source['volume']['pool'])
    if kind == 'network':
        net = source['network']
        where = net.get('name') or ','.join(h['name'] for h in net.get('hosts') or [])
        return '%s %s' % (net['protocol'], where)
    return source[kind]


def _scopes(request, dom):
    """Where the change goes: 'live' (running guest), 'config' (persistent definition)."""
    scopes = []
    live = request.live
    if dom.active and live is not False:
        scopes.append('live')
    elif live is True and not dom.active:
        raise KvmStorageError('%s is not running; live: true needs a running guest' % request.label)
    if request.persistent and dom.persistent:
        scopes.append('config')
    if not scopes:
        raise KvmStorageError('%s: nothing to change - the guest is %s and persistent is %s'
                              % (request.label, 'running' if dom.active else 'not running', request.persistent))
    return scopes


def _differs(have, want):
    out = []
    for key in TUNING:
        value = want.get(key)
        if value is None:
            continue
        if key in ('readonly', 'shareable') and not value and not have.get(key):
            continue
        if key == 'cache' and value == 'default' and have.get(key) in (None, 'default'):
            continue  # libvirt does not write the default cache mode back
        if have.get(key) != value:
            out.append(key)
    if want['bus'] and have['bus'] != want['bus']:
        out.append('bus')
    if want['device'] != have['device']:
        out.append('device')
    return out


def plan(request, dom):
    steps = Plan()
    model = dict(request.model)
    if dom is None:
        raise KvmStorageError('%s does not exist' % request.label)
    scopes = _scopes(request, dom)
    if request.state == 'present' and dom.buses is not None and model['bus'] not in dom.buses:
        raise KvmStorageError('%s: its machine type %s cannot carry bus %s; use one of %s'
                              % (request.label, dom.machine or '', model['bus'], ', '.join(sorted(dom.buses))))
    by_scope = {'live': dom.live_disks, 'config': dom.config_disks}
    found = dict((s, _find(by_scope[s], model)) for s in scopes)
    if request.state == 'absent':
        return _plan_detach(steps, request, scopes, found), None
    if model['target'] is None:
        existing = [f for f in found.values() if f]
        model['target'] = existing[0]['target'] if existing else pick_target(
            model['bus'], dom.live_disks, dom.config_disks)
        found = dict((s, _find(by_scope[s], model)) for s in scopes)
    element = _disk_xml.build(model)
    what = '%s %s (%s, %s)' % (model['device'], model['target'], model['bus'], _describe_source(model['source']))
    attach, update = [], []
    for scope in scopes:
        have = found[scope]
        if have is None:
            attach.append(scope)
            continue
        same = _disk_xml.same_source(have['source'], model['source']) or (not have['source'] and not model['source'])
        if not same:
            if model['device'] in ('cdrom', 'floppy') and have['device'] == model['device']:
                update.append(scope)
                continue
            raise ConflictError('%s: target %s already holds %s, not %s; remove that disk first or pick another target'
                                % (request.label, model['target'], _describe_source(have['source']),
                                   _describe_source(model['source'])))
        diffs = _differs(have, model)
        if diffs:
            raise ConflictError('%s: disk %s exists with other %s; detach it (state: absent) and attach it again to '
                                'change that' % (request.label, model['target'], ', '.join(diffs)))
    if 'live' in attach and model['bus'] not in HOTPLUG and 'config' not in attach and found.get('config'):
        # The drive is (or will be) in the persistent definition; the running guest gets
        # it at the next boot, since this bus cannot be hot-plugged.
        attach.remove('live')
        if not attach and not update:
            return steps, model
    if attach:
        _plan_attach(steps, request, dom, model, element, attach, what)
    if update:
        words = ('eject the media from %s %s' % (model['device'], model['target']) if not model['source'] else
                 'change the media in %s %s to %s' % (model['device'], model['target'],
                                                      _describe_source(model['source'])))
        steps.add('update', '%s of guest %s (%s)' % (words, dom.name, _scope_words(update)), scopes=update,
                  element=element, target=model['target'])
    return steps, model


def _scope_words(scopes):
    return ' and '.join({'live': 'live', 'config': 'persistent'}[s] for s in scopes)


def _plan_attach(steps, request, dom, model, element, scopes, what):
    note = ''
    if 'live' in scopes and model['bus'] not in HOTPLUG:
        if 'config' not in scopes:
            raise KvmStorageError('%s: bus %s cannot be hot-plugged into the running guest; attach it persistently '
                                  '(it takes effect at the next boot) or use virtio, scsi or usb'
                                  % (request.label, model['bus']))
        scopes = ['config']
        note = '; %s cannot be hot-plugged: takes effect at the next boot' % model['bus']
    if 'live' in scopes and model['device'] in ('cdrom', 'floppy') and not model['source']:
        # qemu cannot hot-plug a drive without media (LAB.md: "must not have null value").
        if 'config' not in scopes:
            raise KvmStorageError('%s: an empty %s cannot be hot-plugged; give it media or attach it persistently'
                                  % (request.label, model['device']))
        scopes = ['config']
        note = '; an empty %s cannot be hot-plugged: takes effect at the next boot' % model['device']
    if model['bus'] == 'scsi':
        for scope in scopes:
            have = dom.live_controllers if scope == 'live' else dom.config_controllers
            if not any(c[0] == 'scsi' for c in have):
                steps.add('controller', 'add a virtio-scsi controller to guest %s (%s)' % (dom.name, _scope_words([scope])),
                          scopes=[scope])
    steps.add('attach', 'attach %s to guest %s (%s%s)' % (what, dom.name, _scope_words(scopes), note),
              scopes=scopes, element=element, target=model['target'])


def _plan_detach(steps, request, scopes, found):
    present = [s for s in scopes if found[s] is not None]
    if not present:
        return steps
    want = request.model['source']
    for scope in present:
        have = found[scope]['source']
        if want and not _disk_xml.same_source(have, want):
            raise ConflictError('%s: target %s holds %s, not %s; nothing was detached'
                                % (request.label, found[scope]['target'], _describe_source(have),
                                   _describe_source(want)))
    target = found[present[0]]['target']
    if 'live' in present and found['live']['bus'] not in HOTPLUG:
        if 'config' not in present:
            # Already gone from the definition: it leaves the running guest at shutdown,
            # and nothing more can be done live (a second run must not fail or change).
            return steps
        steps.add('detach', 'detach disk %s from guest %s (persistent; %s cannot be unplugged live: it stays in the '
                  'running guest until it is shut down)' % (target, request.domain, found['live']['bus']),
                  scopes=['config'], target=found['config']['target'], model=found['config'], timeout=request.timeout)
        return steps
    if 'live' in present:
        steps.add('detach', 'detach disk %s from guest %s (live, waiting up to %d s for the guest to release it)'
                  % (target, request.domain, request.timeout), scopes=['live'], target=target,
                  model=found['live'], timeout=request.timeout)
    if 'config' in present:
        steps.add('detach', 'detach disk %s from guest %s (persistent)' % (found['config']['target'], request.domain),
                  scopes=['config'], target=found['config']['target'], model=found['config'], timeout=request.timeout)
    return steps
