# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What each libvirt pool type takes, needs and is, in one table.

``source``: the source fields the type accepts; ``required``: those it cannot do
without; ``target``: whether the pool has a target path (network pools do not);
``build``: what ``virStoragePoolBuild`` does for it - None (nothing), ``mkdir`` (only
creates the target directory; libvirt refuses the overwrite flags there), ``format``
(writes a filesystem, a volume group or a label: guarded by ``NO_OVERWRITE``) or
``tool`` (zpool create, which refuses used devices by itself and takes no flags); ``shared``: whether
guests on other hosts can reach the same storage, which is what live migration needs.
Facts from libvirt's storage driver (poolTypeInfo) and formatstorage documentation.
"""

from __future__ import annotations

POOL_TYPES = {
    'dir': dict(libvirt='dir', source=(), required=(), target='required', build='mkdir', shared=False,
                formats=()),
    'fs': dict(libvirt='fs', source=('devices', 'format'), required=('devices',), target='required',
               build='format', shared=False, max_devices=1,
               formats=('auto', 'ext2', 'ext3', 'ext4', 'ufs', 'iso9660', 'udf', 'gfs', 'gfs2', 'vfat',
                        'hfs+', 'xfs', 'ocfs2', 'vmfs')),
    'netfs': dict(libvirt='netfs', source=('hosts', 'dir', 'format', 'protocol_version'),
                  required=('hosts', 'dir'), target='required', build='mkdir', shared=True, max_hosts=1,
                  formats=('auto', 'nfs', 'glusterfs', 'cifs')),
    'logical': dict(libvirt='logical', source=('name', 'devices', 'format'), required=('name',),
                    target='optional', build='format', shared=False, formats=('lvm2',)),
    'disk': dict(libvirt='disk', source=('devices', 'format'), required=('devices',), target='optional',
                 build='format', shared=False, max_devices=1,
                 formats=('dos', 'dvh', 'gpt', 'mac', 'bsd', 'pc98', 'sun', 'lvm2')),
    'iscsi': dict(libvirt='iscsi', source=('hosts', 'devices', 'initiator', 'auth'),
                  required=('hosts', 'devices'), target='optional', build=None, shared=True,
                  max_hosts=1, max_devices=1, formats=(), auth=('chap',)),
    'iscsi_direct': dict(libvirt='iscsi-direct', source=('hosts', 'devices', 'initiator', 'auth'),
                         required=('hosts', 'devices', 'initiator'), target='none', build=None, shared=True,
                         max_hosts=1, max_devices=1, formats=(), auth=('chap',)),
    'scsi': dict(libvirt='scsi', source=('adapter',), required=('adapter',), target='optional', build=None,
                 shared=False, formats=()),
    'mpath': dict(libvirt='mpath', source=(), required=(), target='optional', build=None, shared=True,
                  formats=()),
    'gluster': dict(libvirt='gluster', source=('hosts', 'dir', 'name'), required=('hosts', 'name'),
                    target='none', build=None, shared=True, formats=()),
    'rbd': dict(libvirt='rbd', source=('hosts', 'name', 'auth'), required=('hosts', 'name'),
                target='none', build=None, shared=True, formats=(), auth=('ceph',)),
    'zfs': dict(libvirt='zfs', source=('name', 'devices'), required=('name',), target='none', build='tool',
                shared=False, formats=()),
}

# libvirt's spelling -> the module's (only iscsi-direct differs: an option value with a
# dash reads badly in YAML keys users build from it).
FROM_LIBVIRT = dict((v['libvirt'], k) for k, v in POOL_TYPES.items())

SOURCE_HELP = {
    'devices': 'source.devices',
    'hosts': 'source.hosts',
    'dir': 'source.dir',
    'name': 'source.name',
    'format': 'source.format',
    'initiator': 'source.initiator',
    'auth': 'source.auth',
    'adapter': 'source.adapter',
    'protocol_version': 'source.protocol_version',
}

WHAT_IT_NEEDS = {
    ('fs', 'devices'): 'the block device that holds the filesystem',
    ('netfs', 'hosts'): 'the file server',
    ('netfs', 'dir'): 'the exported directory (for glusterfs: the volume name)',
    ('logical', 'name'): 'the volume group name',
    ('disk', 'devices'): 'the disk to partition',
    ('iscsi', 'hosts'): 'the iSCSI portal',
    ('iscsi', 'devices'): 'the target IQN',
    ('iscsi_direct', 'hosts'): 'the iSCSI portal',
    ('iscsi_direct', 'devices'): 'the target IQN',
    ('iscsi_direct', 'initiator'): 'the initiator IQN libiscsi logs in with',
    ('scsi', 'adapter'): 'the SCSI host adapter',
    ('gluster', 'hosts'): 'a gluster server',
    ('gluster', 'name'): 'the gluster volume name',
    ('rbd', 'hosts'): 'the Ceph monitors',
    ('rbd', 'name'): 'the RADOS pool name',
    ('zfs', 'name'): 'the zpool name',
}


# Target paths libvirt needs but does not fill in itself (virsh pool-define-as does);
# used only when a pool is created without target.path. {name} is source.name.
DEFAULT_TARGETS = {
    'disk': '/dev',
    'logical': '/dev/{name}',
    'iscsi': '/dev/disk/by-path',
    'scsi': '/dev/disk/by-path',
    'mpath': '/dev/mapper',
}


def is_shared(pool_type, source=None):
    """Whether guests on other hosts can reach this pool's storage (live migration).

    A scsi pool is shared only when it reaches a Fibre Channel fabric.
    """
    info = POOL_TYPES.get(pool_type)
    if info is None:
        return False
    if pool_type == 'scsi':
        adapter = (source or {}).get('adapter') or {}
        return adapter.get('type') == 'fc_host'
    return info['shared']
