#!/usr/bin/env bash
# Run commands side by side, one "lane" each; every output line carries its lane's name.
# Waits for all of them, prints each lane's exit code and wall time, and fails when one
# failed. `make test` runs the VM host tier (one TCG VM host: one busy core for half an
# hour) in one lane beside the tiers on the host lab in the other.
#
#   tools/lanes.sh NAME 'COMMAND' [NAME 'COMMAND' ...]
set -uo pipefail

(($# >= 2 && $# % 2 == 0)) || { echo "usage: $0 NAME 'COMMAND' [NAME 'COMMAND' ...]" >&2; exit 2; }
names=()
pids=()
while (($#)); do
    name=$1 command=$2
    shift 2
    (
        start=$SECONDS
        bash -c "$command" 2>&1 | sed -u "s/^/[$name] /"
        rc=${PIPESTATUS[0]}
        echo "[$name] lane ended: rc=$rc after $((SECONDS - start)) s"
        exit "$rc"
    ) &
    names+=("$name")
    pids+=("$!")
done
rc=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        echo "lane ${names[$i]} failed" >&2
        rc=1
    fi
done
exit "$rc"
