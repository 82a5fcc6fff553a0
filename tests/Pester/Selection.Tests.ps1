# Differential test of -MinSize, -MaxSize and -ExistingOnly against Debian's rsync (--min-size, --max-size,
# --existing, with -a --delete): both tools update identical copies of a destination that already holds part of the
# source, plus an extraneous file and an out-of-range file the source no longer would transfer; the destinations are
# compared item by item. Then -PruneEmptyDirectories against rsync -m (random trees and rules), -OneFileSystem against
# rsync -x (a link to /dev/shm with -CopyLinks; as root, tmpfs mounts), and -MaxAge/-MinAge, which rsync lacks.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-selection-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $script:WorkRoot

    function Write-Sized([string] $Path, [int] $Length, [string] $Time = '2026-01-01 10:00:00') {
        $parent = Split-Path $Path
        if (-not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent }
        [System.IO.File]::WriteAllText($Path, ('s' * $Length))
        & touch -d $Time -- $Path
    }

    function New-Fixture([string] $Root) {
        $src = Join-Path $Root 'src'
        $dest = Join-Path $Root 'dest'
        Write-Sized "$src/tiny" 10
        Write-Sized "$src/exact1k" 1024
        Write-Sized "$src/small" 2000
        Write-Sized "$src/medium" 50000
        Write-Sized "$src/large" 2000000
        Write-Sized "$src/sub/small" 3000
        Write-Sized "$src/sub/huge" 3000000
        Write-Sized "$src/newdir/inner" 4000
        & ln -s 'large' "$src/link"
        # The destination: an old 'large' (changed since), 'small' and 'sub/small' as they were, and an extraneous file.
        Write-Sized "$dest/large" 1500000 '2025-12-01 00:00:00'
        Write-Sized "$dest/small" 1999 '2025-12-01 00:00:00'
        Write-Sized "$dest/sub/huge" 5 '2025-12-01 00:00:00'
        Write-Sized "$dest/extra" 7
        foreach ($tree in $src, $dest) { & find $tree '(' -type d -o -type l ')' -exec touch -h -d '2026-01-03 00:00:00' '{}' + }
    }

    function Get-Tree([string] $Root) {
        foreach ($line in (& find $Root -mindepth 1 -printf '%P|%y|%m|%s|%T@|%l\n' | Sort-Object -CaseSensitive)) {
            $fields = $line.Split('|')
            if ($fields[1] -eq 'd') { $fields[3] = '-' }
            $fields -join '|'
        }
    }

    function Invoke-Both([string] $Name, [string[]] $RsyncArgs, [hashtable] $Parameters) {
        $rsyncRoot = Join-Path $script:WorkRoot "$Name-rsync"
        $psrRoot = Join-Path $script:WorkRoot "$Name-psr"
        New-Fixture $rsyncRoot
        New-Fixture $psrRoot
        & rsync -a --delete @RsyncArgs -- "$rsyncRoot/src/" "$rsyncRoot/dest/"
        if ($LASTEXITCODE -ne 0) { throw "rsync failed with $LASTEXITCODE" }
        $plan = @(Get-SyncPlan -Path "$psrRoot/src" -Destination "$psrRoot/dest" -Delete @Parameters -ErrorAction Stop)
        $items = @(Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dest" -Delete @Parameters -ErrorAction Stop)
        [pscustomobject]@{
            Plan = $plan
            Items = $items
            Rsync = (Get-Tree "$rsyncRoot/dest") -join "`n"
            Psr = (Get-Tree "$psrRoot/dest") -join "`n"
        }
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { & rm -rf -- $script:WorkRoot }
}

Describe 'Size and existence selection against rsync' {
    It '-MinSize <Size> matches rsync --min-size=<Size>' -ForEach @(
        @{ Size = '1K' }, @{ Size = '1024' }, @{ Size = '1025' }, @{ Size = '2KB' }, @{ Size = '1.5K' }, @{ Size = '1K+1' }
    ) {
        $r = Invoke-Both "min-$Size" @("--min-size=$Size") @{ MinSize = $Size }
        $r.Psr | Should -Be $r.Rsync
        ($r.Plan.RelativePath | Sort-Object) -join ',' | Should -Be (($r.Items.RelativePath | Sort-Object) -join ',')
    }

    It '-MaxSize <Size> matches rsync --max-size=<Size>' -ForEach @(
        @{ Size = '1M' }, @{ Size = '2000' }, @{ Size = '1999' }, @{ Size = '1MB' }, @{ Size = '2M-1' }
    ) {
        $r = Invoke-Both "max-$Size" @("--max-size=$Size") @{ MaxSize = $Size }
        $r.Psr | Should -Be $r.Rsync
    }

    It '-MinSize with -MaxSize matches rsync' {
        $r = Invoke-Both 'range' @('--min-size=1k', '--max-size=1m') @{ MinSize = '1k'; MaxSize = '1m' }
        $r.Psr | Should -Be $r.Rsync
    }

    It '-ExistingOnly matches rsync --existing' {
        $r = Invoke-Both 'existing' @('--existing') @{ ExistingOnly = $true }
        $r.Psr | Should -Be $r.Rsync
        $r.Psr | Should -Not -Match '(?m)^newdir'
        $r.Psr | Should -Not -Match '(?m)^extra'
    }

    It '-FilesFrom matches rsync -a --files-from (<Name>)' -ForEach @(
        @{ Name = 'lines'; Nul = $false }, @{ Name = 'NUL-separated'; Nul = $true }
    ) {
        $rsyncRoot = Join-Path $script:WorkRoot "files-from-$Name-rsync"
        $psrRoot = Join-Path $script:WorkRoot "files-from-$Name-psr"
        foreach ($root in $rsyncRoot, $psrRoot) {
            New-Fixture $root
            Write-Sized "$root/src/glob/[a]*b" 5
            Write-Sized "$root/src/glob/ab" 6
            Write-Sized "$root/src/glob/deep/er" 7
            # A wildcard in a directory's name and a backslash in its file's: the whole pattern is escaped, or the file is lost.
            Write-Sized "$root/src/w[x/c\=" 3
            Write-Sized "$root/src/s*x/c\=" 4
            Write-Sized "$root/src/plain/c\=" 2
            & find "$root/src" -type d -exec touch -d '2026-01-03 00:00:00' '{}' +
        }
        $entries = @('sub', 'newdir/inner', './glob/[a]*b', '/glob/deep/er', 'link', 'w[x/c\=', 's*x/c\=', 'plain/c\=')
        $listFile = Join-Path $script:WorkRoot "list-$Name"
        if ($Nul) {
            [System.IO.File]::WriteAllText($listFile, ($entries -join "`0") + "`0")
            & rsync -a --from0 "--files-from=$listFile" -- "$rsyncRoot/src/" "$rsyncRoot/dest/"
        }
        else {
            [System.IO.File]::WriteAllText($listFile, "# a comment`n" + ($entries -join "`n") + "`n`n")
            & rsync -a "--files-from=$listFile" -- "$rsyncRoot/src/" "$rsyncRoot/dest/"
        }
        $LASTEXITCODE | Should -Be 0
        $null = Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dest" -FilesFrom $listFile -ErrorAction Stop
        $psr = (Get-Tree "$psrRoot/dest") -join "`n"
        $psr | Should -Be ((Get-Tree "$rsyncRoot/dest") -join "`n")
        $psr | Should -Match '(?m)^glob/\[a\]\*b\|f'
        $psr | Should -Match '(?m)^w\[x/c\\=\|f'
        $psr | Should -Match '(?m)^s\*x/c\\=\|f'
        $psr | Should -Match '(?m)^plain/c\\=\|f'
        $psr | Should -Not -Match '(?m)^glob/ab\|'
        $psr | Should -Not -Match '(?m)^sub/small'
        $psr | Should -Not -Match '(?m)^tiny'
    }

    It '-FilesFrom reports a listed path the source does not hold (FilesFromPathMissing) and sends the rest, as rsync does' {
        $root = Join-Path $script:WorkRoot 'files-from-missing'
        Write-Sized "$root/src/here" 1
        Write-Sized "$root/src/d/there" 2
        $listFile = Join-Path $script:WorkRoot 'list-missing'
        [System.IO.File]::WriteAllText($listFile, "here`nnowhere`nd/there`nd/gone`nnodir/x`n")
        & rsync -a "--files-from=$listFile" -- "$root/src/" "$root/rsync/" 2>$null
        $LASTEXITCODE | Should -Be 23
        $null = Sync-Directory -Path "$root/src" -Destination "$root/dst" -FilesFrom $listFile -ErrorVariable failures -ErrorAction SilentlyContinue
        @($failures | ForEach-Object { $_.FullyQualifiedErrorId -replace ',.*' }) | Should -Be @('FilesFromPathMissing', 'FilesFromPathMissing', 'FilesFromPathMissing')
        @($failures | ForEach-Object { $_.TargetObject } | Sort-Object) | Should -Be @('d/gone', 'nodir', 'nowhere')
        # The root keeps what it was made with, as rsync's: the list names paths below it, not the root.
        & chmod 2775 "$root/src"
        & touch -d '2001-01-01' "$root/src"
        $null = Sync-Directory -Path "$root/src" -Destination "$root/dst2" -FilesFrom $listFile -ErrorAction SilentlyContinue
        & rsync -a "--files-from=$listFile" -- "$root/src/" "$root/rsync2/" 2>$null
        & stat -c '%a' "$root/dst2" | Should -Be (& stat -c '%a' "$root/rsync2")
        (Get-Item "$root/dst2").LastWriteTime.Year | Should -BeGreaterThan 2001
        # Paths, types and sizes (the implied directory d gets the time it was made, by either tool).
        @(Get-Tree "$root/dst" | ForEach-Object { ($_ -split '\|')[0..3] -join '|' }) | Should -Be @(Get-Tree "$root/rsync" | ForEach-Object { ($_ -split '\|')[0..3] -join '|' })
        @(Get-Tree "$root/dst").Count | Should -Be 3
    }

    It '-FilesFrom with include rules sends only listed paths, as rsync --files-from with --filter does' {
        # The user's includes came before the list's closing exclude: they selected unlisted files, and a listed
        # directory's contents.
        $trees = foreach ($tool in 'rsync', 'psr') {
            $root = Join-Path $script:WorkRoot "files-from-include-$tool"
            Write-Sized "$root/src/[x].tmp" 1
            Write-Sized "$root/src/report.tmp" 2
            Write-Sized "$root/src/other" 3
            Write-Sized "$root/src/e/g" 4
            Write-Sized "$root/src/e/h.tmp" 5
            & find "$root/src" -type d -exec touch -d '2026-01-03 00:00:00' '{}' +
            $root
        }
        $listFile = Join-Path $script:WorkRoot 'list-include'
        [System.IO.File]::WriteAllText($listFile, "[x].tmp`ne`n")
        & rsync -a "--files-from=$listFile" '--filter=+ *.tmp' '--filter=+ g' -- "$($trees[0])/src/" "$($trees[0])/dest/"
        $LASTEXITCODE | Should -Be 0
        $null = Sync-Directory -Path "$($trees[1])/src" -Destination "$($trees[1])/dest" -FilesFrom $listFile -FilterRule '+ *.tmp', '+ g' -ErrorAction Stop
        $psr = (Get-Tree "$($trees[1])/dest") -join "`n"
        $psr | Should -Be ((Get-Tree "$($trees[0])/dest") -join "`n")
        $psr | Should -Match '(?m)^\[x\]\.tmp\|f'
        $psr | Should -Match '(?m)^e\|d'
        $psr | Should -Not -Match '(?m)^report\.tmp\|'
        $psr | Should -Not -Match '(?m)^e/'
    }

    It '-FilesFrom with excludes judges listed paths, not the directories on their way, as rsync --files-from does' {
        # A listed path the filter excludes is not sent, nor the directory on its way (which, made anyway, replaced a file
        # of that name in the destination without -Delete); a listed path below a directory the filter would exclude is
        # sent with that directory (rsync sends implied directories unfiltered).
        $trees = foreach ($tool in 'rsync', 'psr') {
            $root = Join-Path $script:WorkRoot "files-from-implied-$tool"
            Write-Sized "$root/src/g/x" 1
            Write-Sized "$root/src/d.tmp/sub/f" 2
            Write-Sized "$root/src/d.tmp/other" 3
            Write-Sized "$root/src/k/x" 4
            Write-Sized "$root/src/k/y" 5
            Write-Sized "$root/dest/g" 6
            & ln -s 'nowhere' "$root/src/k/dangling"
            & find "$root/src" "$root/dest" -type d -exec touch -d '2026-01-03 00:00:00' '{}' +
            $root
        }
        $listFile = Join-Path $script:WorkRoot 'list-implied'
        [System.IO.File]::WriteAllText($listFile, "g/x`nd.tmp/sub/f`nk/x`nk/y`n")
        # -L: an unlisted dangling link beside listed files is not followed, so it is no error.
        & rsync -aL "--files-from=$listFile" '--exclude=x' '--exclude=*.tmp' -- "$($trees[0])/src/" "$($trees[0])/dest/"
        $LASTEXITCODE | Should -Be 0
        $null = Sync-Directory -Path "$($trees[1])/src" -Destination "$($trees[1])/dest" -FilesFrom $listFile -Exclude 'x', '*.tmp' -CopyLinks -ErrorAction Stop
        $psr = (Get-Tree "$($trees[1])/dest") -join "`n"
        $psr | Should -Be ((Get-Tree "$($trees[0])/dest") -join "`n")
        $psr | Should -Match '(?m)^g\|f'
        $psr | Should -Match '(?m)^d\.tmp/sub/f\|f'
        $psr | Should -Match '(?m)^k/y\|f'
        $psr | Should -Not -Match '(?m)^k/x\|'
    }

    It '-RemoveSourceFiles <Label> matches rsync --remove-source-files in the source and the destination' -ForEach @(
        @{ Label = 'alone'; RsyncArgs = @(); Parameters = @{} },
        @{ Label = 'with -MaxSize 1M'; RsyncArgs = @('--max-size=1M'); Parameters = @{ MaxSize = '1M' } },
        @{ Label = 'with -IgnoreExisting'; RsyncArgs = @('--ignore-existing'); Parameters = @{ IgnoreExisting = $true } },
        @{ Label = 'with -Update'; RsyncArgs = @('--update'); Parameters = @{ Update = $true } }
    ) {
        $rsyncRoot = Join-Path $script:WorkRoot "remove-$($Label -replace '\W', '')-rsync"
        $psrRoot = Join-Path $script:WorkRoot "remove-$($Label -replace '\W', '')-psr"
        New-Fixture $rsyncRoot
        New-Fixture $psrRoot
        # An up-to-date file: rsync removes it from the source too, unless -IgnoreExisting leaves it. A newer one in the
        # destination (-Update leaves it): rsync keeps its source.
        foreach ($root in $rsyncRoot, $psrRoot) {
            & cp -a -- "$root/src/tiny" "$root/dest/tiny"
            Write-Sized "$root/src/newer-there" 7
            Write-Sized "$root/dest/newer-there" 7
            & touch -d '2020-01-01 00:00:00' -- "$root/src/newer-there"
            & touch -d '2026-01-03 00:00:00' -- "$root/dest"
        }
        & rsync -a --remove-source-files @RsyncArgs -- "$rsyncRoot/src/" "$rsyncRoot/dest/"
        $LASTEXITCODE | Should -Be 0
        $null = Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dest" -RemoveSourceFiles @Parameters -ErrorAction Stop
        (Get-Tree "$psrRoot/dest") -join "`n" | Should -Be ((Get-Tree "$rsyncRoot/dest") -join "`n")
        $left = (Get-Tree "$psrRoot/src" | Where-Object { $_ -notmatch '\|d\|' }) -join "`n"
        $left | Should -Be ((Get-Tree "$rsyncRoot/src" | Where-Object { $_ -notmatch '\|d\|' }) -join "`n")
        (& find "$psrRoot/src" -type d -printf '%P\n' | Sort-Object) -join ',' | Should -Be ((& find "$rsyncRoot/src" -type d -printf '%P\n' | Sort-Object) -join ',')
    }

    It '-RemoveSourceFiles keeps a source file that is its own destination copy' {
        $root = Join-Path $script:WorkRoot 'remove-same'
        Write-Sized "$root/data/a" 10
        Write-Sized "$root/data/b" 11
        $null = New-Item -ItemType Directory -Path "$root/copy"
        & ln -- "$root/data/a" "$root/copy/a"
        & touch -d '2026-01-03 00:00:00' -- "$root/data" "$root/copy"
        Sync-Directory -Path "$root/data" -Destination "$root/copy" -RemoveSourceFiles -ErrorVariable problems -ErrorAction SilentlyContinue | Out-Null
        "$root/data/a" | Should -Exist
        "$root/data/b" | Should -Not -Exist
        "$root/copy/b" | Should -Exist
        @($problems | Where-Object { $_.FullyQualifiedErrorId -like 'SourceIsDestination*' }).Count | Should -Be 1
    }

    It 'refuses a size that is not one' {
        { Get-SyncPlan -Path $script:WorkRoot -Destination "$script:WorkRoot/x" -MaxSize '10Q' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSize*'
    }
}

# -PruneEmptyDirectories against rsync -m on random trees with random filter rules (RandomRules.psm1, the filter
# differential's cases of kind Rules): both tools, run for real with -rl (rsync) and the defaults (PSReplica), into a
# destination that does not exist and, with --delete / -Delete, into one that holds some of the source's directories
# and extraneous items; the trees they leave must hold the same paths with the same types.
Describe 'Pruning empty directories against rsync -m' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'Support/RandomTree.psm1') -Force
        Import-Module (Join-Path $PSScriptRoot 'Support/RandomRules.psm1') -Force

        function Get-PathTypes([string] $Root) {
            $set = [System.Collections.Generic.SortedDictionary[string, string]]::new([System.StringComparer]::Ordinal)
            if (Test-Path -LiteralPath $Root) {
                foreach ($line in (& find $Root -mindepth 1 -printf '%P|%y\n')) { $fields = $line.Split('|'); $set[$fields[0]] = $fields[1] }
            }
            $set
        }

        function Invoke-PruneCase([int] $Seed, [switch] $Delete) {
            $case = New-FilterCase -Seed $Seed -Kind Rules
            $label = if ($Delete) { 'delete' } else { 'fresh' }
            $rsyncPaths = Write-FilterCase $case (Join-Path $script:WorkRoot "prune-$Seed-$label-rsync")
            $psrPaths = Write-FilterCase $case (Join-Path $script:WorkRoot "prune-$Seed-$label-psr")
            $rsyncTarget = if ($Delete) { $rsyncPaths.Destination } else { $rsyncPaths.Fresh }
            $psrTarget = if ($Delete) { $psrPaths.Destination } else { $psrPaths.Fresh }
            $arguments = @('-rl', '-m')
            if ($Delete) { $arguments += '--delete' }
            $arguments += @(Resolve-FilterCaseRule $case $rsyncPaths $rsyncTarget | ForEach-Object { "--filter=$_" })
            $arguments += @('--', "$($rsyncPaths.Source)/", "$rsyncTarget/")
            $run = Invoke-Captured -FilePath rsync -ArgumentList $arguments -Environment @{ LC_ALL = 'C.UTF-8' }
            $run.ExitCode | Should -Be 0 -Because "rsync $($arguments -join ' '): $($run.Error)"
            $null = Sync-Directory -Path $psrPaths.Source -Destination $psrTarget -PruneEmptyDirectories -Delete:$Delete `
                -FilterRule (Resolve-FilterCaseRule $case $psrPaths $psrTarget) -ErrorAction Stop -WarningAction SilentlyContinue
            $differences = @(Compare-PathSet (Get-PathTypes $rsyncTarget) (Get-PathTypes $psrTarget))
            if ($differences.Count -gt 0) { $differences += Format-FilterCase $case }
            $differences -join "`n"
        }
    }

    It 'leaves the same trees as rsync -rl -m into a new destination (seeds <First>..<Last>)' -ForEach @(
        @{ First = 7001; Last = 7015 }, @{ First = 7016; Last = 7030 }
    ) {
        foreach ($seed in $First..$Last) { Invoke-PruneCase -Seed $seed | Should -BeNullOrEmpty -Because "seed $seed" }
    }

    It 'leaves the same trees as rsync -rl -m --delete in a populated destination (seeds <First>..<Last>)' -ForEach @(
        @{ First = 7101; Last = 7115 }, @{ First = 7116; Last = 7130 }
    ) {
        foreach ($seed in $First..$Last) { Invoke-PruneCase -Seed $seed -Delete | Should -BeNullOrEmpty -Because "seed $seed" }
    }

    It 'matches rsync -m on its own example: empty chains and a directory of excluded files, with -Delete' {
        foreach ($tool in 'rsync', 'psr') {
            $root = Join-Path $script:WorkRoot "prune-example-$tool"
            Write-Sized "$root/src/d/x.txt" 1
            Write-Sized "$root/src/e/f/y.log" 1
            Write-Sized "$root/src/e/z.log" 1
            Write-Sized "$root/dst/a/b/keep.txt" 3
            Write-Sized "$root/dst/p/mine.log" 3
            $null = New-Item -ItemType Directory -Path "$root/src/a/b/c", "$root/src/p/q", "$root/dst/e/f"
            foreach ($tree in "$root/src", "$root/dst") { & find $tree -type d -exec touch -d '2026-01-03 00:00:00' '{}' + }
        }
        & rsync -a -m --delete --exclude='*.log' -- "$script:WorkRoot/prune-example-rsync/src/" "$script:WorkRoot/prune-example-rsync/dst/" 2>$null
        $null = Sync-Directory -Path "$script:WorkRoot/prune-example-psr/src" -Destination "$script:WorkRoot/prune-example-psr/dst" `
            -PruneEmptyDirectories -Delete -Exclude '*.log' -ErrorAction Stop -WarningAction SilentlyContinue
        $psr = (Get-Tree "$script:WorkRoot/prune-example-psr/dst") -join "`n"
        $psr | Should -Be ((Get-Tree "$script:WorkRoot/prune-example-rsync/dst") -join "`n")
        $psr | Should -Match '(?m)^p/mine\.log\|f'
        $psr | Should -Not -Match '(?m)^(a|e)\|'
    }

    It 'keeps an empty directory a receiver-side rule protects (<Rule>), and its parents, as rsync -m does' -ForEach @(
        @{ Rule = 'P e'; Kept = $true }, @{ Rule = '-r e'; Kept = $true }, @{ Rule = '-rp e'; Kept = $true }, @{ Rule = 'P e/'; Kept = $true }, @{ Rule = 'P nomatch'; Kept = $false }
    ) {
        $trees = foreach ($tool in 'rsync', 'psr') {
            $root = Join-Path $script:WorkRoot "prune-protect-$($Rule -replace '\W', '_')-$tool"
            $null = New-Item -ItemType Directory -Path "$root/src/out/d/e"
            & find "$root/src" -type d -exec touch -d '2026-01-03 00:00:00' '{}' +
            $root
        }
        & rsync -a -m --delete "--filter=$Rule" -- "$($trees[0])/src/" "$($trees[0])/dst/"
        $LASTEXITCODE | Should -Be 0
        $null = Sync-Directory -Path "$($trees[1])/src" -Destination "$($trees[1])/dst" -PruneEmptyDirectories -Delete -FilterRule $Rule -ErrorAction Stop
        $psr = (Get-Tree "$($trees[1])/dst") -join "`n"
        $psr | Should -Be ((Get-Tree "$($trees[0])/dst") -join "`n")
        if ($Kept) { $psr | Should -Match '(?m)^out/d/e\|d' } else { $psr | Should -BeNullOrEmpty }
    }

    It 'does not create a directory whose files -MaxSize all leaves out, but keeps an existing one (where rsync would create both)' {
        $root = Join-Path $script:WorkRoot 'prune-size'
        Write-Sized "$root/src/big/only" 5000
        Write-Sized "$root/src/kept/only" 5000
        Write-Sized "$root/src/small/one" 10
        Write-Sized "$root/dst/kept/only" 7
        $null = Sync-Directory -Path "$root/src" -Destination "$root/dst" -PruneEmptyDirectories -MaxSize 1K -Delete -ErrorAction Stop
        "$root/dst/big" | Should -Not -Exist
        Get-Content -Raw "$root/dst/kept/only" | Should -Be ('s' * 7)
        "$root/dst/small/one" | Should -Exist
    }
}

