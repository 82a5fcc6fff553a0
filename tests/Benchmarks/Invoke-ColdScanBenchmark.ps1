#!/usr/bin/env pwsh
<#
.SYNOPSIS
    A no-change Sync-Directory against rsync -a on a real file system with cold and warm caches (issue 18, item 8).
.DESCRIPTION
    A benchmark, not a test; it needs root (mount, and /proc/sys/vm/drop_caches). It makes an ext4 image (truncate and
    mkfs.ext4), mounts it through a loop device, writes a source tree of -Files small files on it (half empty, half
    1 KiB, 50 to a directory, the directories three levels deep under ten top-level ones, as a source tree is) and a
    replica of it made by rsync -a, then times no-change runs of both tools over that one source and replica pair,
    alternating which goes first, -Runs times each:
      cold   with the page cache dropped before each run (sync; echo 3 > /proc/sys/vm/drop_caches): the scan waits on
             the disk for the directories and inodes of both trees
      warm   right after a run of the same tool (everything cached)
    and reports the medians and the ratios PSReplica/rsync, and PSReplica cold/warm.

    Beside them, cold, the floor: coldscan-floor.c, compiled with the machine's C compiler (cc), reads every directory
    of both trees and states every entry (getdents64 and statx, in inode order, on 16 threads) and does nothing else:
    the least any no-change run must ask of the file system, as fast as this machine serves it. Its ratio to rsync is
    the best any tool can reach here; PSReplica's ratio to it is what the rest of a run costs. Without cc the floor is
    left out (said).

    PSReplica runs in this pwsh, its items counted (a no-change run must emit none). The module is imported once and the
    session warmed up before anything is timed: -WarmUps no-change runs of a one-file tree, then two of the measured
    tree. PowerShell's tiered compiler promotes a method after 30 calls and then again with profile data, so the engine
    code PowerShell runs once per command (command lookup, parameter binding, pipeline set-up) is still being compiled,
    on a background thread competing for the cores, for some hundred commands into a session (measured: 0.1-0.5 s of
    compilation during each of the first timed runs after a single warm-up). The compilation time during each timed
    run is reported (JitInfo), so a run that was not yet steady shows.

    Every timed run, of each tool and of the floor, starts on a quiet machine: after this process's compiler has been
    idle for half a second and then all cores for three tenths (the kernel goes on freeing the dropped inodes and
    dentries after the drop returns). Dropping the caches drops everyone's: on a shared machine other processes slow down
    too, and their I/O competes with the runs' (on this VM some invocations saw rsync's cold run take 3-5 s instead of
    1.6 s for minutes at a time, whatever ran: compare the floor's runs before trusting a ratio). The image is unmounted
    and removed at the end, also after a failure.
.PARAMETER Files
    Files in the source tree: 100,000 by default (the issue's figure); 20,000 with -Quick.
.PARAMETER Runs
    Runs per tool and cache state; the median is reported. 5 by default, 2 with -Quick.
.PARAMETER WorkPath
    Where the image file goes (a real disk, not tmpfs: the point is waiting for it).
.PARAMETER WarmUps
    No-change runs of a one-file tree before anything is timed (300: after them a timed run compiles next to nothing).
.PARAMETER FloorThreads
    Threads of the floor's walk (16: more measured no faster on a two-core machine).
.EXAMPLE
    sudo dotnet pwsh ./tests/Benchmarks/Invoke-ColdScanBenchmark.ps1 -Quick
#>
[CmdletBinding()]
param(
    [ValidateRange(1000, 2000000)] [int] $Files = 100000,
    [ValidateRange(1, 100)] [int] $Runs = 5,
    [string] $WorkPath = '/var/tmp',
    [string] $ModulePath,
    [string] $MarkdownPath,
    [switch] $Quick,
    [ValidateRange(1, 256)] [int] $FloorThreads = 16,
    [ValidateRange(0, 10000)] [int] $WarmUps = 300
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchmarkSupport.psm1') -Force
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repoRoot 'out/PSReplica/PSReplica.psd1' }
if (-not $MarkdownPath) { $MarkdownPath = Join-Path $repoRoot 'out/benchmark/coldscan.md' }
if (-not (Test-Path $ModulePath)) { throw "Build first: dotnet pwsh ./build.ps1 ($ModulePath is missing)." }
if ($Quick) {
    if (-not $PSBoundParameters.ContainsKey('Files')) { $Files = 20000 }
    if (-not $PSBoundParameters.ContainsKey('Runs')) { $Runs = 2 }
}
if ((& id -u) -ne '0') { throw 'Run as root: the benchmark mounts an image and drops the page cache.' }
foreach ($tool in 'mkfs.ext4', 'mount', 'umount', 'rsync') {
    if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) { throw "$tool is needed." }
}
Import-Module $ModulePath

