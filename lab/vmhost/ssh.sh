#!/usr/bin/env bash
# Run a command on the lab's VM host (as root) over SSH: lab/vmhost/ssh.sh CMD [ARG...]
# With no command, opens an interactive shell. The VM host must be up (lab/vmhost/up.sh);
# KVMST_VMHOST_SUITE=trixie for the Debian 13 one.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lab/vmhost/common-vmhost.sh
source "$HERE/common-vmhost.sh"

[[ -s "$VMHOST_RUN/env" && -n "$(vmhost_pid)" ]] ||
    kvmst_die "the VM host $VMHOST_NAME is not running (start it with ${VMHOST_ENV}lab/vmhost/up.sh)"
eval "$(cat "$VMHOST_RUN/env")"
# shellcheck disable=SC2046
exec ssh $(vmhost_ssh_opts "$KVMST_VMHOST_SSH_KEY" "$KVMST_VMHOST_SSH_PORT") root@127.0.0.1 "$@"
