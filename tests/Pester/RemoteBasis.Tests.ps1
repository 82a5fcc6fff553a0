# Basis directories, backups, source removal and hard links over SSH, against the private sshd of
# Support/TestSshServer.psm1, compared with Debian's rsync doing the same over the same server (rsync -e ssh): each
# tool gets identical copies of a source and of earlier "snapshots" on the server, and the results are compared item
# by item (type, mode, size, time, content) and by which basis, if any, each file shares its inode with (stat -c %i).
# Ends with the snapshot recipe of about_PSReplica_Snapshots over SSH: two days, -LinkDest ../day1.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    . (Join-Path $PSScriptRoot 'Support/TestFiles.ps1')
    . (Join-Path $PSScriptRoot 'Support/RsyncComparison.ps1')
    Start-RemoteTestSession 'rbasis'

    # The fixture whose first basis holds the empty file too, and listings without owners.
    function New-Fixture([string] $Root) { New-BasisDirectoryFixture $Root -EmptyFileInFirstBasis }
    function Get-Tree([string] $Root) { Get-TreeListing $Root }

    # rsync over ssh and a Sync-Directory push on separate copies of the fixture.
    function Invoke-BothPush([string] $Name, [string] $RsyncOption, [string] $Parameter, [hashtable] $Extra = @{}) {
        $rsyncRoot = Join-Path $work "$Name-rsync"
        $psrRoot = Join-Path $work "$Name-psr"
        New-Fixture $rsyncRoot
        New-Fixture $psrRoot
        Invoke-RsyncOverSsh @('-a', "$RsyncOption=../prev1", "$RsyncOption=../prev2", '--', "$rsyncRoot/src/", "$($server.Alias):$rsyncRoot/dest/")
        $options = @{ Path = "$psrRoot/src"; Destination = (Get-RemoteAddress "$psrRoot/dest"); $Parameter = @('../prev1', '../prev2'); ErrorAction = 'Stop' } + $ssh + $Extra
        Get-BasisComparison $rsyncRoot $psrRoot @(Sync-Directory @options)
    }
}

AfterAll { Stop-RemoteTestSession $server $work }

Describe 'Basis directories on a remote receiver against rsync over ssh' {
    It '-LinkDest links on the server what rsync --link-dest links' {
        $r = Invoke-BothPush 'link' '--link-dest' 'LinkDest'
        $r.PsrTree | Should -Be $r.RsyncTree
        $r.PsrSharing | Should -Be $r.RsyncSharing
        $r.PsrSharing | Should -Match 'same -> prev1'
        $r.PsrSharing | Should -Match 'only2 -> prev2'
        $r.PsrSharing | Should -Match 'edited -> -'
        @($r.Items | Where-Object Action -EQ 'Link').Count | Should -BeGreaterThan 0
        # Remote runs send changed files by delta: the changed 'big' is built from prev1's.
        ($r.Items | Where-Object RelativePath -EQ 'big').BytesMatched | Should -BeGreaterThan 100000
        # A re-run finds everything in place.
        @(Sync-Directory -Path "$($r.PsrRoot)/src" -Destination (Get-RemoteAddress "$($r.PsrRoot)/dest") -LinkDest '../prev1', '../prev2' @ssh -ErrorAction Stop).Count |
            Should -Be 0
    }

    It '-CompareDest leaves out on the server what rsync --compare-dest leaves out' {
        $r = Invoke-BothPush 'compare' '--compare-dest' 'CompareDest'
        $r.PsrTree | Should -Be $r.RsyncTree
        $r.PsrTree | Should -Not -Match '(?m)^same\|'
        $r.PsrTree | Should -Match '(?m)^edited\|'
    }

    It '-CopyDest copies on the server what rsync --copy-dest copies, without sharing inodes' {
        $r = Invoke-BothPush 'copy' '--copy-dest' 'CopyDest'
        $r.PsrTree | Should -Be $r.RsyncTree
        $r.PsrSharing | Should -Be $r.RsyncSharing
        $r.PsrSharing | Should -Not -Match '-> prev'
        ($r.Items | Where-Object RelativePath -EQ 'same').BytesTransferred | Should -Be 0
    }

    It 'Get-SyncPlan against a remote destination shows the links -LinkDest would make' {
        $root = Join-Path $work 'plan'
        New-Fixture $root
        $plan = @(Get-SyncPlan -Path "$root/src" -Destination (Get-RemoteAddress "$root/dest") -LinkDest '../prev1' @ssh -ErrorAction Stop)
        ($plan | Where-Object Action -EQ 'Link').RelativePath | Sort-Object | Should -Be @('empty', 'same', 'sub/deep')
        Test-Path -LiteralPath "$root/dest" | Should -BeFalse
    }
}

