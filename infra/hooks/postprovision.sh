#!/bin/sh
# azd postprovision: register the static web app's URL as the page's redirect URI (direct
# topology), then write static_web/app-config.json and local.settings.json from the outputs.
set -eu
. "$(dirname "$0")/python.sh"
"$PYTHON" infra/hooks/entra_app.py redirect-uris
exec "$PYTHON" infra/hooks/local_config.py