$work = Join-Path $WorkPath "psreplica-coldscan-$PID"
$image = Join-Path $work 'tree.img'
$mount = Join-Path $work 'mnt'
$source = Join-Path $mount 'src'
$replica = Join-Path $mount 'dst'
$mounted = $false

function Invoke-Native([string] $Command, [string[]] $Arguments) {
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $Arguments failed ($LASTEXITCODE)." }
}

function Clear-PageCache {
    Invoke-Native sync @()
    [IO.File]::WriteAllText('/proc/sys/vm/drop_caches', "3`n")
}

# Before each timed run, whichever tool it is: until this process's compiler has been idle for half a second, then until
# the machine has been (all cores at least 95% idle for three tenths of a second in a row; 10 s at most). The benchmark's
# own commands (sync, the loop, the counting) keep promoting PowerShell's code to optimized tiers for many iterations, on
# a background thread; and dropping the caches frees some hundred thousand inodes and dentries, which the kernel's
# workers go on reclaiming after the write returns. Either would otherwise compete with the next run.
function Wait-Idle {
    $quiet = 0
    $last = [Runtime.JitInfo]::GetCompiledMethodCount()
    while ($quiet -lt 10) {
        [Threading.Thread]::Sleep(50)
        $now = [Runtime.JitInfo]::GetCompiledMethodCount()
        if ($now -eq $last) { $quiet++ } else { $quiet = 0; $last = $now }
    }
    $quiet = 0
    $before = Get-CpuTicks
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while ($quiet -lt 3 -and $clock.Elapsed.TotalSeconds -lt 10) {
        [Threading.Thread]::Sleep(100)
        $now = Get-CpuTicks
        $total = $now.Total - $before.Total
        $quiet = if ($total -gt 0 -and ($now.Idle - $before.Idle) / $total -ge 0.95) { $quiet + 1 } else { 0 }
        $before = $now
    }
    if ($quiet -lt 3) { Write-Warning 'The machine did not go idle within 10 s: the next run competes with something.' }
}

# All cores' jiffies from /proc/stat: in total, and idle (idle and iowait).
function Get-CpuTicks {
    $fields = ((Get-Content /proc/stat -TotalCount 1) -split '\s+') | Select-Object -Skip 1 | ForEach-Object { [long]$_ }
    [pscustomobject]@{ Total = ($fields | Measure-Object -Sum).Sum; Idle = $fields[3] + $fields[4] }
}

# One no-change run: its wall seconds and CPU seconds (user+sys: for PSReplica this process's, for rsync GNU time's sum
# over its processes), which a loaded machine distorts less than the wall time.
function Measure-Tool([string] $Tool) {
    Wait-Idle
    $self = [Diagnostics.Process]::GetCurrentProcess()
    $cpuBefore = $self.TotalProcessorTime
    $jitBefore = [Runtime.JitInfo]::GetCompilationTime()
    $jit = 0.0
    $clock = [Diagnostics.Stopwatch]::StartNew()
    if ($Tool -eq 'PSReplica') {
        $items = 0
        Sync-Directory -Path "$source/" -Destination $replica | ForEach-Object { $items++ }
        $clock.Stop()
        if ($items -ne 0) { throw "A no-change Sync-Directory did $items actions." }
        $jit = ([Runtime.JitInfo]::GetCompilationTime() - $jitBefore).TotalSeconds
        $self.Refresh()
        $cpu = ($self.TotalProcessorTime - $cpuBefore).TotalSeconds
    }
    else {
        $times = Join-Path $work 'rsync-cpu'
        & /usr/bin/time -f '%U %S' -o $times rsync -a "$source/" "$replica/"
        $clock.Stop()
        if ($LASTEXITCODE -ne 0) { throw "rsync failed ($LASTEXITCODE)." }
        $cpu = 0.0
        foreach ($part in (Get-Content $times | Select-Object -Last 1) -split ' ') { $cpu += [double]$part }
    }
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; Cpu = $cpu; Jit = $jit }
}

