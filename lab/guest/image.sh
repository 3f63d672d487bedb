#!/usr/bin/env bash
# Build (once) a CLOUD-STYLE DISK IMAGE of the lab's test guest: a qcow2 disk that boots
# by itself under the firmware (SeaBIOS), as a vendor cloud image does, made from the test
# guest's kernel and initramfs (kernel.sh, initrd.sh) - nothing downloaded but the Debian
# packages.
#
# Layout: one FAT file system over the whole disk (no partition table, a "superfloppy"),
# SYSLINUX in its boot sector, and vmlinuz, initrd.cgz and syslinux.cfg in it; the kernel
# command line sends the console to the serial port. The guest's init then does what
# initrd.sh says (the marker, and the user-data of a cidata seed ISO on the console).
# Made with mkfs.vfat, syslinux --install and mcopy on the image file itself: no loop
# device, no mount.
#
# Prints on stdout (eval-able): the initrd.sh lines plus
#   KVMST_IMAGE=/var/cache/kvmst-lab/guest-image/<hash>/guest.qcow2
# <hash> = sha256 of this script + the initramfs path (itself a hash) + syslinux version.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/guest/common.sh
source "$HERE/common.sh"

LOG="$KVMST_LOG_DIR/guest-image.log"
IDIR="$KVMST_CACHE_DIR/guest-image"

INITRD_ENV="$("$HERE/initrd.sh")"
eval "$INITRD_ENV"
kvmst_require syslinux:syslinux mcopy:mtools mkfs.vfat:dosfstools qemu-img:qemu-utils
SYSLINUX_VERSION="$(dpkg-query -W -f '${Version}' syslinux 2>/dev/null || syslinux --version 2>&1 | head -n1)"

HASH="$( {
    cat "$HERE/image.sh"
    echo "$KVMST_INITRD $KVMST_KERNEL $SYSLINUX_VERSION"
} | kvmst_sha256)"
DEST="$IDIR/$HASH"

emit() {
    echo "$INITRD_ENV"
    echo "KVMST_IMAGE=$DEST/guest.qcow2"
}

if [[ -s "$DEST/guest.qcow2" ]]; then
    emit
    exit 0
fi

mkdir -p "$IDIR"
chmod 0755 "$IDIR"
kvmst_lock "$IDIR/.lock"
if [[ -s "$DEST/guest.qcow2" ]]; then
    emit
    exit 0
fi
kvmst_info "building the cloud-style guest image (log: $LOG)"
TMP="$(mktemp -d "$IDIR/.tmp.XXXXXX")"
trap 'rm -rf --one-file-system "$TMP"' EXIT
chmod 0755 "$TMP"
: "${TMP:?}"
RAW="$TMP/guest.raw"
truncate -s 32M "$RAW"
kvmst_run "$LOG" mkfs.vfat -n KVMSTGUEST "$RAW" || kvmst_die "mkfs.vfat failed" "$LOG"
kvmst_run "$LOG" syslinux --install "$RAW" || kvmst_die "syslinux --install failed" "$LOG"
printf 'DEFAULT guest\nPROMPT 0\nTIMEOUT 0\nLABEL guest\n  KERNEL vmlinuz\n  APPEND initrd=initrd.cgz console=ttyS0\n' \
    >"$TMP/syslinux.cfg"
export MTOOLS_SKIP_CHECK=1
kvmst_run "$LOG" mcopy -i "$RAW" "$KVMST_KERNEL" ::vmlinuz || kvmst_die "mcopy vmlinuz failed" "$LOG"
kvmst_run "$LOG" mcopy -i "$RAW" "$KVMST_INITRD" ::initrd.cgz || kvmst_die "mcopy initrd.cgz failed" "$LOG"
kvmst_run "$LOG" mcopy -i "$RAW" "$TMP/syslinux.cfg" ::syslinux.cfg || kvmst_die "mcopy syslinux.cfg failed" "$LOG"
kvmst_run "$LOG" qemu-img convert -f raw -O qcow2 -c "$RAW" "$TMP/guest.qcow2" || kvmst_die "qemu-img convert failed" "$LOG"
rm -f "$RAW" "$TMP/syslinux.cfg"
chmod 0644 "$TMP/guest.qcow2"
mv -T "$TMP" "$DEST"
trap - EXIT
kvmst_info "guest image cached in $DEST/guest.qcow2 ($(du -k "$DEST/guest.qcow2" | cut -f1) KiB)"
emit
