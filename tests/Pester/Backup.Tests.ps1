# Differential test of -Backup, -BackupDirectory and -BackupSuffix against Debian's rsync (--backup, --backup-dir,
# --suffix, with -a --delete). Both tools start from identical copies of a destination that is an older replica of
# the source, plus an unrelated earlier backup; the source meanwhile edited, deleted, retyped and relinked items.
# The destinations and the backup trees are compared item by item (files and links by type, mode, size, time and
# content; directories by name).
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-backup-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $script:WorkRoot

    . (Join-Path $PSScriptRoot 'Support/TestFiles.ps1')

    # $Root/src (today) and $Root/dest (a replica of yesterday's source, with an earlier backup lying in it).
    function New-Fixture([string] $Root) {
        $old = Join-Path $Root 'old'
        $src = Join-Path $Root 'src'
        foreach ($name in 'keep', 'edit', 'gone', 'dir/a', 'dir/b', 'olddir/x', 'olddir/deep/y', 'becomesdir') {
            Write-TestFile (Join-Path $old $name) "yesterday's $name"
        }
        & ln -s 'keep' (Join-Path $old 'link')
        & find $old '(' -type d -o -type l ')' -exec touch -h -d '2026-01-03 00:00:00' '{}' +
        & rsync -a -- "$old/" "$Root/dest/"
        Write-TestFile (Join-Path $Root 'dest/notes~') 'an earlier backup'
        Write-TestFile (Join-Path $Root 'dest/edit~') 'an earlier backup of edit'
        foreach ($name in 'keep', 'dir/a') { Write-TestFile (Join-Path $src $name) "yesterday's $name" }
        Write-TestFile (Join-Path $src 'edit') "today's edit" '2026-01-02 10:00:00'
        Write-TestFile (Join-Path $src 'dir/b') "today's b" '2026-01-02 10:00:00'
        Write-TestFile (Join-Path $src 'becomesdir/inside') 'now a directory'
        & ln -s 'dir/a' (Join-Path $src 'link')
        foreach ($tree in $old, $src) { & find $tree '(' -type d -o -type l ')' -exec touch -h -d '2026-01-03 00:00:00' '{}' + }
        & rm -rf -- $old
    }

    function Get-Tree([string] $Root) {
        if (-not (Test-Path -LiteralPath $Root)) { return '(missing)' }
        foreach ($line in (& find $Root -mindepth 1 -printf '%P|%y|%m|%s|%T@|%l\n' | Sort-Object -CaseSensitive)) {
            $fields = $line.Split('|')
            $path = Join-Path $Root $fields[0]
            # Directories by name only: their times and modes are not what this test is about.
            if ($fields[1] -eq 'd') { "$($fields[0])|d"; continue }
            $hash = if ($fields[1] -eq 'f') { (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash } else { '-' }
            "$line|$hash"
        }
    }

    function Invoke-Both([string] $Name, [string[]] $RsyncArgs, [hashtable] $Parameters, [string] $BackupPath, [int] $Runs = 1) {
        $rsyncRoot = Join-Path $script:WorkRoot "$Name-rsync"
        $psrRoot = Join-Path $script:WorkRoot "$Name-psr"
        New-Fixture $rsyncRoot
        New-Fixture $psrRoot
        $items = @()
        for ($run = 1; $run -le $Runs; $run++) {
            if ($run -gt 1) {
                foreach ($root in $rsyncRoot, $psrRoot) { Write-TestFile (Join-Path $root 'src/edit') "edit, run $run" "2026-01-0$($run + 1) 10:00:00" }
            }
            & rsync -a --delete @RsyncArgs -- "$rsyncRoot/src/" "$rsyncRoot/dest/"
            if ($LASTEXITCODE -ne 0) { throw "rsync failed with $LASTEXITCODE" }
            $items += @(Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dest" -Delete @Parameters -ErrorAction Stop -WarningAction SilentlyContinue)
        }
        [pscustomobject]@{
            Items = $items
            RsyncDest = (Get-Tree "$rsyncRoot/dest") -join "`n"
            PsrDest = (Get-Tree "$psrRoot/dest") -join "`n"
            RsyncBackup = if ($BackupPath) { (Get-Tree (Join-Path $rsyncRoot $BackupPath)) -join "`n" }
            PsrBackup = if ($BackupPath) { (Get-Tree (Join-Path $psrRoot $BackupPath)) -join "`n" }
        }
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { & rm -rf -- $script:WorkRoot }
}

Describe 'Backups against rsync' {
    It '-Backup keeps replaced and deleted files beside them with ~, and -Delete spares earlier backups' {
        $r = Invoke-Both 'beside' @('--backup') @{ Backup = $true }
        $r.PsrDest | Should -Be $r.RsyncDest
        $r.PsrDest | Should -Match "(?m)^olddir/deep/y~\|f"
        $r.PsrDest | Should -Match "(?m)^notes~\|f"
    }

    It '-BackupSuffix names the backups' {
        $r = Invoke-Both 'suffix' @('--backup', '--suffix=.bak') @{ Backup = $true; BackupSuffix = '.bak' }
        $r.PsrDest | Should -Be $r.RsyncDest
        $r.PsrDest | Should -Match "(?m)^edit\.bak\|f"
    }

    It '-BackupDirectory outside the destination keeps relative paths' {
        $r = Invoke-Both 'outside' @('--backup-dir=../bak') @{ BackupDirectory = '../bak' } -BackupPath 'bak'
        $r.PsrDest | Should -Be $r.RsyncDest
        $r.PsrBackup | Should -Be $r.RsyncBackup
        $r.PsrBackup | Should -Match "(?m)^olddir/deep/y\|f"
        $r.PsrBackup | Should -Match "(?m)^link\|l"
    }

    It '-BackupDirectory with -BackupSuffix' {
        $r = Invoke-Both 'dirsuffix' @('--backup-dir=../bak', '--suffix=.1') @{ BackupDirectory = '../bak'; BackupSuffix = '.1' } -BackupPath 'bak'
        $r.PsrDest | Should -Be $r.RsyncDest
        $r.PsrBackup | Should -Be $r.RsyncBackup
    }

    It '-BackupDirectory inside the destination is neither deleted nor backed up (where rsync backs it up into itself)' {
        $r = Invoke-Both 'inside' @('--backup', '--backup-dir=bak') @{ Backup = $true; BackupDirectory = 'bak' } -Runs 3
        # rsync 3.5 deletes an inside backup dir on the next run by backing it up into itself (bak/bak/bak/...);
        # PSReplica protects it, as issue #6 requires. Outside it the two destinations agree.
        $outside = { param($tree) (($tree -split "`n") | Where-Object { $_ -notmatch '^bak(/|\|)' }) -join "`n" }
        (& $outside $r.PsrDest) | Should -Be (& $outside $r.RsyncDest)
        $r.RsyncDest | Should -Match '(?m)^bak/bak/'
        $r.PsrDest | Should -Not -Match '(?m)^bak/bak'
        $r.PsrDest | Should -Match "(?m)^bak/edit\|f"
        $r.PsrDest | Should -Match "(?m)^bak/olddir/deep/y\|f"
    }

    It '-Backup -DeleteExcluded deletes earlier backups without backing them up again, as rsync (no old~~, old~~~ run after run)' {
        # --delete-excluded leaves the backups unprotected; rsync deletes a name that already ends in the suffix as it is.
        $r = Invoke-Both 'unprotected' @('--backup', '--delete-excluded') @{ Backup = $true; DeleteExcluded = $true } -Runs 3
        $r.PsrDest | Should -Be $r.RsyncDest
        $r.PsrDest | Should -Not -Match '(?m)^notes~'
        $r.PsrDest | Should -Not -Match '~~'
    }

    It '-Backup -Preserve HardLinks backs up a file that a name of its group replaces, as rsync -bH' {
        $trees = foreach ($who in 'rsync', 'psr') {
            $root = Join-Path $script:WorkRoot "hardlinks-$who"
            Write-TestFile (Join-Path $root 'src/a') 'shared' '2026-01-02 10:00:00'
            & ln -- (Join-Path $root 'src/a') (Join-Path $root 'src/z')
            Write-TestFile (Join-Path $root 'dest/a') 'shared' '2026-01-02 10:00:00'
            Write-TestFile (Join-Path $root 'dest/z') 'precious old z' '2024-01-01 00:00:00'
            foreach ($tree in 'src', 'dest') { & touch -d '2026-01-03 00:00:00' -- (Join-Path $root $tree) }
            $root
        }
        & rsync -a -H --backup -- "$($trees[0])/src/" "$($trees[0])/dest/"
        $LASTEXITCODE | Should -Be 0
        $null = Sync-Directory -Path "$($trees[1])/src" -Destination "$($trees[1])/dest" -Backup -Preserve ([PSReplica.PreserveOptions]'Times, Permissions, Links, HardLinks') -ErrorAction Stop
        ((Get-Tree "$($trees[1])/dest") -join "`n") | Should -Be ((Get-Tree "$($trees[0])/dest") -join "`n")
        [IO.File]::ReadAllText("$($trees[1])/dest/z~") | Should -BeLike 'precious old z*'
        (& stat -c '%i' -- "$($trees[1])/dest/a") | Should -Be (& stat -c '%i' -- "$($trees[1])/dest/z")
    }

    It 'a second backup of the same file replaces the first, as in rsync' {
        $r = Invoke-Both 'again' @('--backup-dir=../bak') @{ BackupDirectory = '../bak' } -BackupPath 'bak' -Runs 2
        $r.PsrDest | Should -Be $r.RsyncDest
        $r.PsrBackup | Should -Be $r.RsyncBackup
    }

    It 'sets directory times as rsync <Rsync> does (-b without --backup-dir implies --omit-dir-times)' -ForEach @(
        @{ Rsync = '-b'; RsyncArgs = @('-b'); Parameters = @{ Backup = $true } }
        @{ Rsync = '--backup-dir=../bak'; RsyncArgs = @('--backup-dir=../bak'); Parameters = @{ BackupDirectory = '../bak' } }
    ) {
        $label = $Rsync -replace '\W', ''
        $trees = foreach ($tool in 'rsync', 'psr') {
            $root = Join-Path $script:WorkRoot "dirtimes-$label-$tool"
            Write-TestFile "$root/src/d/f" 'new' '2026-01-02 10:00:00'
            Write-TestFile "$root/src/d/new/g" 'new' '2026-01-02 10:00:00'
            Write-TestFile "$root/dest/d/f" 'old' '2026-01-01 10:00:00'
            & touch -d '2020-06-01 00:00:00' -- "$root/src/d/new" "$root/src/d" "$root/src"
            & touch -d '2020-07-01 00:00:00' -- "$root/dest/d" "$root/dest"
            $root
        }
        & rsync -a @RsyncArgs -- "$($trees[0])/src/" "$($trees[0])/dest/"
        $LASTEXITCODE | Should -Be 0
        $null = Sync-Directory -Path "$($trees[1])/src" -Destination "$($trees[1])/dest" @Parameters -ErrorAction Stop
        # Directory times: the source's, or (-b) the destination's own, where a backup written into one is its last change
        # and a new one has the time it was made (both 'recent': the two runs are seconds apart).
        $times = { param($root) foreach ($d in '', '/d', '/d/new') { $t = [long](& stat -c '%Y' -- "$root/dest$d"); if ($t -gt 1700000000) { 'recent' } else { $t } } }
        $ours = @(& $times $trees[1])
        $ours | Should -Be @(& $times $trees[0])
        $ours[0] | Should -Be $(if ($Parameters.Backup) { 1593561600 } else { 1590969600 })
    }
}

Describe 'Backup parameters' {
    It 'refuses an empty -BackupSuffix without -BackupDirectory' {
        $root = Join-Path $script:WorkRoot 'empty-suffix'
        New-Fixture $root
        { Sync-Directory -Path "$root/src" -Destination "$root/dest" -Backup -BackupSuffix '' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidBackupOptions*'
    }
}
