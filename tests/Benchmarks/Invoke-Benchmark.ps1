#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Times PSReplica against rsync -a (and cp -a as a reference) on tmpfs and prints a comparison table.
.DESCRIPTION
    A benchmark, not a test: nothing here passes or fails the build. In one invocation it generates the data,
    then for each case runs every tool -Runs times, alternating the tools round by round (the order rotates
    each round so that no tool always runs right after the clean-up), and reports the median of each.

    Cases
      small-first     first copy of 20,000 random 4 KiB files spread over 200 leaf directories (20 x 10)
      small-nochange  re-run over a destination that is already a replica (nothing to do)
      big-first       first copy of one 1 GiB file of random (incompressible) content

    Tools
      rsync            rsync -a SRC/ DST/                         (under /usr/bin/time -f %M)
      cp               cp -a SRC DST                              (first copies only, reference line)
      session          Sync-Directory -Path SRC -Destination DST -Delete | Out-Null
                       in this pwsh, module imported once, after an untimed warm-up on a small tree
      session-summary  the same with -Summary
      process          dotnet pwsh -NoProfile -NonInteractive -Command "Import-Module ...; Sync-Directory ... -Summary"
                       run from the repository root (so the local tool manifest is found), start-up included,
                       under /usr/bin/time -f %M

    Every first copy starts from a missing destination; every no-change run starts from a destination the same
    tool made earlier (untimed). After every run the destination is checked against the source (file and
    directory counts, total bytes, content and mtime of sampled files; for no-change runs also that the sampled
    items were not touched: same inode and ctime), so a broken run cannot look fast. Nothing is dropped from the
    page cache: tmpfs has no backing store.

    Memory: peak RSS (KiB) from GNU time for rsync (the largest of its processes) and for the whole-process run
    (the largest of dotnet host and pwsh); for the session runs, the growth of this process's peak RSS during the
    run (VmHWM is reset through /proc/self/clear_refs before each run; n/a where that is not allowed), and the
    managed bytes allocated during the run (GC.GetTotalAllocatedBytes, all threads). Session runs are preceded
    by a full GC so that one run's garbage is not collected on the next run's clock.
.PARAMETER Runs
    Timed runs per tool and case; the median is reported. 5 by default, 3 with -Quick.
.PARAMETER WorkPath
    A directory on tmpfs under which a fresh work directory (psreplica-bench-<pid>) is made and removed at the end.
.PARAMETER MarkdownPath
    Where to write the result table (and the raw timings) as Markdown. Default: out/benchmark/results.md.
.PARAMETER Quick
    Smoke run: 2,000 files, 64 MiB, 3 runs.
.PARAMETER ModulePath
    The module manifest to measure. Default: out/PSReplica/PSReplica.psd1 (build it with ./build.ps1 first).
.PARAMETER RsyncOption
    rsync's options; -a by default (the issue's reference figures). Add --delete to match -Delete exactly.
.PARAMETER KeepWorkPath
    Leave the work directory in place (for inspecting a failed run).
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-Benchmark.ps1 -Quick
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-Benchmark.ps1 -Runs 7 -MarkdownPath ./bench.md
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 1000)]
    [int] $Runs = 5,

    [ValidateNotNullOrEmpty()]
    [string] $WorkPath = '/dev/shm',

    [string] $MarkdownPath,

    [switch] $Quick,

    [string] $ModulePath,

    [string[]] $RsyncOption = @('-a'),

    [switch] $KeepWorkPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchmarkSupport.psm1') -Force

$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repoRoot 'out/PSReplica/PSReplica.psd1' }
if (-not $MarkdownPath) { $MarkdownPath = Join-Path $repoRoot 'out/benchmark/results.md' }
$ModulePath = (Resolve-Path $ModulePath).ProviderPath

if ($Quick) {
    $fileCount = 2000
    $bigFileMiB = 64
    if (-not $PSBoundParameters.ContainsKey('Runs')) { $Runs = 3 }
}
else {
    $fileCount = 20000
    $bigFileMiB = 1024
}

$smallFileBytes = 4096
$filesPerDirectory = 100
$samplesPerTree = 16

# ---------------------------------------------------------------------------------------------------- helpers

function Remove-Tree([string] $Path) {
    # rm is much faster than Remove-Item on 20,000 files and this is untimed set-up, but it still adds up.
    if (Test-Path -LiteralPath $Path) {
        & /bin/rm -rf -- $Path
        if ($LASTEXITCODE -ne 0) { throw "rm -rf '$Path' failed ($LASTEXITCODE)." }
    }
}

