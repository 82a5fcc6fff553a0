#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Times a daily -LinkDest snapshot against rsync -a --link-dest and compares the space each new snapshot takes.
.DESCRIPTION
    A benchmark, not a test. It builds a source of -FileCount small files (100 directories), makes day 1 of both
    snapshot series untimed (rsync -a and Sync-Directory into their own roots), changes -ChangedPercent of the files
    (new content and time), then times day 2 -Runs times for each tool, alternating which goes first; each timed
    run starts from a removed day-2 directory. Reported: the median wall times, their ratio (PSReplica / rsync;
    the issue's target is at most 1.0), and the space the new snapshot adds, measured with `du -s` over day 1 and
    day 2 together minus day 1 alone (du counts a hard-linked file once per invocation), which must be equal.
    Each run is checked: unchanged files share day 1's inode, changed ones do not.
.PARAMETER FileCount
    Files in the source; 100,000 by default (issue #6's figure).
.PARAMETER ChangedPercent
    Share of files changed between the two days; 1 by default.
.PARAMETER Runs
    Timed runs per tool; the median is reported.
.PARAMETER WorkPath
    Where the work directory (psreplica-snapbench-<pid>) is made and removed at the end; tmpfs by default.
.PARAMETER ModulePath
    The module manifest to measure. Default: out/PSReplica/PSReplica.psd1 (build it with ./build.ps1 first).
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-SnapshotBenchmark.ps1 -FileCount 5000 -Runs 3
#>
[CmdletBinding()]
param(
    [ValidateRange(100, 10000000)]
    [int] $FileCount = 100000,

    [ValidateRange(0, 100)]
    [double] $ChangedPercent = 1,

    [ValidateRange(1, 100)]
    [int] $Runs = 3,

    [ValidateNotNullOrEmpty()]
    [string] $WorkPath = '/dev/shm',

    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/PSReplica/PSReplica.psd1')
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchmarkSupport.psm1') -Force
Import-Module $ModulePath -Force
$work = Join-Path $WorkPath "psreplica-snapbench-$PID"
$source = Join-Path $work 'source'

function Measure-Seconds([scriptblock] $Script) {
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    & $Script
    $clock.Elapsed.TotalSeconds
}

# KiB that $Day adds on top of $Previous (du counts each inode once per invocation).
function Get-AddedKiB([string] $Previous, [string] $Day) {
    $together = [long]((& du -s -k -c -- $Previous $Day | Select-Object -Last 1) -split '\s+')[0]
    $alone = [long]((& du -s -k -- $Previous) -split '\s+')[0]
    $together - $alone
}

# Unchanged files must share day 1's inode, changed ones must not.
function Assert-Snapshot([string] $Previous, [string] $Day, [System.Collections.Generic.HashSet[string]] $Changed, [string] $Tool) {
    $old = @{}
    foreach ($line in (& find $Previous -type f -printf '%P %i\n')) { $parts = $line.Split(' '); $old[$parts[0]] = $parts[1] }
    $count = 0
    foreach ($line in (& find $Day -type f -printf '%P %i\n')) {
        $parts = $line.Split(' ')
        $count++
        $shared = $old[$parts[0]] -eq $parts[1]
        if ($shared -eq $Changed.Contains($parts[0])) { throw "$Tool snapshot is wrong at '$($parts[0])' (shared inode: $shared)." }
    }
    if ($count -ne $FileCount) { throw "$Tool snapshot holds $count files, expected $FileCount." }
}

try {
    Write-Host "Building $FileCount files under $source ..."
    $null = New-Item -ItemType Directory -Path $source -Force
    $dirs = 100
    for ($d = 0; $d -lt $dirs; $d++) { $null = New-Item -ItemType Directory -Path (Join-Path $source "d$d") }
    $stamp = [datetime]::new(2026, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)
    for ($i = 0; $i -lt $FileCount; $i++) {
        $path = Join-Path $source "d$($i % $dirs)/f$i.txt"
        [System.IO.File]::WriteAllText($path, "file $i " + ('x' * ($i % 2000)))
        [System.IO.File]::SetLastWriteTimeUtc($path, $stamp)
    }

    foreach ($tool in 'rsync', 'psreplica') { $null = New-Item -ItemType Directory -Path (Join-Path $work $tool) }
    & rsync -a -- "$source/" "$work/rsync/day1/"
    $null = Sync-Directory -Path $source -Destination "$work/psreplica/day1" -Summary

    $changed = [System.Collections.Generic.HashSet[string]]::new()
    $step = if ($ChangedPercent -gt 0) { [math]::Max(1, [int][math]::Round(100 / $ChangedPercent)) } else { [int]::MaxValue }
    for ($i = 0; $i -lt $FileCount; $i += $step) {
        $rel = "d$($i % $dirs)/f$i.txt"
        $path = Join-Path $source $rel
        [System.IO.File]::WriteAllText($path, "file $i, changed on day 2")
        [System.IO.File]::SetLastWriteTimeUtc($path, $stamp.AddDays(1))
        $null = $changed.Add($rel)
    }
    Write-Host "Changed $($changed.Count) files; timing day 2, $Runs run(s) per tool ..."

    $times = @{ rsync = [System.Collections.Generic.List[double]]::new(); psreplica = [System.Collections.Generic.List[double]]::new() }
    for ($run = 0; $run -lt $Runs; $run++) {
        $order = if ($run % 2) { 'psreplica', 'rsync' } else { 'rsync', 'psreplica' }
        foreach ($tool in $order) {
            $day2 = Join-Path $work "$tool/day2"
            if (Test-Path -LiteralPath $day2) { & rm -rf -- $day2 }
            [GC]::Collect()
            $seconds = if ($tool -eq 'rsync') {
                Measure-Seconds { & rsync -a "--link-dest=../day1" -- "$source/" "$day2/"; if ($LASTEXITCODE) { throw "rsync failed: $LASTEXITCODE" } }
            }
            else {
                Measure-Seconds { $null = Sync-Directory -Path $source -Destination $day2 -LinkDest '../day1' -Summary -ErrorAction Stop }
            }
            $times[$tool].Add($seconds)
            Assert-Snapshot (Join-Path $work "$tool/day1") $day2 $changed $tool
        }
    }

    $rsyncTime = Get-Median $times.rsync
    $psrTime = Get-Median $times.psreplica
    $rsyncKiB = Get-AddedKiB "$work/rsync/day1" "$work/rsync/day2"
    $psrKiB = Get-AddedKiB "$work/psreplica/day1" "$work/psreplica/day2"
    [pscustomobject]@{
        Files = $FileCount
        Changed = $changed.Count
        RsyncSeconds = [math]::Round($rsyncTime, 3)
        PSReplicaSeconds = [math]::Round($psrTime, 3)
        Ratio = [math]::Round($psrTime / $rsyncTime, 2)
        RsyncAddedKiB = $rsyncKiB
        PSReplicaAddedKiB = $psrKiB
        SpaceEqual = $rsyncKiB -eq $psrKiB
        RsyncRuns = ($times.rsync | ForEach-Object { [math]::Round($_, 3) }) -join ', '
        PSReplicaRuns = ($times.psreplica | ForEach-Object { [math]::Round($_, 3) }) -join ', '
    }
}
finally {
    if (Test-Path -LiteralPath $work) { & rm -rf -- $work }
}
