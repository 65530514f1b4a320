# Sourced by the azd hooks (POSIX): sets PYTHON to the project's virtualenv interpreter or a
# Python 3.9+ on PATH, and moves to the repository root. The hook logic itself is Python
# (standard library only) so that the POSIX and PowerShell hooks share one implementation.
cd "$(dirname "$0")/../.." || exit 1
PYTHON=""
for candidate in .venv/bin/python python3 python; do
  if { [ -x "$candidate" ] || command -v "$candidate" >/dev/null 2>&1; } &&
    "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
    PYTHON="$candidate"
    break
  fi
done
if [ -z "$PYTHON" ]; then
  echo "error: the azd hooks need Python 3.9 or newer (python3) on PATH" >&2
  exit 1
fi