function New-SmallTree([string] $Root, [int] $Count, [int] $Seed) {
    $rng = [Random]::new($Seed)
    $buffer = [byte[]]::new($smallFileBytes)
    $leafCount = [int][Math]::Max(1, [Math]::Ceiling($Count / $filesPerDirectory))
    $leaves = [Collections.Generic.List[string]]::new()
    for ($i = 0; $i -lt $leafCount; $i++) {
        $leaf = Join-Path $Root ('d{0:D2}/s{1:D2}' -f [int][Math]::Floor($i / 10), ($i % 10))
        [void][IO.Directory]::CreateDirectory($leaf)
        $leaves.Add($leaf)
    }

    for ($i = 0; $i -lt $Count; $i++) {
        $rng.NextBytes($buffer)
        [IO.File]::WriteAllBytes((Join-Path $leaves[$i % $leafCount] ('f{0:D5}.bin' -f $i)), $buffer)
    }
}

function New-BigFile([string] $Path, [int] $MiB, [int] $Seed) {
    [void][IO.Directory]::CreateDirectory((Split-Path $Path))
    $rng = [Random]::new($Seed)
    $buffer = [byte[]]::new(1MB)
    $stream = [IO.File]::Create($Path)
    try {
        for ($i = 0; $i -lt $MiB; $i++) {
            $rng.NextBytes($buffer)
            $stream.Write($buffer, 0, $buffer.Length)
        }
    }
    finally {
        $stream.Dispose()
    }
}

# Counts, bytes and a few evenly spread sample files of a tree (paths relative to the root).
function Get-TreeShape([string] $Root) {
    $files = 0; $directories = 0; [long] $bytes = 0
    $relative = [Collections.Generic.List[string]]::new()
    foreach ($info in [IO.DirectoryInfo]::new($Root).EnumerateFileSystemInfos('*', [IO.SearchOption]::AllDirectories)) {
        if ($info -is [IO.DirectoryInfo]) {
            $directories++
        }
        else {
            $files++
            $bytes += $info.Length
            $relative.Add([IO.Path]::GetRelativePath($Root, $info.FullName))
        }
    }

    $relative.Sort([StringComparer]::Ordinal)
    $samples = [Collections.Generic.List[string]]::new()
    $step = [int][Math]::Max(1, [Math]::Floor($relative.Count / $samplesPerTree))
    for ($i = 0; $i -lt $relative.Count; $i += $step) { $samples.Add($relative[$i]) }
    if ($relative.Count -gt 0 -and $samples[-1] -ne $relative[-1]) { $samples.Add($relative[-1]) }
    [pscustomobject]@{ Files = $files; Directories = $directories; Bytes = $bytes; Samples = $samples.ToArray() }
}

function Test-SameContent([string] $A, [string] $B) {
    $fa = [IO.File]::OpenRead($A)
    $fb = [IO.File]::OpenRead($B)
    try {
        if ($fa.Length -ne $fb.Length) { return $false }
        # Small files whole; big ones at the start, the middle and the end.
        $window = [long]1MB
        $offsets = @(if ($fa.Length -le 3 * $window) { [long]0 } else { [long]0; [long]($fa.Length / 2); $fa.Length - $window })
        foreach ($offset in $offsets) {
            $length = [int]$(if ($offsets.Count -eq 1) { $fa.Length } else { $window })
            $ba = [byte[]]::new($length)
            $bb = [byte[]]::new($length)
            $fa.Position = $offset; $fb.Position = $offset
            $fa.ReadExactly($ba, 0, $length); $fb.ReadExactly($bb, 0, $length)
            if (-not [Linq.Enumerable]::SequenceEqual($ba, $bb)) { return $false }
        }

        return $true
    }
    finally {
        $fa.Dispose(); $fb.Dispose()
    }
}