Describe 'Basis directories on a local receiver (a pull) against rsync over ssh' {
    It '-LinkDest links what rsync --link-dest links when pulling' {
        $rsyncRoot = Join-Path $work 'pull-rsync'
        $psrRoot = Join-Path $work 'pull-psr'
        New-Fixture $rsyncRoot
        New-Fixture $psrRoot
        Invoke-RsyncOverSsh @('-a', '--link-dest=../prev1', '--link-dest=../prev2', '--', "$($server.Alias):$rsyncRoot/src/", "$rsyncRoot/dest/")
        $items = @(Sync-Directory -Path (Get-RemoteAddress "$psrRoot/src") -Destination "$psrRoot/dest" -LinkDest '../prev1', '../prev2' @ssh -ErrorAction Stop)
        $r = Get-BasisComparison $rsyncRoot $psrRoot $items
        $r.PsrTree | Should -Be $r.RsyncTree
        $r.PsrSharing | Should -Be $r.RsyncSharing
        $r.PsrSharing | Should -Match 'same -> prev1'
    }
}

Describe 'Backups, source removal and hard links over ssh against rsync' {
    It '-Backup -BackupDirectory keeps on the server what rsync --backup --backup-dir keeps' {
        $trees = foreach ($tool in 'rsync', 'psr') {
            $root = Join-Path $work "backup-$tool"
            Write-TestFile "$root/src/x" 'new x' '2026-01-03 10:00:00'
            Write-TestFile "$root/src/sub/z" 'new z' '2026-01-03 10:00:00'
            Write-TestFile "$root/src/same" 'same'
            Write-TestFile "$root/dest/x" 'old x'
            Write-TestFile "$root/dest/sub/z" 'old z'
            Write-TestFile "$root/dest/y" 'deleted y'
            Write-TestFile "$root/dest/same" 'same'
            & find "$root/src" "$root/dest" -type d -exec touch -d '2026-01-02 00:00:00' '{}' +
            if ($tool -eq 'rsync') {
                Invoke-RsyncOverSsh @('-a', '--delete', '--backup', '--backup-dir=../bak', '--', "$root/src/", "$($server.Alias):$root/dest/")
            }
            else {
                $null = Sync-Directory -Path "$root/src" -Destination (Get-RemoteAddress "$root/dest") -Delete -BackupDirectory '../bak' @ssh -ErrorAction Stop
            }
            [pscustomobject]@{ Dest = (Get-Tree "$root/dest") -join "`n"; Backup = ((Get-Tree "$root/bak") | ForEach-Object { ($_ -split '\|')[0, 1, 3, 5] -join '|' }) -join "`n" }
        }
        $trees[1].Dest | Should -Be $trees[0].Dest
        $trees[1].Backup | Should -Be $trees[0].Backup
        $trees[1].Backup | Should -Match '(?m)^y\|f'
        $trees[1].Backup | Should -Match '(?m)^sub/z\|f'
    }

    It '-RemoveSourceFiles with a remote <Side> removes what rsync --remove-source-files removes' -ForEach @(
        @{ Side = 'source' }, @{ Side = 'destination' }
    ) {
        $trees = foreach ($tool in 'rsync', 'psr') {
            $root = Join-Path $work "remove-$Side-$tool"
            Write-TestFile "$root/src/a" 'a'
            Write-TestFile "$root/src/sub/b" 'b'
            Write-TestFile "$root/src/kept-up-to-date" 'same'
            Write-TestFile "$root/dest/kept-up-to-date" 'same'
            $null = New-Item -ItemType SymbolicLink -Path "$root/src/link" -Target 'a'
            & touch -h -d '2026-01-01 10:00:00' -- "$root/src/link"
            & find "$root/src" "$root/dest" -type d -exec touch -d '2026-01-02 00:00:00' '{}' +
            $from = $Side -eq 'source' ? "$($server.Alias):$root/src/" : "$root/src/"
            $to = $Side -eq 'source' ? "$root/dest/" : "$($server.Alias):$root/dest/"
            if ($tool -eq 'rsync') {
                Invoke-RsyncOverSsh @('-a', '--remove-source-files', '--', $from, $to)
            }
            elseif ($Side -eq 'source') {
                $null = Sync-Directory -Path (Get-RemoteAddress "$root/src") -Destination "$root/dest" -RemoveSourceFiles @ssh -ErrorAction Stop
            }
            else {
                $null = Sync-Directory -Path "$root/src" -Destination (Get-RemoteAddress "$root/dest") -RemoveSourceFiles @ssh -ErrorAction Stop
            }
            [pscustomobject]@{ Src = (& find "$root/src" -mindepth 1 -printf '%P|%y\n' | Sort-Object -CaseSensitive) -join "`n"; Dest = (Get-Tree "$root/dest") -join "`n" }
        }
        $trees[1].Src | Should -Be $trees[0].Src
        $trees[1].Src | Should -Be 'sub|d'
        $trees[1].Dest | Should -Be $trees[0].Dest
    }

    It '-Preserve HardLinks recreates on the server the link groups rsync -aH recreates' -ForEach @(
        @{ Direction = 'push' }, @{ Direction = 'pull' }
    ) {
        $groups = foreach ($tool in 'rsync', 'psr') {
            $root = Join-Path $work "hard-$Direction-$tool"
            Write-TestFile "$root/src/a" 'group one'
            & ln -- "$root/src/a" "$root/src/b"
            Write-TestFile "$root/src/d/c" 'group two'
            & ln -- "$root/src/d/c" "$root/src/e"
            & ln -- "$root/src/d/c" "$root/src/d/f"
            Write-TestFile "$root/src/single" 'alone'
            Write-TestFile "$root/dest/b" 'in the way'
            $from = if ($Direction -eq 'pull') { "$($server.Alias):$root/src/" } else { "$root/src/" }
            $to = if ($Direction -eq 'push') { "$($server.Alias):$root/dest/" } else { "$root/dest/" }
            if ($tool -eq 'rsync') {
                Invoke-RsyncOverSsh @('-aH', '--', $from, $to)
            }
            else {
                $path = if ($Direction -eq 'pull') { Get-RemoteAddress "$root/src" } else { "$root/src" }
                $destination = if ($Direction -eq 'push') { Get-RemoteAddress "$root/dest" } else { "$root/dest" }
                $preserve = [PSReplica.SyncOptions]::DefaultPreserve -bor [PSReplica.PreserveOptions]::HardLinks
                $null = Sync-Directory -Path $path -Destination $destination -Preserve $preserve @ssh -ErrorAction Stop
            }
            # Files grouped by inode, each group as its sorted names; and the trees.
            $byInode = & find "$root/dest" -type f -printf '%i %P\n' | Group-Object { ($_ -split ' ')[0] } |
                ForEach-Object { (($_.Group | ForEach-Object { ($_ -split ' ', 2)[1] }) | Sort-Object) -join ',' } | Sort-Object
            [pscustomobject]@{ Groups = $byInode -join ';'; Tree = ((Get-Tree "$root/dest") | ForEach-Object { ($_ -split '\|')[0, 1, 2, 3, 5] -join '|' }) -join "`n" }
        }
        $groups[1].Groups | Should -Be $groups[0].Groups
        $groups[1].Groups | Should -Be 'a,b;d/c,d/f,e;single'
        $groups[1].Tree | Should -Be $groups[0].Tree
    }
}

