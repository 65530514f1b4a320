# Dot-sourced by the azd hooks (PowerShell): sets $Python to the project's virtualenv
# interpreter or a Python 3.9+ on PATH, and moves to the repository root. The hook logic is
# Python (standard library only), shared with the POSIX hooks.
Set-Location (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path
$Python = $null
foreach ($candidate in @('.venv\Scripts\python.exe', '.venv/bin/python', 'python3', 'python')) {
    if (Test-Path -LiteralPath $candidate -PathType Leaf) {
        $path = (Resolve-Path -LiteralPath $candidate).Path
    } else {
        $command = Get-Command $candidate -CommandType Application -ErrorAction SilentlyContinue |
            Select-Object -First 1
        if (-not $command) { continue }
        $path = $command.Source
    }
    # Also skips the Microsoft Store placeholder, which is not a real interpreter.
    & $path -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>$null
    if ($LASTEXITCODE -eq 0) { $Python = $path; break }
}
if (-not $Python) {
    Write-Error 'The azd hooks need Python 3.9 or newer (python) on PATH.'
    exit 1
}
