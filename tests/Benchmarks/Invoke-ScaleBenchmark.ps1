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

    With -Remote the same cases run over SSH against the private sshd of tests/Pester/Support/TestSshServer.psm1 on
    127.0.0.1 (by default without .NET on the server, so the native agent runs there, as in Invoke-SshBenchmark.ps1), in
    the directions given by -Direction: push (Sync-Directory SRC user@127.0.0.1:DST beside rsync -a -e ssh SRC/ host:DST/)
    and pull (the tree pulled from the server into a local destination).

    With -With, every run (both tools) carries one option whose memory grows with the tree unless it is streamed:
      Checksum           -Checksum beside rsync -c (the listings carry a checksum per file)
      LinkDest           -LinkDest naming the source tree (a replica of itself, on the same host: for a push the agent
                         lists it as its basis) beside rsync --link-dest
      RemoveSourceFiles  -RemoveSourceFiles beside rsync --remove-source-files; each run works on a fresh copy of the
                         source (made untimed with cp -a), and a Get-SyncPlan (replan) is given one too The agent's peak memory is its maximum RSS,
    written by GNU time through an sshd ForceCommand wrapper around every session's command (rsync --server's likewise);
    the largest session of a run is reported.
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
    [switch] $Quick,
    # Over SSH (push and/or pull) instead of between two local trees.
    [switch] $Remote,
    [ValidateSet('push', 'pull')] [string[]] $Direction = @('push', 'pull'),
    # With -Remote: leave the server the machine's .NET (by default it has none and PSReplica runs its native agent).
    [switch] $WithDotnet,
    # With -Remote: environment variables every session's command runs with (say DOTNET_GCgen0size, to see what the
    # agent's collector settings do to its peak memory).
    [hashtable] $AgentEnvironment = @{},
    # An option every run carries (see the description); None: the plain runs.
    [ValidateSet('None', 'Checksum', 'LinkDest', 'RemoveSourceFiles')] [string] $With = 'None'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchmarkSupport.psm1') -Force
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repoRoot 'out/PSReplica/PSReplica.psd1' }
if (-not $MarkdownPath) { $MarkdownPath = Join-Path $repoRoot "out/benchmark/scale$(if ($Remote) { '-remote' })$(if ($With -ne 'None') { "-$($With.ToLowerInvariant())" }).md" }
if (-not (Test-Path $ModulePath)) { throw "Build first: dotnet pwsh ./build.ps1 ($ModulePath is missing)." }
if ($Quick) {
    if (-not $PSBoundParameters.ContainsKey('Files')) { $Files = 50000 }
    if (-not $PSBoundParameters.ContainsKey('Runs')) { $Runs = 1 }
}
if (-not (Test-Path /usr/bin/time)) { throw 'GNU time is needed for rsync''s memory (Debian: apt-get install -y time).' }
Import-Module $ModulePath

$work = Join-Path $WorkPath "psreplica-scale-$PID"
$source = Join-Path $work 'src'
# What a run reads from: the tree itself, or with -With RemoveSourceFiles a fresh copy of it per run (Reset-RunSource).
$runSource = if ($With -eq 'RemoveSourceFiles') { Join-Path $work 'run-src' } else { $source }

function Remove-Tree([string] $Path) {
    if (Test-Path -LiteralPath $Path) { & /bin/rm -rf -- $Path; if ($LASTEXITCODE -ne 0) { throw "rm -rf '$Path' failed." } }
}

# Entries below a root (files and directories), counted without sorting or holding them.
function Get-EntryCount([string] $Root) {
    $n = 0
    foreach ($null in [IO.Directory]::EnumerateFileSystemEntries($Root, '*', [IO.SearchOption]::AllDirectories)) { $n++ }
    $n
}

