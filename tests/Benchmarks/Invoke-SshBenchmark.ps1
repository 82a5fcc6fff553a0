#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Times PSReplica's pushes (and a pull) over SSH beside `rsync -a -e ssh` to the same private sshd, and counts the bytes each puts
    on the wire (issue #5, item 9).
.DESCRIPTION
    A benchmark, not a test: it prints a table and writes it as Markdown; it fails only when a run is broken (a tool
    exits non-zero or reports errors, or leaves a destination that is not a copy of the source).

    Starts the sshd of tests/Pester/Support/TestSshServer.psm1 on 127.0.0.1 and pushes (the pull case pulls), in one invocation, with the
    tools alternating run by run (the order rotates every round):
      delta     one -SizeMiB file of random content whose destination holds the old version, 1% of rsync's blocks
                (the square-root rule: 32 KiB blocks for 1 GiB) changed one byte each
      whole     the same file, destination absent
      files     -FileCount files of -FileKiB KiB each in 20 x 10 directories, destination absent (first copy)
      nochange  the same tree again onto a replica the same tool made (untimed)
      pull      the same tree pulled from the server into an absent local destination (first copy)
    Tools:
      rsync          rsync -a -e "<ssh> -p PORT -i KEY -o UserKnownHostsFile=..." SRC/ user@127.0.0.1:DST/
      PSReplica      Sync-Directory SRC user@127.0.0.1:DST -Port -KeyFilePath -KnownHostsPath -Summary (SSH.NET,
                     the agent started as a user's run starts it: probe, checksum check of the deployed agent, run)
      PSReplica ssh  the same with -SshCommand "<the same ssh command line as rsync's -e>" and -RemoteCommand running
                     the module's own agent (with -SshCommand the agent is not deployed)
    The module is imported once into this pwsh and warmed up (untimed, which also deploys the agent); each case then
    runs -WarmupRounds untimed rounds of every tool (default 1) before its timed ones, so that the timed PSReplica runs
    measure the steady code of a session that has run before, not the .NET compiler; -WarmupRounds 0 measures the
    first calls of a session instead. Each timed PSReplica run connects, starts the agent and syncs, as a user's call
    does. rsync's figure is its whole process.
    Wire bytes: the delta of /sys/class/net/lo/statistics/tx_bytes around the run (the sshd listens on 127.0.0.1;
    everything else on this machine using the loopback counts too, so the median is reported and the spread listed).
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Build; dotnet pwsh ./tests/Benchmarks/Invoke-SshBenchmark.ps1
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-SshBenchmark.ps1 -Quick
.EXAMPLE
    dotnet pwsh -c './tests/Benchmarks/Invoke-SshBenchmark.ps1 -Case delta,whole -Tool rsync,PSReplica -Runs 5'
#>
[CmdletBinding()]
param(
    # The large file's size (the delta and whole cases).
    [ValidateRange(1, 16384)] [int] $SizeMiB = 1024,
    # Small files in the files and nochange cases, and the size of each.
    [ValidateRange(1, 1000000)] [int] $FileCount = 20000,
    [ValidateRange(0, 65536)] [int] $FileKiB = 4,
    # Timed runs per tool and case; the median is reported.
    [ValidateRange(1, 50)] [int] $Runs = 3,
    # Untimed rounds per case before its timed ones, run exactly as they are (every tool, same preparation): the .NET
    # tiered compiler of this pwsh (the harness and PSReplica alike) reaches its steady code on a full-size run, which
    # the small warm-up does not give, so without them the first timed rounds measure compilation. 0 to measure it.
    [ValidateRange(0, 10)] [int] $WarmupRounds = 1,
    # 64 MiB, 2,000 files, 2 runs.
    [switch] $Quick,
    [ValidateSet('delta', 'whole', 'files', 'nochange', 'pull')] [string[]] $Case = @('delta', 'whole', 'files', 'nochange', 'pull'),
    [ValidateSet('rsync', 'PSReplica', 'PSReplica ssh')] [string[]] $Tool = @('rsync', 'PSReplica', 'PSReplica ssh'),
    # A tmpfs directory for the data: psreplica-ssh-<pid> is made under it and removed at the end.
    [string] $WorkPath = '/dev/shm',
    [string] $MarkdownPath,
    [string] $ModulePath,
    # The ssh client for rsync -e and -SshCommand.
    [string] $Ssh = 'ssh',
    [switch] $KeepWorkPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repoRoot 'out/PSReplica/PSReplica.psd1' }
if (-not $MarkdownPath) { $MarkdownPath = Join-Path $repoRoot 'out/benchmark/ssh.md' }
if (-not (Test-Path $ModulePath)) { throw "Build first: dotnet pwsh ./build.ps1 -Task Build ($ModulePath is missing)." }
if ($Quick) {
    if (-not $PSBoundParameters.ContainsKey('SizeMiB')) { $SizeMiB = 64 }
    if (-not $PSBoundParameters.ContainsKey('FileCount')) { $FileCount = 2000 }
    if (-not $PSBoundParameters.ContainsKey('Runs')) { $Runs = 2 }
}
Import-Module $ModulePath -Force
Import-Module (Join-Path $repoRoot 'tests/Pester/Support/TestSshServer.psm1') -Force
$agent = Join-Path (Split-Path (Resolve-Path $ModulePath).ProviderPath) 'agent/PSReplica.Agent.dll'

$size = [long]$SizeMiB * 1MB
$random = [Random]::new(20261127)
$baseTime = [datetime]::new(2020, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)
$work = Join-Path $WorkPath "psreplica-ssh-$PID"
$loopback = '/sys/class/net/lo/statistics/tx_bytes'

function Write-RandomFile([string] $Path, [long] $Length) {
    $buffer = [byte[]]::new([int][Math]::Min(4MB, [Math]::Max(1, $Length)))
    $stream = [IO.File]::Create($Path)
    try {
        for ($done = 0L; $done -lt $Length; $done += $buffer.Length) {
            $random.NextBytes($buffer)
            $stream.Write($buffer, 0, [int][Math]::Min($buffer.Length, $Length - $done))
        }
    }
    finally { $stream.Dispose() }
}

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count % 2) { $sorted[[int][Math]::Floor($sorted.Count / 2)] } else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 }
}

