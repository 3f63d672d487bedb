#!/usr/bin/env bash
# This machine's qemu-system-x86_64 for the VM host, as a tarball.
#
#   lab/vmhost/qemu-bundle.sh           build it (cached) and print its path
#   lab/vmhost/qemu-bundle.sh install   the same, and unpack it on the running VM host
#                                       as /opt/kvmst-qemu unless it is there already
#
# The VM host image has libvirtd but no qemu-system (the package and its block drivers
# would pull in ceph and friends). Its libvirt probes an emulator before it defines any
# qemu guest, and a guest migrated there must really run. This machine runs the same
# Debian release, so its qemu works there: the binary, the libraries it and its TCG and
# gluster modules load, its firmware (seabios, ipxe and qemu's own ROMs in one folder),
# gluster's translators (libgfapi loads them from the path it was built with:
# `install` links that path to the bundle's copy) and a wrapper that points qemu at the
# rest. Unpacked to /opt on the VM host, a guest names /opt/kvmst-qemu/emulator as
# <emulator> (or a link to it where libvirt looks).
#
# Built once per qemu package version (cached under $KVMST_CACHE_DIR), in a few seconds.
# Installed by one SSH stream (`ansible.builtin.unarchive` takes a minute in the TCG VM
# host), only when /opt/kvmst-qemu/<tarball name> is missing; the scenarios leave it there
# for the next one, and it goes when the VM host stops (its root file system is in RAM).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/guest/common.sh
source "$HERE/../guest/common.sh"

kvmst_require qemu-system-x86_64:qemu-system-x86
MODULES=/usr/lib/x86_64-linux-gnu/qemu
GLUSTER_LIBS=/usr/lib/x86_64-linux-gnu/glusterfs
[[ -e "$MODULES/block-gluster.so" ]] || kvmst_die "qemu's gluster driver $MODULES/block-gluster.so is missing (apt-get install qemu-block-extra)"

[[ $# -eq 0 || ( $# -eq 1 && $1 == install ) ]] || kvmst_die "usage: $0 [install]"
# vmhost_run: ssh.sh with up to three tries when ssh itself fails (rc 255: no
# connection, a greeting that timed out); any other status is the command's own.
# The unpack reads the tarball from a file, re-opened by each try.
vmhost_run() {
    local try rc
    for try in 1 2 3; do
        rc=0
        "$@" || rc=$?
        ((rc == 255)) || return "$rc"
        kvmst_info "ssh to the VM host failed (try $try of 3)"
    done
    return 255
}
ssh_marker() { bash "$HERE/ssh.sh" "test -e $1 && echo yes || echo no"; }
ssh_unpack() {
    bash "$HERE/ssh.sh" "rm -rf /opt/kvmst-qemu && tar xzf - -C /opt && test -e $1 &&
        ln -sfn /opt/kvmst-qemu/glusterfs $GLUSTER_LIBS" <"$DEST"
}
install() {
    local marker have
    marker="/opt/kvmst-qemu/$(basename "$DEST")"
    have="$(vmhost_run ssh_marker "$marker")" || kvmst_die "could not reach the VM host over SSH"
    if [[ $have != yes ]]; then
        vmhost_run ssh_unpack "$marker" || kvmst_die "could not unpack $DEST on the VM host"
    fi
}

VERSION="$(dpkg-query -W -f '${Version}' qemu-system-x86 qemu-block-extra glusterfs-common 2>/dev/null | kvmst_sha256 | cut -c1-16)"
HASH="$( { cat "${BASH_SOURCE[0]}"; echo "$VERSION"; } | kvmst_sha256 | cut -c1-16)"
DEST="$KVMST_CACHE_DIR/vmhost-qemu/kvmst-qemu-$HASH.tgz"
if [[ -s "$DEST" ]]; then
    [[ ${1:-} != install ]] || install
    echo "$DEST"
    exit 0
fi

mkdir -p "$(dirname "$DEST")"
TMP="$(mktemp -d "$(dirname "$DEST")/.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
B="$TMP/kvmst-qemu"
mkdir -p "$B/lib" "$B/modules" "$B/share" "$B/glusterfs"
BIN="$(command -v qemu-system-x86_64)"
cp "$BIN" "$B/"
cp "$MODULES"/accel-tcg-*.so "$MODULES/block-gluster.so" "$B/modules/"
# the translators only (not gluster's python tools beside them)
cp -r "$GLUSTER_LIBS"/[0-9]* "$B/glusterfs/"
for object in "$BIN" "$MODULES/block-gluster.so" $(find "$B/glusterfs" -name '*.so'); do
    ldd "$object" | awk '/=> \//{ print $3 }'
done | sort -u | xargs -I{} cp -L {} "$B/lib/"
# Debian's qemu looks for firmware in these three (its --firmwarepath); -L names the copy.
for dir in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
    cp -rL "$dir/." "$B/share/"
done
cat >"$B/emulator" <<'EOF'
#!/bin/sh
# kvm.storage lab: this machine's qemu, unpacked on the VM host (lab/vmhost/qemu-bundle.sh).
D=/opt/kvmst-qemu
LD_LIBRARY_PATH=$D/lib QEMU_MODULE_DIR=$D/modules exec $D/qemu-system-x86_64 -L $D/share "$@"
EOF
chmod 0755 "$B/emulator"
: >"$B/$(basename "$DEST")"
tar czf "$TMP/bundle.tgz" -C "$TMP" kvmst-qemu
rm -f "$(dirname "$DEST")"/kvmst-qemu-*.tgz   # older bundles
mv "$TMP/bundle.tgz" "$DEST"
[[ ${1:-} != install ]] || install
echo "$DEST"
