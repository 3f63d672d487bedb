# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Clean copies and release artifacts of the collection.

``tree DEST``  copies the files git knows (tracked, and untracked but not ignored, so work
               in progress is included) to DEST/ansible_collections/kvm/storage. Tools that
               walk a collection (antsibull-docs lint, ansible-galaxy build) must never see
               the checkout itself: its .venv symlink and .cache hold gigabytes.
``build OUT``  makes such a tree, turns the changelog fragments into the release named by
               galaxy.yml's version (CHANGELOG.rst and changelogs/changelog.yaml in the copy
               only, so the checkout keeps its fragments for later changes), and runs
               ``ansible-galaxy collection build`` into OUT. Prints the artifact's path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def _tool(name):
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else name


def git_files(repo=REPO):
    out = subprocess.run(['git', '-C', repo, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                         capture_output=True, check=True).stdout.decode()
    # --cached also lists files deleted in the working tree but not yet committed.
    return sorted(f for f in set(out.split('\0')) if f and os.path.lexists(os.path.join(repo, f)))


def copy_tree(dest, repo=REPO):
    """Copy the git-known files to DEST/ansible_collections/kvm/storage; return that path."""
    root = os.path.join(dest, 'ansible_collections', 'kvm', 'storage')
    if os.path.exists(root):
        shutil.rmtree(root)
    for rel in git_files(repo):
        target = os.path.join(root, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(repo, rel), target, follow_symlinks=False)
    return root


def galaxy_version(tree):
    with open(os.path.join(tree, 'galaxy.yml'), encoding='utf-8') as handle:
        for line in handle:
            if line.startswith('version:'):
                return line.split(':', 1)[1].strip().strip('"\'')
    raise SystemExit('galaxy.yml has no version')


def _env(tree):
    # antsibull-changelog lists the new modules with ansible-doc: the virtualenv's, over
    # the copy only.
    env = dict(os.environ)
    env['PATH'] = BIN + os.pathsep + env.get('PATH', '')
    env['ANSIBLE_COLLECTIONS_PATH'] = os.path.dirname(os.path.dirname(os.path.dirname(tree)))
    env['ANSIBLE_COLLECTIONS_SCAN_SYS_PATH'] = 'false'
    return env


def release_changelog(tree):
    """Lint the fragments, then release them as galaxy.yml's version (in TREE only)."""
    changelog = _tool('antsibull-changelog')
    subprocess.run([changelog, 'lint'], cwd=tree, env=_env(tree), check=True)
    subprocess.run([changelog, 'release', '--version', galaxy_version(tree)], cwd=tree, env=_env(tree), check=True)


def build(out, tree):
    os.makedirs(out, exist_ok=True)
    subprocess.run([_tool('ansible-galaxy'), 'collection', 'build', '--force', '--output-path', out, tree],
                   env=_env(tree), check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out, 'kvm-storage-%s.tar.gz' % galaxy_version(tree))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('tree').add_argument('dest')
    sub.add_parser('build').add_argument('out')
    args = parser.parse_args(argv)
    if args.command == 'tree':
        print(copy_tree(os.path.abspath(args.dest)))
        return 0
    out = os.path.abspath(args.out)
    tree = copy_tree(os.path.join(out, 'tree'))
    release_changelog(tree)
    print(build(out, tree))
    return 0


if __name__ == '__main__':
    sys.exit(main())
