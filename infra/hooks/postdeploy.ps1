# azd postdeploy (Windows): same as postdeploy.sh.
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'python.ps1')
& $Python infra/hooks/smoke.py
exit $LASTEXITCODE
