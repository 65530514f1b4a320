#!/bin/sh
# azd preprovision: in the direct topology, create (or reuse) the Entra ID app registrations
# and put their ids into the azd environment (ENTRA_*), which main.parameters.json reads.
set -eu
. "$(dirname "$0")/python.sh"
exec "$PYTHON" infra/hooks/entra_app.py ensure
