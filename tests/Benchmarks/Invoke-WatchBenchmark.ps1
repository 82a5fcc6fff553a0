#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Measures Sync-Directory -Watch's lag (issue 17, item 7): the time from a file's close in the source to its rename into
    place at the destination, locally and over SSH, beside lsyncd (inotify + rsync) on the same machine and trees.
.DESCRIPTION
    A benchmark, not a test: it prints a table and writes it as Markdown; it fails only when a run is broken (a file
    never arrives, or arrives with other content).

    Each tool watches its own source and destination under -WorkPath (tmpfs by default) while this script writes into
    the source. The destination is watched by a FileSystemWatcher of this process; a file counts as arrived when its
    final name appears there (created, or renamed from a temporary name, as both tools write it) with its full length.
    Lag is that moment minus the moment the write's Close returned, on one Stopwatch.
      single    one new file of 1 KiB at a time, -Samples times; each waits until the file arrived and the tools rest
                (-Gap), so each is a batch of its own
      burst     1,000 new files of 4 KiB written back to back in a new directory; lag to the last one's arrival,
                -BurstSamples times (each into a new directory), beside the wall time of a one-shot Sync-Directory of
                the same files (median of 5; the issue's target: at most 2x that)
      large     one new file of 100 MiB
    Targets (-Target):
      Local   the destination is a local directory
      Ssh     the destination is the same kind of directory on this machine, reached as user@127.0.0.1:DST through one
              private sshd for the whole run (tests/Pester/Support/TestSshServer.psm1, the machine's .NET visible to its
              sessions, its own HOME under its temp directory; needs openssh-server: apt-get install -y openssh-server).
              An untimed push of a small tree first deploys PSReplica's agent over SFTP into that HOME and must report
              the agent as its transport (not the SFTP fallback), so that no timed case measures the deployment. As
              the destination is on this machine, arrivals are measured exactly as for Local.
    Tools:
      PSReplica          Sync-Directory SRC DST -Watch -Delete [-SettleTime], in a pwsh process of its own; over SSH with
                         DST = user@127.0.0.1:DST and the server's -Port -KeyFilePath -KnownHostsPath (one connection and
                         agent for the whole watch)
      lsyncd (delay N)   lsyncd with default.rsync (rsync -a) and each -LsyncdDelay (its default is 15 s); over SSH its
                         target is user@127.0.0.1:DST/ and rsync = { rsh = "ssh -F /dev/null -p PORT -i KEY ..." }, so
                         each batch is one rsync over a new ssh connection; skipped with a note when lsyncd is not
                         installed (Debian: apt-get install -y lsyncd)
    Idle CPU: the CPU time of the tool's process (the pwsh running the watch; lsyncd) over -IdleSeconds with nothing
    changing (the watch's reader sleeps in poll: expected ~0). Over SSH that is the client side only; the agent's (or
    sshd's) CPU on the server is not counted.
    .ci/run does not run this benchmark.
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Build; dotnet pwsh ./tests/Benchmarks/Invoke-WatchBenchmark.ps1
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-WatchBenchmark.ps1 -Quick
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-WatchBenchmark.ps1 -Target Ssh -Quick
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 1000)] [int] $Samples = 20,
    [ValidateSet('single', 'burst', 'large')] [string[]] $Case = @('single', 'burst', 'large'),
    [ValidateSet('PSReplica', 'lsyncd')] [string[]] $Tool = @('PSReplica', 'lsyncd'),
    # Where the destination is: a local directory, or one reached over SSH through a private sshd on 127.0.0.1.
    [ValidateSet('Local', 'Ssh')] [string[]] $Target = @('Local', 'Ssh'),
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
    # Bursts per tool (each into a new directory); an lsyncd delay of 5 s or more gets one.
    [ValidateRange(1, 100)] [int] $BurstSamples = 5,
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
if ('Ssh' -in $Target) { Import-Module (Join-Path $repoRoot 'tests/Pester/Support/TestSshServer.psm1') -Force }
$work = Join-Path $WorkPath "psreplica-watch-$PID"
$clock = [Diagnostics.Stopwatch]::StartNew()
$random = [Random]::new(20261206)
$lsyncd = Get-Command lsyncd -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1

