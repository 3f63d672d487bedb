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
#
# KVMST_KERNEL_SUITE=<Debian suite> (e.g. trixie) takes the kernel of that release instead
# of this machine's: the same steps through apt with a private configuration (its own
# sources.list naming only `<mirror> <suite> main`, package lists, cache and an empty
# dpkg status under /var/cache/kvmst-lab/kernel/apt-<suite>/; the machine's apt setup is
# never touched). Its lists are fetched on first use and again when older than
# KVMST_KERNEL_LISTS_MAX_AGE_DAYS (7; a failed refresh keeps the old lists). The
# `current` link of the suite is `current-<suite>`.
set -euo pipefail
# shellcheck source=lab/guest/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

LOG="$KVMST_LOG_DIR/kernel.log"
KDIR="$KVMST_CACHE_DIR/kernel"
SUITE="${KVMST_KERNEL_SUITE:-}"
mkdir -p "$KDIR"
chmod 0755 "$KVMST_CACHE_DIR" "$KDIR"

# APT: the apt options of the chosen release (none: this machine's apt).
APT=()
CURRENT=current
if [[ -n "$SUITE" ]]; then
    [[ "$SUITE" =~ ^[a-z]+(-[a-z]+)?$ ]] || kvmst_die "KVMST_KERNEL_SUITE=$SUITE is not a Debian suite name"
    SDIR="$KDIR/apt-$SUITE"
    CURRENT="current-$SUITE"
    mkdir -p "$SDIR/lists/partial" "$SDIR/cache/archives/partial" "$SDIR/parts" "$SDIR/prefs"
    printf 'deb %s %s main\n' "$(kvmst_debian_mirror)" "$SUITE" >"$SDIR/sources.list"
    touch "$SDIR/status"
    APT=(-o "Dir::Etc::SourceList=$SDIR/sources.list" -o "Dir::Etc::SourceParts=$SDIR/parts"
        -o "Dir::Etc::Preferences=$SDIR/prefs/none" -o "Dir::Etc::PreferencesParts=$SDIR/prefs"
        -o "Dir::State::Lists=$SDIR/lists" -o "Dir::State::status=$SDIR/status"
        -o "Dir::Cache=$SDIR/cache" -o Acquire::Languages=none -o APT::Get::List-Cleanup=true)
fi

# apt_update: refresh the package lists apt-cache reads (this machine's, or the suite's).
apt_update() {
    if [[ -z "$SUITE" ]]; then
        kvmst_apt_update
        return
    fi
    kvmst_info "apt-get update for $SUITE (private lists in $SDIR; log: $LOG)"
    kvmst_run "$LOG" flock -w 300 "$SDIR/.update.lock" env DEBIAN_FRONTEND=noninteractive apt-get "${APT[@]}" update ||
        kvmst_die "apt-get update of the $SUITE lists failed" "$LOG"
    touch "$SDIR/lists/.updated"
}
if [[ -n "$SUITE" ]] && [[ -n "$(find "$SDIR/lists/.updated" -mtime "+${KVMST_KERNEL_LISTS_MAX_AGE_DAYS:-7}" 2>/dev/null)" ]]; then
    (apt_update) || kvmst_info "WARNING: refreshing the $SUITE lists failed; using the old ones"
fi

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
        pkg="$(apt-cache "${APT[@]}" depends linux-image-amd64 2>/dev/null |
            awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')"
    fi
    [[ -n "$pkg" ]] || return 0
    ver="$(apt-cache "${APT[@]}" policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')"
    [[ -n "$ver" && "$ver" != "(none)" ]] || return 0
    echo "$pkg $ver"
}

read -r PKG PKGVER < <(resolve_package || true) || true
if [[ -z "${PKG:-}" ]]; then
    # Fresh machine: apt lists may be empty.
    apt_update
    read -r PKG PKGVER < <(resolve_package || true) || true
fi
if [[ -z "${PKG:-}" ]]; then
    if [[ -e "$KDIR/$CURRENT/kernel-version" ]]; then
        kvmst_info "apt cannot resolve linux-image-amd64${SUITE:+ of $SUITE}; using the cached kernel"
        emit "$(readlink -f "$KDIR/$CURRENT")"
        exit 0
    fi
    kvmst_die "cannot resolve the package that linux-image-amd64${SUITE:+ of $SUITE} depends on (apt-cache depends linux-image-amd64)" "$KVMST_LOG_DIR/apt.log"
fi

NAME="${PKG}_${PKGVER//[:~]/_}"
DEST="$KDIR/$NAME"
if [[ -e "$DEST/kernel-version" ]]; then
    ln -sfn "$NAME" "$KDIR/$CURRENT"
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
    (cd "$TMP" && kvmst_run "$LOG" apt-get "${APT[@]}" download "$PKG=$PKGVER") ||
        kvmst_die "apt-get download $PKG=$PKGVER failed" "$LOG"
    DEB="$(ls "$TMP"/*.deb)"
    kvmst_run "$LOG" dpkg-deb -x "$DEB" "$TMP/root" || kvmst_die "dpkg-deb -x $DEB failed" "$LOG"
    # Debian 13's packages ship usr/lib/modules (merged /usr): lib/modules names it too,
    # for depmod -b and for the paths printed below.
    if [[ ! -e "$TMP/root/lib/modules" && -d "$TMP/root/usr/lib/modules" ]]; then
        mkdir -p "$TMP/root/lib"
        ln -s ../usr/lib/modules "$TMP/root/lib/modules"
    fi
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
ln -sfn "$NAME" "$KDIR/$CURRENT"
emit "$DEST"
