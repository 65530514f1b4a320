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

require_npm() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm not found; install Node.js 20 or newer (it builds the web page and runs the test stand-ins)" >&2
    exit 1
  fi
}

# The local Azure stand-ins the tests start (Azurite, the Cosmos DB stand-in, the Static
# Web Apps emulator), pinned by package-lock.json.
ensure_node_modules() {
  require_npm
  local stamp="$ROOT/node_modules/.installed-lock"
  local digest
  digest="$(cksum < "$ROOT/package-lock.json")"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "Installing Node.js test servers (npm ci)"
    (cd "$ROOT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$digest" > "$stamp"
  fi
}

# The web page (static_web/): its npm dependencies, pinned by its own lock file, and the
# Vite build into static_web/dist, which both the local host and Static Web Apps serve.
ensure_web_build() {
  require_npm
  local web="$ROOT/static_web"
  local stamp="$web/node_modules/.installed-lock"
  local digest
  digest="$(cksum < "$web/package-lock.json")"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "Installing the web page's dependencies (npm ci in static_web)"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$digest" > "$stamp"
  fi
  echo "Building static_web/dist"
  (cd "$web" && STATIC_WEB_CONFIG=local npm run --silent build -- --logLevel warn)
}

# Debian's Chromium for the browser tests (never a browser download).
ensure_chromium() {
  if [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null 2>&1; then
    return
  fi
  local sudo=""
  if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: chromium not found and apt-get is unavailable; install Chromium and set CHROMIUM_PATH" >&2
    exit 1
  fi
  echo "Installing Debian's chromium for the browser tests"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}
