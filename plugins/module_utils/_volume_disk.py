# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How a guest disk reaches a pool volume.  Pure.

libvirt hands a guest a ``type='volume'`` disk only for pools it can translate itself
(dir, fs, netfs, logical, disk, scsi, iscsi, iscsi-direct, zfs, vstorage). For the others it
refuses at attach time ("using 'gluster' pools for backing 'volume' disks isn't yet
supported"), although the same image attaches fine as the disk it stands for: a
``protocol='gluster'`` (or ``rbd``) network disk, or a block disk for a multipath device.
Users name volumes; the planners turn such a volume into that disk, and disk_info names
the volume again.
"""

from __future__ import annotations

# Pool types whose volumes libvirt refuses as 'volume' disks (libvirt's
# virDomainDiskTranslateSourcePool), and the disk each volume becomes.
REFUSED = {'gluster': 'network', 'rbd': 'network', 'sheepdog': 'network', 'mpath': 'block'}


def _hosts(pool):
    return [{'name': h, 'port': None, 'transport': None} for h in pool.source_hosts]


def disk_source(pool, volume_name, volume_path):
    """The disk source that stands for volume ``volume_name`` of ``pool`` (a _volume.PoolView),
    or None when libvirt takes the volume as it is."""
    kind = REFUSED.get(pool.type)
    if kind is None:
        return None
    if kind == 'block':
        return {'block': volume_path}
    if pool.type == 'gluster':
        # <source protocol='gluster' name='VOLUME/DIR/IMAGE'>: the gluster volume, the pool's
        # folder inside it, then the image.
        inner = ((pool.source_dir or '/').strip('/') + '/' + volume_name).lstrip('/')
        name = '%s/%s' % (pool.source_name, inner)
    else:   # rbd, sheepdog: <source name='POOL/IMAGE'>
        name = '%s/%s' % (pool.source_name, volume_name) if pool.source_name else volume_name
    return {'network': {'protocol': pool.type, 'name': name, 'hosts': _hosts(pool), 'auth': None}}


def volume_of(source, pools):
    """The pool volume ``{pool, name}`` that a network or block disk source stands for, when it
    is the translation of one (``pools``: PoolViews by name), else None (for disk_info)."""
    network = (source or {}).get('network')
    block = (source or {}).get('block')
    for pool in pools.values():
        kind = REFUSED.get(pool.type)
        if kind == 'network' and network and network.get('protocol') == pool.type:
            prefix = disk_source(pool, '', None)['network']['name']
            name = network.get('name') or ''
            if prefix and name.startswith(prefix) and '/' not in name[len(prefix):]:
                return {'pool': pool.name, 'name': name[len(prefix):]}
        elif kind == 'block' and block:
            for vol_name, model in pool.volumes.items():
                if model.get('path') == block:
                    return {'pool': pool.name, 'name': vol_name}
    return None
