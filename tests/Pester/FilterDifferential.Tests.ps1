# Differential test of the filter-rule language (issue #4) against Debian's rsync. For each seed, RandomRules.psm1
# builds a small source tree, a destination that shares some names and has extraneous ones, and a random rule set in
# rsync's syntax (include/exclude, anchored and floating, '*', '**', '?', classes, '***', dir-only, inner '/', the '!'
# and '/' modifiers, protect/risk, hide/show, dir-merge files in random directories, 'merge FILE'). rsync and
# Get-SyncPlan are given the same rules and must select the same paths.
#
# How the two are compared (rsync prints a name for each item it would send, directories with a trailing '/', and
# 'deleting NAME' for each deletion; -r without -t and -n: nothing is changed):
#   transfer  rsync -rl -n --out-format=%n [opts] --filter=RULE... SRC/ FRESH/   (FRESH does not exist)
#             Get-SyncPlan -Path SRC -Destination FRESH -FilterRule RULE... [opts]
#             Into a destination that does not exist, rsync lists everything it would send or create, directories
#             and the root ('./') included, and PSReplica emits Create for exactly those: compared strictly, with
#             the type (directory or not).
#   delete    the same into DST, which holds some of the source's directories, some of its files (older, so both
#             tools send them again) and extraneous items, with --delete / -Delete. The deletion sets are compared
#             strictly; of the transfers, files and symbolic links strictly, directories as those created (rsync
#             prints an existing directory only when it would change its attributes, and -r changes none; PSReplica's
#             Metadata items for directories are therefore left out).
#   real run  every fifth seed: rsync -rl [--delete ...] (no -n) and Sync-Directory, each on its own copy of DST; the
#             trees they leave must hold the same paths with the same types.
# -l is added to the issue's 'rsync -r': without it rsync skips symbolic links, and PSReplica always replicates them.
# Options: -DeleteExcluded is --delete-excluded; -UseFilterFiles is rsync's -F, given after the --filter rules
# (the cmdlets' documented rule order: -Include, -Exclude, -Filter, -FilterRule, -UseFilterFiles).
# rsync reads the receiver's own per-directory merge files when it deletes (man rsync, PER-DIRECTORY RULES AND
# DELETE); the ReceiverMerge cases give the destination merge files of its own to check that PSReplica does too.
# A dry run prints 'deleting DIR/' also for a directory inside an extraneous one that the real run keeps because it
# holds protected items (it prints 'cannot delete non-empty directory: DIR' as well); those directories are not
# counted as deleted.
# rsync matches the bytes of UTF-8 names, so '?' or a class matches one byte of a multi-byte character, not the
# character; it runs with LC_ALL=C.UTF-8 (classes such as [[:alpha:]] look at single bytes). The '-C' rule adds
# rsync's CVS defaults and $HOME/.cvsignore, read by both tools from the same environment.
#
# To reproduce one case: PSREPLICA_FILTERDIFF_SEEDS=1017,2003 (and the test prints everything about a failing seed);
# by hand:
#   Import-Module ./tests/Pester/Support/RandomRules.psm1
#   $case = New-FilterCase -Seed 1017 -Kind DirMerge; Format-FilterCase $case; $paths = Write-FilterCase $case /tmp/c
#   Invoke-RsyncSelection -Source $paths.Source -Destination $paths.Destination -Rule (Resolve-FilterCaseRule $case $paths) -Delete
# PSREPLICA_FILTERDIFF_VIA=IncludeExclude checks the harness against a build without -FilterRule: every case is then of
# kind Plain ('+'/'-' rules only, includes first) and goes through -Include/-Exclude.
BeforeDiscovery {
    $script:Via = if ($env:PSREPLICA_FILTERDIFF_VIA -eq 'IncludeExclude') { 'IncludeExclude' } else { 'FilterRule' }
    $groups = @(
        @{ Kind = 'Rules'; First = 1001; Count = 100 }
        @{ Kind = 'DirMerge'; First = 2001; Count = 80 }
        @{ Kind = 'ReceiverMerge'; First = 3001; Count = 40 }
        @{ Kind = 'DeleteExcluded'; First = 4001; Count = 40 }
        @{ Kind = 'FilterFiles'; First = 5001; Count = 40 }
    )
    # Over SSH in every run: the first seeds of each kind, pushed and pulled through the agent (see BeforeAll).
    $script:RemoteBatches = if ($env:PSREPLICA_FILTERDIFF_REMOTE -or $env:PSREPLICA_FILTERDIFF_SEEDS -or $script:Via -eq 'IncludeExclude') { @() } else {
        foreach ($g in $groups) { foreach ($direction in 'push', 'pull') { @{ Kind = $g.Kind; Seeds = @($g.First..($g.First + 5)); Remote = $direction } } }
    }
    $only = if ($env:PSREPLICA_FILTERDIFF_SEEDS) { @($env:PSREPLICA_FILTERDIFF_SEEDS -split ',' | ForEach-Object { [int]$_ }) } else { $null }
    $batchSize = 10
    $script:Batches = foreach ($g in $groups) {
        $seeds = @($g.First..($g.First + $g.Count - 1))
        if ($only) { $seeds = @($seeds | Where-Object { $_ -in $only }) }
        for ($i = 0; $i -lt $seeds.Count; $i += $batchSize) {
            $chunk = @($seeds[$i..([Math]::Min($i + $batchSize, $seeds.Count) - 1)])
            @{ Kind = $(if ($script:Via -eq 'IncludeExclude') { 'Plain' } else { $g.Kind }); GroupKind = $g.Kind; Seeds = $chunk; Name = "$($chunk[0])..$($chunk[-1])"; Via = $script:Via }
        }
    }
}

BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Support/RandomTree.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Support/RandomRules.psm1') -Force
    # Not $TestDrive: the trees hold symbolic links (to '.', '/etc/hostname'), which Pester's clean-up would follow.
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-filterdiff-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $script:WorkRoot
    # Over SSH, PSReplica's side runs through the agent on the private sshd (the filter applied by the agent's listing
    # on a pull, the destination's protect rules read from the agent's listing on a push); rsync's side stays local, its
    # selection being the reference. The server is this machine. PSREPLICA_FILTERDIFF_REMOTE=push (or pull) runs every
    # batch so (a campaign); otherwise the remote batches below run a few seeds of each kind.
    $script:Remote = $env:PSREPLICA_FILTERDIFF_REMOTE
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    Start-RemoteTestSession 'filterdiff'
    $script:Stats = @{ Cases = 0; Narrowed = 0; Deleting = 0; Protected = 0 }

    function ConvertTo-PathSet {
        <# SyncItems as relative path -> 'd' (directory) or 'f' (anything else), as Invoke-RsyncSelection gives. #>
        param([object[]] $Items)
        $set = [System.Collections.Generic.SortedDictionary[string, string]]::new([System.StringComparer]::Ordinal)
        foreach ($i in $Items) { $set[[PSReplica.SyncNames]::Parse($i.RelativePath)] = if ("$($i.ItemType)" -eq 'Directory') { 'd' } else { 'f' } }
        $set
    }

    function Invoke-PlanSelection {
        <# Get-SyncPlan with the case's rules and options; the created/updated and the deleted items as path sets. #>
        param($Case, [string] $Source, [string] $Destination, [string[]] $Rule, [string] $Via, [string] $Command = 'Get-SyncPlan', [string] $Remote)
        $options = @{ Path = $Source; Destination = $Destination; Delete = $true; ErrorVariable = 'planErrors'; ErrorAction = 'SilentlyContinue'; WarningAction = 'SilentlyContinue' }
        if ($Rule.Count -eq 0 -and -not $Case.DeleteExcluded -and -not $Case.UseFilterFiles) { }   # no filter at all
        elseif ($Via -eq 'IncludeExclude') {
            $options.Include = @($Rule | Where-Object { $_.StartsWith('+ ') } | ForEach-Object { $_.Substring(2) })
            $options.Exclude = @($Rule | Where-Object { $_.StartsWith('- ') } | ForEach-Object { $_.Substring(2) })
        }
        else {
            $options.FilterRule = $Rule
            if ($Case.DeleteExcluded) { $options.DeleteExcluded = $true }
            if ($Case.UseFilterFiles) { $options.UseFilterFiles = $true }
        }
        if ($Remote -eq 'push') { $options.Destination = Get-RemoteAddress $Destination; $options += $ssh }
        elseif ($Remote -eq 'pull') { $options.Path = Get-RemoteAddress $Source; $options += $ssh }
        $failure = $null
        $items = @()
        try { $items = @(& $Command @options) }
        catch { $failure = "$Command failed: $($_.FullyQualifiedErrorId): $($_.Exception.Message)" }
        [pscustomobject]@{
            Transfer = ConvertTo-PathSet @($items | Where-Object { "$($_.Action)" -in 'Create', 'Update', 'Link' })
            Created  = ConvertTo-PathSet @($items | Where-Object { "$($_.Action)" -in 'Create', 'Update', 'Link' -and ("$($_.ItemType)" -ne 'Directory' -or "$($_.Action)" -eq 'Create') })
            Delete   = ConvertTo-PathSet @($items | Where-Object { "$($_.Action)" -eq 'Delete' })
            Errors   = @(@($planErrors | Where-Object { $_ } | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) + @($failure | Where-Object { $_ }))
        }
    }

    function Invoke-FilterCase {
        <# Runs one seed: both tools into a fresh and into the populated destination, and rsync once more with the
           rules in a merge file. Returns the differences as lines (empty when the tools agree). #>
        param([int] $Seed, [string] $Kind, [string] $Via, [string] $BatchRoot, [switch] $NoRules, [switch] $RealRun, [string] $Remote = $script:Remote)
        $case = New-FilterCase -Seed $Seed -Kind $Kind
        if ($NoRules) { $case.Rules = @(); $case.DeleteExcluded = $false; $case.UseFilterFiles = $false }
        $paths = Write-FilterCase -Case $case -Root (Join-Path $BatchRoot "seed-$Seed")
        $rsyncOptions = @{ Delete = $true; DeleteExcluded = $case.DeleteExcluded; UseFilterFiles = $case.UseFilterFiles }
        $problems = [System.Collections.Generic.List[string]]::new()

        # Everything selected, into a destination that does not exist.
        $freshRules = Resolve-FilterCaseRule -Case $case -Paths $paths -Destination $paths.Fresh
        $rsyncFresh = Invoke-RsyncSelection -Source $paths.Source -Destination $paths.Fresh -Rule $freshRules @rsyncOptions
        $planFresh = Invoke-PlanSelection -Case $case -Source $paths.Source -Destination $paths.Fresh -Rule $freshRules -Via $Via -Remote $Remote
        # What is deleted (and sent) in a populated destination.
        $rules = Resolve-FilterCaseRule -Case $case -Paths $paths
        $rsync = Invoke-RsyncSelection -Source $paths.Source -Destination $paths.Destination -Rule $rules @rsyncOptions
        $plan = Invoke-PlanSelection -Case $case -Source $paths.Source -Destination $paths.Destination -Rule $rules -Via $Via -Remote $Remote
        # The harness's own check: rsync reads the same rules from a merge file the same way.
        $rsyncMerged = Invoke-RsyncSelection -Source $paths.Source -Destination $paths.Destination -Rule $rules -MergeFile (Join-Path $paths.Root 'all.rules') @rsyncOptions

        foreach ($run in $rsyncFresh, $rsync, $rsyncMerged) {
            if ($run.ExitCode -ne 0) { $problems.Add("rsync exited with $($run.ExitCode): $($run.Error.Trim())  [rsync $($run.Arguments -join ' ')]") }
        }
        foreach ($e in @($planFresh.Errors) + @($plan.Errors)) { $problems.Add("PSReplica: $e") }
        foreach ($line in Compare-PathSet $rsync.Transfer $rsyncMerged.Transfer 'inline' 'merge-file') { $problems.Add("harness: rsync's transfer differs with the rules in a merge file: $line") }
        foreach ($line in Compare-PathSet $rsync.Delete $rsyncMerged.Delete 'inline' 'merge-file') { $problems.Add("harness: rsync's deletions differ with the rules in a merge file: $line") }
        if ($problems.Count -eq 0) {
            foreach ($line in Compare-PathSet $rsyncFresh.Transfer $planFresh.Transfer) { $problems.Add("transfer into an empty destination: $line") }
            foreach ($line in Compare-PathSet $rsync.Delete $plan.Delete) { $problems.Add("deletion: $line") }
            foreach ($line in Compare-PathSet $rsync.Transfer $plan.Created) { $problems.Add("transfer into the populated destination: $line") }
        }

        if ($RealRun -and $problems.Count -eq 0) {
            # Both tools for real, each on its own copy of the destination: the trees they leave must hold the same
            # paths. This checks Sync-Directory (scanner pruning, deletion protection) and needs no dry-run mapping.
            $copies = @{}
            foreach ($tool in 'rsync', 'psreplica') {
                $copies[$tool] = Join-Path $paths.Root "dst-$tool"
                $null = Invoke-Captured -FilePath cp -ArgumentList @('-a', '--', $paths.Destination, $copies[$tool])
            }
            $applied = Invoke-RsyncSelection -Source $paths.Source -Destination $copies['rsync'] -Rule (Resolve-FilterCaseRule -Case $case -Paths $paths -Destination $copies['rsync']) -Apply @rsyncOptions
            if ($applied.ExitCode -ne 0) { $problems.Add("rsync (real run) exited with $($applied.ExitCode): $($applied.Error.Trim())") }
            $synced = Invoke-PlanSelection -Case $case -Source $paths.Source -Destination $copies['psreplica'] -Rule (Resolve-FilterCaseRule -Case $case -Paths $paths -Destination $copies['psreplica']) -Via $Via -Command Sync-Directory -Remote $Remote
            foreach ($e in $synced.Errors) { $problems.Add("PSReplica (Sync-Directory): $e") }
            $trees = @{}
            foreach ($tool in 'rsync', 'psreplica') {
                $trees[$tool] = [System.Collections.Generic.SortedDictionary[string, string]]::new([System.StringComparer]::Ordinal)
                foreach ($entry in Get-TreeEntry $copies[$tool]) { $trees[$tool][$entry.Relative] = $entry.Type }
            }
            foreach ($line in Compare-PathSet $trees['rsync'] $trees['psreplica']) { $problems.Add("after a real run (rsync -rl --delete vs Sync-Directory -Delete): $line") }
        }
        if ($NoRules) { if ($problems.Count -eq 0) { return , @() } else { return , @("seed $Seed (no rules): " + ($problems -join "`n  ")) } }
        $script:Stats.Cases++
        if ($rsyncFresh.Transfer.Count -lt $case.Source.Count + 1) { $script:Stats.Narrowed++ }
        $extraneous = @($case.Destination.Keys | Where-Object { -not $case.Source.Contains($_) }).Count
        if ($rsync.Delete.Count -gt 0) { $script:Stats.Deleting++ }
        if ($rsync.Delete.Count -lt $extraneous) { $script:Stats.Protected++ }
        if ($problems.Count -eq 0) { return , @() }
        $report = "seed $Seed ($Kind): $($problems.Count) difference(s)`n  " + (@($problems | Select-Object -First 40) -join "`n  ") +
        "`n  rsync's other output: $(@($rsyncFresh.Other) + @($rsync.Other) -join ' | ')`n" + (Format-FilterCase $case)
        , @($report)
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { $null = Invoke-Captured -FilePath rm -ArgumentList @('-rf', '--', $script:WorkRoot) }
    Stop-RemoteTestSession $server $work
}

