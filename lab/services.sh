#!/usr/bin/env bash
# Start, stop or show the lab daemons without systemd:
#   virtlogd, virtlockd, libvirtd, glusterd, tgtd.
#
#   lab/services.sh start   start what is not running, wait until each answers
#   lab/services.sh stop    stop only the daemons this script started
#   lab/services.sh status  one line per daemon
#
# Daemons already running (started by hand or by another tool) are accepted
# and never stopped. Pids of the daemons we start are kept in /run/kvmst-lab/.
set -euo pipefail
KVMST_SCRIPT=services
# shellcheck source=lab/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DAEMONS=(virtlogd virtlockd libvirtd glusterd tgtd)
TGTD_PORTAL=${KVMST_TGTD_PORTAL:-127.0.0.1:3260}

# --- per-daemon start commands and readiness probes -----------------------------

start_virtlogd() { kvmst_run virtlogd -d; }
start_virtlockd() { kvmst_run virtlockd -d; }
# /dev/kvm is root-only on these machines; libvirt probes qemu with KVM (as root) and then
# finds KVM "not available now" for the qemu user, so it re-probes qemu on every call
# (4 s per call, 76 s per define). Debian's udev default (root:kvm 0660) stops that.
# Guests here still run under TCG (type='qemu'): KVM itself does not work on this host.
fix_kvm_node() {
    if [[ -c /dev/kvm ]] && getent group kvm >/dev/null; then
        chown root:kvm /dev/kvm && chmod 0660 /dev/kvm
    fi
}
start_libvirtd() { mkdir -p /run/libvirt && kvmst_run libvirtd -d; }
start_glusterd() { mkdir -p /var/log/glusterfs /var/lib/glusterd && kvmst_run glusterd; }
start_tgtd() {
  # tgtd -f stays in the foreground: setsid --fork detaches it into its own session and
  # returns at once. Not `... &`: a background shell function is a subshell that waits for
  # tgtd and keeps this script's descriptors (its lock, its caller's pipes) for tgtd's life.
  local log="$KVMST_LOG_DIR/tgtd.log"
  kvmst_log_line "+ setsid --fork nohup tgtd -f --iscsi portal=$TGTD_PORTAL (log: $log)"
  kvmst_no_inherit setsid --fork nohup tgtd -f --iscsi "portal=$TGTD_PORTAL" >>"$log" 2>&1 </dev/null
  kvmst_wait_for 5 kvmst_find_pid tgtd || { KVMST_LAST_ERR="tgtd exited: $(tail -n 1 "$log")"; return 1; }
}

ready_virtlogd() { [[ -S /run/libvirt/virtlogd-sock ]]; }
ready_virtlockd() { [[ -S /run/libvirt/virtlockd-sock ]]; }
# `virsh version` is not used: here each call made libvirtd probe the qemu
# binary again (4-16 s). `uri` is a round trip through the daemon as well.
ready_libvirtd() { kvmst_quiet timeout 10 virsh -c "$KVMST_LIBVIRT_URI" uri; }
ready_glusterd() {
  kvmst_quiet timeout 10 gluster --mode=script peer status &&
    kvmst_quiet timeout 10 gluster --mode=script volume list
}
ready_tgtd() { kvmst_quiet timeout 10 tgtadm --lld iscsi --mode target --op show; }

binary_of() { printf '%s\n' "$1"; }  # the binary is named like the daemon

pidfile() { printf '%s/%s.pid\n' "$KVMST_RUN_DIR" "$1"; }

