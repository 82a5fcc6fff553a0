# Differential test: Sync-Directory -Delete against Debian's `rsync -a --delete` on random trees.
# Each seed builds a tree with awkward names (spaces, unicode, NFC/NFD, glob characters, leading dashes, control
# characters, 255-byte names), symlinks of every kind, hard links, set-id modes, owners and nanosecond times; both
# tools replicate it into empty destinations, then onto their older replicas after the source was mutated and the
# destinations were given extraneous and locally changed items, then once more with nothing changed. The replicas are
# compared with each other item by item, PSReplica's with the source, and PSReplica's SyncItems with rsync's
# --itemize-changes output. To reproduce a seed by hand:
#   Import-Module ./tests/Pester/Support/RandomTree.psm1
#   New-RandomTree -Rng ([Random]::new(<seed>)) -Path /tmp/src      # then Update-RandomTree with <seed> + 1, as below
# Each seed's size and time, and the itemize strings that differ from rsync's (information, not failures), go to the
# information stream: run Invoke-Pester with $InformationPreference = 'Continue' to see them.
BeforeDiscovery {
    $script:Scenarios = @(1..20 | ForEach-Object { @{ Seed = 1000 + $_; Exclude = @() } }) +
    @(1..3 | ForEach-Object { @{ Seed = 2000 + $_; Exclude = @('*.tmp', 'cache/') } })
    # PSREPLICA_DIFF_SEEDS=1005,2001 runs only those seeds (to reproduce one failure quickly).
    if ($env:PSREPLICA_DIFF_SEEDS) {
        $only = @($env:PSREPLICA_DIFF_SEEDS -split ',' | ForEach-Object { [int]$_ })
        $script:Scenarios = @($script:Scenarios | Where-Object { $_.Seed -in $only })
    }
}

BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Support/RandomTree.psm1') -Force
    $script:ItemizeNotes = [System.Collections.Generic.List[string]]::new()
    # Not $TestDrive: Pester's clean-up enumerates it recursively and follows the trees' links to '/', '..' and '.'
    # (it exhausted memory). rm -rf removes links without following them.
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-differential-$([guid]::NewGuid().ToString('n'))"

    function Invoke-PSReplica {
        param([string] $Source, [string] $Destination, [string[]] $Exclude)
        $options = @{ Path = $Source; Destination = $Destination; Delete = $true; ErrorVariable = 'syncErrors'; ErrorAction = 'SilentlyContinue'; WarningVariable = 'syncWarnings'; WarningAction = 'SilentlyContinue' }
        if ($Exclude) { $options.Exclude = $Exclude }
        $items = @(Sync-Directory @options)
        [pscustomobject]@{ Items = $items; Errors = @($syncErrors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }); Warnings = @($syncWarnings | ForEach-Object { "$_" }) }
    }

    function Test-Excluded {
        # rsync --exclude '*.tmp' --exclude 'cache/': any component named *.tmp, or a directory named cache.
        param([string] $Relative, $Snapshot)
        $parts = $Relative.Split('/')
        for ($i = 0; $i -lt $parts.Count; $i++) {
            if ($parts[$i].EndsWith('.tmp', [System.StringComparison]::Ordinal)) { return $true }
            if ($parts[$i] -ceq 'cache') {
                if ($i -lt $parts.Count - 1) { return $true }
                if ($Snapshot.ContainsKey($Relative) -and $Snapshot[$Relative].type -eq 'd') { return $true }
            }
        }
        $false
    }

    function Invoke-Scenario {
        <# Runs the three phases for one seed and returns everything the tests look at. #>
        param([int] $Seed, [string[]] $Exclude)
        $root = Join-Path $script:WorkRoot "seed-$Seed"
        $source = Join-Path $root 'src'
        $rsyncDest = Join-Path $root 'rsync dest'
        $psrDest = Join-Path $root 'psreplica dest'
        $bait = [bool]$Exclude
        $result = [ordered]@{ Seed = $Seed; Exclude = $Exclude; Phases = [ordered]@{} }

        New-RandomTree -Rng ([System.Random]::new($Seed)) -Path $source -ExcludeBait:$bait
        foreach ($phase in 'initial', 'update', 'rerun') {
            $before = $null
            if ($phase -eq 'update') {
                Update-RandomTree -Rng ([System.Random]::new($Seed + 1)) -Path $source -ExcludeBait:$bait
                Add-DestinationNoise -Rng ([System.Random]::new($Seed + 2)) -Path $rsyncDest -ExcludeBait:$bait
                Add-DestinationNoise -Rng ([System.Random]::new($Seed + 2)) -Path $psrDest -ExcludeBait:$bait
                $before = Compare-TreeSnapshot (Get-TreeSnapshot $rsyncDest) (Get-TreeSnapshot $psrDest) -ReferenceName rsync -DifferenceName PSReplica
            }
            $psrBefore = if (Test-Path -LiteralPath $psrDest) { Get-TreeSnapshot $psrDest } else { $null }
            $rsync = Invoke-Rsync -Source $source -Destination $rsyncDest -Exclude $Exclude
            $psr = Invoke-PSReplica -Source $source -Destination $psrDest -Exclude $Exclude
            $sourceSnapshot = Get-TreeSnapshot $source -IgnoreLinkCount
            $rsyncSnapshot = Get-TreeSnapshot $rsyncDest
            $psrSnapshot = Get-TreeSnapshot $psrDest
            # With filters the source comparison leaves out what is excluded on either side (protected in the replica).
            $ignoreSource = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::Ordinal)
            if ($Exclude) {
                foreach ($snapshot in $sourceSnapshot, $psrSnapshot) {
                    foreach ($key in $snapshot.Keys) { if (Test-Excluded $key $snapshot) { $null = $ignoreSource.Add($key) } }
                }
                # An extraneous directory that holds only protected items stays too.
                foreach ($key in @($ignoreSource)) {
                    for ($parent = [System.IO.Path]::GetDirectoryName($key); $parent; $parent = [System.IO.Path]::GetDirectoryName($parent)) {
                        if (-not $sourceSnapshot.ContainsKey($parent)) { $null = $ignoreSource.Add($parent) }
                    }
                }
            }
            $result.Phases[$phase] = [pscustomobject]@{
                Rsync            = $rsync
                PSReplica        = $psr
                DestinationsDiffered = $before
                Replicas         = Compare-TreeSnapshot $rsyncSnapshot $psrSnapshot -ReferenceName rsync -DifferenceName PSReplica
                Source           = Compare-TreeSnapshot $sourceSnapshot (Get-TreeSnapshot $psrDest -IgnoreLinkCount) -ReferenceName source -DifferenceName PSReplica -Ignore $ignoreSource
                Changes          = Compare-ChangeSet -Rsync $rsync.Changes -Items $psr.Items -DestinationBefore $psrBefore
                Items            = $psr.Items.Count
                Entries          = $sourceSnapshot.Count
            }
        }
        [pscustomobject]$result
    }

    function Format-Because {
        param([string] $What, [string[]] $Lines, [int] $First = 25)
        $shown = @($Lines | Select-Object -First $First)
        $more = if ($Lines.Count -gt $First) { "`n  ... and $($Lines.Count - $First) more" } else { '' }
        "$What ($($Lines.Count) difference(s)):`n  " + ($shown -join "`n  ") + $more + "`n"
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { $null = Invoke-Captured -FilePath rm -ArgumentList @('-rf', '--', $script:WorkRoot) }
    if ($script:ItemizeNotes.Count -gt 0) {
        Write-Information "Itemize strings that differ from rsync's (information, not failures):"
        $script:ItemizeNotes | Group-Object | Sort-Object Count -Descending | ForEach-Object { Write-Information ("  {0,4} x {1}" -f $_.Count, $_.Name) }
    }
}

