#!/usr/bin/env bash
# Run commands side by side, one "lane" each; every output line carries its lane's name.
# Waits for all of them, prints each lane's exit code and wall time, and fails when one
# failed. `make test` runs the VM host tier (one TCG VM host: one busy core for half an
# hour) in one lane beside the tiers on the host lab in the other.
#
# A failed lane's failure lines (pytest's FAILED/ERROR lines, Ansible's fatal ones, make's
# errors) are printed again at the very end: a CI log shown by its tail then names the
# failure of every lane, not only of the lane that ended last.
#
#   tools/lanes.sh NAME 'COMMAND' [NAME 'COMMAND' ...]
set -uo pipefail

(($# >= 2 && $# % 2 == 0)) || { echo "usage: $0 NAME 'COMMAND' [NAME 'COMMAND' ...]" >&2; exit 2; }
logs=$(mktemp -d /tmp/kvmst-lanes.XXXXXX)
trap 'rm -rf "$logs"' EXIT
names=()
pids=()
while (($#)); do
    name=$1 command=$2
    shift 2
    (
        start=$SECONDS
        bash -c "$command" 2>&1 | sed -u "s/^/[$name] /" | tee "$logs/$name"
        rc=${PIPESTATUS[0]}
        echo "[$name] lane ended: rc=$rc after $((SECONDS - start)) s" | tee -a "$logs/$name"
        exit "$rc"
    ) &
    names+=("$name")
    pids+=("$!")
done
rc=0
failed=()
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        failed+=("${names[$i]}")
        rc=1
    fi
done
for name in "${failed[@]}"; do
    echo "== lane $name failed; its failure lines:"
    grep -E '^\[[^]]*\] +(FAILED|ERROR) |fatal: \[|FAILED! =>|\*\*\* \[|Error [0-9]|^\[[^]]*\] =+ .*(failed|error)|lane ended' "$logs/$name" \
        | tail -n 12 | awk '
            # A long line (an Ansible result) is cut, but the error message it holds is kept
            # whole: the reason (what qemu-img said, say) is at the end of that message.
            length($0) <= 400 { print; next }
            { print substr($0, 1, 300) " [...]"
              i = index($0, "\"message\": \""); if (!i) i = index($0, "\"msg\": \"")
              if (i) print "    " substr($0, i, 900) }'
done
exit "$rc"
