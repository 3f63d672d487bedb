#!/usr/bin/env bash
# Install the Debian packages the kvm.storage lab needs.
# Fast no-op when everything is installed: apt-get only runs when dpkg-query
# reports a package missing. Output goes to /var/log/kvmst-lab/packages.log.
set -euo pipefail
KVMST_SCRIPT=packages
# shellcheck source=lab/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PACKAGES=(
  # libvirt and its storage backends
  libvirt-daemon-system libvirt-clients libvirt-dev pkg-config
  libvirt-daemon-driver-storage-gluster libvirt-daemon-driver-storage-iscsi-direct
  python3-libvirt python3-lxml
  # qemu (TCG guests, qemu-img, gfapi/libiscsi block drivers)
  qemu-system-x86 qemu-utils qemu-block-extra
  # network storage servers
  glusterfs-server glusterfs-client tgt
  # block devices and file systems
  lvm2 thin-provisioning-tools parted dosfstools e2fsprogs xfsprogs
  # guest images (VM host lab, ISO volumes and cloud-init seed ISOs; syslinux and mtools
  # make the cloud-style boot image of lab/guest/image.sh)
  debootstrap busybox-static cpio xorriso syslinux syslinux-common mtools
  # compressed images import_from unpacks (zstd: the module runs the tool; bzip2: the
  # scenario packs its source with it, the module unpacks with Python's bz2)
  zstd bzip2
  # tools the lab scripts themselves call (flock, setsid, timeout)
  util-linux coreutils
  # ansible-test's shellcheck sanity test (it skips the test with a warning when missing)
  shellcheck
)
# Not installed on purpose: open-iscsi (the kernel has no iscsi_tcp; libvirt's
# iscsi-direct backend uses libiscsi in user space and needs no initiator daemon).

missing_packages() {
  local pkg status
  local -A ok=()
  # One dpkg-query call for all packages; unknown ones are simply not listed.
  while read -r pkg status; do
    [[ $status == ii* ]] && ok[${pkg%%:*}]=1
  done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
  for pkg in "${PACKAGES[@]}"; do
    [[ -n ${ok[$pkg]:-} ]] || printf '%s\n' "$pkg"
  done
}

kvmst_init
{ command -v dpkg-query && command -v apt-get; } >/dev/null ||
  kvmst_die "dpkg-query/apt-get not found: this script supports Debian/Ubuntu only"

mapfile -t MISSING < <(missing_packages)
if ((${#MISSING[@]} == 0)); then
  kvmst_say "all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

kvmst_lock packages
kvmst_say "installing ${#MISSING[@]} package(s): ${MISSING[*]} (log: $KVMST_LOG)"

# No init system here: keep maintainer scripts from starting daemons through
# invoke-rc.d (services.sh starts them). Only add a policy if none exists.
POLICY=/usr/sbin/policy-rc.d
if [[ ! -e $POLICY ]]; then
  printf '#!/bin/sh\n# kvmst-lab: temporary, removed by lab/packages.sh\nexit 101\n' >"$POLICY"
  chmod 0755 "$POLICY"
  trap 'rm -f "$POLICY"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
kvmst_must "apt-get update" apt-get "${APT_OPTS[@]}" update
kvmst_must "apt-get install ${MISSING[*]}" \
  apt-get "${APT_OPTS[@]}" install --no-install-recommends "${MISSING[@]}"

mapfile -t STILL < <(missing_packages)
((${#STILL[@]} == 0)) || kvmst_die "still not installed after apt-get: ${STILL[*]} (log: $KVMST_LOG)"
kvmst_say "installed: ${MISSING[*]}"
