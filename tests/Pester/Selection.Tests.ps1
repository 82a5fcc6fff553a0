# Differential test of -MinSize, -MaxSize and -ExistingOnly against Debian's rsync (--min-size, --max-size,
# --existing, with -a --delete): both tools update identical copies of a destination that already holds part of the
# source, plus an extraneous file and an out-of-range file the source no longer would transfer; the destinations are
# compared item by item.
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
            & find "$root/src" -type d -exec touch -d '2026-01-03 00:00:00' '{}' +
        }
        $entries = @('sub', 'newdir/inner', './glob/[a]*b', '/glob/deep/er', 'link')
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
        $psr | Should -Not -Match '(?m)^glob/ab\|'
        $psr | Should -Not -Match '(?m)^sub/small'
        $psr | Should -Not -Match '(?m)^tiny'
    }

    It '-RemoveSourceFiles <Label> matches rsync --remove-source-files in the source and the destination' -ForEach @(
        @{ Label = 'alone'; RsyncArgs = @(); Parameters = @{} },
        @{ Label = 'with -MaxSize 1M'; RsyncArgs = @('--max-size=1M'); Parameters = @{ MaxSize = '1M' } }
    ) {
        $rsyncRoot = Join-Path $script:WorkRoot "remove-$($Parameters.Count)-rsync"
        $psrRoot = Join-Path $script:WorkRoot "remove-$($Parameters.Count)-psr"
        New-Fixture $rsyncRoot
        New-Fixture $psrRoot
        # An up-to-date file: rsync removes it from the source too.
        foreach ($root in $rsyncRoot, $psrRoot) { & cp -a -- "$root/src/tiny" "$root/dest/tiny"; & touch -d '2026-01-03 00:00:00' -- "$root/dest" }
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
