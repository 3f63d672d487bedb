#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection, for the controller's Python and an
# older target Python. ansible-test resolves symlinks and lists files through git, so it
# gets a real copy of the files git knows (tracked and untracked-but-not-ignored) under
# .cache/sanity/ansible_collections/kvm/storage.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
DEST="$REPO/.cache/sanity/ansible_collections/kvm/storage"
PYTHONS="${SANITY_PYTHONS:-3.11 3.9}"

cd "$REPO"
rm -rf "$DEST"
mkdir -p "$DEST"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -d -t "$DEST"
git -C "$DEST" init -q
git -C "$DEST" add -A

# ansible-test downloads get-pip from a host these machines cannot reach: give it the
# stand-in under the name it looks for (its pinned pip version).
pipver="$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$VENV"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1)"
mkdir -p "$HOME/.ansible/test/cache"
cp "$REPO/tests/sanity/get_pip_standin.py" "$HOME/.ansible/test/cache/get_pip_${pipver//./_}.py"

cd "$DEST"
for py in $PYTHONS; do
  bindir=""
  if command -v pyenv >/dev/null 2>&1; then
    real="$(find "$(pyenv root)/versions" -maxdepth 2 -path "*/$py.*/bin" 2>/dev/null | sort -V | tail -1 || true)"
    [ -n "$real" ] && bindir="$real:"
  fi
  echo "== ansible-test sanity --python $py"
  # ansible-test passes only PATH and HOME on, so the target Python's real bin folder
  # goes first on PATH (a pyenv shim for a non-global version would fail).
  PATH="$VENV/bin:${bindir}$PATH" "$VENV/bin/ansible-test" sanity --venv --python "$py" --color no \
    "$@"
done
