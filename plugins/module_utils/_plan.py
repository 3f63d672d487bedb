# -*- coding: utf-8 -*-
# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Plans: the ordered steps a module decided on, each with the words shown in ``actions``.

A planner is a pure function of the desired and the actual state that returns a Plan;
an adapter applies the steps.  Check mode stops after planning, so what it reports is
exactly what a real run would do.
"""

from __future__ import annotations


class Step(object):
    __slots__ = ('verb', 'text', 'args')

    def __init__(self, verb, text, **args):
        self.verb = verb
        self.text = text
        self.args = args

    def __repr__(self):
        return 'Step(%r, %r)' % (self.verb, self.text)


class Plan(object):
    def __init__(self):
        self.steps = []
        # What the planner found worth telling but changes nothing (module warnings).
        self.warnings = []
        # Check mode only: what does not exist yet and was planned as if an earlier task
        # made it ('pool images', 'secret /path', ...); a real run fails if it never appears.
        self.assumed = []

    def assume(self, what, why=''):
        """Record that check mode planned as if ``what`` (a pool, volume, secret, ...) existed,
        and warn once per plan."""
        if what in self.assumed:
            return
        self.assumed.append(what)
        self.warnings.append('check mode: %s does not exist yet; planned as if an earlier task creates it%s (a real '
                             'run fails unless it exists by then)' % (what, why))

    def add(self, verb, text, **args):
        self.steps.append(Step(verb, text, **args))
        return self

    @property
    def changed(self):
        return bool(self.steps)

    @property
    def actions(self):
        return [s.text for s in self.steps]

    def verbs(self):
        return [s.verb for s in self.steps]
