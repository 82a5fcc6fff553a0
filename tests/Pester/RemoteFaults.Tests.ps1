# Faults and wire cost of remote runs against a private OpenSSH sshd on 127.0.0.1 (Support/TestSshServer.psm1), issue #5
# item 8: the SSH connection killed in the middle of a push and of a pull (the sshd processes serving it are killed
# once the transfer has visibly started), and the bytes a delta update puts on the loopback interface.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    . (Join-Path $PSScriptRoot 'Support/ConnectionFaults.ps1')
    Start-RemoteTestSession 'faults'

    # Kills (SIGKILL) the agent on the server: the SSH connection stays up, the agent's channel ends.
    function Stop-Agent {
        $agents = @(Get-ServerDescendants | Where-Object Name -EQ (Get-DeployedAgentFile).Process)
        $agents.Count | Should -Be 1 -Because 'one agent serves the run'
        Stop-Process -Id $agents[0].Id -Force
        Wait-Until { -not (Get-Process -Id $agents[0].Id -ErrorAction Ignore) } 'the agent to end'
    }

    function Get-TemporaryFile([string] $Directory, [string] $Name) {
        Get-ChildItem -LiteralPath $Directory -Force -ErrorAction Ignore | Where-Object Name -Like ".~psr*~$Name"
    }

    # Starts the sync in the background, runs $Kill once the temporary file of big.bin in $TempDirectory (where the
    # receiving side writes) holds 4 MiB, so that the kill lands mid-file, and returns how the sync ended.
    function Invoke-SyncKilledMidFile([string] $Source, [string] $Destination, [hashtable] $Parameters, [string] $TempDirectory, [scriptblock] $Kill = { Stop-SshConnections }) {
        $job = Start-BackgroundSync $Source $Destination $Parameters
        Wait-Until { @(Get-TemporaryFile $TempDirectory 'big.bin' | Where-Object Length -GE 4MB).Count -gt 0 } "4 MiB of big.bin to be written into $TempDirectory"
        & $Kill
        Receive-BackgroundSync $job
    }

    function Get-LoopbackBytes { [long](Get-Content -Raw '/sys/class/net/lo/statistics/tx_bytes').Trim() }

    Invoke-WarmUpPush
}

AfterAll { Stop-RemoteTestSession $server $work }

