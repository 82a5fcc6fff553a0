# Differential test over SSH: a push and a pull of random trees through the agent on the private sshd, beside Debian's
# `rsync -a --delete -e ssh` to and from the same server. As in Differential.Tests.ps1, each seed replicates a random
# tree into empty destinations, then onto the older replicas after the source was mutated and both destinations were
# given the same extraneous and locally changed items, then once more with nothing changed; the replicas are compared
# with each other item by item (owners, modes, nanosecond times, contents, link targets), PSReplica's with the source,
# and PSReplica's SyncItems with rsync's itemized paths. The server is this machine, so both sides' trees are read
# directly. PSREPLICA_REMOTEDIFF_SEEDS=3101,3102 runs only those seeds (to reproduce one quickly, or a campaign of new
# ones).
BeforeDiscovery {
    $seeds = if ($env:PSREPLICA_REMOTEDIFF_SEEDS) { @($env:PSREPLICA_REMOTEDIFF_SEEDS -split ',' | ForEach-Object { [int]$_ }) } else { @(3101, 3102, 3103) }
    $script:Scenarios = foreach ($seed in $seeds) { foreach ($direction in 'push', 'pull') { @{ Seed = $seed; Direction = $direction } } }
}

BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    Start-RemoteTestSession 'remotediff'
    Invoke-WarmUpPush

    function Invoke-Side {
        # One run of each tool in $Direction: rsync -a --delete -e ssh and Sync-Directory -Delete, source to destination.
        param([string] $Direction, [string] $Source, [string] $RsyncDest, [string] $PsrDest)
        $rsyncSource = if ($Direction -eq 'push') { $Source } else { "$($server.Alias):$Source" }
        $rsyncTarget = if ($Direction -eq 'push') { "$($server.Alias):$RsyncDest" } else { $RsyncDest }
        $rsync = Invoke-Rsync -Source $rsyncSource -Destination $rsyncTarget -RemoteShell $server.SshCommand
        $psrSource = if ($Direction -eq 'push') { $Source } else { Get-RemoteAddress $Source }
        $psrTarget = if ($Direction -eq 'push') { Get-RemoteAddress $PsrDest } else { $PsrDest }
        $items = @(Sync-Directory -Path $psrSource -Destination $psrTarget -Delete @ssh -ErrorVariable syncErrors -ErrorAction SilentlyContinue)
        [pscustomobject]@{ Rsync = $rsync; Items = $items; Errors = @($syncErrors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) }
    }

    function Invoke-RemoteScenario {
        param([int] $Seed, [string] $Direction)
        $root = Join-Path $work "$Direction-$Seed"
        $source = Join-Path $root 'src'
        $rsyncDest = Join-Path $root 'rsync dest'
        $psrDest = Join-Path $root 'psreplica dest'
        New-RandomTree -Rng ([System.Random]::new($Seed)) -Path $source
        $phases = [ordered]@{}
        foreach ($phase in 'initial', 'update', 'rerun') {
            if ($phase -eq 'update') {
                Update-RandomTree -Rng ([System.Random]::new($Seed + 1)) -Path $source
                Add-DestinationNoise -Rng ([System.Random]::new($Seed + 2)) -Path $rsyncDest
                Add-DestinationNoise -Rng ([System.Random]::new($Seed + 2)) -Path $psrDest
            }
            $psrBefore = if (Test-Path -LiteralPath $psrDest) { Get-TreeSnapshot $psrDest } else { $null }
            $run = Invoke-Side $Direction $source $rsyncDest $psrDest
            $phases[$phase] = [pscustomobject]@{
                Run      = $run
                Replicas = Compare-TreeSnapshot (Get-TreeSnapshot $rsyncDest) (Get-TreeSnapshot $psrDest) -ReferenceName rsync -DifferenceName PSReplica
                Source   = Compare-TreeSnapshot (Get-TreeSnapshot $source -IgnoreLinkCount) (Get-TreeSnapshot $psrDest -IgnoreLinkCount) -ReferenceName source -DifferenceName PSReplica
                Changes  = Compare-ChangeSet -Rsync $run.Rsync.Changes -Items $run.Items -DestinationBefore $psrBefore
            }
        }
        $phases
    }

    function Format-Because([string] $What, [string[]] $Lines) {
        "$What ($($Lines.Count) difference(s)):`n  " + (@($Lines | Select-Object -First 25) -join "`n  ") + "`n"
    }
}

AfterAll { Stop-RemoteTestSession $server $work }

Describe 'Sync-Directory over SSH replicates like rsync -a --delete -e ssh' {
    Context '<Direction> of seed <Seed>' -ForEach $Scenarios {
        BeforeAll {
            try { $script:Phases = Invoke-RemoteScenario -Seed $Seed -Direction $Direction }
            catch { throw "seed ${Seed} ($Direction): the scenario failed: $($_.Exception.Message)`n$($_.ScriptStackTrace)" }
        }

        It 'both tools succeed in every phase' {
            $problems = foreach ($phase in $script:Phases.Keys) {
                $run = $script:Phases[$phase].Run
                if ($run.Rsync.ExitCode -ne 0) { "${phase}: rsync exit code $($run.Rsync.ExitCode): $($run.Rsync.Error)" }
                foreach ($e in $run.Errors) { "${phase}: Sync-Directory error $e" }
            }
            @($problems).Count | Should -Be 0 -Because (Format-Because 'both tools should succeed' @($problems))
        }

        It 'the replicas are identical to each other and to the source after each phase' {
            $lines = foreach ($phase in $script:Phases.Keys) {
                # (An empty comparison is one empty array.)
                $script:Phases[$phase].Replicas | Where-Object { $_ } | ForEach-Object { "${phase}: $_" }
                $script:Phases[$phase].Source | Where-Object { $_ } | ForEach-Object { "${phase}: $_" }
            }
            @($lines).Count | Should -Be 0 -Because (Format-Because 'the replicas differ' @($lines))
        }

        It 'PSReplica changed what rsync changed, and a repeated run changes nothing' {
            $lines = foreach ($phase in $script:Phases.Keys) { $script:Phases[$phase].Changes.Paths | ForEach-Object { "${phase}: $_" } }
            $rerun = $script:Phases['rerun'].Run
            $lines = @($lines) + @($rerun.Items | ForEach-Object { "rerun: PSReplica: $($_.Itemize) $($_.RelativePath)" })
            @($lines).Count | Should -Be 0 -Because (Format-Because "rsync's itemized paths and PSReplica's SyncItems differ" @($lines))
            @($script:Phases['initial'].Run.Items).Count | Should -BeGreaterThan 10
        }

        It "itemizes a file sent with the letter rsync's client shows (less-than on a push, greater-than on a pull)" {
            $sent = 0
            $lines = foreach ($phase in $script:Phases.Keys) {
                $run = $script:Phases[$phase].Run
                $mine = @{}
                foreach ($item in $run.Items) { $mine[$item.RelativePath] = $item.Itemize }
                foreach ($change in $run.Rsync.Changes) {
                    if ($change.Itemize -cnotmatch '^[<>]' -or -not $mine.ContainsKey($change.Path)) { continue }
                    $sent++
                    if ($mine[$change.Path][0] -cne $change.Itemize[0]) { "${phase}: $($change.Path): rsync '$($change.Itemize)' PSReplica '$($mine[$change.Path])'" }
                }
            }
            $sent | Should -BeGreaterThan 0
            @($lines).Count | Should -Be 0 -Because (Format-Because 'the first letters differ' @($lines))
        }
    }
}
