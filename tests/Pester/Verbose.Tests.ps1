# -Verbose and -Debug (issue 14): what a user needs to follow a run of Sync-Directory and Get-SyncPlan, locally and over
# SSH against private OpenSSH sshds on 127.0.0.1 (Support/TestSshServer.psm1): one where the module deploys and runs its
# agent, one that allows SFTP only (ForceCommand internal-sftp), where Auto falls back. Unasked, nothing is written.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    Start-RemoteTestSession 'verbose'
    $script:sftpOnly = Start-TestSshServer -ExtraConfig 'ForceCommand internal-sftp'
    $script:fallback = Get-SshLoginParameters $sftpOnly

    # The messages of the verbose (or debug) records among a call's merged output.
    function Select-Message([object[]] $Output, [type] $Type = [System.Management.Automation.VerboseRecord]) {
        @($Output | Where-Object { $_ -is $Type } | ForEach-Object Message)
    }

    function New-Source([string] $Name) {
        $src = Join-Path $work $Name
        $null = New-Item -ItemType Directory -Path (Join-Path $src 'sub') -Force
        Set-Content -LiteralPath (Join-Path $src 'a.txt') -Value 'a' -NoNewline
        Set-Content -LiteralPath (Join-Path $src 'sub/b.txt') -Value 'bb' -NoNewline
        Set-Content -LiteralPath (Join-Path $src 'skip.bak') -Value 's' -NoNewline
        $src
    }
}

AfterAll { Stop-RemoteTestSession $server, $sftpOnly $work }

Describe 'A local run with -Verbose' {
    BeforeAll {
        $script:src = New-Source 'local-src'
        $script:dst = Join-Path $work 'local-dst'
        $null = New-Item -ItemType Directory -Path $dst
        Set-Content -LiteralPath (Join-Path $dst 'old.txt') -Value 'o' -NoNewline
    }

    It 'names the roots and the filter, counts the scan and the plan, says why items were skipped, and ends with the totals' {
        $output = @(Sync-Directory -Path $src -Destination $dst -Exclude '*.bak' -Delete -MaxDelete 0 -Verbose -ErrorAction SilentlyContinue 4>&1)
        $verbose = Select-Message $output

        @($output | Where-Object { $_ -is [PSReplica.SyncItem] -and $_.Action -eq 'Create' }).Count | Should -Be 3
        $verbose[0] | Should -Be "Source: $src"
        $verbose[1] | Should -Be "Destination: $dst"
        $verbose[2] | Should -BeLike 'File system: the Linux backend (*'
        $verbose[3] | Should -Be 'Filter: 1 rule(s)'
        $verbose | Should -Contain "Skipping 'skip.bak': excluded by the filter rule '- *.bak'"
        $verbose | Should -Contain "Not deleting 'old.txt': the -MaxDelete limit of 0 is reached"
        @($verbose -match '^Scanned the source: 4 item\(s\) in 2 directories, \d+\.\d\d s listing$').Count | Should -Be 1
        @($verbose -match '^Scanned the destination: 1 item\(s\) in 1 directory, \d+\.\d\d s listing$').Count | Should -Be 1
        @($verbose -match '^Planned in \d+\.\d\d s: 3 to create, 1 to delete(, 1 metadata only)?; 3 bytes of 3 bytes to transfer$').Count | Should -Be 1
        $verbose[-1] | Should -Match '^Carried out the plan in \d+\.\d\d s: 3 created(, 1 metadata only)?, 1 skipped, 1 error\(s\); 3 bytes sent, 0 bytes reused from the destination$'
    }

    It 'says the same of Get-SyncPlan, as a dry run' {
        $verbose = Select-Message @(Get-SyncPlan -Path $src -Destination (Join-Path $work 'local-new') -Verbose 4>&1)
        $verbose | Should -Contain "Destination: $(Join-Path $work 'local-new') (does not exist yet: the run creates it)"
        $verbose[-1] | Should -Match '^Went through the plan as a dry run \(nothing was changed\) in \d+\.\d\d s: 5 to create, 0 skipped, 0 error\(s\)$'
    }

    It 'writes nothing unasked, follows $VerbosePreference, and -Verbose:$false wins over it' {
        Select-Message @(Get-SyncPlan -Path $src -Destination $dst 4>&1) | Should -BeNullOrEmpty
        # Set in this scope, the preference is the string 'Continue', not yet an ActionPreference.
        $VerbosePreference = 'Continue'
        Select-Message @(Get-SyncPlan -Path $src -Destination $dst 4>&1) | Should -Contain "Source: $src"
        Select-Message @(Get-SyncPlan -Path $src -Destination $dst -Verbose:$false 4>&1) | Should -BeNullOrEmpty
    }

    It 'adds each item''s decision under -Debug, which does not stop to ask' {
        $debug = Select-Message @(Get-SyncPlan -Path $src -Destination $dst -Delete -Debug 5>&1) ([System.Management.Automation.DebugRecord])
        $debug | Should -Contain "'a.txt': up to date"
        $debug | Should -Contain "'skip.bak': >f+++++++++ Create File (New)"
        @($debug -match "^'old.txt': \*deleting +Delete File \(Extraneous\)$").Count | Should -Be 1
    }
}

