# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One plan per host: the cost of a re-run that changes nothing, against an empty play
(`ansible lab -m ping`) and the direct-API floor measured in the same run.

    .venv/bin/python bench/host_storage.py [--repeat 3] [--sizes 1000 2000 5000] [--only roles|scale]

(1) the guest_disks role over 20 defined guests x 3 disks (one host_storage call);
(2) the host_profile role, local profile: 2 dir pools, a template and 50 linked clones
    (with the role's report, one pool_info call more, and without it);
(3) kvm.storage.host_storage over 1,000 declared objects (10 pools, 900 volumes, 30
    guests x 3 disks), then 2,000 and 5,000 (the pools and guests stay, the volumes grow)
    to show how the no-op grows.
Every object is made by a first (untimed) apply of the same playbook, which must change
something; every timed re-run must change nothing. Times are wall seconds, median of the
repeats; nothing asserts on them. Everything is named kvmst-bench-hs* and removed at the
end, also after a failure.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import time

import common

PREFIX = 'kvmst-bench-hs'
ROOT = '/var/tmp/kvmst-bench-hs'


def empty_play():
    """The fixed cost of any Ansible run against the host: `ansible lab -m ping`."""
    start = time.perf_counter()
    proc = subprocess.run([os.path.join(os.path.dirname(common.PLAYBOOK), 'ansible'), 'lab', '-m', 'ansible.builtin.ping'],
                          env=common.ENV, cwd=common.REPO, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError('ansible -m ping failed: %s' % proc.stdout[-2000:])
    return time.perf_counter() - start


def define_guests(names):
    xml = subprocess.run([os.path.join(common.REPO, 'lab', 'guest', 'domain-xml.sh'), PREFIX + '-tpl'],
                         capture_output=True, text=True, check=True).stdout
    common.direct('guests', PREFIX, common.json_file({'xml': xml.replace(PREFIX + '-tpl', 'NAME'), 'names': names}))


def apply(name, extra, must_change):
    seconds, stdout = common.playbook(name, extra)
    changed = common.recap_changed(stdout)
    if must_change is not None and (changed != 0) != must_change:
        raise RuntimeError('%s: changed=%s, expected %s\n%s' % (name, changed, 'a change' if must_change else 'none',
                                                                stdout[-3000:]))
    return seconds


def floor(spec):
    return common.direct('floor', '-', common.json_file(spec))[0]


def timed(label, fn, repeat):
    runs = [fn() for dummy in range(repeat)]
    print('  %-58s %s' % (label, ' '.join('%6.2f' % r for r in runs)), flush=True)
    return common.median(runs)


def paired(label, fn, repeat):
    """Each run right after an empty play, so that both see the same load on this shared
    machine: {seconds, empty, over} as medians of the runs, the paired empty plays and the
    per-pair differences."""
    pairs = []
    for dummy in range(repeat):
        empty = empty_play()
        pairs.append((fn(), empty))
    print('  %-58s %s' % (label, ' '.join('%6.2f (empty %4.2f)' % p for p in pairs)), flush=True)
    return {'seconds': common.median([p[0] for p in pairs]), 'empty': common.median([p[1] for p in pairs]),
            'over': common.median([p[0] - p[1] for p in pairs])}


# --- the scenarios ------------------------------------------------------------------------

def guest_disks_bench(repeat):
    guests = ['%s-gd-%02d' % (PREFIX, i) for i in range(20)]
    os.makedirs(ROOT + '/gd', exist_ok=True)
    define_guests(guests)
    disks = {}
    for g in guests:
        disks[g] = []
        for j, bus in enumerate(('virtio', 'virtio', 'sata')):
            path = '%s/gd/%s-%d.raw' % (ROOT, g, j)
            with open(path, 'wb') as f:
                f.truncate(1 << 20)
            disks[g].append({'source': {'file': path}, 'bus': bus, 'format': 'raw'})
    extra = {'bench_guests': disks}
    apply('guest_disks.yml', extra, True)
    apply('guest_disks.yml', extra, False)      # warm-up of the no-op, not counted
    return {
        'role': paired('guest_disks re-run (20 guests x 3 disks)', lambda: apply('guest_disks.yml', extra, False),
                       repeat),
        'floor': timed('direct API: read the 20 guests', lambda: floor({'guests': guests}), repeat),
    }


def host_profile_bench(repeat):
    src = ROOT + '/hp-src/tpl.qcow2'
    os.makedirs(os.path.dirname(src), exist_ok=True)
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', src, '64M'], check=True)
    prefix = PREFIX + '-hp-'
    extra = {'bench_prefix': prefix, 'bench_root': ROOT + '/hp', 'bench_report': True,
             'bench_templates': [{'name': 'tpl.qcow2', 'import_from': src}],
             'bench_clones': [{'name': 'clone-%02d.qcow2' % i, 'template': 'tpl.qcow2'} for i in range(50)]}
    apply('host_profile_local.yml', extra, True)
    apply('host_profile_local.yml', extra, False)
    quiet = dict(extra, bench_report=False)
    volumes = [[prefix + 'images', 'tpl.qcow2']] + [[prefix + 'images', c['name']] for c in extra['bench_clones']]
    return {
        'role': paired('host_profile local re-run (2 pools, template, 50 clones)',
                       lambda: apply('host_profile_local.yml', extra, False), repeat),
        'role_no_report': paired('  the same without the report (host_profile_report: false)',
                                 lambda: apply('host_profile_local.yml', quiet, False), repeat),
        'floor': timed('direct API: read the 2 pools and 51 volumes',
                       lambda: floor({'pools': [prefix + 'images', prefix + 'isos'], 'volumes': volumes}), repeat),
    }


def scale_spec(total, guests):
    """10 pools, 3 disks per guest, the rest volumes (spread over the pools); the guests'
    disks are the first volumes of the pools."""
    pools = [{'name': '%s-p%d' % (PREFIX, i), 'type': 'dir', 'target': {'path': '%s/p%d' % (ROOT, i)}}
             for i in range(10)]
    count = total - len(pools) - 3 * len(guests)
    volumes = [{'pool': pools[i % 10]['name'], 'name': 'v%05d.raw' % i, 'capacity': '1MiB', 'format': 'raw'}
               for i in range(count)]
    disks = [{'domain': g, 'source': {'volume': {'pool': volumes[3 * n + j]['pool'],
                                                 'name': volumes[3 * n + j]['name']}}}
             for n, g in enumerate(guests) for j in range(3)]
    return {'pools': pools, 'volumes': volumes, 'disks': disks}


def scale_bench(sizes, repeat):
    guests = ['%s-sc-%02d' % (PREFIX, i) for i in range(30)]
    define_guests(guests)
    out = {}
    for total in sizes:
        spec = scale_spec(total, guests)
        extra = {'bench_spec': spec}
        made = apply('host_storage.yml', extra, True)
        print('  %d objects made in %.1f s (first apply, not counted)' % (total, made), flush=True)
        kept = common.module_file('host_storage.yml', extra, 'host_storage')   # also the warm-up of the no-op
        out[total] = {
            'noop': paired('host_storage no-op, %d objects' % total, lambda: apply('host_storage.yml', extra, False),
                           repeat),
            # the module process alone (the AnsiballZ file Ansible ships, run with the host's Python):
            # what the no-op costs on the host, without ansible-playbook around it
            'module': timed('  the module process alone', lambda: common.run_module(kept), repeat),
            'floor': timed('direct API: read the same %d objects' % total, lambda: floor({
                'pools': [p['name'] for p in spec['pools']],
                'volumes': [[v['pool'], v['name']] for v in spec['volumes']], 'guests': guests}), repeat),
        }
    return out


def report(results, sizes):
    print('\nmedian wall seconds. Each run is paired with an empty play (ansible lab -m ping) run just before it;'
          ' "over empty" is the median of the per-pair differences (the load of this shared machine moves both).')
    print('empty play alone: %.2f s at the start, %.2f s at the end' % (results['empty'], results['empty_after']))
    print('%-46s %8s %8s %11s %8s %10s' % ('run', 'seconds', 'empty', 'over empty', '/ empty', 'floor'))

    def row(label, r, floor_s):
        print('%-46s %8.2f %8.2f %11.2f %8.2f %10.3f' % (label, r['seconds'], r['empty'], r['over'],
                                                         r['seconds'] / r['empty'], floor_s))
    if 'guest_disks' in results:
        r = results['guest_disks']
        row('guest_disks re-run, 20 guests x 3 disks', r['role'], r['floor'])
    if 'host_profile' in results:
        r = results['host_profile']
        row('host_profile local re-run (report on)', r['role'], r['floor'])
        row('host_profile local re-run (report off)', r['role_no_report'], r['floor'])
    if 'scale' in results:
        for total in sizes:
            r = results['scale'][total]
            row('host_storage no-op, %d objects' % total, r['noop'], r['floor'])
            print('%-46s %8.2f' % ('  the module process alone', r['module']))
        first, last = sizes[0], sizes[-1]
        net = [results['scale'][s]['noop']['over'] for s in (first, last)]
        if net[0] > 0:
            print('growth of the no-op over the empty play, %d -> %d objects: x%.2f (linear x%.1f)'
                  % (first, last, net[1] / net[0], last / first))
        if len(sizes) > 1:
            per = (net[1] - net[0]) / (last - first)
            print('marginal cost per object between %d and %d: %.2f ms' % (first, last, 1000 * per))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--sizes', type=int, nargs='+', default=[1000, 2000, 5000])
    parser.add_argument('--only', choices=['roles', 'scale'])
    args = parser.parse_args()
    common.check_prerequisites()
    sizes = sorted(args.sizes)
    results = {}
    try:
        common.direct('drop', PREFIX)
        subprocess.run(['rm', '-rf', ROOT], check=True)
        empty_play()    # warm-up, not counted
        results['empty'] = timed('empty play (ansible lab -m ping)', empty_play, args.repeat)
        if args.only in (None, 'roles'):
            results['guest_disks'] = guest_disks_bench(args.repeat)
            results['host_profile'] = host_profile_bench(args.repeat)
        if args.only in (None, 'scale'):
            results['scale'] = scale_bench(sizes, args.repeat)
        results['empty_after'] = timed('empty play again (drift of the machine)', empty_play, args.repeat)
    finally:
        common.direct('drop', PREFIX)
        subprocess.run(['rm', '-rf', ROOT], check=False)
    report(results, sizes)
    os.makedirs(os.path.join(common.BENCH, 'results'), exist_ok=True)
    path = os.path.join(common.BENCH, 'results', 'host_storage-%s.json' % datetime.date.today().isoformat())
    with open(path, 'w') as f:
        json.dump({'date': datetime.datetime.now().isoformat(timespec='seconds'), 'host': platform.node(),
                   'cpus': os.cpu_count(), 'load_average': os.getloadavg(), 'repeat': args.repeat,
                   'results': results}, f, indent=2, default=str)
        f.write('\n')
    print('results: %s' % os.path.relpath(path, common.REPO))


if __name__ == '__main__':
    main()
