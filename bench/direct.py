# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The direct libvirt API: the benchmarks' floor and their setup/cleanup helper.

Runs with the host's Python and its python3-libvirt, as the modules do:

    /usr/bin/python3 bench/direct.py setup POOL TARGET      fresh dir pool (an old one is removed first)
    /usr/bin/python3 bench/direct.py teardown POOL          delete its volumes, stop, delete and undefine it
    /usr/bin/python3 bench/direct.py clear POOL             delete every volume of the pool
    /usr/bin/python3 bench/direct.py apply POOL JSON        the floor: create the missing volumes of the list
                                                            in JSON ([{name, capacity, format}]); list once
    /usr/bin/python3 bench/direct.py fill POOL COUNT        raw 1 MiB sparse volumes kvmst-bench-00000.raw...
                                                            up to COUNT volumes in all
    /usr/bin/python3 bench/direct.py guests PREFIX FILE     define the guests of FILE (JSON: {xml: a domain XML
                                                            with NAME for its name, names: [...]}), not started
    /usr/bin/python3 bench/direct.py drop PREFIX            undefine every guest and remove every pool (volumes,
                                                            target directory) whose name starts with PREFIX
    /usr/bin/python3 bench/direct.py floor - FILE           the floor of a no-op: read what FILE (JSON: {pools:
                                                            [names], volumes: [[pool, name]], guests: [names]})
                                                            declares - one pool listing, one volume listing per
                                                            pool, each declared volume's XML, each guest's live
                                                            and persistent XML - and compare nothing more

Each command prints one JSON line; ``seconds`` is the time spent after connecting.
"""

import json
import sys
import time
import xml.etree.ElementTree as ET

import libvirt

URI = 'qemu:///system'


def volume_xml(name, capacity, fmt, allocation=0):
    vol = ET.Element('volume')
    ET.SubElement(vol, 'name').text = name
    ET.SubElement(vol, 'capacity', unit='bytes').text = str(capacity)
    ET.SubElement(vol, 'allocation', unit='bytes').text = str(allocation)
    target = ET.SubElement(vol, 'target')
    ET.SubElement(target, 'format', type=fmt)
    if fmt == 'qcow2':
        ET.SubElement(target, 'compat').text = '1.1'  # as kvm.storage.volume writes it
    return ET.tostring(vol, encoding='unicode')


def lookup(conn, name):
    try:
        return conn.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        return None


def clear(conn, name):
    pool = lookup(conn, name)
    if pool is None or not pool.isActive():
        return 0
    vols = pool.listAllVolumes(0)
    for vol in vols:
        vol.delete(0)
    return len(vols)


def teardown(conn, name):
    pool = lookup(conn, name)
    if pool is None:
        return {'removed': False}
    deleted = clear(conn, name)
    if pool.isActive():
        pool.destroy()
    try:
        pool.delete(libvirt.VIR_STORAGE_POOL_DELETE_NORMAL)  # rmdir of the (now empty) target
    except libvirt.libvirtError:
        pass  # never built
    pool.undefine()
    return {'removed': True, 'volumes_deleted': deleted}


def setup(conn, name, target):
    teardown(conn, name)
    xml = ET.Element('pool', type='dir')
    ET.SubElement(xml, 'name').text = name
    ET.SubElement(ET.SubElement(xml, 'target'), 'path').text = target
    pool = conn.storagePoolDefineXML(ET.tostring(xml, encoding='unicode'), 0)
    pool.build(0)  # mkdir of the target
    pool.create(0)
    return {'pool': name, 'target': target}


def apply(conn, name, wanted):
    """Desired state of a list of volumes: one listing, then createXML for the missing ones."""
    pool = conn.storagePoolLookupByName(name)
    have = set(vol.name() for vol in pool.listAllVolumes(0))
    created = 0
    for item in wanted:
        if item['name'] not in have:
            pool.createXML(volume_xml(item['name'], item['capacity'], item['format']), 0)
            created += 1
    return {'created': created, 'changed': created > 0}


def fill(conn, name, count):
    pool = conn.storagePoolLookupByName(name)
    have = set(vol.name() for vol in pool.listAllVolumes(0))
    created = 0
    for i in range(count):
        vol_name = 'kvmst-bench-%05d.raw' % i
        if vol_name not in have:
            pool.createXML(volume_xml(vol_name, 1024 * 1024, 'raw'), 0)
            created += 1
    return {'created': created, 'volumes': count}


def guests(conn, prefix, spec):
    made = 0
    for name in spec['names']:
        assert name.startswith(prefix)
        conn.defineXML(spec['xml'].replace('NAME', name))
        made += 1
    return {'defined': made}


def drop(conn, prefix):
    """Every guest and pool of ``prefix`` gone (the bench's own objects only)."""
    assert prefix.startswith('kvmst-bench')
    dropped = {'guests': 0, 'pools': 0}
    for dom in conn.listAllDomains(0):
        if dom.name().startswith(prefix):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
            dropped['guests'] += 1
    for pool in conn.listAllStoragePools(0):
        if pool.name().startswith(prefix):
            if not pool.isActive():
                pool.create(0)
            teardown(conn, pool.name())
            dropped['pools'] += 1
    return dropped


def floor(conn, spec):
    """What any tool must read to know that nothing needs doing: one listing per kind, the
    XML of each declared volume and guest."""
    pools = dict((p.name(), p) for p in conn.listAllStoragePools(0))
    wanted = {}
    for pool, name in spec.get('volumes', []):
        wanted.setdefault(pool, set()).add(name)
    seen = 0
    for name in spec.get('pools', []):
        pool = pools[name]
        pool.XMLDesc(0)
        for vol in pool.listAllVolumes(0):
            if vol.name() in wanted.get(name, ()):
                ET.fromstring(vol.XMLDesc(0))
                seen += 1
    for name in spec.get('guests', []):
        dom = conn.lookupByName(name)
        ET.fromstring(dom.XMLDesc(0))
        ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    return {'volumes_read': seen, 'guests_read': len(spec.get('guests', []))}


def main(argv):
    command, pool = argv[1], argv[2]
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # errors are raised, not printed
    conn = libvirt.open(URI)
    start = time.perf_counter()
    if command == 'setup':
        out = setup(conn, pool, argv[3])
    elif command == 'teardown':
        out = teardown(conn, pool)
    elif command == 'clear':
        out = {'volumes_deleted': clear(conn, pool)}
    elif command == 'apply':
        out = apply(conn, pool, json.loads(argv[3]))
    elif command == 'fill':
        out = fill(conn, pool, int(argv[3]))
    elif command == 'guests':
        with open(argv[3]) as f:
            out = guests(conn, pool, json.load(f))
    elif command == 'drop':
        out = drop(conn, pool)
    elif command == 'floor':
        with open(argv[3]) as f:
            out = floor(conn, json.load(f))
    else:
        raise SystemExit('unknown command %s' % command)
    out['seconds'] = round(time.perf_counter() - start, 4)
    conn.close()
    print(json.dumps(out))


if __name__ == '__main__':
    main(sys.argv)
