#!/usr/bin/env bash
# Build (once) the lab's nested Debian VM host: a bookworm root file system with
# systemd, LVM (thin), libvirt and sshd, packed as an initramfs that a TCG guest
# boots straight into (rdinit=/sbin/init), plus the lab SSH key for root.
#
# Cached in /var/cache/kvmst-lab/vmhost/<hash>/ where <hash> is the sha256 of the
# recipe (this script with its package lists, and the kernel). The image is
# built in a temporary directory and renamed into place at the end, so an interrupted
# build never leaves a half cache. Prints on stdout (eval-able):
#   KVMST_VMHOST_IMAGE_DIR=...  KVMST_VMHOST_KERNEL=...  KVMST_VMHOST_INITRD=...
#   KVMST_VMHOST_SSH_KEY=...    KVMST_VMHOST_KERNEL_VERSION=...
# Noisy output: /var/log/kvmst-lab/vmhost-build.log.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/guest/common.sh
source "$HERE/../guest/common.sh"

SUITE=bookworm
DEBOOTSTRAP_PACKAGES="lvm2,thin-provisioning-tools,python3,openssh-server,openssh-sftp-server,kmod,udev,systemd-sysv,iproute2,ifupdown,isc-dhcp-client,procps"
APT_PACKAGES="libvirt-daemon-system qemu-utils python3-libvirt python3-lxml"
# Module trees a headless storage VM host never loads (smaller, faster-booting image).
PRUNE_MODULES="sound drivers/gpu drivers/media drivers/infiniband drivers/staging drivers/bluetooth
  drivers/isdn drivers/iio drivers/hwmon drivers/comedi drivers/mtd drivers/mmc drivers/platform
  drivers/nfc drivers/thunderbolt drivers/memstick drivers/net/ethernet drivers/net/wireless
  drivers/net/usb drivers/net/can drivers/net/wan drivers/net/ieee802154 net/bluetooth
  net/wireless net/mac80211 net/can net/nfc net/ieee802154"
LOG="$KVMST_LOG_DIR/vmhost-build.log"
VDIR="$KVMST_CACHE_DIR/vmhost"

KERNEL_ENV="$("$HERE/../guest/kernel.sh")"
eval "$KERNEL_ENV"

HASH="$( {
    cat "$HERE/build.sh"
    echo "$SUITE $DEBOOTSTRAP_PACKAGES $APT_PACKAGES $PRUNE_MODULES"
    echo "$KVMST_KERNEL_VERSION $KVMST_KERNEL_PACKAGE"
} | kvmst_sha256)"
DEST="$VDIR/$HASH"

emit() {
    echo "KVMST_VMHOST_IMAGE_DIR=$DEST"
    echo "KVMST_VMHOST_KERNEL=$DEST/vmlinuz"
    echo "KVMST_VMHOST_INITRD=$DEST/rootfs.cpio.lz4"
    echo "KVMST_VMHOST_SSH_KEY=$DEST/id_ed25519"
    echo "KVMST_VMHOST_KERNEL_VERSION=$KVMST_KERNEL_VERSION"
}

if [[ -s "$DEST/rootfs.cpio.lz4" ]]; then
    emit
    exit 0
fi

mkdir -p "$VDIR"
chmod 0755 "$VDIR"
kvmst_lock "$VDIR/.lock"
if [[ -s "$DEST/rootfs.cpio.lz4" ]]; then
    emit
    exit 0
fi
kvmst_require debootstrap:debootstrap cpio:cpio lz4:lz4 ssh-keygen:openssh-client flock:util-linux

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

# Leftovers of a killed build (we hold the lock: nobody else is building).
for stale in "$VDIR"/.tmp.*; do
    [[ -d "$stale" ]] && remove_tree "$stale"
done

