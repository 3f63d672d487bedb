#!/usr/bin/env bash
# Smoke test of the running lab VM host (start it with lab/vmhost/up.sh), over SSH:
#   - libvirtd is active (systemctl is-active libvirtd), answers virsh, supports logical pools;
#   - real device-mapper: on the second extra disk, pvcreate, vgcreate kvmst_vg,
#     a thin pool, a thin volume (written to), a thin snapshot, then all removed again.
# Prints one line per check; exits non-zero on the first failure. The disk is left empty.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/vmhost/common-vmhost.sh
source "$HERE/common-vmhost.sh"

LOG="$KVMST_LOG_DIR/vmhost-smoke.log"
: >"$LOG"
start=$SECONDS
# The remote script runs under `bash -s`; its output goes to the log, check lines to stdout.
if ! "$HERE/ssh.sh" bash -s >>"$LOG" 2>&1 <<'EOF'; then
set -euo pipefail
VG=kvmst_vg
DISK=/dev/disk/by-id/virtio-kvmst-disk2
[ -b "$DISK" ] || DISK=/dev/vdb
check() { echo "CHECK $*"; }
cleanup() {
    set +e
    if vgs "$VG" >/dev/null 2>&1; then
        lvremove -y "$VG"
        vgremove -y "$VG"
    fi
    pvs "$DISK" >/dev/null 2>&1 && pvremove -y "$DISK"
}
trap cleanup EXIT

state="$(systemctl is-active libvirtd || true)"
[ "$state" = active ] || { echo "FAIL libvirtd is $state"; exit 1; }
check "libvirtd active"
# (no qemu-system inside: `virsh version` fails with "Cannot find suitable emulator")
caps="$(virsh -c qemu:///system pool-capabilities)"
case "$caps" in
*"<pool type='logical' supported='yes'>"*) ;;
*) echo "FAIL libvirt reports no logical pool support"; exit 1 ;;
esac
check "virsh answers, logical pools supported"

cleanup >/dev/null 2>&1   # leftovers of an interrupted run
set -x
pvcreate -y "$DISK"
vgcreate "$VG" "$DISK"
lvcreate -y --type thin-pool -L 1G -n tpool "$VG"
lvcreate -y -V 2G --thin -n thin1 "$VG/tpool"
dd if=/dev/urandom of="/dev/$VG/thin1" bs=1M count=16 oflag=direct status=none
lvcreate -y -s -n snap1 "$VG/thin1"
lvchange -ay -K "$VG/snap1"
lvs -a -o lv_name,lv_attr,lv_size,pool_lv,origin,data_percent "$VG"
dmsetup table | grep -E 'thin-pool|thin '
cmp -n 16777216 "/dev/$VG/thin1" "/dev/$VG/snap1"
set +x
[ "$(lvs --noheadings -o lv_attr "$VG/tpool" | tr -d ' ' | cut -c1)" = t ] || { echo "FAIL tpool is not a thin pool"; exit 1; }
[ "$(lvs --noheadings -o lv_attr "$VG/thin1" | tr -d ' ' | cut -c1)" = V ] || { echo "FAIL thin1 is not a thin volume"; exit 1; }
[ "$(lvs --noheadings -o origin "$VG/snap1" | tr -d ' ')" = thin1 ] || { echo "FAIL snap1 is not a snapshot of thin1"; exit 1; }
check "LVM thin pool, thin volume and thin snapshot on $DISK (device-mapper thin-pool target)"
set -x
lvremove -y "$VG"
vgremove -y "$VG"
pvremove -y "$DISK"
set +x
trap - EXIT
check "removed again"
EOF
    kvmst_die "VM host smoke test failed after $((SECONDS - start))s (log: $LOG)" "$LOG"
fi
sed -n 's/^CHECK /ok: /p' "$LOG"
kvmst_info "VM host smoke test passed in $((SECONDS - start))s (log: $LOG)"