function Get-Quantile([double[]] $Values, [double] $Q) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count -eq 0) { return [double]::NaN }
    $sorted[[Math]::Min($sorted.Count - 1, [Math]::Ceiling($Q * $sorted.Count) - 1)]
}

# Arrivals at a destination: final name => the Stopwatch's milliseconds when it appeared with the length expected. Compiled
# C#, not a PowerShell class: script-block handlers given to a FileSystemWatcher from this script are not called while it
# runs (checked: none ran within 2 s), so every arrival was stamped by WaitAll's polling pass in script (a Join-Path per
# missing name), up to ~130 ms after the watch's own trace had a burst's last file in place; the one-shot reference,
# timed by Measure-Command, never paid that.
Add-Type -TypeDefinition @'
using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace PSReplicaBenchmark
{
    public sealed class Arrivals : IDisposable
    {
        private readonly FileSystemWatcher _watcher;
        private readonly ConcurrentDictionary<string, double> _seen = new ConcurrentDictionary<string, double>();
        private readonly ConcurrentDictionary<string, long> _expected = new ConcurrentDictionary<string, long>();
        private readonly Stopwatch _clock;
        private readonly string _root;

        public Arrivals(string root, Stopwatch clock)
        {
            _root = root;
            _clock = clock;
            _watcher = new FileSystemWatcher(root)
            {
                IncludeSubdirectories = true,
                InternalBufferSize = 65536,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.LastWrite,
            };
            _watcher.Created += (_, e) => Check(e.FullPath);
            _watcher.Changed += (_, e) => Check(e.FullPath);
            _watcher.Renamed += (_, e) => Check(e.FullPath);
            _watcher.EnableRaisingEvents = true;
        }

        public void Expect(string relative, long length) => _expected[relative] = length;

        // Called on the watcher's thread as each event comes: the moment is the event's, not a poll's.
        public void Check(string full)
        {
            string relative = Path.GetRelativePath(_root, full);
            long length;
            if (_expected.TryGetValue(relative, out length))
            {
                var info = new FileInfo(full);
                if (info.Exists && info.Length == length)
                {
                    _seen.TryAdd(relative, _clock.Elapsed.TotalMilliseconds);
                }
            }
        }

        // Waits (bounded) until every name in relatives has arrived; also checks the disk, for an event the watcher
        // merged away or dropped (its buffer overflowed), which then counts from that check.
        public double WaitAll(string[] relatives, int timeoutMs)
        {
            double deadline = _clock.Elapsed.TotalMilliseconds + timeoutMs;
            while (true)
            {
                double last = 0;
                int missing = 0;
                foreach (string r in relatives)
                {
                    double at;
                    if (!_seen.TryGetValue(r, out at))
                    {
                        Check(Path.Join(_root, r));
                    }

                    if (_seen.TryGetValue(r, out at)) { last = Math.Max(last, at); } else { missing++; }
                }

                if (missing == 0) { return last; }
                if (_clock.Elapsed.TotalMilliseconds > deadline) { throw new TimeoutException(missing + " of " + relatives.Length + " files never arrived in " + _root); }
                Thread.Sleep(2);
            }
        }

        public void Dispose() => _watcher.Dispose();
    }
}
'@

function Write-Source([string] $Path, [int] $Length) {
    $bytes = [byte[]]::new($Length)
    $random.NextBytes($bytes)
    $stream = [IO.File]::Create($Path)
    try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Dispose() }
    $clock.Elapsed.TotalMilliseconds
}

# A destination as the tools name it: the local path, or user@127.0.0.1:path through the test sshd.
function Get-Destination([string] $Where, [string] $Path) {
    if ($Where -eq 'Ssh') { "$($server.User)@$($server.Host):$Path" } else { $Path }
}

