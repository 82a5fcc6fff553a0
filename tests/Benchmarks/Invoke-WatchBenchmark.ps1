#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Measures Sync-Directory -Watch's lag (issue 17, item 7): the time from a file's close in the source to its rename into
    place at the destination, beside lsyncd (inotify + rsync) on the same machine and trees.
.DESCRIPTION
    A benchmark, not a test: it prints a table and writes it as Markdown; it fails only when a run is broken (a file
    never arrives, or arrives with other content).

    Each tool watches its own source and destination under -WorkPath (tmpfs by default) while this script writes into
    the source. The destination is watched by a FileSystemWatcher of this process; a file counts as arrived when its
    final name appears there (created, or renamed from a temporary name, as both tools write it) with its full length.
    Lag is that moment minus the moment the write's Close returned, on one Stopwatch.
      single    one new file of 1 KiB at a time, -Samples times; each waits until the file arrived and the tools rest
                (-Gap), so each is a batch of its own
      burst     1,000 new files of 4 KiB written back to back in a new directory; lag to the last one's arrival, beside
                the wall time of a one-shot Sync-Directory of the same files (the issue's target: at most 2x that)
      large     one new file of 100 MiB
    Tools:
      PSReplica          Sync-Directory SRC DST -Watch -Delete [-SettleTime], in a pwsh process of its own
      lsyncd (delay N)   lsyncd with default.rsync (rsync -a) and each -LsyncdDelay (its default is 15 s); skipped with a
                         note when lsyncd is not installed (Debian: apt-get install -y lsyncd)
    Idle CPU: the CPU time of the tool's process (the pwsh running the watch; lsyncd) over -IdleSeconds with nothing
    changing (the watch's reader sleeps in poll: expected ~0).
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Build; dotnet pwsh ./tests/Benchmarks/Invoke-WatchBenchmark.ps1
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-WatchBenchmark.ps1 -Quick
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 1000)] [int] $Samples = 20,
    [ValidateSet('single', 'burst', 'large')] [string[]] $Case = @('single', 'burst', 'large'),
    [ValidateSet('PSReplica', 'lsyncd')] [string[]] $Tool = @('PSReplica', 'lsyncd'),
    # lsyncd's delays to run (seconds): its default, 15, and its lowest, 0.
    [int[]] $LsyncdDelay = @(0, 15),
    # Samples for an lsyncd delay of 5 s or more (each costs the delay).
    [ValidateRange(1, 100)] [int] $SlowSamples = 3,
    # -SettleTime for PSReplica (its default when empty).
    [string] $SettleTime,
    # Rest between single-file samples, so that each is a batch of its own.
    [ValidateRange(0, 10000)] [int] $GapMilliseconds = 500,
    [ValidateRange(1, 60)] [int] $IdleSeconds = 5,
    [ValidateRange(1, 100000)] [int] $BurstFiles = 1000,
    [ValidateRange(1, 4096)] [int] $LargeMiB = 100,
    [string] $WorkPath = '/dev/shm',
    [string] $MarkdownPath,
    [string] $ModulePath,
    # 5 single samples, a 200-file burst, 16 MiB, lsyncd only at delay 0.
    [switch] $Quick
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repoRoot 'out/PSReplica/PSReplica.psd1' }
if (-not $MarkdownPath) { $MarkdownPath = Join-Path $repoRoot 'out/benchmark/watch.md' }
if (-not (Test-Path $ModulePath)) { throw "Build first: dotnet pwsh ./build.ps1 -Task Build ($ModulePath is missing)." }
if ($Quick) {
    if (-not $PSBoundParameters.ContainsKey('Samples')) { $Samples = 5 }
    if (-not $PSBoundParameters.ContainsKey('BurstFiles')) { $BurstFiles = 200 }
    if (-not $PSBoundParameters.ContainsKey('LargeMiB')) { $LargeMiB = 16 }
    if (-not $PSBoundParameters.ContainsKey('LsyncdDelay')) { $LsyncdDelay = @(0) }
}
Import-Module $ModulePath -Force
$work = Join-Path $WorkPath "psreplica-watch-$PID"
$clock = [Diagnostics.Stopwatch]::StartNew()
$random = [Random]::new(20261206)
$lsyncd = Get-Command lsyncd -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1

