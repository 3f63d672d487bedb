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

import copy

from ansible_collections.kvm.storage.plugins.module_utils import _disk_xml
from ansible_collections.kvm.storage.plugins.module_utils import _volume_disk
from ansible_collections.kvm.storage.plugins.module_utils._errors import KvmStorageError, ConflictError
from ansible_collections.kvm.storage.plugins.module_utils._names import check_name, is_target
from ansible_collections.kvm.storage.plugins.module_utils._plan import Plan
from ansible_collections.kvm.storage.plugins.module_utils._secret import reference_options

BUSES = ['virtio', 'scsi', 'sata', 'ide', 'usb', 'fdc']
DEVICES = ['disk', 'cdrom', 'floppy', 'lun']
PREFIX = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'usb': 'sd', 'ide': 'hd', 'fdc': 'fd'}
DEFAULT_BUS = {'disk': 'virtio', 'cdrom': 'sata', 'floppy': 'fdc', 'lun': 'scsi'}
# Buses qemu can hot-plug a disk on (LAB.md: sata and ide refuse, fdc has no hotplug).
HOTPLUG = ('virtio', 'scsi', 'usb')
TUNING = ('format', 'cache', 'io', 'discard', 'detect_zeroes', 'iothread', 'readonly', 'shareable', 'serial',
          'wwn', 'boot_order', 'sgio', 'rawio', 'startup_policy')
# Formats the disk option accepts; a header of another format (qcow v1) cannot be attached.
FORMATS = ('raw', 'qcow2', 'qed', 'vmdk', 'vdi', 'vpc', 'vhdx', 'iso')
# Block I/O throttling (<iotune>, virDomainSetBlockIoTune): the rates, their bursts and the
# bursts' lengths in seconds, all integers where 0 is "no limit"; group_name shares the
# limits between disks. libvirt's own parameter names.
IOTUNE_RATES = ('total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec', 'total_iops_sec', 'read_iops_sec',
                'write_iops_sec')
IOTUNE_NUMBERS = IOTUNE_RATES + tuple(r + '_max' for r in IOTUNE_RATES) + tuple(r + '_max_length' for r in IOTUNE_RATES)
# libvirt writes one virtio-scsi controller's worth of units per sdX name: sda..sdg on
# controller 0, sdh..sdn on controller 1, ... (the issue: sdh lands on controller 1).
SCSI_UNITS_PER_CONTROLLER = 7


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
                    **reference_options()
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
        startup_policy=dict(type='str', choices=['mandatory', 'requisite', 'optional']),
        iotune=dict(type='dict', options=dict(
            [(key, dict(type='int')) for key in IOTUNE_NUMBERS] + [('group_name', dict(type='str'))])),
        allow_missing=dict(type='bool', default=False),
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
    if target is not None and not is_target(target):
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
    model = {'device': device, 'bus': bus, 'target': target, 'source': source,
             'iotune': iotune_from_params(p.get('iotune'), label)}
    for key in TUNING:
        model[key] = p.get(key)
    if p.get('startup_policy') and _disk_xml.source_kind(source) == 'network':
        raise KvmStorageError('%s: startup_policy applies to file, block and volume sources' % label)
    if p.get('startup_policy') == 'requisite' and device not in ('cdrom', 'floppy'):
        # libvirt: "disk startupPolicy 'requisite' is allowed only for cdrom or floppy"
        raise KvmStorageError('%s: startup_policy requisite applies to a cdrom or floppy; use optional for a %s'
                              % (label, device))
    return DiskRequest(domain=domain, state=p['state'], model=model, live=p.get('live'), persistent=p['persistent'],
                       timeout=p['timeout'], label=label, allow_missing=bool(p.get('allow_missing')))