TMP="$(mktemp -d "$VDIR/.tmp.XXXXXX")"
ROOT="$TMP/root"
cleanup() {
    local rc=$?
    remove_tree "$TMP"
    return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

START=$SECONDS
: >"$LOG"
MIRROR="$(kvmst_debian_mirror)"
kvmst_info "building VM host image $HASH (cold build, a few minutes; log: $LOG)"
echo "recipe hash $HASH, kernel $KVMST_KERNEL_VERSION, mirror $MIRROR" >>"$LOG"

kvmst_info "debootstrap $SUITE minbase"
kvmst_run "$LOG" debootstrap --variant=minbase --include="$DEBOOTSTRAP_PACKAGES" \
    "$SUITE" "$ROOT" "$MIRROR" || kvmst_die "debootstrap failed" "$LOG"

kvmst_info "apt-get install $APT_PACKAGES (in the chroot)"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o Acquire::Retries=3)
kvmst_run "$LOG" chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LC_ALL=C \
    apt-get "${APT_OPTS[@]}" update || kvmst_die "apt-get update in the chroot failed" "$LOG"
# shellcheck disable=SC2086
kvmst_run "$LOG" chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LC_ALL=C \
    apt-get "${APT_OPTS[@]}" install -y --no-install-recommends $APT_PACKAGES ||
    kvmst_die "apt-get install in the chroot failed" "$LOG"
kvmst_run "$LOG" chroot "$ROOT" apt-get clean
rm -f "$ROOT/usr/sbin/policy-rc.d"
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* \
    "$ROOT"/usr/share/locale/* "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/log/*.log

kvmst_info "kernel modules $KVMST_KERNEL_VERSION, ssh key, configuration"
mkdir -p "$ROOT/lib/modules"
cp -a "$KVMST_KERNEL_MODULES" "$ROOT/lib/modules/"
for p in $PRUNE_MODULES; do
    rm -rf "${ROOT:?}/lib/modules/$KVMST_KERNEL_VERSION/kernel/$p"
done
kvmst_run "$LOG" chroot "$ROOT" depmod "$KVMST_KERNEL_VERSION" || kvmst_die "depmod failed" "$LOG"
cp "$KVMST_KERNEL" "$TMP/vmlinuz"

ssh-keygen -q -t ed25519 -N '' -C "kvmst-lab-vmhost-${HASH:0:12}" -f "$TMP/id_ed25519"
chmod 0600 "$TMP/id_ed25519"
install -d -m 0700 "$ROOT/root/.ssh"
install -m 0600 "$TMP/id_ed25519.pub" "$ROOT/root/.ssh/authorized_keys"
rm -f "$ROOT"/etc/ssh/ssh_host_*
kvmst_run "$LOG" chroot "$ROOT" ssh-keygen -A || kvmst_die "ssh-keygen -A failed" "$LOG"
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
echo kvmst-vmhost >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tkvmst-vmhost\n' >"$ROOT/etc/hosts"
: >"$ROOT/etc/fstab"
printf 'nameserver 10.0.2.3\n' >"$ROOT/etc/resolv.conf"
: >"$ROOT/etc/machine-id"
# Keep libvirtd running (Debian's unit passes --timeout 120 and relies on socket activation).
echo 'LIBVIRTD_ARGS=""' >>"$ROOT/etc/default/libvirtd"
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
kernel=$KVMST_KERNEL_PACKAGE
debootstrap=$DEBOOTSTRAP_PACKAGES
apt=$APT_PACKAGES
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
build_seconds=$((SECONDS - START))
EOF
chmod 0755 "$TMP"
chmod 0644 "$TMP/rootfs.cpio.lz4" "$TMP/vmlinuz" "$TMP/recipe" "$TMP/id_ed25519.pub"
mv -T "$TMP" "$DEST"
trap - EXIT

# Drop images of older recipes, except the one a running VM host was booted from.
in_use="$(cat "$KVMST_RUN_DIR/vmhost/image-dir" 2>/dev/null || true)"
for old in "$VDIR"/*/; do
    old="${old%/}"
    [[ "$old" == "$DEST" || "$old" == "$in_use" ]] && continue
    [[ -e "$old/recipe" ]] && rm -rf --one-file-system "$old"
done
kvmst_info "VM host image ready in $((SECONDS - START))s: $DEST ($(du -m "$DEST/rootfs.cpio.lz4" | cut -f1) MiB)"
emit
