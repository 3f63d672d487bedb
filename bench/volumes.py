# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Create N qcow2 volumes, then apply again (no-op): kvm.storage.volume against the peer
and the direct-API floor.  Prints a table and writes bench/results/volumes-<date>.json.

    .venv/bin/python bench/volumes.py [--count 50] [--repeat 3]

(a) kvm.storage.volume, batch form (one task, `volumes:`)
(b) kvm.storage.volume, one task per volume (`loop:`)
(c) community.libvirt.virt_volume in a loop (the peer, from the `ansible` package)
(d) the direct libvirt API in one /usr/bin/python3 process (the floor)
Plus the cost of one task: ansible-playbook with one kvm.storage.pool_info.
Times are wall-clock seconds, median of the repeats; nothing asserts on them.
"""

import argparse
import datetime
import json
import os
import platform

import common

CAPACITY = 64 * 1024 * 1024
VARIANTS = [
    ('a', 'kvm.storage.volume batch', 'volumes_batch.yml'),
    ('b', 'kvm.storage.volume loop', 'volumes_loop.yml'),
    ('c', 'community.libvirt.virt_volume loop', 'volumes_peer.yml'),
    ('d', 'direct libvirt API (floor)', None),
]


def apply(playbook, volumes):
    """One apply; returns (seconds, changed) where changed is True when something was made."""
    if playbook is None:
        seconds, out = common.direct('apply', common.POOL, json.dumps(volumes))
        return seconds, out['changed']
    seconds, stdout = common.playbook(playbook, {'bench_pool': common.POOL, 'bench_volumes': volumes})
    return seconds, common.recap_changed(stdout) != 0


def measure(volumes, repeat):
    times = dict((key, {'first': [], 'again': []}) for key, dummy, dummy in VARIANTS)
    times['one_task'] = []
    common.playbook('one_task.yml', {'bench_pool': common.POOL})  # warm-up (caches), not counted
    for round_ in range(repeat):
        seconds = common.playbook('one_task.yml', {'bench_pool': common.POOL})[0]
        times['one_task'].append(seconds)
        print('  round %d  one task (pool_info)                        %6.2f s' % (round_ + 1, seconds), flush=True)
        for key, label, playbook in VARIANTS:
            common.direct('clear', common.POOL)                      # not counted
            first, changed = apply(playbook, volumes)
            again, changed_again = apply(playbook, volumes)
            count = common.direct('clear', common.POOL)[1]['volumes_deleted']
            if not changed or changed_again or count != len(volumes):
                raise RuntimeError('%s: first apply changed=%s, re-apply changed=%s, %d volumes made (want %d)'
                                   % (label, changed, changed_again, count, len(volumes)))
            times[key]['first'].append(first)
            times[key]['again'].append(again)
            print('  round %d  (%s) %-36s first %6.2f s  re-apply %6.2f s' % (round_ + 1, key, label, first, again), flush=True)
    return times


def report(times, count, repeat):
    med = dict((key, {'first': common.median(t['first']), 'again': common.median(t['again'])})
               for key, t in times.items() if key != 'one_task')
    one_task = common.median(times['one_task'])
    a, b, c, d = med['a'], med['b'], med['c'], med['d']
    print('\n%d qcow2 volumes of 64 MiB in a dir pool; median of %d; seconds (wall)' % (count, repeat))
    print('%-42s %10s %10s' % ('variant', 'first', 're-apply'))
    for key, label, dummy in VARIANTS:
        print('%-42s %10.2f %10.2f' % ('(%s) %s' % (key, label), med[key]['first'], med[key]['again']))
    print('%-42s %10.2f' % ('one task (ansible-playbook + pool_info)', one_task))
    ratios = {}
    for name, num, den in (('(a)/(d)', a, d), ('(a)/(c)', a, c), ('(b)/(a)', b, a)):
        ratios[name] = {'first': num['first'] / den['first'], 'again': num['again'] / den['again']}
        print('%-42s %10.2f %10.2f' % (name, ratios[name]['first'], ratios[name]['again']))
    floor_plus_task = d['again'] + one_task
    ratios['(a) re-apply / (floor re-apply + one task)'] = a['again'] / floor_plus_task
    print('(a) re-apply %.2f s vs floor + one task %.2f + %.2f = %.2f s: x%.2f'
          % (a['again'], d['again'], one_task, floor_plus_task, a['again'] / floor_plus_task))
    return {'median': med, 'one_task': one_task, 'ratios': ratios}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--count', type=int, default=50)
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    common.check_prerequisites(peer=True)
    volumes = [{'name': 'kvmst-bench-%03d.qcow2' % i, 'capacity': str(CAPACITY), 'format': 'qcow2'}
               for i in range(args.count)]
    try:
        common.direct('setup', common.POOL, common.TARGET)
        times = measure(volumes, args.repeat)
    finally:
        common.direct('teardown', common.POOL)
    summary = report(times, args.count, args.repeat)
    os.makedirs(os.path.join(common.BENCH, 'results'), exist_ok=True)
    path = os.path.join(common.BENCH, 'results', 'volumes-%s.json' % datetime.date.today().isoformat())
    with open(path, 'w') as f:
        json.dump({'date': datetime.datetime.now().isoformat(timespec='seconds'), 'host': platform.node(),
                   'cpus': os.cpu_count(), 'load_average': os.getloadavg(), 'count': args.count, 'capacity': CAPACITY, 'format': 'qcow2',
                   'repeat': args.repeat, 'runs': times, 'summary': summary}, f, indent=2)
        f.write('\n')
    print('results: %s' % os.path.relpath(path, common.REPO))


if __name__ == '__main__':
    main()
