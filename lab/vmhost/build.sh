#!/usr/bin/env bash
# Build (once) the lab's nested Debian 12 VM host: a bookworm root file system with
# systemd, LVM (thin), libvirt and sshd, packed as an initramfs that a TCG guest
# boots straight into (rdinit=/sbin/init), plus the lab SSH key for root.
#
# Cached in /var/cache/kvmst-lab/vmhost/<hash>/ where <hash> is the sha256 of the
# recipe (this script, lab/vmhost/build-lib.sh with the steps every VM host image
# shares, the package lists, and the kernel). The image is built in a temporary
# directory and renamed into place at the end, so an interrupted build never leaves a
# half cache. Prints on stdout (eval-able):
#   KVMST_VMHOST_IMAGE_DIR=...  KVMST_VMHOST_KERNEL=...  KVMST_VMHOST_INITRD=...
#   KVMST_VMHOST_SSH_KEY=...    KVMST_VMHOST_KERNEL_VERSION=...
# Noisy output: /var/log/kvmst-lab/vmhost-build.log.
# The Debian 13 VM host: lab/vmhost/build-trixie.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/vmhost/build-lib.sh
source "$HERE/build-lib.sh"

SUITE=bookworm
VMHOST_NAME=kvmst-vmhost
DEBOOTSTRAP_PACKAGES="lvm2,thin-provisioning-tools,python3,openssh-server,openssh-sftp-server,kmod,udev,systemd-sysv,iproute2,ifupdown,isc-dhcp-client,procps"
APT_PACKAGES="libvirt-daemon-system qemu-utils python3-libvirt python3-lxml"
RECIPE_EXTRA="apt=$APT_PACKAGES"

# libvirt installed in the image, apt's lists and caches dropped.
recipe_packages() {
    kvmst_info "apt-get install $APT_PACKAGES (in the chroot)"
    # shellcheck disable=SC2086
    in_chroot apt-get "${APT_OPTS[@]}" install -y --no-install-recommends $APT_PACKAGES ||
        kvmst_die "apt-get install in the chroot failed" "$LOG"
    in_chroot apt-get clean
    rm -rf "$ROOT"/var/lib/apt/lists/*
}

recipe_configure() {
    # Keep libvirtd running (Debian's unit passes --timeout 120 and relies on socket activation).
    echo 'LIBVIRTD_ARGS=""' >>"$ROOT/etc/default/libvirtd"
}

vmhost_build_main
