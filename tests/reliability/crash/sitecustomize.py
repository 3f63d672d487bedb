# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only crash points for test_crash_points.py: never shipped, loaded only when the
test puts this folder on PYTHONPATH for one module run (Python imports ``sitecustomize``
at start-up).

With ``KVMST_CRASH`` set (JSON) it ends the module process abruptly - ``os._exit``, no
cleanup, no result, as a kill -9 would - at one point of the plan:

    {"verb": "attach", "text": "persistent", "nth": 1, "when": "before", "log": "/path"}

- ``verb``/``text``/``nth``/``when``: before or after the nth step (counted over the whole
  run, in plan order) whose verb is ``verb`` ("*": any) and whose words contain ``text``.
  Every step goes through ``_runner.apply_plan``, the one place steps are executed; the
  wrapper is put in as that module is first imported, so the work files import it.
- ``call``/``flags`` instead of ``verb``: before or after the nth libvirt call of that name
  made by the disk adapter (``attachDeviceFlags`` with flags 1 = live, 2 = persistent: the
  two halves of one attach step); ``call: "upload"``: the upload into a volume the import
  step has just created.

The ``log`` file gets one line per step finished (``done <words>``) and ``crash <point>``
just before the process ends, so the test knows what the run did before it died.
"""

import json
import os
import sys

_PREFIX = 'ansible_collections.kvm.storage.plugins.module_utils.'
_SPEC = json.loads(os.environ.get('KVMST_CRASH') or 'null')
_SEEN = {'n': 0}


def _log(line):
    with open(_SPEC['log'], 'a') as handle:
        handle.write(line + '\n')
        handle.flush()
        os.fsync(handle.fileno())


def _crash(where):
    _log('crash ' + where)
    sys.stdout.flush()
    os._exit(137)  # pylint: disable=protected-access


def _counts(matched):
    if not matched:
        return False
    _SEEN['n'] += 1
    return _SEEN['n'] == _SPEC.get('nth', 1)


def _step_matches(step):
    verb = _SPEC.get('verb')
    return verb is not None and verb in ('*', step.verb) and _SPEC.get('text', '') in step.text


def _patch_runner(module):
    original = module.apply_plan

    def apply_plan(plan, apply_step):
        def step(one):
            hit = _counts(_step_matches(one))
            if hit and _SPEC['when'] == 'before':
                _crash('before ' + one.text)
            result = apply_step(one)
            _log('done ' + one.text)
            if hit and _SPEC['when'] == 'after':
                _crash('after ' + one.text)
            return result
        return original(plan, step)
    module.apply_plan = apply_plan


def _patch_disk_adapter(module):
    original = module._call  # pylint: disable=protected-access

    def call(text, func, *args):
        hit = _counts(getattr(func, '__name__', '') == _SPEC.get('call') and
                      (_SPEC.get('flags') is None or _SPEC['flags'] in args))
        if hit and _SPEC['when'] == 'before':
            _crash('before call %s %s' % (_SPEC['call'], args[1:]))
        result = original(text, func, *args)
        if hit and _SPEC['when'] == 'after':
            _crash('after call %s %s' % (_SPEC['call'], args[1:]))
        return result
    module._call = call  # pylint: disable=protected-access


def _patch_volume_import(module):
    original = module.upload

    def upload(*args, **kwargs):
        hit = _counts(_SPEC.get('call') == 'upload')
        if hit and _SPEC['when'] == 'before':
            _crash('before upload')
        result = original(*args, **kwargs)
        if hit and _SPEC['when'] == 'after':
            _crash('after upload')
        return result
    module.upload = upload


_PATCHES = {_PREFIX + '_runner': _patch_runner, _PREFIX + '_disk_adapter': _patch_disk_adapter,
            _PREFIX + '_volume_import': _patch_volume_import}


class _Loader(object):
    """The module's own loader, with the patch applied once the module has run."""

    def __init__(self, loader, patch):
        self._loader = loader
        self._patch = patch

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._patch(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder(object):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is cls or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _Loader(spec.loader, patch)
                return spec
        return None


if _SPEC:
    sys.meta_path.insert(0, _Finder)