function Get-Quantile([double[]] $Values, [double] $Q) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count -eq 0) { return [double]::NaN }
    $sorted[[Math]::Min($sorted.Count - 1, [Math]::Ceiling($Q * $sorted.Count) - 1)]
}

# Arrivals at a destination: final name => the Stopwatch's milliseconds when it appeared with the length expected.
class Arrivals : IDisposable {
    [IO.FileSystemWatcher] $Watcher
    [Collections.Concurrent.ConcurrentDictionary[string, double]] $Seen = [Collections.Concurrent.ConcurrentDictionary[string, double]]::new()
    [Collections.Concurrent.ConcurrentDictionary[string, long]] $Expected = [Collections.Concurrent.ConcurrentDictionary[string, long]]::new()
    [Diagnostics.Stopwatch] $Clock
    [string] $Root

    Arrivals([string] $root, [Diagnostics.Stopwatch] $clock) {
        $this.Root = $root
        $this.Clock = $clock
        $this.Watcher = [IO.FileSystemWatcher]::new($root)
        $this.Watcher.IncludeSubdirectories = $true
        $this.Watcher.InternalBufferSize = 65536
        $this.Watcher.NotifyFilter = [IO.NotifyFilters]'FileName, DirectoryName, Size, LastWrite'
        $self = $this
        $handler = { param($s, $e) $self.Check($e.FullPath) }.GetNewClosure()
        $this.Watcher.add_Created($handler)
        $this.Watcher.add_Changed($handler)
        $this.Watcher.add_Renamed([IO.RenamedEventHandler]{ param($s, $e) $self.Check($e.FullPath) }.GetNewClosure())
        $this.Watcher.EnableRaisingEvents = $true
    }

    [void] Expect([string] $relative, [long] $length) { $this.Expected[$relative] = $length }

    [void] Check([string] $full) {
        $relative = [IO.Path]::GetRelativePath($this.Root, $full)
        $length = 0L
        if ($this.Expected.TryGetValue($relative, [ref] $length)) {
            $info = [IO.FileInfo]::new($full)
            if ($info.Exists -and $info.Length -eq $length) { $null = $this.Seen.TryAdd($relative, $this.Clock.Elapsed.TotalMilliseconds) }
        }
    }

    # Waits (bounded) until every name in $relatives has arrived; also checks the disk, for an event the watcher merged away.
    [double] WaitAll([string[]] $relatives, [int] $timeoutMs) {
        $deadline = $this.Clock.Elapsed.TotalMilliseconds + $timeoutMs
        while ($true) {
            $last = 0.0
            $missing = 0
            foreach ($r in $relatives) {
                $at = 0.0
                if (-not $this.Seen.TryGetValue($r, [ref] $at)) { $this.Check((Join-Path $this.Root $r)) }
                if ($this.Seen.TryGetValue($r, [ref] $at)) { $last = [Math]::Max($last, $at) } else { $missing++ }
            }
            if ($missing -eq 0) { return $last }
            if ($this.Clock.Elapsed.TotalMilliseconds -gt $deadline) { throw "$missing of $($relatives.Count) files never arrived in $($this.Root)" }
            [Threading.Thread]::Sleep(2)
        }
        return 0
    }

    [void] Dispose() { $this.Watcher.Dispose() }
}

function Write-Source([string] $Path, [int] $Length) {
    $bytes = [byte[]]::new($Length)
    $random.NextBytes($bytes)
    $stream = [IO.File]::Create($Path)
    try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Dispose() }
    $clock.Elapsed.TotalMilliseconds
}

