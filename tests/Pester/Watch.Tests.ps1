# Sync-Directory -Watch (issue 17) through the cmdlet: the first sync, then each change replicated as it happens and
# written to the pipeline (and the log) until the pipeline is stopped, which leaves no temporary file; and what -Watch
# refuses before anything is touched. The waits are bounded waits for the items themselves, never sleeps.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/CmdletTestSupport.ps1')
    . (Join-Path $PSScriptRoot 'Support/WatchSupport.ps1')
    . (Join-Path $PSScriptRoot 'Support/ConnectionFaults.ps1')
}

Describe 'Sync-Directory -Watch' {
    It 'syncs the tree, then replicates each change as it happens, until the pipeline is stopped' {
        $src = New-TestTree (Join-Path $TestDrive 'w-src') @{ 'a.txt' = 'alpha'; 'keep/k.txt' = 'keep' }
        $dst = Join-Path $TestDrive 'w-dst'
        $log = Join-Path $TestDrive 'w.log'
        $watch = Start-Watch $src $dst @{ Delete = $true; LogPath = $log }
        try {
            Wait-Item $watch 'Create' 'a.txt'
            Wait-Item $watch 'Create' 'keep/k.txt'

            [IO.File]::WriteAllText((Join-Path $src 'b.txt'), 'bravo')
            $null = New-Item -ItemType Directory (Join-Path $src 'new/deep')
            [IO.File]::WriteAllText((Join-Path $src 'new/deep/c.txt'), 'charlie')
            Remove-Item (Join-Path $src 'a.txt')
            [IO.File]::WriteAllText((Join-Path $src 'keep/k.txt'), 'keep, changed')
            Wait-Item $watch 'Create' 'b.txt'
            Wait-Item $watch 'Create' 'new/deep/c.txt'
            Wait-Item $watch 'Delete' 'a.txt'
            Wait-Item $watch 'Update' 'keep/k.txt'

            Rename-Item (Join-Path $src 'b.txt') 'b-renamed.txt'
            Wait-Item $watch 'Create' 'b-renamed.txt'
            Wait-Item $watch 'Delete' 'b.txt'
        }
        finally {
            Stop-Watch $watch
        }

        @(Get-SyncPlan -Path $src -Destination $dst -Delete) | Should -BeNullOrEmpty
        [IO.File]::ReadAllText((Join-Path $dst 'keep/k.txt')) | Should -Be 'keep, changed'
        @(Get-ChildItem -LiteralPath $dst -Recurse -Force -Name | Where-Object { $_ -match 'psreplica|\.~psr' }) | Should -BeNullOrEmpty
        $logged = Get-Content -LiteralPath $log
        ($logged -match 'new/deep/c\.txt') | Should -Not -BeNullOrEmpty
        ($logged -match 'deleting +a\.txt') | Should -Not -BeNullOrEmpty
    }

    It 'stops during a transfer, leaving neither the file nor its temporary file' {
        $src = New-TestTree (Join-Path $TestDrive 'busy-src') @{ 'a.txt' = 'alpha' }
        $dst = Join-Path $TestDrive 'busy-dst'
        # At 64 KiB/s a 2 MiB file takes half a minute: the stop comes while it is being copied.
        $watch = Start-Watch $src $dst @{ BandwidthLimit = 64 }
        try {
            Wait-Item $watch 'Create' 'a.txt'
            Start-BusyTransfer $src $dst $TestDrive
        }
        finally {
            Stop-Watch $watch
        }

        @(Get-ChildItem -LiteralPath $dst -Force -Name) | Should -Be @('a.txt')
    }

    It 'stops with WatchRootLost when the source root is removed' {
        $src = New-TestTree (Join-Path $TestDrive 'gone-src') @{ 'a.txt' = 'alpha' }
        $dst = Join-Path $TestDrive 'gone-dst'
        $watch = Start-Watch $src $dst
        try {
            Wait-Item $watch 'Create' 'a.txt'
            Remove-Item -Recurse -Force $src
            $watch.Async.AsyncWaitHandle.WaitOne($script:Bound) | Should -BeTrue -Because 'the watch must end when its root is gone'
            $watch.PowerShell.InvocationStateInfo.State | Should -Be 'Failed'
            $watch.PowerShell.InvocationStateInfo.Reason.ErrorRecord.FullyQualifiedErrorId | Should -BeLike 'WatchRootLost*'
        }
        finally {
            $watch.Items.Dispose()
            $watch.PowerShell.Dispose()
        }
    }

    It 'refuses <Why> before anything is touched' -ForEach @(
        @{ Why = '-WhatIf'; More = @{ WhatIf = $true }; Id = 'InvalidParameterCombination' }
        @{ Why = '-Summary'; More = @{ Summary = $true }; Id = 'InvalidParameterCombination' }
        @{ Why = '-LinkDest'; More = @{ LinkDest = '../snap' }; Id = 'InvalidParameterCombination' }
        @{ Why = '-RemoveSourceFiles with -Delete'; More = @{ RemoveSourceFiles = $true; Delete = $true }; Id = 'InvalidParameterCombination' }
        @{ Why = 'a settle time without a unit'; More = @{ SettleTime = '250' }; Id = 'InvalidDuration' }
        @{ Why = 'a rescan interval under a second'; More = @{ RescanInterval = '100ms' }; Id = 'InvalidDuration' }
        @{ Why = 'a remote source (a pull)'; More = @{ Path = 'me@127.0.0.1:/tmp/x' }; Id = 'InvalidParameterCombination' }
    ) {
        $src = New-TestTree (Join-Path $TestDrive "refused-$Id-$($More.Keys -join '')") @{ 'a.txt' = 'alpha' }
        $dst = Join-Path $TestDrive "refused-dst-$([guid]::NewGuid().ToString('N'))"
        $parameters = @{ Path = $src; Destination = $dst; Watch = $true }
        foreach ($key in $More.Keys) { $parameters[$key] = $More[$key] }
        { Sync-Directory @parameters -ErrorAction Stop } | Should -Throw -ErrorId "$Id,PSReplica.Commands.SyncDirectoryCommand"
        Test-Path -LiteralPath $dst | Should -BeFalse
    }

    It 'refuses -SettleTime and -RescanInterval without -Watch' {
        $src = New-TestTree (Join-Path $TestDrive 'nowatch-src') @{ 'a.txt' = 'alpha' }
        { Sync-Directory $src (Join-Path $TestDrive 'nowatch-dst') -SettleTime 1s -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidParameterCombination,PSReplica.Commands.SyncDirectoryCommand'
        { Sync-Directory $src (Join-Path $TestDrive 'nowatch-dst') -RescanInterval 1h -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidParameterCombination,PSReplica.Commands.SyncDirectoryCommand'
        Test-Path -LiteralPath (Join-Path $TestDrive 'nowatch-dst') | Should -BeFalse
    }
}
