# Differential test of -LinkDest, -CompareDest and -CopyDest against Debian's rsync (--link-dest, --compare-dest,
# --copy-dest). Both tools get identical copies of a source and of two earlier "snapshots" that differ from it in
# every way the basis lookup distinguishes (same file; changed content; same content with another time, mode or
# owner; missing; present only in the second basis; a directory where the source has a file). The results are
# compared item by item (type, mode, owner, size, time, content) and by which basis, if any, each file shares its
# inode with.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-basis-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $script:WorkRoot

    . (Join-Path $PSScriptRoot 'Support/TestFiles.ps1')

    # The source and the two bases, built under $Root (src, prev1, prev2); the same every time it is called.
    function New-Fixture([string] $Root) {
        $src = Join-Path $Root 'src'
        $p1 = Join-Path $Root 'prev1'
        $p2 = Join-Path $Root 'prev2'
        foreach ($name in 'same', 'edited', 'retimed', 'remoded', 'only2', 'sub/deep', 'new', 'empty', 'owned', 'wasdir') {
            Write-TestFile (Join-Path $src $name) "content of $name"
        }
        Write-TestFile (Join-Path $src 'empty') ''
        # A large file changed in one place: with -TransferMode Delta most of it comes from the basis.
        $lines = 1..20000 | ForEach-Object { "line $_" }
        Write-TestFile (Join-Path $p1 'big') ($lines -join "`n") '2026-01-01 09:00:00'
        $lines[10000] = 'changed'
        Write-TestFile (Join-Path $src 'big') ($lines -join "`n")
        & chown 1234:1234 -- (Join-Path $src 'owned')
        foreach ($name in 'same', 'retimed', 'remoded', 'sub/deep', 'empty', 'owned') {
            Write-TestFile (Join-Path $p1 $name) "content of $name"
        }
        Write-TestFile (Join-Path $p1 'edited') 'content of edited, yesterday'
        & touch -d '2026-01-01 09:00:00' -- (Join-Path $p1 'retimed')
        & chmod 600 -- (Join-Path $p1 'remoded')
        $null = New-Item -ItemType Directory -Path (Join-Path $p1 'wasdir')
        Write-TestFile (Join-Path $p2 'only2') 'content of only2'
        Write-TestFile (Join-Path $p2 'same') 'content of same'
        Write-TestFile (Join-Path $p2 'wasdir') 'content of wasdir'
        Write-TestFile (Join-Path $p2 'edited') 'content of edited, day before'
        # The second basis holds the mode the first lacks: the lookup must keep searching past a partial match.
        Write-TestFile (Join-Path $p2 'remoded') 'content of remoded'
        & find $src -type d -exec touch -d '2026-01-02 00:00:00' '{}' +
    }

    # One line per item: path, type, mode, owner, size, time and content hash.
    function Get-Tree([string] $Root) {
        $lines = & find $Root -mindepth 1 -printf '%P|%y|%m|%U:%G|%s|%T@\n' | Sort-Object -CaseSensitive
        foreach ($line in $lines) {
            $fields = $line.Split('|')
            $rel = $fields[0]
            $path = Join-Path $Root $rel
            # A directory's size depends on the filesystem, not on what was replicated.
            if ($fields[1] -eq 'd') { $fields[4] = '-'; $line = $fields -join '|' }
            $hash = if (Test-Path -LiteralPath $path -PathType Leaf) { (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash } else { '-' }
            "$line|$hash"
        }
    }

    # For each file of $Root: which of the bases shares its inode ('-' for none).
    function Get-Sharing([string] $Root, [string[]] $Bases) {
        foreach ($rel in (& find $Root -type f -printf '%P\n' | Sort-Object -CaseSensitive)) {
            $inode = & stat -c '%d:%i' -- (Join-Path $Root $rel)
            $owner = '-'
            foreach ($base in $Bases) {
                $candidate = Join-Path $base $rel
                if ((Test-Path -LiteralPath $candidate -PathType Leaf) -and (& stat -c '%d:%i' -- $candidate) -eq $inode) {
                    $owner = Split-Path $base -Leaf
                    break
                }
            }
            "$rel -> $owner"
        }
    }

    # Runs rsync and Sync-Directory on separate copies of the fixture; returns both trees and sharing tables.
    function Invoke-Both([string] $Name, [string] $RsyncOption, [string] $Parameter, [hashtable] $Extra = @{}) {
        $rsyncRoot = Join-Path $script:WorkRoot "$Name-rsync"
        $psrRoot = Join-Path $script:WorkRoot "$Name-psr"
        New-Fixture $rsyncRoot
        New-Fixture $psrRoot
        & rsync -a "$RsyncOption=../prev1" "$RsyncOption=../prev2" -- "$rsyncRoot/src/" "$rsyncRoot/dest/"
        if ($LASTEXITCODE -ne 0) { throw "rsync failed with $LASTEXITCODE" }
        $options = @{ Path = "$psrRoot/src"; Destination = "$psrRoot/dest"; $Parameter = @('../prev1', '../prev2'); ErrorAction = 'Stop' } + $Extra
        $items = @(Sync-Directory @options)
        $rsyncBases = @("$rsyncRoot/prev1", "$rsyncRoot/prev2")
        $psrBases = @("$psrRoot/prev1", "$psrRoot/prev2")
        [pscustomobject]@{
            Items = $items
            RsyncTree = (Get-Tree "$rsyncRoot/dest") -join "`n"
            PsrTree = (Get-Tree "$psrRoot/dest") -join "`n"
            RsyncSharing = (Get-Sharing "$rsyncRoot/dest" $rsyncBases) -join "`n"
            PsrSharing = (Get-Sharing "$psrRoot/dest" $psrBases) -join "`n"
            PsrRoot = $psrRoot
        }
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { & rm -rf -- $script:WorkRoot }
}

Describe 'Basis directories against rsync' {
    It '-LinkDest links what rsync --link-dest links and copies the rest as rsync does' {
        $r = Invoke-Both 'link' '--link-dest' 'LinkDest'
        $r.PsrTree | Should -Be $r.RsyncTree
        $r.PsrSharing | Should -Be $r.RsyncSharing
        # The fixture must exercise both outcomes: some files linked, some not.
        $r.PsrSharing | Should -Match 'same -> prev1'
        $r.PsrSharing | Should -Match 'only2 -> prev2'
        $r.PsrSharing | Should -Match 'edited -> -'
        $linked = @($r.Items | Where-Object Action -EQ 'Link')
        $linked.Count | Should -BeGreaterThan 0
        $linked | ForEach-Object { $_.ItemType | Should -Be 'HardLink' }
        ($linked.RelativePath | Sort-Object) -join ',' | Should -Be ((($r.PsrSharing -split "`n") | Where-Object { $_ -notmatch '-> -$' } | ForEach-Object { ($_ -split ' -> ')[0] } | Sort-Object) -join ',')
    }

    It '-CompareDest leaves out what rsync --compare-dest leaves out' {
        $r = Invoke-Both 'compare' '--compare-dest' 'CompareDest'
        $r.PsrTree | Should -Be $r.RsyncTree
        $r.PsrSharing | Should -Be $r.RsyncSharing
        $r.PsrTree | Should -Not -Match '(?m)^same\|'
        $r.PsrTree | Should -Match '(?m)^edited\|'
    }

    It '-CopyDest copies what rsync --copy-dest copies, without sharing inodes' {
        $r = Invoke-Both 'copy' '--copy-dest' 'CopyDest'
        $r.PsrTree | Should -Be $r.RsyncTree
        $r.PsrSharing | Should -Be $r.RsyncSharing
        $r.PsrSharing | Should -Not -Match '-> prev'
    }

    It '-LinkDest with -TransferMode Delta builds a changed file from the basis' {
        $r = Invoke-Both 'delta' '--link-dest' 'LinkDest' @{ TransferMode = 'Delta' }
        $r.PsrTree | Should -Be $r.RsyncTree
        $r.PsrSharing | Should -Be $r.RsyncSharing
        $edited = $r.Items | Where-Object RelativePath -EQ 'big'
        $edited.BytesMatched | Should -BeGreaterThan 100000
        $edited.BytesTransferred | Should -BeLessThan 10000
    }

    It 'a second run links nothing new and changes nothing' {
        $r = Invoke-Both 'again' '--link-dest' 'LinkDest'
        $again = @(Sync-Directory -Path "$($r.PsrRoot)/src" -Destination "$($r.PsrRoot)/dest" -LinkDest '../prev1' -ErrorAction Stop)
        $again.Count | Should -Be 0
    }
}

Describe 'Basis directories' {
    It 'Get-SyncPlan shows the links -LinkDest would make' {
        $root = Join-Path $script:WorkRoot 'plan'
        New-Fixture $root
        $plan = @(Get-SyncPlan -Path "$root/src" -Destination "$root/dest" -LinkDest "$root/prev1" -ErrorAction Stop)
        ($plan | Where-Object Action -EQ 'Link').RelativePath | Sort-Object | Should -Be @('same', 'sub/deep')
        Test-Path -LiteralPath "$root/dest" | Should -BeFalse
    }

    It 'refuses to mix -LinkDest with -CompareDest' {
        $root = Join-Path $script:WorkRoot 'mixed'
        New-Fixture $root
        { Sync-Directory -Path "$root/src" -Destination "$root/dest" -LinkDest '../prev1' -CompareDest '../prev2' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidBasisDirectories*'
    }

    It 'warns about a basis directory that does not exist and copies everything' {
        $root = Join-Path $script:WorkRoot 'missing'
        New-Fixture $root
        $items = @(Sync-Directory -Path "$root/src" -Destination "$root/dest" -LinkDest '../nowhere' -WarningVariable w -WarningAction SilentlyContinue -ErrorAction Stop)
        "$w" | Should -Match 'nowhere'
        @($items | Where-Object Action -EQ 'Link').Count | Should -Be 0
        (Get-Tree "$root/dest") -join "`n" | Should -Be ((Get-Tree "$root/src") -join "`n")
    }

    It 'copies instead of linking across filesystems (EXDEV) and warns once' {
        if ((& stat -f -c '%T' -- '/dev/shm') -eq (& stat -f -c '%T' -- $script:WorkRoot)) {
            throw '/dev/shm and the temp directory are on the same kind of filesystem; this test needs two filesystems.'
        }
        $shm = Join-Path '/dev/shm' "psreplica-basis-$([guid]::NewGuid().ToString('n'))"
        try {
            New-Fixture $shm
            $dest = Join-Path $script:WorkRoot 'exdev-dest'
            $items = @(Sync-Directory -Path "$shm/src" -Destination $dest -LinkDest "$shm/prev1" -WarningVariable w -WarningAction SilentlyContinue -ErrorAction Stop)
            @($w | Where-Object { "$_" -match 'hard-link' }).Count | Should -Be 1
            (Get-Tree $dest) -join "`n" | Should -Be ((Get-Tree "$shm/src") -join "`n")
            @($items | Where-Object Action -EQ 'Link').Count | Should -BeGreaterThan 1
            (Get-Sharing $dest @("$shm/prev1")) -join "`n" | Should -Not -Match '-> prev1'
        }
        finally {
            & rm -rf -- $shm
        }
    }
}