# One tool's source/destination pair with its watcher running; Stop ends it.
function Start-Tool([string] $Name, [int] $Delay, [string] $Where) {
    $dir = Join-Path $work "$Where-$($Name -replace '[^a-z0-9]', '')$Delay"
    $src = Join-Path $dir 'src'
    $dst = Join-Path $dir 'dst'
    $null = New-Item -ItemType Directory -Force $src, $dst
    [IO.File]::WriteAllText((Join-Path $src 'seed.txt'), 'seed')
    $arrivals = [PSReplicaBenchmark.Arrivals]::new($dst, $clock)
    $arrivals.Expect('seed.txt', 4)
    if ($Name -eq 'PSReplica') {
        # A pwsh of its own (this one's runtime and pwsh.dll, no launcher), so that its CPU is the watch's alone.
        $settle = if ($SettleTime) { " -SettleTime '$SettleTime'" } else { '' }
        $login = -join @($loginOf[$Where].GetEnumerator() | ForEach-Object { " -$($_.Key) '$($_.Value)'" })
        $command = "Import-Module '$ModulePath'; Sync-Directory -LiteralPath '$src' -Destination '$(Get-Destination $Where $dst)' -Watch -Delete$settle$login | Out-Null"
        $process = Start-Process -FilePath ([Environment]::ProcessPath) -ArgumentList @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-Command', $command) -PassThru `
            -RedirectStandardOutput (Join-Path $dir 'out.txt') -RedirectStandardError (Join-Path $dir 'err.txt')
        $stop = { if (-not $process.HasExited) { $process.Kill($true); $process.WaitForExit() } }.GetNewClosure()
        $cpu = { $process.Refresh(); $process.TotalProcessorTime.TotalMilliseconds }.GetNewClosure()
    }
    else {
        $config = Join-Path $dir 'lsyncd.lua'
        Set-Content -LiteralPath $config -Value @"
settings { nodaemon = true, logfile = "$dir/lsyncd.log", statusFile = "$dir/lsyncd.status", insist = false }
sync { default.rsync, source = "$src/", target = "$(Get-Destination $Where $dst)/", delay = $Delay, rsync = { archive = true$(if ($Where -eq 'Ssh') { ", rsh = `"$sshCommand`"" }) } }
"@
        $process = Start-Process -FilePath $lsyncd.Source -ArgumentList $config -PassThru -RedirectStandardOutput (Join-Path $dir 'out.txt') -RedirectStandardError (Join-Path $dir 'err.txt')
        $stop = { if (-not $process.HasExited) { $process.Kill($true); $process.WaitForExit() } }.GetNewClosure()
        $cpu = { $process.Refresh(); $process.TotalProcessorTime.TotalMilliseconds }.GetNewClosure()
    }
    # Started: the seed file has arrived (lsyncd's first sync, PSReplica's first sync).
    $null = $arrivals.WaitAll(@('seed.txt'), 120000)
    [pscustomobject]@{ Name = $Name; Delay = $Delay; Where = $Where; Source = $src; Destination = $dst; Arrivals = $arrivals; Stop = $stop; Cpu = $cpu }
}

$rows = [Collections.Generic.List[object]]::new()
$notes = [Collections.Generic.List[string]]::new()
$tools = [Collections.Generic.List[object]]::new()
foreach ($where in $Target) {
    foreach ($name in $Tool) {
        if ($name -eq 'PSReplica') { $tools.Add(@{ Where = $where; Name = 'PSReplica'; Delay = 0; Label = "PSReplica (settle $(if ($SettleTime) { $SettleTime } else { '50ms' }))" }) }
        elseif ($lsyncd) { foreach ($d in $LsyncdDelay) { $tools.Add(@{ Where = $where; Name = 'lsyncd'; Delay = $d; Label = "lsyncd (delay $d s)" }) } }
    }
}
if ('lsyncd' -in $Tool -and -not $lsyncd) { $notes.Add('lsyncd is not installed (Debian: apt-get install -y lsyncd): its rows are left out.') }
# The login parameters of Sync-Directory per target (filled for Ssh once its server runs).
$loginOf = @{ Local = @{}; Ssh = @{} }
$server = $null
$sshCommand = $null

$null = New-Item -ItemType Directory -Force $work
try {
    if ('Ssh' -in $Target) {
        # One server for the whole run; its sessions see the machine's .NET (as Start-TestSshServer leaves it), so PSReplica
        # may start either of its agents there.
        $server = Start-TestSshServer
        $loginOf.Ssh = @{ Port = $server.Port; KeyFilePath = $server.KeyPath; KnownHostsPath = $server.KnownHostsPath }
        $sshCommand = "ssh -F /dev/null -p $($server.Port) -i $($server.KeyPath) -o IdentitiesOnly=yes -o UserKnownHostsFile=$($server.KnownHostsPath) -o StrictHostKeyChecking=yes -o BatchMode=yes"
        # Untimed: deploys the agent (over SFTP) as a user's first push does; no timed case then includes it.
        $warmup = Join-Path $work 'warmup'
        $null = New-Item -ItemType Directory -Force (Join-Path $warmup 'src')
        $null = Write-Source (Join-Path $warmup 'src/w.bin') 1024
        $login = $loginOf.Ssh
        $transport = @(Sync-Directory -LiteralPath (Join-Path $warmup 'src') -Destination (Get-Destination 'Ssh' (Join-Path $warmup 'dst')) @login -Summary -ErrorAction Stop -Verbose 4>&1 |
            Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Transport:*' } | ForEach-Object Message)
        if ($transport.Count -ne 1 -or $transport[0] -notlike 'Transport: the PSReplica agent*') { throw "The warm-up push did not run the agent: $($transport -join '; ')" }
        $notes.Add("Ssh: the test sshd on 127.0.0.1 (the machine's .NET visible); the warm-up push's $($transport[0]).")
    }
    foreach ($t in $tools) {
        $run = Start-Tool $t.Name $t.Delay $t.Where
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
                $rows.Add([pscustomobject]@{ Case = 'single 1 KiB file'; Target = $t.Where; Tool = $t.Label; N = $n; P50 = (Get-Quantile $lags 0.5); P95 = (Get-Quantile $lags 0.95); Max = ($lags | Measure-Object -Maximum).Maximum })
            }
            if ('burst' -in $Case) {
                # Each burst goes into a new directory of its own, after the tools rest (-Gap).
                $n = if ($t.Delay -ge 5) { 1 } else { $BurstSamples }
                $lags = foreach ($b in 1..$n) {
                    $dir = Join-Path $run.Source "burst$b"
                    $null = New-Item -ItemType Directory $dir
                    $names = foreach ($i in 1..$BurstFiles) { "burst$b/f$i.bin" }
                    foreach ($rel in $names) { $run.Arrivals.Expect($rel, 4096) }
                    $closed = 0.0
                    foreach ($rel in $names) { $closed = Write-Source (Join-Path $run.Source $rel) 4096 }
                    $lag = ($run.Arrivals.WaitAll([string[]]$names, $timeout)) - $closed
                    Write-Verbose ("$($t.Where) $($t.Label) burst ${b}: the last file arrived {0:0.0} ms after its close" -f $lag)
                    $lag
                    [Threading.Thread]::Sleep($GapMilliseconds)
                }
                $rows.Add([pscustomobject]@{ Case = "burst of $BurstFiles files (4 KiB), to the last"; Target = $t.Where; Tool = $t.Label; N = $n; P50 = (Get-Quantile $lags 0.5); P95 = (Get-Quantile $lags 0.95); Max = ($lags | Measure-Object -Maximum).Maximum })
            }
            if ('large' -in $Case) {
                $rel = 'large.bin'
                $run.Arrivals.Expect($rel, [long]$LargeMiB * 1MB)
                $closed = Write-Source (Join-Path $run.Source $rel) ($LargeMiB * 1MB)
                $lag = ($run.Arrivals.WaitAll(@($rel), $timeout)) - $closed
                $rows.Add([pscustomobject]@{ Case = "one $LargeMiB MiB file"; Target = $t.Where; Tool = $t.Label; N = 1; P50 = $lag; P95 = $lag; Max = $lag })
            }
            [Threading.Thread]::Sleep(1000)
            $before = & $run.Cpu
            [Threading.Thread]::Sleep($IdleSeconds * 1000)
            $idle = ((& $run.Cpu) - $before) / $IdleSeconds
            $rows.Add([pscustomobject]@{ Case = 'CPU while idle (ms per second)'; Target = $t.Where; Tool = $t.Label; N = 1; P50 = $idle; P95 = $idle; Max = $idle })
        }
        finally {
            & $run.Stop
            $run.Arrivals.Dispose()
        }
    }

    if ('burst' -in $Case -and 'PSReplica' -in $Tool) {
        # The one-shot reference per target: the same burst synced by one Sync-Directory onto a replica without it
        # (median of 5); over SSH each run connects and starts the agent, as a user's call does.
        foreach ($where in $Target) {
            $src = Join-Path $work "$where-oneshot/src"
            $dst = Join-Path $work "$where-oneshot/dst"
            $null = New-Item -ItemType Directory -Force $src, $dst
            $login = $loginOf[$where]
            $destination = Get-Destination $where $dst
            $null = Sync-Directory -LiteralPath $src -Destination $destination @login -Summary
            $null = New-Item -ItemType Directory (Join-Path $src 'burst')
            foreach ($i in 1..$BurstFiles) { $null = Write-Source (Join-Path $src "burst/f$i.bin") 4096 }
            $times = foreach ($r in 1..5) {
                Remove-Item -Recurse -Force (Join-Path $dst 'burst') -ErrorAction SilentlyContinue
                (Measure-Command { Sync-Directory -LiteralPath $src -Destination $destination @login -Summary | Out-Null }).TotalMilliseconds
            }
            $oneShot = Get-Quantile $times 0.5
            $rows.Add([pscustomobject]@{ Case = "one-shot Sync-Directory of the burst (reference)"; Target = $where; Tool = 'PSReplica'; N = 5; P50 = $oneShot; P95 = $oneShot; Max = ($times | Measure-Object -Maximum).Maximum })
        }
    }
}
finally {
    if ($server) { Stop-TestSshServer -Server $server }
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}

# Each case's rows together, local beside SSH (the runs went tool by tool).
$caseRank = @{ 'single' = 0; 'burst' = 1; 'one-shot' = 2; 'one' = 3; 'CPU' = 4 }
$table = $rows | Sort-Object -Stable { $caseRank[$_.Case.Split(' ')[0]] } | Select-Object Case, Target, Tool, N, @{ n = 'p50 ms'; e = { [Math]::Round($_.P50, 1) } }, @{ n = 'p95 ms'; e = { [Math]::Round($_.P95, 1) } }, @{ n = 'max ms'; e = { [Math]::Round($_.Max, 1) } }
$table | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
$notes | ForEach-Object { Write-Host "Note: $_" }
$load = (Get-Content /proc/loadavg -Raw).Trim()
$md = [Text.StringBuilder]::new()
$null = $md.AppendLine("# -Watch lag, $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC, commit $(git -C $repoRoot rev-parse --short HEAD), load average $load").AppendLine()
$null = $md.AppendLine('| Case | Target | Tool | N | p50 ms | p95 ms | max ms |').AppendLine('| --- | --- | --- | ---: | ---: | ---: | ---: |')
foreach ($r in $table) { $null = $md.AppendLine("| $($r.Case) | $($r.Target) | $($r.Tool) | $($r.N) | $($r.'p50 ms') | $($r.'p95 ms') | $($r.'max ms') |") }
foreach ($n in $notes) { $null = $md.AppendLine().AppendLine("Note: $n") }
$null = New-Item -ItemType Directory -Force (Split-Path $MarkdownPath)
Set-Content -LiteralPath $MarkdownPath -Value $md.ToString()
Write-Host "Written to $MarkdownPath"
