#!/bin/sh
# azd prebuild of the web service: (re)write static_web/app-config.json from the azd
# environment, so `azd deploy` from a fresh clone ships the right API URL and sign-in.
set -eu
. "$(dirname "$0")/python.sh"
exec "$PYTHON" infra/hooks/local_config.py --only app-config
