# kvm.storage: one target per test tier; `make test` runs them all.
# Everything a target needs (Debian packages, the virtualenv, the daemons, the lab
# fixtures) is installed and started by the target itself, so these work on a fresh
# Debian 12 machine as root.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
PYTEST := $(BIN)/python -m pytest

.PHONY: help venv packages lab lab-down collection sanity unit integration reliability vmhost vmhost13 bench lint docs package matrix test test-matrix demo demo-clean clean

help:
	@echo "make demo         build the demo lab on this host and print what it made"
	@echo "make demo-clean   remove exactly what the demo made"
	@echo "make test         every test tier: sanity unit integration reliability vmhost vmhost13 matrix lint docs package bench"
	@echo "make sanity|unit|integration|matrix|reliability|vmhost|vmhost13|lint|docs|package|bench   one tier"
	@echo "make matrix MATRIX_LINES='2.16 2.21' MATRIX_PARTS='sanity unit smoke'   some lines or parts"
	@echo "make lab / lab-down   start / remove the local test lab (daemons and fixtures)"

packages:
	bash lab/packages.sh

$(STAMP): requirements/controller.txt requirements/test.txt | packages
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements/test.txt
	touch $@

venv: $(STAMP)

# The collection under a path Ansible recognises (ansible_collections/kvm/storage).
collection:
	mkdir -p .cache/collections/ansible_collections/kvm
	test -L .cache/collections/ansible_collections/kvm/storage || ln -s $(CURDIR) .cache/collections/ansible_collections/kvm/storage

lab: packages
	bash lab/services.sh start
	bash lab/fixtures.sh up

lab-down:
	bash lab/fixtures.sh down
	bash lab/services.sh stop

sanity: venv
	bash tests/sanity/run.sh

unit: venv collection
	$(PYTEST) tests/unit

# Two xdist workers, one test file at a time: the scenarios on the lab's shared gluster
# volume and iSCSI target are one file (tests/integration/test_shared_backends.py), in turn;
# the examples story (test_examples_story.py, backends of its own) runs beside it.
integration: venv collection lab
	$(PYTEST) -n 2 --dist loadfile tests/integration

# Faults, concurrency, hostile input, secrets and the safety rules against the real lab:
# two xdist workers, a test file each, then the tests that kill libvirtd alone (every test
# beside them would lose its daemon). The gluster brick test kills a brick of its own volume.
reliability: venv collection lab
	$(PYTEST) -n 2 --dist loadfile -k 'not libvirtd_killed' tests/reliability
	$(PYTEST) -k libvirtd_killed tests/reliability/test_faults.py

# Boots the nested Debian 12 VM host (image cached by the hash of its recipe), runs the
# scenarios in tests/vmhost over SSH, and stops it again. The migration scenario moves a
# guest of this machine's libvirtd onto a gluster volume of its own first (hence the lab).
# The logical pool scenario and the lvm_thin profile's molecule scenario run on the Debian
# 13 VM host only (vmhost13): they repeated there, and CI's budget has room for one of each.
vmhost: venv collection lab
	$(PYTEST) tests/vmhost

# The second VM host, Debian 13 (KVMST_VMHOST_SUITE=trixie: kvmst-vmhost13, SSH port 2223;
# lab/vmhost/build-trixie.sh): the hypervisor role installs libvirt 11 there (monolithic,
# then modular refused), then scenarios on it. Its own name, port, run directory, disks and
# lock: it could run beside the Debian 12 VM host. Nothing of this machine's lab is used.
vmhost13: venv collection
	$(PYTEST) tests/vmhost13

# BENCH_REPEAT runs of each timed case (medians); `make test` takes one run of each, which
# is enough to print every ratio in CI's budget, and (BENCH_QUICK=1) of the scaling cases
# only the smallest and the largest size, the two that their growth ratios compare; the
# figures in bench/README.md are of `make bench` (three runs each, every size, quiet machine).
BENCH_REPEAT ?= 3
BENCH_QUICK ?=
bench: venv collection lab
	$(BIN)/python -m pip install -q -r requirements/bench.txt
	$(BIN)/python bench/volumes.py --repeat $(BENCH_REPEAT)
	$(BIN)/python bench/volume_info_scale.py --repeat $(BENCH_REPEAT) $(if $(BENCH_QUICK),--sizes 500 2000)
	$(BIN)/python bench/host_storage.py --repeat $(BENCH_REPEAT) $(if $(BENCH_QUICK),--sizes 1000 5000)