# -OneFileSystem against rsync -x. Any user can make a file-system boundary with a link to a directory in /dev/shm (a
# tmpfs) and -CopyLinks, which rsync -xL treats as a mount point; as root, tmpfs file systems are mounted in the source
# and the destination (a mount point below the source, one in the destination where the source has a directory, an
# extraneous one, and one inside an extraneous directory) and unmounted after.
Describe 'One file system against rsync -x' {
    BeforeAll {
        function New-OtherFileSystemDirectory {
            $path = "/dev/shm/psr-pester-otherfs-$([guid]::NewGuid().ToString('n'))"
            Write-Sized "$path/inner/deep.txt" 12
            Write-Sized "$path/top.txt" 13
            & chmod 750 -- $path
            & touch -d '2026-01-02 03:04:05' -- "$path/inner" $path
            (& stat -c %d -- $path) | Should -Not -Be (& stat -c %d -- $script:WorkRoot) -Because 'the test needs /dev/shm on another file system'
            $path
        }

        function New-MountedFixture([string] $Root, [System.Collections.Generic.List[string]] $Mounts) {
            # Adds each mount point to $Mounts as it is made (deepest last), for Remove-MountedFixture, even if a later one fails.
            function Mount-Tmpfs([string] $Path) {
                $null = New-Item -ItemType Directory -Path $Path -Force
                & mount -t tmpfs -o size=8m tmpfs $Path
                if ($LASTEXITCODE -ne 0) { throw "mount $Path failed" }
                $Mounts.Add($Path)
            }
            Write-Sized "$Root/src/a/f" 10
            Write-Sized "$Root/src/b/file" 11
            Mount-Tmpfs "$Root/src/mnt"
            Write-Sized "$Root/src/mnt/top" 12
            Write-Sized "$Root/src/mnt/inner/g" 13
            & chmod 700 -- "$Root/src/mnt"
            & touch -d '2021-02-03 00:00:00' -- "$Root/src/mnt"
            $null = New-Item -ItemType Directory -Path "$Root/dst/gone" -Force
            Mount-Tmpfs "$Root/dst/b"
            Write-Sized "$Root/dst/b/stale" 14
            Mount-Tmpfs "$Root/dst/mnt2"
            Write-Sized "$Root/dst/mnt2/stale" 15
            Mount-Tmpfs "$Root/dst/gone/m3"
            Write-Sized "$Root/dst/gone/m3/k" 16
            Write-Sized "$Root/dst/gone/x" 17
            foreach ($tree in "$Root/src", "$Root/dst") { & find $tree -xdev -type d -newermt '2026-01-01' -exec touch -d '2026-01-03 00:00:00' '{}' + }
        }

        function Remove-MountedFixture([System.Collections.Generic.List[string]] $Mounts) {
            for ($i = $Mounts.Count - 1; $i -ge 0; $i--) { & umount $Mounts[$i] }
        }
    }

    It 'treats a link to a directory on another file system as a mount point with -CopyLinks, as rsync -xL<Flags> does' -ForEach @(
        @{ Flags = ''; Prune = $false }, @{ Flags = 'm'; Prune = $true }
    ) {
        $other = New-OtherFileSystemDirectory
        try {
            foreach ($tool in 'rsync', 'psr') {
                $root = Join-Path $script:WorkRoot "xl-$Flags-$tool"
                Write-Sized "$root/src/a/f" 10
                $null = New-Item -ItemType SymbolicLink -Path "$root/src/other" -Target $other
                & touch -d '2026-01-03 00:00:00' -- "$root/src" "$root/src/a"
            }
            & rsync "-axL$Flags" -- "$script:WorkRoot/xl-$Flags-rsync/src/" "$script:WorkRoot/xl-$Flags-rsync/dst/"
            $LASTEXITCODE | Should -Be 0
            $null = Sync-Directory -Path "$script:WorkRoot/xl-$Flags-psr/src" -Destination "$script:WorkRoot/xl-$Flags-psr/dst" -OneFileSystem -CopyLinks `
                -PruneEmptyDirectories:$Prune -ErrorAction Stop
            $psr = (Get-Tree "$script:WorkRoot/xl-$Flags-psr/dst") -join "`n"
            $psr | Should -Be ((Get-Tree "$script:WorkRoot/xl-$Flags-rsync/dst") -join "`n")
            $psr | Should -Not -Match '(?m)^other/'
            if ($Prune) { $psr | Should -Not -Match '(?m)^other\|' } else { $psr | Should -Match '(?m)^other\|d\|750\|' }
        }
        finally { & rm -rf -- $other }
    }

    It 'matches rsync -x<Flags> with tmpfs file systems mounted in the source and the destination' -Skip:((& id -u) -ne '0') -ForEach @(
        @{ Flags = ''; Parameters = @{} }, @{ Flags = 'm'; Parameters = @{ PruneEmptyDirectories = $true } }
    ) {
        $mounts = [System.Collections.Generic.List[string]]::new()
        try {
            foreach ($tool in 'rsync', 'psr') { New-MountedFixture (Join-Path $script:WorkRoot "x$Flags-$tool") $mounts }
            $rsyncRoot = Join-Path $script:WorkRoot "x$Flags-rsync"
            $psrRoot = Join-Path $script:WorkRoot "x$Flags-psr"
            $null = & rsync "-ax$Flags" --delete -- "$rsyncRoot/src/" "$rsyncRoot/dst/" 2>&1
            $LASTEXITCODE | Should -Be 0
            $null = Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dst" -OneFileSystem -Delete @Parameters -ErrorAction Stop -WarningVariable warned -WarningAction SilentlyContinue
            # 'gone' (only in the destination, kept because it holds a mount point) takes the time of its deletion.
            $psr = (Get-Tree "$psrRoot/dst") -replace '^(gone\|d\|[^|]*\|[^|]*)\|[^|]*', '$1|-' -join "`n"
            $psr | Should -Be ((Get-Tree "$rsyncRoot/dst") -replace '^(gone\|d\|[^|]*\|[^|]*)\|[^|]*', '$1|-' -join "`n")
            # Nothing of the source's mount point crossed; nothing in the destination's was deleted.
            $psr | Should -Not -Match '(?m)^mnt/'
            $psr | Should -Match '(?m)^b/stale\|f'
            $psr | Should -Match '(?m)^mnt2/stale\|f'
            $psr | Should -Match '(?m)^gone/m3/k\|f'
            $psr | Should -Not -Match '(?m)^gone/x\|'
            @($warned | Where-Object { "$_" -match 'mount point' }).Count | Should -BeGreaterThan 0
        }
        finally { Remove-MountedFixture $mounts }
        (& mount | Select-String -SimpleMatch $script:WorkRoot) | Should -BeNullOrEmpty
    }
}

