# azd prebuild of the web service (Windows): same as web-config.sh.
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'python.ps1')
& $Python infra/hooks/local_config.py --only app-config
exit $LASTEXITCODE
