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

# The local Azure stand-ins the tests start (Azurite, the Cosmos DB stand-in), pinned
# by package-lock.json. Needs Node.js 18+ and npm.
ensure_node_modules() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm not found; install Node.js 18 or newer (the tests run Azurite and a Cosmos DB stand-in)" >&2
    exit 1
  fi
  local stamp="$ROOT/node_modules/.installed-lock"
  local digest
  digest="$(cksum < "$ROOT/package-lock.json")"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "Installing Node.js test servers (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$digest" > "$stamp"
  fi
}
