# How a remote session is set up and bounded, against a private OpenSSH sshd on 127.0.0.1 whose sessions get a home
# of their own (sshd's SetEnv HOME), so that the server-side module installation and the agent cache are this test's:
# - the agent of a PSReplica module installed on the server is used (newest version first) and nothing is deployed;
# - the client finds the host, port, user and key in ~/.ssh/config, and the key and known_hosts at their default
#   places, given only an alias or an ssh:// address;
# - once this module's agent is deployed, a run starts it with one exec request (no probe or check of its own);
# - -ConnectTimeout bounds a server that accepts the connection and never speaks;
# - -Timeout ends a run whose agent stops answering, with PeerTimeout, and leaves no torn file.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')

    # Not Start-RemoteTestSession: the server's home lies in the work directory, which must exist first.
    $script:work = New-TestWorkDirectory 'psr-session'
    $script:serverHome = Join-Path $work 'server-home'
    $null = New-Item -ItemType Directory -Path $serverHome -Force
    $script:server = Start-TestSshServer -SessionEnvironment @{ HOME = $serverHome }
    $script:ssh = Get-SshLoginParameters $server

    # The module as Install-Module would lay it out on the server: <modules>/PSReplica/<version>/.
    $script:moduleBase = Split-Path (Get-Module PSReplica).Path
    $script:installRoot = Join-Path $serverHome '.local/share/powershell/Modules/PSReplica'
    $script:installedAgent = Join-Path $installRoot '10.0.0/agent/PSReplica.Agent.dll'
    $null = New-Item -ItemType Directory -Path (Join-Path $installRoot '10.0.0') -Force
    Copy-Item -Path (Join-Path $moduleBase '*') -Destination (Join-Path $installRoot '10.0.0') -Recurse
    # An older installation whose agent cannot start: taking it (the shell lists 10.0.0 before 9.0.0) fails the run.
    $null = New-Item -ItemType Directory -Path (Join-Path $installRoot '9.0.0/agent') -Force
    Set-Content -Path (Join-Path $installRoot '9.0.0/agent/PSReplica.Agent.dll') -Value 'not an assembly'

    $script:src = Join-Path $work 'src'
    New-RandomTree -Rng ([System.Random]::new(4242)) -Path $src
}

AfterAll { Stop-RemoteTestSession $server $work }

Describe 'The agent of a module installed on the server' {
    It 'is used, newest version first, and nothing is deployed' {
        $dst = Join-Path $work 'installed'
        $items = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @ssh -ErrorAction Stop
        $items.Count | Should -BeGreaterThan 10
        Assert-SameTree $src $dst
        Test-Path (Join-Path $serverHome '.cache/psreplica') | Should -BeFalse
    }
}

Describe 'Finding the server from the client''s ~/.ssh' {
    BeforeAll {
        $script:clientHome = Join-Path $work 'client-home'
        $dotSsh = Join-Path $clientHome '.ssh'
        $null = New-Item -ItemType Directory -Path $dotSsh -Force
        Copy-Item $server.KeyPath (Join-Path $dotSsh 'id_ed25519')
        & chmod 600 -- (Join-Path $dotSsh 'id_ed25519')
        Copy-Item $server.KnownHostsPath (Join-Path $dotSsh 'known_hosts')
        @(
            'Host backup-server'
            '  HostName 127.0.0.1'
            "  Port $($server.Port)"
            "  User $($server.User)"
            "  IdentityFile $($server.KeyPath)"
        ) | Set-Content -Path (Join-Path $dotSsh 'config')
        $script:savedHome = $env:HOME
    }

    BeforeEach { $env:HOME = $clientHome }
    AfterEach { $env:HOME = $savedHome }

    It 'reaches an alias through ~/.ssh/config with no other parameter' {
        $dst = Join-Path $work 'by-alias'
        $null = Sync-Directory -Path $src -Destination "backup-server:$dst" -ErrorAction Stop
        Assert-SameTree $src $dst
    }

    It 'reaches an ssh:// address with its port, using the default key and known_hosts' {
        $dst = Join-Path $work 'by-url'
        $null = Sync-Directory -Path "ssh://$($server.User)@127.0.0.1:$($server.Port)$src" -Destination $dst -ErrorAction Stop
        Assert-SameTree $src $dst
    }

    It 'lets -Port override the port of an alias' {
        $err = Get-TerminatingError { Sync-Directory -Path $src -Destination "backup-server:$(Join-Path $work 'wrong-port')" -Port 1 -ConnectTimeout 5 }
        $err.FullyQualifiedErrorId | Should -BeLike 'SshConnection*'
        Test-Path (Join-Path $work 'wrong-port') | Should -BeFalse
    }
}

