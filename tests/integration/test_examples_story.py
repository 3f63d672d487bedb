# Copyright (c) kvm.storage contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module's EXAMPLES and every guide's code blocks, as written (examples_story.py):
the module references first, then the guides, as a reader goes. Both share one story (the
module-scoped ``story`` fixture: its guests, images, HTTP server, and a gluster volume and
iSCSI targets of its own), so this file runs beside test_shared_backends.py on the other
xdist worker (`make integration`, --dist loadfile)."""

from __future__ import annotations

from examples_story import check_guide_examples, check_module_examples, story  # noqa: F401 pylint: disable=unused-import


def test_module_examples(story):  # pylint: disable=redefined-outer-name
    check_module_examples(story)


def test_guide_examples(story):  # pylint: disable=redefined-outer-name
    check_guide_examples(story)