Describe 'Filter rules select what rsync selects' {
    It 'the harness runs where no .rsync-filter is above the work directory (rsync -F reads those from / down)' {
        $found = @()
        for ($dir = $script:WorkRoot; $dir; $dir = [System.IO.Path]::GetDirectoryName($dir)) {
            if (Test-Path -LiteralPath (Join-Path $dir '.rsync-filter')) { $found += $dir }
        }
        $found | Should -BeNullOrEmpty
    }

    It "the harness reads rsync's output: escaped names, directories, deletions, a directory that cannot go" {
        $root = Join-Path $script:WorkRoot 'parser'
        $source = Join-Path $root 'src'; $destination = Join-Path $root 'dst'
        foreach ($dir in 'd', 'd/e f', "d/n`nl") { $null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::Join($source, $dir)) }
        foreach ($file in 'a\#101', "tab`there", "c`u{1}x", 'd/e f/g.txt', 'é', "d/n`nl/x", '[x]') { [System.IO.File]::WriteAllText([System.IO.Path]::Join($source, $file), 'x') }
        foreach ($dir in 'old/sub', 'old/inner', 'keep') { $null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::Join($destination, $dir)) }
        foreach ($file in 'old/sub/y', 'old/inner/z.tmp', 'keep/w.tmp', 'gone\#1') { [System.IO.File]::WriteAllText([System.IO.Path]::Join($destination, $file), 'y') }

        $r = Invoke-RsyncSelection -Source $source -Destination $destination -Rule @('- *.tmp') -Delete
        $r.ExitCode | Should -Be 0
        @($r.Transfer.Keys) | Should -Be @('[x]', 'a\#101', "c`u{1}x", 'd', 'd/e f', 'd/e f/g.txt', "d/n`nl", "d/n`nl/x", "tab`there", 'é')
        @($r.Transfer.Values) | Should -Be @('f', 'f', 'f', 'd', 'd', 'f', 'd', 'f', 'f', 'f')
        # old/inner/z.tmp is protected, so old/inner and old stay (a dry run prints 'deleting old/inner/' as well as
        # 'cannot delete non-empty directory: old/inner'; the real run only the latter), and keep/ is untouched.
        @($r.Delete.Keys) | Should -Be @('gone\#1', 'old/sub', 'old/sub/y')
        $r.Other | Should -Contain 'cannot delete non-empty directory: old/inner'
        $r.Other | Should -Contain 'cannot delete non-empty directory: old'
    }

    It 'reads a per-directory file under its first dir-merge rule only, as rsync does (<Name>)' -ForEach @(
        @{ Name = "':n .rules' then ': .rules'"; File = '.rules'; Rules = @(':n .rules', ': .rules'); Rsync = @('--filter=:n .rules', '--filter=: .rules'); Files = $false }
        @{ Name = "':n .rsync-filter' then -UseFilterFiles"; File = '.rsync-filter'; Rules = @(':n .rsync-filter'); Rsync = @('--filter=:n .rsync-filter', '-F'); Files = $true }
    ) {
        # The first rule does not pass its file's rules down ('n'); a second rule reading the same file name did, and
        # left out sub/x, which rsync sends (it drops the second rule).
        $trees = foreach ($tool in 'rsync', 'psr') {
            $root = Join-Path $script:WorkRoot "dirmerge-twice-$($File.TrimStart('.'))-$tool"
            $null = [System.IO.Directory]::CreateDirectory("$root/src/sub")
            [System.IO.File]::WriteAllText("$root/src/$File", "- x`n")
            foreach ($item in 'x', 'sub/x', 'keep') { [System.IO.File]::WriteAllText("$root/src/$item", 'x') }
            $root
        }
        (Invoke-Captured -FilePath rsync -ArgumentList (@('-a') + $Rsync + @('--', "$($trees[0])/src/", "$($trees[0])/dst/"))).ExitCode | Should -Be 0
        $null = Sync-Directory -Path "$($trees[1])/src" -Destination "$($trees[1])/dst" -FilterRule $Rules -UseFilterFiles:$Files -ErrorAction Stop
        $theirs = @(Get-ChildItem -LiteralPath "$($trees[0])/dst" -Recurse -Name -Force | Sort-Object)
        @(Get-ChildItem -LiteralPath "$($trees[1])/dst" -Recurse -Name -Force | Sort-Object) | Should -Be $theirs
        $theirs | Should -Contain 'sub/x'
        $theirs | Should -Not -Contain 'x'
    }

    It 'with no rules at all, the harness finds the tools agree (seeds 1001..1010)' {
        $reports = [System.Collections.Generic.List[string]]::new()
        foreach ($seed in 1001..1010) { $reports.AddRange([string[]](Invoke-FilterCase -Seed $seed -Kind Rules -Via FilterRule -BatchRoot (Join-Path $script:WorkRoot 'norules') -NoRules -RealRun)) }
        $null = Invoke-Captured -FilePath rm -ArgumentList @('-rf', '--', (Join-Path $script:WorkRoot 'norules'))
        $reports.Count | Should -Be 0 -Because ($reports -join "`n")
    }

    It 'Get-SyncPlan and Sync-Directory take -FilterRule, -UseFilterFiles and -DeleteExcluded' {
        foreach ($command in 'Get-SyncPlan', 'Sync-Directory') {
            $parameters = (Get-Command $command).Parameters
            foreach ($name in 'FilterRule', 'UseFilterFiles', 'DeleteExcluded') {
                $parameters.ContainsKey($name) | Should -BeTrue -Because "issue #4 gives $command a -$name parameter"
            }
        }
    }

    It '<GroupKind> seeds <Name> (via <Via>)' -ForEach $Batches {
        $batchRoot = Join-Path $script:WorkRoot "batch-$($Seeds[0])"
        $reports = [System.Collections.Generic.List[string]]::new()
        foreach ($seed in $Seeds) {
            # Every fifth seed also runs both tools for real.
            try { $reports.AddRange([string[]](Invoke-FilterCase -Seed $seed -Kind $Kind -Via $Via -BatchRoot $batchRoot -RealRun:($seed % 5 -eq 0))) }
            catch { $reports.Add("seed ${seed} ($Kind): the case failed to run: $($_.Exception.Message)`n$(@($_.ScriptStackTrace -split "`n" | Select-Object -First 3) -join "`n")") }
        }
        $null = Invoke-Captured -FilePath rm -ArgumentList @('-rf', '--', $batchRoot)
        $shown = @($reports | Select-Object -First 3)
        $more = if ($reports.Count -gt 3) { "`n... and $($reports.Count - 3) more failing seed(s): " + (@($reports | Select-Object -Skip 3 | ForEach-Object { ($_ -split ':')[0] }) -join ', ') } else { '' }
        $reports.Count | Should -Be 0 -Because ("rsync and Get-SyncPlan should select the same paths`n" + ($shown -join "`n") + $more + "`n")
    }

    It '<Kind> seeds <Seeds> over SSH (<Remote>)' -ForEach $RemoteBatches {
        $batchRoot = Join-Path $script:WorkRoot "remote-$Remote-$($Seeds[0])"
        $reports = [System.Collections.Generic.List[string]]::new()
        foreach ($seed in $Seeds) {
            try { $reports.AddRange([string[]](Invoke-FilterCase -Seed $seed -Kind $Kind -Via FilterRule -BatchRoot $batchRoot -RealRun:($seed % 2 -eq 0) -Remote $Remote)) }
            catch { $reports.Add("seed ${seed} ($Kind, $Remote): the case failed to run: $($_.Exception.Message)") }
        }
        $null = Invoke-Captured -FilePath rm -ArgumentList @('-rf', '--', $batchRoot)
        $reports.Count | Should -Be 0 -Because ("rsync and Get-SyncPlan over SSH should select the same paths`n" + (@($reports | Select-Object -First 3) -join "`n") + "`n")
    }

    It 'the generated cases exercise the rules: most narrow the transfer and some keep extraneous items' {
        # Counted over the batches above (when they ran): a generator whose rules never matched would pass vacuously.
        $script:Stats.Cases | Should -BeGreaterThan 0
        if ($script:Stats.Cases -lt 20) { return }   # a narrowed run (PSREPLICA_FILTERDIFF_SEEDS) is too small to judge
        $counts = "of {0} cases, rules narrowed the transfer in {1}, rsync deleted something in {2} and kept some extraneous item in {3}" -f
        $script:Stats.Cases, $script:Stats.Narrowed, $script:Stats.Deleting, $script:Stats.Protected
        $script:Stats.Narrowed | Should -BeGreaterThan ($script:Stats.Cases * 0.5) -Because $counts
        $script:Stats.Protected | Should -BeGreaterThan ($script:Stats.Cases * 0.1) -Because $counts
        $script:Stats.Deleting | Should -BeGreaterThan ($script:Stats.Cases * 0.5) -Because $counts
    }
}