Describe 'A remote run whose SSH connection is killed mid-transfer' {
    BeforeAll {
        # 48 MiB at 4 MiB/s: about 12 s of transfer, so the kill lands in the middle whatever the machine's load.
        $script:size = 48MB
        $script:limit = @{ BandwidthLimit = 4096 }
        $script:src = Join-Path $work 'src'
        $null = New-Item -ItemType Directory -Path $src
        Write-RandomFile (Join-Path $src 'big.bin') $size 11
        Set-Content -Path (Join-Path $src 'small.txt') -Value 'small'
    }

    It 'push: stops with a terminating error, leaves no torn file under the final name, and a re-run converges' {
        $dst = Join-Path $work 'push-dst'
        # The receiving agent writes into a temporary file beside the target.
        $result = Invoke-SyncKilledMidFile $src (Get-RemoteAddress $dst) ($ssh + $limit) -TempDirectory $dst

        $result | Should -BeOfType [System.Management.Automation.ErrorRecord]
        $result.FullyQualifiedErrorId | Should -BeLike 'SshConnectionFailed,*'
        Test-Path (Join-Path $dst 'big.bin') | Should -BeFalse -Because 'the file was not complete'

        $items = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @ssh -ErrorAction Stop
        ($items | Where-Object RelativePath -EQ 'big.bin').Action | Should -Be 'Create'
        Assert-SameTree $src $dst
        Get-TemporaryFile $dst 'big.bin' | Should -BeNullOrEmpty
    }

    It 'push of an update: the old copy stays whole under its name, and a re-run converges' {
        $dst = Join-Path $work 'push-dst'
        # A new version, unrelated to the old one, so that the delta sends (nearly) everything.
        Write-RandomFile (Join-Path $src 'big.bin') $size 12
        $oldHash = (Get-FileHash (Join-Path $dst 'big.bin')).Hash
        $result = Invoke-SyncKilledMidFile $src (Get-RemoteAddress $dst) ($ssh + $limit) -TempDirectory $dst

        $result.FullyQualifiedErrorId | Should -BeLike 'SshConnectionFailed,*'
        (Get-FileHash (Join-Path $dst 'big.bin')).Hash | Should -Be $oldHash -Because 'the old copy is replaced only by a complete new one'

        $null = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @ssh -ErrorAction Stop
        Assert-SameTree $src $dst
        Get-TemporaryFile $dst 'big.bin' | Should -BeNullOrEmpty
    }

    It 'pull: stops with a terminating error, leaves no torn file under the final name, and a re-run converges' {
        $dst = Join-Path $work 'pull-dst'
        # Here the local side writes the temporary file.
        $result = Invoke-SyncKilledMidFile (Get-RemoteAddress $src) $dst ($ssh + $limit) -TempDirectory $dst

        $result | Should -BeOfType [System.Management.Automation.ErrorRecord]
        $result.FullyQualifiedErrorId | Should -BeLike 'SshConnectionFailed,*'
        Test-Path (Join-Path $dst 'big.bin') | Should -BeFalse -Because 'the file was not complete'

        $items = Sync-Directory -Path (Get-RemoteAddress $src) -Destination $dst @ssh -ErrorAction Stop
        ($items | Where-Object RelativePath -EQ 'big.bin').Action | Should -Be 'Create'
        Assert-SameTree $src $dst
        Get-TemporaryFile $dst 'big.bin' | Should -BeNullOrEmpty
    }

    It 'push whose agent is killed on the server: stops with a terminating error, no torn file, and a re-run converges' {
        $dst = Join-Path $work 'agent-killed-dst'
        $result = Invoke-SyncKilledMidFile $src (Get-RemoteAddress $dst) ($ssh + $limit) -TempDirectory $dst -Kill { Stop-Agent }

        $result | Should -BeOfType [System.Management.Automation.ErrorRecord]
        $result.FullyQualifiedErrorId | Should -BeLike 'ConnectionLost,*'
        Test-Path (Join-Path $dst 'big.bin') | Should -BeFalse

        $null = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @ssh -ErrorAction Stop
        Assert-SameTree $src $dst
        Get-TemporaryFile $dst 'big.bin' | Should -BeNullOrEmpty
    }

    It 'push through the system ssh client (-SshCommand): the same clean error and convergence' {
        $agent = Join-Path (Split-Path (Get-Module PSReplica).Path) 'agent/PSReplica.Agent.dll'
        $external = @{ SshCommand = "ssh -F '$($server.ConfigPath)'"; RemoteCommand = "dotnet '$agent' --serve" }
        $dst = Join-Path $work 'external-dst'
        $result = Invoke-SyncKilledMidFile $src "$($server.Alias):$dst" ($external + $limit) -TempDirectory $dst

        $result | Should -BeOfType [System.Management.Automation.ErrorRecord]
        $result.FullyQualifiedErrorId | Should -BeLike 'SshConnectionFailed,*'
        Test-Path (Join-Path $dst 'big.bin') | Should -BeFalse

        $null = Sync-Directory -Path $src -Destination "$($server.Alias):$dst" @external -ErrorAction Stop
        Assert-SameTree $src $dst
    }
}

Describe 'Delta bytes on the wire' {
    It 'an update of a small part of a large file puts a small fraction of the file on the loopback interface' {
        $size = 32MB
        $source = Join-Path $work 'delta-src'
        $dst = Join-Path $work 'delta-dst'
        $null = New-Item -ItemType Directory -Path $source
        $file = Join-Path $source 'data.bin'
        Write-RandomFile $file $size 21

        $before = Get-LoopbackBytes
        $null = Sync-Directory -Path $source -Destination (Get-RemoteAddress $dst) @ssh -ErrorAction Stop
        $first = (Get-LoopbackBytes) - $before
        # The counter sees the whole file go by on a first copy (random data does not compress; nothing is compressed).
        $first | Should -BeGreaterThan $size

        # 64 KiB changed in the middle.
        $stream = [IO.File]::Open($file, [IO.FileMode]::Open, [IO.FileAccess]::ReadWrite)
        try {
            $patch = [byte[]]::new(64KB)
            [Random]::new(22).NextBytes($patch)
            $stream.Position = 16MB + 12345
            $stream.Write($patch, 0, $patch.Length)
        }
        finally { $stream.Dispose() }
        [IO.File]::SetLastWriteTimeUtc($file, [datetime]::new(2031, 1, 1, 0, 0, 0, [DateTimeKind]::Utc))

        $before = Get-LoopbackBytes
        $summary = Sync-Directory -Path $source -Destination (Get-RemoteAddress $dst) @ssh -Summary -ErrorAction Stop
        $second = (Get-LoopbackBytes) - $before

        $summary.Updated | Should -Be 1
        $summary.BytesTransferred | Should -BeLessThan 256KB
        # The loopback counter is shared with the rest of the machine, so the bound is loose, yet a whole-file send
        # (100% of the file, and more with framing) would fail it by far.
        $second | Should -BeLessThan ($size * 0.10)
        Assert-SameTree $source $dst
    }
}
