# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Figures for the running-guest modules (not in `make bench`; run by hand, under the lab lock):
the time to move a 1 GiB disk (every byte written) of a running guest that writes numbered
records the whole time (kvm.storage.disk_move, dir pool to dir pool), and the throughput of
a full and an incremental backup of it (kvm.storage.disk_backup, qemu's own figures from
the backup's manifest and the module's wall time). Prints one JSON document with the load
average before and after; asserts nothing but that each run succeeded and the records are
intact. Objects `kvmst-bench-rg*`, files under /var/tmp/kvmst-bench-rg, removed at the end.

    flock -o /work/lab.lock .venv/bin/python bench/running_guest.py
"""

import json
import os
import re
import subprocess
import sys
import time

from common import ENV, REPO, check_prerequisites

BASE = '/var/tmp/kvmst-bench-rg'
GUEST = 'kvmst-bench-rg'
POOLS = {'kvmst-bench-rg-src': BASE + '/src', 'kvmst-bench-rg-dst': BASE + '/dst', 'kvmst-bench-rg-bk': BASE + '/bk'}
CONSOLE = BASE + '/guest.console.log'
SEQ_CHECK = os.path.join(REPO, 'tests', 'integration', 'files', 'seq_check.py')
ANSIBLE = os.path.join(os.path.dirname(sys.executable), 'ansible')


def sh(script):
    subprocess.run(['bash', '-c', 'set -euo pipefail\n' + script], check=True)


def quiet(*cmd):
    subprocess.run(list(cmd), capture_output=True, check=False)


def module(name, args):
    """(wall seconds, result) of one ad-hoc run of kvm.storage.<name>."""
    env = dict(ENV, ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1')
    start = time.perf_counter()
    proc = subprocess.run([ANSIBLE, 'lab', '-m', 'kvm.storage.' + name, '-a', json.dumps(args)], env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    result = json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']
    if result.get('failed') or not result.get('changed'):
        sys.exit('%s did not make its change: %s' % (name, result.get('msg') or result))
    return round(wall, 2), result


def last_record():
    with open(CONSOLE, errors='replace') as f:
        found = re.findall(r'kvmst-guest: seq (\d+)', f.read())
    return int(found[-1]) if found else -1


def wait_for(what, condition, tries=6000):
    for dummy in range(tries):
        if condition():
            return
        time.sleep(0.1)
    sys.exit('gave up waiting for %s' % what)


def clean():
    quiet('virsh', 'destroy', GUEST)
    quiet('virsh', 'undefine', '--checkpoints-metadata', GUEST)
    for name in POOLS:
        quiet('virsh', 'pool-destroy', name)
        quiet('virsh', 'pool-undefine', name)
    sh('rm -rf %s' % BASE)


def main():
    check_prerequisites()
    clean()
    out = {'load_before': open('/proc/loadavg').read().split()[:3]}
    try:
        for name, path in POOLS.items():
            sh('mkdir -p %s && virsh -q pool-define-as %s dir --target %s >/dev/null && virsh -q pool-start %s '
               '>/dev/null' % (path, name, path, name))
        # every byte of the 1 GiB disk holds data: the move copies all of it
        sh('qemu-img create -q -f qcow2 %s/src/vda.qcow2 1G && qemu-io -f qcow2 -c "write -P 0x5a 0 1G" '
           '%s/src/vda.qcow2 >/dev/null && virsh -q pool-refresh kvmst-bench-rg-src >/dev/null' % (BASE, BASE))
        disk = ("<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='kvmst-bench-rg-src' "
                "volume='vda.qcow2'/><target dev='vda' bus='virtio'/></disk>")
        sh('KVMST_GUEST_CONSOLE_LOG=%s %s/lab/guest/domain-xml.sh %s | sed -e "s|</cmdline>| kvmst.seq=vda</cmdline>|" '
           '-e "s|<devices>|<devices>%s|" > %s/guest.xml && virsh -q define %s/guest.xml >/dev/null && '
           'virsh -q start %s >/dev/null' % (CONSOLE, REPO, GUEST, disk, BASE, BASE, GUEST))
        wait_for('the guest to write', lambda: os.path.exists(CONSOLE) and last_record() >= 0)

        wall, result = module('disk_move', {'domain': GUEST, 'target': 'vda', 'to': {'pool': 'kvmst-bench-rg-dst'}})
        out['move_1GiB'] = {'wall_s': wall, 'MiB_per_s': round(1024 / wall, 1), 'actions': result['actions']}

        for mode in ('full', 'incremental'):
            if mode == 'incremental':
                seen = last_record()
                wait_for('the guest to write on', lambda: last_record() >= seen + 64)
            wall, result = module('disk_backup', {'domain': GUEST, 'name': mode, 'mode': mode,
                                                  'to': {'pool': 'kvmst-bench-rg-bk'}})
            manifest = '%s/bk/%s.%s.backup.json' % (BASE, GUEST, mode)
            with open(manifest) as f:
                job = json.load(f)['job']
            image = '%s/bk/%s.%s.vda.qcow2' % (BASE, GUEST, mode)
            out['backup_' + mode] = {
                'module_wall_s': wall, 'job_s': job['seconds'], 'job_bytes': job['bytes'],
                'job_MiB_per_s': round(job['bytes'] / 1048576.0 / job['seconds'], 1) if job['seconds'] else None,
                'image_MiB_on_disk': round(os.stat(image).st_blocks * 512 / 1048576.0, 1), 'mode': result['backup']['mode']}
        out['records_written'] = last_record()
        out['load_after'] = open('/proc/loadavg').read().split()[:3]
        quiet('virsh', 'destroy', GUEST)
        check = subprocess.run(['/usr/bin/python3', SEQ_CHECK, BASE + '/dst/vda.qcow2', CONSOLE], capture_output=True,
                               text=True, check=False)
        out['records_check'] = json.loads(check.stdout)
        print(json.dumps(out, indent=1))
        return 0 if out['records_check']['intact'] else 1
    finally:
        clean()


if __name__ == '__main__':
    sys.exit(main())
