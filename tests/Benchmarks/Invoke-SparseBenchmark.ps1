#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Times Sync-Directory -Sparse against rsync -aS on a large sparse file, and the disk each copy takes.
.DESCRIPTION
    A benchmark, not a test. The source is one file of -SizeGiB apparent size (5 GiB by default) holding about 3 MiB
    of random data in stretches spread over it (at the start, 16 places in between, and just before the end; the
    end itself is a hole), the rest holes; plus 1 MiB of written zeros, which both tools should turn into a hole.
    Each run copies it into a fresh destination (a first copy):
      rsync  `rsync -aS SRC/ DST/`
      PSR    `Sync-Directory -Path SRC -Destination DST -Sparse` in this session
    Tools alternate (the order flips every run); the median of -Runs is reported with the wall-time ratio
    (PSReplica / rsync) and the disk each destination file takes (st_blocks x 512). Every result is compared with
    the source byte for byte (cmp), untimed. The work directory must be on a file system with holes (ext4, xfs,
    btrfs, tmpfs); /tmp by default.
.PARAMETER SizeGiB
    The file's apparent size in GiB (5 by default).
.PARAMETER Runs
    Timed runs per tool (3 by default).
.PARAMETER WorkPath
    A directory under which psreplica-sparse-<pid> is made and removed.
.PARAMETER MarkdownPath
    Where the table is written as Markdown. Default: out/benchmark/sparse.md.
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-SparseBenchmark.ps1 -SizeGiB 1 -Runs 1
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 1024)] [int] $SizeGiB = 5,
    [ValidateRange(1, 100)] [int] $Runs = 3,
    [string] $WorkPath = '/tmp',
    [string] $MarkdownPath,
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchmarkSupport.psm1') -Force
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repoRoot 'out/PSReplica/PSReplica.psd1' }
if (-not $MarkdownPath) { $MarkdownPath = Join-Path $repoRoot 'out/benchmark/sparse.md' }
Import-Module $ModulePath -Force

$work = Join-Path $WorkPath "psreplica-sparse-$PID"
$null = New-Item -ItemType Directory -Path $work -Force
$size = [long]$SizeGiB * 1GB
$random = [Random]::new(20261206)

function New-SparseFile([string] $Path, [long] $Length) {
    $stream = [IO.File]::Open($Path, 'CreateNew', 'Write')
    try {
        # 18 stretches of 160 KiB of random data (about 2.8 MiB), the first at 0 and the last 1 MiB before the end.
        $chunk = [byte[]]::new(160KB)
        foreach ($i in 0..17) {
            $random.NextBytes($chunk)
            $stream.Position = [long][Math]::Floor(($Length - 1MB) * $i / 17) + ($i * 1000)
            $stream.Write($chunk, 0, $chunk.Length)
        }
        # 1 MiB of written zeros in the middle (allocated in the source; a hole in either copy).
        $stream.Position = [long]($Length / 2 + 4MB)
        $stream.Write([byte[]]::new(1MB), 0, 1MB)
        $stream.SetLength($Length)
    }
    finally { $stream.Dispose() }
}

function Get-Allocated([string] $Path) { [long](& stat -c '%b' $Path) * 512 }

function Invoke-Timed([scriptblock] $Script) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $result = & $Script
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; Result = $result }
}

try {
    # An untimed warm-up, so that the first run is not charged with compiling the copy path.
    $null = New-Item -ItemType Directory -Path "$work/warm-src" -Force
    New-SparseFile "$work/warm-src/w.img" 64MB
    $null = Sync-Directory -Path "$work/warm-src" -Destination "$work/warm-dst" -Sparse -Summary

    $source = Join-Path $work 'src'
    $null = New-Item -ItemType Directory -Path $source
    $file = Join-Path $source 'disk.img'
    New-SparseFile $file $size
    $timings = @{ rsync = [Collections.Generic.List[double]]::new(); psr = [Collections.Generic.List[double]]::new() }
    $allocated = @{}
    foreach ($run in 1..$Runs) {
        $order = if ($run % 2) { 'rsync', 'psr' } else { 'psr', 'rsync' }
        foreach ($tool in $order) {
            $destination = Join-Path $work "dst-$tool"
            Remove-Item $destination -Recurse -Force -ErrorAction Ignore
            [GC]::Collect()
            if ($tool -eq 'rsync') {
                $t = Invoke-Timed { & rsync -aS "$source/" "$destination/" }
                if ($LASTEXITCODE -ne 0) { throw 'rsync failed' }
            }
            else {
                $t = Invoke-Timed { Sync-Directory -Path $source -Destination $destination -Sparse -Summary -ErrorAction Stop }
            }
            $timings[$tool].Add($t.Seconds)
            $copy = Join-Path $destination 'disk.img'
            $allocated[$tool] = Get-Allocated $copy
            & cmp -s $file $copy
            if ($LASTEXITCODE -ne 0) { throw "$tool produced a file that differs from the source" }
        }
    }

    $rsyncTime = Get-Median $timings.rsync
    $psrTime = Get-Median $timings.psr
    $row = [pscustomobject]@{
        'apparent size'   = '{0} GiB' -f $SizeGiB
        'source on disk'  = '{0:N2} MiB' -f ((Get-Allocated $file) / 1MB)
        'rsync -aS s'     = '{0:N2}' -f $rsyncTime
        'PSR -Sparse s'   = '{0:N3}' -f $psrTime
        'time ratio'      = '{0:N4}x' -f ($psrTime / $rsyncTime)
        'rsync on disk'   = '{0:N2} MiB' -f ($allocated.rsync / 1MB)
        'PSR on disk'     = '{0:N2} MiB' -f ($allocated.psr / 1MB)
        'disk ratio'      = '{0:N2}x' -f ($allocated.psr / [Math]::Max(1, $allocated.rsync))
    }

    $row | Format-List | Out-Host
    $names = @($row.PSObject.Properties.Name)
    $lines = @(
        '| ' + ($names -join ' | ') + ' |'
        '|' + (($names | ForEach-Object { '---' }) -join '|') + '|'
        '| ' + (($row.PSObject.Properties.Value | ForEach-Object { "$_" }) -join ' | ') + ' |'
        ''
        "Runs (s): rsync $($timings.rsync -join ', '); PSReplica $($timings.psr -join ', ')"
        "$Runs run(s) per tool, alternating, medians; work path $WorkPath ($(& stat -f -c '%T' $WorkPath)); $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC; $(& rsync --version | Select-Object -First 1)"
    )
    $null = New-Item -ItemType Directory -Path (Split-Path $MarkdownPath) -Force
    $lines | Set-Content $MarkdownPath
    Write-Host "Markdown written to $MarkdownPath"
}
finally {
    Remove-Item $work -Recurse -Force -ErrorAction Ignore
}
