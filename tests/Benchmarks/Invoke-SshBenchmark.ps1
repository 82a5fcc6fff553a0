#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Times PSReplica's pushes (and a pull) over SSH beside `rsync -a -e ssh` to the same private sshd, and counts the bytes each puts
    on the wire and the CPU each costs the server (issue #5, item 9; issue 15, item 5).
.DESCRIPTION
    A benchmark, not a test: it prints a table and writes it as Markdown; it fails only when a run is broken (a tool
    exits non-zero or reports errors, or leaves a destination that is not a copy of the source).

    Starts the sshd of tests/Pester/Support/TestSshServer.psm1 on 127.0.0.1 and pushes (the pull case pulls), in one invocation, with the
    tools alternating run by run (the order rotates every round). By default that server has no .NET (Start-TestSshServer
    -WithoutDotnet: sshd runs in a mount namespace where the .NET folders are empty tmpfs mounts; needs root), so PSReplica
    runs its native agent there, as on a server without .NET; -WithDotnet leaves the server the machine's runtime. The
    script checks which agent runs: the -Verbose "Transport:" line of an untimed first run must name the native agent, and
    every timed run that starts the agent through the launcher must have touched that agent's cache directory.
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
      PSReplica ssh  the same with -SshCommand "<the same ssh command line as rsync's -e>", which finds and starts the
                     native agent that the first (SSH.NET) run deployed into the server's ~/.cache/psreplica/agent
    The module is imported once into this pwsh and warmed up (untimed, which also deploys the agent); each case then
    runs -WarmupRounds untimed rounds of every tool (default 1) before its timed ones, so that the timed PSReplica runs
    measure the steady code of a session that has run before, not the .NET compiler; -WarmupRounds 0 measures the
    first calls of a session instead. Each timed PSReplica run connects, starts the agent and syncs, as a user's call
    does. rsync's figure is its whole process.
    Wire bytes: the delta of /sys/class/net/lo/statistics/tx_bytes around the run (the sshd listens on 127.0.0.1;
    everything else on this machine using the loopback counts too, so the median is reported and the spread listed).
    Server CPU: the growth of the CPU time of a cgroup made for the sshd (cgroup v2 cpu.stat, else v1 cpuacct; needs
    root) around the run, read once no session process of the run is left: sshd, the per-connection sshd processes (key
    exchange, cipher), the login shell and the command, for rsync and PSReplica alike, also a command that outlives its
    connection (sshd does not wait for it).
    Client CPU: the CPU time of this pwsh (the controller: PSReplica's runs happen in it) and of its reaped children (rsync's
    local side and the ssh client it starts; the ssh client of -SshCommand) around the run, from /proc/PID/stat. The pwsh
    part of an rsync run is the harness alone (it is listed per run, beside the children's part, in the Markdown).
    Command CPU (unless -NoCommandCpu): the command alone, rsync --server or the PSReplica agent with the launcher that
    starts it; a ForceCommand wrapper runs each session's command under GNU time (the user and system time of the
    command and its reaped children). It costs each session one more sh and time process on the server, both tools alike.
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
    [switch] $KeepWorkPath,
    # Leave the server the machine's .NET (by default it has none and PSReplica runs its native agent).
    [switch] $WithDotnet,
    # No ForceCommand wrapper: no command CPU column, the sessions exactly as sshd runs them.
    [switch] $NoCommandCpu
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchmarkSupport.psm1') -Force
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

function Get-LoopbackBytes { [long](Get-Content -Raw $loopback).Trim() }

# A CPU accounting group (cgroup) of its own for the sshd, which every session process inherits, including those that
# outlive their connection: when the client drops the connection before the command has exited, sshd leaves the
# command running, orphaned, and its CPU would reach neither sshd's nor any other counter of this script. cgroup v2's
# cpu.stat, else v1's cpuacct; $null where neither can be made (no root, read-only /sys/fs/cgroup).
function New-CpuGroup([int] $ProcessId) {
    foreach ($candidate in @(
            @{ Root = '/sys/fs/cgroup'; Marker = 'cgroup.controllers'; Usage = 'cpu.stat' }
            @{ Root = '/sys/fs/cgroup/cpuacct'; Marker = 'cpuacct.usage'; Usage = 'cpuacct.usage' })) {
        if (-not (Test-Path -LiteralPath (Join-Path $candidate.Root $candidate.Marker))) { continue }
        $path = Join-Path $candidate.Root "psreplica-ssh-$PID"
        try {
            $null = New-Item -ItemType Directory -Path $path -ErrorAction Stop
            [IO.File]::WriteAllText((Join-Path $path 'cgroup.procs'), "$ProcessId")
            return [pscustomobject]@{ Path = $path; Usage = Join-Path $path $candidate.Usage }
        }
        catch {
            try { [IO.Directory]::Delete($path) } catch { }
            Write-Warning "No CPU accounting group under $($candidate.Root): $($_.Exception.Message)"
        }
    }
    $null
}

# CPU seconds of every process that has been in the group: sshd, its per-connection processes (key exchange, cipher),
# the login shells and the commands.
function Get-GroupCpuSeconds($Group) {
    $text = [IO.File]::ReadAllText($Group.Usage)
    if ($text -match 'usage_usec (\d+)') { [long]$Matches[1] / 1e6 } else { [long]$text.Trim() / 1e9 }
}

# Waits until no process of a session remains (in the group, else among sshd's children): the run's CPU is then all
# counted, and none of it runs on into the next run. Polling is the only notice /proc and cgroups give; untimed.
function Wait-SessionsEnded([int] $ProcessId, $Group) {
    $list = if ($Group) { Join-Path $Group.Path 'cgroup.procs' } else { "/proc/$ProcessId/task/$ProcessId/children" }
    $deadline = [Diagnostics.Stopwatch]::StartNew()
    while ($left = @([IO.File]::ReadAllText($list).Split("`n", [StringSplitOptions]::RemoveEmptyEntries) | Where-Object { $_ -ne "$ProcessId" })) {
        if ($deadline.Elapsed.TotalSeconds -gt 60) { throw "sshd sessions still running 60 s after the run: processes $($left -join ', ')" }
        Start-Sleep -Milliseconds 20
    }
}

# The lines GNU time appended to the command log since it held $Offset bytes: user + system seconds of each command.
function Read-CommandCpu([string] $Path, [long] $Offset) {
    $seconds = 0.0; $commands = [Collections.Generic.List[string]]::new()
    if (-not (Test-Path -LiteralPath $Path)) { return [pscustomobject]@{ Seconds = 0.0; Commands = $commands } }
    $stream = [IO.File]::OpenRead($Path)
    try {
        $null = $stream.Seek($Offset, [IO.SeekOrigin]::Begin)
        $text = [IO.StreamReader]::new($stream).ReadToEnd()
    }
    finally { $stream.Dispose() }
    foreach ($line in $text.Split("`n", [StringSplitOptions]::RemoveEmptyEntries)) {
        # time writes "Command exited with non-zero status N" before the format line of a failed command.
        if ($line -notmatch '^(\d+\.\d+) (\d+\.\d+) (.*)$') { continue }
        $seconds += [double]$Matches[1] + [double]$Matches[2]
        $commands.Add($Matches[3])
    }
    [pscustomobject]@{ Seconds = $seconds; Commands = $commands }
}

# User + system seconds of this process (Self) and of its children it has reaped (Children; a child's own reaped
# children are in its figure): /proc/PID/stat fields 14-17, after the command name, which may hold spaces.
$clockTicks = [double](& getconf CLK_TCK)
function Get-ClientCpu {
    $fields = [IO.File]::ReadAllText("/proc/$PID/stat")
    $fields = $fields.Substring($fields.LastIndexOf(')') + 2).Split(' ')
    [pscustomobject]@{ Self = ([long]$fields[11] + [long]$fields[12]) / $clockTicks; Children = ([long]$fields[13] + [long]$fields[14]) / $clockTicks }
}

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

$cpu = { param($seconds) if ([double]::IsNaN($seconds)) { 'n/a' } else { '{0:N2}' -f $seconds } }
$server = $null
$cpuGroup = $null
try {
    $null = New-Item -ItemType Directory -Path $work -Force
    $commandLog = Join-Path $work 'command-cpu.log'
    $extraConfig = @()
    if (-not $NoCommandCpu) {
        # sshd runs the forced command through the login shell, as it runs any command, with the client's command in
        # SSH_ORIGINAL_COMMAND; sh, not the login shell again, runs that under time, so that the shell's start-up files
        # are read once per session as without the wrapper. The SFTP subsystem (the agent's deployment) arrives as
        # internal-sftp, which only sshd itself can run; sftp-server serves it instead.
        $wrapper = Join-Path $work 'command-cpu.sh'
        @(
            'case "$SSH_ORIGINAL_COMMAND" in internal-sftp) exec /usr/lib/openssh/sftp-server;; esac'
            "exec /usr/bin/time -a -o '$commandLog' -f '%U %S %C' /bin/sh -c `"`$SSH_ORIGINAL_COMMAND`""
        ) | Set-Content -Path $wrapper
        $extraConfig = @("ForceCommand /bin/sh $wrapper")
    }
    # The sessions get the account's real home and login shell start-up, as a user's login (and rsync's) does.
    $server = Start-TestSshServer -WithoutDotnet:(-not $WithDotnet) -ExtraConfig $extraConfig
    $sshd = $server.Process.Id
    $cpuGroup = New-CpuGroup $sshd
    if (-not $cpuGroup) { Write-Warning 'Server CPU is not measured (n/a): no CPU accounting group could be made for sshd.' }
    $sshCommand = "$Ssh -F /dev/null -p $($server.Port) -i '$($server.KeyPath)' -o IdentitiesOnly=yes -o UserKnownHostsFile='$($server.KnownHostsPath)' -o StrictHostKeyChecking=yes -o BatchMode=yes"
    $address = { param($path) "$($server.User)@$($server.Host):$path" }
    $builtin = @{ Port = $server.Port; KeyFilePath = $server.KeyPath; KnownHostsPath = $server.KnownHostsPath }

    # The agent: a first run through the built-in client (untimed) deploys it as a user's first run does, and its
    # -Verbose "Transport:" line says which one runs. Against a server without .NET only the native one can.
    $rid = switch (& uname -m) { 'x86_64' { 'linux-x64' } 'aarch64' { 'linux-arm64' } default { throw "No native agent for $_" } }
    $probeSource = Join-Path $work 'probe-src'
    $null = New-Item -ItemType Directory -Path $probeSource
    Write-RandomFile (Join-Path $probeSource 'p.bin') 1KB
    $verbose = @(Sync-Directory -Path $probeSource -Destination (& $address (Join-Path $work 'probe-dst')) @builtin -Summary -ErrorAction Stop -Verbose 4>&1 |
        Where-Object { $_ -is [Management.Automation.VerboseRecord] } | ForEach-Object Message)
    $transport = @($verbose | Where-Object { $_ -like 'Transport:*' })
    if ($transport.Count -ne 1 -or $transport[0] -notmatch "native $rid agent, .*\.cache/psreplica/agent/([A-Za-z0-9._+-]+)") {
        throw "The first run did not report the native $rid agent: $($transport -join '; ')"
    }
    $agentDirectory = Join-Path $server.Home ".cache/psreplica/agent/$($Matches[1])"
    $nativeAgent = Join-Path $agentDirectory 'psreplica-agent'
    if (-not (Test-Path -LiteralPath $nativeAgent -PathType Leaf)) { throw "The deployed native agent $nativeAgent is missing." }
    Write-Host "Server: $(if ($WithDotnet) { 'the machine''s .NET reachable' } else { 'no .NET (the .NET folders covered in sshd''s mount namespace)' }); $($transport[0])"

    # -SshCommand finds (or deploys) and starts the agent through the system's ssh client; the launcher check below
    # covers it as it covers the built-in client.
    $external = @{ SshCommand = $sshCommand }
    $parametersOf = @{ 'PSReplica' = $builtin; 'PSReplica ssh' = $external }
    # Whether a tool's runs start the agent through the probe and launcher, which touches the agent's cache directory.
    $launches = { param($name) $parametersOf.ContainsKey($name) -and -not $parametersOf[$name].ContainsKey('RemoteCommand') }

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
                Wait-SessionsEnded $sshd $cpuGroup
                $cpuBefore = if ($cpuGroup) { Get-GroupCpuSeconds $cpuGroup } else { [double]::NaN }
                $logBefore = if (Test-Path -LiteralPath $commandLog) { (Get-Item -LiteralPath $commandLog).Length } else { 0L }
                $agentUsed = [IO.Directory]::GetLastWriteTimeUtc($agentDirectory)
                $clientBefore = Get-ClientCpu
                $before = Get-LoopbackBytes
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $summary = & $runTool[$name] $sourceOf[$caseName] $target -Pull:($caseName -eq 'pull')
                $clock.Stop()
                $wire = (Get-LoopbackBytes) - $before
                $clientAfter = Get-ClientCpu
                $clientSelf = $clientAfter.Self - $clientBefore.Self
                $clientChildren = $clientAfter.Children - $clientBefore.Children
                Wait-SessionsEnded $sshd $cpuGroup
                $serverCpu = if ($cpuGroup) { (Get-GroupCpuSeconds $cpuGroup) - $cpuBefore } else { [double]::NaN }
                $command = Read-CommandCpu $commandLog $logBefore
                if ((& $launches $name) -and [IO.Directory]::GetLastWriteTimeUtc($agentDirectory) -eq $agentUsed) {
                    throw "$name ($caseName) did not start the native agent in $agentDirectory (its directory was not touched)"
                }
                if ($name -ne 'rsync' -and -not $NoCommandCpu -and -not ($command.Commands | Where-Object { $_ -like '*psreplica-agent*' })) {
                    throw "$name ($caseName) ran no native agent on the server: $($command.Commands -join '; ')"
                }
                Assert-Copy $sourceOf[$caseName] $target "$name ($caseName)"
                if ($caseName -eq 'nochange' -and $summary -and ($summary.Created + $summary.Updated + $summary.Deleted) -gt 0) {
                    throw "$name changed something in a no-change run"
                }
                $commandCpu = if ($NoCommandCpu) { [double]::NaN } else { $command.Seconds }
                $line = '{0,8:N3} s {1,15:N0} wire bytes, client CPU {4,6:N2} s ({5:N2} + children {6:N2}), server CPU {2,6} s, command CPU {3,6} s' -f $clock.Elapsed.TotalSeconds, $wire,
                    (& $cpu $serverCpu), (& $cpu $commandCpu), ($clientSelf + $clientChildren), $clientSelf, $clientChildren
                if ($round -lt 0) {
                    Write-Host ('{0,-9} warm-up {1,-14} {2} (not counted)' -f $caseName, $name, $line)
                    continue
                }
                $results.Add([pscustomobject]@{ Case = $caseName; Tool = $name; Round = $round + 1; Seconds = $clock.Elapsed.TotalSeconds; Wire = $wire; ServerCpu = $serverCpu; CommandCpu = $commandCpu
                    ClientSelf = $clientSelf; ClientChildren = $clientChildren; ClientCpu = $clientSelf + $clientChildren })
                Write-Host ('{0,-9} round {1} {2,-14} {3}' -f $caseName, ($round + 1), $name, $line)
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
    # Issue 15's targets, PSReplica / rsync: wall time per case and tool (none where the issue sets none), wire bytes
    # at most rsync's in every case.
    $wallTarget = @{
        'PSReplica'     = @{ files = 0.7; nochange = 0.6; delta = 0.7; whole = 0.9 }
        'PSReplica ssh' = @{ whole = 1.0 }
    }
    $wireTarget = 1.0
    $rows = foreach ($caseName in $Case) {
        $byTool = @{}
        foreach ($name in $Tool) {
            $samples = @($results | Where-Object { $_.Case -eq $caseName -and $_.Tool -eq $name })
            $byTool[$name] = [pscustomobject]@{
                Seconds    = Get-Median ($samples.Seconds)
                Wire       = [long](Get-Median ($samples.Wire))
                ServerCpu  = Get-Median ($samples.ServerCpu)
                CommandCpu = Get-Median ($samples.CommandCpu)
                ClientCpu  = Get-Median ($samples.ClientCpu)
            }
        }
        foreach ($name in $Tool | Where-Object { $_ -ne 'rsync' }) {
            $row = [ordered]@{ Case = $caseTitle[$caseName]; Tool = $name }
            $mine = $byTool[$name]
            if ($byTool.ContainsKey('rsync')) { $row['rsync s'] = '{0:N3}' -f $byTool.rsync.Seconds }
            $row['PSR s'] = '{0:N3}' -f $mine.Seconds
            if ($byTool.ContainsKey('rsync')) { $row['wall ratio'] = '{0:N2}x' -f ($mine.Seconds / $byTool.rsync.Seconds) }
            if ($byTool.ContainsKey('rsync')) { $row['rsync wire bytes'] = '{0:N0}' -f $byTool.rsync.Wire }
            $row['PSR wire bytes'] = '{0:N0}' -f $mine.Wire
            if ($byTool.ContainsKey('rsync')) {
                $row['wire ratio'] = if ($byTool.rsync.Wire -gt 0) { '{0:N4}x' -f ($mine.Wire / $byTool.rsync.Wire) } else { 'n/a' }
                $row['rsync server CPU s'] = & $cpu $byTool.rsync.ServerCpu
            }
            $row['PSR server CPU s'] = & $cpu $mine.ServerCpu
            if ($byTool.ContainsKey('rsync')) { $row['rsync client CPU s'] = & $cpu $byTool.rsync.ClientCpu }
            $row['PSR client CPU s'] = & $cpu $mine.ClientCpu
            if (-not $NoCommandCpu) {
                if ($byTool.ContainsKey('rsync')) { $row['rsync --server CPU s'] = & $cpu $byTool.rsync.CommandCpu }
                $row['agent CPU s'] = & $cpu $mine.CommandCpu
            }
            if ($byTool.ContainsKey('rsync')) {
                $wall = $wallTarget[$name][$caseName]
                $row['target'] = $(if ($wall) { 'wall <= {0:N1}x, ' -f $wall }) + ('wire <= {0:N1}x' -f $wireTarget)
                $missed = @(
                    if ($wall -and $mine.Seconds -gt $wall * $byTool.rsync.Seconds) { 'wall' }
                    if ($mine.Wire -gt $wireTarget * $byTool.rsync.Wire) { 'wire' }
                )
                $row['result'] = if ($missed) { 'MISSED ' + ($missed -join ', ') } else { 'MET' }
            }
            [pscustomobject]$row
        }
        if ($Tool.Count -eq 1 -and $Tool[0] -eq 'rsync') {
            [pscustomobject]@{ Case = $caseTitle[$caseName]; Tool = 'rsync'; 'rsync s' = '{0:N3}' -f $byTool.rsync.Seconds; 'rsync wire bytes' = '{0:N0}' -f $byTool.rsync.Wire
                'rsync server CPU s' = & $cpu $byTool.rsync.ServerCpu; 'rsync --server CPU s' = & $cpu $byTool.rsync.CommandCpu
                'rsync client CPU s' = & $cpu $byTool.rsync.ClientCpu }
        }
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
        "$(& rsync --version | Select-Object -First 1); $(& $Ssh -V 2>&1); $WarmupRounds untimed round(s) then $Runs timed run(s) per tool and case, medians; wire = loopback tx_bytes; " +
        "server CPU = sshd and all its sessions' processes; client CPU = this pwsh (the controller) and its reaped children (rsync's local side, the ssh client), from /proc; " + $(if ($NoCommandCpu) { 'no command CPU (-NoCommandCpu).' } else { 'command CPU = the session command alone (rsync --server; the agent with its launcher), by GNU time under a ForceCommand wrapper.' }))
    $lines.Add('')
    $lines.Add("Server: $(if ($WithDotnet) { 'the machine''s .NET reachable' } else { 'no .NET (the .NET folders covered by empty tmpfs in sshd''s mount namespace)' }). $($transport[0])")
    $lines.Add('')
    $lines.Add('| case | tool | seconds per run | wire bytes per run | server CPU s per run | command CPU s per run | client CPU s per run (pwsh + children) |')
    $lines.Add('|---|---|---|---|---|---|---|')
    foreach ($caseName in $Case) {
        foreach ($name in $Tool) {
            $samples = @($results | Where-Object { $_.Case -eq $caseName -and $_.Tool -eq $name })
            $lines.Add("| $caseName | $name | $(($samples.Seconds | ForEach-Object { '{0:N3}' -f $_ }) -join ', ') | $(($samples.Wire | ForEach-Object { '{0:N0}' -f $_ }) -join ', ') | " +
                "$(($samples.ServerCpu | ForEach-Object { & $cpu $_ }) -join ', ') | $(($samples.CommandCpu | ForEach-Object { & $cpu $_ }) -join ', ') | " +
                "$(($samples | ForEach-Object { '{0:N2} + {1:N2}' -f $_.ClientSelf, $_.ClientChildren }) -join ', ') |")
        }
    }
    $null = New-Item -ItemType Directory -Path (Split-Path $MarkdownPath) -Force
    $lines | Set-Content $MarkdownPath
    Write-Host "Markdown written to $MarkdownPath"
    $rows
}
finally {
    if ($server) { Stop-TestSshServer -Server $server }
    if ($cpuGroup) {
        # Session processes that outlived their connection (and sshd) are this run's too; the group is then empty.
        $procs = Join-Path $cpuGroup.Path 'cgroup.procs'
        foreach ($id in [IO.File]::ReadAllText($procs).Split("`n", [StringSplitOptions]::RemoveEmptyEntries)) { Stop-Process -Id ([int]$id) -Force -ErrorAction Ignore }
        for ($i = 0; $i -lt 100 -and [IO.File]::ReadAllText($procs).Trim(); $i++) { Start-Sleep -Milliseconds 50 }
        # rmdir, as a cgroup is removed: its control files go with it.
        try { [IO.Directory]::Delete($cpuGroup.Path) } catch { Write-Warning "CPU accounting group $($cpuGroup.Path) not removed: $($_.Exception.Message)" }
    }
    if (-not $KeepWorkPath) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction Ignore }
}
