#!/usr/bin/env bash
# Shared by lab/vmhost/{up,down,ssh,smoke}.sh. Sourced, never executed.
set -euo pipefail
# shellcheck source=lab/guest/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../guest/common.sh"

# KVMST_VMHOST_SUITE selects the VM host: bookworm (default; Debian 12, lab/vmhost/build.sh)
# or trixie (Debian 13, lab/vmhost/build-trixie.sh). Each has its own name, SSH port, run
# directory, disks, lock and logs, so both can run at once.
VMHOST_SUITE="${KVMST_VMHOST_SUITE:-bookworm}"
# shellcheck disable=SC2034  # used by the scripts that source this file
case "$VMHOST_SUITE" in
bookworm)
    VMHOST_NAME=kvmst-vmhost
    VMHOST_BUILD=build.sh
    VMHOST_DEFAULT_PORT=2222
    VMHOST_DEFAULT_MEMORY_MIB=3072
    VMHOST_DEFAULT_BOOT_TIMEOUT=180
    ;;
trixie)
    VMHOST_NAME=kvmst-vmhost13
    VMHOST_BUILD=build-trixie.sh
    VMHOST_DEFAULT_PORT=2223
    # Its root file system (the initramfs, in RAM) is 1.3 GB, qemu and its recommends
    # included; the kernel gives the initramfs half the RAM at most (and the role's
    # install adds to it).
    VMHOST_DEFAULT_MEMORY_MIB=5120
    # A 640 MiB initramfs and systemd 257: SSH answered after 195 s on a loaded machine.
    VMHOST_DEFAULT_BOOT_TIMEOUT=480
    ;;
*) kvmst_die "KVMST_VMHOST_SUITE=$VMHOST_SUITE: the lab has a bookworm and a trixie VM host" ;;
esac

# shellcheck disable=SC2034  # used by the scripts that source this file
{
    VMHOST_ID="${VMHOST_NAME#kvmst-}"                  # vmhost, vmhost13
    VMHOST_RUN="$KVMST_RUN_DIR/$VMHOST_ID"             # pid file, QMP socket, inventory, env
    VMHOST_DISKS="$KVMST_VAR_TMP/$VMHOST_ID"           # the extra virtual disks (sparse)
    VMHOST_LOCK="$KVMST_RUN_DIR/$VMHOST_ID.lock"
    VMHOST_PIDFILE="$VMHOST_RUN/qemu.pid"
    VMHOST_QMP="$VMHOST_RUN/qmp.sock"
    VMHOST_CONSOLE="$KVMST_LOG_DIR/$VMHOST_ID-console.log"
    VMHOST_QEMU_LOG="$KVMST_LOG_DIR/$VMHOST_ID-qemu.log"
    # How messages name a lab script for this VM host (e.g. "${VMHOST_ENV}lab/vmhost/down.sh").
    VMHOST_ENV=""
    [[ "$VMHOST_SUITE" == bookworm ]] || VMHOST_ENV="KVMST_VMHOST_SUITE=$VMHOST_SUITE "
}

# vmhost_pid: print the pid of the running VM host qemu, or nothing.
vmhost_pid() {
    local pid state
    [[ -s "$VMHOST_PIDFILE" ]] || return 0
    pid="$(tr -dc 0-9 <"$VMHOST_PIDFILE" 2>/dev/null || true)"
    [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 0
    # A zombie (nobody reaps daemonized processes here) is not running.
    state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ "$state" != Z && "$state" != X && -n "$state" ]] || return 0
    # The exact -name argument up.sh gives (kvmst-vmhost must not match kvmst-vmhost13).
    tr '\0' '\n' <"/proc/$pid/cmdline" | grep -Fx -- "$VMHOST_NAME,process=$VMHOST_NAME" >/dev/null || return 0
    echo "$pid"
}

# vmhost_ssh_opts KEY PORT [CONNECT_TIMEOUT]: the ssh options used to reach the VM host.
# (ssh keeps the FIRST value given for an option: pass the timeout here, not after.)
# The timeout also bounds the banner exchange: a TCG VM host on a loaded 2-core machine
# took over 10 s to greet once (CI, session 8: "Connection timed out during banner
# exchange"), hence 60 s unless the caller polls (up.sh's boot wait passes 15).
vmhost_ssh_opts() {
    echo "-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=${3:-60} -o ServerAliveInterval=15 -i $1 -p $2"
}
