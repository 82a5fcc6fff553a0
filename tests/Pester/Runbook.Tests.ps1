# What a runbook author relies on: a plan reviewed and then applied exactly (also after Export-Clixml or ConvertTo-Json
# and back, also over SSH), with anything changed since skipped as PlanStale and nothing outside the plan touched; rows
# of pipeline input that fail on their own; the items and the totals from one run (-SummaryVariable); a log file
# written as the run goes (-LogPath); output that serialises as names and numbers; the default parameter set.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    . (Join-Path $PSScriptRoot 'Support/TestFiles.ps1')
    $script:WorkRoot = New-TestWorkDirectory 'psr-runbook'

    # A source with new, changed and unchanged files, a new directory, and a destination with an extraneous file and an
    # extraneous directory.
    function New-Fixture([string] $Name) {
        $root = Join-Path $script:WorkRoot $Name
        $src = Join-Path $root 'src'
        $dst = Join-Path $root 'dst'
        Write-TestFile "$src/same.txt" 'same'
        Write-TestFile "$dst/same.txt" 'same'
        Write-TestFile "$src/changed.txt" 'new content'
        Write-TestFile "$dst/changed.txt" 'old' '2025-12-01 10:00:00'
        Write-TestFile "$src/new.txt" 'new'
        Write-TestFile "$src/newdir/inner.txt" 'inner'
        Write-TestFile "$dst/extra.txt" 'extra'
        Write-TestFile "$dst/olddir/gone.txt" 'gone'
        # The directories' times are set too: left to the clock, the two roots' times fell in different seconds now and
        # then, and the plan held the root's time as a change of its own (applied, or stale once the source changed).
        & touch -d '2026-01-01 10:00:00' -- $src "$src/newdir" $dst "$dst/olddir"
        [pscustomobject]@{ Root = $root; Src = $src; Dst = $dst }
    }

    function Get-Listing([string] $Path) {
        & find $Path -mindepth 1 -printf '%P %y %s %T@\n' | Sort-Object -CaseSensitive
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { & rm -rf -- $script:WorkRoot }
}