Describe 'Sync-Directory -Delete replicates like rsync -a --delete' {
    Context 'seed <Seed> (exclude: <Exclude>)' -ForEach $Scenarios {
        BeforeAll {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            try { $script:Run = Invoke-Scenario -Seed $Seed -Exclude $Exclude }
            catch {
                # A plain message: Pester's rendering of an error record that holds a System.Random is enormous.
                throw "seed ${Seed}: the scenario failed: $($_.Exception.Message)`n$($_.ScriptStackTrace)"
            }
            foreach ($phase in $script:Run.Phases.Keys) {
                foreach ($line in $script:Run.Phases[$phase].Changes.Itemize) {
                    # Keep the pattern (itemize pair), not the path, so the summary groups alike cases.
                    $script:ItemizeNotes.Add(($line -replace '^.*: (rsync .*)$', '$1'))
                    Write-Information "seed $Seed ${phase}: itemize differs: $line"
                }
            }
            Write-Information ("seed {0}: {1} source entries, {2} items emitted, {3:N1}s" -f $Seed, $script:Run.Phases['update'].Entries, $script:Run.Phases['update'].Items, $clock.Elapsed.TotalSeconds)
        }

        AfterAll {
            $null = Invoke-Captured -FilePath rm -ArgumentList @('-rf', '--', (Join-Path $script:WorkRoot "seed-$Seed"))
        }

        It 'rsync succeeds and Sync-Directory writes no error (seed <Seed>)' {
            $problems = foreach ($phase in $script:Run.Phases.Keys) {
                $p = $script:Run.Phases[$phase]
                if ($p.Rsync.ExitCode -ne 0) { "${phase}: rsync exit code $($p.Rsync.ExitCode): $($p.Rsync.Error)" }
                foreach ($e in $p.PSReplica.Errors) { "${phase}: Sync-Directory error $e" }
            }
            @($problems).Count | Should -Be 0 -Because (Format-Because 'both tools should succeed' @($problems))
        }

        It 'into empty destinations: the two replicas are identical (seed <Seed>)' {
            $d = $script:Run.Phases['initial'].Replicas
            $d.Count | Should -Be 0 -Because (Format-Because 'rsync and PSReplica replicas differ' $d)
        }

        It 'into empty destinations: the PSReplica replica equals the source (seed <Seed>)' {
            $d = $script:Run.Phases['initial'].Source
            $d.Count | Should -Be 0 -Because (Format-Because 'source and PSReplica replica differ' $d)
        }

        It 'into empty destinations: PSReplica changed what rsync changed (seed <Seed>)' {
            $d = $script:Run.Phases['initial'].Changes.Paths
            $d.Count | Should -Be 0 -Because (Format-Because "rsync's itemized paths and PSReplica's SyncItems differ" $d)
        }

        It 'onto the older replica: the two replicas are identical (seed <Seed>)' {
            $p = $script:Run.Phases['update']
            $context = if ($p.DestinationsDiffered.Count) { " (the destinations already differed before this run: $($p.DestinationsDiffered.Count) difference(s))" } else { '' }
            $p.Replicas.Count | Should -Be 0 -Because (Format-Because "rsync and PSReplica replicas differ$context" $p.Replicas)
        }

        It 'onto the older replica: the PSReplica replica equals the source (seed <Seed>)' {
            $d = $script:Run.Phases['update'].Source
            $d.Count | Should -Be 0 -Because (Format-Because 'source and PSReplica replica differ' $d)
        }

        It 'onto the older replica: PSReplica changed what rsync changed (seed <Seed>)' {
            $d = $script:Run.Phases['update'].Changes.Paths
            $d.Count | Should -Be 0 -Because (Format-Because "rsync's itemized paths and PSReplica's SyncItems differ" $d)
        }

        It 'a repeated run changes nothing in either tool (seed <Seed>)' {
            $p = $script:Run.Phases['rerun']
            $lines = @($p.Rsync.Changes | ForEach-Object { "rsync: $($_.Itemize) $(Format-TreePath $_.Path)" }) +
            @($p.PSReplica.Items | ForEach-Object { "PSReplica: $($_.Itemize) $(Format-TreePath $_.RelativePath)" }) + @($p.Replicas)
            $lines.Count | Should -Be 0 -Because (Format-Because 'the second run over an unchanged source did something' $lines)
        }
    }

    Context 'times that differ only below the second' {
        It 'a same-size file whose time moved by nanoseconds is treated as rsync -a treats it (default --modify-window=0: whole seconds)' {
            $root = Join-Path $script:WorkRoot 'subsecond'
            $source = Join-Path $root 'src'
            $null = New-Item -ItemType Directory -Path $source -Force
            [System.IO.File]::WriteAllText((Join-Path $source 'f'), 'same size')
            $null = Invoke-Captured -FilePath touch -ArgumentList @('-d', '@1000000000.123456789', '--', (Join-Path $source 'f'))
            $rsyncDest = Join-Path $root 'rsync'
            $psrDest = Join-Path $root 'psreplica'
            $null = Invoke-Rsync -Source $source -Destination $rsyncDest
            $null = Invoke-PSReplica -Source $source -Destination $psrDest
            $null = Invoke-Captured -FilePath touch -ArgumentList @('-d', '@1000000000.987654321', '--', (Join-Path $source 'f'))

            $rsync = Invoke-Rsync -Source $source -Destination $rsyncDest
            $psr = Invoke-PSReplica -Source $source -Destination $psrDest

            # The root is left out: rsync does not set a time that is already equal by its whole-second rule, so a
            # directory it created in the same second as the source's time keeps its creation nanoseconds, where
            # PSReplica copies the time exactly.
            $lines = [System.Collections.Generic.List[string]]::new()
            $lines.AddRange([string[]]@(Compare-TreeSnapshot (Get-TreeSnapshot $rsyncDest) (Get-TreeSnapshot $psrDest) -ReferenceName rsync -DifferenceName PSReplica | Where-Object { $_ -notlike '.:*' }))
            $lines.AddRange([string[]](Compare-ChangeSet -Rsync $rsync.Changes -Items $psr.Items).Paths)
            @($psr.Items).Count | Should -Be 0
            (& stat -c '%y' -- (Join-Path $psrDest 'f')) | Should -BeLike '*:40.123456789 *'
            (& stat -c '%y' -- (Join-Path $rsyncDest 'f')) | Should -BeLike '*:40.123456789 *' 
            $lines.Count | Should -Be 0 -Because (Format-Because 'rsync -a compares whole seconds by default; the tools disagree' $lines)
        }
    }

    Context 'a set-id file given a new owner' {
        It 'both tools make it the source''s; rsync prints no line for it, PSReplica reports the change (the harness knows)' {
            $root = Join-Path $script:WorkRoot 'set-id'
            $source = Join-Path $root 'src'
            $null = New-Item -ItemType Directory -Path $source -Force
            $file = Join-Path $source 'tool'
            [System.IO.File]::WriteAllText($file, '#!/bin/sh')
            $null = Invoke-Captured -FilePath chmod -ArgumentList @('0755', '--', $file)
            $rsyncDest = Join-Path $root 'rsync'
            $psrDest = Join-Path $root 'psreplica'
            $null = Invoke-Rsync -Source $source -Destination $rsyncDest
            $null = Invoke-PSReplica -Source $source -Destination $psrDest
            foreach ($copy in (Join-Path $rsyncDest 'tool'), (Join-Path $psrDest 'tool')) {
                # A replica whose copy was made set-group-ID and given to someone else.
                $null = Invoke-Captured -FilePath chown -ArgumentList @('1000:1000', '--', $copy)
                $null = Invoke-Captured -FilePath chmod -ArgumentList @('2755', '--', $copy)
            }
            $psrBefore = Get-TreeSnapshot $psrDest

            $rsync = Invoke-Rsync -Source $source -Destination $rsyncDest
            $psr = Invoke-PSReplica -Source $source -Destination $psrDest

            # rsync stats the file again after chown (which cleared the set-group-ID bit) and itemizes what it then sees.
            @($rsync.Changes | Where-Object Path -EQ 'tool') | Should -BeNullOrEmpty
            @($psr.Items | ForEach-Object { "$($_.Itemize) $($_.RelativePath)" }) | Should -Be @('.f...pog... tool')
            foreach ($copy in (Join-Path $rsyncDest 'tool'), (Join-Path $psrDest 'tool')) { (& stat -c '%a %u:%g' -- $copy) | Should -Be '755 0:0' }
            $changes = Compare-ChangeSet -Rsync $rsync.Changes -Items $psr.Items -DestinationBefore $psrBefore
            $changes.Paths | Should -BeNullOrEmpty
            $changes.Itemize | Should -HaveCount 1
            (Compare-ChangeSet -Rsync $rsync.Changes -Items $psr.Items).Paths | Should -Be @('PSReplica only: tool [.f...pog...]')
        }
    }
}