Describe 'The snapshot recipe over ssh' {
    It 'keeps day 2 linked to day 1 on the server where files did not change' {
        $source = Join-Path $work 'snap-data'
        $backup = Join-Path $work 'snap-backup'
        foreach ($i in 1..6) { Write-TestFile "$source/docs/file$i.txt" "document $i" }
        Write-TestFile "$source/notes.md" 'notes'
        $null = New-Item -ItemType Directory -Path $backup
        $day1State = (Get-Tree $source) -join "`n"
        $null = Sync-Directory -Path $source -Destination (Get-RemoteAddress "$backup/day1") @ssh -ErrorAction Stop

        Write-TestFile "$source/docs/file2.txt" 'document 2, edited' '2026-01-05 10:00:00'
        Write-TestFile "$source/new.txt" 'new on day 2' '2026-01-05 10:00:00'
        Remove-Item -LiteralPath "$source/docs/file6.txt"
        $day2State = (Get-Tree $source) -join "`n"
        $null = Sync-Directory -Path $source -Destination (Get-RemoteAddress "$backup/day2") -LinkDest '../day1' -Delete @ssh -ErrorAction Stop

        ((Get-Tree "$backup/day1") -join "`n") | Should -Be $day1State
        ((Get-Tree "$backup/day2") -join "`n") | Should -Be $day2State
        foreach ($name in 'docs/file1.txt', 'docs/file3.txt', 'notes.md') {
            (& stat -c '%i' -- "$backup/day2/$name") | Should -Be (& stat -c '%i' -- "$backup/day1/$name") -Because "$name did not change"
        }
        (& stat -c '%i' -- "$backup/day2/docs/file2.txt") | Should -Not -Be (& stat -c '%i' -- "$backup/day1/docs/file2.txt")
        (& stat -c '%h' -- "$backup/day2/new.txt") | Should -Be '1'
    }
}
