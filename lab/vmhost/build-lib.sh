#!/usr/bin/env bash
# The steps every nested VM host image shares (lab/vmhost/build.sh: Debian 12,
# lab/vmhost/build-trixie.sh: Debian 13). Sourced, never executed. The recipe script sets
#   SUITE                 Debian suite for debootstrap (and, unless bookworm, the kernel's)
#   VMHOST_NAME           host name inside, and the cache folder under $KVMST_CACHE_DIR
#                         (kvmst-vmhost -> vmhost, kvmst-vmhost13 -> vmhost13)
#   DEBOOTSTRAP_PACKAGES  comma list for debootstrap --include
#   RECIPE_EXTRA          more text the recipe hash covers (package lists, files read)
# and defines
#   recipe_packages       runs in the chroot (proc, sys, dev mounted, policy-rc.d in place,
#                         apt lists fetched): installs the packages; ends with whatever
#                         apt state the image keeps
#   recipe_configure      image configuration beyond the shared one (may be empty)
# then calls vmhost_build_main, which prints the KVMST_VMHOST_* lines (eval-able):
#   KVMST_VMHOST_IMAGE_DIR=...  KVMST_VMHOST_KERNEL=...  KVMST_VMHOST_INITRD=...
#   KVMST_VMHOST_SSH_KEY=...    KVMST_VMHOST_KERNEL_VERSION=...
set -euo pipefail
# shellcheck source=lab/guest/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../guest/common.sh"
VMHOST_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Module trees a headless storage VM host never loads (smaller, faster-booting image).
PRUNE_MODULES="sound drivers/gpu drivers/media drivers/infiniband drivers/staging drivers/bluetooth
  drivers/isdn drivers/iio drivers/hwmon drivers/comedi drivers/mtd drivers/mmc drivers/platform
  drivers/nfc drivers/thunderbolt drivers/memstick drivers/net/ethernet drivers/net/wireless
  drivers/net/usb drivers/net/can drivers/net/wan drivers/net/ieee802154 net/bluetooth
  net/wireless net/mac80211 net/can net/nfc net/ieee802154"

