# Shared helpers for the cmdlet Pester tests; dot-source in BeforeAll after importing the module.
Set-StrictMode -Version Latest

# New-HostedPowerShell (a runspace whose host keeps what it is given), shared with the remote tests.
. (Join-Path $PSScriptRoot 'HostedPowerShell.ps1')

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path

function New-TestTree {
    <# Creates files (relative path => content) under $Root; a value ending in '/' as key makes an empty dir. #>
    param([Parameter(Mandatory)] [string] $Root, [System.Collections.IDictionary] $Files = @{})
    $null = New-Item -ItemType Directory -Path $Root -Force
    foreach ($key in $Files.Keys) {
        $path = Join-Path $Root $key
        if ($key.EndsWith('/')) {
            $null = New-Item -ItemType Directory -Path $path -Force
            continue
        }
        $parent = Split-Path $path -Parent
        if (-not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent -Force }
        [IO.File]::WriteAllText($path, [string]$Files[$key])
    }
    $Root
}

function Set-MTime {
    <# Sets a file's (or link's) modification time with nanoseconds, e.g. '2021-03-04 05:06:07.123456789'. #>
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Time)
    & touch -h -m -d $Time -- $Path
    if ($LASTEXITCODE) { throw "touch failed for $Path" }
}

function Get-MTime {
    param([Parameter(Mandatory)] [string] $Path)
    (& stat -c '%y' -- $Path)
}

function Get-TreeState {
    <# One line per item below $Root (not the root): relative path, type, mode, mtime to the ns, size, link target,
       owner, group and a content hash, sorted. Two trees are replicas when their lines are equal. #>
    param([Parameter(Mandatory)] [string] $Root, [switch] $NoTimes, [switch] $NoRoot)
    $lines = & find $Root -mindepth 1 -printf '%P|%y|%m|%T@|%s|%l|%U|%G\n'
    $result = foreach ($line in $lines) {
        $parts = $line.Split('|')
        if ($parts[1] -eq 'd') { $parts[4] = '-' }
        if ($NoTimes) { $parts[3] = '-' }
        $hash = if ($parts[1] -eq 'f') { (Get-FileHash -LiteralPath (Join-Path $Root $parts[0]) -Algorithm SHA256).Hash } else { '-' }
        ($parts -join '|') + '|' + $hash
    }
    $sorted = @($result | Sort-Object -CaseSensitive)
    if (-not $NoRoot) {
        $rootLine = (& stat -c '.|%F|%a|%y' -- $Root)
        if ($NoTimes) { $rootLine = (& stat -c '.|%F|%a' -- $Root) }
        $sorted = @($rootLine) + $sorted
    }
    , $sorted
}

function Get-TreeHash {
    <# A single hash of the full tree state (including the root): equal before and after means nothing changed. #>
    param([Parameter(Mandatory)] [string] $Root)
    if (-not (Test-Path -LiteralPath $Root)) { return '<absent>' }
    $text = (Get-TreeState -Root $Root) -join "`n"
    $bytes = [Text.Encoding]::UTF8.GetBytes($text)
    [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes))
}

function Get-TempLeftover {
    param([Parameter(Mandatory)] [string] $Root)
    @(Get-ChildItem -LiteralPath $Root -Recurse -Force -ErrorAction SilentlyContinue | Where-Object Name -Match '^\.~psr[0-9a-f]{8}~')
}

function Get-ErrorId {
    <# The ErrorIds of error records (FullyQualifiedErrorId up to the first comma). #>
    param($ErrorRecords)
    @($ErrorRecords | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] })
}


function Close-HostedPowerShell {
    param($Hosted)
    if ($Hosted) {
        $runspace = $Hosted.PS.Runspace
        $Hosted.PS.Dispose()
        $runspace.Dispose()
    }
}

function New-PlainPowerShell {
    <# [powershell]::Create() on a new runspace with the module imported; no host (streams are collected). #>
    $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
    $iss.ImportPSModule([string[]]@($env:PSREPLICA_MODULE))
    $ps = [powershell]::Create($iss)
    $ps
}

function Invoke-ChildPwsh {
    <# Runs a script in a child `dotnet pwsh` started from the repository root; returns its output lines and exit code. #>
    param([Parameter(Mandatory)] [string] $Command)
    Push-Location $script:RepoRoot
    try {
        $output = & dotnet pwsh -NoProfile -NonInteractive -Command $Command 2>&1 | ForEach-Object { "$_" }
        [pscustomobject]@{ Output = @($output); ExitCode = $LASTEXITCODE }
    }
    finally { Pop-Location }
}

function Get-UnprivilegedPwsh {
    <# A world-readable copy of this pwsh (its home is below root's private home) for runs as nobody. Cached. #>
    $version = $PSVersionTable.PSVersion.ToString()
    $copy = Join-Path ([IO.Path]::GetTempPath()) "psreplica-tests-pwsh-$version"
    if (-not (Test-Path (Join-Path $copy 'copied.ok'))) {
        if (Test-Path $copy) { Remove-Item $copy -Recurse -Force }
        & cp -r -- $PSHOME $copy
        & chmod -R a+rX -- $copy
        $null = New-Item -ItemType File -Path (Join-Path $copy 'copied.ok')
    }
    Join-Path $copy 'pwsh.dll'
}

function Invoke-Unprivileged {
    <# Runs $Script as uid/gid 65534 (nobody) in a child pwsh with a world-readable copy of the module imported.
       $WorkDir must be reachable by nobody; the script's last output line should be JSON. Returns the parsed JSON. #>
    param([Parameter(Mandatory)] [string] $Script, [Parameter(Mandatory)] [string] $WorkDir)
    $pwshDll = Get-UnprivilegedPwsh
    $moduleCopy = Join-Path $WorkDir 'module/PSReplica'
    if (-not (Test-Path $moduleCopy)) {
        $null = New-Item -ItemType Directory -Path (Split-Path $moduleCopy) -Force
        Copy-Item (Split-Path $env:PSREPLICA_MODULE) $moduleCopy -Recurse
    }
    $homeDir = Join-Path $WorkDir 'home'
    $null = New-Item -ItemType Directory -Path $homeDir -Force
    & chown 65534:65534 -- $homeDir
    $scriptPath = Join-Path $WorkDir 'unprivileged.ps1'
    Set-Content -Path $scriptPath -Value ("`$ErrorActionPreference = 'Continue'`nImport-Module '$moduleCopy/PSReplica.psd1'`n" + $Script)
    & chmod -R a+rX -- (Join-Path $WorkDir 'module') $scriptPath
    $output = & setpriv --reuid=65534 --regid=65534 --clear-groups env "HOME=$homeDir" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 `
        dotnet $pwshDll -NoProfile -NonInteractive -File $scriptPath 2>&1 | ForEach-Object { "$_" }
    $json = @($output | Where-Object { $_ -like '{*' }) | Select-Object -Last 1
    if (-not $json) { throw "The unprivileged run printed no JSON: $($output -join "`n")" }
    $json | ConvertFrom-Json
}
