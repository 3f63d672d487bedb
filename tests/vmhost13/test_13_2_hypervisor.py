# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kvm.storage.hypervisor on the Debian 13 VM host, which boots without libvirt (its
.debs are in apt's cache, lab/vmhost/build-trixie.sh):

- monolithic, profiles local and lvm_thin: check mode on the fresh host (reports changes,
  installs nothing), real (installs, enables, starts; libvirt answers), again (no change),
  check mode again (no change);
- modular: Debian's libvirt has no modular daemons, so the role fails with one sentence
  naming the missing units, in check mode and for real, and changes nothing.

The two tests run in this order (the second needs the libvirt the first installs).
"""

from __future__ import annotations

import os

import pytest

from conftest import HERE, assert_play_passed

PLAYBOOK = os.path.join(HERE, 'hypervisor.yml')
MONOLITHIC = {'hypervisor_libvirt_daemons': 'monolithic'}
MODULAR = {'hypervisor_libvirt_daemons': 'modular'}
PACKAGE_TASK = 'kvm.storage.hypervisor : Install libvirt, qemu, the Python bindings and the profiles\' storage backends'
MODULAR_UNITS = ['virtqemud.service', 'virtstoraged.service', 'virtsecretd.service', 'virtproxyd.service',
                 'virtqemud.socket']
SENTENCE = 'Debian/Ubuntu libvirt ships only libvirtd, set hypervisor_libvirt_daemons: monolithic.'

# What a state snapshot reads: the libvirt unit files with their enablement, and what is active.
STATE = ("systemctl list-unit-files --no-legend --no-pager --full 'libvirtd*' 'virt*d*' 'virtlogd*' | sort; "
         "systemctl list-units --no-legend --no-pager --full --all --plain 'libvirtd*' 'virt*d*' 'virtlogd*'"
         " | awk '{ print $1, $3, $4 }' | grep -v '^libvirtd.service ' | sort; "
         "dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' 'libvirt*' python3-libvirt | sort")


def installed(ssh13, package):
    proc = ssh13("dpkg-query -W -f '${db:Status-Abbrev}' %s 2>/dev/null || true" % package)
    return proc.stdout.startswith('ii')


def libvirt_answers(ssh13):
    """libvirtd's state: enabled, its socket active, and virsh (which socket-activates it) answers."""
    proc = ssh13('systemctl is-enabled libvirtd.service; systemctl is-active libvirtd.socket virtlogd.service;'
                 ' virsh -c qemu:///system uri; systemctl is-active libvirtd.service;'
                 ' virsh -c qemu:///system version --daemon | sed -n "s/^Running against daemon: //p"')
    return proc.returncode, proc.stdout.split()


def test_monolithic_four_runs(play13, ssh13):
    if installed(ssh13, 'libvirt-daemon-system'):
        pytest.fail('libvirt is installed on the Debian 13 VM host before the role ran: the tier needs a freshly '
                    'booted VM host (KVMST_VMHOST_SUITE=trixie lab/vmhost/down.sh)', pytrace=False)

    check = play13(PLAYBOOK, check=True, extra_vars=MONOLITHIC, step='role monolithic: check mode (fresh host)')
    assert_play_passed(check)
    assert check.recap['changed'] > 0, check.explain()
    assert PACKAGE_TASK in check.tasks('changed'), check.tasks('changed')
    assert not installed(ssh13, 'libvirt-daemon-system'), 'check mode installed libvirt'

    real = play13(PLAYBOOK, extra_vars=MONOLITHIC, step='role monolithic: real (installs libvirt)')
    assert_play_passed(real)
    assert real.recap['changed'] > 0, real.explain()
    assert PACKAGE_TASK in real.tasks('changed'), real.tasks('changed')
    for package in ('libvirt-daemon-system', 'libvirt-clients', 'python3-libvirt', 'qemu-system-x86', 'lvm2',
                    'thin-provisioning-tools'):
        assert installed(ssh13, package), package
    rc, words = libvirt_answers(ssh13)
    assert rc == 0, words
    assert words[:3] == ['enabled', 'active', 'active'], words
    assert words[3] == 'qemu:///system' and words[4] == 'active', words
    assert words[5].startswith('11.'), words
    before = ssh13(STATE).stdout

    again = play13(PLAYBOOK, extra_vars=MONOLITHIC, step='role monolithic: again')
    assert_play_passed(again)
    assert again.recap['changed'] == 0, again.tasks('changed')

    check_again = play13(PLAYBOOK, check=True, extra_vars=MONOLITHIC, step='role monolithic: check mode again')
    assert_play_passed(check_again)
    assert check_again.recap['changed'] == 0, check_again.tasks('changed')
    assert ssh13(STATE).stdout == before


def test_modular_refused_on_debian(play13, ssh13):
    if not installed(ssh13, 'libvirt-daemon-system'):
        pytest.fail('libvirt is not installed on the Debian 13 VM host: test_monolithic_four_runs must run first',
                    pytrace=False)
    before = ssh13(STATE).stdout
    for check in (True, False):
        result = play13(PLAYBOOK, check=check, extra_vars=MODULAR,
                        step='role modular (refused): %s' % ('check mode' if check else 'real'))
        assert result.rc != 0, result.explain()
        assert result.recap is not None and result.recap['failed'] == 1, result.explain()
        assert result.recap['changed'] == 0, result.tasks('changed')
        fatal = [line for line in result.stdout.splitlines() if line.startswith('fatal: [kvmst-vmhost13]')]
        assert len(fatal) == 1, result.explain()
        assert result.tasks('fatal') == ['kvm.storage.hypervisor : Refuse a daemon layout whose units the host does '
                                         'not have'], result.explain()
        assert SENTENCE in fatal[0], fatal[0]
        assert 'hypervisor_libvirt_daemons is modular, but after the package install this host has no ' in fatal[0], \
            fatal[0]
        for unit in MODULAR_UNITS:
            assert unit in fatal[0], (unit, fatal[0])
        assert 'libvirtd.service' not in fatal[0], fatal[0]
    rc, words = libvirt_answers(ssh13)
    assert rc == 0 and words[:5] == ['enabled', 'active', 'active', 'qemu:///system', 'active'], words
    assert ssh13(STATE).stdout == before