function Get-LoopbackBytes { [long](Get-Content -Raw $loopback).Trim() }

function Get-TreeFacts([string] $Path) {
    # Count and total size of the regular files, and the directory count (find prints one line per entry).
    $lines = & find $Path -mindepth 1 -printf '%y %s\n'
    $files = 0; $dirs = 0; $bytes = 0L
    foreach ($line in $lines) {
        if ($line[0] -eq 'f') { $files++; $bytes += [long]$line.Substring(2) } elseif ($line[0] -eq 'd') { $dirs++ }
    }
    "$files files, $dirs directories, $bytes bytes"
}

function Assert-Copy([string] $Source, [string] $Destination, [string] $What) {
    $expected = Get-TreeFacts $Source
    $actual = Get-TreeFacts $Destination
    if ($expected -ne $actual) { throw "$What left $actual where the source has $expected" }
    # Content: every file of a few-file tree, else 16 sampled files.
    $files = @(& find $Source -type f -printf '%P\n' | Sort-Object)
    $sample = if ($files.Count -le 16) { $files } else { 0..15 | ForEach-Object { $files[[int]($_ * ($files.Count - 1) / 15)] } }
    foreach ($name in $sample) {
        $null = & cmp -s -- (Join-Path $Source $name) (Join-Path $Destination $name)
        if ($LASTEXITCODE -ne 0) { throw "$What left '$name' with other content than the source's" }
        if ([IO.File]::GetLastWriteTimeUtc((Join-Path $Source $name)) -ne [IO.File]::GetLastWriteTimeUtc((Join-Path $Destination $name))) {
            throw "$What left '$name' with another modification time than the source's"
        }
    }
}

