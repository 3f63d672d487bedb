#!/usr/bin/env bash
# Shared network storage fixtures for the integration tests. Every object is
# prefixed "kvmst"; objects without the prefix are never touched.
#
#   lab/fixtures.sh up     create what is missing (idempotent, fast when up)
#   lab/fixtures.sh down   remove exactly what `up` creates
#   lab/fixtures.sh env    print KEY=value lines for the tests
#   lab/fixtures.sh gluster-up NAME | gluster-down NAME
#                          another gluster volume kvmst-NAME beside the shared one,
#                          for a test that must not share (its own teardown removes it)
#   lab/fixtures.sh check  prove the fixtures work end to end through the same
#                          clients the modules use (glusterfs FUSE, qemu gfapi
#                          as the qemu user, libvirt netfs and iscsi-direct);
#                          about 35 s, most of it gfapi teardown
#
# Needs the daemons of lab/services.sh (glusterd, tgtd; libvirtd for `check`).
set -euo pipefail
KVMST_SCRIPT=fixtures
# shellcheck source=lab/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

GLUSTER_HOST=127.0.0.1
GLUSTER_VOLUME=kvmst-gv0
BRICK_ROOT=$KVMST_SRV_DIR/bricks
BRICK_DIR=$BRICK_ROOT/$GLUSTER_VOLUME
ISCSI_HOST=127.0.0.1
ISCSI_PORT=3260
ISCSI_IQN=iqn.2026-11.test.kvmst:store1
ISCSI_INITIATOR=iqn.2026-11.test.kvmst:client
ISCSI_DIR=$KVMST_SRV_DIR/iscsi
# LUN number -> size of its sparse backing file
ISCSI_LUN_SIZES=(64M 128M)
HOSTS_MARK="# kvmst-lab"
# The qemu processes libvirt starts run as this user (Debian default); the
# gluster volume root belongs to it so qemu (gfapi) can create images there.
QEMU_USER=${KVMST_QEMU_USER:-libvirt-qemu}

lun_file() { printf '%s/kvmst-lun%s.img\n' "$ISCSI_DIR" "$1"; }

