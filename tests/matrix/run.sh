#!/usr/bin/env bash
# The ansible-core matrix (`make matrix`): for each line of tests/matrix/lines.txt, in its
# own virtualenv .cache/matrix/<line>/venv, ansible-test sanity (tests/sanity/run.sh, empty
# ignore files), the unit tier and the smoke play tests/matrix/smoke.yml against the lab.
#
#   tests/matrix/run.sh [LINE...]       default: every line of lines.txt
#
#   MATRIX_PARTS="venv sanity unit smoke"   the parts to run (the virtualenvs are always
#                                          made or checked: venv = ansible-core, deps =
#                                          what unit and smoke need besides)
#   KVMST_LAB_LOCK=/work/lab.lock          a lock file the lab steps hold (flock), unset: none
#
# Two queues run side by side: the lab queue makes the lines' virtualenvs, then runs each
# line's unit tier and smoke play (the only part that touches the lab); the sanity queue
# takes the lines one by one as their virtualenvs become ready. Sanity is CPU bound and the
# smoke play mostly waits for libvirt, so on two cores the two overlap well.
#
# Logs: .cache/matrix/<line>/<part>.log; wall times: .cache/matrix/times.txt; the smoke
# play's task times (junit callback): .cache/matrix/<line>/junit/.
#
# The *_part functions run through `timed LINE PART FUNCTION`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$REPO/tests/matrix"
OUT="$REPO/.cache/matrix"
PARTS="${MATRIX_PARTS:-venv sanity unit smoke}"
cd "$REPO"
mkdir -p "$OUT"

