#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Measures the SSH transports' throughput on an exec channel: SSH.NET (PSReplica's built-in client) with several
    ciphers and write sizes, against the system's OpenSSH client, both to a private local sshd.
.DESCRIPTION
    A measurement, not a test. Starts the sshd of tests/Pester/Support/TestSshServer.psm1 and moves -SizeMiB MiB
    through an exec channel in each direction:
      upload    the client writes, the server runs `cat > /dev/null`
      download  the server runs `head -c N /dev/zero`, the client reads
    Transports:
      SSH.NET <cipher> w<KiB>   SshConnector + SshSession.OpenCommand, writing in chunks of <KiB>
      ssh <cipher> (ExternalSshCommand)  the system ssh client through PSReplica's ExternalSshCommand (what -SshCommand uses)
      ssh <cipher> (shell pipe)          `head -c N /dev/zero | ssh host 'cat > /dev/null'` in bash: OpenSSH alone
    Runs alternate across transports round by round; the median of -Runs is reported in MB/s (10^6 bytes/s),
    with the negotiated kex, cipher and MAC of each. Every transfer's byte count is checked.
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Build; dotnet pwsh ./tests/Benchmarks/Measure-SshTransport.ps1 -SizeMiB 256 -Runs 3
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 4096)] [int] $SizeMiB = 256,
    [ValidateRange(1, 50)] [int] $Runs = 3,
    [string[]] $Ciphers = @('aes128-ctr', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'),
    [int[]] $WriteKiB = @(32, 256, 1024),
    # Ciphers for the system ssh client ('default' lets it choose).
    [string[]] $SshCiphers = @('default', 'aes128-gcm@openssh.com'),
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repoRoot 'out/PSReplica/PSReplica.psd1' }
if (-not (Test-Path $ModulePath)) { throw "Build first: dotnet pwsh ./build.ps1 -Task Build ($ModulePath is missing)." }
Add-Type -Path (Join-Path (Split-Path $ModulePath) 'PSReplica.Ssh.dll')
Import-Module (Join-Path $repoRoot 'tests/Pester/Support/TestSshServer.psm1') -Force

$bytes = [long]$SizeMiB * 1MB

function New-Options([string] $cipher) {
    [PSReplica.Ssh.SshConnectionOptions]@{
        Host = $server.Host; Port = $server.Port; User = $server.User; KeyFilePaths = [string[]]@($server.KeyPath)
        KnownHostsPath = $server.KnownHostsPath; ConfigPath = ''; Ciphers = [string[]]@($cipher)
    }
}

function Measure-Channel([scriptblock] $open, [string] $direction, [int] $chunkKiB) {
    $channel = & $open $(if ($direction -eq 'upload') { 'cat > /dev/null' } else { "head -c $bytes /dev/zero" })
    try {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        if ($direction -eq 'upload') {
            $buffer = [byte[]]::new($chunkKiB * 1KB)
            [Random]::new(1).NextBytes($buffer)
            $left = $bytes
            while ($left -gt 0) {
                $n = [int][Math]::Min($buffer.Length, $left)
                $channel.Stream.Write($buffer, 0, $n)
                $left -= $n
            }
            $channel.Stream.Flush()
            $channel.CloseInput()
            $status = $channel.WaitForExitAsync([Threading.CancellationToken]::None).GetAwaiter().GetResult()
            $moved = $bytes
        }
        else {
            $counter = [IO.Stream]::Null
            $buffer = [byte[]]::new(1MB)
            $moved = 0L
            while (($n = $channel.Stream.Read($buffer, 0, $buffer.Length)) -gt 0) { $moved += $n }
            $status = $channel.WaitForExitAsync([Threading.CancellationToken]::None).GetAwaiter().GetResult()
        }
        $clock.Stop()
        if ($status -ne 0 -or $moved -ne $bytes) { throw "$direction moved $moved of $bytes bytes, exit $status; stderr: $($channel.StandardError)" }
        $bytes / 1e6 / $clock.Elapsed.TotalSeconds
    }
    finally { $channel.Dispose() }
}

function Measure-ShellPipe([string] $direction, [string[]] $cipherArgs) {
    $ssh = "ssh -F '$($server.ConfigPath)' $($cipherArgs -join ' ') $($server.Alias)"
    $command = if ($direction -eq 'upload') { "head -c $bytes /dev/zero | $ssh 'cat > /dev/null'" } else { "$ssh 'head -c $bytes /dev/zero' | wc -c" }
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $out = & bash -c $command
    $clock.Stop()
    if ($LASTEXITCODE -ne 0) { throw "shell pipe failed: $out" }
    if ($direction -eq 'download' -and [long]"$out".Trim() -ne $bytes) { throw "download moved $out of $bytes bytes" }
    $bytes / 1e6 / $clock.Elapsed.TotalSeconds
}