# With -With RemoveSourceFiles: the next run reads from a fresh copy of the tree (the last run removed its source's files).
function Reset-RunSource {
    if ($With -ne 'RemoveSourceFiles') { return }
    Remove-Tree $runSource
    & /bin/cp -a -- $source $runSource
    if ($LASTEXITCODE -ne 0) { throw "cp -a '$source' '$runSource' failed." }
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

# With -Remote: waits until no session of the run is left (GNU time has then written every line), then returns the
# largest maximum RSS (MB) of the session commands logged since the log held $Offset bytes. Polling is the only notice
# /proc gives; untimed.
function Read-ServerPeak([long] $Offset) {
    $children = "/proc/$($server.Process.Id)/task/$($server.Process.Id)/children"
    $deadline = [Diagnostics.Stopwatch]::StartNew()
    while ([IO.File]::ReadAllText($children).Trim()) {
        if ($deadline.Elapsed.TotalSeconds -gt 120) { throw 'sshd sessions still running 120 s after the run.' }
        Start-Sleep -Milliseconds 50
    }
    $peak = 0.0
    if (Test-Path -LiteralPath $commandLog) {
        $stream = [IO.File]::OpenRead($commandLog)
        try { $null = $stream.Seek($Offset, [IO.SeekOrigin]::Begin); $text = [IO.StreamReader]::new($stream).ReadToEnd() } finally { $stream.Dispose() }
        foreach ($line in $text.Split("`n", [StringSplitOptions]::RemoveEmptyEntries)) {
            if ($line -match '^(\d+) ') { $peak = [Math]::Max($peak, [double]$Matches[1] / 1KB) }
        }
    }
    $peak
}

function Get-LogLength { if (Test-Path -LiteralPath $commandLog) { (Get-Item -LiteralPath $commandLog).Length } else { 0L } }

# Runs one measured command of -Remote: the local side's figures (Measure-Session or Measure-Rsync) with the server's
# largest session (ServerMB) added.
function Measure-Remote([scriptblock] $Command) {
    $offset = Get-LogLength
    $sample = & $Command
    $sample | Add-Member -NotePropertyName ServerMB -NotePropertyValue (Read-ServerPeak $offset) -PassThru
}

$server = $null
$commandLog = Join-Path $work 'command-rss.log'
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

    # The wirings measured: local, or push and pull over the private sshd.
    $modes = if ($Remote) { $Direction } else { @('local') }
    $builtin = @{}
    $address = { param($path) $path }
    $sshCommand = $null
    if ($Remote) {
        Import-Module (Join-Path $repoRoot 'tests/Pester/Support/TestSshServer.psm1') -Force
        # Every session's command runs under GNU time, which appends its maximum RSS (the largest process it waited for:
        # the agent, or rsync --server). The SFTP subsystem (the agent's deployment) arrives as internal-sftp, which only
        # sshd itself can run; sftp-server serves it instead.
        $wrapper = Join-Path $work 'command-rss.sh'
        @(
            'case "$SSH_ORIGINAL_COMMAND" in internal-sftp) exec /usr/lib/openssh/sftp-server;; esac'
            foreach ($name in $AgentEnvironment.Keys) { "export $name='$($AgentEnvironment[$name])'" }
            "exec /usr/bin/time -a -o '$commandLog' -f '%M %C' /bin/sh -c `"`$SSH_ORIGINAL_COMMAND`""
        ) | Set-Content -Path $wrapper
        $server = Start-TestSshServer -WithoutDotnet:(-not $WithDotnet) -ExtraConfig @("ForceCommand /bin/sh $wrapper")
        $sshCommand = "ssh -F /dev/null -p $($server.Port) -i '$($server.KeyPath)' -o IdentitiesOnly=yes -o UserKnownHostsFile='$($server.KnownHostsPath)' -o StrictHostKeyChecking=yes -o BatchMode=yes"
        $address = { param($path) "$($server.User)@$($server.Host):$path" }
        $builtin = @{ Port = $server.Port; KeyFilePath = $server.KeyPath; KnownHostsPath = $server.KnownHostsPath }
    }

    # The commands of each wiring: PSReplica's source and destination as the cmdlets take them, rsync's arguments.
    $psPaths = {
        param($mode, $destination)
        switch ($mode) {
            'push' { @("$runSource/", (& $address $destination)) }
            'pull' { @((& $address $runSource), $destination) }
            default { @("$runSource/", $destination) }
        }
    }
    $rsyncArguments = {
        param($mode, $destination)
        switch ($mode) {
            'push' { @('-a') + $rsyncExtra + @('-e', $sshCommand, "$runSource/", (& $address "$destination/")) }
            'pull' { @('-a') + $rsyncExtra + @('-e', $sshCommand, (& $address "$runSource/"), "$destination/") }
            default { @('-a') + $rsyncExtra + @("$runSource/", "$destination/") }
        }
    }
    # The option of -With, as each tool takes it (-LinkDest names the tree by its full path, on whichever host reads it).
    $psExtra = switch ($With) {
        'Checksum' { @{ Checksum = $true } }
        'LinkDest' { @{ LinkDest = @($source) } }
        'RemoveSourceFiles' { @{ RemoveSourceFiles = $true } }
        default { @{} }
    }
    $planExtra = @{} + $psExtra
    $planExtra.Remove('RemoveSourceFiles')
    [string[]] $rsyncExtra = switch ($With) {
        'Checksum' { @('-c') }
        'LinkDest' { @("--link-dest=$source") }
        'RemoveSourceFiles' { @('--remove-source-files') }
        default { @() }
    }
    $measure = { param($command) if ($Remote) { Measure-Remote $command } else { & $command } }

    # Warm-up: the module's code is loaded and compiled (and over SSH the agent deployed) before anything is timed.
    $warm = Join-Path $work 'warm'
    $null = New-Item -ItemType Directory -Force (Join-Path $warm 'src/a')
    [IO.File]::WriteAllBytes((Join-Path $warm 'src/a/f'), $kib)
    foreach ($mode in $modes) {
        $warmSource = Join-Path $warm 'src'
        $warmDestination = Join-Path $warm "dst-$mode"
        $from, $to = switch ($mode) { 'push' { "$warmSource/", (& $address $warmDestination) } 'pull' { (& $address $warmSource), $warmDestination } default { "$warmSource/", $warmDestination } }
        Sync-Directory -Path $from -Destination $to @builtin -ErrorAction Stop | Out-Null
        Get-SyncPlan -Path $from -Destination $to @builtin -ErrorAction Stop | Out-Null
    }

    $samples = @{}
    function Add-Sample([string] $Key, $Sample) { if (-not $samples.ContainsKey($Key)) { $samples[$Key] = [Collections.Generic.List[object]]::new() }; $samples[$Key].Add($Sample) }
    foreach ($mode in $modes) {
        $psDestination = Join-Path $work "dst-psreplica-$mode"
        $rsyncDestination = Join-Path $work "dst-rsync-$mode"
        for ($run = 1; $run -le $Runs; $run++) {
            # Alternate which tool goes first each round.
            $order = if ($run % 2) { @('PSReplica', 'rsync') } else { @('rsync', 'PSReplica') }
            foreach ($tool in $order) {
                $destination = if ($tool -eq 'PSReplica') { $psDestination } else { $rsyncDestination }
                $from, $to = & $psPaths $mode $destination
                $arguments = & $rsyncArguments $mode $destination
                $sync = if ($tool -eq 'PSReplica') { { Measure-Session { Sync-Directory -Path $from -Destination $to @builtin @psExtra -ErrorAction Stop | Out-Null } } }
                    else { { Measure-Rsync $arguments } }
                if ('first' -in $Case -or -not (Test-Path $destination)) {
                    Remove-Tree $destination
                    Reset-RunSource
                    $sample = & $measure $sync
                    if ((Get-EntryCount $destination) -ne $expected) { throw "$tool's first copy ($mode) is not a replica." }
                    if ('first' -in $Case) { Add-Sample "$mode|first|$tool" $sample }
                }
                if ('nochange' -in $Case) {
                    Reset-RunSource
                    Add-Sample "$mode|nochange|$tool" (& $measure $sync)
                }
                if ('replan' -in $Case -and $tool -eq 'PSReplica') {
                    $count = [ref]0
                    Reset-RunSource
                    $sample = & $measure { Measure-Session { Get-SyncPlan -Path $from -Destination $to @builtin @planExtra -ErrorAction Stop | ForEach-Object { $count.Value++ } } }
                    if ($count.Value -ne 0) { throw "Get-SyncPlan ($mode) over a replica planned $($count.Value) items." }
                    Add-Sample "$mode|replan|$tool" $sample
                }
            }
        }

        # A million-entry tree per destination: the next wiring gets the room (tmpfs has a limit of inodes too).
        Remove-Tree $psDestination
        Remove-Tree $rsyncDestination
    }

    $rows = foreach ($mode in $modes) {
        foreach ($c in $Case) {
            $rsyncKey = if ($c -eq 'replan') { "$mode|nochange|rsync" } else { "$mode|$c|rsync" }
            $rsync = if ($samples.ContainsKey($rsyncKey)) { $samples[$rsyncKey] } else { $null }
            $ps = $samples["$mode|$c|PSReplica"]
            $psSeconds = Get-Median @($ps | ForEach-Object Seconds)
            $rsyncSeconds = if ($rsync) { Get-Median @($rsync | ForEach-Object Seconds) } else { [double]::NaN }
            $row = [ordered]@{
                Wiring = $mode; Case = $c; With = $With; Files = $Files; Runs = $Runs
                'PSReplica s' = [Math]::Round($psSeconds, 2); 'rsync s' = [Math]::Round($rsyncSeconds, 2)
                Ratio = [Math]::Round($psSeconds / $rsyncSeconds, 2)
                'PSReplica peak MB above baseline' = [Math]::Round((Get-Median @($ps | ForEach-Object PeakMB)), 0)
                'rsync max RSS MB' = if ($rsync) { [Math]::Round((Get-Median @($rsync | ForEach-Object PeakMB)), 0) } else { $null }
                'PSReplica CPU s' = [Math]::Round((Get-Median @($ps | ForEach-Object Cpu)), 2)
                'rsync CPU s' = if ($rsync) { [Math]::Round((Get-Median @($rsync | ForEach-Object Cpu)), 2) } else { $null }
            }
            if ($Remote) {
                $row['agent max RSS MB'] = [Math]::Round((Get-Median @($ps | ForEach-Object ServerMB)), 0)
                $row['rsync server max RSS MB'] = if ($rsync) { [Math]::Round((Get-Median @($rsync | ForEach-Object ServerMB)), 0) } else { $null }
            }
            [pscustomobject]$row
        }
    }
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    $null = New-Item -ItemType Directory -Force (Split-Path $MarkdownPath)
    $columns = @($rows[0].PSObject.Properties.Name | Where-Object { $_ -ne 'Runs' })
    $lines = @(('| ' + ($columns -join ' | ') + ' |'), ('|' + ('---|' * $columns.Count)))
    $lines += foreach ($r in $rows) { '| ' + (($columns | ForEach-Object { $r.$_ }) -join ' | ') + ' |' }
    Set-Content -LiteralPath $MarkdownPath -Value $lines
    Write-Host "Written to $MarkdownPath"
}
finally {
    if ($server) { Stop-TestSshServer $server }
    Remove-Tree $work
}