declare -A CORE CTRL TARGETS SMOKE SANITY
ALL=()
while read -r line core ctrl targets smoke sanity _; do
  [[ -z $line || $line == \#* ]] && continue
  [[ -n $sanity ]] || { echo "matrix: line $line of tests/matrix/lines.txt has no sanity column" >&2; exit 2; }
  ALL+=("$line"); CORE[$line]=$core; CTRL[$line]=$ctrl; TARGETS[$line]=$targets
  SMOKE[$line]=$smoke; SANITY[$line]=$sanity
done < "$HERE/lines.txt"
LINES=("$@")
[[ ${#LINES[@]} -gt 0 ]] || LINES=("${ALL[@]}")
for l in "${LINES[@]}"; do
  [[ -n ${CORE[$l]:-} ]] || { echo "matrix: no line $l in tests/matrix/lines.txt (lines: ${ALL[*]})" >&2; exit 2; }
done

has_part() { [[ " $PARTS " == *" $1 "* ]]; }

# The newest pyenv build of Python X.Y (its real bin folder: pyenv shims of non-global
# versions fail when ansible-test strips the environment).
pybin() {
  local d
  d="$(find "$(pyenv root 2>/dev/null || echo /nonexistent)/versions" -maxdepth 2 -path "*/versions/$1.*/bin" 2>/dev/null | sort -V | tail -1)"
  [[ -n $d ]] || { echo "matrix: no Python $1 under pyenv" >&2; return 1; }
  echo "$d"
}

# Time one part of one line; its output goes to the part's log.
timed() {
  local l=$1 part=$2 s rc
  shift 2
  s=$(date +%s)
  echo "matrix $l: $part ..."
  set +e
  "$@" > "$OUT/$l/$part.log" 2>&1
  rc=$?
  set -e
  printf '%-5s %-7s %5d s  %s\n' "$l" "$part" $(( $(date +%s) - s )) "$([[ $rc == 0 ]] && echo ok || echo "FAILED (rc $rc)")" \
    | tee -a "$OUT/times.txt"
  if [[ $rc != 0 ]]; then
    echo "---- last lines of $OUT/$l/$part.log" && tail -40 "$OUT/$l/$part.log" && echo "----"
  fi
  return $rc
}

# A layer of packages in the virtualenv $2 of pyenv's Python $1 (made when missing):
# `pip install $4...`, skipped while the layer's stamp $3 (Python, arguments, requirement
# files' hashes) matches. A changed `core` stamp makes the virtualenv afresh (before the
# sanity queue uses it); other layers are installed over what is there.
venv_layer() {
  local py=$1 dir=$2 name=$3 stamp a; shift 3
  stamp="$py $*"
  for a in "$@"; do [[ ! -f $a ]] || stamp+=" $(sha256sum < "$a" | cut -c1-16)"; done
  if [[ -x $dir/bin/python && -f $dir/.matrix-$name ]]; then
    [[ "$(cat "$dir/.matrix-$name")" != "$stamp" ]] || { echo "up to date: $dir ($name)"; return 0; }
    [[ $name != core ]] || rm -rf "$dir"
  fi
  if [[ ! -x $dir/bin/python ]]; then
    rm -rf "$dir"
    "$(pybin "$py")/python" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --upgrade pip
  fi
  "$dir/bin/python" -m pip install -q "$@"
  echo "$stamp" > "$dir/.matrix-$name"
}

# What sanity needs: ansible-core (ansible-test makes its own virtualenvs).
venv_part() {
  venv_layer "${CTRL[$1]}" "$OUT/$1/venv" core "ansible-core==${CORE[$1]}"
}

# What the unit tier and the smoke play need besides: libvirt-python (built from source
# against libvirt-dev; pip caches the wheel per Python, so the other lines on that Python
# reuse it), lxml, pytest; and the smoke play's target Python when it is neither the
# system's nor the controller's.
deps_part() {
  local l=$1 t=${SMOKE[$1]}
  venv_layer "${CTRL[$l]}" "$OUT/$l/venv" deps -r requirements/matrix.txt "ansible-core==${CORE[$l]}"
  if [[ $t != system && $t != "${CTRL[$l]}" ]]; then
    venv_layer "$t" "$OUT/target-$t/venv" deps -r requirements/ee.txt
  fi
}

sanity_part() {
  local l=$1 args=() pythons t
  pythons="${CTRL[$l]} ${TARGETS[$l]//,/ }"
  pythons="${pythons% -}"
  if [[ ${SANITY[$l]} != all ]]; then
    for t in ${SANITY[$l]//,/ }; do args+=(--test "$t"); done
  fi
  VENV="$OUT/$l/venv" SANITY_DEST="$OUT/$l/sanity" SANITY_PYTHONS="$pythons" \
    bash tests/sanity/run.sh "${args[@]}"
}

# Without pytest-ansible (pytest.ini's addopts name its option): it excludes ansible-core
# 2.17 (`ansible-core!=2.17.*`), so the collection goes on the import path by PYTHONPATH,
# the link `make collection` keeps.
unit_part() {
  PYTHONPATH="$REPO/.cache/collections" "$OUT/$1/venv/bin/python" -m pytest -o addopts= -p no:cacheprovider -q tests/unit
}

smoke_part() {
  local l=$1 interp tmp
  case ${SMOKE[$l]} in
    system) interp=/usr/bin/python3 ;;
    "${CTRL[$l]}") interp="$OUT/$l/venv/bin/python" ;;
    *) interp="$OUT/target-${SMOKE[$l]}/venv/bin/python" ;;
  esac
  tmp="$OUT/$l/ansible-tmp"
  rm -rf "$tmp" "$OUT/$l/junit" && mkdir -p "$tmp"
  # Shared hold of this machine's libvirtd: the reliability tier's kill tests (another lane
  # of `make test`) wait until the play ends (tests/conftest.py).
  local held=${KVMST_LOCAL_LIBVIRTD_LOCK:-/run/kvmst-lab/local-libvirtd.lock}
  mkdir -p "$(dirname "$held")"
  local lock=(flock -s "$held")
  [[ -z ${KVMST_LAB_LOCK:-} ]] || lock=(flock "$KVMST_LAB_LOCK" "${lock[@]}")
  "$OUT/$l/venv/bin/ansible-playbook" --version | sed -n 1p
  "$interp" --version
  # The single-quoted script is expanded by the inner bash, on purpose.
  # shellcheck disable=SC2016
  env ANSIBLE_COLLECTIONS_PATH="$REPO/.cache/collections" \
      ANSIBLE_INVENTORY="$REPO/tests/integration/inventory.ini" \
      ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0 \
      ANSIBLE_LOCAL_TEMP="$tmp/local" ANSIBLE_HOME="$tmp/home" \
      ANSIBLE_CALLBACKS_ENABLED=ansible.builtin.junit JUNIT_OUTPUT_DIR="$OUT/$l/junit" \
      "${lock[@]}" bash -c 'echo "lab: $(date +%s)"; bash lab/services.sh start && "$@"; rc=$?; echo "lab: $(date +%s)"; exit $rc' _ \
      "$OUT/$l/venv/bin/ansible-playbook" "$HERE/smoke.yml" -e "ansible_python_interpreter=$interp"
}

# The seconds the smoke part spent on the lab (lock held), from the marks in its log.
smoke_lab_seconds() {
  sed -n 's/^lab: \([0-9]*\)$/\1/p' "$OUT/$1/smoke.log" | awk 'NR==1{a=$1} END{if (NR>=2) print $1-a}'
}

# Every line's ansible-core first, so that the sanity queue never waits for a libvirt
# build, a smoke play or the lab lock; then per line the unit tier's and the smoke play's
# packages, the unit tier and the smoke play.
lab_queue() {
  local l rc=0
  for l in "${LINES[@]}"; do
    mkdir -p "$OUT/$l"
    if timed "$l" venv venv_part "$l"; then
      touch "$OUT/$l/.venv-done"
    else
      touch "$OUT/$l/.venv-failed"; rc=1
    fi
  done
  for l in "${LINES[@]}"; do
    [[ -e $OUT/$l/.venv-done ]] || continue
    has_part unit || has_part smoke || continue
    timed "$l" deps deps_part "$l" || { rc=1; continue; }
    if has_part unit; then timed "$l" unit unit_part "$l" || rc=1; fi
    if has_part smoke; then
      timed "$l" smoke smoke_part "$l" || rc=1
      printf '%-5s %-7s %5s s  (the part above less its wait for the lab lock)\n' "$l" smoke-lab "$(smoke_lab_seconds "$l")" \
        | tee -a "$OUT/times.txt"
    fi
  done
  return $rc
}

sanity_queue() {
  local l rc=0
  for l in "${LINES[@]}"; do
    # Poll for the lab queue's virtualenv of this line (made or failed).
    until [[ -e $OUT/$l/.venv-done || -e $OUT/$l/.venv-failed ]]; do sleep 2; done
    [[ -e $OUT/$l/.venv-done ]] || { rc=1; continue; }
    if [[ ${SANITY[$l]} == - ]]; then
      echo "matrix $l: sanity not run here (lines.txt: '-', covered by make sanity)"; continue
    fi
    timed "$l" sanity sanity_part "$l" || rc=1
  done
  return $rc
}

start=$(date +%s)
echo "== matrix $(date -u +%FT%TZ): lines ${LINES[*]}; parts $PARTS" >> "$OUT/times.txt"
for l in "${LINES[@]}"; do mkdir -p "$OUT/$l" && rm -f "$OUT/$l/.venv-done" "$OUT/$l/.venv-failed"; done
rc=0
if has_part sanity; then
  sanity_queue & sq=$!
  lab_queue || rc=1
  wait $sq || rc=1
else
  lab_queue || rc=1
fi
printf 'matrix total %d s (%s)\n' $(( $(date +%s) - start )) "$([[ $rc == 0 ]] && echo ok || echo FAILED)" | tee -a "$OUT/times.txt"
exit $rc