def iotune_from_params(options, label):
    """The iotune option as the disk model holds it: the limits set (0 or unset: none) and
    group_name when given; None when iotune is not managed. Refuses what qemu refuses."""
    if options is None:
        return None
    out = {}
    for key in IOTUNE_NUMBERS:
        value = options.get(key)
        if value is None:
            continue
        if value < 0:
            raise KvmStorageError('%s: iotune.%s must be 0 (no limit) or more, not %d' % (label, key, value))
        if value:
            out[key] = value
    for kind in ('bytes_sec', 'iops_sec'):
        for suffix in ('', '_max'):
            total = 'total_%s%s' % (kind, suffix)
            split = [k for k in ('read_%s%s' % (kind, suffix), 'write_%s%s' % (kind, suffix)) if out.get(k)]
            if out.get(total) and split:
                raise KvmStorageError('%s: iotune.%s and iotune.%s are exclusive (a total limit, or separate read and '
                                      'write limits)' % (label, total, split[0]))
    for rate in IOTUNE_RATES:
        burst, length = out.get(rate + '_max'), out.get(rate + '_max_length')
        if burst and not out.get(rate):
            raise KvmStorageError('%s: iotune.%s_max (a burst) needs iotune.%s (the rate it bursts above)'
                                  % (label, rate, rate))
        if burst and burst < out[rate]:
            raise KvmStorageError('%s: iotune.%s_max (%d) is below iotune.%s (%d); a burst is at least the rate'
                                  % (label, rate, burst, rate, out[rate]))
        if length and not burst:
            raise KvmStorageError('%s: iotune.%s_max_length (seconds of burst) needs iotune.%s_max'
                                  % (label, rate, rate))
    if options.get('group_name'):
        out['group_name'] = options['group_name']
    return out


def iotune_normal(iotune):
    """Limits as compared: a burst length of 1 second is qemu's default, which libvirt does
    not write back."""
    return dict((k, v) for k, v in (iotune or {}).items() if not (k.endswith('_max_length') and v == 1))


def iotune_differs(have, want):
    """Whether the disk ``have`` throttles otherwise than ``want`` asks (None: not managed).
    group_name is compared only when asked: qemu names a group itself otherwise."""
    if want is None:
        return False
    a, b = iotune_normal(have), iotune_normal(want)
    if 'group_name' not in b:
        a.pop('group_name', None)
    return a != b


def iotune_params(want):
    """virDomainSetBlockIoTune's parameters: every number (0 lifts a limit), and group_name
    when asked."""
    params = dict((key, int(want.get(key) or 0)) for key in IOTUNE_NUMBERS)
    if want.get('group_name'):
        params['group_name'] = want['group_name']
    return params


def iotune_words(want):
    words = ['%s %s' % (k, want[k]) for k in IOTUNE_NUMBERS + ('group_name',) if want.get(k)]
    return ', '.join(words) or 'no limits'


class DomainView(object):
    """What the adapter read of one guest."""

    def __init__(self, name, active, persistent, config_disks, live_disks, buses, config_controllers=(),
                 live_controllers=(), machine=None, free_ports=None):
        self.name = name
        self.active = active
        self.persistent = persistent
        self.config_disks = config_disks      # models, [] when not persistent
        self.live_disks = live_disks          # models, [] when not running
        self.buses = buses                    # disk buses the machine type carries (domain capabilities)
        self.config_controllers = list(config_controllers)   # e.g. [('scsi', 'virtio-scsi')]
        self.live_controllers = list(live_controllers)
        self.machine = machine
        # a running q35 guest's free pcie-root-ports (_disk_xml.free_hotplug_ports); None: not counted
        self.free_ports = free_ports


class SourceFacts(object):
    """What the adapter read of the requested source: its identity keys (``_identity``), whether
    it exists (None: unknown, e.g. over a remote URI), the format its header says
    (``_image_header``: None when it could not be read) and, for a pool volume, the disk
    format of the volume (``_volume.disk_format`` of what libvirt reports), its path and its
    pool (a ``_volume.PoolView``: type and source, None when not read)."""

    def __init__(self, keys=frozenset(), exists=None, probed=None, volume_format=None, path=None, pool=None,
                 assumed=False):
        self.keys = frozenset(keys)
        self.exists = exists
        self.probed = probed
        self.volume_format = volume_format
        self.path = path
        self.pool = pool
        # Check mode only: a source volume (or its pool) that does not exist yet, planned as
        # if an earlier task of the play made it; its format is then not known.
        self.assumed = assumed


