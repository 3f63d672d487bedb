#!/usr/bin/env bash
# Remove everything the matrix smoke play (smoke.yml) makes: its two guests, pools, LUKS
# secret, volume group, loop device and BASE folder. Run at the play's start too, for
# what a run killed before its own teardown left behind. Missing objects are fine.
#
#   tests/matrix/teardown.sh /var/tmp/kvmst-mx
set -uo pipefail
BASE="${1:?usage: $0 BASE}"
[[ $BASE == */kvmst-mx ]] || { echo "teardown: refusing $BASE (not a kvmst-mx folder)" >&2; exit 2; }
quiet() { "$@" >/dev/null 2>&1; }

quiet virsh destroy kvmst-mx-guest
quiet virsh undefine kvmst-mx-guest
quiet virsh destroy kvmst-mx-run
quiet virsh undefine kvmst-mx-run --checkpoints-metadata --snapshots-metadata
for p in kvmst-mx-pool kvmst-mx-hs kvmst-mx-images kvmst-mx-isos; do
  quiet virsh pool-destroy "$p"
  quiet virsh pool-undefine "$p"
done
for u in $(virsh -q secret-list 2>/dev/null | awk '{print $1}'); do
  if virsh secret-dumpxml "$u" 2>/dev/null | grep "<volume>$BASE/" >/dev/null; then quiet virsh secret-undefine "$u"; fi
done
quiet vgremove -q -f kvmst_mx_vg
for dev in $(losetup -j "$BASE/vg.img" -O NAME -n 2>/dev/null); do
  quiet pvremove -q "$dev"
  quiet losetup -d "$dev"
done
rm -rf "$BASE"
exit 0
