# Sync-Directory -Watch pushing to the private sshd (issue 17), through the cmdlet as the README shows it: the first
# sync, each change as it happens over the one connection, the connection killed mid-watch (as a dropped network or a
# server restart does), then the catch-up once it is made again, and the replica equal to the source after each step.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/CmdletTestSupport.ps1')
    . (Join-Path $PSScriptRoot 'Support/WatchSupport.ps1')
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    . (Join-Path $PSScriptRoot 'Support/ConnectionFaults.ps1')
    Start-RemoteTestSession 'watch'
    Invoke-WarmUpPush

    function Write-Staged([string] $Path, [string] $Text) {
        # Written beside the tree and renamed into it: the watch sees the file whole, never half written.
        $staged = Join-Path $work ([guid]::NewGuid().ToString('N'))
        [IO.File]::WriteAllText($staged, $Text)
        Move-Item -LiteralPath $staged -Destination $Path -Force
    }

    function Wait-SameTree([string] $Expected, [string] $Actual, $Watch) {
        # An item is written when its action is done; the batch sets its directories' times after all its actions, so
        # the replica matches a moment after the batch's last item (a bounded wait, then the differences if any, with
        # what the watch said: its items and streams tell which batch left the difference).
        $same = { -not (Compare-TreeSnapshot (Get-ComparableSnapshot $Expected) (Get-ComparableSnapshot $Actual) -ReferenceName source -DifferenceName replica) }
        try { Wait-Until $same 'the replica to match the source' } catch { }
        try { Assert-SameTree $Expected $Actual }
        catch {
            $said = foreach ($name in 'Verbose', 'Warning', 'Error') { Get-WatchStream $Watch $name | ForEach-Object { "${name}: $_" } }
            throw "$($_.Exception.Message)`nThe watch's items: $($Watch.Items.Seen -join '; ')`n$($said -join "`n")"
        }
    }
}

AfterAll { Stop-RemoteTestSession $server $work }

Describe 'Sync-Directory -Watch to an SSH server' {
    It 'replicates each change over one connection, and catches up after the connection was killed' {
        $src = Join-Path $work 'w-src'
        $null = New-Item -ItemType Directory -Path (Join-Path $src 'keep')
        Write-Staged (Join-Path $src 'a.txt') 'alpha'
        Write-Staged (Join-Path $src 'keep/k.txt') 'keep'
        $dst = Join-Path $work 'w-dst'
        $watch = Start-Watch $src (Get-RemoteAddress $dst) (@{ Delete = $true; Verbose = $true } + $ssh)
        try {
            Wait-Item $watch 'Create' 'a.txt'
            Wait-Item $watch 'Create' 'keep/k.txt'

            Write-Staged (Join-Path $src 'b.txt') 'bravo'
            Remove-Item (Join-Path $src 'a.txt')
            Wait-Item $watch 'Create' 'b.txt'
            Wait-Item $watch 'Delete' 'a.txt'
            Wait-SameTree $src $dst $watch
            # The agent's first session took the destination for missing; the batch after the sync that made it opened
            # the one the watch keeps.
            $connected = @(Get-WatchStream $watch Verbose | Where-Object { "$_" -like 'Connected to *' }).Count
            $connected | Should -Be 2
            Write-Staged (Join-Path $src 'c.txt') 'charlie'
            Wait-Item $watch 'Create' 'c.txt'
            @(Get-WatchStream $watch Verbose | Where-Object { "$_" -like 'Connected to *' }).Count | Should -Be $connected

            # The connection drops, between batches or before this one set the root's time (after its last item): the next
            # change waits for a new connection, and the catch-up brings it and sets the root's time to the nanosecond.
            Stop-SshConnections
            Write-Staged (Join-Path $src 'keep/k.txt') 'keep, changed while the connection was down'
            Wait-Item $watch 'Update' 'keep/k.txt'
            Wait-SameTree $src $dst $watch
            $warnings = @(Get-WatchStream $watch Warning | ForEach-Object { "$_" })
            ($warnings -like 'Watch: the connection to 127.0.0.1 was lost (*').Count | Should -Be 1
            $verbose = @(Get-WatchStream $watch Verbose | ForEach-Object { "$_" })
            $verbose | Should -Contain 'Watch: catching up with 127.0.0.1: the whole tree is planned, for what changed while the connection was down'
            @($verbose -like 'Connected to *').Count | Should -Be ($connected + 1)
        }
        finally {
            Stop-Watch $watch
        }

        @(Get-ChildItem -LiteralPath $dst -Recurse -Force -Name | Where-Object { $_ -match '\.~psr' }) | Should -BeNullOrEmpty
        @(Get-WatchStream $watch Error) | Should -BeNullOrEmpty
    }

    It 'stops during a transfer to the agent, which removes its temporary file' {
        $src = Join-Path $work 'busy-src'
        $null = New-Item -ItemType Directory -Path $src
        Write-Staged (Join-Path $src 'a.txt') 'alpha'
        $dst = Join-Path $work 'busy-dst'
        # At 64 KiB/s a 2 MiB file takes half a minute: the stop comes while it is being sent.
        $watch = Start-Watch $src (Get-RemoteAddress $dst) (@{ BandwidthLimit = 64 } + $ssh)
        try {
            Wait-Item $watch 'Create' 'a.txt'
            Start-BusyTransfer $src $dst $work
        }
        finally {
            Stop-Watch $watch
        }

        # The agent sees its input end and removes what it was writing; the session's processes go.
        Wait-Until { @(Get-ServerDescendants).Count -eq 0 } 'the agent to exit'
        @(Get-ChildItem -LiteralPath $dst -Force -Name) | Should -Be @('a.txt')
    }
}
