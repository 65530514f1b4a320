# Shared by scripts/run and scripts/test: a project virtualenv with the given
# requirements installed, re-installed only when a requirements file changes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"

ensure_venv() {
  local requirements="$1"
  local python="${PYTHON:-python3}"
  if ! command -v "$python" >/dev/null 2>&1; then
    echo "error: $python not found; install Python 3.11 or newer" >&2
    exit 1
  fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: Python 3.11 or newer is required ($("$python" --version 2>&1) found)" >&2
    exit 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating $VENV"
    "$python" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$(basename "$requirements")"
  local digest
  digest="$(cat "$ROOT"/requirements*.txt | cksum)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "Installing $(basename "$requirements") into $VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$ROOT/$requirements"
    echo "$digest" > "$stamp"
  fi
}