$server = Start-TestSshServer
$sessions = @{}
try {
    # One session per cipher, opened once: the figures are about the channel, not the handshake.
    $transports = [Collections.Generic.List[object]]::new()
    foreach ($cipher in $Ciphers) {
        $session = [PSReplica.Ssh.SshConnector]::Connect((New-Options $cipher), [Threading.CancellationToken]::None)
        $sessions[$cipher] = $session
        foreach ($kib in $WriteKiB) {
            $transports.Add([pscustomobject]@{
                Name = "SSH.NET $cipher w$kib"; Chunk = $kib; Negotiated = "$($session.Negotiation.KeyExchange); $($session.Negotiation.ClientToServerCipher); $($session.Negotiation.ClientToServerMac)"
                Open = { param($cmd) $sessions[$cipher].OpenCommand($cmd) }.GetNewClosure(); Shell = $false; CipherArgs = @()
            })
        }
    }

    foreach ($sshCipher in $SshCiphers) {
        $cipherArgs = if ($sshCipher -eq 'default') { @() } else { @('-c', $sshCipher) }
        $kexLine = (& ssh -v -F $server.ConfigPath @cipherArgs $server.Alias true 2>&1 | Select-String 'kex: (algorithm|client->server)' | ForEach-Object { $_.Line -replace '^debug1: kex: ', '' }) -join '; '
        $externalOptions = [PSReplica.Ssh.ExternalSshOptions]@{ Host = $server.Alias; Arguments = [string[]](@('-F', $server.ConfigPath) + $cipherArgs) }
        $transports.Add([pscustomobject]@{ Name = "ssh $sshCipher (ExternalSshCommand) w256"; Chunk = 256; Negotiated = $kexLine; Open = { param($cmd) [PSReplica.Ssh.ExternalSshCommand]::Start($externalOptions, $cmd) }.GetNewClosure(); Shell = $false; CipherArgs = $cipherArgs })
        $transports.Add([pscustomobject]@{ Name = "ssh $sshCipher (shell pipe)"; Chunk = 0; Negotiated = $kexLine; Open = $null; Shell = $true; CipherArgs = $cipherArgs })
    }

    $results = @{}
    foreach ($t in $transports) { $results[$t.Name] = @{ upload = [Collections.Generic.List[double]]::new(); download = [Collections.Generic.List[double]]::new() } }
    for ($round = 0; $round -lt $Runs; $round++) {
        # Rotate the order each round so that background load spreads over all transports.
        $order = for ($i = 0; $i -lt $transports.Count; $i++) { $transports[($i + $round) % $transports.Count] }
        foreach ($t in $order) {
            foreach ($direction in 'upload', 'download') {
                [GC]::Collect()
                $rate = if ($t.Shell) { Measure-ShellPipe $direction $t.CipherArgs } else { Measure-Channel $t.Open $direction $t.Chunk }
                $results[$t.Name][$direction].Add($rate)
                Write-Host ("round {0} {1,-45} {2,-8} {3,7:N1} MB/s" -f ($round + 1), $t.Name, $direction, $rate)
            }
        }
    }

    $median = { param($list) $s = @($list | Sort-Object); if ($s.Count % 2) { $s[[int][Math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 } }
    $table = foreach ($t in $transports) {
        [pscustomobject]@{
            Transport      = $t.Name
            'Upload MB/s'   = [Math]::Round((& $median $results[$t.Name].upload), 1)
            'Download MB/s' = [Math]::Round((& $median $results[$t.Name].download), 1)
            Negotiated     = $t.Negotiated
        }
    }
    $table | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
    Write-Host "Markdown ($SizeMiB MiB each way, median of $Runs, $([Environment]::ProcessorCount) cores, $(& ssh -V 2>&1)):"
    Write-Host '| transport | upload MB/s | download MB/s | negotiated |'
    Write-Host '|---|---|---|---|'
    foreach ($row in $table) { Write-Host "| $($row.Transport) | $($row.'Upload MB/s') | $($row.'Download MB/s') | $($row.Negotiated) |" }
    $table
}
finally {
    foreach ($session in $sessions.Values) { $session.Dispose() }
    Stop-TestSshServer -Server $server
}
