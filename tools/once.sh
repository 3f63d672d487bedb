#!/usr/bin/env bash
# Run a command in the first lane that gets here; later callers with the same claim skip it.
# `make test` ends both of its lanes with the ansible-core matrix this way, so the matrix
# runs in whichever lane is free first: on a machine where the VM host tiers are slow it
# follows the host lab's tiers, elsewhere the other way round (the lanes' lengths vary with
# the machine, and a fixed place made one lane wait for the other).
#
#   tools/once.sh CLAIM_DIR 'COMMAND'   CLAIM_DIR must not exist yet (mkdir is the claim)
set -uo pipefail
(($# == 2)) || { echo "usage: $0 CLAIM_DIR 'COMMAND'" >&2; exit 2; }
if mkdir "$1" 2>/dev/null; then
    exec bash -c "$2"
fi
echo "once: another lane runs it: $2"
