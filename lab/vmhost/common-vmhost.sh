#!/usr/bin/env bash
# Shared by lab/vmhost/{up,down,ssh,smoke}.sh. Sourced, never executed.
set -euo pipefail
# shellcheck source=lab/guest/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../guest/common.sh"

# shellcheck disable=SC2034  # used by the scripts that source this file
{
    VMHOST_NAME=kvmst-vmhost
    VMHOST_RUN="$KVMST_RUN_DIR/vmhost"              # pid file, QMP socket, inventory, env
    VMHOST_DISKS="$KVMST_VAR_TMP/vmhost"            # the extra virtual disks (sparse)
    VMHOST_LOCK="$KVMST_RUN_DIR/vmhost.lock"
    VMHOST_PIDFILE="$VMHOST_RUN/qemu.pid"
    VMHOST_QMP="$VMHOST_RUN/qmp.sock"
    VMHOST_CONSOLE="$KVMST_LOG_DIR/vmhost-console.log"
    VMHOST_QEMU_LOG="$KVMST_LOG_DIR/vmhost-qemu.log"
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
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -- "$VMHOST_NAME" >/dev/null || return 0
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