Describe 'A remote run with -Verbose' {
    It 'says where it connected and which agent runs: deployed on the first push, found in the cache on the next' {
        $src = New-Source 'remote-src'
        $address = Get-RemoteAddress (Join-Path $work 'pushed')
        $first = Select-Message @(Sync-Directory -Path $src -Destination $address @ssh -Verbose -ErrorAction Stop 4>&1)
        $second = Select-Message @(Sync-Directory -Path $src -Destination $address @ssh -Verbose -ErrorAction Stop 4>&1)

        $login = "$($server.User)@$($server.Host)"
        $first[0] | Should -Be "Remote destination: $(Join-Path $work 'pushed') on $login; transport: the PSReplica agent (installed on the server, else deployed there), else SFTP (-Transport Auto)"
        $first[1] | Should -Match ('^Connected to ' + [regex]::Escape($login) + " port $($server.Port) in \d+\.\d\d s with the built-in SSH client: key exchange \S+, cipher \S+; host key \S+ SHA256:\S+ known from ")
        # The module's native agent for this platform when the build made one (it needs no .NET), else its managed one.
        $agent = (Get-DeployedAgentFile).Description
        $first[2] | Should -Match ('^Transport: the PSReplica agent on ' + [regex]::Escape($login) + ": this module's $agent, deployed now into " + [regex]::Escape($server.Home) + '/\.cache/psreplica/agent/\S+ \(\d+ file\(s\), [\d.]+ \S+ uploaded over SFTP, SHA-256 sums checked\), run (with \S+|directly \(.+\)); started in \d+\.\d\d s$')
        $first[3] | Should -Match '^Agent: version \S+, protocol \d+ \(handshake \d+\.\d\d s\)$'
        $first | Should -Contain "Source: $src"
        $first[-1] | Should -Match '^Carried out the plan in \d+\.\d\d s: 5 created, 0 skipped, 0 error\(s\); '
        $second[2] | Should -Match ('^Transport: the PSReplica agent on ' + [regex]::Escape($login) + ": this module's $agent, deployed earlier into ~/\.cache/psreplica/agent/\S+ \(SHA-256 sums checked\), .*started in \d+\.\d\d s$")
        $second[-1] | Should -Match '^Carried out the plan in \d+\.\d\d s: no change, 0 skipped, 0 error\(s\); '
    }

    It 'names the remote source of a pull planned with Get-SyncPlan' {
        $src = New-Source 'remote-pull-src'
        $verbose = Select-Message @(Get-SyncPlan -Path (Get-RemoteAddress $src) -Destination (Join-Path $work 'pulled') @ssh -Verbose -ErrorAction Stop 4>&1)
        $verbose[0] | Should -BeLike "Remote source: $src on *; transport: *"
        $verbose | Should -Contain "Source: $src"
        $verbose[-1] | Should -Match '^Went through the plan as a dry run \(nothing was changed\) in \d+\.\d\d s: 5 to create, '
    }

    It 'gives the reason for the SFTP fallback' {
        $src = New-Source 'fallback-src'
        $verbose = Select-Message @(Sync-Directory -Path $src -Destination (Get-RemoteAddress (Join-Path $work 'fallback') $sftpOnly) @fallback -Verbose -WarningAction SilentlyContinue -ErrorAction Stop 4>&1)
        $transport = @($verbose -like 'Transport: *')
        $transport.Count | Should -Be 1
        $transport[0] | Should -BeLike "Transport: SFTP, the fallback, because no PSReplica agent can run: $($sftpOnly.User)@$($sftpOnly.Host): looking for the agent failed (*"
        $verbose[-1] | Should -Match '^Carried out the plan in \d+\.\d\d s: 5 created, 0 skipped, 0 error\(s\); 4 bytes sent, '
    }

    It 'writes nothing unasked' {
        $src = New-Source 'quiet-src'
        Select-Message @(Sync-Directory -Path $src -Destination (Get-RemoteAddress (Join-Path $work 'quiet')) @ssh -ErrorAction Stop 4>&1) | Should -BeNullOrEmpty
    }
}
