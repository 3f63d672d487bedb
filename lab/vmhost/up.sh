#!/usr/bin/env bash
# Boot a lab nested Debian VM host (building its image first when needed) under TCG,
# with four extra 4 GiB sparse virtio disks and SSH forwarded to 127.0.0.1, wait until
# SSH answers, and write an Ansible inventory. KVMST_VMHOST_SUITE picks which:
#   bookworm (default)  kvmst-vmhost    Debian 12, port 2222, /run/kvmst-lab/vmhost/
#   trixie              kvmst-vmhost13  Debian 13, port 2223, /run/kvmst-lab/vmhost13/
# (each with its own image, disks, lock and logs: both can run at once). Written:
#   <run dir>/inventory   (host kvmst-vmhost or kvmst-vmhost13, group vmhosts)
#   <run dir>/env         (KVMST_VMHOST_* variables, eval-able; also printed)
# Idempotent: when the VM host is already up and answering, it only prints.
# Environment (bookworm / trixie defaults): KVMST_VMHOST_SSH_PORT (2222 / 2223),
# KVMST_VMHOST_BOOT_TIMEOUT (180 / 480 s), KVMST_VMHOST_MEMORY_MIB (3072 / 5120),
# KVMST_VMHOST_DISK_SIZE (4G).
# The disks appear in the VM host as /dev/disk/by-id/virtio-kvmst-diskN; one per user so
# scenarios never share a PV: disk1 tests/vmhost13/logical_pool.yml, disk2
# tests/vmhost/lvm_thin.yml, disk3 the molecule lvm_thin scenario, disk4 the host_profile
# lvm_thin scenario.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/vmhost/common-vmhost.sh
source "$HERE/common-vmhost.sh"

PORT="${KVMST_VMHOST_SSH_PORT:-$VMHOST_DEFAULT_PORT}"
TIMEOUT="${KVMST_VMHOST_BOOT_TIMEOUT:-$VMHOST_DEFAULT_BOOT_TIMEOUT}"
MEM="${KVMST_VMHOST_MEMORY_MIB:-$VMHOST_DEFAULT_MEMORY_MIB}"
DISK_SIZE="${KVMST_VMHOST_DISK_SIZE:-4G}"

kvmst_require qemu-system-x86_64:qemu-system-x86 ssh:openssh-client ss:iproute2
mkdir -p "$KVMST_RUN_DIR"
kvmst_lock "$VMHOST_LOCK"

eval "$("$HERE/$VMHOST_BUILD")"
SSH_OPTS="$(vmhost_ssh_opts "$KVMST_VMHOST_SSH_KEY" "$PORT" 15)"

ssh_ok() {
    # shellcheck disable=SC2086
    ssh $SSH_OPTS root@127.0.0.1 true >/dev/null 2>&1
}

print_env() { cat "$VMHOST_RUN/env"; }

# wait_ssh START_SECONDS PID: poll until SSH answers, qemu dies or the deadline passes.
wait_ssh() {
    local start="$1" pid="$2"
    until ssh_ok; do
        if [[ -z "$(vmhost_pid)" ]]; then
            kvmst_die "the VM host's qemu (pid $pid) exited during boot (qemu log: $VMHOST_QEMU_LOG)" "$VMHOST_CONSOLE"
        fi
        if ((SECONDS - start >= TIMEOUT)); then
            kvmst_die "the VM host did not answer SSH on 127.0.0.1:$PORT within ${TIMEOUT}s (qemu pid $pid still running; run ${VMHOST_ENV}lab/vmhost/down.sh)" "$VMHOST_CONSOLE"
        fi
        sleep 2
    done
}

PID="$(vmhost_pid)"
if [[ -n "$PID" ]]; then
    # Already running: keep it (its port and key are in its env file).
    if [[ -s "$VMHOST_RUN/env" ]]; then
        eval "$(cat "$VMHOST_RUN/env")"
        PORT="$KVMST_VMHOST_SSH_PORT"
        SSH_OPTS="$(vmhost_ssh_opts "$KVMST_VMHOST_SSH_KEY" "$PORT" 15)"
    fi
    if [[ "$(cat "$VMHOST_RUN/image-dir" 2>/dev/null)" != "$KVMST_VMHOST_IMAGE_DIR" ]]; then
        kvmst_info "note: the running VM host $VMHOST_NAME was booted from an older image; ${VMHOST_ENV}lab/vmhost/down.sh && ${VMHOST_ENV}lab/vmhost/up.sh boots the current one"
    fi
    start=$SECONDS
    wait_ssh "$start" "$PID"
    kvmst_info "VM host $VMHOST_NAME already up (pid $PID), SSH on 127.0.0.1:$PORT"
    print_env
    exit 0
fi

# Not running: clear what a previous run left.
rm -rf "$VMHOST_RUN" "$VMHOST_DISKS"
if ss -Htln "sport = :$PORT" | grep . >/dev/null; then
    kvmst_die "TCP port $PORT is already in use on this machine (set KVMST_VMHOST_SSH_PORT)"