# -MaxAge and -MinAge have no rsync counterpart (rclone's --max-age/--min-age, robocopy's /MAXAGE /MINAGE): files an hour,
# three days and four hundred days old, selected by each form an age can take.
Describe 'Age selection' {
    BeforeAll {
        function New-AgeFixture([string] $Root) {
            $now = Get-Date
            foreach ($f in @(@{ Name = 'hour'; Age = [timespan]::FromHours(1) }, @{ Name = 'days'; Age = [timespan]::FromDays(3) }, @{ Name = 'year'; Age = [timespan]::FromDays(400) })) {
                Write-Sized "$Root/src/sub/$($f.Name).txt" 5 ($now - $f.Age).ToString('yyyy-MM-dd HH:mm:ss')
            }
            "$Root/src"
        }

        function Get-Selected([string] $Source, [hashtable] $Parameters) {
            @(Get-SyncPlan -Path $Source -Destination "$Source-never" @Parameters -ErrorAction Stop |
                Where-Object ItemType -EQ 'File' | ForEach-Object { $_.RelativePath -replace '^sub/', '' } | Sort-Object) -join ','
        }
    }

    It 'selects the files an age or a point in time names' {
        $src = New-AgeFixture (Join-Path $script:WorkRoot 'ages')
        Get-Selected $src @{} | Should -Be 'days.txt,hour.txt,year.txt'
        # Unquoted, PowerShell would read 2d as text but 90s, 7d and 1y as numbers with a type suffix: all are ages here.
        (@(Get-SyncPlan -Path $src -Destination "$src-x" -MaxAge 2d | Where-Object ItemType -EQ File).RelativePath -join ',') | Should -Be 'sub/hour.txt'
        (@(Get-SyncPlan -Path $src -Destination "$src-x" -MaxAge 7d | Where-Object ItemType -EQ File).RelativePath -join ',') | Should -Be 'sub/days.txt,sub/hour.txt'
        (@(Get-SyncPlan -Path $src -Destination "$src-x" -MinAge 1y | Where-Object ItemType -EQ File).RelativePath -join ',') | Should -Be 'sub/year.txt'
        (@(Get-SyncPlan -Path $src -Destination "$src-x" -MaxAge 90s | Where-Object ItemType -EQ File).RelativePath -join ',') | Should -Be ''
        Get-Selected $src @{ MinAge = '2d'; MaxAge = '1y' } | Should -Be 'days.txt'
        Get-Selected $src @{ MaxAge = '1.5w' } | Should -Be 'days.txt,hour.txt'
        Get-Selected $src @{ MaxAge = (New-TimeSpan -Days 2) } | Should -Be 'hour.txt'
        Get-Selected $src @{ MaxAge = '2.00:00:00' } | Should -Be 'hour.txt'
        Get-Selected $src @{ MaxAge = (Get-Date).AddDays(-10) } | Should -Be 'days.txt,hour.txt'
        Get-Selected $src @{ MaxAge = [datetime]::UtcNow.AddDays(-2) } | Should -Be 'hour.txt'
        Get-Selected $src @{ MinAge = (Get-Date).AddDays(-2).ToString('yyyy-MM-ddTHH:mm:ssK') } | Should -Be 'days.txt,year.txt'
        # The directory is listed whatever the ages: rsync's transfer rules never leave one out.
        @(Get-SyncPlan -Path $src -Destination "$src-x" -MaxAge 90s).RelativePath | Should -Contain 'sub'
    }

    It 'keeps the destination copy of a file it leaves out under -Delete, and removes it from nowhere' {
        $root = Join-Path $script:WorkRoot 'ages-delete'
        $src = New-AgeFixture $root
        Write-Sized "$root/dst/sub/year.txt" 3
        Write-Sized "$root/dst/sub/extra.txt" 3
        $items = @(Sync-Directory -Path $src -Destination "$root/dst" -MaxAge 7d -Delete -RemoveSourceFiles -ErrorAction Stop)
        ($items | Where-Object Action -EQ 'Delete').RelativePath | Should -Be 'sub/extra.txt'
        Get-Content -Raw "$root/dst/sub/year.txt" | Should -Be 'sss'
        "$src/sub/year.txt" | Should -Exist
        "$src/sub/hour.txt" | Should -Not -Exist
        "$root/dst/sub/hour.txt" | Should -Exist
    }

    It 'refuses <Value> with <ErrorId>' -ForEach @(
        @{ Value = '7'; ErrorId = 'InvalidAge' }, @{ Value = 'yesterday'; ErrorId = 'InvalidAge' }, @{ Value = '-3d'; ErrorId = 'InvalidAge' }
    ) {
        { Get-SyncPlan -Path $script:WorkRoot -Destination "$script:WorkRoot/x" -MaxAge $Value -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId*"
    }

    It 'refuses a bare number typed unquoted, and a window no file can fall in' {
        { Get-SyncPlan -Path $script:WorkRoot -Destination "$script:WorkRoot/x" -MinAge 30 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidAge*'
        { Get-SyncPlan -Path $script:WorkRoot -Destination "$script:WorkRoot/x" -MaxAge 1d -MinAge 7d -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidParameterCombination*'
    }
}
