# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the records a lab guest booted with ``kvmst.seq=<disk>`` wrote (lab/guest/initrd.sh):
record N is ``kvmst-seq <N, 8 digits>`` at byte N*4096.

    seq_check.py IMAGE CONSOLE_LOG      check the records on IMAGE
    seq_check.py --where GUEST TARGET  print the image disk TARGET of GUEST uses now (running
                                       guest) or names in its definition (stopped guest)

IMAGE is what the guest's disk is now (any format, its whole backing chain is read through
qemu-img); CONSOLE_LOG holds the guest's ``kvmst-guest: seq N`` lines, each saying records
0..N were on the disk (fsync'ed). Prints one JSON line; exit 1 when a record up to the last
reported one is missing or wrong."""

import json
import os
import re
import subprocess
import sys
import tempfile

RECORD = 4096


def where(guest, target):
    import libvirt
    import xml.etree.ElementTree as ET
    conn = libvirt.open('qemu:///system')
    root = ET.fromstring(conn.lookupByName(guest).XMLDesc(0))
    for disk in root.findall('devices/disk'):
        if disk.find('target').get('dev') != target:
            continue
        src = disk.find('source')
        if disk.get('type') == 'volume':
            return conn.storagePoolLookupByName(src.get('pool')).storageVolLookupByName(src.get('volume')).path()
        if disk.get('type') == 'network':
            host = src.find('host').get('name')
            return '%s://%s/%s' % (src.get('protocol'), host, src.get('name'))
        return src.get('file') or src.get('dev')
    raise SystemExit('guest %s has no disk %s' % (guest, target))


def main(image, console):
    with open(console, errors='replace') as f:
        reported = [int(n) for n in re.findall(r'kvmst-guest: seq (\d+)', f.read())]
    last = max(reported) if reported else -1
    with tempfile.TemporaryDirectory(prefix='kvmst-seq-') as tmp:
        raw = os.path.join(tmp, 'disk.raw')
        subprocess.run(['qemu-img', 'convert', '-U', '-O', 'raw', image, raw], check=True)
        bad = []
        count = 0
        with open(raw, 'rb') as f:
            n = 0
            while True:
                f.seek(n * RECORD)
                want = ('kvmst-seq %08d\n' % n).encode()
                data = f.read(len(want))
                if data != want:
                    if n <= last:
                        bad.append(n)
                        if len(bad) < 20:
                            n += 1
                            continue
                    break
                count += 1
                n += 1
    result = {'image': image, 'reported': last, 'records': count, 'bad': bad[:20], 'intact': not bad and last >= 0}
    print(json.dumps(result))
    return 0 if result['intact'] else 1


if __name__ == '__main__':
    if sys.argv[1] == '--where':
        print(where(sys.argv[2], sys.argv[3]))
        sys.exit(0)
    sys.exit(main(sys.argv[1], sys.argv[2]))