# The floor (see the description): its own time of its walk, without the process start.
function Measure-Floor {
    Wait-Idle
    $output = & $floor $FloorThreads $source $replica
    if ($LASTEXITCODE -ne 0) { throw "coldscan-floor failed ($LASTEXITCODE)." }
    [double](($output -split ' ')[1])
}

try {
    $null = New-Item -ItemType Directory -Force $mount
    # Room for the two trees (a 1 KiB file takes a 4 KiB block) and an inode for each of their items.
    $megabytes = [Math]::Max(256, [int]($Files * 2 * 4 / 1024 * 1.5))
    Invoke-Native truncate @('-s', "${megabytes}M", $image)
    Invoke-Native mkfs.ext4 @('-q', '-F', '-N', [string]($Files * 3), $image)
    Invoke-Native mount @('-o', 'loop', $image, $mount)
    $mounted = $true

    # The tree: 50 files to a directory, directories three levels under ten top-level ones (a/b/c).
    $kib = [byte[]]::new(1024)
    [Random]::new(18).NextBytes($kib)
    Write-Host "Making $Files files in $([Math]::Ceiling($Files / 50)) directories on an ext4 image at $mount ..."
    for ($i = 0; $i -lt $Files; $i++) {
        if ($i % 50 -eq 0) {
            $leaf = [int][Math]::Floor($i / 50)
            $directory = Join-Path $source ('a{0:D2}/b{1:D2}/c{2:D3}' -f ($leaf % 10), ([int][Math]::Floor($leaf / 10) % 20), [int][Math]::Floor($leaf / 200))
            $null = [IO.Directory]::CreateDirectory($directory)
        }
        $file = Join-Path $directory ('f{0:D2}.dat' -f ($i % 50))
        if ($i % 2) { [IO.File]::WriteAllBytes($file, $kib) } else { [IO.File]::Create($file).Dispose() }
    }
    Invoke-Native rsync @('-a', "$source/", "$replica/")

    $floor = $null
    if (Get-Command cc -ErrorAction SilentlyContinue) {
        $floor = Join-Path $work 'coldscan-floor'
        Invoke-Native cc @('-O2', '-pthread', '-o', $floor, (Join-Path $PSScriptRoot 'coldscan-floor.c'))
    }
    else {
        Write-Warning 'No C compiler (cc): the floor is left out.'
    }

    # Warm-up (see the description): the module's code and PowerShell's per-command code compiled before anything is timed.
    $warm = Join-Path $work 'warm'
    $null = New-Item -ItemType Directory -Force (Join-Path $warm 'src/a')
    [IO.File]::WriteAllBytes((Join-Path $warm 'src/a/f'), $kib)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    for ($i = 0; $i -lt $WarmUps; $i++) { Sync-Directory -Path (Join-Path $warm 'src/') -Destination (Join-Path $warm 'dst') | Out-Null }
    $null = Measure-Tool 'PSReplica'
    $null = Measure-Tool 'PSReplica'
    Write-Host ('Warmed up: {0} runs of a one-file tree and 2 of the measured tree in {1:N1} s.' -f $WarmUps, $clock.Elapsed.TotalSeconds)

    $samples = @{}
    foreach ($key in 'cold|PSReplica', 'cold|rsync', 'warm|PSReplica', 'warm|rsync') { $samples[$key] = [Collections.Generic.List[object]]::new() }
    $floorSamples = [Collections.Generic.List[double]]::new()
    for ($run = 1; $run -le $Runs; $run++) {
        $order = if ($run % 2) { @('PSReplica', 'rsync') } else { @('rsync', 'PSReplica') }
        foreach ($tool in $order) {
            Clear-PageCache
            $samples["cold|$tool"].Add((Measure-Tool $tool))
            $samples["warm|$tool"].Add((Measure-Tool $tool))
        }
        Write-Host ("run {0}: cold PSReplica {1:N3} s (CPU {2:N3}, JIT {3:N3}), rsync {4:N3} s (CPU {5:N3}); warm PSReplica {6:N3} s (CPU {7:N3}, JIT {8:N3}), rsync {9:N3} s (CPU {10:N3})" -f $run,
            $samples['cold|PSReplica'][-1].Seconds, $samples['cold|PSReplica'][-1].Cpu, $samples['cold|PSReplica'][-1].Jit, $samples['cold|rsync'][-1].Seconds, $samples['cold|rsync'][-1].Cpu,
            $samples['warm|PSReplica'][-1].Seconds, $samples['warm|PSReplica'][-1].Cpu, $samples['warm|PSReplica'][-1].Jit, $samples['warm|rsync'][-1].Seconds, $samples['warm|rsync'][-1].Cpu)
        if ($floor) {
            Clear-PageCache
            $floorSamples.Add((Measure-Floor))
            Write-Host ("run {0}: cold floor {1:N3} s" -f $run, $floorSamples[-1])
        }
    }

    $medians = @{}
    $cpuMedians = @{}
    $jitMedians = @{}
    foreach ($key in $samples.Keys) {
        $medians[$key] = Get-Median @($samples[$key] | ForEach-Object Seconds)
        $cpuMedians[$key] = Get-Median @($samples[$key] | ForEach-Object Cpu)
        $jitMedians[$key] = Get-Median @($samples[$key] | ForEach-Object Jit)
    }
    $rows = foreach ($state in 'cold', 'warm') {
        [pscustomobject]@{
            Cache = $state; Files = $Files; Runs = $Runs
            'PSReplica s' = [Math]::Round($medians["$state|PSReplica"], 3); 'rsync s' = [Math]::Round($medians["$state|rsync"], 3)
            Ratio = [Math]::Round($medians["$state|PSReplica"] / $medians["$state|rsync"], 2)
            'PSReplica CPU s' = [Math]::Round($cpuMedians["$state|PSReplica"], 3); 'rsync CPU s' = [Math]::Round($cpuMedians["$state|rsync"], 3)
            'PSReplica JIT s' = [Math]::Round($jitMedians["$state|PSReplica"], 3)
        }
    }
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    $coldOverWarm = [Math]::Round($medians['cold|PSReplica'] / $medians['warm|PSReplica'], 2)
    Write-Host "PSReplica cold/warm: $coldOverWarm"
    $floorLine = $null
    if ($floor) {
        $floorMedian = Get-Median $floorSamples.ToArray()
        $floorLine = 'Floor, cold (getdents64 and statx of both trees on {0} threads, nothing else): {1:N3} s = {2:N2}x rsync; PSReplica takes {3:N2}x the floor.' -f $FloorThreads,
            $floorMedian, ($floorMedian / $medians['cold|rsync']), ($medians['cold|PSReplica'] / $floorMedian)
        Write-Host $floorLine
    }
    $null = New-Item -ItemType Directory -Force (Split-Path $MarkdownPath)
    $lines = @('| Cache | Files | PSReplica s | rsync s | ratio | PSReplica CPU s | rsync CPU s | PSReplica JIT s |', '|---|---|---|---|---|---|---|---|')
    $lines += foreach ($r in $rows) { "| $($r.Cache) | $($r.Files) | $($r.'PSReplica s') | $($r.'rsync s') | $($r.Ratio) | $($r.'PSReplica CPU s') | $($r.'rsync CPU s') | $($r.'PSReplica JIT s') |" }
    $lines += '', "PSReplica cold/warm: $coldOverWarm ($Runs runs per tool and cache state, medians)."
    if ($floorLine) { $lines += '', $floorLine }
    Set-Content -LiteralPath $MarkdownPath -Value $lines
    Write-Host "Written to $MarkdownPath"
}
finally {
    $keep = $false
    if ($mounted) {
        & umount $mount
        if ($LASTEXITCODE -ne 0) { $keep = $true; Write-Warning "umount $mount failed: the image stays at $image." }
    }
    if (-not $keep) { & /bin/rm -rf -- $work }
}
