#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Times PSReplica's delta transfer (Sync-Directory -TransferMode Delta) against rsync --no-whole-file on tmpfs.
.DESCRIPTION
    A benchmark, not a test. One random basis file (1 GiB by default) is the destination's old copy; for each case
    the source is a changed version of it:
      scattered  1% of the basis's blocks changed at scattered offsets
      prefix     100 bytes inserted at the front
      append     10 MiB appended
      identical  the same content with a newer modification time (so both tools must look at it)
      different  entirely different content of the same length
    Each run starts from a fresh copy of the basis as destination. rsync runs as
    `rsync -a --no-whole-file --stats SRC/ DST/` under GNU time; PSReplica runs in this session as
    `Sync-Directory -Path SRC -Destination DST -TransferMode Delta -Summary`. Tools alternate, the median of -Runs
    is reported, with literal bytes (rsync's "Literal data", PSReplica's BytesTransferred) and their ratio, wall
    time and its ratio, and peak memory. Every PSReplica result is compared with the source byte for byte.
.PARAMETER SizeMiB
    The basis file's size in MiB (1024 by default; use a smaller size for a smoke run).
.PARAMETER Runs
    Timed runs per tool and case (3 by default).
.PARAMETER Case
    Only these cases (scattered, prefix, append, identical, different); all five by default.
.PARAMETER WorkPath
    A tmpfs directory under which psreplica-delta-<pid> is made and removed.
.PARAMETER MarkdownPath
    Where the table is written as Markdown. Default: out/benchmark/delta.md.
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-DeltaBenchmark.ps1 -SizeMiB 64 -Runs 1
#>
[CmdletBinding()]
param(
    [ValidateRange(16, 65536)] [int] $SizeMiB = 1024,
    [ValidateRange(1, 100)] [int] $Runs = 3,
    [ValidateSet('scattered', 'prefix', 'append', 'identical', 'different')] [string[]] $Case,
    [string] $WorkPath = '/dev/shm',
    [string] $MarkdownPath,
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchmarkSupport.psm1') -Force
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repoRoot 'out/PSReplica/PSReplica.psd1' }
if (-not $MarkdownPath) { $MarkdownPath = Join-Path $repoRoot 'out/benchmark/delta.md' }
Import-Module $ModulePath -Force

$work = Join-Path $WorkPath "psreplica-delta-$PID"
$null = New-Item -ItemType Directory -Path $work -Force
$size = [long]$SizeMiB * 1MB
$random = [Random]::new(20261127)

function Write-RandomFile([string] $Path, [long] $Length) {
    $buffer = [byte[]]::new(4MB)
    $stream = [IO.File]::Create($Path)
    try {
        for ($done = 0L; $done -lt $Length; $done += $buffer.Length) {
            $random.NextBytes($buffer)
            $stream.Write($buffer, 0, [int][Math]::Min($buffer.Length, $Length - $done))
        }
    }
    finally { $stream.Dispose() }
}

function Invoke-Timed([scriptblock] $Script) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $result = & $Script
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; Result = $result }
}