print_env() {
  cat <<EOF
KVMST_GLUSTER_HOST=$GLUSTER_HOST
KVMST_GLUSTER_VOLUME=$GLUSTER_VOLUME
KVMST_ISCSI_HOST=$ISCSI_HOST
KVMST_ISCSI_PORT=$ISCSI_PORT
KVMST_ISCSI_IQN=$ISCSI_IQN
KVMST_ISCSI_INITIATOR=$ISCSI_INITIATOR
KVMST_ISCSI_LUNS=${#ISCSI_LUN_SIZES[@]}
EOF
}

need_glusterd() {
  kvmst_quiet timeout 10 gluster --mode=script volume list ||
    kvmst_die "glusterd does not answer (run lab/services.sh start first)"
}
need_tgtd() {
  kvmst_quiet timeout 10 tgtadm --lld iscsi --mode target --op show ||
    kvmst_die "tgtd does not answer (run lab/services.sh start first)"
}

# ---- gluster ----------------------------------------------------------------------

# NAME has an IPv4 address. `getent ahostsv4` alone is not enough: its
# AI_ADDRCONFIG finds nothing when only loopback is configured (a network
# namespace, a CI container without network), so read /etc/hosts as well.
resolves_v4() {
  getent ahostsv4 "$1" >/dev/null 2>&1 && return 0
  awk -v h="$1" '$1 ~ /^[0-9.]+$/ {
      for (i = 2; i <= NF && $i !~ /^#/; i++) if ($i == h) found = 1
    } END { exit !found }' /etc/hosts 2>/dev/null
}

# Gluster refuses localhost/127.0.0.1 as a brick host, but accepts a name that
# resolves to a local address. Use the hostname; make it resolve if it does not.
brick_host() {
  local h
  h=$(hostname)
  [[ -n $h && $h != localhost* ]] || kvmst_die "hostname is '$h': gluster needs a brick host name other than localhost"
  if ! resolves_v4 "$h"; then
    kvmst_log_line "adding '127.0.0.1 $h' to /etc/hosts"
    local line
    line=$(printf '127.0.0.1 %s %s' "$h" "$HOSTS_MARK")
    # Start on a new line even if the file does not end with one.
    [[ -s /etc/hosts && -n $(tail -c 1 /etc/hosts) ]] && line=$'\n'$line
    printf '%s\n' "$line" >>/etc/hosts ||
      kvmst_die "hostname '$h' does not resolve and /etc/hosts is not writable"
  fi
  printf '%s\n' "$h"
}

gluster_volume_exists() { kvmst_quiet kvmst_gluster volume info "$GLUSTER_VOLUME"; }

gluster_brick_online() {
  kvmst_gluster volume status "$GLUSTER_VOLUME" --xml 2>/dev/null | grep '<status>1</status>' >/dev/null
}

gluster_up() {
  local host info uid gid opt want have changed=0 t0=$SECONDS
  need_glusterd
  host=$(brick_host)
  if ! gluster_volume_exists; then
    # A brick directory left by an interrupted run carries gluster xattrs and
    # would be refused ("already part of a volume"): it is ours, start afresh.
    rm -rf "$BRICK_DIR"
    mkdir -p "$BRICK_DIR"
    kvmst_must "gluster volume create $GLUSTER_VOLUME" \
      kvmst_gluster volume create "$GLUSTER_VOLUME" transport tcp "$host:$BRICK_DIR" force
    changed=1
  fi
  info=$(kvmst_gluster volume info "$GLUSTER_VOLUME")

  uid=$(id -u "$QEMU_USER" 2>/dev/null) || kvmst_die "user $QEMU_USER not found (is libvirt-daemon-system installed?)"
  gid=$(getent group "$QEMU_USER" | cut -d: -f3)
  [[ -n $gid ]] || gid=$(id -g "$QEMU_USER")
  local -A options=(
    [storage.owner-uid]=$uid # qemu runs as $QEMU_USER: volume root owned by it
    [storage.owner-gid]=$gid
    [server.allow-insecure]=on # non-root gfapi clients use ports >= 1024
    [nfs.disable]=on
  )
  for opt in "${!options[@]}"; do
    want=${options[$opt]}
    have=$(sed -n "s/^$opt: //p" <<<"$info")
    [[ $have == "$want" ]] && continue
    kvmst_must "gluster volume set $GLUSTER_VOLUME $opt $want" \
      kvmst_gluster volume set "$GLUSTER_VOLUME" "$opt" "$want"
    changed=1
  done

  if ! grep -q '^Status: Started' <<<"$info"; then
    kvmst_must "gluster volume start $GLUSTER_VOLUME" kvmst_gluster volume start "$GLUSTER_VOLUME"
    changed=1
  elif ! gluster_brick_online; then
    # glusterd restarted without its brick process: force restarts the brick.
    kvmst_must "gluster volume start $GLUSTER_VOLUME force" \
      kvmst_gluster volume start "$GLUSTER_VOLUME" force
    changed=1
  fi
  kvmst_wait_for "$KVMST_TIMEOUT" gluster_brick_online ||
    kvmst_die "gluster volume $GLUSTER_VOLUME: brick $host:$BRICK_DIR not online after ${KVMST_TIMEOUT}s (log: /var/log/glusterfs/bricks/)"
  if ((changed)); then
    kvmst_say "gluster volume $GLUSTER_VOLUME ready on $GLUSTER_HOST (brick $host:$BRICK_DIR, $((SECONDS - t0))s)"
  else
    kvmst_say "gluster volume $GLUSTER_VOLUME already up"
  fi
}

gluster_down() {
  local info
  need_glusterd
  if gluster_volume_exists; then
    info=$(kvmst_gluster volume info "$GLUSTER_VOLUME")
    if grep -q '^Status: Started' <<<"$info"; then
      kvmst_must "gluster volume stop $GLUSTER_VOLUME" kvmst_gluster volume stop "$GLUSTER_VOLUME" force
    fi
    kvmst_must "gluster volume delete $GLUSTER_VOLUME" kvmst_gluster volume delete "$GLUSTER_VOLUME"
    kvmst_say "gluster volume $GLUSTER_VOLUME deleted"
  fi
  rm -rf "$BRICK_DIR"
  rmdir "$BRICK_ROOT" 2>/dev/null || true
  # Drop our /etc/hosts line once no gluster volume may depend on it any more.
  # (`volume list` prints that message on stderr.)
  if grep -q " $HOSTS_MARK\$" /etc/hosts && [[ $(kvmst_gluster volume list 2>&1) == "No volumes present in cluster" ]]; then
    local tmp
    tmp=$(mktemp)
    grep -v " $HOSTS_MARK\$" /etc/hosts >"$tmp" || true
    cat "$tmp" >/etc/hosts # in place: /etc/hosts may be a bind mount
    rm -f "$tmp"
    kvmst_log_line "removed our line from /etc/hosts"
  fi
}

# ---- iSCSI (tgtd) -----------------------------------------------------------------

tgt_show() { timeout 10 tgtadm --lld iscsi --mode target --op show; }

# tid of the target named $ISCSI_IQN, empty if none.
tgt_tid() { tgt_show | awk -v t="$ISCSI_IQN" '/^Target [0-9]+: / && $3 == t {sub(":", "", $2); print $2}'; }

# The `show` block of our target.
tgt_block() {
  tgt_show | awk -v t="$ISCSI_IQN" '/^Target [0-9]+: /{on = ($3 == t)} on'
}

iscsi_up() {
  local tid block lun file size changed=0 t0=$SECONDS
  need_tgtd
  mkdir -p "$ISCSI_DIR"
  for ((lun = 1; lun <= ${#ISCSI_LUN_SIZES[@]}; lun++)); do
    file=$(lun_file "$lun")
    [[ -f $file ]] || { truncate -s "${ISCSI_LUN_SIZES[lun - 1]}" "$file"; changed=1; }
  done

  tid=$(tgt_tid)
  if [[ -z $tid ]]; then
    tid=$(tgt_show | sed -n 's/^Target \([0-9]\+\): .*/\1/p' | sort -n | tail -n 1)
    tid=$((${tid:-0} + 1))
    kvmst_must "tgtadm new target $ISCSI_IQN (tid $tid)" \
      tgtadm --lld iscsi --mode target --op new --tid "$tid" --targetname "$ISCSI_IQN"
    changed=1
  fi
  block=$(tgt_block)
  for ((lun = 1; lun <= ${#ISCSI_LUN_SIZES[@]}; lun++)); do
    file=$(lun_file "$lun")
    grep -q "Backing store path: $file\$" <<<"$block" && continue
    kvmst_must "tgtadm add LUN $lun ($file) to $ISCSI_IQN" \
      tgtadm --lld iscsi --mode logicalunit --op new --tid "$tid" --lun "$lun" --backing-store "$file"
    changed=1
  done
  if ! awk '/ACL information:/{acl=1; next} acl && $1 == "ALL" {found=1} END{exit !found}' <<<"$block"; then
    kvmst_must "tgtadm bind $ISCSI_IQN to ALL initiators" \
      tgtadm --lld iscsi --mode target --op bind --tid "$tid" --initiator-address ALL
    changed=1
  fi
  if ((changed)); then
    kvmst_say "iSCSI target $ISCSI_IQN ready on $ISCSI_HOST:$ISCSI_PORT (tid $tid, ${#ISCSI_LUN_SIZES[@]} LUNs, $((SECONDS - t0))s)"
  else
    kvmst_say "iSCSI target $ISCSI_IQN already up"
  fi
}

iscsi_down() {
  local tid lun
  need_tgtd
  tid=$(tgt_tid)
  if [[ -n $tid ]]; then
    # --force: also when an initiator (a test's iscsi-direct pool) is still logged in.
    kvmst_must "tgtadm delete target $ISCSI_IQN (tid $tid)" \
      tgtadm --lld iscsi --mode target --op delete --force --tid "$tid"
    kvmst_say "iSCSI target $ISCSI_IQN deleted"
  fi
  for ((lun = 1; lun <= ${#ISCSI_LUN_SIZES[@]}; lun++)); do rm -f "$(lun_file "$lun")"; done
  rmdir "$ISCSI_DIR" 2>/dev/null || true
}

# ---- check ------------------------------------------------------------------------

virsh_() { timeout 60 virsh -q -c "$KVMST_LIBVIRT_URI" "$@"; }

check_all() {
  local mnt="$KVMST_RUN_DIR/check-fuse" netfs="$KVMST_RUN_DIR/check-netfs"
  local img=kvmst-lab-check.qcow2 t0 vols xml lun
  kvmst_quiet virsh_ version || kvmst_die "libvirtd does not answer (run lab/services.sh start first)"

  # 1. glusterfs FUSE mount from 127.0.0.1 (what libvirt's netfs pool runs)
  t0=$SECONDS
  mkdir -p "$mnt"
  mountpoint -q "$mnt" && umount "$mnt"
  kvmst_must "mount -t glusterfs $GLUSTER_HOST:/$GLUSTER_VOLUME" mount -t glusterfs "$GLUSTER_HOST:/$GLUSTER_VOLUME" "$mnt"
  # shellcheck disable=SC2064 # expand $mnt now: it is local
  trap "umount '$mnt' 2>/dev/null || true" EXIT
  rm -f "$mnt/$img"
  if ! echo kvmst >"$mnt/kvmst-lab-check.txt" || [[ $(<"$mnt/kvmst-lab-check.txt") != kvmst ]]; then
    kvmst_die "check: write/read through the glusterfs FUSE mount failed"
  fi
  rm -f "$mnt/kvmst-lab-check.txt"
  kvmst_say "check ok: glusterfs FUSE mount $GLUSTER_HOST:/$GLUSTER_VOLUME read/write ($((SECONDS - t0))s)"

  # 2. qemu gfapi, as the unprivileged user libvirt runs qemu as
  t0=$SECONDS
  kvmst_must "qemu-img create gluster://$GLUSTER_HOST/$GLUSTER_VOLUME/$img as $QEMU_USER" \
    runuser -u "$QEMU_USER" -- qemu-img create -q -f qcow2 "gluster://$GLUSTER_HOST/$GLUSTER_VOLUME/$img" 64M
  [[ -f $mnt/$img ]] || kvmst_die "check: $img created through gfapi is not visible through FUSE"
  rm -f "$mnt/$img"
  kvmst_say "check ok: qemu-img (gfapi, user $QEMU_USER) created gluster://$GLUSTER_HOST/$GLUSTER_VOLUME/$img ($((SECONDS - t0))s)"
  umount "$mnt"
  trap - EXIT

  # 3. libvirt netfs pool (glusterfs format), transient
  t0=$SECONDS
  mkdir -p "$netfs"
  kvmst_quiet virsh_ pool-destroy kvmst-lab-check-netfs || true
  xml="<pool type='netfs'><name>kvmst-lab-check-netfs</name><source><host name='$GLUSTER_HOST'/><dir path='$GLUSTER_VOLUME'/><format type='glusterfs'/></source><target><path>$netfs</path></target></pool>"
  printf '%s\n' "$xml" >"$KVMST_RUN_DIR/check-netfs.xml"
  kvmst_must "virsh pool-create (netfs glusterfs)" virsh_ pool-create "$KVMST_RUN_DIR/check-netfs.xml"
  kvmst_must "virsh pool-destroy kvmst-lab-check-netfs" virsh_ pool-destroy kvmst-lab-check-netfs
  kvmst_say "check ok: libvirt netfs pool on $GLUSTER_HOST:/$GLUSTER_VOLUME started and destroyed ($((SECONDS - t0))s)"

  # 4. libvirt iscsi-direct pool: LUNs appear as unit:0:0:N
  t0=$SECONDS
  kvmst_quiet virsh_ pool-destroy kvmst-lab-check-iscsi || true
  xml="<pool type='iscsi-direct'><name>kvmst-lab-check-iscsi</name><source><host name='$ISCSI_HOST' port='$ISCSI_PORT'/><device path='$ISCSI_IQN'/><initiator><iqn name='$ISCSI_INITIATOR'/></initiator></source></pool>"
  printf '%s\n' "$xml" >"$KVMST_RUN_DIR/check-iscsi.xml"
  kvmst_must "virsh pool-create (iscsi-direct $ISCSI_IQN)" virsh_ pool-create "$KVMST_RUN_DIR/check-iscsi.xml"
  vols=$(virsh_ vol-list kvmst-lab-check-iscsi 2>&1 || true)
  kvmst_run virsh_ pool-destroy kvmst-lab-check-iscsi || true
  kvmst_log_line "vol-list: $vols"
  for ((lun = 1; lun <= ${#ISCSI_LUN_SIZES[@]}; lun++)); do
    grep -q "unit:0:0:$lun " <<<"$vols" || kvmst_die "check: iscsi-direct pool does not list unit:0:0:$lun (log: $KVMST_LOG)"
  done
  kvmst_say "check ok: libvirt iscsi-direct pool lists $(grep -o 'unit:0:0:[0-9]*' <<<"$vols" | tr '\n' ' ')($((SECONDS - t0))s)"
  rm -f "$KVMST_RUN_DIR/check-netfs.xml" "$KVMST_RUN_DIR/check-iscsi.xml"
  rmdir "$mnt" "$netfs" 2>/dev/null || true
}

usage() { kvmst_die "usage: $0 up|down|env|check|gluster-up kvmst-NAME|gluster-down kvmst-NAME"; }

case $# in
  1) [[ $1 == up || $1 == down || $1 == check || $1 == env ]] || usage ;;
  2) [[ ($1 == gluster-up || $1 == gluster-down) && $2 =~ ^kvmst-[A-Za-z0-9_-]+$ ]] || usage
     GLUSTER_VOLUME=$2
     BRICK_DIR=$BRICK_ROOT/$GLUSTER_VOLUME ;;
  *) usage ;;
esac
[[ $1 == env ]] && { print_env; exit 0; }
kvmst_init
kvmst_lock fixtures
case $1 in
  up)
    gluster_up
    iscsi_up
    ;;
  down)
    rc=0
    (gluster_down) || rc=1
    (iscsi_down) || rc=1
    rmdir "$KVMST_SRV_DIR" 2>/dev/null || true
    ((rc == 0)) && kvmst_say "down: no kvmst fixture left"
    exit "$rc"
    ;;
  check) check_all ;;
  gluster-up) gluster_up ;;
  gluster-down) gluster_down ;;
esac
