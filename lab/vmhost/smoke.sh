#!/usr/bin/env bash
# Smoke test of the running lab VM host (start it with lab/vmhost/up.sh; KVMST_VMHOST_SUITE
# picks which), over SSH:
#   - bookworm: libvirtd is active (systemctl is-active libvirtd), answers virsh, supports
#     logical pools;
#   - trixie (libvirt is installed by the hypervisor role, not by the image): before that,
#     libvirt is not installed and apt would install exactly the libvirt packages whose .debs
#     the image holds (no network needed); after it, libvirtd answers virsh (socket
#     activated) and supports logical pools;
#   - the zip import bytecode cache of the image (lab/vmhost/zipimport_cache.py) works;
#   - real device-mapper: on the second extra disk, pvcreate, vgcreate kvmst_vg,
#     a thin pool, a thin volume (written to), a thin snapshot, then all removed again.
# Prints one line per check; exits non-zero on the first failure. The disk is left empty.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/vmhost/common-vmhost.sh
source "$HERE/common-vmhost.sh"

LOG="$KVMST_LOG_DIR/$VMHOST_ID-smoke.log"
: >"$LOG"
start=$SECONDS
# The remote script runs under `bash -s`; its output goes to the log, check lines to stdout.
if ! "$HERE/ssh.sh" bash -s -- "$VMHOST_SUITE" >>"$LOG" 2>&1 <<'EOF'; then
set -euo pipefail
SUITE="$1"
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

if [ "$SUITE" = trixie ] && ! dpkg-query -W -f '${db:Status-Abbrev}' libvirt-daemon-system 2>/dev/null | grep -q '^ii'; then
    # The role's apt transaction, simulated: exactly the packages the image left to it.
    role="$(cat /etc/kvmst-lab/role-packages)"
    # shellcheck disable=SC2086
    would="$(LC_ALL=C apt-get -s install $role | awk '$1 == "Inst" { print $2 }' | sort)"
    [ -n "$would" ] && [ "$would" = "$(sort /etc/kvmst-lab/role-installs)" ] ||
        { echo "FAIL apt would install [$would], the image left [$(sort /etc/kvmst-lab/role-installs)] to the role"; exit 1; }
    for p in $would; do
        ls /var/cache/apt/archives/"${p}"_*.deb >/dev/null || { echo "FAIL no cached .deb of $p"; exit 1; }
    done
    check "libvirt not installed yet: the role's apt transaction installs $(echo "$would" | wc -l) libvirt packages, all cached"
    check "python $(python3 -c 'import platform; print(platform.python_version())'), qemu $(qemu-system-x86_64 --version | awk 'NR == 1 { print $4 }'), kernel $(uname -r)"
    caps=""
elif [ "$SUITE" = trixie ]; then
    # Socket activated with --timeout 120: virsh starts libvirtd when it is idle-stopped.
    virsh -c qemu:///system uri >/dev/null
    check "libvirtd answers ($(virsh -c qemu:///system version --daemon | awk '/daemon/ { print $NF }'))"
    caps="$(virsh -c qemu:///system pool-capabilities)"
else
    state="$(systemctl is-active libvirtd || true)"
    [ "$state" = active ] || { echo "FAIL libvirtd is $state"; exit 1; }
    check "libvirtd active"
    # (no qemu-system inside: `virsh version` fails with "Cannot find suitable emulator")
    caps="$(virsh -c qemu:///system pool-capabilities)"
fi
if [ -n "$caps" ]; then
    case "$caps" in
    *"<pool type='logical' supported='yes'>"*) ;;
    *) echo "FAIL libvirt reports no logical pool support"; exit 1 ;;
    esac
    check "virsh answers, logical pools supported"
fi

# The zip import bytecode cache (lab/vmhost/zipimport_cache.py): a new source is compiled
# and cached once, then its cached code runs (same result, same file name in tracebacks).
probe="$(mktemp -d)"
printf 'X = 6 * 7  # %s\ndef where():\n    return where.__code__.co_filename\n' "$(date +%s%N)" >"$probe/kvmst_zc_probe.py"
(cd "$probe" && python3 -m zipfile -c probe.zip kvmst_zc_probe.py)
# (no folder before the first zip import of a fresh VM host: none cached)
count() { if [ -d /var/cache/kvmst-zipimport ]; then find /var/cache/kvmst-zipimport -type f | wc -l; else echo 0; fi; }
before="$(count)"
for run in compiled cached; do
    out="$(python3 -c "import sys, zipimport, kvmst_zipimport_cache as c
assert zipimport._compile_source is c._cached_compile_source, 'hook not installed'
sys.path.insert(0, '$probe/probe.zip')
import kvmst_zc_probe as m
print(m.X, m.where())")"
    [ "$out" = "42 $probe/probe.zip/kvmst_zc_probe.py" ] || { echo "FAIL zip import ($run): $out"; exit 1; }
    [ "$(count)" = $((before + 1)) ] || { echo "FAIL the zip import cache holds $(count) entries, not $((before + 1)) ($run)"; exit 1; }
done
rm -rf "$probe"
check "zip imports compile once, then run from /var/cache/kvmst-zipimport"

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
    kvmst_die "VM host $VMHOST_NAME smoke test failed after $((SECONDS - start))s (log: $LOG)" "$LOG"
fi
sed -n 's/^CHECK /ok: /p' "$LOG"
kvmst_info "VM host $VMHOST_NAME smoke test passed in $((SECONDS - start))s (log: $LOG)"