Describe 'Starting a deployed agent' {
    BeforeAll {
        # Every exec request the server gets is logged by a ForceCommand wrapper that then runs it (SFTP included).
        $script:countingHome = Join-Path $work 'counting-home'
        $null = New-Item -ItemType Directory -Path $countingHome
        $script:execLog = Join-Path $work 'exec.log'
        $wrapper = Join-Path $work 'log-exec.sh'
        @(
            '#!/bin/sh'
            'case "$SSH_ORIGINAL_COMMAND" in'
            '  ""|internal-sftp|sftp|*sftp-server*) exec /usr/lib/openssh/sftp-server ;;'
            'esac'
            "printf '%s\n' exec >> '$execLog'"
            'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"'
        ) | Set-Content -Path $wrapper
        & chmod 755 -- $wrapper
        $script:counting = Start-TestSshServer -SessionEnvironment @{ HOME = $countingHome } -ExtraConfig "ForceCommand $wrapper"
        $script:countingSsh = (Get-SshLoginParameters $counting) + @{ Transport = 'Agent' }
    }

    AfterAll {
        if ($counting) { Stop-TestSshServer -Server $counting }
    }

    It 'deploys it on the first run and starts it with a single exec request on the next' {
        $dst = Join-Path $work 'counted'
        $null = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst $counting) @countingSsh -ErrorAction Stop
        Assert-SameTree $src $dst
        @(Get-Content $execLog).Count | Should -BeGreaterThan 1
        @(Get-ChildItem (Join-Path $countingHome ".cache/psreplica/agent/*/$((Get-DeployedAgentFile).Name)")).Count | Should -Be 1

        Remove-Item -LiteralPath $execLog
        Set-Content -LiteralPath (Join-Path $src 'changed.txt') -Value 'after the first run'
        $items = @(Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst $counting) @countingSsh -ErrorAction Stop)
        $items.RelativePath | Should -Contain 'changed.txt'
        Assert-SameTree $src $dst
        @(Get-Content $execLog).Count | Should -Be 1
    }

    It 'deploys again when a deployed file no longer matches its sum' {
        $dll = @(Get-ChildItem (Join-Path $countingHome ".cache/psreplica/agent/*/$((Get-DeployedAgentFile).Name)"))[0].FullName
        [IO.File]::AppendAllText($dll, 'tampered')
        Remove-Item -LiteralPath $execLog -ErrorAction SilentlyContinue
        $dst = Join-Path $work 'counted-again'
        $null = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst $counting) @countingSsh -ErrorAction Stop
        Assert-SameTree $src $dst
        @(Get-Content $execLog).Count | Should -BeGreaterThan 1
        (Get-FileHash $dll).Hash | Should -Be (Get-FileHash (Get-DeployedAgentFile).Local).Hash
    }
}

Describe 'Session time limits' {
    It 'gives up with SshConnectionTimeout after -ConnectTimeout when the server never speaks' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $port = $listener.LocalEndpoint.Port
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $err = Get-TerminatingError { Sync-Directory -Path $src -Destination "127.0.0.1:$(Join-Path $work 'silent')" -Port $port -KeyFilePath $server.KeyPath -ConnectTimeout 2 }
            $watch.Stop()
            $err.FullyQualifiedErrorId | Should -BeLike 'SshConnectionTimeout*'
            # The default is 30 s; well under it shows the parameter was applied.
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 20
        }
        finally { $listener.Stop() }
    }

    It 'ends a pull with PeerTimeout when the agent stops answering, and leaves no torn file' {
        $bulk = Join-Path $work 'bulk'
        $null = New-Item -ItemType Directory -Path $bulk
        $bytes = [byte[]]::new(200000)
        foreach ($i in 1..60) {
            [System.Random]::new($i).NextBytes($bytes)
            [IO.File]::WriteAllBytes((Join-Path $bulk ('file{0:d3}.bin' -f $i)), $bytes)
        }
        $dst = Join-Path $work 'stalled'
        # The agent is the installed one, under 'timeout' so that it dies even if the run never ends.
        $command = "timeout -s KILL 120 dotnet '$installedAgent' --serve"
        $script:stopped = @()
        try {
            $err = Get-TerminatingError {
                Sync-Directory -Path (Get-RemoteAddress $bulk) -Destination $dst @ssh -RemoteCommand $command -BandwidthLimit 500 -Timeout 3 |
                    ForEach-Object {
                        if (-not $script:stopped) {
                            # Freeze the agent (the dotnet process running this run's installed agent) after its first file.
                            $script:stopped = @(& pgrep -f -- $installedAgent | Where-Object { (Get-Content "/proc/$_/comm") -eq 'dotnet' })
                            $script:stopped | Should -Not -BeNullOrEmpty
                            foreach ($id in $script:stopped) { & kill -STOP $id }
                        }
                    }
            }
            $err.FullyQualifiedErrorId | Should -BeLike 'PeerTimeout*'
        }
        finally {
            foreach ($id in $script:stopped) { & kill -KILL $id 2>$null }
        }

        # Whatever arrived is whole; nothing half-written is left, under its own or a temporary name.
        $arrived = @(Get-ChildItem -LiteralPath $dst -Force)
        $arrived.Count | Should -BeLessThan 60
        foreach ($file in $arrived) {
            $file.Name | Should -Match '^file\d{3}\.bin$'
            (Get-FileHash $file.FullName).Hash | Should -Be (Get-FileHash (Join-Path $bulk $file.Name)).Hash
        }

        # A re-run converges.
        $null = Sync-Directory -Path (Get-RemoteAddress $bulk) -Destination $dst @ssh -ErrorAction Stop
        Assert-SameTree $bulk $dst
    }
}