def attached_source(source, facts):
    """The source as the guest gets it: a volume of a pool that libvirt will not hand to a
    guest as a volume disk (native gluster, rbd, mpath: _volume_disk) becomes the disk it
    stands for; any other source is attached as it is."""
    volume = (source or {}).get('volume')
    if not volume or facts is None or facts.pool is None:
        return source
    translated = _volume_disk.disk_source(facts.pool, volume['name'], facts.path)
    if translated is None or 'block' in translated and not translated['block']:
        return source   # libvirt takes it as a volume, or the device of a volume not there is unknown
    return translated


def _holds(disk, source, keys):
    """Whether ``disk`` reaches the storage of ``source``: by identity keys when both are known
    (a volume and its path, a symlink, ``/./``, hard links, every alias of a device), else by
    the literal source."""
    if not source or not disk.get('source'):
        return False
    if keys and disk.get('keys'):
        return bool(keys & disk['keys'])
    return _disk_xml.same_source(disk['source'], source)


def _same_storage(a, b):
    return _holds(a, b['source'], b.get('keys') or frozenset())


def live_differences(live_disks, config_disks, reported):
    """{target: (differences, other target or None)} between the running guest and its
    persistent definition: settings of one target, and a disk present in one definition only
    (``presence``), also when the other one holds the same storage at another target
    (``target``: a power cycle would move it, or the two copies would both be attached)."""
    live = dict((d['target'], d) for d in live_disks)
    config = dict((d['target'], d) for d in config_disks)
    out = {}
    for target in sorted(set(live) | set(config)):
        have_live, have_config = live.get(target), config.get(target)
        differences, other = [], None
        if have_live and have_config:
            for key in reported:
                if key == 'source':
                    if (have_live['source'] or have_config['source']) and not _same_storage(have_live, have_config):
                        differences.append(key)
                elif have_live.get(key) != have_config.get(key):
                    differences.append(key)
        else:
            differences.append('presence')
            have = have_live or have_config
            elsewhere = config_disks if have_live else live_disks
            for twin in elsewhere:
                if twin['target'] != target and have['source'] and _same_storage(have, twin):
                    differences.append('target')
                    other = twin['target']
                    break
        out[target] = (differences, other)
    return out


def _at(disks, target):
    for d in disks:
        if d['target'] == target:
            return d
    return None


def _may_share(have, model):
    """A second attachment of one image to one guest: only read-only on both sides, or
    shareable on both (qemu's image locks refuse anything else, or the guest corrupts it)."""
    ro_want = bool(model.get('readonly')) or model['device'] == 'cdrom'
    ro_have = bool(have.get('readonly')) or have['device'] == 'cdrom'
    return ro_want and ro_have or bool(model.get('shareable')) and bool(have.get('shareable'))


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


def target_index(target, prefix):
    """sda -> 0, sdh -> 7, sdz -> 25, sdaa -> 26 (libvirt's numbering of target names)."""
    index = 0
    for ch in target[len(prefix):]:
        index = index * 26 + (ord(ch) - ord('a') + 1)
    return index - 1


def scsi_controller_of(target):
    return target_index(target, 'sd') // SCSI_UNITS_PER_CONTROLLER


_RAWISH = ('raw', 'iso')


