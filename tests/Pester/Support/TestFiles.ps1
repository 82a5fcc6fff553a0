# Writes test files with a chosen time and mode; dot-source in BeforeAll. Kept apart from CmdletTestSupport.ps1
# because the differential tests that use it do not run under strict mode.

function Write-TestFile {
    <# Writes $Text to $Path (creating its parent), then sets its mode (octal; 644 unless given, so the umask does not matter) and its modification time:
       a [datetime] is set as UTC through .NET, a string is handed to touch -d (local time, nanoseconds allowed). #>
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [AllowEmptyString()] [string] $Text,
        [object] $Time = '2026-01-01 10:00:00',
        [string] $Mode = '644'
    )
    $parent = Split-Path $Path
    if (-not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent -Force }
    [System.IO.File]::WriteAllText($Path, $Text)
    & chmod $Mode -- $Path
    if ($Time -is [datetime]) {
        [System.IO.File]::SetLastWriteTimeUtc($Path, $Time)
    }
    else {
        & touch -d ([string] $Time) -- $Path
    }
}