Describe 'Plan, review, apply' {
    It 'applies a piped plan exactly as Sync-Directory would have done it' {
        $f = New-Fixture 'piped'
        $plan = @(Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete)
        $plan.Count | Should -BeGreaterThan 4
        $plan[0].Plan.Command | Should -BeLike "Get-SyncPlan -LiteralPath:'$($f.Src)' -Destination:'$($f.Dst)' -Delete*"
        $applied = @($plan | Sync-Directory -WarningVariable warnings)
        $warnings | Should -BeNullOrEmpty
        ($applied | ForEach-Object { "$($_.Itemize) $($_.RelativePath)" }) | Should -Be ($plan | ForEach-Object { "$($_.Itemize) $($_.RelativePath)" })
        Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete | Should -BeNullOrEmpty
    }

    It 'applies a plan given as -Plan after Export-Clixml and Import-Clixml' {
        $f = New-Fixture 'clixml'
        $file = Join-Path $f.Root 'plan.xml'
        Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete -Exclude 'new.txt' | Export-Clixml -LiteralPath $file
        $applied = @(Sync-Directory -Plan (Import-Clixml -LiteralPath $file))
        $applied.RelativePath | Should -Not -Contain 'new.txt'
        $applied.RelativePath | Should -Contain 'extra.txt'
        Test-Path -LiteralPath (Join-Path $f.Dst 'new.txt') | Should -BeFalse
        # The exclusion came with the plan: the tree has converged under the plan's own selection.
        Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete -Exclude 'new.txt' | Should -BeNullOrEmpty
    }

    It 'applies a plan saved as JSON, whose enums are names, after ConvertFrom-Json' {
        $f = New-Fixture 'json'
        $json = Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete | ConvertTo-Json
        $json | Should -Match '"Action": "Create"'
        $json | Should -Match '"ItemType": "File"'
        $json | Should -Not -Match 'truncated'
        $applied = @($json | ConvertFrom-Json | Sync-Directory -WarningVariable warnings)
        $warnings | Should -BeNullOrEmpty
        $applied.Count | Should -BeGreaterThan 4
        Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete | Should -BeNullOrEmpty
    }

    It 'applies a plan saved as CSV, whose Plan column is the command line, and never applies a time CSV rounded' {
        $f = New-Fixture 'csv'
        $file = Join-Path $f.Root 'plan.csv'
        Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete | Export-Csv -LiteralPath $file -NoTypeInformation
        $applied = @(Import-Csv -LiteralPath $file | Sync-Directory -WarningVariable warnings 3>$null)
        # Export-Csv writes times as text in the current culture, to the second: a file whose time lost its fraction
        # no longer matches, so it is stale, never applied blindly; directories and deletions of unchanged items go.
        $applied.RelativePath | Should -Contain 'newdir'
        foreach ($stale in $warnings) { $stale.Message | Should -BeLike 'PlanStale: *' }
        ($applied.Count + @($warnings).Count) | Should -Be @(Import-Csv -LiteralPath $file).Count
    }

    It 'skips what changed since the plan was made with PlanStale, and touches nothing outside the plan' {
        $f = New-Fixture 'stale'
        $plan = @(Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete)
        # After the review: a planned file changes in the source, a planned deletion changes in the destination, a new
        # source file appears, a new file appears in a directory the plan deletes, and one appears beside the others.
        Write-TestFile "$($f.Src)/changed.txt" 'changed again after the review' '2026-02-01 10:00:00'
        Write-TestFile "$($f.Dst)/extra.txt" 'extra, edited after the review' '2026-02-01 10:00:00'
        Write-TestFile "$($f.Src)/late.txt" 'late'
        Write-TestFile "$($f.Dst)/olddir/late.txt" 'late arrival'
        Write-TestFile "$($f.Dst)/unplanned.txt" 'not in the plan'
        $applied = @($plan | Sync-Directory -WarningVariable warnings -SummaryVariable summary 3>$null)
        ($applied.RelativePath | Sort-Object) | Should -Be @('new.txt', 'newdir', 'newdir/inner.txt', 'olddir/gone.txt') -Because 'only the unchanged planned items run'
        @($warnings | Where-Object Message -Like 'PlanStale:*').Count | Should -Be 3 -Because ($warnings.Message -join ' | ')
        ($warnings.Message -join "`n") | Should -BeLike "*PlanStale: 'changed.txt' (Update File >f.st*) was skipped: it changed since the plan was made (now: *"
        ($warnings.Message -join "`n") | Should -BeLike "*PlanStale: 'extra.txt' (Delete File*) was skipped: it changed since the plan was made*"
        # The directory holds a file the plan never saw: neither it nor the directory is deleted.
        ($warnings.Message -join "`n") | Should -BeLike "*PlanStale: 'olddir' (Delete Directory*) was skipped: the directory now holds items the plan does not delete*"
        Get-Content -LiteralPath "$($f.Dst)/changed.txt" | Should -Be 'old'
        Get-Content -LiteralPath "$($f.Dst)/extra.txt" | Should -Be 'extra, edited after the review'
        Test-Path -LiteralPath "$($f.Dst)/olddir/late.txt" | Should -BeTrue
        Test-Path -LiteralPath "$($f.Dst)/unplanned.txt" | Should -BeTrue
        Test-Path -LiteralPath "$($f.Dst)/late.txt" | Should -BeFalse
        $summary.Skipped | Should -Be 3 -Because ($warnings.Message -join ' | ')
    }

    It 'skips the contents of a planned directory whose own action changed' {
        $f = New-Fixture 'stale-dir'
        $plan = @(Get-SyncPlan -Path $f.Src -Destination $f.Dst)
        # newdir is now a file in the destination: the plan's directory cannot be made, nor anything in it.
        Write-TestFile "$($f.Dst)/newdir" 'a file now'
        $applied = @($plan | Sync-Directory -WarningVariable warnings 3>$null)
        $applied.RelativePath | Should -Not -Contain 'newdir/inner.txt'
        ($warnings.Message -join "`n") | Should -BeLike "*'newdir/inner.txt'*"
        Get-Content -LiteralPath "$($f.Dst)/newdir" | Should -Be 'a file now'
    }

    It 'refuses a parameter that the plan sets, and an item without its plan, before anything is touched' {
        $f = New-Fixture 'refused'
        $before = Get-Listing $f.Dst
        $plan = @(Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete)
        { $plan | Sync-Directory -Delete -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidParameterCombination,PSReplica.Commands.SyncDirectoryCommand'
        $bare = $plan[0] | Select-Object * -ExcludeProperty Plan
        { $bare | Sync-Directory -ErrorAction Stop } | Should -Throw -ErrorId 'PlanInvalid,PSReplica.Commands.SyncDirectoryCommand'
        $forged = $plan[0] | ConvertTo-Json | ConvertFrom-Json
        $forged.Plan.Command = 'Get-SyncPlan -LiteralPath:$(Remove-Item -Recurse /) -Destination:x'
        { $forged | Sync-Directory -ErrorAction Stop } | Should -Throw -ErrorId 'PlanInvalid,PSReplica.Commands.SyncDirectoryCommand'
        $forged.Plan.Command = "Get-SyncPlan -LiteralPath:'$($f.Src)' -Destination:'host:$($f.Dst)' -SshCommand:'touch $($f.Root)/pwned; ssh'"
        { $forged | Sync-Directory -ErrorAction Stop } | Should -Throw -ErrorId 'PlanInvalid,PSReplica.Commands.SyncDirectoryCommand'
        Test-Path -LiteralPath "$($f.Root)/pwned" | Should -BeFalse
        $forged.Plan.Command = "Get-SyncPlan -LiteralPath:'$($f.Src)' -Destination:'$($f.Dst)' -MaxDelete:-5"
        { $forged | Sync-Directory -ErrorAction Stop } | Should -Throw -ErrorId 'PlanInvalid,PSReplica.Commands.SyncDirectoryCommand'
        $forged.Plan.Command = "Get-SyncPlan -LiteralPath:'$($f.Src)' -Destination:'$($f.Dst)' -Transport:'Carrier pigeon'"
        { $forged | Sync-Directory -ErrorAction Stop } | Should -Throw -ErrorId 'PlanInvalid,PSReplica.Commands.SyncDirectoryCommand'
        Get-Listing $f.Dst | Should -Be $before
    }

    It 'applies a plan made against a remote destination over SSH' {
        $started = Start-TestSshServer
        try {
            $ssh = Get-SshLoginParameters $started
            $f = New-Fixture 'remote'
            $remote = "$($started.User)@$($started.Host):$($f.Dst)"
            $plan = @(Get-SyncPlan -Path $f.Src -Destination $remote -Delete @ssh)
            $plan[0].Plan.Command | Should -BeLike "*-Destination:'$remote'*"
            Write-TestFile "$($f.Src)/changed.txt" 'changed again after the review' '2026-02-01 10:00:00'
            $plan[0].Plan.Command | Should -Not -BeLike '*KeyFilePath*' -Because 'what a run trusts is never written into a plan'
            $plan[0].Plan.Command | Should -Not -BeLike '*KnownHostsPath*'
            $applied = @($plan | Sync-Directory -KeyFilePath $ssh.KeyFilePath -KnownHostsPath $ssh.KnownHostsPath -WarningVariable warnings 3>$null)
            $applied.RelativePath | Should -Not -Contain 'changed.txt'
            $applied.RelativePath | Should -Contain 'new.txt'
            ($warnings.Message -join "`n") | Should -BeLike "*PlanStale: 'changed.txt'*"
            Get-Content -LiteralPath "$($f.Dst)/changed.txt" | Should -Be 'old'
        }
        finally {
            Stop-TestSshServer -Server $started
        }
    }
}

Describe 'Rows from the pipeline' {
    It 'reports a failing row as a non-terminating error with its paths, and runs the rows after it' {
        $a = New-Fixture 'row-a'
        $c = New-Fixture 'row-c'
        $csv = Join-Path $script:WorkRoot 'mirrors.csv'
        @(
            [pscustomobject]@{ Path = $a.Src; Destination = $a.Dst }
            [pscustomobject]@{ Path = (Join-Path $script:WorkRoot 'no-such-source'); Destination = (Join-Path $script:WorkRoot 'row-b') }
            [pscustomobject]@{ Path = $c.Src; Destination = $c.Dst }
        ) | Export-Csv -LiteralPath $csv -NoTypeInformation
        $summaries = @(Import-Csv -LiteralPath $csv | Sync-Directory -Summary -ErrorVariable rowErrors -ErrorAction SilentlyContinue)
        $summaries.Count | Should -Be 2
        $rowErrors.Count | Should -Be 1
        $rowErrors[0].FullyQualifiedErrorId | Should -Be 'SourceNotFound,PSReplica.Commands.SyncDirectoryCommand'
        $rowErrors[0].TargetObject.Path | Should -Be (Join-Path $script:WorkRoot 'no-such-source')
        $rowErrors[0].TargetObject.Destination | Should -Be (Join-Path $script:WorkRoot 'row-b')
        $rowErrors[0].ToString() | Should -BeLike "*destination '$(Join-Path $script:WorkRoot 'row-b')'*"
        Get-SyncPlan -Path $c.Src -Destination $c.Dst | Should -BeNullOrEmpty
    }

    It 'still stops at the failing row with -ErrorAction Stop' {
        $a = New-Fixture 'stop-a'
        $c = New-Fixture 'stop-c'
        $rows = @(
            [pscustomobject]@{ Path = $a.Src; Destination = $a.Dst }
            [pscustomobject]@{ Path = (Join-Path $script:WorkRoot 'missing'); Destination = (Join-Path $script:WorkRoot 'stop-b') }
            [pscustomobject]@{ Path = $c.Src; Destination = $c.Dst }
        )
        { $rows | Sync-Directory -ErrorAction Stop } | Should -Throw -ErrorId 'SourceNotFound,PSReplica.Commands.SyncDirectoryCommand'
        Test-Path -LiteralPath "$($c.Dst)/new.txt" | Should -BeFalse
    }

    It 'keeps a command given its paths as arguments terminating' {
        $missing = Join-Path $script:WorkRoot 'nothing-here'
        { Sync-Directory -Path $missing -Destination (Join-Path $script:WorkRoot 'x') -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'SourceNotFound,PSReplica.Commands.SyncDirectoryCommand'
    }
}

Describe 'Items and totals, and a log, from one run' {
    It 'writes the items and stores the summary with -SummaryVariable' {
        $f = New-Fixture 'summaryvar'
        $items = @(Sync-Directory -Path $f.Src -Destination $f.Dst -Delete -SummaryVariable totals)
        $items.Count | Should -BeGreaterThan 4
        $totals | Should -BeOfType ([PSReplica.SyncSummary])
        $totals.Created + $totals.Updated + $totals.Deleted + $totals.MetadataUpdated | Should -Be $items.Count
    }

    It 'collects one summary per row with -SummaryVariable' {
        $a = New-Fixture 'summaryrows-a'
        $b = New-Fixture 'summaryrows-b'
        $null = @([pscustomobject]@{ Path = $a.Src; Destination = $a.Dst }, [pscustomobject]@{ Path = $b.Src; Destination = $b.Dst }) |
            Sync-Directory -SummaryVariable totals
        $totals.Count | Should -Be 2
        $totals[1].Destination | Should -Be $b.Dst
    }

    It 'appends one line per item to -LogPath, each flushed before the item reaches the pipeline' {
        $f = New-Fixture 'log'
        $log = Join-Path $f.Root 'run.log'
        Set-Content -LiteralPath $log -Value 'an earlier line'
        $seen = @(Sync-Directory -Path $f.Src -Destination $f.Dst -Delete -LogPath $log | ForEach-Object {
                # The line is on disk when the object arrives: a killed job leaves its trail.
                (Get-Content -LiteralPath $log | Select-Object -Last 1) -match ([regex]::Escape("$($_.Itemize) $($_.RelativePath)") + '$')
            })
        $seen | Should -Not -Contain $false
        $lines = Get-Content -LiteralPath $log
        $lines[0] | Should -Be 'an earlier line'
        $lines[1] | Should -Match "^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[\d+\] Sync-Directory $([regex]::Escape($f.Src)) -> $([regex]::Escape($f.Dst))$"
        $lines | Should -Contain ($lines | Where-Object { $_ -match '\] >f\+{9} new\.txt$' })
        $lines | Should -Contain ($lines | Where-Object { $_ -match '\] \*deleting   extra\.txt$' })
        $lines[-1] | Should -Match '\] sent \d+ bytes  matched 0 bytes  total size \d+  created 3 .* errors 0 '
    }

    It 'logs the items with -Summary too, and errors as ERROR lines' {
        $f = New-Fixture 'log-summary'
        $log = Join-Path $f.Root 'run.log'
        # A file that would replace a non-empty directory without -Delete: an error for that item only.
        Write-TestFile "$($f.Src)/blocked" 'a file'
        Write-TestFile "$($f.Dst)/blocked/inside.txt" 'keeps the directory'
        $summary = Sync-Directory -Path $f.Src -Destination $f.Dst -Summary -LogPath $log -ErrorAction SilentlyContinue
        $summary.Errors | Should -Be 1
        $lines = Get-Content -LiteralPath $log
        @($lines | Where-Object { $_ -match '\] [>c][fd]' }).Count | Should -Be ($summary.Created + $summary.Updated)
        @($lines | Where-Object { $_ -match '\] ERROR CannotReplaceNonEmptyDirectory: ' }).Count | Should -Be 1
    }

    It 'refuses a log file that cannot be opened, before anything is touched' {
        $f = New-Fixture 'log-bad'
        { Sync-Directory -Path $f.Src -Destination $f.Dst -LogPath $f.Src -ErrorAction Stop } |
            Should -Throw -ErrorId 'LogFileUnwritable,PSReplica.Commands.SyncDirectoryCommand'
        Test-Path -LiteralPath "$($f.Dst)/new.txt" | Should -BeFalse
    }
}

Describe "README's runbooks" {
    # The README's own code blocks, run as written with their paths moved under the test's work directory: what the
    # README shows must run as shown.
    BeforeAll {
        $script:Readme = Get-Content -Raw -LiteralPath (Join-Path $PSScriptRoot '../../README.md')
        function Get-ReadmeBlock([string] $After) {
            $start = $script:Readme.IndexOf($After)
            $start | Should -BeGreaterOrEqual 0 -Because "the README has '$After'"
            $open = $script:Readme.IndexOf('```powershell', $start) + '```powershell'.Length
            $script:Readme.Substring($open, $script:Readme.IndexOf('```', $open) - $open)
        }
    }

    It 'runs the nightly runbook once and yields the items, the totals and the log' {
        $f = New-Fixture 'readme-nightly'
        $logs = Join-Path $f.Root 'log'
        $null = New-Item -ItemType Directory -Path $logs
        $code = (Get-ReadmeBlock 'A nightly runbook').Replace('/srv/data', $f.Src).Replace('/mnt/mirror/data', $f.Dst).Replace('/var/log', $logs)
        $shown = . ([scriptblock]::Create($code))
        $totals | Should -BeOfType ([PSReplica.SyncSummary])
        $totals.Created | Should -Be 3
        $totals.Deleted | Should -Be 3
        $syncErrors | Should -BeNullOrEmpty
        $csv = @(Import-Csv -LiteralPath (Get-ChildItem -LiteralPath $logs -Filter '*.csv').FullName)
        $csv.Count | Should -Be ($totals.Created + $totals.Updated + $totals.Deleted + $totals.MetadataUpdated)
        $csv[0].Action | Should -BeIn 'Create', 'Update', 'Delete', 'Metadata'
        @(Get-Content -LiteralPath (Get-ChildItem -LiteralPath $logs -Filter '*.log').FullName).Count | Should -Be ($csv.Count + 2)
        $shown | Should -Not -BeNullOrEmpty
        Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete | Should -BeNullOrEmpty
    }

    It 'runs the review-then-apply example' {
        $f = New-Fixture 'readme-review'
        Push-Location $f.Root
        try {
            $code = (Get-ReadmeBlock 'Review a plan, then apply exactly it').Replace('/srv/data', $f.Src).Replace('/mnt/mirror/data', $f.Dst)
            $applied = @(. ([scriptblock]::Create($code)))
            $applied.Count | Should -BeGreaterThan 4
            $stale | Should -BeNullOrEmpty
            Get-SyncPlan -Path $f.Src -Destination $f.Dst -Delete | Should -BeNullOrEmpty
        }
        finally {
            Pop-Location
        }
    }
}

Describe 'Output and binding' {
    It 'serialises enums as names and the duration as seconds' {
        $f = New-Fixture 'output'
        $item = Sync-Directory -Path $f.Src -Destination $f.Dst | Where-Object Action -EQ 'Create' | Select-Object -First 1
        $json = $item | ConvertTo-Json -Compress
        $json | Should -Match '"Action":"Create","ItemType":"(File|Directory)"'
        $json | Should -Match '"Reason":"New"'
        ($item | ConvertTo-Csv -NoTypeInformation)[1] | Should -Match '^"Create","(File|Directory)"'
        $summary = Sync-Directory -Path $f.Src -Destination $f.Dst -Summary
        $summary.Duration | Should -BeOfType ([double])
        ($summary | ConvertTo-Json -Compress) | Should -Match '"Duration":\d+(\.\d+)?[,}]'
    }

    It 'refuses a run without a destination with DestinationMissing' {
        $f = New-Fixture 'no-destination'
        { [pscustomobject]@{ Path = $f.Src } | Sync-Directory -ErrorAction Stop } | Should -Throw -ErrorId 'DestinationMissing,PSReplica.Commands.SyncDirectoryCommand'
        { Get-SyncPlan -Path $f.Src -ErrorAction Stop } | Should -Throw -ErrorId 'DestinationMissing,PSReplica.Commands.GetSyncPlanCommand'
    }

    It 'has Path as its default parameter set, so a missing -Path is asked for, not ambiguous' {
        (Get-Command Sync-Directory).DefaultParameterSet | Should -Be 'Path'
        (Get-Command Get-SyncPlan).DefaultParameterSet | Should -Be 'Path'
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddArgument($env:PSREPLICA_MODULE).AddStatement().AddCommand('Sync-Directory').AddParameter('Destination', '/tmp/x')
            $null = $ps.Invoke()
            $ps.Streams.Error.Count | Should -Be 1
            $ps.Streams.Error[0].FullyQualifiedErrorId | Should -Not -BeLike 'AmbiguousParameterSet*'
            $ps.Streams.Error[0].FullyQualifiedErrorId | Should -BeLike 'MissingMandatoryParameter*'
            $ps.Streams.Error[0].ToString() | Should -Match 'Path'
        }
        finally {
            $ps.Dispose()
        }
    }

    It 'never binds a SyncItem as a path' {
        $f = New-Fixture 'binding'
        $item = Get-SyncPlan -Path $f.Src -Destination $f.Dst | Select-Object -First 1
        # It binds to -Plan, whose items name their destination, so another destination is refused.
        { $item | Sync-Directory -Destination (Join-Path $f.Root 'elsewhere') -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidParameterCombination,PSReplica.Commands.SyncDirectoryCommand' -Because 'a SyncItem is not a source path'
        Test-Path -LiteralPath (Join-Path $f.Root 'elsewhere') | Should -BeFalse
    }
}