def decide_format(request, model, facts):
    """The driver format of the disk: what the image's header says, checked against a declared
    format (a qcow2 image attached as raw is overwritten by its guest: the header is just the
    first bytes of a raw disk). Never guessed raw for an image with a qcow2 or LUKS header."""
    label, declared = request.label, model['format']
    kind = _disk_xml.source_kind(model['source'])
    what = _describe_source(model['source'])
    if kind is None or facts is None or kind == 'network' and facts.volume_format is None or facts.assumed:
        return declared   # nothing read of it: libvirt's own default (raw, or the volume's format)
    probed = facts.probed
    if probed == 'luks':
        if declared == 'raw':
            return 'raw'   # the guest gets the encrypted bytes and unlocks them itself
        raise ConflictError('%s: %s has a LUKS header; this module does not open LUKS images for qemu, set format: raw '
                            'to hand the encrypted bytes to the guest (which unlocks them itself)%s'
                            % (label, what, '' if declared is None else ', not format: %s' % declared))
    if probed is not None:
        if declared is None:
            if probed not in FORMATS:
                raise ConflictError('%s: %s is a %s image, which qemu cannot attach through this module; convert it '
                                    '(qemu-img convert -O qcow2) first' % (label, what, probed))
            return probed
        if declared == probed or declared in _RAWISH and probed == 'raw':
            return declared
        if probed == 'raw':
            raise ConflictError('%s: %s has no %s header (it reads as raw); attaching it as %s would fail or '
                                'misread it - check the path, or set format: raw' % (label, what, declared, declared))
        raise ConflictError('%s: %s is a %s image (its header says so), not %s; attached as %s the guest would '
                            'overwrite its %s metadata - set format: %s or leave format out'
                            % (label, what, probed, declared, declared, probed, probed))
    known = facts.volume_format
    if known is not None:
        if declared is None:
            return known
        if declared == known or declared in _RAWISH and known in _RAWISH:
            return declared
        raise ConflictError('%s: %s is a %s volume, not %s; set format: %s or leave format out'
                            % (label, what, known, declared, known))
    if declared is not None:
        return declared
    if model['device'] in ('cdrom', 'floppy'):
        return 'raw'
    raise KvmStorageError('%s: the format of %s cannot be read (%s); set format' % (
        label, what, 'it does not exist yet' if facts.exists is False else 'its header is not readable from here'))


def _check_exists(request, model, facts):
    """A file or device that does not exist makes a defined guest unable to start: refused
    unless the request says it may be missing (startup_policy optional/requisite, allow_missing)."""
    kind = _disk_xml.source_kind(model['source'])
    if facts is None or facts.exists is not False or kind not in ('file', 'block'):
        return
    if model.get('startup_policy') in ('optional', 'requisite') or request.allow_missing:
        return
    raise KvmStorageError('%s: %s does not exist, and the guest could not start with it; create it first, set '
                          'startup_policy: optional to start the guest without it, or allow_missing: true if it will '
                          'exist before the guest starts' % (request.label, model['source'][kind]))