# One tool's source/destination pair with its watcher running; Stop ends it.
function Start-Tool([string] $Name, [int] $Delay) {
    $dir = Join-Path $work ($Name -replace '[^a-z0-9]', '') + "$Delay"
    $src = Join-Path $dir 'src'
    $dst = Join-Path $dir 'dst'
    $null = New-Item -ItemType Directory -Force $src, $dst
    [IO.File]::WriteAllText((Join-Path $src 'seed.txt'), 'seed')
    $arrivals = [Arrivals]::new($dst, $clock)
    $arrivals.Expect('seed.txt', 4)
    if ($Name -eq 'PSReplica') {
        # A pwsh of its own (this one's runtime and pwsh.dll, no launcher), so that its CPU is the watch's alone.
        $settle = if ($SettleTime) { " -SettleTime '$SettleTime'" } else { '' }
        $command = "Import-Module '$ModulePath'; Sync-Directory -LiteralPath '$src' -Destination '$dst' -Watch -Delete$settle | Out-Null"
        $process = Start-Process -FilePath ([Environment]::ProcessPath) -ArgumentList @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-Command', $command) -PassThru `
            -RedirectStandardOutput (Join-Path $dir 'out.txt') -RedirectStandardError (Join-Path $dir 'err.txt')
        $stop = { if (-not $process.HasExited) { $process.Kill($true); $process.WaitForExit() } }.GetNewClosure()
        $cpu = { $process.Refresh(); $process.TotalProcessorTime.TotalMilliseconds }.GetNewClosure()
    }
    else {
        $config = Join-Path $dir 'lsyncd.lua'
        Set-Content -LiteralPath $config -Value @"
settings { nodaemon = true, logfile = "$dir/lsyncd.log", statusFile = "$dir/lsyncd.status", insist = false }
sync { default.rsync, source = "$src/", target = "$dst/", delay = $Delay, rsync = { archive = true } }
"@
        $process = Start-Process -FilePath $lsyncd.Source -ArgumentList $config -PassThru -RedirectStandardOutput (Join-Path $dir 'out.txt') -RedirectStandardError (Join-Path $dir 'err.txt')
        $stop = { if (-not $process.HasExited) { $process.Kill($true); $process.WaitForExit() } }.GetNewClosure()
        $cpu = { $process.Refresh(); $process.TotalProcessorTime.TotalMilliseconds }.GetNewClosure()
    }
    # Started: the seed file has arrived (lsyncd's first sync, PSReplica's first sync).
    $null = $arrivals.WaitAll(@('seed.txt'), 120000)
    [pscustomobject]@{ Name = $Name; Delay = $Delay; Source = $src; Destination = $dst; Arrivals = $arrivals; Stop = $stop; Cpu = $cpu }
}

$rows = [Collections.Generic.List[object]]::new()
$notes = [Collections.Generic.List[string]]::new()
$tools = [Collections.Generic.List[object]]::new()
foreach ($name in $Tool) {
    if ($name -eq 'PSReplica') { $tools.Add(@{ Name = 'PSReplica'; Delay = 0; Label = "PSReplica (settle $(if ($SettleTime) { $SettleTime } else { '50ms' }))" }) }
    elseif (-not $lsyncd) { $notes.Add('lsyncd is not installed (Debian: apt-get install -y lsyncd): its columns are left out.') }
    else { foreach ($d in $LsyncdDelay) { $tools.Add(@{ Name = 'lsyncd'; Delay = $d; Label = "lsyncd (delay $d s)" }) } }
}