# Throws unless the destination is a replica of the source: same counts and bytes, sampled files equal in content
# and modification time.
function Assert-Replica([string] $Source, [string] $Destination, $Shape, [string] $What) {
    if (-not (Test-Path -LiteralPath $Destination -PathType Container)) { throw "$What left no destination directory." }
    $got = Get-TreeShape $Destination
    if ($got.Files -ne $Shape.Files -or $got.Directories -ne $Shape.Directories -or $got.Bytes -ne $Shape.Bytes) {
        throw ("$What produced a wrong tree: {0} files, {1} dirs, {2} bytes; expected {3}, {4}, {5}." -f
            $got.Files, $got.Directories, $got.Bytes, $Shape.Files, $Shape.Directories, $Shape.Bytes)
    }

    foreach ($sample in $Shape.Samples) {
        $s = Join-Path $Source $sample
        $d = Join-Path $Destination $sample
        if (-not (Test-SameContent $s $d)) { throw "$What produced different content in '$sample'." }
        if ([IO.File]::GetLastWriteTimeUtc($s) -ne [IO.File]::GetLastWriteTimeUtc($d)) { throw "$What did not preserve the time of '$sample'." }
    }
}

# Inode and ctime of the root and the sampled files: any rewrite, rename, chmod or utime changes them.
function Get-TouchState([string] $Root, $Shape) {
    $paths = @($Root) + @($Shape.Samples | ForEach-Object { Join-Path $Root $_ })
    $out = & /usr/bin/stat -c '%i %z %n' -- @paths
    if ($LASTEXITCODE -ne 0) { throw "stat failed on '$Root'." }
    $out -join "`n"
}

function Read-PeakKiB([string] $File) {
    $line = (Get-Content -LiteralPath $File | Where-Object { $_ -match '^\d+$' } | Select-Object -Last 1)
    if (-not $line) { throw "GNU time wrote no %M figure to '$File'." }
    [long] $line
}

function Get-ProcStatusKiB([string] $Field) {
    foreach ($line in [IO.File]::ReadLines('/proc/self/status')) {
        if ($line.StartsWith($Field + ':')) { return [long](($line.Substring($Field.Length + 1).Trim() -split '\s+')[0]) }
    }
    throw "No $Field in /proc/self/status."
}

$script:canResetPeak = $true
function Reset-PeakRss {
    if (-not $script:canResetPeak) { return }
    try { [IO.File]::WriteAllText('/proc/self/clear_refs', '5') } catch { $script:canResetPeak = $false }
}

# ---------------------------------------------------------------------------------------------------- tools

function Invoke-Rsync([string] $Source, [string] $Destination, [string] $MemFile) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    & /usr/bin/time -f '%M' -o $MemFile /usr/bin/rsync @RsyncOption -- "$Source/" "$Destination/"
    $clock.Stop()
    if ($LASTEXITCODE -ne 0) { throw "rsync failed ($LASTEXITCODE)." }
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; PeakKiB = Read-PeakKiB $MemFile }
}

function Invoke-Cp([string] $Source, [string] $Destination, [string] $MemFile) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    & /usr/bin/time -f '%M' -o $MemFile /bin/cp -a -- $Source $Destination
    $clock.Stop()
    if ($LASTEXITCODE -ne 0) { throw "cp failed ($LASTEXITCODE)." }
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; PeakKiB = Read-PeakKiB $MemFile }
}

function Invoke-Session([string] $Source, [string] $Destination, [switch] $Summary) {
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    Reset-PeakRss
    $before = Get-ProcStatusKiB 'VmRSS'
    $allocatedBefore = [GC]::GetTotalAllocatedBytes($true)
    $syncErrors = $null
    $result = $null
    $clock = [Diagnostics.Stopwatch]::StartNew()
    if ($Summary) {
        $result = Sync-Directory -Path $Source -Destination $Destination -Delete -Summary -ErrorVariable syncErrors
    }
    else {
        Sync-Directory -Path $Source -Destination $Destination -Delete -ErrorVariable syncErrors | Out-Null
    }
    $clock.Stop()
    $allocated = [GC]::GetTotalAllocatedBytes($true) - $allocatedBefore
    $growth = if ($script:canResetPeak) { (Get-ProcStatusKiB 'VmHWM') - $before } else { $null }
    if ($syncErrors) { throw "Sync-Directory reported errors: $($syncErrors -join '; ')" }
    if ($Summary -and $result.Errors -ne 0) { throw "Sync-Directory's summary counts $($result.Errors) errors." }
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; PeakKiB = $growth; AllocatedBytes = $allocated; Summary = $result }
}

function ConvertTo-PSLiteral([string] $Text) { "'" + $Text.Replace("'", "''") + "'" }