def plan(request, dom, facts=None, assume=False):
    """(steps, final model) for ``request`` on guest ``dom`` (a DomainView) with ``facts``
    (SourceFacts of the requested source, None when nothing could be read of it).
    ``assume`` (check mode): a source volume that does not exist yet (nor, perhaps, its
    pool) is planned as made by an earlier task of the play (SourceFacts.assumed)."""
    steps = Plan()
    model = dict(request.model)
    if dom is None:
        raise KvmStorageError('%s does not exist' % request.label)
    if assume and request.state == 'present' and (model['source'] or {}).get('volume') and facts is not None \
            and not facts.exists:
        facts = copy.copy(facts)
        facts.assumed = True
    # read as the volume it is (its format, identity); attached as the disk it stands for
    model['source'] = attached_source(model['source'], facts)
    scopes = _scopes(request, dom)
    if request.state == 'present' and facts is not None and facts.assumed:
        volume = (model['source'] or {}).get('volume')
        steps.assume('volume %s of pool %s' % (volume['name'], volume['pool']) if volume
                     else _describe_source(model['source']))
    if request.state == 'present' and dom.buses is not None and model['bus'] not in dom.buses:
        raise KvmStorageError('%s: its machine type %s cannot carry bus %s; use one of %s'
                              % (request.label, dom.machine or '', model['bus'], ', '.join(sorted(dom.buses))))
    keys = facts.keys if facts is not None else frozenset()
    by_scope = {'live': dom.live_disks, 'config': dom.config_disks}
    # Every disk of either definition that reaches the requested storage, whatever its target
    # or the name it is attached by: the live and the persistent copy are one disk.
    holders = dict((s, [d for d in by_scope[s] if _holds(d, model['source'], keys)]) for s in ('live', 'config'))
    if request.state == 'absent':
        return _plan_detach(steps, request, model, scopes, by_scope, holders), None
    _check_exists(request, model, facts)
    if model['source']:
        model['format'] = decide_format(request, model, facts)
    explicit = model['target'] is not None
    if not explicit:
        # The target the storage already has (the persistent one first: it is what the guest
        # boots with), so the other definition gets the same one.
        existing = holders['config'] or holders['live']
        model['target'] = existing[0]['target'] if existing else pick_target(
            model['bus'], dom.live_disks, dom.config_disks)
    twin = None
    if explicit:
        for scope in ('live', 'config'):
            for have in holders[scope]:
                if twin is None and have['target'] != model['target'] and not _may_share(have, model):
                    twin = (scope, have)
    element = _disk_xml.build(model)
    what = '%s %s (%s, %s)' % (model['device'], model['target'], model['bus'], _describe_source(model['source']))
    attach, update, tune = [], [], []
    for scope in scopes:
        held = holders[scope]
        if held and (not explicit or any(d['target'] == model['target'] for d in held)):
            have = _at(held, model['target']) or held[0]
            _refuse_differences(request, have, model, facts)
            if iotune_differs(have.get('iotune'), model.get('iotune')):
                tune.append(scope)
            continue
        have = _at(by_scope[scope], model['target'])
        if have is None:
            attach.append(scope)
            continue
        same = not have['source'] and not model['source']
        if not same:
            if model['device'] in ('cdrom', 'floppy') and have['device'] == model['device']:
                update.append(scope)
                continue
            raise ConflictError('%s: target %s already holds %s, not %s; remove that disk first or pick another target'
                                % (request.label, model['target'], _describe_source(have['source']),
                                   _describe_source(model['source'])))
        _refuse_differences(request, have, model, facts)
        if iotune_differs(have.get('iotune'), model.get('iotune')):
            tune.append(scope)
    if twin is not None:
        scope, have = twin
        raise ConflictError('%s: %s is already attached as %s (%s definition); one image attached twice to one guest '
                            'is corrupted by it - use target %s, or set shareable (or readonly) on both'
                            % (request.label, _describe_source(model['source']), have['target'],
                               'running' if scope == 'live' else 'persistent', have['target']))
    if tune:
        # In place, through libvirt's block I/O tune call: no detach and attach.
        steps.add('iotune', 'update iotune of disk %s of guest %s (%s): %s'
                  % (model['target'], dom.name, _scope_words(tune), iotune_words(model['iotune'])),
                  scopes=tune, target=model['target'], params=iotune_params(model['iotune']))
    found_config = 'config' in scopes and (holders['config'] or _at(dom.config_disks, model['target']))
    if 'live' in attach and model['bus'] not in HOTPLUG and 'config' not in attach and found_config:
        # The drive is (or will be) in the persistent definition; the running guest gets
        # it at the next boot, since this bus cannot be hot-plugged.
        attach.remove('live')
        if not attach and not update:
            return steps, model
    if attach:
        _plan_attach(steps, request, dom, model, element, attach, what,
                     in_live=bool(holders['live'] or _at(dom.live_disks, model['target'])))
    if update:
        words = ('eject the media from %s %s' % (model['device'], model['target']) if not model['source'] else
                 'change the media in %s %s to %s' % (model['device'], model['target'],
                                                      _describe_source(model['source'])))
        steps.add('update', '%s of guest %s (%s)' % (words, dom.name, _scope_words(update)), scopes=update,
                  element=element, target=model['target'])
    return steps, model


def _refuse_differences(request, have, model, facts):
    diffs = _differs(have, model)
    if not diffs:
        return
    probed = facts.probed if facts is not None else None
    if 'format' in diffs and have.get('format') in _RAWISH and model['format'] == probed and probed not in _RAWISH:
        raise ConflictError('%s: disk %s attaches a %s image as %s, so the guest can overwrite its %s metadata; '
                            'detach it (state: absent) and attach it again without format'
                            % (request.label, have['target'], model['format'], have['format'], model['format']))
    # libvirt changes a disk in place only in its limits (iotune) and its media (CD-ROM,
    # floppy): a running guest's disk refuses the rest ("cannot modify field 'cache' of the
    # disk"; detect_zeroes is accepted and not applied), so every other setting is a conflict.
    raise ConflictError('%s: disk %s exists with other %s; libvirt cannot change that on an attached disk (only its '
                        'iotune limits and the media of a CD-ROM or floppy change in place) - detach it (state: '
                        'absent) and attach it again to change that' % (request.label, have['target'], ', '.join(diffs)))


def _scope_words(scopes):
    return ' and '.join({'live': 'live', 'config': 'persistent'}[s] for s in scopes)


