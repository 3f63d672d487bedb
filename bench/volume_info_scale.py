# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How kvm.storage.volume_info scales with the number of volumes in a pool.

    .venv/bin/python bench/volume_info_scale.py [--sizes 500 1000 2000] [--repeat 2]

Fills a dir pool (kvmst-bench-scale) with raw 1 MiB sparse volumes through the direct
API, and at each size times an ansible-playbook run of volume_info with used_by true and
false.  The empty pool gives the fixed cost (ansible-playbook, one module run); the rest
is the cost per volume.  Linear growth gives a marginal ratio 2000/500 near 4; quadratic
near 16.  The pool and its volumes are removed at the end, also after a failure or Ctrl-C.
"""

import argparse
import re

import common

POOL = 'kvmst-bench-scale'
TARGET = '/var/tmp/kvmst-bench-scale'


def volume_info(used_by, expect):
    seconds, stdout = common.playbook('volume_info.yml', {'bench_pool': POOL, 'bench_used_by': used_by})
    found = re.search(r'"(\d+) volumes"', stdout)
    if not found or int(found.group(1)) != expect:
        raise RuntimeError('volume_info reported %s volumes, want %d' % (found and found.group(1), expect))
    return seconds


def measure(used_by, size, repeat):
    """Median wall seconds of the whole playbook and of the module process alone."""
    play = common.median([volume_info(used_by, size) for dummy in range(repeat)])
    path = common.module_file('volume_info.yml', {'bench_pool': POOL, 'bench_used_by': used_by}, 'volume_info')
    module = common.median([common.run_module(path) for dummy in range(repeat)])
    return {'playbook': play, 'module': module}


def growth(results, sizes, used_by, what):
    """time(largest)/time(smallest), raw and without the fixed cost (empty pool)."""
    small, large = sizes[1], sizes[-1]
    base = results[0][used_by][what]
    raw = results[large][used_by][what] / results[small][used_by][what]
    out = '%s: time(%d)/time(%d) = %.2f' % (what, large, small, raw)
    if results[small][used_by][what] - base < 0.1:
        return out + '; the per-volume time is too small against the noise to tell'
    net = (results[large][used_by][what] - base) / (results[small][used_by][what] - base)
    verdict = 'linear' if net < 1.5 * large / small else 'worse than linear'
    if net > 0.75 * (large / small) ** 2:
        verdict = 'quadratic'
    return out + ', without the fixed cost %.2f (linear %.0f, quadratic %.0f): %s' \
        % (net, large / small, (large / small) ** 2, verdict)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[500, 1000, 2000])
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    common.check_prerequisites()
    sizes = [0] + sorted(args.sizes)
    results = {}
    try:
        common.direct('setup', POOL, TARGET)
        volume_info(True, 0)  # warm-up, not counted
        for size in sizes:
            fill = common.direct('fill', POOL, size)[1]
            results[size] = dict((used_by, measure(used_by, size, args.repeat)) for used_by in (True, False))
            print('  %5d volumes (%d made in %.1f s): %s' % (size, fill['created'], fill['seconds'], ', '.join(
                'used_by %s playbook %.2f s module %.2f s' % (str(u).lower(), r['playbook'], r['module'])
                for u, r in results[size].items())), flush=True)
    finally:
        common.direct('teardown', POOL)

    print('\nkvm.storage.volume_info of a dir pool of raw 1 MiB volumes; median of %d; wall seconds.' % args.repeat)
    print('"module" is the module process alone (host Python, same arguments); "net" leaves out the empty pool\'s time.')
    print('%8s %8s %10s %10s %14s %14s' % ('volumes', 'used_by', 'playbook', 'module', 'playbook/vol', 'module net/vol'))
    for used_by in (True, False):
        base = results[0][used_by]['module']
        for size in sizes:
            r = results[size][used_by]
            print('%8d %8s %10.2f %10.2f %11.2f ms %11.2f ms' % (
                size, str(used_by).lower(), r['playbook'], r['module'],
                1000 * r['playbook'] / size if size else 0, 1000 * (r['module'] - base) / size if size else 0))
        for what in ('playbook', 'module'):
            print('  used_by %s, %s' % (str(used_by).lower(), growth(results, sizes, used_by, what)))
    return results


if __name__ == '__main__':
    main()