fi
mkdir -p "$VMHOST_RUN" "$VMHOST_DISKS"
chmod 0700 "$VMHOST_RUN"
for i in 1 2 3 4; do
    truncate -s "$DISK_SIZE" "$VMHOST_DISKS/disk$i.img"
done
echo "$KVMST_VMHOST_IMAGE_DIR" >"$VMHOST_RUN/image-dir"

: >"$VMHOST_CONSOLE"
printf '\n== %s up.sh: qemu start\n' "$(date -u +%FT%TZ)" >>"$VMHOST_QEMU_LOG"
kvmst_info "booting the VM host $VMHOST_NAME ($VMHOST_SUITE; TCG, 2 vCPU, ${MEM} MiB; console: $VMHOST_CONSOLE)"
start=$SECONDS
# The user-mode network is not restricted: a guest migrated to the VM host reaches the
# gluster volume of this machine at 10.0.2.2 (this machine's loopback).
# 9>&-: the daemonized qemu must not inherit (and so hold forever) the lock on fd 9.
# no_timer_check: a loaded host must not fail the kernel's boot-time timer check (see
# lab/guest/domain-xml.sh).
qemu-system-x86_64 \
    -name "$VMHOST_NAME,process=$VMHOST_NAME" \
    -accel tcg -smp 2 -m "$MEM" \
    -nodefaults -display none -monitor none -no-reboot \
    -serial "file:$VMHOST_CONSOLE" \
    -qmp "unix:$VMHOST_QMP,server=on,wait=off" \
    -kernel "$KVMST_VMHOST_KERNEL" -initrd "$KVMST_VMHOST_INITRD" \
    -append "console=ttyS0 rdinit=/sbin/init net.ifnames=0 panic=-1 mitigations=off no_timer_check" \
    -drive "file=$VMHOST_DISKS/disk1.img,if=none,id=disk1,format=raw,cache=unsafe,discard=unmap" \
    -device virtio-blk-pci,drive=disk1,serial=kvmst-disk1 \
    -drive "file=$VMHOST_DISKS/disk2.img,if=none,id=disk2,format=raw,cache=unsafe,discard=unmap" \
    -device virtio-blk-pci,drive=disk2,serial=kvmst-disk2 \
    -drive "file=$VMHOST_DISKS/disk3.img,if=none,id=disk3,format=raw,cache=unsafe,discard=unmap" \
    -device virtio-blk-pci,drive=disk3,serial=kvmst-disk3 \
    -drive "file=$VMHOST_DISKS/disk4.img,if=none,id=disk4,format=raw,cache=unsafe,discard=unmap" \
    -device virtio-blk-pci,drive=disk4,serial=kvmst-disk4 \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:22" \
    -device virtio-net-pci,netdev=n0 \
    -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
    -daemonize -pidfile "$VMHOST_PIDFILE" >>"$VMHOST_QEMU_LOG" 2>&1 9>&- ||
    kvmst_die "qemu-system-x86_64 failed to start" "$VMHOST_QEMU_LOG"
PID="$(vmhost_pid)"
[[ -n "$PID" ]] || kvmst_die "qemu started but its pid file $VMHOST_PIDFILE names no running VM host" "$VMHOST_QEMU_LOG"

cat >"$VMHOST_RUN/env" <<EOF
KVMST_VMHOST_NAME=$VMHOST_NAME
KVMST_VMHOST_SUITE=$VMHOST_SUITE
KVMST_VMHOST_HOST=127.0.0.1
KVMST_VMHOST_SSH_PORT=$PORT
KVMST_VMHOST_SSH_USER=root
KVMST_VMHOST_SSH_KEY=$KVMST_VMHOST_SSH_KEY
KVMST_VMHOST_INVENTORY=$VMHOST_RUN/inventory
KVMST_VMHOST_PID=$PID
KVMST_VMHOST_DISK1=$VMHOST_DISKS/disk1.img
KVMST_VMHOST_DISK2=$VMHOST_DISKS/disk2.img
KVMST_VMHOST_GUEST_DISK1=/dev/disk/by-id/virtio-kvmst-disk1
KVMST_VMHOST_GUEST_DISK2=/dev/disk/by-id/virtio-kvmst-disk2
KVMST_VMHOST_GUEST_DISK3=/dev/disk/by-id/virtio-kvmst-disk3
KVMST_VMHOST_GUEST_DISK4=/dev/disk/by-id/virtio-kvmst-disk4
EOF
cat >"$VMHOST_RUN/inventory" <<EOF
# Written by lab/vmhost/up.sh: the lab's nested $VMHOST_SUITE VM host (removed by lab/vmhost/down.sh).
[vmhosts]
$VMHOST_NAME ansible_host=127.0.0.1 ansible_port=$PORT ansible_user=root ansible_ssh_private_key_file=$KVMST_VMHOST_SSH_KEY ansible_python_interpreter=/usr/bin/python3 ansible_pipelining=true ansible_ssh_timeout=60 ansible_ssh_retries=3 ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
EOF

wait_ssh "$start" "$PID"
kvmst_info "VM host $VMHOST_NAME up in $((SECONDS - start))s (pid $PID), SSH on 127.0.0.1:$PORT, inventory $VMHOST_RUN/inventory"
print_env