# The docs site (antsibull-docs + Sphinx) into .cache/docs/site/build/html; fails on
# lint errors and Sphinx warnings.
docs: venv collection
	bash docs/build.sh

# The release artifact from a clean tree, installed into a temporary path and run from there.
package: venv collection lab
	$(BIN)/python tools/collection.py build .cache/package
	$(PYTEST) tests/packaging

# The ansible-core matrix: each line of tests/matrix/lines.txt in its own virtualenv
# (.cache/matrix/<line>/venv, made here): ansible-test sanity, the unit tier and the smoke
# play of every module and role against the lab (tests/matrix/README.md). Set
# KVMST_LAB_LOCK=<file> to make the smoke play hold that lock (flock) on a shared machine.
MATRIX_LINES ?=
MATRIX_PARTS ?= venv sanity unit smoke
matrix: packages collection
	MATRIX_PARTS="$(MATRIX_PARTS)" bash tests/matrix/run.sh $(MATRIX_LINES)

lint: venv collection
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/ansible-lint -q

# Every tier, as CI runs them. The VM host tiers keep one core busy (a TCG VM host each, one
# after the other: two at once would only share that core) and share nothing with the host
# lab's tiers but libvirtd (the migration scenario has a gluster volume of its own), so they
# run in a lane of their own beside them (tools/lanes.sh). The ansible-core matrix ends
# both lanes and runs in the one that gets there first (tools/once.sh: which lane is longer
# varies with the machine), also after a failed tier. The lab lane's libvirtd kills wait
# while the migration scenario or a matrix smoke play uses this libvirtd: a lock,
# tests/conftest.py (exclusive for the kills, shared for the others; tests/matrix/run.sh
# takes it itself). The matrix leaves out its 2.19 row here: 2.19 is the line every other
# tier runs on, and the row's controller and target Python 3.13 are the 2.21 row's too.
# The bench (one run of each case, the scaling cases at two sizes) ends the lab lane's tiers
# when they passed, before its matrix claim: it used to run alone after both lanes, and
# that put a fresh-clone run over 70 minutes (session 15: 70.1). Its ratios are against the
# peer measured in the same run, beside the same VM host; bench/README.md's figures are of
# `make bench` on a quiet machine.
TEST_MATRIX_LINES := 2.16 2.17 2.18 2.20 2.21
TEST_MATRIX_CLAIM := .cache/test-matrix-claim
test: venv collection lab
	rm -rf $(TEST_MATRIX_CLAIM)
	bash tools/lanes.sh \
	  vmhost '$(MAKE) --no-print-directory -k vmhost vmhost13; rc=$$?; $(MAKE) --no-print-directory test-matrix || rc=1; exit $$rc' \
	  lab '$(MAKE) --no-print-directory sanity unit integration reliability lint docs package && $(MAKE) --no-print-directory bench BENCH_REPEAT=1 BENCH_QUICK=1; rc=$$?; $(MAKE) --no-print-directory test-matrix || rc=1; exit $$rc'

# make test's matrix: in the first lane that asks (see above).
test-matrix:
	bash tools/once.sh $(TEST_MATRIX_CLAIM) '$(MAKE) --no-print-directory matrix MATRIX_LINES="$(TEST_MATRIX_LINES)"'

demo: venv collection
	bash lab/packages.sh
	bash lab/services.sh start
	$(BIN)/ansible-playbook -i playbooks/inventory/demo.ini playbooks/demo.yml

demo-clean: venv collection
	$(BIN)/ansible-playbook -i playbooks/inventory/demo.ini playbooks/demo.yml -e demo_state=absent

clean:
	rm -rf .cache tests/output
