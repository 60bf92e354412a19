# Sourced by scripts/run and scripts/test: a virtualenv on Python 3.12+ with the pinned
# dependencies, in .venv (or $SALESDESK_VENV).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SALESDESK_VENV:-$ROOT/.venv}"

find_python() {
  local candidate
  # SALESDESK_PYTHON: this interpreter and no other (scripts/python-pgo builds production's),
  # with a venv of its own (SALESDESK_VENV): an existing venv keeps the Python it was made with.
  if [ -n "${SALESDESK_PYTHON:-}" ]; then
    "$SALESDESK_PYTHON" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null &&
      echo "$SALESDESK_PYTHON"
    return
  fi
  for candidate in python3.13 python3.12 python3 \
      "$HOME"/.pyenv/versions/3.13*/bin/python "$HOME"/.pyenv/versions/3.12*/bin/python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_venv() {
  local extras="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    local python
    if ! python="$(find_python)"; then
      echo "Salesdesk needs Python 3.12 or newer (python3.12 or python3.13 on PATH)." >&2
      echo "On Debian: apt-get install python3.13 python3.13-venv (trixie) or use pyenv." >&2
      exit 1
    fi
    echo "==> creating $VENV with $python"
    "$python" -m venv "$VENV"
  fi
  # One stamp per extra and pyproject.toml version: scripts/test (dev) and scripts/bench
  # (dev,bench) share a venv, and pip never removes an extra's packages when a later
  # install names fewer, so an extra once installed stays installed until pyproject.toml
  # changes. A stamp for the whole set would make each script reinstall after the other.
  local version extra missing=
  version="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
  for extra in ${extras//,/ }; do
    [ -e "$VENV/.installed-$version-$extra" ] || missing=1
  done
  if [ -n "$missing" ]; then
    echo "==> installing dependencies ($extras)"
    # This machine's pip configuration names local mirrors that may be absent: not our noise.
    "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]" 2>&1 | { grep -v "^WARNING: Location" || true; }
    # Another pyproject.toml's stamps no longer say anything true about this venv.
    find "$VENV" -maxdepth 1 -name '.installed-*' ! -name ".installed-$version-*" -delete
    for extra in ${extras//,/ }; do
      touch "$VENV/.installed-$version-$extra"
    done
  fi
  export PATH="$VENV/bin:$PATH"
}
