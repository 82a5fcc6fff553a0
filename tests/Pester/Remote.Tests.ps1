# Remote replication over SSH against a private OpenSSH sshd on 127.0.0.1 (Support/TestSshServer.psm1): push and pull
# of random trees compared exactly with the source, delta updates, Get-SyncPlan on a remote tree, -WhatIf, and the
# host key and authentication failures. The server is this machine: the agent is deployed by the module itself over
# SFTP into ~/.cache/psreplica/agent/<version>-<hash>/ of the login user and run with the server's dotnet.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    Start-RemoteTestSession 'remote'

    function New-KnownHosts([string] $Name, [string] $Line) {
        $path = Join-Path $work $Name
        if ($Line) { Set-Content -Path $path -Value $Line } else { $null = New-Item -ItemType File -Path $path }
        $path
    }
}

AfterAll { Stop-RemoteTestSession $server $work }

Describe 'Sync-Directory to and from an SSH server' {
    BeforeAll {
        $script:src = Join-Path $work 'src'
        New-RandomTree -Rng ([System.Random]::new(505)) -Path $src
        $script:big = Join-Path $src 'big.bin'
        $bytes = [byte[]]::new(1000000)
        [System.Random]::new(7).NextBytes($bytes)
        [IO.File]::WriteAllBytes($big, $bytes)
    }

    It 'pushes a random tree that then equals the source exactly' {
        $dst = Join-Path $work 'pushed'
        $items = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @ssh -ErrorAction Stop
        $items.Count | Should -BeGreaterThan 10
        Assert-SameTree $src $dst
    }

    It 'deployed the agent into the per-version cache with the module''s files' {
        $agent = Get-DeployedAgentFile
        $local = $agent.Local
        $deployed = @(Get-ChildItem (Join-Path $server.Home ".cache/psreplica/agent/*/$($agent.Name)"))
        $hashes = $deployed | ForEach-Object { (Get-FileHash $_.FullName).Hash }
        $hashes | Should -Contain (Get-FileHash $local).Hash
    }

    It 'emits nothing when the remote replica is up to date' {
        $dst = Join-Path $work 'pushed'
        Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @ssh -ErrorAction Stop | Should -BeNullOrEmpty
        Get-SyncPlan -Path $src -Destination (Get-RemoteAddress $dst) -Delete @ssh -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'plans and then sends a changed file by delta' {
        $dst = Join-Path $work 'pushed'
        $bytes = [IO.File]::ReadAllBytes($big)
        $bytes[500000] = $bytes[500000] -bxor 0xFF
        [IO.File]::WriteAllBytes($big, $bytes)
        (Get-Item $big).LastWriteTimeUtc = [datetime]::new(2030, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)

        $plan = @(Get-SyncPlan -Path $src -Destination (Get-RemoteAddress $dst) @ssh -ErrorAction Stop)
        $plan.RelativePath | Should -Contain 'big.bin'
        $item = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @ssh -ErrorAction Stop | Where-Object RelativePath -EQ 'big.bin'
        $item.Action | Should -Be 'Update'
        $item.BytesMatched | Should -BeGreaterThan 900000
        $item.BytesTransferred | Should -BeLessThan 100000
        Assert-SameTree $src $dst
    }

    It 'pulls a random tree that then equals the source exactly, and a re-run emits nothing' {
        $dst = Join-Path $work 'pulled'
        $items = Sync-Directory -Path (Get-RemoteAddress $src) -Destination $dst @ssh -ErrorAction Stop
        $items.Count | Should -BeGreaterThan 10
        Assert-SameTree $src $dst
        Sync-Directory -Path (Get-RemoteAddress $src) -Destination $dst @ssh -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'pushes and pulls names Windows would read as paths (<Name>), as rsync does between Linux hosts' -ForEach @(
        @{ Name = 'a leading backslash, a drive letter, a colon deeper down'; Files = @('\abc', '\#101abc', 'C:foo', 'sub/b:x', 'sub/\\x') }
    ) {
        # The peer's names were checked for Windows' path forms on every platform: each of these stopped the whole run.
        $names = Join-Path $work 'windows-forms'
        foreach ($file in $Files) {
            $path = Join-Path $names $file
            $null = [IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($path))
            [IO.File]::WriteAllText($path, $file)
        }
        $pushed = Join-Path $work 'windows-forms-pushed'
        $items = @(Sync-Directory -Path $names -Destination (Get-RemoteAddress $pushed) @ssh -ErrorAction Stop)
        @($items | Where-Object ItemType -EQ 'File').Count | Should -Be $Files.Count
        Assert-SameTree $names $pushed
        $pulled = Join-Path $work 'windows-forms-pulled'
        $null = Sync-Directory -Path (Get-RemoteAddress $names) -Destination $pulled @ssh -ErrorAction Stop
        Assert-SameTree $names $pulled
        Sync-Directory -Path (Get-RemoteAddress $names) -Destination $pulled @ssh -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'pulls a changed file by delta' {
        $dst = Join-Path $work 'pulled'
        $bytes = [IO.File]::ReadAllBytes($big)
        $bytes[10] = $bytes[10] -bxor 0xFF
        [IO.File]::WriteAllBytes($big, $bytes)
        (Get-Item $big).LastWriteTimeUtc = [datetime]::new(2031, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)
        $item = Sync-Directory -Path (Get-RemoteAddress $src) -Destination $dst @ssh -ErrorAction Stop | Where-Object RelativePath -EQ 'big.bin'
        $item.BytesMatched | Should -BeGreaterThan 900000
        Assert-SameTree $src $dst
    }

    It 'deletes extraneous remote items with -Delete' {
        $dst = Join-Path $work 'pushed'
        Set-Content -Path (Join-Path $dst 'extraneous.txt') -Value 'x'
        $items = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) -Delete @ssh -ErrorAction Stop
        ($items | Where-Object Action -EQ 'Delete').RelativePath | Should -Be 'extraneous.txt'
        Assert-SameTree $src $dst
    }

    It 'replicates the same with -Compress and -BandwidthLimit' {
        $dst = Join-Path $work 'compressed'
        $null = Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @ssh -Compress -CompressionLevel 9 -BandwidthLimit 1000000 -ErrorAction Stop
        Assert-SameTree $src $dst
    }

    It 'stops with AgentFailed when the remote command is no agent' {
        $err = Get-TerminatingError { Sync-Directory -Path $src -Destination (Get-RemoteAddress (Join-Path $work 'noagent')) @ssh -RemoteCommand 'echo this is not an agent; exit 3' }
        $err.FullyQualifiedErrorId | Should -BeLike 'AgentFailed*'
        Test-Path (Join-Path $work 'noagent') | Should -BeFalse
    }

    It 'changes nothing remotely under -WhatIf and says what it would do, one line per planned action' {
        $dst = Join-Path $work 'whatif'
        $plan = @(Get-SyncPlan -Path $src -Destination (Get-RemoteAddress $dst) @ssh -ErrorAction Stop)
        $run = Invoke-SyncWhatIf (@{ Path = $src; Destination = (Get-RemoteAddress $dst) } + $ssh)
        Test-Path $dst | Should -BeFalse
        $run.Output | Should -BeNullOrEmpty
        $run.WhatIf.Count | Should -Be $plan.Count
    }

    It 'refuses a remote source and a remote destination together' {
        $err = Get-TerminatingError { Sync-Directory -Path (Get-RemoteAddress $src) -Destination (Get-RemoteAddress '/tmp/x') @ssh }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidParameterCombination*'
    }

    It 'stops with InvalidRemotePath for an rsync daemon address' {
        $err = Get-TerminatingError { Sync-Directory -Path $src -Destination 'backuphost::module/x' @ssh }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidRemotePath*'
    }

    It 'takes a PowerShell drive path for a local path' {
        $dst = Join-Path $work 'drive'
        $null = New-PSDrive -Name PsrRemoteTest -PSProvider FileSystem -Root $work
        try {
            $null = Sync-Directory -Path 'PsrRemoteTest:/src' -Destination $dst -ErrorAction Stop
        }
        finally { Remove-PSDrive -Name PsrRemoteTest }
        Assert-SameTree $src $dst
    }
}

Describe 'Options that read the remote tree give what a local run gives' {
    BeforeAll {
        # Two identical trees per case: one replicated locally, one through the agent. Same times everywhere, so that
        # only content tells same.txt apart (-Checksum).
        function New-OptionTree([string] $Root) {
            $s = Join-Path $Root 'src'
            $d = Join-Path $Root 'dst'
            foreach ($directory in @("$s/sub/secret", "$s/target", "$d/protected", "$d/sub/secret")) {
                $null = New-Item -ItemType Directory -Force -Path $directory
            }

            Set-Content -LiteralPath "$s/same.txt" -Value 'content A' -NoNewline
            Set-Content -LiteralPath "$d/same.txt" -Value 'content B' -NoNewline
            Set-Content -LiteralPath "$s/.rsync-filter" -Value "- *.tmp`n" -NoNewline
            Set-Content -LiteralPath "$s/a.tmp" -Value 'tmp'
            Set-Content -LiteralPath "$s/sub/.rsync-filter" -Value "- secret/`n" -NoNewline
            Set-Content -LiteralPath "$s/sub/secret/s.txt" -Value 's'
            Set-Content -LiteralPath "$s/sub/b.txt" -Value 'b'
            Set-Content -LiteralPath "$s/target/t.txt" -Value 't'
            Set-Content -LiteralPath "$d/.rsync-filter" -Value "P protected/`n" -NoNewline
            Set-Content -LiteralPath "$d/protected/p.txt" -Value 'p'
            Set-Content -LiteralPath "$d/sub/secret/old.txt" -Value 'old'
            Set-Content -LiteralPath "$d/extra.txt" -Value 'e'
            Get-ChildItem -LiteralPath $Root -Recurse -Force | Sort-Object { $_.FullName.Length } -Descending |
                ForEach-Object { $_.LastWriteTimeUtc = [datetime]::new(2020, 1, 1, 0, 0, 0, [DateTimeKind]::Utc) }
            $null = [IO.File]::CreateSymbolicLink("$s/to-dir", 'target')
            $null = [IO.File]::CreateSymbolicLink("$s/to-file", 'same.txt')
            $null = [IO.File]::CreateSymbolicLink("$s/dangling", 'nowhere')
            # The links' own times too (both trees must be alike to the nanosecond): touch -h does not follow them.
            & touch -h -d '2020-01-01T00:00:00Z' "$s/to-dir" "$s/to-file" "$s/dangling"
            $LASTEXITCODE | Should -Be 0
            foreach ($directory in @($s, $d)) { (Get-Item -LiteralPath $directory).LastWriteTimeUtc = [datetime]::new(2020, 1, 1, 0, 0, 0, [DateTimeKind]::Utc) }
        }

        # -Sent: the local run's items as a push reports them (a file sent is itemized '<', as rsync's client does).
        function Format-Items($Items, [switch] $Sent) {
            ($Items | ForEach-Object { "$($_.Action) $($_.RelativePath) $($_.Reason) $(if ($Sent) { $_.Itemize -creplace '^>', '<' } else { $_.Itemize })" }) -join "`n"
        }
    }

    It 'gives the same items, errors and tree with <Name>' -ForEach @(
        @{ Name = '-Checksum (push)'; Side = 'Destination'; Options = @{ Checksum = $true } }
        @{ Name = '-Checksum (pull)'; Side = 'Source'; Options = @{ Checksum = $true } }
        @{ Name = '-CopyLinks (pull)'; Side = 'Source'; Options = @{ CopyLinks = $true } }
        @{ Name = '-UseFilterFiles -Delete (push)'; Side = 'Destination'; Options = @{ UseFilterFiles = $true; Delete = $true } }
        @{ Name = '-UseFilterFiles -Delete (pull)'; Side = 'Source'; Options = @{ UseFilterFiles = $true; Delete = $true } }
        @{ Name = '-Exclude -Delete (push)'; Side = 'Destination'; Options = @{ Exclude = 'sub/'; Delete = $true } }
    ) {
        $root = Join-Path $work ('options-' + [guid]::NewGuid().ToString('N'))
        New-OptionTree "$root/local"
        New-OptionTree "$root/remote"
        $localItems = @(Sync-Directory -Path "$root/local/src" -Destination "$root/local/dst" @Options -ErrorAction SilentlyContinue -ErrorVariable localErrors)
        $remoteItems = if ($Side -eq 'Destination') {
            @(Sync-Directory -Path "$root/remote/src" -Destination (Get-RemoteAddress "$root/remote/dst") @ssh @Options -ErrorAction SilentlyContinue -ErrorVariable remoteErrors)
        }
        else {
            @(Sync-Directory -Path (Get-RemoteAddress "$root/remote/src") -Destination "$root/remote/dst" @ssh @Options -ErrorAction SilentlyContinue -ErrorVariable remoteErrors)
        }

        $localItems.Count | Should -BeGreaterThan 0
        Format-Items $remoteItems | Should -Be (Format-Items $localItems -Sent:($Side -eq 'Destination'))
        ($remoteErrors.FullyQualifiedErrorId -join "`n") | Should -Be ($localErrors.FullyQualifiedErrorId -join "`n")
        Assert-SameTree "$root/local/dst" "$root/remote/dst"
    }
}

Describe 'Host keys and authentication' {
    BeforeAll {
        $script:small = Join-Path $work 'small'
        $null = New-Item -ItemType Directory -Path $small
        Set-Content -Path (Join-Path $small 'a.txt') -Value 'a'
    }

    It 'stops with HostKeyUnknown for a server that is not in known_hosts' {
        $knownHosts = New-KnownHosts 'empty_known_hosts'
        $err = Get-TerminatingError { Sync-Directory -Path $small -Destination (Get-RemoteAddress (Join-Path $work 'hk1')) -Port $server.Port -KeyFilePath $server.KeyPath -KnownHostsPath $knownHosts }
        $err.FullyQualifiedErrorId | Should -BeLike 'HostKeyUnknown*'
        $err.Exception.Message | Should -Match 'SHA256:'
        Test-Path (Join-Path $work 'hk1') | Should -BeFalse
    }

    It 'trusts and records a new server with -AcceptNewHostKey' {
        $knownHosts = New-KnownHosts 'tofu_known_hosts'
        $null = Sync-Directory -Path $small -Destination (Get-RemoteAddress (Join-Path $work 'hk2')) -Port $server.Port -KeyFilePath $server.KeyPath -KnownHostsPath $knownHosts -AcceptNewHostKey -ErrorAction Stop
        Get-Content (Join-Path $work 'hk2/a.txt') | Should -Be 'a'
        (Get-Content -Raw $knownHosts) | Should -Match "\[127\.0\.0\.1\]:$($server.Port)"
    }

    It 'stops with HostKeyMismatch when the server''s key changed' {
        $other = (Get-Content -Raw "$($server.OtherKeyPath).pub").Trim().Split(' ')
        $knownHosts = New-KnownHosts 'wrong_known_hosts' "[127.0.0.1]:$($server.Port) $($other[0]) $($other[1])"
        $err = Get-TerminatingError { Sync-Directory -Path $small -Destination (Get-RemoteAddress (Join-Path $work 'hk3')) -Port $server.Port -KeyFilePath $server.KeyPath -KnownHostsPath $knownHosts -AcceptNewHostKey }
        $err.FullyQualifiedErrorId | Should -BeLike 'HostKeyMismatch*'
        Test-Path (Join-Path $work 'hk3') | Should -BeFalse
    }

    It 'stops with SshAuthenticationFailed for a key the server does not accept' {
        $err = Get-TerminatingError { Sync-Directory -Path $small -Destination (Get-RemoteAddress (Join-Path $work 'hk4')) -Port $server.Port -KeyFilePath $server.OtherKeyPath -KnownHostsPath $server.KnownHostsPath }
        $err.FullyQualifiedErrorId | Should -BeLike 'SshAuthenticationFailed*'
    }

    It 'stops with SshAuthenticationFailed for a wrong password' {
        $credential = [pscredential]::new($server.User, (ConvertTo-SecureString 'not-the-password' -AsPlainText -Force))
        $err = Get-TerminatingError { Sync-Directory -Path $small -Destination "$($server.Host):$(Join-Path $work 'hk5')" -Credential $credential -Port $server.Port -KeyFilePath $server.OtherKeyPath -KnownHostsPath $server.KnownHostsPath }
        $err.FullyQualifiedErrorId | Should -BeLike 'SshAuthenticationFailed*'
        Test-Path (Join-Path $work 'hk5') | Should -BeFalse
    }

    It 'runs through the system ssh client with -SshCommand and -RemoteCommand' {
        $agent = Join-Path (Split-Path (Get-Module PSReplica).Path) 'agent/PSReplica.Agent.dll'
        $dst = Join-Path $work 'external'
        $null = Sync-Directory -Path $small -Destination "$($server.Alias):$dst" -SshCommand "ssh -F '$($server.ConfigPath)'" -RemoteCommand "dotnet '$agent' --serve" -ErrorAction Stop
        Get-Content (Join-Path $dst 'a.txt') | Should -Be 'a'
    }

    It 'deploys the agent through the system ssh client when -SshCommand comes alone' {
        $cache = Join-Path $server.Home '.cache/psreplica'
        if (Test-Path -LiteralPath $cache) { Remove-Item -LiteralPath $cache -Recurse -Force }
        $deployed = Get-DeployedAgentFile
        $dst = Join-Path $work 'external-deployed'
        $verbose = Sync-Directory -Path $small -Destination "$($server.Alias):$dst" -SshCommand "ssh -F '$($server.ConfigPath)'" -Verbose -ErrorAction Stop 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Transport: *' }
        $verbose.Message | Should -Match "this module's $([regex]::Escape($deployed.Description)), deployed now into .+ uploaded through the ssh client, SHA-256 sums checked"
        Get-Content (Join-Path $dst 'a.txt') | Should -Be 'a'
        @(Get-ChildItem -LiteralPath (Join-Path $cache 'agent') -Recurse -Filter $deployed.Name -File).Count | Should -Be 1
    }
}
