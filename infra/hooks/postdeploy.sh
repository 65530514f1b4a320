#!/bin/sh
# azd postdeploy: check the deployed topology from this machine (infra/hooks/smoke.py).
set -eu
. "$(dirname "$0")/python.sh"
exec "$PYTHON" infra/hooks/smoke.py