try {
    # An untimed warm-up, so that the first case is not charged with compiling the delta path.
    $warm = Join-Path $work 'warm'
    $null = New-Item -ItemType Directory -Path "$warm/src", "$warm/dst" -Force
    Write-RandomFile "$warm/src/w.bin" 4MB
    Write-RandomFile "$warm/dst/w.bin" 4MB
    $null = Sync-Directory -Path "$warm/src" -Destination "$warm/dst" -TransferMode Delta -Summary

    $basis = Join-Path $work 'basis.bin'
    Write-RandomFile $basis $size
    $baseTime = [datetime]::new(2020, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)
    [IO.File]::SetLastWriteTimeUtc($basis, $baseTime)

    $cases = [ordered]@{
        scattered = {
            param($path)
            Copy-Item $basis $path
            # 1% of rsync's blocks for this size (the square-root rule: 32 KiB blocks for 1 GiB), changed one byte each.
            $block = [long][Math]::Max(700, [Math]::Floor([Math]::Sqrt($size) / 8) * 8)
            $count = [long][Math]::Ceiling($size / $block)
            $stream = [IO.File]::OpenWrite($path)
            try {
                foreach ($i in 1..([int][Math]::Max(1, $count / 100))) {
                    $stream.Position = [long]($random.NextDouble() * ($size - 1))
                    $stream.WriteByte([byte]$random.Next(256))
                }
            }
            finally { $stream.Dispose() }
        }
        prefix = {
            param($path)
            $head = [byte[]]::new(100); $random.NextBytes($head)
            $out = [IO.File]::Create($path)
            try { $out.Write($head, 0, 100); $in = [IO.File]::OpenRead($basis); try { $in.CopyTo($out, 4MB) } finally { $in.Dispose() } }
            finally { $out.Dispose() }
        }
        append = {
            param($path)
            Copy-Item $basis $path
            $tail = [byte[]]::new(10MB); $random.NextBytes($tail)
            $out = [IO.File]::Open($path, 'Append')
            try { $out.Write($tail, 0, $tail.Length) } finally { $out.Dispose() }
        }
        identical = { param($path) Copy-Item $basis $path }
        different = { param($path) Write-RandomFile $path $size }
    }

    $rows = foreach ($name in @($cases.Keys | Where-Object { -not $Case -or $_ -in $Case })) {
        $source = Join-Path $work "src-$name"
        $null = New-Item -ItemType Directory -Path $source -Force
        $file = Join-Path $source 'data.bin'
        & $cases[$name] $file
        [IO.File]::SetLastWriteTimeUtc($file, $baseTime.AddDays(1))
        $sourceHash = (Get-FileHash $file -Algorithm SHA256).Hash
        $timings = @{ rsync = [Collections.Generic.List[double]]::new(); psr = [Collections.Generic.List[double]]::new() }
        $literal = @{}
        $memory = @{}
        foreach ($run in 1..$Runs) {
            $order = if ($run % 2) { 'rsync', 'psr' } else { 'psr', 'rsync' }
            foreach ($tool in $order) {
                $destination = Join-Path $work "dst-$tool"
                Remove-Item $destination -Recurse -Force -ErrorAction Ignore
                $null = New-Item -ItemType Directory -Path $destination
                Copy-Item $basis (Join-Path $destination 'data.bin')
                [IO.File]::SetLastWriteTimeUtc((Join-Path $destination 'data.bin'), $baseTime)
                (Get-Item $source).LastWriteTimeUtc = (Get-Item $destination).LastWriteTimeUtc
                [GC]::Collect()
                if ($tool -eq 'rsync') {
                    $timeFile = Join-Path $work 'time.txt'
                    $t = Invoke-Timed { & /usr/bin/time -f '%M' -o $timeFile rsync -a --no-whole-file --stats "$source/" "$destination/" }
                    if ($LASTEXITCODE -ne 0) { throw "rsync failed for $name" }
                    $literal.rsync = [long](($t.Result | Select-String 'Literal data: ([\d,]+)').Matches[0].Groups[1].Value -replace ',', '')
                    $memory.rsync = "$([long](Get-Content $timeFile | Select-Object -Last 1)) KiB"
                }
                else {
                    $allocated = [GC]::GetTotalAllocatedBytes($true)
                    $t = Invoke-Timed { Sync-Directory -Path $source -Destination $destination -TransferMode Delta -Summary -ErrorAction Stop }
                    $literal.psr = $t.Result.BytesTransferred
                    $memory.psr = '{0:N1} MiB allocated' -f (([GC]::GetTotalAllocatedBytes($true) - $allocated) / 1MB)
                }
                if ((Get-FileHash (Join-Path $destination 'data.bin') -Algorithm SHA256).Hash -ne $sourceHash) { throw "$tool produced a wrong file for $name" }
                $timings[$tool].Add($t.Seconds)
            }
        }
        Remove-Item $source -Recurse -Force
        $rsyncTime = Get-Median $timings.rsync
        $psrTime = Get-Median $timings.psr
        [pscustomobject]@{
            Case            = $name
            'rsync literal' = $literal.rsync
            'PSR literal'   = $literal.psr
            'literal ratio' = if ($literal.rsync) { '{0:N3}x' -f ($literal.psr / $literal.rsync) } else { 'n/a' }
            'rsync s'       = '{0:N2}' -f $rsyncTime
            'PSR s'         = '{0:N2}' -f $psrTime
            'time ratio'    = '{0:N2}x' -f ($psrTime / $rsyncTime)
            'rsync memory'  = $memory.rsync
            'PSR memory'    = $memory.psr
        }
    }

    $rows | Format-Table -AutoSize | Out-Host
    $header = '| ' + ($rows[0].PSObject.Properties.Name -join ' | ') + ' |'
    $rule = '|' + (($rows[0].PSObject.Properties | ForEach-Object { '---' }) -join '|') + '|'
    $lines = @($header, $rule) + @($rows | ForEach-Object { '| ' + (($_.PSObject.Properties.Value | ForEach-Object { "$_" }) -join ' | ') + ' |' })
    $lines += '', "Basis $SizeMiB MiB, $Runs run(s) per tool, medians; $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC; $(& rsync --version | Select-Object -First 1)"
    $null = New-Item -ItemType Directory -Path (Split-Path $MarkdownPath) -Force
    $lines | Set-Content $MarkdownPath
    Write-Host "Markdown written to $MarkdownPath"
}
finally {
    Remove-Item $work -Recurse -Force -ErrorAction Ignore
}
