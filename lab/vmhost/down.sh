#!/usr/bin/env bash
# Stop the lab's VM host by its pid: ACPI power-off through QMP first, SIGTERM after
# KVMST_VMHOST_SHUTDOWN_TIMEOUT (30 s), SIGKILL 10 s later. Then remove the run
# directory (/run/kvmst-lab/vmhost) and the extra disks (/var/tmp/kvmst-lab/vmhost).
# Idempotent: nothing running is fine.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/vmhost/common-vmhost.sh
source "$HERE/common-vmhost.sh"

GRACE="${KVMST_VMHOST_SHUTDOWN_TIMEOUT:-30}"
mkdir -p "$KVMST_RUN_DIR"
kvmst_lock "$VMHOST_LOCK" 120 || kvmst_info "WARNING: lock $VMHOST_LOCK still held after 120s; stopping anyway"

# wait_gone PID SECONDS: true once PID is no longer a running VM host.
wait_gone() {
    local pid="$1" deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        [[ "$(vmhost_pid)" == "$pid" ]] || return 0
        sleep 0.5
    done
    [[ "$(vmhost_pid)" != "$pid" ]]
}

PID="$(vmhost_pid)"
if [[ -n "$PID" ]]; then
    start=$SECONDS
    sent=no
    if [[ -S "$VMHOST_QMP" ]] && command -v python3 >/dev/null &&
        python3 - "$VMHOST_QMP" <<'EOF' >/dev/null 2>&1; then
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()  # greeting
for cmd in ("qmp_capabilities", "system_powerdown"):
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    while "return" not in json.loads(f.readline()):
        pass
EOF
        sent=yes
    fi
    if [[ "$sent" == yes ]] && wait_gone "$PID" "$GRACE"; then
        kvmst_info "VM host (pid $PID) powered off in $((SECONDS - start))s"
    else
        kvmst_info "VM host (pid $PID) did not power off in time: SIGTERM"
        kill -TERM "$PID" 2>/dev/null || true
        if ! wait_gone "$PID" 10; then
            kill -KILL "$PID" 2>/dev/null || true
            wait_gone "$PID" 5 || kvmst_die "cannot stop qemu pid $PID"
        fi
        kvmst_info "VM host (pid $PID) stopped"
    fi
else
    kvmst_info "VM host not running"
fi
rm -rf "$VMHOST_RUN" "$VMHOST_DISKS"