function Invoke-Process([string] $Source, [string] $Destination, [string] $MemFile) {
    $command = 'Import-Module {0}; $s = Sync-Directory -Path {1} -Destination {2} -Delete -Summary; "{{0}} {{1}} {{2}} {{3}}" -f $s.Created, $s.Updated, $s.Deleted, $s.Errors' -f
        (ConvertTo-PSLiteral $ModulePath), (ConvertTo-PSLiteral $Source), (ConvertTo-PSLiteral $Destination)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $out = & /usr/bin/time -f '%M' -o $MemFile dotnet pwsh -NoProfile -NonInteractive -Command $command
    $clock.Stop()
    if ($LASTEXITCODE -ne 0) { throw "The whole-process run failed ($LASTEXITCODE): $out" }
    $counts = [long[]](("$out".Trim()) -split ' ')
    if ($counts.Count -ne 4 -or $counts[3] -ne 0) { throw "The whole-process run reported errors or printed something else: $out" }
    [pscustomobject]@{
        Seconds = $clock.Elapsed.TotalSeconds; PeakKiB = Read-PeakKiB $MemFile
        Summary = [pscustomobject]@{ Created = $counts[0]; Updated = $counts[1]; Deleted = $counts[2]; Errors = $counts[3] }
    }
}

# One run of one tool on one case, from the right starting state, verified afterwards.
function Invoke-CaseRun($Case, [string] $Tool) {
    $memFile = Join-Path $work 'time.out'
    if ($Case.Fresh) {
        $destination = Join-Path $work "dst/$($Case.Name)-$Tool"
        Remove-Tree $destination
        [void][IO.Directory]::CreateDirectory((Split-Path $destination))
    }
    else {
        # Tools of one family share the replica they made; each family made its own, untimed.
        $family = if ($Tool -eq 'rsync') { 'rsync' } else { 'psreplica' }
        $destination = Join-Path $work "dst/$($Case.Name)-$family"
        $touch = Get-TouchState $destination $Case.Shape
    }

    $r = switch ($Tool) {
        'rsync' { Invoke-Rsync $Case.Source $destination $memFile }
        'cp' { Invoke-Cp $Case.Source $destination $memFile }
        'session' { Invoke-Session $Case.Source $destination }
        'session-summary' { Invoke-Session $Case.Source $destination -Summary }
        'process' { Invoke-Process $Case.Source $destination $memFile }
    }

    Assert-Replica $Case.Source $destination $Case.Shape "$Tool ($($Case.Name))"
    if ($Case.Fresh) {
        if ($r.PSObject.Properties['Summary'] -and $r.Summary -and $r.Summary.Created -lt $Case.Shape.Files) {
            throw "$Tool ($($Case.Name)) reports $($r.Summary.Created) items created for $($Case.Shape.Files) files."
        }
        Remove-Tree $destination
    }
    else {
        if ((Get-TouchState $destination $Case.Shape) -ne $touch) { throw "$Tool ($($Case.Name)) touched files in a no-change run." }
        if ($r.PSObject.Properties['Summary'] -and $r.Summary -and ($r.Summary.Created + $r.Summary.Updated + $r.Summary.Deleted) -ne 0) {
            throw "$Tool ($($Case.Name)) changed something in a no-change run."
        }
    }

    $r
}

# ---------------------------------------------------------------------------------------------------- run

if (-not (Test-Path -LiteralPath $WorkPath -PathType Container)) { throw "WorkPath '$WorkPath' does not exist." }
$fsType = (& /usr/bin/stat -f -c '%T' -- $WorkPath)
if ($fsType -ne 'tmpfs') { Write-Warning "WorkPath '$WorkPath' is on $fsType, not tmpfs: figures will include storage." }
$work = Join-Path (Resolve-Path -LiteralPath $WorkPath).ProviderPath "psreplica-bench-$PID"
if (Test-Path -LiteralPath $work) { throw "The work directory '$work' already exists." }

