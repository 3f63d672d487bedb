# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every example is accounted for (tests/examples.py): each module's EXAMPLES run in the
module story or on the VM host, each code block of the guides runs or says why not, and
every runnable block is valid YAML whose names the substitution table turns into lab
names. The run itself is tests/integration/examples_story.py."""

from __future__ import annotations

import os
import sys

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import examples  # noqa: E402  pylint: disable=wrong-import-position

LAB = dict(http_port=8000, gluster_host='127.0.0.1', gluster_volume='kvmst-gv0', iscsi_host='127.0.0.1',
           iscsi_iqn='iqn.2026-11.test.kvmst:store1', iscsi_initiator='iqn.2026-11.test.kvmst:client',
           chap_iqn='iqn.2026-11.test.kvmst:kvmst-ex-chap', chap_user='kvmst-ex-hv1', loop_fs='/dev/loop7',
           loop_block='/dev/loop8', vg='kvmst_ex_vms', variables=dict((v, 'x') for v in examples.VARIABLES))


def test_every_module_has_its_examples_run():
    assert sorted(examples.MODULE_ORDER + examples.RUNNING_ORDER + examples.VMHOST_MODULES
                  + tuple(examples.NOT_YET_RUN)) == examples.all_modules()
    for module, number in examples.EXAMPLE_SKIPS:
        assert module in examples.MODULE_ORDER + examples.RUNNING_ORDER
        assert number < len(examples.module_examples(module)), 'EXAMPLE_SKIPS names an example that is gone'
    for module in examples.all_modules():
        assert examples.module_examples(module), '%s has no EXAMPLES' % module
    on_vmhost = sorted(examples.VMHOST_ORDER)
    assert on_vmhost == sorted((m, i) for m in examples.VMHOST_MODULES for i in range(len(examples.module_examples(m))))


def test_every_guide_is_read():
    """A guide added to the docs is in GUIDES, so its code blocks must be accounted for."""
    rst = os.path.join(examples.REPO, 'docs', 'docsite', 'rst')
    guides = sorted('docs/docsite/rst/' + f for f in os.listdir(rst) if f.startswith('guide_') and f.endswith('.rst'))
    assert sorted(g for g in examples.GUIDES if g.startswith('docs/')) == guides


def test_vmhost_story_names_only_its_vg():
    plays, index = examples.vmhost_story('kvmst-vmhost')
    text = yaml.safe_dump(plays)
    assert 'vg_vms' not in text and examples.VMHOST_VG in text
    assert len(index) == len(examples.VMHOST_ORDER)


def test_every_guide_block_is_in_the_table():
    blocks = examples.all_guide_blocks()
    missing = ['%s block %d (%s): %s' % (k[0], k[1], v[0], v[1].splitlines()[0]) for k, v in sorted(blocks.items())
               if k not in examples.BLOCKS]
    assert not missing, 'add these code blocks to tests/examples.py BLOCKS (run them, or say why not): %s' % missing
    stale = sorted(k for k in examples.BLOCKS if k not in blocks)
    assert not stale, 'BLOCKS names code blocks that are gone: %s' % stale


def test_every_runnable_block_is_ordered_and_parses():
    blocks = examples.all_guide_blocks()
    runnable = sorted(k for k, how in examples.BLOCKS.items()
                      if isinstance(how, examples.Play) or isinstance(how, examples.HostVars) and how.playbook
                      or isinstance(how, examples.GroupVars) and how.role)
    assert sorted(examples.GUIDE_ORDER) == runnable
    for key, how in examples.BLOCKS.items():
        if not isinstance(how, examples.Skip):
            assert blocks[key][0] in ('yaml', 'yaml+jinja'), key
            assert yaml.safe_load(blocks[key][1]), key


@pytest.mark.parametrize('text, ns, expected', [
    ('images', 'ex', 'kvmst-ex-images'),
    ('/var/lib/libvirt/images/web1.qcow2', 'qs', '/var/tmp/kvmst-ex/qs/libvirt/kvmst-qs-images/kvmst-qs-web1.qcow2'),
    ('gv0/web1-shared.raw', 'ex', 'kvmst-gv0/kvmst-ex-web1-shared.raw'),
    ('https://images.example.com/debian-12.qcow2', 'ex', 'http://127.0.0.1:8000/debian-12.qcow2'),
    ('{{ images.volumes | map(attribute="name") }}', 'ex', '{{ images.volumes | map(attribute="name") }}'),
    ('web1-data.qcow2 san1-chap', 'ex', 'web1-data.qcow2 kvmst-ex-san1-chap'),
    ('host_profile_gluster_images vault_san1_chap_password', 'ex', 'host_profile_gluster_images vault_san1_chap_password'),
])
def test_substitution(text, ns, expected):
    assert examples.substitute_text(text, ns, LAB) == expected


def test_register_names_are_kept():
    task = {'kvm.storage.volume_info': {'pool': 'images'}, 'register': 'images'}
    assert examples.substitute(task, 'ex', LAB) == {'kvm.storage.volume_info': {'pool': 'kvmst-ex-images'},
                                                    'register': 'images'}


def test_every_lab_object_of_the_stories_is_prefixed():
    plays, inventory = examples.guide_story(LAB)
    story, _index = examples.module_story(LAB)
    text = yaml.safe_dump([plays, inventory, story])
    for name in ('pool: images', 'domain: web1', 'name: images', '/var/lib/libvirt', 'example.com/'):
        assert name not in text
