# The SFTP transport against private OpenSSH sshds on 127.0.0.1 (Support/TestSshServer.psm1): push and pull of random
# trees compared exactly with the source, re-runs that emit nothing, updates, -Delete, -WhatIf, the options SFTP
# refuses, and the automatic fallback on a server that allows SFTP only (ForceCommand internal-sftp: no command runs
# there, so neither an installed nor a deployed agent can start).
# SFTP version 3 carries modification times as whole seconds since 1970 in 32 bits, so the random trees' times are
# cut to whole seconds after 1970 first; a pushed link keeps the server's own time and owner (SFTP cannot set them).
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    Start-RemoteTestSession 'sftp'
    $script:sftpOnly = Start-TestSshServer -ExtraConfig 'ForceCommand internal-sftp'
    $script:sftp = $ssh + @{ Transport = 'Sftp' }
    $script:fallback = Get-SshLoginParameters $sftpOnly

    # Whole seconds, none before 1970: what SFTP version 3 can carry.
    function Set-SftpTime([string] $Path) {
        $run = Invoke-Captured -FilePath find -ArgumentList @($Path, '-printf', '%p\0%T@\0')
        $fields = $run.Output.Split([char]0)
        for ($i = 0; $i + 1 -lt $fields.Length; $i += 2) {
            $seconds = [long][decimal]::Floor([decimal]::Parse($fields[$i + 1], [Globalization.CultureInfo]::InvariantCulture))
            if ($seconds -lt 0) { $seconds = 1000000000 - $seconds }
            [RandomTreeNative]::SetTime($fields[$i], $seconds, 0)
        }
    }
}

AfterAll { Stop-RemoteTestSession $server, $sftpOnly $work }