def _plan_attach(steps, request, dom, model, element, scopes, what, in_live=False):
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
    if dom.active and scopes == ['config'] and not note and not in_live:
        note = '; live: false - the running guest gets it at its next boot'
    if model['bus'] == 'scsi':
        # The controller the target's unit sits on, in each definition that gets the disk,
        # always virtio-scsi: left to libvirt, a persistent attach adds an lsilogic one.
        index = scsi_controller_of(model['target'])
        for scope in scopes:
            have = dom.live_controllers if scope == 'live' else dom.config_controllers
            if not any(c[0] == 'scsi' and str(c[2]) == str(index) for c in have):
                steps.add('controller', 'add virtio-scsi controller %d to guest %s (%s)'
                          % (index, dom.name, _scope_words([scope])), scopes=[scope], index=index)
    steps.add('attach', 'attach %s to guest %s (%s%s)' % (what, dom.name, _scope_words(scopes), note),
              scopes=scopes, element=element, target=model['target'], bus=model['bus'])
    needed = ports_needed(steps)
    if needed and dom.free_ports is not None and needed > dom.free_ports:
        # libvirt's own refusal ("No more available PCI slots") comes only once the live attach
        # is tried: decided here from the guest's definition, check mode refuses it too.
        devices = ' and '.join(w for w in ('a virtio-scsi controller' if 'controller' in steps.verbs() else None,
                                           'the virtio disk' if model['bus'] == 'virtio' else None) if w)
        raise KvmStorageError('%s: hot-plugging %s needs %d free pcie-root-port(s) and the running q35 guest has %d; '
                              'define it with spare <controller type="pci" model="pcie-root-port"/> entries (one per '
                              'device to hot-plug), or attach persistently (live: false) and reboot'
                              % (request.label, devices, needed, dom.free_ports))


def ports_needed(steps):
    """PCI Express ports the live steps take: one per virtio-scsi controller and one per
    virtio-blk disk hot-plugged (USB, SATA and SCSI disks sit on their controllers)."""
    needed = 0
    for step in steps.steps:
        if 'live' not in (step.args.get('scopes') or []):
            continue
        if step.verb == 'controller':
            needed += 1
        elif step.verb == 'attach' and step.args.get('bus') == 'virtio':
            needed += 1
    return needed


def _plan_detach(steps, request, model, scopes, by_scope, holders):
    """Detach every target that holds the requested storage (or the one target named), the
    running guest first: the persistent definition only changes once the guest let go."""
    want = model['source']
    target = model['target']
    found = {}
    for scope in scopes:
        if target is not None:
            have = _at(by_scope[scope], target)
            if have is None:
                continue
            if want and not any(d is have for d in holders[scope]):
                raise ConflictError('%s: target %s holds %s, not %s; nothing was detached'
                                    % (request.label, target, _describe_source(have['source']),
                                       _describe_source(want)))
            found[scope] = [have]
        elif holders[scope]:
            found[scope] = list(holders[scope])
    live = found.get('live', [])
    config = found.get('config', [])
    for have in live:
        if have['bus'] in HOTPLUG:
            steps.add('detach', 'detach disk %s from guest %s (live, waiting up to %d s for the guest to release it)'
                      % (have['target'], request.domain, request.timeout), scopes=['live'], target=have['target'],
                      model=have, timeout=request.timeout)
    for have in config:
        live_twin = [d for d in live if d['target'] == have['target']]
        if live_twin and live_twin[0]['bus'] not in HOTPLUG:
            text = ('detach disk %s from guest %s (persistent; %s cannot be unplugged live: it stays in the running '
                    'guest until it is shut down)' % (have['target'], request.domain, live_twin[0]['bus']))
        elif 'live' not in scopes and _at(by_scope['live'], have['target']) is not None:
            text = ('detach disk %s from guest %s (persistent; live: false - it stays attached to the running guest '
                    'until it is shut down)' % (have['target'], request.domain))
        else:
            text = 'detach disk %s from guest %s (persistent)' % (have['target'], request.domain)
        steps.add('detach', text, scopes=['config'], target=have['target'], model=have, timeout=request.timeout)
    # A non-hot-pluggable disk left only in the running guest leaves it at shutdown; nothing
    # more can be done live (a second run must not fail or change).
    return steps
