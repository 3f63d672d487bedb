#!/usr/bin/env bash
# Fetch and unpack the Debian kernel that `linux-image-amd64` depends on, for
# the lab's TCG guests (test guests and the nested VM host).
#
# Prints on stdout (eval-able):
#   KVMST_KERNEL=/var/cache/kvmst-lab/kernel/<pkg>_<ver>/root/boot/vmlinuz-<kver>
#   KVMST_KERNEL_VERSION=<kver>
#   KVMST_KERNEL_MODULES=/var/cache/kvmst-lab/kernel/<pkg>_<ver>/root/lib/modules/<kver>
#   KVMST_KERNEL_PACKAGE=<pkg>=<ver>
# Cached: a second run only asks apt-cache (local) which package is current.
# Override the package with KVMST_KERNEL_PACKAGE=linux-image-...-amd64.
set -euo pipefail
# shellcheck source=lab/guest/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

LOG="$KVMST_LOG_DIR/kernel.log"
KDIR="$KVMST_CACHE_DIR/kernel"
mkdir -p "$KDIR"
chmod 0755 "$KVMST_CACHE_DIR" "$KDIR"

emit() { # emit DIR
    local dir="$1" kver
    kver="$(cat "$dir/kernel-version")"
    echo "KVMST_KERNEL=$dir/root/boot/vmlinuz-$kver"
    echo "KVMST_KERNEL_VERSION=$kver"
    echo "KVMST_KERNEL_MODULES=$dir/root/lib/modules/$kver"
    echo "KVMST_KERNEL_PACKAGE=$(cat "$dir/package")"
}

resolve_package() { # prints "<pkg> <version>" or nothing
    local pkg="${KVMST_KERNEL_PACKAGE:-}" ver
    if [[ -z "$pkg" ]]; then
        pkg="$(apt-cache depends linux-image-amd64 2>/dev/null |
            awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')"
    fi
    [[ -n "$pkg" ]] || return 0
    ver="$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')"
    [[ -n "$ver" && "$ver" != "(none)" ]] || return 0
    echo "$pkg $ver"
}

read -r PKG PKGVER < <(resolve_package || true) || true
if [[ -z "${PKG:-}" ]]; then
    # Fresh machine: apt lists may be empty.
    kvmst_apt_update
    read -r PKG PKGVER < <(resolve_package || true) || true
fi
if [[ -z "${PKG:-}" ]]; then
    if [[ -e "$KDIR/current/kernel-version" ]]; then
        kvmst_info "apt cannot resolve linux-image-amd64; using the cached kernel"
        emit "$(readlink -f "$KDIR/current")"
        exit 0
    fi
    kvmst_die "cannot resolve the package that linux-image-amd64 depends on (apt-cache depends linux-image-amd64)" "$KVMST_LOG_DIR/apt.log"
fi

NAME="${PKG}_${PKGVER//[:~]/_}"
DEST="$KDIR/$NAME"
if [[ -e "$DEST/kernel-version" ]]; then
    ln -sfn "$NAME" "$KDIR/current"
    emit "$DEST"
    exit 0
fi

kvmst_require dpkg-deb:dpkg depmod:kmod
kvmst_lock "$KDIR/.lock"
if [[ ! -e "$DEST/kernel-version" ]]; then
    kvmst_info "fetching $PKG=$PKGVER (log: $LOG)"
    TMP="$(mktemp -d "$KDIR/.tmp.XXXXXX")"
    trap 'rm -rf --one-file-system "$TMP"' EXIT
    chmod 0755 "$TMP"
    # apt-get download writes into the current directory.
    (cd "$TMP" && kvmst_run "$LOG" apt-get download "$PKG=$PKGVER") ||
        kvmst_die "apt-get download $PKG=$PKGVER failed" "$LOG"
    DEB="$(ls "$TMP"/*.deb)"
    kvmst_run "$LOG" dpkg-deb -x "$DEB" "$TMP/root" || kvmst_die "dpkg-deb -x $DEB failed" "$LOG"
    KVER="$(ls "$TMP/root/lib/modules")"
    [[ -n "$KVER" && -f "$TMP/root/boot/vmlinuz-$KVER" ]] ||
        kvmst_die "no boot/vmlinuz-$KVER in $DEB" "$LOG"
    # Debian's package ships no modules.dep: depmod builds it in postinst.
    kvmst_run "$LOG" depmod -b "$TMP/root" "$KVER" || kvmst_die "depmod failed" "$LOG"
    chmod 0644 "$TMP/root/boot/vmlinuz-$KVER"
    echo "$KVER" >"$TMP/kernel-version"
    echo "$PKG=$PKGVER" >"$TMP/package"
    mv -T "$TMP" "$DEST"
    trap - EXIT
    kvmst_info "kernel $KVER cached in $DEST"
fi
ln -sfn "$NAME" "$KDIR/current"
emit "$DEST"