Describe 'Sync-Directory -Transport Sftp' {
    BeforeAll {
        $script:src = Join-Path $work 'src'
        New-RandomTree -Rng ([Random]::new(2207)) -Path $src
        Set-SftpTime $src
        $script:pushed = Join-Path $work 'pushed'
    }

    It 'pushes a random tree that then equals the source exactly' {
        $items = @(Sync-Directory -Path $src -Destination (Get-RemoteAddress $pushed) @sftp -ErrorAction Stop)
        $items.Count | Should -BeGreaterThan 10
        $items | Where-Object { $_.ItemType -eq 'File' -and $_.BytesMatched -ne 0 } | Should -BeNullOrEmpty
        Assert-SameTree $src $pushed -IgnoreLinkAttributes
        @(Get-ChildItem -LiteralPath $pushed -Recurse -Force -Filter '.~psr*') | Should -BeNullOrEmpty
    }

    It 'emits nothing when the remote replica is up to date' {
        Sync-Directory -Path $src -Destination (Get-RemoteAddress $pushed) @sftp -ErrorAction Stop | Should -BeNullOrEmpty
        Get-SyncPlan -Path $src -Destination (Get-RemoteAddress $pushed) -Delete @sftp -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'changes nothing under -WhatIf and says what it would do, one line per planned action' {
        Update-RandomTree -Rng ([Random]::new(31)) -Path $src
        Set-SftpTime $src
        $before = Get-ComparableSnapshot $pushed
        $run = Invoke-SyncWhatIf (@{ Path = $src; Destination = (Get-RemoteAddress $pushed); Delete = $true } + $sftp)
        $differences = Compare-TreeSnapshot $before (Get-ComparableSnapshot $pushed) -ReferenceName before -DifferenceName after
        $differences -join "`n" | Should -BeNullOrEmpty
        $run.Output | Should -BeNullOrEmpty
        $plan = @(Get-SyncPlan -Path $src -Destination (Get-RemoteAddress $pushed) -Delete @sftp -ErrorAction Stop)
        $plan.Count | Should -BeGreaterThan 0
        $run.WhatIf.Count | Should -Be $plan.Count
    }

    It 'updates changed files whole, deletes with -Delete, and converges' {
        $items = @(Sync-Directory -Path $src -Destination (Get-RemoteAddress $pushed) -Delete @sftp -ErrorAction Stop)
        $updates = @($items | Where-Object { $_.Action -eq 'Update' -and $_.ItemType -eq 'File' })
        $updates.Count | Should -BeGreaterThan 0
        foreach ($item in $updates) {
            $item.BytesMatched | Should -Be 0
            $item.BytesTransferred | Should -Be $item.Length
        }
        @($items | Where-Object Action -EQ 'Delete').Count | Should -BeGreaterThan 0
        Assert-SameTree $src $pushed -IgnoreLinkAttributes
        Sync-Directory -Path $src -Destination (Get-RemoteAddress $pushed) -Delete @sftp -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'deletes extraneous remote items only with -Delete' {
        Set-Content -LiteralPath (Join-Path $pushed 'extraneous.txt') -Value 'x'
        $null = New-Item -ItemType Directory -Path (Join-Path $pushed 'extra dir/inner')
        $null = [IO.File]::CreateSymbolicLink((Join-Path $pushed 'extra link'), '/etc/hostname')
        # Without -Delete only the root's time (changed by the additions) is put back.
        $items = @(Sync-Directory -Path $src -Destination (Get-RemoteAddress $pushed) @sftp -ErrorAction Stop)
        @($items | ForEach-Object { "$($_.Action) $($_.RelativePath)" }) | Should -Be @('Metadata .')
        Test-Path -LiteralPath (Join-Path $pushed 'extraneous.txt') | Should -BeTrue
        $items = @(Sync-Directory -Path $src -Destination (Get-RemoteAddress $pushed) -Delete @sftp -ErrorAction Stop)
        @($items | Where-Object Action -EQ 'Delete' | ForEach-Object RelativePath | Sort-Object) | Should -Be @('extra dir', 'extra dir/inner', 'extra link', 'extraneous.txt')
        Test-Path -LiteralPath '/etc/hostname' | Should -BeTrue
        Assert-SameTree $src $pushed -IgnoreLinkAttributes
    }

    It 'pulls a random tree that then equals the source exactly, and a re-run emits nothing' {
        $pulled = Join-Path $work 'pulled'
        $items = @(Sync-Directory -Path (Get-RemoteAddress $src) -Destination $pulled @sftp -ErrorAction Stop)
        $items.Count | Should -BeGreaterThan 10
        Assert-SameTree $src $pulled
        Sync-Directory -Path (Get-RemoteAddress $src) -Destination $pulled -Delete @sftp -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'pulls changes and deletions with -Delete and reports them in -Summary' {
        $pulled = Join-Path $work 'pulled'
        Update-RandomTree -Rng ([Random]::new(77)) -Path $src
        Set-SftpTime $src
        $summary = Sync-Directory -Path (Get-RemoteAddress $src) -Destination $pulled -Delete -Summary @sftp -ErrorAction Stop
        $summary | Should -BeOfType PSReplica.SyncSummary
        ($summary.Created + $summary.Updated + $summary.Deleted) | Should -BeGreaterThan 0
        $summary.Errors | Should -Be 0
        $summary.BytesMatched | Should -Be 0
        Assert-SameTree $src $pulled
    }

    It 'keeps replaced and deleted files with -Backup <Label>' -ForEach @(
        @{ Label = 'beside them'; Extra = @{ Backup = $true }; Where = 'beside' }
        @{ Label = 'in a relative -BackupDirectory'; Extra = @{ BackupDirectory = '../kept' }; Where = 'directory' }
    ) {
        $root = Join-Path $work "backup-$Where"
        $null = New-Item -ItemType Directory -Path "$root/src/sub", "$root/dst/sub" -Force
        Set-Content -LiteralPath "$root/src/a.txt" -Value 'new a' -NoNewline
        Set-Content -LiteralPath "$root/src/sub/b.txt" -Value 'new b' -NoNewline
        Set-Content -LiteralPath "$root/dst/a.txt" -Value 'old a' -NoNewline
        Set-Content -LiteralPath "$root/dst/sub/b.txt" -Value 'old b' -NoNewline
        Set-Content -LiteralPath "$root/dst/gone.txt" -Value 'gone' -NoNewline
        Get-ChildItem -LiteralPath "$root/dst" -File -Recurse | ForEach-Object { $_.LastWriteTimeUtc = [datetime]::new(2020, 1, 1, 0, 0, 0, [DateTimeKind]::Utc) }
        Set-SftpTime "$root/src"

        $null = Sync-Directory -Path "$root/src" -Destination (Get-RemoteAddress "$root/dst") -Delete @sftp @Extra -ErrorAction Stop

        $kept = if ($Where -eq 'beside') { { param($p) "$root/dst/$p~" } } else { { param($p) "$root/kept/$p" } }
        Get-Content -Raw -LiteralPath "$root/dst/a.txt" | Should -Be 'new a'
        Get-Content -Raw -LiteralPath (& $kept 'a.txt') | Should -Be 'old a'
        Get-Content -Raw -LiteralPath (& $kept 'sub/b.txt') | Should -Be 'old b'
        Get-Content -Raw -LiteralPath (& $kept 'gone.txt') | Should -Be 'gone'
        Test-Path -LiteralPath "$root/dst/gone.txt" | Should -BeFalse
    }

    It 'recreates hard-link groups on the server with -Preserve HardLinks (hardlink@openssh.com)' {
        $root = Join-Path $work 'hardlinks'
        $null = New-Item -ItemType Directory -Path "$root/src/d" -Force
        Set-Content -LiteralPath "$root/src/f" -Value 'shared' -NoNewline
        & ln -- "$root/src/f" "$root/src/d/g"
        Set-SftpTime "$root/src"
        $items = @(Sync-Directory -Path "$root/src" -Destination (Get-RemoteAddress "$root/dst") -Preserve Times, Permissions, Links, HardLinks @sftp -ErrorAction Stop)
        @($items | Where-Object ItemType -EQ 'HardLink').Count | Should -Be 1
        (& stat -c %i -- "$root/dst/d/g") | Should -Be (& stat -c %i -- "$root/dst/f")
    }

    It 'refuses options SFTP cannot honour with InvalidParameterCombination, before touching anything' {
        $dst = Join-Path $work 'refused'
        foreach ($extra in @{ Checksum = $true }, @{ Compress = $true }, @{ BandwidthLimit = 100 }, @{ RemoteCommand = 'true' }, @{ TransferMode = 'Delta' }, @{ ModifyWindow = -1 }, @{ Partial = $true }, @{ PartialDirectory = '.partial' }, @{ DelayUpdates = $true }, @{ Inplace = $true }, @{ RemoveSourceFiles = $true }, @{ LinkDest = '../elsewhere' }, @{ Preserve = 'Times', 'Specials' }, @{ Preserve = 'Times', 'Devices' }) {
            $err = Get-TerminatingError { Sync-Directory -Path $src -Destination (Get-RemoteAddress $dst) @sftp @extra }
            $err.FullyQualifiedErrorId | Should -BeLike 'InvalidParameterCombination*' -Because ($extra.Keys -join ',')
            $err.Exception.Message | Should -Match 'SFTP'
        }
        Test-Path -LiteralPath $dst | Should -BeFalse
    }
}

Describe 'Falling back to SFTP when no agent can run' {
    BeforeAll {
        $script:small = Join-Path $work 'small'
        New-RandomTree -Rng ([Random]::new(4711)) -Path $small -MaxDepth 2
        Set-SftpTime $small
    }

    It 'pushes over SFTP with one warning when the server runs no commands' {
        $dst = Join-Path $work 'fallback-push'
        $items = @(Sync-Directory -Path $small -Destination (Get-RemoteAddress $dst $sftpOnly) @fallback -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction Stop)
        $items.Count | Should -BeGreaterThan 3
        @($warnings | Where-Object { "$_" -match 'SFTP' }).Count | Should -Be 1
        "$($warnings[0])" | Should -Match 'agent'
        Assert-SameTree $small $dst -IgnoreLinkAttributes
        Sync-Directory -Path $small -Destination (Get-RemoteAddress $dst $sftpOnly) @fallback -WarningAction SilentlyContinue -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'pulls over SFTP the same way, and Get-SyncPlan falls back too' {
        $dst = Join-Path $work 'fallback-pull'
        $null = Sync-Directory -Path (Get-RemoteAddress $small $sftpOnly) -Destination $dst @fallback -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction Stop
        @($warnings | Where-Object { "$_" -match 'SFTP' }).Count | Should -Be 1
        Assert-SameTree $small $dst
        Get-SyncPlan -Path (Get-RemoteAddress $small $sftpOnly) -Destination $dst -Delete @fallback -WarningAction SilentlyContinue -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'stops with AgentFailed under -Transport Agent, touching nothing' {
        $dst = Join-Path $work 'agent-only'
        $err = Get-TerminatingError { Sync-Directory -Path $small -Destination (Get-RemoteAddress $dst $sftpOnly) @fallback -Transport Agent }
        $err.FullyQualifiedErrorId | Should -BeLike 'AgentFailed*'
        Test-Path -LiteralPath $dst | Should -BeFalse
    }

    It 'does not fall back from an explicit -RemoteCommand' {
        $dst = Join-Path $work 'explicit-command'
        $err = Get-TerminatingError { Sync-Directory -Path $small -Destination (Get-RemoteAddress $dst) -Port $server.Port -KeyFilePath $server.KeyPath -KnownHostsPath $server.KnownHostsPath -RemoteCommand 'exit 3' }
        $err.FullyQualifiedErrorId | Should -BeLike 'AgentFailed*'
        Test-Path -LiteralPath $dst | Should -BeFalse
    }

    It 'says why when the fallback cannot honour an option' {
        $dst = Join-Path $work 'fallback-checksum'
        $err = Get-TerminatingError { Sync-Directory -Path $small -Destination (Get-RemoteAddress $dst $sftpOnly) @fallback -Checksum }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidParameterCombination*' -Because $err.Exception.ToString()
        $err.Exception.Message | Should -Match 'agent'
        Test-Path -LiteralPath $dst | Should -BeFalse
    }
}
