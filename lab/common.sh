# shellcheck shell=bash
# Shared helpers for the kvm.storage lab scripts. Sourced, never executed.
#
# Conventions:
#   * every object the lab creates carries the "kvmst" prefix;
#   * noisy command output goes to $KVMST_LOG_DIR/<script>.log, the terminal only
#     gets one line per step and one line per error;
#   * state (pids of daemons we started, locks) lives in $KVMST_RUN_DIR.

KVMST_LOG_DIR=${KVMST_LOG_DIR:-/var/log/kvmst-lab}
KVMST_RUN_DIR=${KVMST_RUN_DIR:-/run/kvmst-lab}
KVMST_SRV_DIR=${KVMST_SRV_DIR:-/srv/kvmst-lab}
KVMST_TIMEOUT=${KVMST_TIMEOUT:-30}   # seconds to wait for a daemon / object to answer
KVMST_LIBVIRT_URI=${KVMST_LIBVIRT_URI:-qemu:///system}

# Name of the calling script without extension ("services", "fixtures", ...).
KVMST_SCRIPT=${KVMST_SCRIPT:-$(basename "${0%.sh}")}
KVMST_LOG="$KVMST_LOG_DIR/$KVMST_SCRIPT.log"

# Last non-empty line of the output of the last failed kvmst_run.
KVMST_LAST_ERR=""

kvmst_say() { printf 'kvmst-lab %s: %s\n' "$KVMST_SCRIPT" "$*"; }

kvmst_die() {
  printf 'kvmst-lab %s: ERROR: %s\n' "$KVMST_SCRIPT" "$*" >&2
  exit 1
}

kvmst_require_root() {
  [[ $(id -u) -eq 0 ]] || kvmst_die "must run as root (uid 0), running as uid $(id -u)"
}

kvmst_init() {
  kvmst_require_root
  mkdir -p "$KVMST_LOG_DIR" "$KVMST_RUN_DIR"
  # A shared working directory that exists on every machine: some tools
  # (gluster, qemu-img) write relative files or fail in removed cwd's.
  cd /
}

# kvmst_log_line TEXT: append a timestamped line to the script log.
kvmst_log_line() { printf '[%s] %s\n' "$(date '+%F %T')" "$*" >>"$KVMST_LOG"; }

# kvmst_run CMD...: run CMD, stdout and stderr appended to the script log (never
# captured through a pipe, so daemons that fork and keep a descriptor cannot hang
# us). Returns CMD's status; on failure KVMST_LAST_ERR holds its last output line.
kvmst_run() {
  local size rc=0
  kvmst_log_line "+ $*"
  size=$(stat -c %s "$KVMST_LOG")
  # 9>&-: daemons started here must not inherit the lock descriptor (kvmst_lock).
  "$@" >>"$KVMST_LOG" 2>&1 </dev/null 9>&- || rc=$?
  if ((rc != 0)); then
    KVMST_LAST_ERR=$(tail -c "+$((size + 1))" "$KVMST_LOG" | grep -v '^[[:space:]]*$' | tail -n 1 || true)
    kvmst_log_line "exit status $rc"
  fi
  return "$rc"
}

# kvmst_must WHAT CMD...: kvmst_run CMD or die with a one-line message.
kvmst_must() {
  local what=$1
  shift
  kvmst_run "$@" || kvmst_die "$what failed: ${KVMST_LAST_ERR:-no output} (log: $KVMST_LOG)"
}

# kvmst_quiet CMD...: run CMD with all output discarded, return its status.
kvmst_quiet() { "$@" >/dev/null 2>&1 </dev/null 9>&-; }

# kvmst_wait_for SECONDS CMD...: poll CMD (quietly) until it succeeds. CMD may be
# a shell function; it must bound its own run time.
kvmst_wait_for() {
  local limit=$1 start=$SECONDS
  shift
  while true; do
    kvmst_quiet "$@" && return 0
    ((SECONDS - start >= limit)) && return 1
    sleep 0.2
  done
}

# kvmst_pid_alive PID [COMM]: PID exists (and its command name is COMM).
kvmst_pid_alive() {
  local pid=$1 comm=${2:-}
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -d /proc/$pid ]] || return 1
  [[ -z $comm ]] && return 0
  local actual=""
  { read -r actual <"/proc/$pid/comm"; } 2>/dev/null
  [[ $actual == "$comm" ]]
}

# kvmst_find_pid COMM: the oldest running process named exactly COMM.
kvmst_find_pid() {
  local d pid comm best=""
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    comm=""
    { read -r comm <"$d/comm"; } 2>/dev/null || continue
    [[ $comm == "$1" ]] || continue
    if [[ -z $best ]] || ((pid < best)); then best=$pid; fi
  done
  [[ -n $best ]] && printf '%s\n' "$best"
}

# kvmst_lock NAME: take an exclusive lock for the rest of the script.
kvmst_lock() {
  exec 9>"$KVMST_RUN_DIR/$1.lock"
  flock -w 300 9 || kvmst_die "another lab/$1 run holds $KVMST_RUN_DIR/$1.lock"
}

# Gluster CLI, never interactive, bounded in time.
kvmst_gluster() { timeout 60 gluster --mode=script "$@"; }
