# azd preprovision (Windows): same as preprovision.sh.
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'python.ps1')
& $Python infra/hooks/entra_app.py ensure
exit $LASTEXITCODE
