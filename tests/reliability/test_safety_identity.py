# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who uses an image is decided by the file itself, not by the spelling of its path (the
identity rule of the safety guide). Each case names one image in a way libvirt's listing
does not (a symlinked folder, ``//``, ``/./``, a backing file named through a link, an
overlay in a stopped pool or outside every pool), asks for a delete, shrink, wipe or
snapshot revert without ``force``, and proves by sha256 that the data stayed.

All of these lost data before the usage checks compared identities (string compare of the
top source of each disk, volumes of running pools only). Objects are named
``kvmst-rel-id-...``; files live under /var/lib/kvmst-rel-id; the module's teardown
removes them.
"""

from __future__ import annotations

import os

import pytest

from conftest import REPO, assert_clean_failure, drop_guest, drop_pool, read_sha, sh, virsh, write_pattern

P = 'kvmst-rel-id-'
BASE = '/var/lib/kvmst-rel-id'
REAL = BASE + '/real'       # the pool's folder
LINK = BASE + '/link'       # a symlink to it: /var/lib/libvirt/images -> /srv/big/images
POOL = P + 'pool'
COLD = P + 'cold'           # a stopped pool holding an overlay
OUTSIDE = BASE + '/outside'  # images in no pool at all


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    """The pool (target: the real folder), its symlink, a stopped pool and a folder outside
    every pool. Made with virsh and qemu-img: the module is what is tested."""
    sh('rm -rf {b} && mkdir -p {r} {b}/cold {o} && ln -s {r} {l}'.format(b=BASE, r=REAL, l=LINK, o=OUTSIDE))
    for name, path in ((POOL, REAL), (COLD, BASE + '/cold')):
        sh('virsh -q pool-define-as %s dir --target %s >/dev/null && virsh -q pool-start %s >/dev/null'
           % (name, path, name))
    yield tmp_path_factory.mktemp('identity')
    for guest in ('spell', 'chain', 'run'):
        drop_guest(P + guest)
    drop_pool(POOL)
    drop_pool(COLD)
    sh('rm -rf %s' % BASE, check=False)


def image(path, fmt='raw', backing=None, work=None):
    """A new image with a seeded pattern (a backed overlay keeps its backing file's data)."""
    if backing:
        sh('qemu-img create -q -f qcow2 -b %s -F %s %s' % (backing[0], backing[1], path))
        return None
    sh('qemu-img create -q -f %s %s 32M' % (fmt, path))
    return write_pattern(path, fmt, os.path.basename(path), work)


def define_guest(name, disks, work):
    """A defined (not running) lab guest with ``disks``: [(file as the guest names it,
    target, driver format)]."""
    xml = sh('%s/lab/guest/domain-xml.sh %s' % (REPO, name))
    devices = ''.join("<disk type='file' device='disk'><driver name='qemu' type='%s'/><source file='%s'/>"
                      "<target dev='%s' bus='virtio'/></disk>" % (fmt, path, dev) for path, dev, fmt in disks)
    xml = xml.replace('</devices>', devices + '</devices>', 1)
    path = os.path.join(str(work), name + '.xml')
    with open(path, 'w') as f:
        f.write(xml)
    sh('virsh -q define %s >/dev/null' % path)


def refresh():
    sh('virsh -q pool-refresh %s >/dev/null' % POOL)


def refused(run_module, module, args, *words):
    result = run_module(module, args)
    assert_clean_failure(result, *words)
    return result


def test_guest_names_a_volume_another_way(run_module, lab):
    """A defined guest names three pool volumes through the symlinked folder, with ``//``
    and with ``/./``; none may be deleted, wiped or shrunk."""
    work = lab
    sums = dict((n, image('%s/%s' % (REAL, n), work=work)) for n in ('linked.raw', 'slashes.raw', 'dotted.raw'))
    refresh()
    define_guest(P + 'spell', [(LINK + '/linked.raw', 'vdb', 'raw'), (REAL + '//slashes.raw', 'vdc', 'raw'),
                               (REAL + '/./dotted.raw', 'vdd', 'raw')], work)
    for name in sums:
        for extra in ({'state': 'absent'}, {'state': 'absent', 'wipe': 'zero'},
                      {'capacity': '16MiB', 'allow_shrink': True}):
            refused(run_module, 'volume', dict({'pool': POOL, 'name': name}, **extra),
                    name, 'used by guest(s) %sspell' % P, 'force: true')
        assert read_sha('%s/%s' % (REAL, name), 'raw', work) == sums[name], name
    # The guest names the file; the pool lists it under the real folder: both are one volume.
    listed = run_module('volume_info', {'pool': POOL, 'name': 'linked.raw', 'used_by': True})
    assert listed['volumes'][0]['used_by'] == [P + 'spell'], listed


def test_backing_chains_in_every_place(run_module, lab):
    """A template in the pool is the backing file of: an overlay that names it through the
    symlink, an overlay in a stopped pool, and an overlay outside every pool that a defined
    guest uses. It may not be deleted, wiped, shrunk or reverted to a snapshot; once
    nothing holds it, it may."""
    work = lab
    tpl = REAL + '/tpl.qcow2'
    want = image(tpl, 'qcow2', work=work)
    sh('qemu-img snapshot -c before %s' % tpl)
    linked = REAL + '/through-link.qcow2'
    image(linked, backing=(LINK + '/tpl.qcow2', 'qcow2'))
    refresh()
    asks = [{'state': 'absent'}, {'state': 'absent', 'wipe': 'zero'}, {'capacity': '16MiB', 'allow_shrink': True}]
    for extra in asks:
        refused(run_module, 'volume', dict({'pool': POOL, 'name': 'tpl.qcow2'}, **extra),
                'tpl.qcow2', 'backing file of %s' % linked)
    refused(run_module, 'volume_snapshot', {'pool': POOL, 'volume': 'tpl.qcow2', 'name': 'before',
                                            'state': 'reverted'}, 'backing file of %s' % linked)
    sh('rm -f %s' % linked)

    # An overlay in a pool that is not running: libvirt lists nothing of it.
    cold = BASE + '/cold/cold.qcow2'
    image(cold, backing=(tpl, 'qcow2'))
    virsh('pool-destroy', COLD)
    refresh()
    refused(run_module, 'volume', {'pool': POOL, 'name': 'tpl.qcow2', 'state': 'absent'}, 'backing file of %s' % cold)
    sh('rm -f %s' % cold)

    # An overlay outside every pool, used by a defined guest through a two-level chain.
    mid, top = OUTSIDE + '/mid.qcow2', OUTSIDE + '/top.qcow2'
    image(mid, backing=(LINK + '/tpl.qcow2', 'qcow2'))
    image(top, backing=('mid.qcow2', 'qcow2'))
    define_guest(P + 'chain', [(top, 'vdb', 'qcow2')], work)
    refused(run_module, 'volume', {'pool': POOL, 'name': 'tpl.qcow2', 'state': 'absent'},
            'used by guest(s) %schain (through %s)' % (P, top))
    refused(run_module, 'volume_snapshot', {'pool': POOL, 'volume': 'tpl.qcow2', 'name': 'before',
                                            'state': 'reverted'}, 'backing file of')
    assert read_sha(tpl, 'qcow2', work) == want
    assert read_sha(top, 'qcow2', work) == want  # the guest's disk reads through to the template

    # Nothing holds it any more: the same request now deletes it (no refusal for its own sake).
    drop_guest(P + 'chain')
    sh('rm -f %s %s' % (mid, top))
    gone = run_module('volume', {'pool': POOL, 'name': 'tpl.qcow2', 'state': 'absent'})
    assert gone.get('changed') and not gone.get('failed'), gone


def test_running_guest_through_an_outside_overlay(run_module, lab):
    """A running guest whose disk is an overlay outside every pool, on a template of the
    pool named through the symlink: the template stays."""
    from conftest import start_guest
    work = lab
    tpl = REAL + '/run-tpl.qcow2'
    want = image(tpl, 'qcow2', work=work)
    top = OUTSIDE + '/run-top.qcow2'
    image(top, backing=(LINK + '/run-tpl.qcow2', 'qcow2'))
    refresh()
    guest = P + 'run'
    start_guest(guest, str(work))
    sh('virsh -q attach-disk %s %s vdb --driver qemu --subdriver qcow2 --live >/dev/null' % (guest, top))
    refused(run_module, 'volume', {'pool': POOL, 'name': 'run-tpl.qcow2', 'state': 'absent', 'wipe': 'zero'},
            'used by guest(s) %s (through %s)' % (guest, top))
    assert read_sha(tpl, 'qcow2', work) == want
