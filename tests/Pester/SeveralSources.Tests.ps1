# Several -Path values and a file as the source, against Debian's rsync: `Sync-Directory -Path A, B, FILE, LINK
# -Destination D -Delete` against `rsync -a --delete A/ B/ FILE LINK D/` on random trees (into empty destinations, onto
# older replicas with noise, and once more with nothing changed), a file alone against `rsync -a FILE D/`, the errors
# (SourceNameClash and the refused combinations) with nothing touched, and a push of several sources over SSH.
# rsync keeps the first of two items of one path where Sync-Directory stops with SourceNameClash unless both are
# directories, so the random trees are made clash-free first (Remove-Clash); the clash itself is tested on its own.
BeforeDiscovery {
    $script:Seeds = @(3101, 3102, 3103, 3104)
}

BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Support/RandomTree.psm1') -Force
    . (Join-Path $PSScriptRoot 'Support/CmdletTestSupport.ps1')
    # Not $TestDrive: Pester's clean-up follows the random trees' links to directories; rm -rf does not.
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-sources-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $script:WorkRoot

    function Remove-Clash {
        <# Removes from each later tree (and the named items) what an earlier one holds at the same path, unless both
           are directories: the trees then merge without a clash. #>
        param([string[]] $Trees, [string[]] $Names = @())
        $held = [System.Collections.Generic.Dictionary[string, string]]::new([System.StringComparer]::Ordinal)
        foreach ($tree in $Trees) {
            $snapshot = Get-TreeSnapshot $tree
            $removed = [System.Collections.Generic.List[string]]::new()
            foreach ($key in $snapshot.Keys) {
                if ($key -eq '.' -or @($removed | Where-Object { $key.StartsWith("$_/", [System.StringComparison]::Ordinal) }).Count) { continue }
                $type = $snapshot[$key].type
                if ($held.ContainsKey($key) -or $key -in $Names) {
                    if ($held.ContainsKey($key) -and $held[$key] -eq 'd' -and $type -eq 'd') { continue }
                    $null = Invoke-Captured -FilePath rm -ArgumentList @('-rf', '--', [System.IO.Path]::Join($tree, $key))
                    $removed.Add($key)
                    continue
                }
                $held[$key] = $type
            }
        }
    }

    function Invoke-PSReplica {
        param([string[]] $Path, [string] $Destination, [switch] $Delete)
        $items = @(Sync-Directory -LiteralPath $Path -Destination $Destination -Delete:$Delete -ErrorVariable syncErrors -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        [pscustomobject]@{ Items = $items; Errors = @($syncErrors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) }
    }

    function Compare-Replica([string] $Rsync, [string] $PSReplica, [switch] $IgnoreRootTime) {
        $lines = Compare-TreeSnapshot (Get-TreeSnapshot $Rsync) (Get-TreeSnapshot $PSReplica) -ReferenceName rsync -DifferenceName PSReplica
        # A destination root that no source directory describes keeps the time its creation or new entries gave it.
        if ($IgnoreRootTime) { $lines = @($lines | Where-Object { $_ -notlike '.: mtime *' }) }
        , @($lines)
    }

    function Format-Because([string] $What, [string[]] $Lines) {
        "${What}:`n  " + (@($Lines | Select-Object -First 25) -join "`n  ")
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { $null = Invoke-Captured -FilePath rm -ArgumentList @('-rf', '--', $script:WorkRoot) }
}

Describe 'Sync-Directory -Path A, B, FILE, LINK merges like rsync -a --delete A/ B/ FILE LINK D/' {
    Context 'seed <_>' -ForEach $Seeds {
        BeforeAll {
            $seed = $_
            $root = Join-Path $script:WorkRoot "seed-$seed"
            $a = Join-Path $root 'a'
            $b = Join-Path $root 'b'
            $file = Join-Path $root 'named file'
            $link = Join-Path $root 'named link'
            $rsyncDest = Join-Path $root 'rsync dest'
            $psrDest = Join-Path $root 'psreplica dest'
            New-RandomTree -Rng ([System.Random]::new($seed)) -Path $a
            New-RandomTree -Rng ([System.Random]::new($seed + 50)) -Path $b
            [System.IO.File]::WriteAllText($file, "named file of seed $seed")
            $null = [System.IO.File]::CreateSymbolicLink($link, 'named file')
            # Times of another second than the run's: rsync leaves a time that already equals the source's in whole
            # seconds as it is, nanoseconds and all (see Differential.Tests.ps1).
            Set-MTime $file '2024-01-02 03:04:05.123456789'
            Set-MTime $link '2024-01-02 03:04:06.987654321'
            $names = @('named file', 'named link')
            $script:Phases = [ordered]@{}
            foreach ($phase in 'initial', 'update', 'rerun') {
                if ($phase -eq 'update') {
                    Update-RandomTree -Rng ([System.Random]::new($seed + 1)) -Path $a
                    Update-RandomTree -Rng ([System.Random]::new($seed + 2)) -Path $b
                    [System.IO.File]::AppendAllText($file, ', changed')
                    Set-MTime $file '2024-02-03 04:05:06.5'
                    Add-DestinationNoise -Rng ([System.Random]::new($seed + 3)) -Path $rsyncDest
                    Add-DestinationNoise -Rng ([System.Random]::new($seed + 3)) -Path $psrDest
                }
                Remove-Clash -Trees $a, $b -Names $names
                $psrBefore = if (Test-Path -LiteralPath $psrDest) { Get-TreeSnapshot $psrDest } else { $null }
                $rsync = Invoke-Rsync -Source $a, $b -Item $file, $link -Destination $rsyncDest
                $psr = Invoke-PSReplica -Path $a, $b, $file, $link -Destination $psrDest -Delete
                $script:Phases[$phase] = [pscustomobject]@{
                    Rsync     = $rsync
                    PSReplica = $psr
                    Replicas  = Compare-Replica $rsyncDest $psrDest
                    Changes   = Compare-ChangeSet -Rsync $rsync.Changes -Items $psr.Items -DestinationBefore $psrBefore
                }
            }
        }

        It 'rsync succeeds and Sync-Directory writes no error' {
            $problems = foreach ($phase in $script:Phases.Keys) {
                $p = $script:Phases[$phase]
                if ($p.Rsync.ExitCode -ne 0) { "${phase}: rsync exit code $($p.Rsync.ExitCode): $($p.Rsync.Error)" }
                foreach ($e in $p.PSReplica.Errors) { "${phase}: $e" }
            }
            @($problems).Count | Should -Be 0 -Because (Format-Because 'both tools should succeed' @($problems))
        }

        It 'into an empty destination and onto an older replica: the replicas are identical and the same paths changed (<phase>)' -ForEach @(
            @{ Phase = 'initial' }, @{ Phase = 'update' }
        ) {
            $p = $script:Phases[$Phase]
            $p.Replicas.Count | Should -Be 0 -Because (Format-Because 'rsync and PSReplica replicas differ' $p.Replicas)
            # rsync 3.5 gives a set-user-ID file of another owner and mode (4755 0:0 to 755 1000:1000, as the noise
            # makes one) its owner and mode without itemizing it; the replicas above agree on the result.
            $paths = @($p.Changes.Paths | Where-Object { $_ -notmatch '^PSReplica only: .* \[\.f\.\.\.po' })
            $paths.Count | Should -Be 0 -Because (Format-Because "rsync's itemized paths and PSReplica's SyncItems differ" $paths)
            $p.PSReplica.Items.Count | Should -BeGreaterThan 0
        }

        It 'a repeated run changes nothing in either tool' {
            $p = $script:Phases['rerun']
            $lines = @($p.Rsync.Changes | ForEach-Object { "rsync: $($_.Itemize) $(Format-TreePath $_.Path)" }) +
            @($p.PSReplica.Items | ForEach-Object { "PSReplica: $($_.Itemize) $(Format-TreePath $_.RelativePath)" }) + @($p.Replicas)
            $lines.Count | Should -Be 0 -Because (Format-Because 'the run over unchanged sources did something' $lines)
        }
    }
}

Describe 'Sync-Directory with a file as the only source' {
    BeforeAll {
        $script:root = Join-Path $script:WorkRoot 'file'
        $null = New-Item -ItemType Directory -Path $root
        $script:file = Join-Path $root 'report.txt'
        [System.IO.File]::WriteAllText($file, 'the report')
        Set-MTime $file '2024-05-06 07:08:09.123456789'
    }

    It 'creates a missing destination directory holding the file, as rsync -a FILE D/ does' {
        $rsyncDest = Join-Path $root 'rsync new'
        $psrDest = Join-Path $root 'psreplica new'
        $rsync = Invoke-Rsync -Item $file -Destination $rsyncDest
        $psr = Invoke-PSReplica -Path $file -Destination $psrDest -Delete
        $rsync.ExitCode | Should -Be 0
        $psr.Errors | Should -BeNullOrEmpty
        $lines = Compare-Replica $rsyncDest $psrDest -IgnoreRootTime
        $lines.Count | Should -Be 0 -Because (Format-Because 'rsync and PSReplica differ' $lines)
        ($psr.Items | Where-Object RelativePath -EQ 'report.txt').SourcePath | Should -Be $file
    }

    It 'adds the file to an existing destination and, even with -Delete, leaves everything else there alone' {
        $rsyncDest = Join-Path $root 'rsync existing'
        $psrDest = Join-Path $root 'psreplica existing'
        $null = New-TestTree -Root $rsyncDest -Files @{ 'other.txt' = 'stays'; 'sub/deep.txt' = 'stays too' }
        & chmod 700 -- $rsyncDest
        & cp -a -- $rsyncDest $psrDest
        $rsync = Invoke-Rsync -Item $file -Destination $rsyncDest
        $psr = Invoke-PSReplica -Path $file -Destination $psrDest -Delete
        $rsync.ExitCode | Should -Be 0
        $psr.Errors | Should -BeNullOrEmpty
        @($psr.Items | ForEach-Object { "$($_.Itemize) $($_.RelativePath)" }) | Should -Be @('>f+++++++++ report.txt')
        $lines = Compare-Replica $rsyncDest $psrDest -IgnoreRootTime
        $lines.Count | Should -Be 0 -Because (Format-Because 'rsync and PSReplica differ' $lines)
        (& stat -c '%a' -- $psrDest) | Should -Be '700'
        Get-SyncPlan -Path $file -Destination $psrDest -Delete | Should -BeNullOrEmpty
    }
}

Describe 'Several sources at the command line' {
    BeforeAll {
        $script:n = 0
        function New-Case {
            $script:n++
            $case = Join-Path $script:WorkRoot "case-$script:n"
            [pscustomobject]@{
                Root = $case
                A    = New-TestTree -Root (Join-Path $case 'src-a') -Files @{ 'a.txt' = 'a'; 'shared/one.txt' = '1' }
                B    = New-TestTree -Root (Join-Path $case 'src-b') -Files @{ 'b.txt' = 'b'; 'shared/two.txt' = '2' }
                Dst  = Join-Path $case 'dst'
            }
        }
    }

    It 'takes a wildcard that matches several directories as several sources' {
        $c = New-Case
        $items = @(Sync-Directory -Path (Join-Path $c.Root 'src-*') -Destination $c.Dst -ErrorAction Stop)
        @(Get-ChildItem -LiteralPath $c.Dst -Recurse -File -Name | Sort-Object) | Should -Be @('a.txt', 'b.txt', 'shared/one.txt', 'shared/two.txt')
        ($items | Where-Object RelativePath -EQ 'shared/two.txt').SourcePath | Should -Be (Join-Path $c.B 'shared/two.txt')
    }

    It 'Get-SyncPlan shows the merged plan, each item with its path under its own source, and changes nothing' {
        $c = New-Case
        $plan = @(Get-SyncPlan -LiteralPath $c.A, $c.B -Destination $c.Dst -ErrorAction Stop)
        @($plan | ForEach-Object { "$($_.Itemize) $($_.RelativePath) $($_.SourcePath)" }) | Should -Be @(
            "cd+++++++++ . $($c.A)"
            ">f+++++++++ a.txt $(Join-Path $c.A 'a.txt')"
            ">f+++++++++ b.txt $(Join-Path $c.B 'b.txt')"
            "cd+++++++++ shared $(Join-Path $c.A 'shared')"
            ">f+++++++++ shared/one.txt $(Join-Path $c.A 'shared/one.txt')"
            ">f+++++++++ shared/two.txt $(Join-Path $c.B 'shared/two.txt')"
        )
        Test-Path -LiteralPath $c.Dst | Should -BeFalse
    }

    It 'stops with SourceNameClash before anything is touched when <Case>, naming the path and both sources' -ForEach @(
        @{ Case = 'two sources hold the same file'; Clash = 'shared/one.txt'; Kinds = 'a file', 'a file' }
        @{ Case = 'one holds a file where the other holds a directory'; Clash = 'shared'; Kinds = 'a directory', 'a file' }
        @{ Case = 'a named file has the name of a file in a directory source'; Clash = 'a.txt'; Kinds = 'a file', 'a file' }
    ) {
        $c = New-Case
        $second = $c.B
        switch ($Case) {
            'two sources hold the same file' { [System.IO.File]::WriteAllText((Join-Path $c.B 'shared/one.txt'), 'another one') }
            'one holds a file where the other holds a directory' {
                $second = New-TestTree -Root (Join-Path $c.Root 'src-c') -Files @{ 'shared' = 'a file here' }
            }
            'a named file has the name of a file in a directory source' {
                $second = Join-Path $c.Root 'a.txt'
                [System.IO.File]::WriteAllText($second, 'named')
            }
        }
        $null = New-TestTree -Root $c.Dst -Files @{ 'extra.txt' = 'would go with -Delete' }
        $before = Get-TreeHash $c.Root
        $out = $null
        $err = $null
        try { $out = Sync-Directory -LiteralPath $c.A, $second -Destination $c.Dst -Delete -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'SourceNameClash,*'
        $err.Exception.Message | Should -BeLike "*'$Clash' is $($Kinds[0])*'$($c.A)' and $($Kinds[1])*'$second'*"
        $out | Should -BeNullOrEmpty
        Get-TreeHash $c.Root | Should -Be $before
    }

    It 'merges directories of one name, and an excluded clash is no clash' {
        $c = New-Case
        [System.IO.File]::WriteAllText((Join-Path $c.B 'shared/one.txt'), 'another one')
        $null = Sync-Directory -LiteralPath $c.A, $c.B -Destination $c.Dst -Exclude 'one.txt' -ErrorAction Stop
        @(Get-ChildItem -LiteralPath $c.Dst -Recurse -File -Name | Sort-Object) | Should -Be @('a.txt', 'b.txt', 'shared/two.txt')
    }

    It 'refuses <Case> with <Id> before anything is touched' -ForEach @(
        @{ Case = 'a remote source among local ones'; Id = 'InvalidParameterCombination' }
        @{ Case = 'two remote sources'; Id = 'InvalidParameterCombination' }
        @{ Case = 'a second source inside the destination'; Id = 'SourceInsideDestination' }
        @{ Case = 'a destination inside the second source'; Id = 'DestinationInsideSource' }
        @{ Case = 'a named file inside the destination'; Id = 'SourceInsideDestination' }
    ) {
        $c = New-Case
        $null = New-TestTree -Root $c.Dst -Files @{ 'inner/x.txt' = 'x' }
        $splat = switch ($Case) {
            'a remote source among local ones' { @{ Path = @($c.A, 'someone@host.invalid:/data'); Destination = $c.Dst } }
            'two remote sources' { @{ Path = @('someone@host.invalid:/a', 'someone@host.invalid:/b'); Destination = $c.Dst } }
            'a second source inside the destination' { @{ LiteralPath = @($c.A, (Join-Path $c.Dst 'inner')); Destination = $c.Dst } }
            'a destination inside the second source' { @{ LiteralPath = @($c.A, $c.B); Destination = (Join-Path $c.B 'backup') } }
            'a named file inside the destination' { @{ LiteralPath = @($c.A, (Join-Path $c.Dst 'inner/x.txt')); Destination = $c.Dst } }
        }
        $before = Get-TreeHash $c.Root
        $err = $null
        try { $null = Sync-Directory @splat -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        Get-TreeHash $c.Root | Should -Be $before
    }
}

Describe 'Several sources pushed over SSH' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
        Start-RemoteTestSession 'sources'
        $script:a = Join-Path $work 'a'
        $script:b = Join-Path $work 'b'
        $script:file = Join-Path $work 'named file'
        New-RandomTree -Rng ([System.Random]::new(3201)) -Path $a
        New-RandomTree -Rng ([System.Random]::new(3202)) -Path $b
        [System.IO.File]::WriteAllText($file, 'pushed by name')
        Remove-Clash -Trees $a, $b -Names 'named file'
        $script:reference = Join-Path $work 'rsync dest'
        $rsync = Invoke-Rsync -Source $a, $b -Item $file -Destination $reference
        if ($rsync.ExitCode -ne 0) { throw "rsync failed: $($rsync.Error)" }
    }

    AfterAll { Stop-RemoteTestSession $server $work }

    It 'pushes A, B and a file over <Transport> into a replica equal to rsync''s, which a second run leaves alone' -ForEach @(
        @{ Transport = 'Agent' }, @{ Transport = 'Sftp' }
    ) {
        $dst = Join-Path $work "pushed-$Transport"
        $items = @(Sync-Directory -LiteralPath $a, $b, $file -Destination (Get-RemoteAddress $dst) -Delete -Transport $Transport @ssh -ErrorAction Stop -WarningAction SilentlyContinue)
        $items.Count | Should -BeGreaterThan 10
        # SFTP carries whole seconds, and cannot set a link's own time or owner.
        $sftp = $Transport -eq 'Sftp'
        $lines = Compare-TreeSnapshot (Get-ComparableSnapshot $reference -IgnoreLinkAttributes:$sftp) (Get-ComparableSnapshot $dst -IgnoreLinkAttributes:$sftp) -ReferenceName rsync -DifferenceName PSReplica
        $lines = @($lines | Where-Object { -not $sftp -or $_ -notlike '*: mtime *' })
        $lines.Count | Should -Be 0 -Because (Format-Because 'rsync and the pushed replica differ' $lines)
        Sync-Directory -LiteralPath $a, $b, $file -Destination (Get-RemoteAddress $dst) -Delete -Transport $Transport @ssh -ErrorAction Stop -WarningAction SilentlyContinue |
            Should -BeNullOrEmpty
    }

    It 'refuses to pull a remote file with SourceNotDirectory' {
        $err = $null
        try { $null = Sync-Directory -Path (Get-RemoteAddress $file) -Destination (Join-Path $work 'pulled') @ssh -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'SourceNotDirectory,*'
        Test-Path -LiteralPath (Join-Path $work 'pulled') | Should -BeFalse
    }
}
