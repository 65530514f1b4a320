# azd postprovision (Windows): same as postprovision.sh.
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'python.ps1')
& $Python infra/hooks/entra_app.py redirect-uris
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
& $Python infra/hooks/local_config.py
exit $LASTEXITCODE