Import-Module $ModulePath -Force
$moduleInfo = Get-Module PSReplica
$commit = (& git -C $repoRoot rev-parse --short HEAD 2>$null)
$rsyncVersion = ((& /usr/bin/rsync --version | Select-Object -First 1) -replace '\s+protocol.*$', '' -replace '\s+', ' ')
$environment = [ordered]@{
    Date = [DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm') + ' UTC'
    Commit = "$commit"
    Host = "$([Environment]::ProcessorCount) cores, Linux $([Environment]::OSVersion.Version), $(Get-Content /proc/loadavg) (loadavg at start)"
    Tools = "$rsyncVersion; pwsh $($PSVersionTable.PSVersion); .NET $([Environment]::Version); PSReplica $($moduleInfo.Version)"
    Data = "$fileCount x 4 KiB in $([Math]::Ceiling($fileCount / $filesPerDirectory)) dirs; 1 x $bigFileMiB MiB; $Runs runs per tool; rsync $($RsyncOption -join ' ')"
}

$toolsFirst = @('rsync', 'cp', 'session', 'session-summary', 'process')
$toolsNoChange = @('rsync', 'session', 'session-summary', 'process')
$smallLabel = if ($Quick) { "$fileCount files" } else { "$($fileCount / 1000)k files" }
$bigLabel = if ($bigFileMiB -ge 1024) { "$($bigFileMiB / 1024) GiB" } else { "$bigFileMiB MiB" }

Push-Location $repoRoot
try {
    [void][IO.Directory]::CreateDirectory($work)
    Write-Host "Work directory $work ($fsType); $Runs runs per tool."

    Write-Host 'Generating data...'
    New-SmallTree (Join-Path $work 'warm/src') 50 1
    New-SmallTree (Join-Path $work 'small/src') $fileCount 2
    New-BigFile (Join-Path $work 'big/src/big.bin') $bigFileMiB 3

    # Untimed warm-up on a separate small tree: JIT, module load, first-use caches; also warms dotnet pwsh's files.
    $warmSource = Join-Path $work 'warm/src'
    $warmShape = Get-TreeShape $warmSource
    $warmCase = [pscustomobject]@{ Name = 'warm'; Source = $warmSource; Fresh = $true; Shape = $warmShape }
    foreach ($tool in 'session', 'session-summary', 'process', 'rsync', 'cp') { [void](Invoke-CaseRun $warmCase $tool) }

    $smallSource = Join-Path $work 'small/src'
    $smallShape = Get-TreeShape $smallSource
    $bigSource = Join-Path $work 'big/src'
    $cases = @(
        [pscustomobject]@{ Name = 'small-first'; Label = "first copy, $smallLabel"; Source = $smallSource; Shape = $smallShape; Fresh = $true; Tools = $toolsFirst; Target = 0.8 }
        [pscustomobject]@{ Name = 'small-nochange'; Label = "no-change re-run, $smallLabel"; Source = $smallSource; Shape = $smallShape; Fresh = $false; Tools = $toolsNoChange; Target = 1.0 }
        [pscustomobject]@{ Name = 'big-first'; Label = "first copy, 1 x $bigLabel"; Source = $bigSource; Shape = (Get-TreeShape $bigSource); Fresh = $true; Tools = $toolsFirst; Target = 0.6 }
    )

    $results = [ordered]@{}
    foreach ($case in $cases) {
        Write-Host "Case $($case.Label)"
        if (-not $case.Fresh) {
            # The replicas the no-change runs start from, made by each family itself (untimed).
            $rsyncReplica = Join-Path $work "dst/$($case.Name)-rsync"
            $psReplica = Join-Path $work "dst/$($case.Name)-psreplica"
            Remove-Tree $rsyncReplica; Remove-Tree $psReplica
            [void](Invoke-Rsync $case.Source $rsyncReplica (Join-Path $work 'time.out'))
            [void](Invoke-Session $case.Source $psReplica)
            Assert-Replica $case.Source $rsyncReplica $case.Shape 'rsync (pre-sync)'
            Assert-Replica $case.Source $psReplica $case.Shape 'Sync-Directory (pre-sync)'
        }

        $perTool = [ordered]@{}
        foreach ($tool in $case.Tools) { $perTool[$tool] = [Collections.Generic.List[object]]::new() }
        for ($round = 0; $round -lt $Runs; $round++) {
            $n = $case.Tools.Count
            for ($k = 0; $k -lt $n; $k++) {
                $tool = $case.Tools[($round + $k) % $n]
                $r = Invoke-CaseRun $case $tool
                $perTool[$tool].Add($r)
                Write-Host ('  run {0}/{1} {2,-16} {3,8:N3} s' -f ($round + 1), $Runs, $tool, $r.Seconds)
            }
        }

        $results[$case.Name] = $perTool
    }
}
finally {
    Pop-Location
    if ($KeepWorkPath) {
        Write-Host "Work directory kept: $work"
    }
    elseif (Test-Path -LiteralPath $work) {
        Remove-Tree $work
    }
}

# ---------------------------------------------------------------------------------------------------- report

function Format-Seconds($Value) { if ($null -eq $Value) { 'n/a' } else { '{0:N3}' -f $Value } }
function Format-Ratio($Value) { if ($null -eq $Value) { 'n/a' } else { '{0:N2}x' -f $Value } }
function Format-KiB($Value) { if ($null -eq $Value) { 'n/a' } else { '{0:N0}' -f $Value } }

$rows = foreach ($case in $cases) {
    $perTool = $results[$case.Name]
    $median = @{}
    $memory = @{}
    $allocated = @{}
    foreach ($tool in $perTool.Keys) {
        $median[$tool] = Get-Median ([double[]]@($perTool[$tool] | ForEach-Object Seconds))
        $kib = @($perTool[$tool] | Where-Object { $null -ne $_.PeakKiB } | ForEach-Object PeakKiB)
        $memory[$tool] = if ($kib.Count -gt 0) { Get-Median ([double[]]$kib) } else { $null }
        $bytes = @($perTool[$tool] | Where-Object { $_.PSObject.Properties['AllocatedBytes'] } | ForEach-Object AllocatedBytes)
        $allocated[$tool] = if ($bytes.Count -gt 0) { (Get-Median ([double[]]$bytes)) / 1MB } else { $null }
    }

    $rsync = $median['rsync']
    $sessionRatio = $median['session'] / $rsync
    [pscustomobject]@{
        Case = $case.Label
        'rsync s' = Format-Seconds $rsync
        'cp -a s' = Format-Seconds $median['cp']
        'PSR session s' = Format-Seconds $median['session']
        'session/rsync' = Format-Ratio $sessionRatio
        'PSR -Summary s' = Format-Seconds $median['session-summary']
        '-Summary/rsync' = Format-Ratio ($median['session-summary'] / $rsync)
        'PSR process s' = Format-Seconds $median['process']
        'process/rsync' = Format-Ratio ($median['process'] / $rsync)
        'rsync KiB' = Format-KiB $memory['rsync']
        'PSR process KiB' = Format-KiB $memory['process']
        'PSR session +KiB' = Format-KiB $memory['session']
        'PSR session alloc MiB' = if ($null -eq $allocated['session']) { 'n/a' } else { '{0:N1}' -f $allocated['session'] }
        Target = '<= {0:N1}x' -f $case.Target
        Result = if ($sessionRatio -le $case.Target) { 'PASS' } else { 'MISS' }
    }
}

$columns = @($rows[0].PSObject.Properties.Name)
$md = [Text.StringBuilder]::new()
[void]$md.AppendLine('| ' + ($columns -join ' | ') + ' |')
[void]$md.AppendLine('|' + (($columns | ForEach-Object { if ($_ -eq 'Case') { '---' } else { '---:' } }) -join '|') + '|')
foreach ($row in $rows) { [void]$md.AppendLine('| ' + (($columns | ForEach-Object { $row.$_ }) -join ' | ') + ' |') }
[void]$md.AppendLine()
[void]$md.AppendLine('Medians of the timed runs; ratios are PSReplica / rsync; Result judges the in-session run (objects to Out-Null) against the target. Memory: peak RSS, the largest single process (rsync forks sender, generator, receiver; the whole-process run is the dotnet host plus pwsh); "session +KiB" is how much the benchmarking pwsh''s peak RSS grew during the run (memory the GC already holds from earlier work is reused, so this is often near 0); "session alloc MiB" is the managed memory allocated during the run, all threads (GC.GetTotalAllocatedBytes).')
[void]$md.AppendLine()
foreach ($key in $environment.Keys) { [void]$md.AppendLine("- ${key}: $($environment[$key])") }
[void]$md.AppendLine()
[void]$md.AppendLine('<details><summary>All runs (seconds, in run order)</summary>')
[void]$md.AppendLine()
[void]$md.AppendLine('| case | tool | runs |')
[void]$md.AppendLine('|---|---|---|')
foreach ($case in $cases) {
    foreach ($tool in $results[$case.Name].Keys) {
        $times = ($results[$case.Name][$tool] | ForEach-Object { '{0:N3}' -f $_.Seconds }) -join ', '
        [void]$md.AppendLine("| $($case.Name) | $tool | $times |")
    }
}
[void]$md.AppendLine()
[void]$md.AppendLine('</details>')

Write-Host ''
Write-Host $md.ToString()
$markdownDirectory = Split-Path -Parent $MarkdownPath
if ($markdownDirectory) { [void][IO.Directory]::CreateDirectory($markdownDirectory) }
[IO.File]::WriteAllText($MarkdownPath, $md.ToString())
Write-Host "Markdown written to $MarkdownPath"