# Unmount everything below DIR, deepest first. Never remove a build root while a
# bind mount of /dev is still there.
unmount_below() {
    local dir="$1" mp mps _
    for _ in 1 2 3; do
        mapfile -t mps < <(awk -v r="$dir" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r)
        ((${#mps[@]} == 0)) && return 0
        for mp in "${mps[@]}"; do
            umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
        done
    done
    ! awk -v r="$dir" '$2 == r || index($2, r "/") == 1 { f = 1 } END { exit !f }' /proc/mounts
}
remove_tree() {
    if unmount_below "$1"; then
        rm -rf --one-file-system "$1"
    else
        kvmst_info "WARNING: mounts remain below $1; not removing it"
    fi
}

# in_chroot CMD...: run CMD in the build root (logged), noninteractive, C locale.
in_chroot() {
    kvmst_run "$LOG" chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"
}

vmhost_build_main() {
    local folder="${VMHOST_NAME#kvmst-}" kernel_env
    LOG="$KVMST_LOG_DIR/$folder-build.log"
    VDIR="$KVMST_CACHE_DIR/$folder"
    APT_OPTS=(-o Acquire::Check-Valid-Until=false -o Acquire::Retries=3)

    # The kernel of the image's own release (bookworm: this machine's, as before).
    if [[ "$SUITE" == bookworm ]]; then
        kernel_env="$("$VMHOST_LIB_DIR/../guest/kernel.sh")"
    else
        kernel_env="$(KVMST_KERNEL_SUITE="$SUITE" "$VMHOST_LIB_DIR/../guest/kernel.sh")"
    fi
    eval "$kernel_env"

    HASH="$( {
        cat "$VMHOST_LIB_DIR/build-lib.sh" "$VMHOST_LIB_DIR/zipimport_cache.py" "$0"
        echo "$SUITE $VMHOST_NAME $DEBOOTSTRAP_PACKAGES $PRUNE_MODULES"
        echo "${RECIPE_EXTRA:-}"
        echo "$KVMST_KERNEL_VERSION $KVMST_KERNEL_PACKAGE"
    } | kvmst_sha256)"
    DEST="$VDIR/$HASH"

    if [[ -s "$DEST/rootfs.cpio.lz4" ]]; then
        vmhost_emit
        return 0
    fi
    mkdir -p "$VDIR"
    chmod 0755 "$VDIR"
    kvmst_lock "$VDIR/.lock"
    if [[ -s "$DEST/rootfs.cpio.lz4" ]]; then
        vmhost_emit
        return 0
    fi
    kvmst_require debootstrap:debootstrap cpio:cpio lz4:lz4 ssh-keygen:openssh-client flock:util-linux

    # Leftovers of a killed build (we hold the lock: nobody else is building).
    local stale
    for stale in "$VDIR"/.tmp.*; do
        [[ -d "$stale" ]] && remove_tree "$stale"
    done

    TMP="$(mktemp -d "$VDIR/.tmp.XXXXXX")"
    ROOT="$TMP/root"
    trap vmhost_build_cleanup EXIT
    trap 'exit 130' INT TERM

    local start=$SECONDS mirror
    : >"$LOG"
    mirror="$(kvmst_debian_mirror)"
    kvmst_info "building VM host image $HASH (cold build, a few minutes; log: $LOG)"
    echo "recipe hash $HASH, kernel $KVMST_KERNEL_VERSION, mirror $mirror" >>"$LOG"

    kvmst_info "debootstrap $SUITE minbase"
    kvmst_run "$LOG" debootstrap --variant=minbase --include="$DEBOOTSTRAP_PACKAGES" \
        "$SUITE" "$ROOT" "$mirror" || kvmst_die "debootstrap failed" "$LOG"

    mount -t proc proc "$ROOT/proc"
    mount -t sysfs sysfs "$ROOT/sys"
    mount --bind /dev "$ROOT/dev"
    mount --bind /dev/pts "$ROOT/dev/pts"
    printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
    in_chroot apt-get "${APT_OPTS[@]}" update || kvmst_die "apt-get update in the chroot failed" "$LOG"
    recipe_packages
    rm -f "$ROOT/usr/sbin/policy-rc.d"
    rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* \
        "$ROOT"/usr/share/locale/* "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/log/*.log

    kvmst_info "kernel modules $KVMST_KERNEL_VERSION, ssh key, configuration"
    mkdir -p "$ROOT/lib/modules"
    cp -a "$KVMST_KERNEL_MODULES" "$ROOT/lib/modules/"
    local p
    for p in $PRUNE_MODULES; do
        rm -rf "${ROOT:?}/lib/modules/$KVMST_KERNEL_VERSION/kernel/$p"
    done
    in_chroot depmod "$KVMST_KERNEL_VERSION" || kvmst_die "depmod failed" "$LOG"
    cp "$KVMST_KERNEL" "$TMP/vmlinuz"

    ssh-keygen -q -t ed25519 -N '' -C "kvmst-lab-$folder-${HASH:0:12}" -f "$TMP/id_ed25519"
    chmod 0600 "$TMP/id_ed25519"
    install -d -m 0700 "$ROOT/root/.ssh"
    install -m 0600 "$TMP/id_ed25519.pub" "$ROOT/root/.ssh/authorized_keys"
    rm -f "$ROOT"/etc/ssh/ssh_host_*
    in_chroot ssh-keygen -A || kvmst_die "ssh-keygen -A failed" "$LOG"
    # The lab connects with its key only.
    cat >"$ROOT/etc/ssh/sshd_config.d/kvmst-lab.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
EOF

    # allow-hotplug: udev brings eth0 up as soon as it appears; with ifupdown-pre.service
    # (a full `udevadm settle`) masked, sshd starts about 5 s earlier under TCG.
    cat >"$ROOT/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback

allow-hotplug eth0
iface eth0 inet dhcp
EOF
    ln -sfn /dev/null "$ROOT/etc/systemd/system/ifupdown-pre.service"
    # Load the NIC and disk drivers before udev's coldplug gets to them (eth0 up earlier).
    printf 'virtio_net\nvirtio_blk\n' >"$ROOT/etc/modules-load.d/kvmst-vmhost.conf"
    # Keep root's systemd user manager running: otherwise every SSH login (each Ansible
    # connection) waits ~2.5 s under TCG for user@0.service to start again.
    mkdir -p "$ROOT/var/lib/systemd/linger"
    touch "$ROOT/var/lib/systemd/linger/root"
    # No ext4-on-LVM to scrub here; the unit costs 3-15 s of TCG time at boot.
    ln -sfn /dev/null "$ROOT/etc/systemd/system/e2scrub_reap.service"
    ln -sfn /dev/null "$ROOT/etc/systemd/system/e2scrub_all.timer"
    # Bytecode for the AnsiballZ payloads, kept between module runs: about 1 s of each 3.5 s
    # module run under TCG is compiling module_utils again (lab/vmhost/zipimport_cache.py).
    install -D -m 0644 "$VMHOST_LIB_DIR/zipimport_cache.py" "$ROOT/usr/lib/python3/dist-packages/kvmst_zipimport_cache.py"
    echo 'import kvmst_zipimport_cache' >"$ROOT/usr/lib/python3/dist-packages/kvmst-zipimport-cache.pth"
    echo "$VMHOST_NAME" >"$ROOT/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$VMHOST_NAME" >"$ROOT/etc/hosts"
    : >"$ROOT/etc/fstab"
    printf 'nameserver 10.0.2.3\n' >"$ROOT/etc/resolv.conf"
    : >"$ROOT/etc/machine-id"
    recipe_configure
    cat >"$ROOT/etc/kvmst-vmhost" <<EOF
recipe=$HASH
kernel=$KVMST_KERNEL_VERSION
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF

    unmount_below "$ROOT" || kvmst_die "cannot unmount everything below $ROOT" "$LOG"
    kvmst_info "packing the initramfs"
    (cd "$ROOT" && find . -xdev -print0 | cpio --null -o -H newc --quiet | lz4 -l -1 -c) >"$TMP/rootfs.cpio.lz4" 2>>"$LOG" ||
        kvmst_die "packing the initramfs failed" "$LOG"
    rm -rf --one-file-system "$ROOT"
    cat >"$TMP/recipe" <<EOF
hash=$HASH
suite=$SUITE
kernel=$KVMST_KERNEL_PACKAGE
debootstrap=$DEBOOTSTRAP_PACKAGES
${RECIPE_EXTRA:-}
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
build_seconds=$((SECONDS - start))
EOF
    chmod 0755 "$TMP"
    chmod 0644 "$TMP/rootfs.cpio.lz4" "$TMP/vmlinuz" "$TMP/recipe" "$TMP/id_ed25519.pub"
    mv -T "$TMP" "$DEST"
    trap - EXIT

    # Drop images of older recipes (of this VM host only: its own cache folder), except the
    # one a running VM host was booted from.
    local in_use old
    in_use="$(cat "$KVMST_RUN_DIR/$folder/image-dir" 2>/dev/null || true)"
    for old in "$VDIR"/*/; do
        old="${old%/}"
        [[ "$old" == "$DEST" || "$old" == "$in_use" ]] && continue
        [[ -e "$old/recipe" ]] && rm -rf --one-file-system "$old"
    done
    kvmst_info "VM host image ready in $((SECONDS - start))s: $DEST ($(du -m "$DEST/rootfs.cpio.lz4" | cut -f1) MiB)"
    vmhost_emit
}

vmhost_build_cleanup() {
    local rc=$?
    remove_tree "$TMP"
    return $rc
}

vmhost_emit() {
    echo "KVMST_VMHOST_IMAGE_DIR=$DEST"
    echo "KVMST_VMHOST_KERNEL=$DEST/vmlinuz"
    echo "KVMST_VMHOST_INITRD=$DEST/rootfs.cpio.lz4"
    echo "KVMST_VMHOST_SSH_KEY=$DEST/id_ed25519"
    echo "KVMST_VMHOST_KERNEL_VERSION=$KVMST_KERNEL_VERSION"
}