# Pid recorded by this script, if that process still runs.
our_pid() {
  local f pid
  f=$(pidfile "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  kvmst_pid_alive "$pid" "$1" && printf '%s\n' "$pid"
}

wait_ready() {
  local name=$1 start=$SECONDS
  while ! "ready_$name"; do
    if ((SECONDS - start >= KVMST_TIMEOUT)); then return 1; fi
    sleep 0.2
  done
}

# --- actions ---------------------------------------------------------------------

start_one() {
  local name=$1 pid t0=$SECONDS
  command -v "$(binary_of "$name")" >/dev/null ||
    kvmst_die "$name: binary not found in PATH (run lab/packages.sh first)"
  pid=$(kvmst_find_pid "$name" || true)
  if [[ -n $pid ]]; then
    wait_ready "$name" ||
      kvmst_die "$name (pid $pid) is running but does not answer after ${KVMST_TIMEOUT}s"
    return 0
  fi
  rm -f "$(pidfile "$name")"
  "start_$name" || kvmst_die "$name failed to start: ${KVMST_LAST_ERR:-no output} (log: $KVMST_LOG)"
  wait_ready "$name" ||
    kvmst_die "$name started but does not answer after ${KVMST_TIMEOUT}s (log: $KVMST_LOG)"
  pid=$(kvmst_find_pid "$name" || true)
  [[ -n $pid ]] || kvmst_die "$name answered but no process named $name is running"
  printf '%s\n' "$pid" >"$(pidfile "$name")"
  kvmst_say "$name started (pid $pid, $((SECONDS - t0))s)"
}

# Gluster brick processes (glusterfsd) are spawned by glusterd and outlive it:
# when we stop a glusterd we started, stop its bricks too.
gluster_brick_pids() {
  local f pid
  for f in /run/gluster/vols/*/*.pid; do
    [[ -f $f ]] || continue
    pid=$(<"$f")
    kvmst_pid_alive "$pid" glusterfsd && printf '%s\n' "$pid"
  done
  return 0
}

kill_and_wait() {
  local pid=$1 comm=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kvmst_pid_alive "$pid" "$comm" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kvmst_pid_alive "$pid" "$comm" || return 0
    sleep 0.1
  done
  return 1
}

stop_one() {
  local name=$1 pid brick
  pid=$(our_pid "$name" || true)
  if [[ -z $pid ]]; then
    rm -f "$(pidfile "$name")"
    return 0
  fi
  local bricks=()
  [[ $name == glusterd ]] && mapfile -t bricks < <(gluster_brick_pids)
  kvmst_log_line "stopping $name (pid $pid)"
  if [[ $name == tgtd ]]; then
    # tgtd ignores SIGTERM while it has targets, and `delete --mode system`
    # answers "invalid request" then: drop the targets of our tgtd first
    # (they live in its memory only and die with it anyway).
    local tid
    for tid in $(timeout 10 tgtadm --lld iscsi --mode target --op show 2>/dev/null |
      sed -n 's/^Target \([0-9]\+\): .*/\1/p'); do
      kvmst_run timeout 10 tgtadm --lld iscsi --mode target --op delete --force --tid "$tid" || true
    done
    kvmst_run timeout 10 tgtadm --lld iscsi --mode system --op delete || true
  fi
  kill_and_wait "$pid" "$name" || kvmst_die "$name (pid $pid) did not exit after SIGKILL"
  for brick in "${bricks[@]}"; do
    kvmst_log_line "stopping glusterfsd brick (pid $brick)"
    kill_and_wait "$brick" glusterfsd || kvmst_die "glusterfsd brick (pid $brick) did not exit"
  done
  rm -f "$(pidfile "$name")"
  kvmst_say "$name stopped (pid $pid${bricks:+, bricks: ${bricks[*]}})"
}

status_one() {
  local name=$1 pid owner state
  pid=$(kvmst_find_pid "$name" || true)
  if [[ -z $pid ]]; then
    printf '%-10s stopped\n' "$name"
    return 1
  fi
  if [[ $(our_pid "$name" || true) == "$pid" ]]; then owner="started by lab"; else owner="external"; fi
  if "ready_$name"; then state=answering; else state="NOT answering"; fi
  printf '%-10s running  pid %-7s %-14s %s\n' "$name" "$pid" "$owner" "$state"
  [[ $state == answering ]]
}

usage() { kvmst_die "usage: $0 start|stop|status"; }

(($# == 1)) || usage
kvmst_init
case $1 in
  start)
    kvmst_lock services
    fix_kvm_node
    for d in "${DAEMONS[@]}"; do start_one "$d"; done
    kvmst_say "all daemons answer: ${DAEMONS[*]}"
    ;;
  stop)
    kvmst_lock services
    # Reverse order: storage servers first, logging last.
    for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do stop_one "${DAEMONS[i]}"; done
    ;;
  status)
    rc=0
    for d in "${DAEMONS[@]}"; do status_one "$d" || rc=1; done
    exit "$rc"
    ;;
  *) usage ;;
esac