$null = New-Item -ItemType Directory -Force $work
try {
    foreach ($t in $tools) {
        $run = Start-Tool $t.Name $t.Delay
        try {
            $n = if ($t.Delay -ge 5) { $SlowSamples } else { $Samples }
            $timeout = ($t.Delay * 1000) + 120000
            if ('single' -in $Case) {
                $lags = foreach ($i in 1..$n) {
                    $rel = "single-$i.bin"
                    $run.Arrivals.Expect($rel, 1024)
                    $closed = Write-Source (Join-Path $run.Source $rel) 1024
                    ($run.Arrivals.WaitAll(@($rel), $timeout)) - $closed
                    [Threading.Thread]::Sleep($GapMilliseconds)
                }
                $rows.Add([pscustomobject]@{ Case = 'single 1 KiB file'; Tool = $t.Label; N = $n; P50 = (Get-Quantile $lags 0.5); P95 = (Get-Quantile $lags 0.95); Max = ($lags | Measure-Object -Maximum).Maximum })
            }
            if ('burst' -in $Case) {
                $dir = Join-Path $run.Source 'burst'
                $null = New-Item -ItemType Directory $dir
                $names = foreach ($i in 1..$BurstFiles) { "burst/f$i.bin" }
                foreach ($rel in $names) { $run.Arrivals.Expect($rel, 4096) }
                $closed = 0.0
                foreach ($rel in $names) { $closed = Write-Source (Join-Path $run.Source $rel) 4096 }
                $lag = ($run.Arrivals.WaitAll($names, $timeout)) - $closed
                $rows.Add([pscustomobject]@{ Case = "burst of $BurstFiles files (4 KiB), to the last"; Tool = $t.Label; N = 1; P50 = $lag; P95 = $lag; Max = $lag })
            }
            if ('large' -in $Case) {
                $rel = 'large.bin'
                $run.Arrivals.Expect($rel, [long]$LargeMiB * 1MB)
                $closed = Write-Source (Join-Path $run.Source $rel) ($LargeMiB * 1MB)
                $lag = ($run.Arrivals.WaitAll(@($rel), $timeout)) - $closed
                $rows.Add([pscustomobject]@{ Case = "one $LargeMiB MiB file"; Tool = $t.Label; N = 1; P50 = $lag; P95 = $lag; Max = $lag })
            }
            [Threading.Thread]::Sleep(1000)
            $before = & $run.Cpu
            [Threading.Thread]::Sleep($IdleSeconds * 1000)
            $idle = ((& $run.Cpu) - $before) / $IdleSeconds
            $rows.Add([pscustomobject]@{ Case = 'CPU while idle (ms per second)'; Tool = $t.Label; N = 1; P50 = $idle; P95 = $idle; Max = $idle })
        }
        finally {
            & $run.Stop
            $run.Arrivals.Dispose()
        }
    }

    if ('burst' -in $Case -and 'PSReplica' -in $Tool) {
        # The one-shot reference: the same burst synced by one Sync-Directory onto a replica without it (median of 3).
        $src = Join-Path $work 'oneshot/src'
        $dst = Join-Path $work 'oneshot/dst'
        $null = New-Item -ItemType Directory -Force $src, $dst
        $null = Sync-Directory $src $dst
        $null = New-Item -ItemType Directory (Join-Path $src 'burst')
        foreach ($i in 1..$BurstFiles) { $null = Write-Source (Join-Path $src "burst/f$i.bin") 4096 }
        $times = foreach ($r in 1..3) {
            Remove-Item -Recurse -Force (Join-Path $dst 'burst') -ErrorAction SilentlyContinue
            (Measure-Command { Sync-Directory $src $dst -Summary | Out-Null }).TotalMilliseconds
        }
        $oneShot = Get-Quantile $times 0.5
        $rows.Add([pscustomobject]@{ Case = "one-shot Sync-Directory of the burst (reference)"; Tool = 'PSReplica'; N = 3; P50 = $oneShot; P95 = $oneShot; Max = ($times | Measure-Object -Maximum).Maximum })
    }
}
finally {
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}

$table = $rows | Select-Object Case, Tool, N, @{ n = 'p50 ms'; e = { [Math]::Round($_.P50, 1) } }, @{ n = 'p95 ms'; e = { [Math]::Round($_.P95, 1) } }, @{ n = 'max ms'; e = { [Math]::Round($_.Max, 1) } }
$table | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
$notes | ForEach-Object { Write-Host "Note: $_" }
$load = (Get-Content /proc/loadavg -Raw).Trim()
$md = [Text.StringBuilder]::new()
$null = $md.AppendLine("# -Watch lag, $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC, commit $(git -C $repoRoot rev-parse --short HEAD), load average $load").AppendLine()
$null = $md.AppendLine('| Case | Tool | N | p50 ms | p95 ms | max ms |').AppendLine('| --- | --- | ---: | ---: | ---: | ---: |')
foreach ($r in $table) { $null = $md.AppendLine("| $($r.Case) | $($r.Tool) | $($r.N) | $($r.'p50 ms') | $($r.'p95 ms') | $($r.'max ms') |") }
foreach ($n in $notes) { $null = $md.AppendLine().AppendLine("Note: $n") }
$null = New-Item -ItemType Directory -Force (Split-Path $MarkdownPath)
Set-Content -LiteralPath $MarkdownPath -Value $md.ToString()
Write-Host "Written to $MarkdownPath"
