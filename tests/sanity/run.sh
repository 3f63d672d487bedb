#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection, in one run: the controller's tests on
# the Python of VENV, and the target-side tests (compile, import) on every Python of
# SANITY_PYTHONS. ansible-test resolves symlinks and lists files through git, so it gets
# a real copy of the files git knows (tracked and untracked-but-not-ignored) under
# .cache/sanity/ansible_collections/kvm/storage.
#
#   VENV=<virtualenv with ansible-core>   default: the repo's .venv (`make sanity`)
#   SANITY_DEST=<folder for the copy>     default: .cache/sanity (one per concurrent run)
#   SANITY_PYTHONS="3.11 3.9"             target Pythons (pyenv's builds), one
#                                         --target-python each; a missing one fails
#   further arguments go to ansible-test (--test X, --skip-test X, ...)
#
# One run with --target-python per Python, not one `--python X` run per Python: with
# --python every single-version test (pylint, validate-modules, ...) ran again each time.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
DEST="${SANITY_DEST:-$REPO/.cache/sanity}/ansible_collections/kvm/storage"
PYTHONS="${SANITY_PYTHONS:-3.11 3.9}"

# The copy is made afresh; ansible-test's own output (its virtualenvs among it) is kept.
cd "$REPO"
keep="$(mktemp -d)"
[ ! -d "$DEST/tests/output" ] || mv "$DEST/tests/output" "$keep/"
rm -rf "$DEST"
mkdir -p "$DEST"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -d -t "$DEST"
[ ! -d "$keep/output" ] || mv "$keep/output" "$DEST/tests/output"
rmdir "$keep"
git -C "$DEST" init -q
git -C "$DEST" add -A

# ansible-test downloads get-pip from a host these machines cannot reach: give it the
# stand-in under the name it looks for (its pinned pip version).
pipver="$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$VENV"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1)"
mkdir -p "$HOME/.ansible/test/cache"
cp "$REPO/tests/sanity/get_pip_standin.py" "$HOME/.ansible/test/cache/get_pip_${pipver//./_}.py"

# The controller: the Python VENV was made from (ansible-test makes its own virtualenv).
read -r ctrl ctrl_py < <("$VENV/bin/python" -c \
  'import os, sys; print("%d.%d" % sys.version_info[:2], os.path.realpath(sys._base_executable))')

# A real interpreter of Python X.Y: pyenv's newest X.Y build, else X.Y on PATH unless it
# is a pyenv shim (ansible-test passes only PATH and HOME on, so PYENV_VERSION does not
# reach it and the shim of a non-global version fails).
find_python() {
  local d p
  if [ "$1" = "$ctrl" ]; then echo "$ctrl_py"; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    d="$(find "$(pyenv root)/versions" -maxdepth 2 -path "*/versions/$1.*/bin" 2>/dev/null | sort -V | tail -1 || true)"
    if [ -n "$d" ] && [ -x "$d/python$1" ]; then echo "$d/python$1"; return; fi
  fi
  p="$(command -v "python$1" || true)"
  if [ -n "$p" ] && [[ $p != */shims/* ]]; then echo "$p"; return; fi
  echo "sanity: no Python $1 on this machine (pyenv or PATH): cannot run the target tests on it" >&2
  return 1
}

targets=()
bindirs=""
for py in $PYTHONS; do
  interp="$(find_python "$py")"
  targets+=(--target-python "$py@$interp")
  # The import test finds each target's virtualenv tools as pythonX.Y on PATH.
  bindirs+="$(dirname "$interp"):"
done

cd "$DEST"
echo "== ansible-test sanity: controller Python $ctrl ($("$VENV/bin/ansible-test" --version)), targets $PYTHONS"
PATH="$VENV/bin:${bindirs}$PATH" "$VENV/bin/ansible-test" sanity --color no \
  --controller "origin:python=venv/$ctrl@$ctrl_py" "${targets[@]}" "$@"
