#!/usr/bin/env bash
# Boot one lab test guest through libvirt and wait for its marker on the serial console:
# define, start, wait (KVMST_GUEST_TIMEOUT, 60 s), then destroy + undefine (always).
#   lab/guest/smoke.sh [kvmst-NAME]      (default kvmst-smoke)
# Starts virtlogd/libvirtd when they are not running (no systemd on the lab machines).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/guest/common.sh
source "$HERE/common.sh"

NAME="${1:-kvmst-smoke}"
TIMEOUT="${KVMST_GUEST_TIMEOUT:-60}"
URI=qemu:///system
CONSOLE_LOG="$KVMST_LOG_DIR/$NAME.console.log"
export KVMST_GUEST_CONSOLE_LOG="$CONSOLE_LOG"

kvmst_require virsh:libvirt-clients libvirtd:libvirt-daemon-system qemu-system-x86_64:qemu-system-x86
if ! virsh -c "$URI" version >/dev/null 2>&1; then
    kvmst_info "starting virtlogd and libvirtd"
    mkdir -p /run/libvirt
    pgrep -x virtlogd >/dev/null || virtlogd -d
    pgrep -x libvirtd >/dev/null || libvirtd -d
    for _ in $(seq 1 50); do virsh -c "$URI" version >/dev/null 2>&1 && break; sleep 0.2; done
    virsh -c "$URI" version >/dev/null 2>&1 || kvmst_die "libvirtd does not answer at $URI"
fi

XML="$(mktemp)"
cleanup() {
    virsh -c "$URI" destroy "$NAME" >/dev/null 2>&1 || true
    virsh -c "$URI" undefine "$NAME" >/dev/null 2>&1 || true
    rm -f "$XML"
}
trap cleanup EXIT
cleanup
"$HERE/domain-xml.sh" "$NAME" >"$XML"
MARKER="$(sed -n 's/^KVMST_GUEST_MARKER=//p' < <("$HERE/initrd.sh"))"
rm -f "$CONSOLE_LOG"
virsh -c "$URI" define "$XML" >/dev/null
start=$SECONDS
virsh -c "$URI" start "$NAME" >/dev/null
until grep -q "$MARKER" "$CONSOLE_LOG" 2>/dev/null; do
    if ((SECONDS - start >= TIMEOUT)); then
        kvmst_die "guest $NAME printed no '$MARKER' within ${TIMEOUT}s" "$CONSOLE_LOG"
    fi
    sleep 0.5
done
kvmst_info "guest $NAME up in $((SECONDS - start))s: $(grep -m1 "$MARKER" "$CONSOLE_LOG")"
