# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.kvm.storage.plugins.module_utils import _xml
from ansible_collections.kvm.storage.plugins.module_utils._blockjob import mirror_ready


def guest(vda_mirror='', vdb_mirror=''):
    return _xml.parse(
        "<domain><devices>"
        "<disk type='file' device='disk'><source file='/a.qcow2'/>%s<target dev='vda' bus='virtio'/></disk>"
        "<disk type='file' device='disk'><source file='/b.qcow2'/>%s<target dev='vdb' bus='virtio'/></disk>"
        "</devices></domain>" % (vda_mirror, vdb_mirror))


COPY = "<mirror type='file' job='copy'%s><format type='qcow2'/><source file='/new.qcow2'/></mirror>"


@pytest.mark.parametrize('case, element, target, ready', [
    ('no job', guest(), 'vda', False),
    ('copy running, not yet ready', guest(COPY % ''), 'vda', False),
    ('copy ready', guest(COPY % " ready='yes'"), 'vda', True),
    ('copy being pivoted', guest(COPY % " ready='pivot'"), 'vda', False),
    ('copy being aborted', guest(COPY % " ready='abort'"), 'vda', False),
    ('another disk is ready', guest(vdb_mirror=COPY % " ready='yes'"), 'vda', False),
    ('active commit ready', guest("<mirror type='file' job='active-commit' ready='yes'><source file='/a.qcow2'/>"
                                  "</mirror>"), 'vda', True),
    ('no such disk', guest(COPY % " ready='yes'"), 'vdz', False),
])
def test_mirror_ready(case, element, target, ready):
    assert mirror_ready(element, target) is ready, case