# The sessions get the account's real home and login shell start-up, as a user's login (and rsync's) does.
$server = Start-TestSshServer -SessionEnvironment @{ HOME = [Environment]::GetFolderPath('UserProfile') }
try {
    $null = New-Item -ItemType Directory -Path $work -Force
    $sshCommand = "$Ssh -F /dev/null -p $($server.Port) -i '$($server.KeyPath)' -o IdentitiesOnly=yes -o UserKnownHostsFile='$($server.KnownHostsPath)' -o StrictHostKeyChecking=yes -o BatchMode=yes"
    $address = { param($path) "$($server.User)@$($server.Host):$path" }
    $builtin = @{ Port = $server.Port; KeyFilePath = $server.KeyPath; KnownHostsPath = $server.KnownHostsPath }
    $external = @{ SshCommand = $sshCommand; RemoteCommand = "dotnet '$agent' --serve" }

    $runTool = @{
        'rsync'         = {
            param($src, $dst, [switch] $Pull)
            $out = if ($Pull) { & rsync -a -e $sshCommand (& $address "$src/") "$dst/" 2>&1 } else { & rsync -a -e $sshCommand "$src/" (& $address "$dst/") 2>&1 }
            if ($LASTEXITCODE -ne 0) { throw "rsync failed ($LASTEXITCODE): $out" }
        }
        'PSReplica'     = {
            param($src, $dst, [switch] $Pull)
            $summary = if ($Pull) { Sync-Directory -Path (& $address $src) -Destination $dst @builtin -Summary -ErrorAction Stop }
                else { Sync-Directory -Path $src -Destination (& $address $dst) @builtin -Summary -ErrorAction Stop }
            if ($summary.Errors) { throw "PSReplica reported $($summary.Errors) errors" }
            $summary
        }
        'PSReplica ssh' = {
            param($src, $dst, [switch] $Pull)
            $summary = if ($Pull) { Sync-Directory -Path (& $address $src) -Destination $dst @external -Summary -ErrorAction Stop }
                else { Sync-Directory -Path $src -Destination (& $address $dst) @external -Summary -ErrorAction Stop }
            if ($summary.Errors) { throw "PSReplica (-SshCommand) reported $($summary.Errors) errors" }
            $summary
        }
    }

    # Data. The big file's old version (the delta basis) and new version; the small-file tree.
    Write-Host "Writing data under $work ($SizeMiB MiB file, $FileCount files of $FileKiB KiB)"
    $bigSource = Join-Path $work 'big-src'
    $null = New-Item -ItemType Directory -Path $bigSource
    $basis = Join-Path $work 'basis.bin'
    $bigFile = Join-Path $bigSource 'data.bin'
    if ($Case -contains 'delta' -or $Case -contains 'whole') {
        Write-RandomFile $basis $size
        [IO.File]::SetLastWriteTimeUtc($basis, $baseTime)
        $null = & cp $basis $bigFile
        $block = [long][Math]::Max(700, [Math]::Floor([Math]::Sqrt($size) / 8) * 8)
        $count = [long][Math]::Ceiling($size / $block)
        $stream = [IO.File]::Open($bigFile, [IO.FileMode]::Open, [IO.FileAccess]::ReadWrite)
        try {
            foreach ($i in 1..([int][Math]::Max(1, $count / 100))) {
                $stream.Position = [long]($random.NextDouble() * ($size - 1))
                $old = $stream.ReadByte(); $stream.Position--; $stream.WriteByte([byte](($old + 1) % 256))
            }
        }
        finally { $stream.Dispose() }
        [IO.File]::SetLastWriteTimeUtc($bigFile, $baseTime.AddDays(1))
    }
    $treeSource = Join-Path $work 'tree-src'
    if ($Case -contains 'files' -or $Case -contains 'nochange' -or $Case -contains 'pull') {
        $perDirectory = [int][Math]::Ceiling($FileCount / 200)
        $made = 0
        foreach ($a in 0..19) {
            foreach ($b in 0..9) {
                $directory = Join-Path $treeSource "d$a/e$b"
                $null = New-Item -ItemType Directory -Path $directory -Force
                for ($i = 0; $i -lt $perDirectory -and $made -lt $FileCount; $i++, $made++) {
                    Write-RandomFile (Join-Path $directory "f$i.dat") ($FileKiB * 1KB)
                }
            }
        }
    }

    # Warm-up (untimed): compiles the paths, deploys the agent, fills the page cache of the tools.
    $warm = Join-Path $work 'warm-src'
    $null = New-Item -ItemType Directory -Path $warm
    Write-RandomFile (Join-Path $warm 'w.bin') 1MB
    # Small files too, so that the paths of the small-file cases are compiled before they are timed.
    foreach ($i in 1..300) {
        $directory = Join-Path $warm ('d{0}' -f ($i % 3))
        $null = New-Item -ItemType Directory -Path $directory -Force
        Write-RandomFile (Join-Path $directory "f$i.bin") 4KB
    }
    foreach ($name in $Tool) {
        $target = Join-Path $work "warm-dst-$($name -replace ' ', '-')"
        $null = & $runTool[$name] $warm $target
        $null = & $runTool[$name] $warm $target
    }

    $destination = Join-Path $work 'dst'
    # Native rm: PowerShell's Remove-Item over 20,000 files would leave this pwsh's tiered compiler busy re-compiling
    # provider code during the next (timed) run, a cost of the harness, not of the tool measured.
    function Remove-Destination { if (Test-Path -LiteralPath $destination) { & rm -rf -- $destination } }
    $prepare = @{
        delta    = {
            Remove-Destination
            $null = New-Item -ItemType Directory -Path $destination
            $null = & cp --preserve=timestamps $basis (Join-Path $destination 'data.bin')
        }
        whole    = { Remove-Destination }
        files    = { Remove-Destination }
        pull     = { Remove-Destination }
        nochange = {
            param($name)
            $replica = Join-Path $work "replica-$($name -replace ' ', '-')"
            if (-not (Test-Path $replica)) { $null = & $runTool[$name] $treeSource $replica }
            $replica
        }
    }
    $sourceOf = @{ delta = $bigSource; whole = $bigSource; files = $treeSource; nochange = $treeSource; pull = $treeSource }

    $results = [Collections.Generic.List[object]]::new()
    foreach ($caseName in $Case) {
        for ($round = -$WarmupRounds; $round -lt $Runs; $round++) {
            $order = for ($i = 0; $i -lt $Tool.Count; $i++) { $Tool[($i + [Math]::Max(0, $round)) % $Tool.Count] }
            foreach ($name in $order) {
                $target = $destination
                $prepared = & $prepare[$caseName] $name
                if ($caseName -eq 'nochange') { $target = $prepared }
                [GC]::Collect()
                [GC]::WaitForPendingFinalizers()
                # Untimed, before every tool alike: background JIT queued by the harness's own checks settles first.
                Start-Sleep -Milliseconds 300
                $before = Get-LoopbackBytes
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $summary = & $runTool[$name] $sourceOf[$caseName] $target -Pull:($caseName -eq 'pull')
                $clock.Stop()
                $wire = (Get-LoopbackBytes) - $before
                Assert-Copy $sourceOf[$caseName] $target "$name ($caseName)"
                if ($caseName -eq 'nochange' -and $summary -and ($summary.Created + $summary.Updated + $summary.Deleted) -gt 0) {
                    throw "$name changed something in a no-change run"
                }
                if ($round -lt 0) {
                    Write-Host ('{0,-9} warm-up {1,-14} {2,8:N3} s {3,15:N0} wire bytes (not counted)' -f $caseName, $name, $clock.Elapsed.TotalSeconds, $wire)
                    continue
                }
                $results.Add([pscustomobject]@{ Case = $caseName; Tool = $name; Round = $round + 1; Seconds = $clock.Elapsed.TotalSeconds; Wire = $wire })
                Write-Host ('{0,-9} round {1} {2,-14} {3,8:N3} s {4,15:N0} wire bytes' -f $caseName, ($round + 1), $name, $clock.Elapsed.TotalSeconds, $wire)
            }
        }
    }

    $caseTitle = @{
        delta    = "$SizeMiB MiB, 1% of blocks changed"
        whole    = "$SizeMiB MiB whole (destination absent)"
        files    = "$FileCount files of $FileKiB KiB, first copy"
        nochange = "$FileCount files, no-change re-run"
        pull     = "$FileCount files of $FileKiB KiB, pulled (first copy)"
    }
    $rows = foreach ($caseName in $Case) {
        $byTool = @{}
        foreach ($name in $Tool) {
            $samples = @($results | Where-Object { $_.Case -eq $caseName -and $_.Tool -eq $name })
            $byTool[$name] = [pscustomobject]@{
                Seconds = Get-Median ($samples.Seconds)
                Wire    = [long](Get-Median ($samples.Wire))
            }
        }
        foreach ($name in $Tool | Where-Object { $_ -ne 'rsync' }) {
            $row = [ordered]@{ Case = $caseTitle[$caseName]; Tool = $name }
            if ($byTool.ContainsKey('rsync')) {
                $row['rsync s'] = '{0:N3}' -f $byTool.rsync.Seconds
                $row['rsync wire bytes'] = '{0:N0}' -f $byTool.rsync.Wire
            }
            $row['PSR s'] = '{0:N3}' -f $byTool[$name].Seconds
            $row['PSR wire bytes'] = '{0:N0}' -f $byTool[$name].Wire
            if ($byTool.ContainsKey('rsync')) {
                $row['wall ratio'] = '{0:N2}x' -f ($byTool[$name].Seconds / $byTool.rsync.Seconds)
                $row['wire ratio'] = if ($byTool.rsync.Wire -gt 0) { '{0:N3}x' -f ($byTool[$name].Wire / $byTool.rsync.Wire) } else { 'n/a' }
                $row['targets (wire <= 1.05x, wall <= 1.0x)'] = if ($byTool[$name].Wire -le 1.05 * $byTool.rsync.Wire -and $byTool[$name].Seconds -le $byTool.rsync.Seconds) { 'MET' }
                    else { 'MISSED' + $(if ($byTool[$name].Wire -gt 1.05 * $byTool.rsync.Wire) { ' wire' }) + $(if ($byTool[$name].Seconds -gt $byTool.rsync.Seconds) { ' wall' }) }
            }
            [pscustomobject]$row
        }
        if ($Tool.Count -eq 1 -and $Tool[0] -eq 'rsync') { [pscustomobject]@{ Case = $caseTitle[$caseName]; Tool = 'rsync'; 'rsync s' = '{0:N3}' -f $byTool.rsync.Seconds; 'rsync wire bytes' = '{0:N0}' -f $byTool.rsync.Wire } }
    }
    $rows | Format-Table -AutoSize | Out-String -Width 250 | Write-Host

    $lines = [Collections.Generic.List[string]]::new()
    $properties = @($rows[0].PSObject.Properties.Name)
    $lines.Add('| ' + ($properties -join ' | ') + ' |')
    $lines.Add('|' + (($properties | ForEach-Object { '---' }) -join '|') + '|')
    foreach ($row in $rows) { $lines.Add('| ' + (($properties | ForEach-Object { "$($row.$_)" }) -join ' | ') + ' |') }
    $lines.Add('')
    $load = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
    $lines.Add("$(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC, commit $(& git -C $repoRoot rev-parse --short HEAD 2>$null), $([Environment]::ProcessorCount) cores, load average at the end $load; " +
        "$(& rsync --version | Select-Object -First 1); $(& $Ssh -V 2>&1); $WarmupRounds untimed round(s) then $Runs timed run(s) per tool and case, medians; wire = loopback tx_bytes.")
    $lines.Add('')
    $lines.Add('| case | tool | seconds per run | wire bytes per run |')
    $lines.Add('|---|---|---|---|')
    foreach ($caseName in $Case) {
        foreach ($name in $Tool) {
            $samples = @($results | Where-Object { $_.Case -eq $caseName -and $_.Tool -eq $name })
            $lines.Add("| $caseName | $name | $(($samples.Seconds | ForEach-Object { '{0:N3}' -f $_ }) -join ', ') | $(($samples.Wire | ForEach-Object { '{0:N0}' -f $_ }) -join ', ') |")
        }
    }
    $null = New-Item -ItemType Directory -Path (Split-Path $MarkdownPath) -Force
    $lines | Set-Content $MarkdownPath
    Write-Host "Markdown written to $MarkdownPath"
    $rows
}
finally {
    Stop-TestSshServer -Server $server
    if (-not $KeepWorkPath) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction Ignore }
}
