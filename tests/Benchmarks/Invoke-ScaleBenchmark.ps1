#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Peak memory and wall time of PSReplica against rsync -a on a tree of a million small files (issue 18, item 7).
.DESCRIPTION
    A benchmark, not a test. It makes a tree of -Files files (half empty, half 1 KiB, 200 to a directory, three levels
    deep) on tmpfs, then for each case runs PSReplica and rsync -a side by side, alternating, -Runs times, and reports
    the medians and their ratio.

    Cases
      first       a first copy onto a missing destination
      nochange    a re-run over a destination that is already a replica (nothing to do)
      replan      Get-SyncPlan over the replica (PSReplica only; rsync's row is its no-change run)

    PSReplica runs in this pwsh (the module imported once, warmed up on a small tree), its items sent to Out-Null.
    Memory: for PSReplica, how far the process's peak RSS (VmHWM, reset through /proc/self/clear_refs before each run)
    rose above its RSS just before the run, after a full collection (the issue's target: 150 MB at a million files);
    for rsync, GNU time's maximum RSS (the largest of its processes). After every run the destination's count of
    entries is checked against the source's.
.PARAMETER Files
    Files in the tree: 1,000,000 by default (the issue's figure); 50,000 with -Quick.
.PARAMETER Runs
    Runs per tool and case; the median is reported. 3 by default, 1 with -Quick.
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-ScaleBenchmark.ps1 -Quick
#>
[CmdletBinding()]
param(
    [ValidateRange(1000, 10000000)] [int] $Files = 1000000,
    [ValidateRange(1, 100)] [int] $Runs = 3,
    [ValidateSet('first', 'nochange', 'replan')] [string[]] $Case = @('first', 'nochange', 'replan'),
    [string] $WorkPath = '/dev/shm',
    [string] $ModulePath,
    [string] $MarkdownPath,
    [switch] $Quick
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repoRoot 'out/PSReplica/PSReplica.psd1' }
if (-not $MarkdownPath) { $MarkdownPath = Join-Path $repoRoot 'out/benchmark/scale.md' }
if (-not (Test-Path $ModulePath)) { throw "Build first: dotnet pwsh ./build.ps1 ($ModulePath is missing)." }
if ($Quick) {
    if (-not $PSBoundParameters.ContainsKey('Files')) { $Files = 50000 }
    if (-not $PSBoundParameters.ContainsKey('Runs')) { $Runs = 1 }
}
if (-not (Test-Path /usr/bin/time)) { throw 'GNU time is needed for rsync''s memory (Debian: apt-get install -y time).' }
Import-Module $ModulePath

$work = Join-Path $WorkPath "psreplica-scale-$PID"
$source = Join-Path $work 'src'

function Get-Median([double[]] $Values) {
    $sorted = [double[]]($Values | Sort-Object)
    if ($sorted.Count % 2 -eq 1) { return $sorted[($sorted.Count - 1) / 2] }
    ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2
}

function Remove-Tree([string] $Path) {
    if (Test-Path -LiteralPath $Path) { & /bin/rm -rf -- $Path; if ($LASTEXITCODE -ne 0) { throw "rm -rf '$Path' failed." } }
}

# Entries below a root (files and directories), counted without sorting or holding them.
function Get-EntryCount([string] $Root) {
    $n = 0
    foreach ($null in [IO.Directory]::EnumerateFileSystemEntries($Root, '*', [IO.SearchOption]::AllDirectories)) { $n++ }
    $n
}

function Read-Status([string] $Field) {
    foreach ($line in [IO.File]::ReadAllLines('/proc/self/status')) {
        if ($line.StartsWith("${Field}:")) { return [long](($line -split '\s+')[1]) * 1KB }
    }
    throw "No $Field in /proc/self/status."
}

# Runs a PSReplica command in this process: its seconds and how far the peak RSS rose above the RSS before it.
function Measure-Session([scriptblock] $Command) {
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    [IO.File]::WriteAllText('/proc/self/clear_refs', '5')
    $before = Read-Status 'VmRSS'
    $self = [Diagnostics.Process]::GetCurrentProcess()
    $cpuBefore = $self.TotalProcessorTime
    $clock = [Diagnostics.Stopwatch]::StartNew()
    & $Command
    $clock.Stop()
    $self.Refresh()
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; PeakMB = ((Read-Status 'VmHWM') - $before) / 1MB; Cpu = ($self.TotalProcessorTime - $cpuBefore).TotalSeconds }
}

function Measure-Rsync([string[]] $Arguments) {
    $memory = Join-Path $work 'rsync-maxrss'
    $clock = [Diagnostics.Stopwatch]::StartNew()
    & /usr/bin/time -f '%M %U %S' -o $memory rsync @Arguments
    $clock.Stop()
    if ($LASTEXITCODE -ne 0) { throw "rsync $Arguments failed ($LASTEXITCODE)." }
    [string[]] $fields = (Get-Content $memory | Select-Object -Last 1) -split ' '
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; PeakMB = [double]$fields[0] / 1KB; Cpu = [double]$fields[1] + [double]$fields[2] }
}

try {
    # The tree: 200 files to a leaf directory, leaves three levels down (d/e/leaf), every other file 1 KiB.
    $null = New-Item -ItemType Directory -Force $source
    $kib = [byte[]]::new(1024)
    [Random]::new(18).NextBytes($kib)
    $leaves = [int][Math]::Ceiling($Files / 200)
    Write-Host "Making $Files files in $leaves directories under $source ..."
    for ($i = 0; $i -lt $Files; $i++) {
        $leaf = [int][Math]::Floor($i / 200)
        if ($i % 200 -eq 0) {
            $directory = Join-Path $source ('d{0:D2}/e{1:D2}/l{2:D3}' -f ($leaf % 50), ([int][Math]::Floor($leaf / 50) % 50), [int][Math]::Floor($leaf / 2500))
            $null = [IO.Directory]::CreateDirectory($directory)
        }
        $file = Join-Path $directory ('f{0:D3}.dat' -f ($i % 200))
        if ($i % 2) { [IO.File]::WriteAllBytes($file, $kib) } else { [IO.File]::Create($file).Dispose() }
    }
    $expected = Get-EntryCount $source

    # Warm-up: the module's code is loaded and compiled before anything is timed.
    $warm = Join-Path $work 'warm'
    $null = New-Item -ItemType Directory -Force (Join-Path $warm 'src/a')
    [IO.File]::WriteAllBytes((Join-Path $warm 'src/a/f'), $kib)
    Sync-Directory -Path (Join-Path $warm 'src/') -Destination (Join-Path $warm 'dst') | Out-Null
    Get-SyncPlan -Path (Join-Path $warm 'src/') -Destination (Join-Path $warm 'dst') | Out-Null

    $samples = @{}
    function Add-Sample([string] $Key, $Sample) { if (-not $samples.ContainsKey($Key)) { $samples[$Key] = [Collections.Generic.List[object]]::new() }; $samples[$Key].Add($Sample) }
    $psDestination = Join-Path $work 'dst-psreplica'
    $rsyncDestination = Join-Path $work 'dst-rsync'
    for ($run = 1; $run -le $Runs; $run++) {
        # Alternate which tool goes first each round.
        $order = if ($run % 2) { @('PSReplica', 'rsync') } else { @('rsync', 'PSReplica') }
        foreach ($tool in $order) {
            $destination = if ($tool -eq 'PSReplica') { $psDestination } else { $rsyncDestination }
            if ('first' -in $Case -or -not (Test-Path $destination)) {
                Remove-Tree $destination
                $sample = if ($tool -eq 'PSReplica') { Measure-Session { Sync-Directory -Path "$source/" -Destination $destination | Out-Null } }
                else { Measure-Rsync @('-a', "$source/", "$destination/") }
                if ((Get-EntryCount $destination) -ne $expected) { throw "$tool's first copy is not a replica." }
                if ('first' -in $Case) { Add-Sample "first|$tool" $sample }
            }
            if ('nochange' -in $Case) {
                $sample = if ($tool -eq 'PSReplica') { Measure-Session { Sync-Directory -Path "$source/" -Destination $destination | Out-Null } }
                else { Measure-Rsync @('-a', "$source/", "$destination/") }
                Add-Sample "nochange|$tool" $sample
            }
            if ('replan' -in $Case -and $tool -eq 'PSReplica') {
                $count = 0
                $sample = Measure-Session { Get-SyncPlan -Path "$source/" -Destination $destination | ForEach-Object { $count++ } }
                if ($count -ne 0) { throw "Get-SyncPlan over a replica planned $count items." }
                Add-Sample "replan|$tool" $sample
            }
        }
    }

    $rows = foreach ($c in $Case) {
        $rsync = if ($samples.ContainsKey("nochange|rsync") -and $c -eq 'replan') { $samples["nochange|rsync"] } elseif ($samples.ContainsKey("$c|rsync")) { $samples["$c|rsync"] } else { $null }
        $ps = $samples["$c|PSReplica"]
        $psSeconds = Get-Median @($ps | ForEach-Object Seconds)
        $rsyncSeconds = if ($rsync) { Get-Median @($rsync | ForEach-Object Seconds) } else { [double]::NaN }
        [pscustomobject]@{
            Case = $c; Files = $Files; Runs = $Runs
            'PSReplica s' = [Math]::Round($psSeconds, 2); 'rsync s' = [Math]::Round($rsyncSeconds, 2)
            Ratio = [Math]::Round($psSeconds / $rsyncSeconds, 2)
            'PSReplica peak MB above baseline' = [Math]::Round((Get-Median @($ps | ForEach-Object PeakMB)), 0)
            'rsync max RSS MB' = if ($rsync) { [Math]::Round((Get-Median @($rsync | ForEach-Object PeakMB)), 0) } else { $null }
            'PSReplica CPU s' = [Math]::Round((Get-Median @($ps | ForEach-Object Cpu)), 2)
            'rsync CPU s' = if ($rsync) { [Math]::Round((Get-Median @($rsync | ForEach-Object Cpu)), 2) } else { $null }
        }
    }
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    $null = New-Item -ItemType Directory -Force (Split-Path $MarkdownPath)
    $lines = @('| Case | Files | PSReplica s | rsync s | ratio | PSReplica peak above baseline (MB) | rsync max RSS (MB) | PSReplica CPU s | rsync CPU s |', '|---|---|---|---|---|---|---|---|---|')
    $lines += foreach ($r in $rows) { "| $($r.Case) | $($r.Files) | $($r.'PSReplica s') | $($r.'rsync s') | $($r.Ratio) | $($r.'PSReplica peak MB above baseline') | $($r.'rsync max RSS MB') | $($r.'PSReplica CPU s') | $($r.'rsync CPU s') |" }
    Set-Content -LiteralPath $MarkdownPath -Value $lines
    Write-Host "Written to $MarkdownPath"
}
finally {
    Remove-Tree $work
}
