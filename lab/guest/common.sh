#!/usr/bin/env bash
# Shared helpers for the kvmst lab scripts (lab/guest/*.sh, lab/vmhost/*.sh).
# Sourced, never executed. Everything noisy goes to log files under
# $KVMST_LOG_DIR; stdout is kept for machine-readable KEY=VALUE lines.
set -euo pipefail

KVMST_CACHE_DIR="${KVMST_CACHE_DIR:-/var/cache/kvmst-lab}"
KVMST_LOG_DIR="${KVMST_LOG_DIR:-/var/log/kvmst-lab}"
KVMST_RUN_DIR="${KVMST_RUN_DIR:-/run/kvmst-lab}"
KVMST_VAR_TMP="${KVMST_VAR_TMP:-/var/tmp/kvmst-lab}"
export KVMST_CACHE_DIR KVMST_LOG_DIR KVMST_RUN_DIR KVMST_VAR_TMP

mkdir -p "$KVMST_LOG_DIR"
chmod 0755 "$KVMST_LOG_DIR"

# Prefix for messages on stderr, e.g. "kvmst kernel.sh".
KVMST_ME="kvmst $(basename "$0")"

kvmst_info() { printf '%s: %s\n' "$KVMST_ME" "$*" >&2; }

# kvmst_die MSG [LOGFILE]: one-line error, then the tail of LOGFILE if given.
kvmst_die() {
    printf '%s: ERROR: %s\n' "$KVMST_ME" "$1" >&2
    if [[ -n "${2:-}" && -s "${2}" ]]; then
        printf -- '--- last lines of %s ---\n' "$2" >&2
        tail -n "${KVMST_TAIL_LINES:-25}" "$2" >&2
    fi
    exit 1
}

# kvmst_run LOGFILE CMD...: run CMD with all output appended to LOGFILE.
kvmst_run() {
    local log="$1"
    shift
    printf '\n+ %s\n' "$*" >>"$log"
    "$@" >>"$log" 2>&1
}

kvmst_sha256() { sha256sum | cut -d' ' -f1; }

_kvmst_apt_updated=0
kvmst_apt_update() {
    local log="$KVMST_LOG_DIR/apt.log"
    if [[ "$_kvmst_apt_updated" == 0 ]]; then
        kvmst_info "apt-get update (log: $log)"
        kvmst_run "$log" env DEBIAN_FRONTEND=noninteractive apt-get update ||
            kvmst_die "apt-get update failed" "$log"
        _kvmst_apt_updated=1
    fi
}

# kvmst_require CMD:PACKAGE ...: apt-get install the packages whose command is missing.
kvmst_require() {
    local spec cmd pkg missing=()
    for spec in "$@"; do
        cmd="${spec%%:*}"
        pkg="${spec#*:}"
        if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "$cmd" ]]; then
            missing+=("$pkg")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    local log="$KVMST_LOG_DIR/apt.log"
    kvmst_apt_update
    kvmst_info "installing ${missing[*]} (log: $log)"
    kvmst_run "$log" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}" ||
        kvmst_die "apt-get install ${missing[*]} failed" "$log"
}

# kvmst_debian_mirror: the Debian mirror this machine's apt uses (for debootstrap).
kvmst_debian_mirror() {
    if [[ -n "${KVMST_DEBIAN_MIRROR:-}" ]]; then
        echo "$KVMST_DEBIAN_MIRROR"
        return
    fi
    local uri
    # shellcheck disable=SC2016  # apt's own $(FIELD) syntax
    uri="$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
        awk '$2 == "bookworm" { print $1; exit }')"
    echo "${uri:-http://deb.debian.org/debian/}"
}

# kvmst_lock FILE [TIMEOUT]: hold an exclusive lock on FILE (fd 9) until the script
# exits; with TIMEOUT (seconds), return 1 when it cannot be had in time.
kvmst_lock() {
    mkdir -p "$(dirname "$1")"
    exec 9>"$1"
    flock -n 9 && return 0
    kvmst_info "waiting for lock $1"
    if [[ -n "${2:-}" ]]; then
        flock -w "$2" 9
    else
        flock 9
    fi
}
