BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/CmdletTestSupport.ps1')

    function Get-TerminatingError([scriptblock] $Script) {
        try { & $Script; $null } catch { $_ }
    }

    function Assert-Replica([string] $Src, [string] $Dst) {
        $expected = (Get-TreeState $Src) -join "`n"
        $actual = (Get-TreeState $Dst) -join "`n"
        $actual | Should -Be $expected
    }

    # A source and a converged replica; returns @{ Src; Dst }.
    function New-Converged([string] $Name, [System.Collections.IDictionary] $Files) {
        $src = New-TestTree -Root (Join-Path $TestDrive "$Name-src") -Files $Files
        $dst = Join-Path $TestDrive "$Name-dst"
        $null = Sync-Directory -Path $src -Destination $dst -ErrorAction Stop
        @{ Src = $src; Dst = $dst }
    }

    # Gives the source root the destination root's time and mode, so the root needs no metadata action.
    function Sync-RootAttributes([string] $Src, [string] $Dst) {
        & chmod --reference=$Dst -- $Src
        Set-MTime $Src (Get-MTime $Dst)
    }

    function Write-File([string] $Path, [string] $Text) {
        $parent = Split-Path $Path
        if (-not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent -Force }
        [IO.File]::WriteAllText($Path, $Text)
    }

    $script:ChattrWorks = $false
    $probe = Join-Path $TestDrive 'chattr-probe'
    $null = New-Item -ItemType Directory $probe
    & chattr +i $probe 2>$null
    if ($LASTEXITCODE -eq 0) {
        try { [IO.File]::WriteAllText((Join-Path $probe 'x'), 'x') } catch { $script:ChattrWorks = $true }
        & chattr -i $probe
    }
}

Describe 'Sync-Directory' {
    Context 'making a replica' {
        BeforeAll {
            $script:src = Join-Path $TestDrive 'basic-src'
            $null = New-TestTree -Root $src -Files ([ordered]@{
                    'a.txt' = 'alpha'; 'sub/b.txt' = 'bravo!'; 'sub/deeper/c.txt' = 'charlie'; 'empty/' = $null; 'sub/emptier/' = $null })
            & chmod 640 (Join-Path $src 'a.txt')
            & chmod 755 (Join-Path $src 'sub/b.txt')
            & chmod 700 (Join-Path $src 'empty')
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'link') -Target 'a.txt'
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'dangling') -Target 'no/such/thing'
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'sub/up') -Target '../a.txt'
            Set-MTime (Join-Path $src 'a.txt') '2021-03-04 05:06:07.123456789'
            Set-MTime (Join-Path $src 'sub/b.txt') '2019-12-31 23:59:59.000000001'
            Set-MTime (Join-Path $src 'link') '2020-02-02 02:02:02.987654321'
            Set-MTime (Join-Path $src 'sub/deeper') '2018-01-01 00:00:00.5'
            Set-MTime (Join-Path $src 'empty') '2017-01-01 00:00:00.25'
            Set-MTime $src '2016-06-06 06:06:06.666666666'
            $script:dst = Join-Path $TestDrive 'basic-parent/missing/dst'
            $script:items = @(Sync-Directory -Path $src -Destination $dst -ErrorVariable syncErrors)
            $script:syncErrors = $syncErrors
        }

        It 'reports no errors' {
            $syncErrors.Count | Should -Be 0
        }

        It 'creates the destination and its parents' {
            Test-Path -LiteralPath $dst -PathType Container | Should -BeTrue
        }

        It 'replicates content, mode, mtime, symlinks and empty directories' {
            Assert-Replica $src $dst
        }

        It 'keeps modification times to the nanosecond (stat %y)' {
            Get-MTime (Join-Path $dst 'a.txt') | Should -BeLike '2021-03-04 05:06:07.123456789*'
            Get-MTime (Join-Path $dst 'sub/b.txt') | Should -Be (Get-MTime (Join-Path $src 'sub/b.txt'))
            Get-MTime (Join-Path $dst 'link') | Should -BeLike '2020-02-02 02:02:02.987654321*'
            Get-MTime (Join-Path $dst 'sub/deeper') | Should -BeLike '2018-01-01 00:00:00.500000000*'
            Get-MTime $dst | Should -BeLike '2016-06-06 06:06:06.666666666*'
        }

        It 'keeps modes' {
            & stat -c '%a' (Join-Path $dst 'a.txt') | Should -Be '640'
            & stat -c '%a' (Join-Path $dst 'sub/b.txt') | Should -Be '755'
            & stat -c '%a' (Join-Path $dst 'empty') | Should -Be '700'
        }

        It 'keeps symlink targets, including dangling ones, as links' {
            (Get-Item (Join-Path $dst 'link')).LinkTarget | Should -Be 'a.txt'
            (Get-Item (Join-Path $dst 'dangling')).LinkTarget | Should -Be 'no/such/thing'
            (Get-Item (Join-Path $dst 'sub/up')).LinkTarget | Should -Be '../a.txt'
            & test -e (Join-Path $dst 'dangling')
            $LASTEXITCODE | Should -Be 1 -Because 'the link is still dangling'
            & test -L (Join-Path $dst 'dangling')
            $LASTEXITCODE | Should -Be 0
        }

        It 'emits one SyncItem per action with the right Action, ItemType, Reason, Itemize and /-separated RelativePath' {
            $expected = @(
                '.|Create|Directory|New|cd+++++++++'
                'a.txt|Create|File|New|>f+++++++++'
                'dangling|Create|SymbolicLink|New|cL+++++++++'
                'empty|Create|Directory|New|cd+++++++++'
                'link|Create|SymbolicLink|New|cL+++++++++'
                'sub|Create|Directory|New|cd+++++++++'
                'sub/b.txt|Create|File|New|>f+++++++++'
                'sub/deeper|Create|Directory|New|cd+++++++++'
                'sub/deeper/c.txt|Create|File|New|>f+++++++++'
                'sub/emptier|Create|Directory|New|cd+++++++++'
                'sub/up|Create|SymbolicLink|New|cL+++++++++'
            )
            $actual = @($items | ForEach-Object { '{0}|{1}|{2}|{3}|{4}' -f $_.RelativePath, $_.Action, $_.ItemType, $_.Reason, $_.Itemize })
            ($actual -join "`n") | Should -Be ($expected -join "`n")
            $items | ForEach-Object { $_ | Should -BeOfType ([PSReplica.SyncItem]) }
        }

        It 'fills Length, BytesTransferred, paths and times of the items' {
            $a = $items | Where-Object RelativePath -EQ 'a.txt'
            $a.Length | Should -Be 5
            $a.BytesTransferred | Should -Be 5
            $a.DestinationPath | Should -Be (Join-Path $dst 'a.txt')
            $a.SourcePath | Should -Be (Join-Path $src 'a.txt')
            $a.LastWriteTimeUtc | Should -Be ([datetime]::new(2021, 3, 4, 5, 6, 7, [DateTimeKind]::Utc).AddTicks(1234567))
            ($items | Where-Object RelativePath -EQ 'link').LinkTarget | Should -Be 'a.txt'
            $a.ToString() | Should -Be '>f+++++++++ a.txt'
        }

        It 'leaves no temporary file' {
            Get-TempLeftover $dst | Should -BeNullOrEmpty
        }

        It 'emits nothing on a second run and changes nothing' {
            $before = Get-TreeHash $dst
            @(Sync-Directory -Path $src -Destination $dst -Delete -ErrorVariable again).Count | Should -Be 0
            $again.Count | Should -Be 0
            Get-TreeHash $dst | Should -Be $before
            @(Get-SyncPlan -Path $src -Destination $dst -Delete).Count | Should -Be 0
        }
    }

    Context 'itemized changes on an existing replica' {
        It 'itemizes <Name> as <Itemize> (<Action>, <Reason>)' -ForEach @(
            @{ Name = 'a size and time change'; Itemize = '>f.st......'; Action = 'Update'; Reason = 'SizeChanged'; Change = { param($f) [IO.File]::WriteAllText($f, 'longer content'); Set-MTime $f '2022-01-01' } }
            @{ Name = 'a time change'; Itemize = '>f..t......'; Action = 'Update'; Reason = 'TimeChanged'; Change = { param($f) Set-MTime $f '2022-01-01 00:00:00.000000001' } }
            @{ Name = 'a mode change'; Itemize = '.f...p.....'; Action = 'Metadata'; Reason = 'MetadataChanged'; Change = { param($f) & chmod 600 $f } }
            @{ Name = 'an owner change'; Itemize = '.f....o....'; Action = 'Metadata'; Reason = 'MetadataChanged'; Change = { param($f) & chown 12345 $f } }
            @{ Name = 'a group change'; Itemize = '.f.....g...'; Action = 'Metadata'; Reason = 'MetadataChanged'; Change = { param($f) & chgrp 23456 $f } }
        ) {
            $pair = New-Converged "item-$($Itemize -replace '\W', '_')" @{ 'f.txt' = 'content'; 'g.txt' = 'other' }
            $file = Join-Path $pair.Src 'f.txt'
            & $Change $file
            Sync-RootAttributes $pair.Src $pair.Dst
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -ErrorAction Stop)
            $out.Count | Should -Be 1
            $out[0].RelativePath | Should -Be 'f.txt'
            $out[0].Itemize | Should -Be $Itemize
            $out[0].Action | Should -Be $Action
            $out[0].Reason | Should -Be $Reason
            Assert-Replica $pair.Src $pair.Dst
        }

        It 'emits each item as it completes, before the next action starts' {
            $pair = New-Converged 'stream' @{ 'x.txt' = 'x' }
            foreach ($n in 'a', 'b', 'c') { Write-File (Join-Path $pair.Src "$n.txt") $n }
            Sync-RootAttributes $pair.Src $pair.Dst
            $hosted = New-HostedPowerShell
            try {
                $null = $hosted.PS.AddScript('param($s, $d) Sync-Directory -Path $s -Destination $d -Confirm | ForEach-Object { $Host.UI.WriteLine("item " + $_.RelativePath) }').
                    AddArgument($pair.Src).AddArgument($pair.Dst)
                $null = $hosted.PS.Invoke()
                $events = @($hosted.UI.Events | ForEach-Object { if ($_ -match '(?s)^prompt: .*/(\w)\.txt') { "prompt $($Matches[1])" } elseif ($_ -match '^line: (item .*)') { $Matches[1] } })
                ($events -join ',') | Should -Be 'prompt a,item a.txt,prompt b,item b.txt,prompt c,item c.txt'
            }
            finally { Close-HostedPowerShell $hosted }
        }
    }

    Context 'refusing bad roots' {
        It 'refuses <Case> with a terminating <Id> error and touches nothing' -ForEach @(
            @{ Case = 'the same path'; Id = 'SameSourceAndDestination' }
            @{ Case = 'the same directory through a symlink'; Id = 'SameSourceAndDestination' }
            @{ Case = 'a destination inside the source'; Id = 'DestinationInsideSource' }
            @{ Case = 'a source inside the destination'; Id = 'SourceInsideDestination' }
            @{ Case = 'a missing source'; Id = 'SourceNotFound' }
            @{ Case = 'a wildcard matching nothing'; Id = 'SourceNotFound' }
            @{ Case = 'a source that is not a file system path'; Id = 'SourceNotDirectory' }
            @{ Case = 'a destination that is a file'; Id = 'DestinationNotDirectory' }
            @{ Case = 'two sources holding the same file'; Id = 'SourceNameClash' }
            @{ Case = 'a remote source among local ones'; Id = 'InvalidParameterCombination' }
            @{ Case = '-Checksum with -SizeOnly'; Id = 'InvalidParameterCombination' }
            @{ Case = '-SizeOnly with -IgnoreTimes'; Id = 'InvalidParameterCombination' }
            @{ Case = 'a malformed -Exclude'; Id = 'InvalidFilterPattern' }
            @{ Case = 'a malformed -Include'; Id = 'InvalidFilterPattern' }
        ) {
            $root = Join-Path $TestDrive ("refuse-" + ($Case -replace '\W', '_'))
            $src = New-TestTree -Root (Join-Path $root 'src') -Files @{ 'a.txt' = 'a'; 'inner/b.txt' = 'b' }
            $other = New-TestTree -Root (Join-Path $root 'srcother') -Files @{ 'c.txt' = 'c' }
            $file = Join-Path $root 'file.txt'
            Write-File $file 'not a directory'
            $newDst = Join-Path $root 'newdst'
            $splat = switch ($Case) {
                'the same path' { @{ Path = $src; Destination = $src } }
                'the same directory through a symlink' {
                    $null = New-Item -ItemType SymbolicLink -Path (Join-Path $root 'alias') -Target $src
                    @{ Path = $src; Destination = (Join-Path $root 'alias') }
                }
                'a destination inside the source' { @{ Path = $src; Destination = (Join-Path $src 'backup') } }
                'a source inside the destination' { @{ Path = (Join-Path $src 'inner'); Destination = $src } }
                'a missing source' { @{ Path = (Join-Path $root 'nothing'); Destination = $newDst } }
                'a wildcard matching nothing' { @{ Path = (Join-Path $root 'nothing*'); Destination = $newDst } }
                'a source that is not a file system path' { @{ Path = 'Env:\PATH'; Destination = $newDst } }
                'a destination that is a file' { @{ Path = $src; Destination = $file } }
                'two sources holding the same file' { @{ Path = (Join-Path $root 'src*'), (New-TestTree -Root (Join-Path $root 'clash') -Files @{ 'a.txt' = 'another a' }); Destination = $newDst } }
                'a remote source among local ones' { @{ Path = @($src, 'someone@host.invalid:/data'); Destination = $newDst } }
                '-Checksum with -SizeOnly' { @{ Path = $src; Destination = $newDst; Checksum = $true; SizeOnly = $true } }
                '-SizeOnly with -IgnoreTimes' { @{ Path = $src; Destination = $newDst; SizeOnly = $true; IgnoreTimes = $true } }
                'a malformed -Exclude' { @{ Path = $src; Destination = $newDst; Exclude = '[abc' } }
                'a malformed -Include' { @{ Path = $src; Destination = $newDst; Include = 'x[' } }
            }
            $before = Get-TreeHash $root
            $out = $null
            $err = Get-TerminatingError { $out = Sync-Directory @splat -ErrorAction SilentlyContinue }
            $err | Should -Not -BeNullOrEmpty -Because 'the error must be terminating'
            $err.FullyQualifiedErrorId | Should -BeLike "$Id,*"
            $out | Should -BeNullOrEmpty
            Get-TreeHash $root | Should -Be $before
            Test-Path $newDst | Should -BeFalse
        }

        It 'reports DestinationCreateFailed when the destination cannot be created, and writes nothing' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'dcf-src') -Files @{ 'a.txt' = 'a' }
            $file = Join-Path $TestDrive 'dcf-file'
            Write-File $file 'x'
            $out = @(Sync-Directory -Path $src -Destination (Join-Path $file 'dst') -ErrorVariable errs -ErrorAction SilentlyContinue)
            Get-ErrorId $errs | Should -Contain 'DestinationCreateFailed'
            @($out | Where-Object Action -NE $null).Count | Should -Be 0
            [IO.File]::ReadAllText($file) | Should -Be 'x'
        }
    }

    Context 'source paths and pipeline input' {
        BeforeAll {
            $script:psrc = New-TestTree -Root (Join-Path $TestDrive 'pipe[1]-src') -Files @{ 'a.txt' = 'a'; 'd/b.txt' = 'b' }
            $script:plain = New-TestTree -Root (Join-Path $TestDrive 'pipe-plain-src') -Files @{ 'a.txt' = 'a'; 'd/b.txt' = 'b' }
            $script:n = 0
            function New-Dst { $script:n++; Join-Path $TestDrive "pipe-dst-$script:n" }
        }

        It 'accepts -LiteralPath with [ in the name' {
            $d = New-Dst
            $null = Sync-Directory -LiteralPath $psrc -Destination $d -ErrorAction Stop
            Assert-Replica $psrc $d
        }

        It 'treats -Path as a wildcard, so [1] in a name must be escaped or matched' {
            $d = New-Dst
            $null = Sync-Directory -Path ($psrc -replace 'pipe\[1\]', 'pipe?1?') -Destination $d -ErrorAction Stop
            Assert-Replica $psrc $d
        }

        It 'accepts -Source as an alias of -Path, and positional Path and Destination' {
            $d = New-Dst
            $null = Sync-Directory -Source $plain -Destination $d -ErrorAction Stop
            Assert-Replica $plain $d
            $e = New-Dst
            $null = Sync-Directory $plain $e -ErrorAction Stop
            Assert-Replica $plain $e
        }

        It 'accepts a -Path whose wildcard characters are escaped, as Get-Item does' {
            $d = New-Dst
            $escaped = [WildcardPattern]::Escape($psrc)
            (Get-Item -Path $escaped).FullName | Should -Be $psrc
            $null = Sync-Directory -Path $escaped -Destination $d -ErrorAction Stop
            Assert-Replica $psrc $d
        }

        It 'takes Path and Destination by property name from a pscustomobject' {
            $d = New-Dst
            $null = [pscustomobject]@{ Path = $plain; Destination = $d } | Sync-Directory -ErrorAction Stop
            Assert-Replica $plain $d
        }

        It 'takes LiteralPath and Destination by property name from a pscustomobject' {
            $d = New-Dst
            $null = [pscustomobject]@{ LiteralPath = $psrc; Destination = $d } | Sync-Directory -ErrorAction Stop
            Assert-Replica $psrc $d
        }

        It 'takes the directory from Get-Item through the pipeline' {
            $d = New-Dst
            $null = Get-Item -LiteralPath $psrc | Sync-Directory -Destination $d -ErrorAction Stop
            Assert-Replica $psrc $d
        }

        It 'runs once per piped pair' {
            $d1 = New-Dst; $d2 = New-Dst
            $out = @(@([pscustomobject]@{ Path = $plain; Destination = $d1 }, [pscustomobject]@{ Path = $plain; Destination = $d2 }) |
                    Sync-Directory -ErrorAction Stop)
            $out.Count | Should -Be 8
            Assert-Replica $plain $d1
            Assert-Replica $plain $d2
        }

        It 'resolves a relative destination against the current location' {
            $d = New-Dst
            Push-Location $TestDrive
            try { $null = Sync-Directory -LiteralPath $psrc -Destination (Split-Path $d -Leaf) -ErrorAction Stop }
            finally { Pop-Location }
            Assert-Replica $psrc $d
        }
    }

    Context '-Delete and -MaxDelete' {
        It 'without -Delete leaves extraneous items alone and does not mention them' {
            $pair = New-Converged 'nodel' @{ 'a.txt' = 'a' }
            $null = New-TestTree -Root $pair.Dst -Files @{ 'extra.txt' = 'x'; 'old/inner.txt' = 'y' }
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -ErrorAction Stop)
            @($out | Where-Object Action -EQ 'Delete').Count | Should -Be 0
            Test-Path (Join-Path $pair.Dst 'extra.txt') | Should -BeTrue
            Test-Path (Join-Path $pair.Dst 'old/inner.txt') | Should -BeTrue
        }

        It 'with -Delete removes extraneous files and directory trees, emitted as Delete/Extraneous' {
            $pair = New-Converged 'del' @{ 'a.txt' = 'a'; 'k/keep.txt' = 'k' }
            $null = New-TestTree -Root $pair.Dst -Files @{ 'extra.txt' = 'x'; 'old/inner.txt' = 'y'; 'old/deep/z.txt' = 'z'; 'k/gone.txt' = 'g' }
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $pair.Dst 'oldlink') -Target 'a.txt'
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -Delete -ErrorAction Stop)
            $deletes = @($out | Where-Object Action -EQ 'Delete')
            @($deletes.RelativePath) | Should -Be @('oldlink', 'old/inner.txt', 'old/deep/z.txt', 'old/deep', 'old', 'extra.txt', 'k/gone.txt')
            $deletes | ForEach-Object {
                $_.Reason | Should -Be 'Extraneous'
                $_.Itemize | Should -Be '*deleting  '
            }
            ($deletes | Where-Object RelativePath -EQ 'old').ItemType | Should -Be 'Directory'
            ($deletes | Where-Object RelativePath -EQ 'oldlink').ItemType | Should -Be 'SymbolicLink'
            Assert-Replica $pair.Src $pair.Dst
        }

        It 'with -MaxDelete <Max> deletes exactly <Max> items and then writes a MaxDeleteExceeded error' -ForEach @(
            @{ Max = 2 }, @{ Max = 0 }
        ) {
            $pair = New-Converged "maxdel$Max" @{ 'a.txt' = 'a' }
            $null = New-TestTree -Root $pair.Dst -Files @{ 'x1' = '1'; 'x2' = '2'; 'x3' = '3'; 'x4' = '4'; 'x5' = '5' }
            Write-File (Join-Path $pair.Src 'new.txt') 'n'
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -Delete -MaxDelete $Max -ErrorVariable errs -ErrorAction SilentlyContinue)
            @($out | Where-Object Action -EQ 'Delete').Count | Should -Be $Max
            @(Get-ChildItem $pair.Dst -Filter 'x*').Count | Should -Be (5 - $Max)
            Get-ErrorId $errs | Should -Be @('MaxDeleteExceeded')
            $errs[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
            Test-Path (Join-Path $pair.Dst 'new.txt') | Should -BeTrue
        }

        It 'with -MaxDelete <Max> counts what rsync --max-delete counts when items change kind: a replaced directory''s contents, not the replaced item' -ForEach @(
            @{ Max = 0; Over = $true }, @{ Max = 1; Over = $true }, @{ Max = 3; Over = $false }
        ) {
            # file -> link, link -> file, empty directory -> file and file -> directory are made whatever the limit; the
            # non-empty directory 'full' (two items) is replaced by a file only when both its items may be deleted.
            $trees = foreach ($who in 'ours', 'rsync') {
                $root = Join-Path $TestDrive "kind$Max-$who"
                $src = New-TestTree -Root "$root/src" -Files ([ordered]@{ 'a' = 'a'; 'tolink' = 't'; 'wasempty' = 'e'; 'full' = 'f'; 'wasfile/in' = 'i' })
                $dst = New-TestTree -Root "$root/dst" -Files ([ordered]@{ 'a' = 'a'; 'tofile' = 'f'; 'wasfile' = 'w'; 'full/x' = 'x'; 'extra' = 'e' })
                $null = New-Item -ItemType SymbolicLink -Path "$src/tofile" -Target 'a'
                Remove-Item -LiteralPath "$src/tolink"
                $null = New-Item -ItemType SymbolicLink -Path "$src/tolink" -Target 'a'
                Write-File "$dst/tolink" 'old'
                Remove-Item -LiteralPath "$dst/tofile"
                $null = New-Item -ItemType SymbolicLink -Path "$dst/tofile" -Target 'a'
                Remove-Item -LiteralPath "$src/tofile"
                Write-File "$src/tofile" 'now a file'
                $null = New-Item -ItemType Directory -Path "$dst/wasempty"
                $null = New-Item -ItemType Directory -Path "$dst/full/deep"
                @{ Src = $src; Dst = $dst; Who = $who }
            }
            $ours, $theirs = $trees
            $null = & rsync -a --delete "--max-delete=$Max" "$($theirs.Src)/" "$($theirs.Dst)/" 2>&1
            # 23 when rsync also reports it "could not make way" for the file 'full'.
            $LASTEXITCODE | Should -BeIn $(if ($Over) { @(23, 25) } else { @(0) })
            $null = Sync-Directory -Path $ours.Src -Destination $ours.Dst -Delete -MaxDelete $Max -ErrorVariable errs -ErrorAction SilentlyContinue
            Get-ErrorId $errs | Should -Be $(if ($Over) { @('MaxDeleteExceeded') } else { @() })
            $listing = { param($root) (& find $root -mindepth 1 -printf '%P|%y\n' | Sort-Object -CaseSensitive) -join ', ' }
            & $listing $ours.Dst | Should -Be (& $listing $theirs.Dst)
            (Get-Item -LiteralPath "$($ours.Dst)/tolink").LinkType | Should -Be 'SymbolicLink'
            Test-Path -LiteralPath "$($ours.Dst)/extra" | Should -Be ($Max -lt 1)
        }

        It 'with -MaxDelete <Max> deletes the items rsync --max-delete deletes (reverse name order, a directory''s contents first)' -ForEach @(
            @{ Max = 1 }, @{ Max = 2 }, @{ Max = 4 }
        ) {
            $trees = foreach ($who in 'ours', 'rsync') {
                $root = Join-Path $TestDrive "order$Max-$who"
                $src = New-TestTree -Root "$root/src" -Files @{ 'k' = 'keep'; 'sub/k2' = 'keep' }
                $dst = New-TestTree -Root "$root/dst" -Files @{ 'k' = 'keep'; 'a1' = '1'; 'a2' = '2'; 'x/in' = '3'; 'x/y/z' = '4'; 'sub/k2' = 'keep'; 'sub/m' = '5'; 'sub/n' = '6' }
                @{ Src = $src; Dst = $dst }
            }
            $ours, $theirs = $trees
            $null = & rsync -a --delete "--max-delete=$Max" "$($theirs.Src)/" "$($theirs.Dst)/" 2>&1
            $null = Sync-Directory -Path $ours.Src -Destination $ours.Dst -Delete -MaxDelete $Max -ErrorAction SilentlyContinue
            $listing = { param($root) (& find $root -mindepth 1 -printf '%P|%y\n' | Sort-Object -CaseSensitive) -join ', ' }
            & $listing $ours.Dst | Should -Be (& $listing $theirs.Dst)
        }

        It 'with -MaxDelete at or above the number of deletions writes no error' {
            $pair = New-Converged 'maxdelok' @{ 'a.txt' = 'a' }
            $null = New-TestTree -Root $pair.Dst -Files @{ 'x1' = '1'; 'x2' = '2' }
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -Delete -MaxDelete 2 -ErrorVariable errs)
            @($out | Where-Object Action -EQ 'Delete').Count | Should -Be 2
            $errs.Count | Should -Be 0
        }

        It 'keeps an extraneous directory that holds an excluded file, with a warning and no error, as rsync does' {
            $pair = New-Converged 'delfail' @{ 'a.txt' = 'a' }
            $null = New-TestTree -Root $pair.Dst -Files @{ 'old/keep.bak' = 'k'; 'old/x.txt' = 'x'; 'z.txt' = 'z' }
            Write-File (Join-Path $pair.Src 'new.txt') 'n'
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -Delete -Exclude '*.bak' -ErrorVariable errs -ErrorAction SilentlyContinue -WarningVariable warns -WarningAction SilentlyContinue)
            $errs.Count | Should -Be 0
            @($warns | Where-Object { "$_" -like "*Keeping the directory 'old'*" }).Count | Should -Be 1
            Test-Path (Join-Path $pair.Dst 'old/keep.bak') | Should -BeTrue
            Test-Path (Join-Path $pair.Dst 'old/x.txt') | Should -BeFalse
            Test-Path (Join-Path $pair.Dst 'z.txt') | Should -BeFalse
            Test-Path (Join-Path $pair.Dst 'new.txt') | Should -BeTrue
            @($out.RelativePath) | Should -Not -Contain 'old'
        }
    }

    Context 'filters' {
        BeforeAll {
            $script:fsrc = New-TestTree -Root (Join-Path $TestDrive 'filter-src') -Files ([ordered]@{
                    'a.txt' = 'a'; 'a.bak' = 'b'; 'keep.bak' = 'k'; 'file1.txt' = '1'; 'file10.txt' = '10'; 'log5' = '5'; 'logx' = 'x'
                    'top.txt' = 't'; 'sub/top.txt' = 't2'; 'sub/x.bak' = 'xb'; 'cache/f' = 'c'; 'sub/cache' = 'file named cache'
                    'deep/a/b/z.txt' = 'z'; 'deep/z.txt' = 'z0'; 'deep/a/y.txt' = 'y'; 'gen/out/o.txt' = 'o'; 'gen/keep.txt' = 'g' })
            $script:rules = @{ Exclude = @('*.bak', 'file?.txt', 'log[0-9]', '/top.txt', 'cache/', 'deep/**/z.txt', 'gen/out/'); Include = @('keep.bak') }
        }

        It 'transfers exactly what rsync transfers with the same --include/--exclude rules (*, ?, [..], **, /anchor, dir/)' {
            $dst = Join-Path $TestDrive 'filter-dst'
            $out = @(Sync-Directory -Path $fsrc -Destination $dst @rules -ErrorAction Stop)
            $rsyncDst = Join-Path $TestDrive 'filter-rsync'
            $rsyncArgs = @('-a') + @($rules.Include | ForEach-Object { "--include=$_" }) + @($rules.Exclude | ForEach-Object { "--exclude=$_" }) + @("$fsrc/", "$rsyncDst/")
            & rsync @rsyncArgs
            $LASTEXITCODE | Should -Be 0
            # Times are left out: rsync itself does not always keep the time of a directory whose contents were all excluded.
            ((Get-TreeState $dst -NoRoot -NoTimes) -join "`n") | Should -Be ((Get-TreeState $rsyncDst -NoRoot -NoTimes) -join "`n")
            $names = @($out.RelativePath)
            $names | Should -Contain 'keep.bak'
            $names | Should -Contain 'file10.txt'
            $names | Should -Contain 'sub/top.txt'
            $names | Should -Contain 'sub/cache'
            $names | Should -Contain 'deep/a/y.txt'
            foreach ($excluded in 'a.bak', 'sub/x.bak', 'file1.txt', 'log5', 'top.txt', 'cache', 'deep/a/b/z.txt', 'gen/out') {
                $names | Should -Not -Contain $excluded
                Test-Path (Join-Path $dst $excluded) | Should -BeFalse
            }
        }

        It 'takes rsync''s "- ", "+ " and "!" in -Exclude and -Include patterns as rsync --exclude and --include do: <Case>' -ForEach @(
            @{ Case = 'include prefix'; Include = @(); Exclude = @('+ keep.bak', '*.bak') }
            @{ Case = 'exclude prefix in -Include'; Include = @('- *.txt'); Exclude = @() }
            @{ Case = 'clear'; Include = @('keep.bak'); Exclude = @('*.bak', '!', 'log?') }
            @{ Case = 'no space, no prefix'; Include = @(); Exclude = @('-a.txt', '+ cache/') }
        ) {
            $name = $Case -replace '\W', ''
            $dst = Join-Path $TestDrive "prefix-$name"
            $null = Sync-Directory -Path $fsrc -Destination $dst -Include $Include -Exclude $Exclude -ErrorAction Stop
            $rsyncDst = Join-Path $TestDrive "prefix-rsync-$name"
            $rsyncArgs = @('-a') + @($Include | ForEach-Object { "--include=$_" }) + @($Exclude | ForEach-Object { "--exclude=$_" }) + @("$fsrc/", "$rsyncDst/")
            & rsync @rsyncArgs
            $LASTEXITCODE | Should -Be 0
            ((Get-TreeState $dst -NoRoot -NoTimes) -join "`n") | Should -Be ((Get-TreeState $rsyncDst -NoRoot -NoTimes) -join "`n")
        }

        It 'keeps excluded destination files under -Delete' {
            $dst = Join-Path $TestDrive 'filter-del'
            $null = Sync-Directory -Path $fsrc -Destination $dst @rules -ErrorAction Stop
            $null = New-TestTree -Root $dst -Files @{ 'old.bak' = 'o'; 'old.txt' = 'o'; 'sub/old.bak' = 'o'; 'cache/x' = 'x' }
            $out = @(Sync-Directory -Path $fsrc -Destination $dst @rules -Delete -ErrorAction Stop)
            @($out | Where-Object Action -EQ 'Delete' | ForEach-Object RelativePath) | Should -Be @('old.txt')
            Test-Path (Join-Path $dst 'old.bak') | Should -BeTrue
            Test-Path (Join-Path $dst 'sub/old.bak') | Should -BeTrue
            Test-Path (Join-Path $dst 'cache/x') | Should -BeTrue
        }

        It 'applies a -Filter object from New-SyncFilter, after -Include/-Exclude' {
            $dst = Join-Path $TestDrive 'filter-obj'
            $filter = New-SyncFilter -Exclude '*.txt' -Include 'a.txt'
            $out = @(Sync-Directory -Path $fsrc -Destination $dst -Filter $filter -Include 'top.txt' -Exclude 'sub/' -ErrorAction Stop)
            $files = @($out | Where-Object ItemType -EQ 'File' | ForEach-Object RelativePath)
            $files | Should -Contain 'a.txt'
            $files | Should -Contain 'top.txt'
            $files | Should -Contain 'a.bak'
            $files | Should -Not -Contain 'file10.txt'
            $files | Should -Not -Contain 'deep/a/y.txt'
            Test-Path (Join-Path $dst 'sub') | Should -BeFalse
        }
    }

    Context 'filter rules (-FilterRule, -UseFilterFiles, -DeleteExcluded) against rsync' {
        BeforeAll {
            # Builds a source and a destination with per-directory rule files on both sides; returns @{ Src; Dst }.
            function New-RulePair([string] $Name) {
                $src = New-TestTree -Root (Join-Path $TestDrive "$Name-src") -Files ([ordered]@{
                        'a.txt' = 'a'; 'x.o' = 'o'; 'keep.log' = 'k'; 'sub/b.txt' = 'b'; 'sub/y.o' = 'y'; 'sub/deep/c.txt' = 'c'
                        'sub/.rsync-filter' = "- *.txt`n"; 'lib/z.txt' = 'z' })
                $dst = New-TestTree -Root (Join-Path $TestDrive "$Name-dst") -Files ([ordered]@{
                        'old.log' = 'o'; 'old.o' = 'o'; 'local/conf' = 'c'; 'sub/stale.txt' = 's'; 'sub/stale.o' = 's'
                        'gone/f.o' = 'f'; 'gone/k.log' = 'k'; 'lib/.rsync-filter' = "P *.keep`n"; 'lib/mine.keep' = 'm'; 'lib/other' = 'x' })
                @{ Src = $src; Dst = $dst }
            }

            # Runs rsync and Sync-Directory on copies of the same pair and returns both final trees.
            function Compare-WithRsync([string] $Name, [string[]] $RsyncOptions, [hashtable] $Parameters) {
                $pair = New-RulePair "$Name-ours"
                $theirs = New-RulePair "$Name-rsync"
                # rsync reports "cannot delete non-empty directory" on stdout; only the trees are compared.
                $null = & rsync -r @RsyncOptions "$($theirs.Src)/" "$($theirs.Dst)/" 2>&1
                $LASTEXITCODE | Should -BeIn @(0, 23)
                $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst @Parameters -WarningAction SilentlyContinue -ErrorAction Stop)
                @{
                    Ours = ((Get-ChildItem -LiteralPath $pair.Dst -Recurse -Force -Name | Sort-Object) -join ', ')
                    Rsync = ((Get-ChildItem -LiteralPath $theirs.Dst -Recurse -Force -Name | Sort-Object) -join ', ')
                    Out = $out
                }
            }
        }

        It '<Case>: leaves the destination as rsync <Rsync> does' -ForEach @(
            @{ Case = 'exclude and protect'; Rsync = "--delete -f '- *.o' -f 'P /local/'"; RsyncOptions = @('--delete', '-f', '- *.o', '-f', 'P /local/'); Parameters = @{ Delete = $true; FilterRule = '- *.o', 'P /local/' } }
            @{ Case = 'hide is not protect'; Rsync = "--delete -f 'H *.log'"; RsyncOptions = @('--delete', '-f', 'H *.log'); Parameters = @{ Delete = $true; FilterRule = @('H *.log') } }
            @{ Case = 'perishable'; Rsync = "--delete -f '-p *.o'"; RsyncOptions = @('--delete', '-f', '-p *.o'); Parameters = @{ Delete = $true; FilterRule = @('-p *.o') } }
            @{ Case = 'delete-excluded'; Rsync = "--delete-excluded -f '- *.o' -f 'P *.log'"; RsyncOptions = @('--delete-excluded', '-f', '- *.o', '-f', 'P *.log'); Parameters = @{ DeleteExcluded = $true; FilterRule = '- *.o', 'P *.log' } }
            @{ Case = 'per-directory files'; Rsync = '--delete -F'; RsyncOptions = @('--delete', '-F'); Parameters = @{ Delete = $true; UseFilterFiles = $true } }
            @{ Case = 'per-directory files, excluded themselves'; Rsync = '--delete -FF'; RsyncOptions = @('--delete', '-FF'); Parameters = @{ Delete = $true; UseFilterFiles = $true; FilterRule = @('- .rsync-filter') } }
            @{ Case = 'include before exclude before filter'; Rsync = "--include=keep.log --exclude='*.log' -f '- sub/'"; RsyncOptions = @('--delete', '--include=keep.log', '--exclude=*.log', '-f', '- sub/'); Parameters = @{ Delete = $true; Include = 'keep.log'; Exclude = '*.log'; FilterRule = @('- sub/') } }
        ) {
            $result = Compare-WithRsync ($Case -replace '\W', '') $RsyncOptions $Parameters
            $result.Ours | Should -Be $result.Rsync
        }

        It 'protects a destination file with a P rule while deleting its unprotected neighbours' {
            $result = Compare-WithRsync 'protect' @('--delete', '-f', 'P old.*') @{ Delete = $true; FilterRule = @('P old.*') }
            $result.Ours | Should -Be $result.Rsync
            $result.Ours | Should -Match 'old\.log'
            $deleted = @($result.Out | Where-Object Action -EQ 'Delete' | ForEach-Object RelativePath)
            $deleted | Should -Contain 'gone/f.o'
            $deleted | Should -Not -Contain 'old.o'
        }

        It 'never enters an excluded source directory' {
            # A malformed rule file inside the excluded directory would stop the run if it were entered and read.
            $src = New-TestTree -Root (Join-Path $TestDrive 'noenter-src') -Files @{ 'ok/a' = 'a'; 'secret/b' = 'b'; 'secret/.rsync-filter' = "not a rule`n" }
            $dst = Join-Path $TestDrive 'noenter-dst'
            $out = @(Get-SyncPlan -Path $src -Destination $dst -FilterRule '- /secret/' -UseFilterFiles -ErrorAction Stop)
            @($out.RelativePath) | Should -Be @('.', 'ok', 'ok/a')
            { Get-SyncPlan -Path $src -Destination $dst -UseFilterFiles -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidFilterRule,PSReplica.Commands.GetSyncPlanCommand'
        }

        It 'stops with InvalidFilterRule, naming the file and line, when a per-directory file is malformed' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'badrule-src') -Files @{ 'd/.rsync-filter' = "- ok`nnot a rule`n"; 'd/x' = 'x' }
            $dst = Join-Path $TestDrive 'badrule-dst'
            $err = $null
            try { $null = Sync-Directory -Path $src -Destination $dst -UseFilterFiles -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'InvalidFilterRule,*'
            $err.Exception.Message | Should -BeLike "*'not a rule'*$(Join-Path $src 'd/.rsync-filter'), line 2*"
        }

        It 'rejects a malformed -FilterRule before touching anything' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'badinline-src') -Files @{ 'x' = 'x' }
            $dst = Join-Path $TestDrive 'badinline-dst'
            $err = $null
            try { $null = Sync-Directory -Path $src -Destination $dst -FilterRule '- fine', 'Hs x' -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'InvalidFilterRule,*'
            $err.Exception.Message | Should -BeLike "*'Hs x' (rule 2 given inline)*"
            Test-Path $dst | Should -BeFalse
        }
    }

    Context 'comparison options' {
        BeforeEach {
            $script:pair = New-Converged "cmp-$([guid]::NewGuid().ToString('n').Substring(0, 8))" @{ 'a.txt' = 'aaaa'; 'b.txt' = 'bbbb' }
            $script:sa = Join-Path $pair.Src 'a.txt'
            $script:da = Join-Path $pair.Dst 'a.txt'
        }

        It 'with -Checksum updates a file whose content differs behind equal size and time (ChecksumChanged); without it skips it' {
            $time = Get-MTime $sa
            [IO.File]::WriteAllText($sa, 'AAAA')
            Set-MTime $sa $time
            Sync-RootAttributes $pair.Src $pair.Dst
            @(Sync-Directory -Path $pair.Src -Destination $pair.Dst).Count | Should -Be 0
            [IO.File]::ReadAllText($da) | Should -Be 'aaaa'
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -Checksum -ErrorAction Stop)
            $out.Count | Should -Be 1
            $out[0].Action | Should -Be 'Update'
            $out[0].Reason | Should -Be 'ChecksumChanged'
            $out[0].Itemize | Should -Be '>fc........'
            [IO.File]::ReadAllText($da) | Should -Be 'AAAA'
            Assert-Replica $pair.Src $pair.Dst
        }

        It 'with -Checksum gives an equal file the exact time when it differs below the second (as rsync -c), and converges' {
            Set-MTime $sa '2020-05-05 05:05:05.25'
            Set-MTime $da '2020-05-05 05:05:05.75'
            Sync-RootAttributes $pair.Src $pair.Dst
            @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -ErrorAction Stop).Count | Should -Be 0
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -Checksum -ErrorAction Stop)
            $out.Count | Should -Be 1
            $out[0].Action | Should -Be 'Metadata'
            $out[0].Itemize | Should -Be '.f..t......'
            Get-MTime $da | Should -Be (Get-MTime $sa)
            @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -Checksum -ErrorAction Stop).Count | Should -Be 0
        }

        It 'with -SizeOnly skips a same-size file whose content and time differ, but updates a size change' {
            [IO.File]::WriteAllText($sa, 'AAAA')
            Set-MTime $sa '2030-01-01'
            [IO.File]::WriteAllText((Join-Path $pair.Src 'b.txt'), 'bbbbbb')
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -SizeOnly -ErrorAction Stop)
            [IO.File]::ReadAllText($da) | Should -Be 'aaaa'
            [IO.File]::ReadAllText((Join-Path $pair.Dst 'b.txt')) | Should -Be 'bbbbbb'
            ($out | Where-Object RelativePath -EQ 'b.txt').Reason | Should -Be 'SizeChanged'
            @($out | Where-Object { $_.RelativePath -eq 'a.txt' -and $_.Action -eq 'Update' }).Count | Should -Be 0
        }

        It 'with -IgnoreTimes transfers unchanged files again (Reason IgnoreTimes)' {
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -IgnoreTimes -ErrorAction Stop)
            @($out | Where-Object Reason -EQ 'IgnoreTimes' | ForEach-Object RelativePath) | Should -Be @('a.txt', 'b.txt')
            $out | ForEach-Object { $_.BytesTransferred | Should -Be 4 }
        }

        It 'compares whole seconds without -ModifyWindow, as rsync does, and nanoseconds with -ModifyWindow -1' {
            Set-MTime $sa '2020-05-05 05:05:05.000000001'
            Set-MTime $da '2020-05-05 05:05:05.000000002'
            Sync-RootAttributes $pair.Src $pair.Dst
            @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -ErrorAction Stop).Count | Should -Be 0
            Get-MTime $da | Should -BeLike '2020-05-05 05:05:05.000000002*'
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -ModifyWindow -1 -ErrorAction Stop)
            $out.Count | Should -Be 1
            $out[0].Reason | Should -Be 'TimeChanged'
            Get-MTime $da | Should -BeLike '2020-05-05 05:05:05.000000001*'
        }

        It 'with -ModifyWindow <Window> treats a <Delta>s difference as <Verdict>' -ForEach @(
            @{ Window = 1; Delta = 1; Verdict = 'equal' }
            @{ Window = 2; Delta = 1; Verdict = 'equal' }
            @{ Window = 2; Delta = 2; Verdict = 'equal' }
            @{ Window = 1; Delta = 3; Verdict = 'different' }
            @{ Window = 0; Delta = 1; Verdict = 'different' }
        ) {
            Set-MTime $sa '2020-01-01 00:00:10'
            Set-MTime $da ('2020-01-01 00:00:{0:00}' -f (10 + $Delta))
            Sync-RootAttributes $pair.Src $pair.Dst
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -ModifyWindow $Window -ErrorAction Stop)
            if ($Verdict -eq 'equal') {
                $out.Count | Should -Be 0
                Get-MTime $da | Should -BeLike ('2020-01-01 00:00:{0:00}*' -f (10 + $Delta))
            }
            else {
                $out.Count | Should -Be 1
                $out[0].Reason | Should -Be 'TimeChanged'
            }
        }

        It 'with -Update keeps a newer destination file but updates an older one' {
            [IO.File]::WriteAllText($da, 'newer in destination')
            Set-MTime $da '2035-01-01'
            $sb = Join-Path $pair.Src 'b.txt'
            [IO.File]::WriteAllText($sb, 'newer in source')
            Set-MTime $sb '2036-01-01'
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -Update -ErrorAction Stop)
            [IO.File]::ReadAllText($da) | Should -Be 'newer in destination'
            [IO.File]::ReadAllText((Join-Path $pair.Dst 'b.txt')) | Should -Be 'newer in source'
            @($out.RelativePath) | Should -Not -Contain 'a.txt'
            $none = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -ErrorAction Stop)
            [IO.File]::ReadAllText($da) | Should -Be 'aaaa'
            $none.RelativePath | Should -Contain 'a.txt'
        }

        It 'with -Update -ModifyWindow 2 keeps what rsync -u --modify-window=2 keeps: a file the source is not 2 s newer than, mode and all' {
            # rsync -u skips a file whose source time less the destination's is below the window, also when the times are
            # equal (then not even its mode is fixed); a source 2 s newer is equal under the window and gets its mode.
            $trees = foreach ($who in 'ours', 'rsync') {
                $src = New-TestTree -Root (Join-Path $TestDrive "upwin-$who-src") -Files @{ 'older1' = 'new'; 'same' = 'same'; 'older2' = 'two'; 'older3' = 'three' }
                $dst = New-TestTree -Root (Join-Path $TestDrive "upwin-$who-dst") -Files @{ 'older1' = 'old-and-longer'; 'same' = 'same'; 'older2' = 'two'; 'older3' = 'old' }
                foreach ($name in 'older1', 'same', 'older2', 'older3') { & chmod 640 -- (Join-Path $src $name); & chmod 644 -- (Join-Path $dst $name); Set-MTime (Join-Path $src $name) '2025-05-25 02:08:50' }
                Set-MTime (Join-Path $dst 'older1') '2025-05-25 02:08:49'
                Set-MTime (Join-Path $dst 'same') '2025-05-25 02:08:50'
                Set-MTime (Join-Path $dst 'older2') '2025-05-25 02:08:48'
                Set-MTime (Join-Path $dst 'older3') '2025-05-25 02:08:47'
                Sync-RootAttributes $src $dst
                @{ Src = $src; Dst = $dst }
            }
            $null = Sync-Directory -Path "$($trees[0].Src)/" -Destination $trees[0].Dst -Update -ModifyWindow 2 -ErrorAction Stop
            $null = & rsync -a -u --modify-window=2 "$($trees[1].Src)/" "$($trees[1].Dst)/" 2>&1
            $LASTEXITCODE | Should -Be 0
            foreach ($name in 'older1', 'same', 'older2', 'older3') {
                $ours = Join-Path $trees[0].Dst $name
                $theirs = Join-Path $trees[1].Dst $name
                "$name $([IO.File]::ReadAllText($ours)) $(& stat -c '%a %Y' -- $ours)" | Should -Be "$name $([IO.File]::ReadAllText($theirs)) $(& stat -c '%a %Y' -- $theirs)"
            }
            [IO.File]::ReadAllText((Join-Path $trees[0].Dst 'older1')) | Should -Be 'old-and-longer'
            [IO.File]::ReadAllText((Join-Path $trees[0].Dst 'older3')) | Should -Be 'three'
        }

        It 'with -IgnoreExisting keeps a file where the source has a directory, without -Delete, with one ExistingItemKept error' {
            # It was deleted to make room for the directory, though nothing asked for deletions (rsync keeps it).
            $src = New-TestTree -Root (Join-Path $TestDrive 'ignex-dir-src') -Files @{ 'd/child' = 'in'; 'other' = 'o' }
            $dst = New-TestTree -Root (Join-Path $TestDrive 'ignex-dir-dst') -Files @{ 'd' = 'old' }
            # The two roots were made apart, maybe in different seconds: the root's own Metadata item is not this test's.
            Sync-RootAttributes $src $dst
            $out = @(Sync-Directory -Path $src -Destination $dst -IgnoreExisting -ErrorVariable failures -ErrorAction SilentlyContinue)
            [IO.File]::ReadAllText((Join-Path $dst 'd')) | Should -Be 'old'
            @($failures).Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'ExistingItemKept*'
            $out.RelativePath | Should -Be @('other')
        }

        It 'with -IgnoreExisting creates new files but leaves existing ones alone' {
            [IO.File]::WriteAllText($sa, 'changed in source')
            Write-File (Join-Path $pair.Src 'n.txt') 'new'
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -IgnoreExisting -ErrorAction Stop)
            [IO.File]::ReadAllText($da) | Should -Be 'aaaa'
            [IO.File]::ReadAllText((Join-Path $pair.Dst 'n.txt')) | Should -Be 'new'
            @($out | Where-Object ItemType -EQ 'File' | ForEach-Object RelativePath) | Should -Be @('n.txt')
        }
    }

    Context '-Preserve and -CopyLinks' {
        It 'with -Preserve Times does not copy the mode onto an existing file, and gives new files the source mode less the umask' {
            $pair = New-Converged 'pres-times' @{ 'a.txt' = 'aaaa' }
            & chmod 600 (Join-Path $pair.Dst 'a.txt')
            [IO.File]::WriteAllText((Join-Path $pair.Src 'a.txt'), 'changed content')
            & chmod 777 (Join-Path $pair.Src 'a.txt')
            Set-MTime (Join-Path $pair.Src 'a.txt') '2021-01-01 01:01:01.1'
            Write-File (Join-Path $pair.Src 'n.txt') 'n'
            & chmod 666 (Join-Path $pair.Src 'n.txt')
            $null = Sync-Directory -Path $pair.Src -Destination $pair.Dst -Preserve Times -ErrorAction Stop
            [IO.File]::ReadAllText((Join-Path $pair.Dst 'a.txt')) | Should -Be 'changed content'
            & stat -c '%a' (Join-Path $pair.Dst 'a.txt') | Should -Be '600'
            Get-MTime (Join-Path $pair.Dst 'a.txt') | Should -BeLike '2021-01-01 01:01:01.100000000*'
            $umask = [Convert]::ToInt32((& sh -c umask), 8)
            & stat -c '%a' (Join-Path $pair.Dst 'n.txt') | Should -Be ([Convert]::ToString(0x1B6 -band -bnot $umask, 8))
        }

        It 'without Permissions in -Preserve gives new items no set-user-ID, set-group-ID or sticky bit (as rsync without -p)' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'pres-special-src') -Files @{ 'tool' = '#!/bin/sh'; 'd/f' = 'f' }
            & chmod 4755 (Join-Path $src 'tool')
            & chmod 2775 (Join-Path $src 'd')
            & chmod 1777 $src
            $dst = Join-Path $TestDrive 'pres-special-dst'
            $null = Sync-Directory -Path $src -Destination $dst -Preserve Times, Links -ErrorAction Stop
            $umask = [Convert]::ToInt32((& sh -c umask), 8)
            & stat -c '%a' (Join-Path $dst 'tool') | Should -Be ([Convert]::ToString(0x1ED -band -bnot $umask, 8))
            & stat -c '%a' (Join-Path $dst 'd') | Should -Be ([Convert]::ToString(0x1FD -band -bnot $umask, 8))
            & stat -c '%a' $dst | Should -Be ([Convert]::ToString(0x1FF -band -bnot $umask, 8))
            # With Permissions they are the source's, special bits and all.
            $exact = Join-Path $TestDrive 'pres-special-exact'
            $null = Sync-Directory -Path $src -Destination $exact -Preserve Times, Links, Permissions -ErrorAction Stop
            & stat -c '%a' (Join-Path $exact 'tool') | Should -Be '4755'
            & stat -c '%a' (Join-Path $exact 'd') | Should -Be '2775'
        }

        It 'without Times in -Preserve leaves the transfer time on the file' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'pres-notimes-src') -Files @{ 'a.txt' = 'a' }
            Set-MTime (Join-Path $src 'a.txt') '2001-01-01'
            $dst = Join-Path $TestDrive 'pres-notimes-dst'
            $null = Sync-Directory -Path $src -Destination $dst -Preserve Permissions, Links -ErrorAction Stop
            (Get-Item (Join-Path $dst 'a.txt')).LastWriteTimeUtc.Year | Should -BeGreaterThan 2001
        }

        It 'without Links in -Preserve skips symlinks with a warning' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'pres-nolinks-src') -Files @{ 'a.txt' = 'a' }
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'l') -Target 'a.txt'
            $dst = Join-Path $TestDrive 'pres-nolinks-dst'
            $out = @(Sync-Directory -Path $src -Destination $dst -Preserve Times, Permissions -WarningVariable warns -WarningAction SilentlyContinue -ErrorAction Stop)
            Test-Path (Join-Path $dst 'l') | Should -BeFalse
            Test-Path (Join-Path $dst 'a.txt') | Should -BeTrue
            @($out.RelativePath) | Should -Not -Contain 'l'
            $warns.Count | Should -Be 1
            "$($warns[0])" | Should -BeLike "*'l'*"
        }

        It 'as root replicates owner and group by default, and not when -Preserve leaves them out' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'pres-owner-src') -Files @{ 'o.txt' = 'o'; 'd/p.txt' = 'p' }
            & chown 12345:23456 (Join-Path $src 'o.txt') (Join-Path $src 'd')
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'l') -Target 'o.txt'
            & chown -h 12345:23456 (Join-Path $src 'l')
            $dst = Join-Path $TestDrive 'pres-owner-dst'
            $null = Sync-Directory -Path $src -Destination $dst -ErrorAction Stop
            & stat -c '%u:%g' (Join-Path $dst 'o.txt') | Should -Be '12345:23456'
            & stat -c '%u:%g' (Join-Path $dst 'd') | Should -Be '12345:23456'
            & stat -c '%u:%g' (Join-Path $dst 'l') | Should -Be '12345:23456'
            & stat -c '%u:%g' (Join-Path $dst 'd/p.txt') | Should -Be '0:0'
            $dst2 = Join-Path $TestDrive 'pres-owner-dst2'
            $null = Sync-Directory -Path $src -Destination $dst2 -Preserve Times, Permissions, Links -ErrorAction Stop
            & stat -c '%u:%g' (Join-Path $dst2 'o.txt') | Should -Be '0:0'
            $dst3 = Join-Path $TestDrive 'pres-owner-dst3'
            $null = Sync-Directory -Path $src -Destination $dst3 -Preserve Times, Permissions, Links, Group -ErrorAction Stop
            & stat -c '%u:%g' (Join-Path $dst3 'o.txt') | Should -Be '0:23456'
        }

        It 'with -CopyLinks replaces links by their referents' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'copylinks-src') -Files @{ 'a.txt' = 'alpha'; 'd/in.txt' = 'inside' }
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'fl') -Target 'a.txt'
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'dl') -Target 'd'
            $dst = Join-Path $TestDrive 'copylinks-dst'
            $out = @(Sync-Directory -Path $src -Destination $dst -CopyLinks -ErrorAction Stop)
            (Get-Item (Join-Path $dst 'fl')).LinkTarget | Should -BeNullOrEmpty
            [IO.File]::ReadAllText((Join-Path $dst 'fl')) | Should -Be 'alpha'
            (Get-Item (Join-Path $dst 'dl')).LinkTarget | Should -BeNullOrEmpty
            [IO.File]::ReadAllText((Join-Path $dst 'dl/in.txt')) | Should -Be 'inside'
            ($out | Where-Object RelativePath -EQ 'fl').ItemType | Should -Be 'File'
            ($out | Where-Object RelativePath -EQ 'dl/in.txt').Itemize | Should -Be '>f+++++++++'
        }

        It 'with -CopyLinks reports a dangling link as SymbolicLinkNoReferent and copies the rest' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'copylinks-dangling-src') -Files @{ 'a.txt' = 'a'; 'z.txt' = 'z' }
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'm') -Target 'missing'
            $dst = Join-Path $TestDrive 'copylinks-dangling-dst'
            $null = Sync-Directory -Path $src -Destination $dst -CopyLinks -ErrorVariable errs -ErrorAction SilentlyContinue
            Get-ErrorId $errs | Should -Be @('SymbolicLinkNoReferent')
            $errs[0].TargetObject | Should -Be 'm'
            Test-Path (Join-Path $dst 'z.txt') | Should -BeTrue
            Test-Path (Join-Path $dst 'm') | Should -BeFalse
            [System.IO.File]::Exists((Join-Path $dst 'm')) | Should -BeFalse
        }

        It 'with -CopyLinks reports a link back to an ancestor as a ScanError instead of looping' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'copylinks-loop-src') -Files @{ 'a.txt' = 'a' }
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'loop') -Target '.'
            $dst = Join-Path $TestDrive 'copylinks-loop-dst'
            $null = Sync-Directory -Path $src -Destination $dst -CopyLinks -ErrorVariable errs -ErrorAction SilentlyContinue
            Get-ErrorId $errs | Should -Contain 'ScanError'
            Test-Path (Join-Path $dst 'a.txt') | Should -BeTrue
            Test-Path (Join-Path $dst 'loop/loop') | Should -BeFalse
        }
    }

    Context 'type changes' {
        It 'replaces <From> by <To> (-Delete: <Delete>)' -ForEach @(
            foreach ($d in $false, $true) {
                @{ From = 'file'; To = 'directory'; Delete = $d }
                @{ From = 'directory'; To = 'file'; Delete = $d }
                @{ From = 'empty directory'; To = 'file'; Delete = $d }
                @{ From = 'file'; To = 'symlink'; Delete = $d }
                @{ From = 'symlink'; To = 'file'; Delete = $d }
                @{ From = 'symlink'; To = 'directory'; Delete = $d }
                @{ From = 'directory'; To = 'symlink'; Delete = $d }
            }
        ) {
            $name = "type-$($From -replace ' ', '')-$To-$Delete"
            $src = New-TestTree -Root (Join-Path $TestDrive "$name-src") -Files @{ 'z.txt' = 'z' }
            $dst = New-TestTree -Root (Join-Path $TestDrive "$name-dst") -Files @{ 'z.txt' = 'z' }
            # The two z.txt may differ below the second, which the quick check (like rsync's) ignores.
            & touch -h -r (Join-Path $src 'z.txt') (Join-Path $dst 'z.txt')
            $make = {
                param($root, $kind)
                $path = Join-Path $root 'x'
                switch ($kind) {
                    'file' { Write-File $path 'file content' }
                    'directory' { Write-File (Join-Path $path 'child.txt') 'child'; $null = New-Item -ItemType Directory (Join-Path $path 'grand') }
                    'empty directory' { $null = New-Item -ItemType Directory $path }
                    'symlink' { $null = New-Item -ItemType SymbolicLink -Path $path -Target 'z.txt' }
                }
            }
            & $make $dst $From
            & $make $src $To
            $out = @(Sync-Directory -Path $src -Destination $dst -Delete:$Delete -ErrorVariable errs -ErrorAction SilentlyContinue)
            if ($From -eq 'directory' -and -not $Delete) {
                Get-ErrorId $errs | Should -Be @('CannotReplaceNonEmptyDirectory')
                Test-Path -LiteralPath (Join-Path $dst 'x/child.txt') | Should -BeTrue
                [IO.File]::ReadAllText((Join-Path $dst 'z.txt')) | Should -Be 'z'
                return
            }
            $errs.Count | Should -Be 0
            Assert-Replica $src $dst
            $xItems = @($out | Where-Object { $_.RelativePath -eq 'x' })
            $xItems[0].Action | Should -Be 'Delete'
            $xItems[0].Reason | Should -Be 'TypeChanged'
            $xItems[-1].Action | Should -Be 'Create'
            $xItems[-1].Reason | Should -Be 'TypeChanged'
        }

        It 'replaces a non-empty directory with -Delete, deleting its contents first' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'type-order-src') -Files @{ 'x' = 'file' }
            $dst = New-TestTree -Root (Join-Path $TestDrive 'type-order-dst') -Files @{ 'x/a.txt' = 'a'; 'x/b/c.txt' = 'c' }
            $out = @(Sync-Directory -Path $src -Destination $dst -Delete -ErrorAction Stop)
            @($out | Where-Object RelativePath -Like 'x*' | ForEach-Object { "$($_.Action) $($_.RelativePath)" }) |
                Should -Be @('Delete x/b/c.txt', 'Delete x/b', 'Delete x/a.txt', 'Delete x', 'Create x')
        }
    }

    Context '-TransferMode and -BlockSize' {
        BeforeAll {
            # A 2 MiB file whose replica then changes: 100 bytes in front and one byte in the middle.
            function New-DeltaPair([string] $Name) {
                $pair = New-Converged $Name @{ 'keep.txt' = 'k' }
                $bytes = [byte[]]::new(2MB)
                [Random]::new(7).NextBytes($bytes)
                [IO.File]::WriteAllBytes((Join-Path $pair.Src 'data.bin'), $bytes)
                $null = Sync-Directory -Path $pair.Src -Destination $pair.Dst -ErrorAction Stop
                $bytes[1MB] = [byte](($bytes[1MB] + 1) % 256)
                [IO.File]::WriteAllBytes((Join-Path $pair.Src 'data.bin'), [byte[]]::new(100) + $bytes)
                Set-MTime (Join-Path $pair.Src 'data.bin') '2021-02-03 04:05:06.123456789'
                $pair
            }
        }

        It 'sends only what differs with -TransferMode Delta and reports literal and matched bytes' {
            $pair = New-DeltaPair 'delta'
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -TransferMode Delta -ErrorAction Stop | Where-Object RelativePath -eq 'data.bin')
            $out.Count | Should -Be 1
            $out[0].Action | Should -Be 'Update'
            $out[0].BytesTransferred | Should -BeLessThan 8KB
            $out[0].BytesTransferred | Should -BeGreaterOrEqual 100
            ($out[0].BytesTransferred + $out[0].BytesMatched) | Should -Be (2MB + 100)
            Assert-Replica $pair.Src $pair.Dst
        }

        It 'copies whole files by default and with -TransferMode <Mode>' -ForEach @(@{ Mode = 'Auto' }, @{ Mode = 'WholeFile' }) {
            $pair = New-DeltaPair "whole-$Mode"
            $item = Sync-Directory -Path $pair.Src -Destination $pair.Dst -TransferMode $Mode -ErrorAction Stop | Where-Object RelativePath -eq 'data.bin'
            $item.BytesTransferred | Should -Be (2MB + 100)
            $item.BytesMatched | Should -Be 0
            Assert-Replica $pair.Src $pair.Dst
        }

        It 'shows the speedup in the summary as rsync --stats does' {
            $pair = New-DeltaPair 'delta-summary'
            $summary = Sync-Directory -Path $pair.Src -Destination $pair.Dst -TransferMode Delta -Summary -ErrorAction Stop
            $summary.BytesMatched | Should -BeGreaterThan (2MB - 8KB)
            $summary.Speedup | Should -BeGreaterThan 100
            [Math]::Abs($summary.Speedup - $summary.TotalBytes / $summary.BytesTransferred) | Should -BeLessThan 0.001
        }

        It 'uses -BlockSize: with 64-byte blocks the changed byte costs at most two blocks of literal data' {
            $pair = New-DeltaPair 'delta-block'
            $item = Sync-Directory -Path $pair.Src -Destination $pair.Dst -TransferMode Delta -BlockSize 64 -ErrorAction Stop | Where-Object RelativePath -eq 'data.bin'
            $item.BytesTransferred | Should -BeLessOrEqual (100 + 2 * 64)
            Assert-Replica $pair.Src $pair.Dst
        }

        It 'rejects -BlockSize <Size> before touching anything' -ForEach @(@{ Size = 63 }, @{ Size = 131073 }) {
            $pair = New-DeltaPair "delta-bad-$Size"
            $before = (Get-TreeState $pair.Dst) -join "`n"
            { Sync-Directory -Path $pair.Src -Destination $pair.Dst -TransferMode Delta -BlockSize $Size } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PSReplica.Commands.SyncDirectoryCommand'
            (Get-TreeState $pair.Dst) -join "`n" | Should -Be $before
        }
    }

    Context '-ThrottleLimit' {
        BeforeAll {
            $script:ThrottleFiles = @{}
            foreach ($i in 1..40) { $script:ThrottleFiles["d$($i % 4)/f$i.txt"] = "file $i" }
        }

        It 'makes the same replica with <Limit> copy worker(s)' -ForEach @(@{ Limit = 1 }, @{ Limit = 64 }) {
            $src = New-TestTree -Root (Join-Path $TestDrive "throttle-$Limit-src") -Files $script:ThrottleFiles
            $dst = Join-Path $TestDrive "throttle-$Limit-dst"
            $output = @(Sync-Directory -Path $src -Destination $dst -ThrottleLimit $Limit -Debug -ErrorAction Stop 5>&1)
            @($output | Where-Object { $_ -is [PSReplica.SyncItem] -and $_.ItemType -eq 'File' }).Count | Should -Be 40
            @($output | Where-Object { $_ -is [System.Management.Automation.DebugRecord] } | ForEach-Object Message) |
                Should -Contain "Running the actions as they are planned with up to $Limit copy worker(s)"
            Assert-Replica $src $dst
        }

        It 'rejects -ThrottleLimit <Limit> before touching anything' -ForEach @(@{ Limit = 0 }, @{ Limit = 65 }) {
            $src = New-TestTree -Root (Join-Path $TestDrive "throttle-bad-$Limit-src") -Files $script:ThrottleFiles
            $dst = Join-Path $TestDrive "throttle-bad-$Limit-dst"
            { Sync-Directory -Path $src -Destination $dst -ThrottleLimit $Limit } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PSReplica.Commands.SyncDirectoryCommand'
            Test-Path -LiteralPath $dst | Should -BeFalse
        }
    }

    Context '-Summary' {
        It 'emits exactly one SyncSummary with correct counts' {
            $pair = New-Converged 'summary' @{ 'same.txt' = 'same'; 'upd.txt' = 'old'; 'mode.txt' = 'm' }
            Write-File (Join-Path $pair.Src 'new1.txt') '12345'
            Write-File (Join-Path $pair.Src 'd/new2.txt') '1234567'
            [IO.File]::WriteAllText((Join-Path $pair.Src 'upd.txt'), 'updated')
            & chmod 600 (Join-Path $pair.Src 'mode.txt')
            Write-File (Join-Path $pair.Dst 'gone1.txt') 'x'
            Write-File (Join-Path $pair.Dst 'gone2.txt') 'y'
            $plan = @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Delete)
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -Delete -Summary -ErrorAction Stop)
            $out.Count | Should -Be 1
            $s = $out[0]
            $s | Should -BeOfType ([PSReplica.SyncSummary])
            $s.Created | Should -Be 3
            $s.Updated | Should -Be 1
            $s.Deleted | Should -Be 2
            $s.MetadataUpdated | Should -Be @($plan | Where-Object Action -EQ 'Metadata').Count
            $s.MetadataUpdated | Should -BeGreaterOrEqual 1
            ($s.Created + $s.Updated + $s.Deleted + $s.MetadataUpdated) | Should -Be $plan.Count
            $s.Skipped | Should -Be 0
            $s.Errors | Should -Be 0
            $s.FilesTotal | Should -Be 5
            $s.ItemsTotal | Should -Be 6
            $s.TotalBytes | Should -Be (4 + 7 + 1 + 5 + 7)
            $s.BytesTransferred | Should -Be (5 + 7 + 7)
            $s.Speedup | Should -Be ((4 + 7 + 1 + 5 + 7) / (5 + 7 + 7))
            $s.Source | Should -Be $pair.Src
            $s.Destination | Should -Be $pair.Dst
            $s.DeletionsSkipped | Should -BeFalse
            $s.Duration | Should -BeOfType ([double])
            $s.Duration | Should -BeGreaterOrEqual 0
            Assert-Replica $pair.Src $pair.Dst
        }

        It 'counts skipped deletions and errors' {
            $pair = New-Converged 'summary-max' @{ 'a.txt' = 'a' }
            $null = New-TestTree -Root $pair.Dst -Files @{ 'x1' = '1'; 'x2' = '2'; 'x3' = '3' }
            $s = Sync-Directory -Path $pair.Src -Destination $pair.Dst -Delete -MaxDelete 1 -Summary -ErrorAction SilentlyContinue
            @($s).Count | Should -Be 1
            $s.Deleted | Should -Be 1
            $s.Skipped | Should -Be 2
            $s.Errors | Should -Be 1
        }
    }

    Context 'temporary files' {
        It 'removes a leftover .~psr temp file in the destination on the next run, reported as Delete/TemporaryFile, without -Delete' {
            $pair = New-Converged 'tmp-left' @{ 'a.txt' = 'a'; 'd/b.txt' = 'b' }
            Write-File (Join-Path $pair.Dst '.~psr0a1b2c3d~a.txt') 'partial'
            Write-File (Join-Path $pair.Dst 'd/.~psrdeadbeef~b.txt') 'partial'
            Write-File (Join-Path $pair.Dst '.~psrNOTHEX0~x.txt') 'not ours'
            $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -ErrorAction Stop)
            $temps = @($out | Where-Object Reason -EQ 'TemporaryFile')
            @($temps.RelativePath) | Should -Be @('.~psr0a1b2c3d~a.txt', 'd/.~psrdeadbeef~b.txt')
            $temps | ForEach-Object { $_.Action | Should -Be 'Delete' }
            Test-Path -LiteralPath (Join-Path $pair.Dst '.~psr0a1b2c3d~a.txt') | Should -BeFalse
            Test-Path -LiteralPath (Join-Path $pair.Dst 'd/.~psrdeadbeef~b.txt') | Should -BeFalse
            Test-Path -LiteralPath (Join-Path $pair.Dst '.~psrNOTHEX0~x.txt') | Should -BeTrue
        }

        It 'replicates a source file that happens to have a temp-file name, and keeps it' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'tmp-src-src') -Files @{ '.~psr01234567~data' = 'real data'; 'a.txt' = 'a' }
            $dst = Join-Path $TestDrive 'tmp-src-dst'
            $out = @(Sync-Directory -Path $src -Destination $dst -ErrorAction Stop)
            ($out | Where-Object RelativePath -EQ '.~psr01234567~data').Action | Should -Be 'Create'
            [IO.File]::ReadAllText((Join-Path $dst '.~psr01234567~data')) | Should -Be 'real data'
            @(Sync-Directory -Path $src -Destination $dst -Delete -ErrorAction Stop).Count | Should -Be 0
            Test-Path -LiteralPath (Join-Path $dst '.~psr01234567~data') | Should -BeTrue
        }

        It 'does not count temp-file removal against -MaxDelete' {
            $pair = New-Converged 'tmp-max' @{ 'a.txt' = 'a' }
            Write-File (Join-Path $pair.Dst '.~psr00000000~a.txt') 'partial'
            $null = Sync-Directory -Path $pair.Src -Destination $pair.Dst -Delete -MaxDelete 0 -ErrorVariable errs -ErrorAction SilentlyContinue
            $errs.Count | Should -Be 0
            Test-Path -LiteralPath (Join-Path $pair.Dst '.~psr00000000~a.txt') | Should -BeFalse
        }
    }

    Context '-WhatIf and -Confirm' {
        It '-WhatIf prints one "What if:" line per planned action and changes nothing' {
            $pair = New-Converged 'whatif' @{ 'same.txt' = 's'; 'upd.txt' = 'u'; 'mode.txt' = 'm' }
            Write-File (Join-Path $pair.Src 'new.txt') 'n'
            [IO.File]::WriteAllText((Join-Path $pair.Src 'upd.txt'), 'updated')
            & chmod 600 (Join-Path $pair.Src 'mode.txt')
            Write-File (Join-Path $pair.Dst 'extra.txt') 'x'
            $plan = @(Get-SyncPlan -Path $pair.Src -Destination $pair.Dst -Delete)
            $before = Get-TreeHash $pair.Dst
            $fresh = New-TestTree -Root (Join-Path $TestDrive 'whatif-fresh-src') -Files @{ 'a.txt' = 'a'; 'd/b.txt' = 'b'; 'd/e/c.txt' = 'c' }
            $freshDst = Join-Path $TestDrive 'whatif-fresh-dst'
            $freshPlan = @(Get-SyncPlan -Path $fresh -Destination $freshDst)
            $cmd = "Import-Module '$env:PSREPLICA_MODULE'; Sync-Directory -Path '$($pair.Src)' -Destination '$($pair.Dst)' -Delete -WhatIf; '-----'; " +
            "Sync-Directory -Path '$fresh' -Destination '$freshDst' -WhatIf"
            $run = Invoke-ChildPwsh $cmd
            $run.ExitCode | Should -Be 0
            $sep = [array]::IndexOf($run.Output, '-----')
            $sep | Should -BeGreaterThan -1
            $lines = @($run.Output[0..($sep - 1)] | Where-Object { $_ -like 'What if:*' })
            $lines.Count | Should -Be $plan.Count
            foreach ($item in $plan) {
                @($lines | Where-Object { $_.Contains($item.DestinationPath + '"') }).Count | Should -Be 1 -Because "$($item.RelativePath) is planned"
            }
            Get-TreeHash $pair.Dst | Should -Be $before
            @($run.Output | Where-Object { $_ -notlike 'What if:*' -and $_ -ne '-----' -and $_.Trim() }).Count | Should -Be 0

            $freshLines = @($run.Output[($sep + 1)..($run.Output.Count - 1)] | Where-Object { $_ -like 'What if:*' })
            Test-Path $freshDst | Should -BeFalse
            $freshLines.Count | Should -Be $freshPlan.Count -Because 'every action of a fresh replica should be shown, not only the root'
        }

        It '-Confirm asks once per action; declining a file leaves only that file out' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'confirm-src') -Files @{ 'a.txt' = 'a'; 'b.txt' = 'b'; 'c.txt' = 'c'; 'd/e.txt' = 'e' }
            $dst = Join-Path $TestDrive 'confirm-dst'
            $planCount = @(Get-SyncPlan -Path $src -Destination $dst).Count
            $hosted = New-HostedPowerShell
            try {
                $hosted.UI.Rules.Add([PSReplicaTests.PromptRule]::new('/b.txt"', [PSReplicaTests.CmdletTestHostUI]::No))
                $out = $hosted.PS.AddCommand('Sync-Directory').AddParameter('Path', $src).AddParameter('Destination', $dst).AddParameter('Confirm', $true).Invoke()
                $hosted.PS.Streams.Error.Count | Should -Be 0
                $hosted.UI.Prompts.Count | Should -Be $planCount
                $hosted.UI.Prompts | Where-Object { $_ -like '*b.txt*' } | Should -Not -BeNullOrEmpty
                Test-Path (Join-Path $dst 'b.txt') | Should -BeFalse
                foreach ($f in 'a.txt', 'c.txt', 'd/e.txt') { Test-Path (Join-Path $dst $f) | Should -BeTrue }
                @($out.RelativePath) | Should -Not -Contain 'b.txt'
                @($out).Count | Should -Be ($planCount - 1)
            }
            finally { Close-HostedPowerShell $hosted }
        }

        It '-Confirm: declining a directory skips its contents without asking' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'confirm-dir-src') -Files @{ 'a.txt' = 'a'; 'd/e.txt' = 'e'; 'd/f/g.txt' = 'g' }
            $dst = Join-Path $TestDrive 'confirm-dir-dst'
            $hosted = New-HostedPowerShell
            try {
                $hosted.UI.Rules.Add([PSReplicaTests.PromptRule]::new("$dst/d`"", [PSReplicaTests.CmdletTestHostUI]::No))
                $null = $hosted.PS.AddCommand('Sync-Directory').AddParameter('Path', $src).AddParameter('Destination', $dst).AddParameter('Confirm', $true).Invoke()
                Test-Path (Join-Path $dst 'a.txt') | Should -BeTrue
                Test-Path (Join-Path $dst 'd') | Should -BeFalse
                @($hosted.UI.Prompts | Where-Object { $_ -like '*/d/*' }).Count | Should -Be 0
                $hosted.UI.Prompts.Count | Should -Be 3
            }
            finally { Close-HostedPowerShell $hosted }
        }
    }

    Context 'per-item errors are non-terminating and the run goes on' {
        BeforeAll {
            # Runs Sync-Directory -Confirm in a hosted runspace whose prompt for $Match first applies $Rule's change.
            function Invoke-WithHook([string] $Src, [string] $Dst, [PSReplicaTests.PromptRule] $Rule, [hashtable] $Extra = @{}) {
                $hosted = New-HostedPowerShell
                try {
                    $hosted.UI.Rules.Add($Rule)
                    $cmd = $hosted.PS.AddCommand('Sync-Directory').AddParameter('Path', $Src).AddParameter('Destination', $Dst).AddParameter('Confirm', $true)
                    foreach ($k in $Extra.Keys) { $null = $cmd.AddParameter($k, $Extra[$k]) }
                    $out = @($cmd.Invoke())
                    [pscustomobject]@{ Output = $out; Errors = @($hosted.PS.Streams.Error); HadErrors = $hosted.PS.HadErrors }
                }
                finally { Close-HostedPowerShell $hosted }
            }
        }

        It 'reports SourceVanished for a source file deleted after planning, and copies the rest' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'vanish-src') -Files @{ 'a.txt' = 'a'; 'v.txt' = 'v'; 'z.txt' = 'z' }
            $dst = Join-Path $TestDrive 'vanish-dst'
            $rule = [PSReplicaTests.PromptRule]::new('/v.txt"', 0); $rule.DeleteBeforeAnswer = Join-Path $src 'v.txt'
            $r = Invoke-WithHook $src $dst $rule
            Get-ErrorId $r.Errors | Should -Be @('SourceVanished')
            $r.Errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            Test-Path (Join-Path $dst 'z.txt') | Should -BeTrue
            Test-Path (Join-Path $dst 'v.txt') | Should -BeFalse
            Get-TempLeftover $dst | Should -BeNullOrEmpty
            @($r.Output.RelativePath) | Should -Not -Contain 'v.txt'
        }

        It 'reports SourceChangedSinceListing for a source file replaced by a link after the scan (never followed), and copies the rest' {
            $src = New-TestTree -Root (Join-Path $TestDrive 'readerr-src') -Files @{ 'a.txt' = 'a'; 'r.txt' = 'r'; 'z.txt' = 'z' }
            $dst = Join-Path $TestDrive 'readerr-dst'
            $rule = [PSReplicaTests.PromptRule]::new('/r.txt"', 0); $rule.DeleteBeforeAnswer = Join-Path $src 'r.txt'; $rule.ReplaceWithLinkLoop = $true
            $r = Invoke-WithHook $src $dst $rule
            Get-ErrorId $r.Errors | Should -Be @('SourceChangedSinceListing')
            Test-Path (Join-Path $dst 'z.txt') | Should -BeTrue
            [IO.File]::Exists((Join-Path $dst 'r.txt')) | Should -BeFalse
            Get-TempLeftover $dst | Should -BeNullOrEmpty
        }

        It 'reports FileWriteError when the destination directory vanishes before a copy, and copies the rest' {
            $pair = New-Converged 'writeerr' @{ 'sub/old.txt' = 'o'; 'z.txt' = 'z' }
            Write-File (Join-Path $pair.Src 'sub/new.txt') 'n'
            Write-File (Join-Path $pair.Src 'zz.txt') 'zz'
            $rule = [PSReplicaTests.PromptRule]::new('/sub/new.txt"', 0); $rule.DeleteBeforeAnswer = Join-Path $pair.Dst 'sub'
            $r = Invoke-WithHook $pair.Src $pair.Dst $rule
            Get-ErrorId $r.Errors | Should -Contain 'FileWriteError'
            Test-Path (Join-Path $pair.Dst 'zz.txt') | Should -BeTrue
        }

        It 'reports SymbolicLinkFailed when a link cannot be created, and copies the rest' {
            $pair = New-Converged 'linkerr' @{ 'sub/old.txt' = 'o'; 'z.txt' = 'z' }
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $pair.Src 'sub/l') -Target 'old.txt'
            Write-File (Join-Path $pair.Src 'zz.txt') 'zz'
            $rule = [PSReplicaTests.PromptRule]::new('/sub/l"', 0); $rule.DeleteBeforeAnswer = Join-Path $pair.Dst 'sub'
            $r = Invoke-WithHook $pair.Src $pair.Dst $rule
            Get-ErrorId $r.Errors | Should -Contain 'SymbolicLinkFailed'
            Test-Path (Join-Path $pair.Dst 'zz.txt') | Should -BeTrue
        }

        It 'reports MetadataFailed when a file''s attributes cannot be set, and goes on' {
            $pair = New-Converged 'metaerr' @{ 'm.txt' = 'm'; 'z.txt' = 'z' }
            & chmod 600 (Join-Path $pair.Src 'm.txt')
            Write-File (Join-Path $pair.Src 'zz.txt') 'zz'
            $rule = [PSReplicaTests.PromptRule]::new('/m.txt"', 0); $rule.DeleteBeforeAnswer = Join-Path $pair.Dst 'm.txt'
            $r = Invoke-WithHook $pair.Src $pair.Dst $rule
            Get-ErrorId $r.Errors | Should -Be @('MetadataFailed')
            Test-Path (Join-Path $pair.Dst 'zz.txt') | Should -BeTrue
        }

        It 'reports PermissionDenied for an immutable destination directory, and copies the rest' {
            if (-not $ChattrWorks) { Set-ItResult -Inconclusive -Because 'chattr +i is not supported on this file system' ; return }
            $pair = New-Converged 'perm' @{ 'locked/old.txt' = 'o'; 'z.txt' = 'z' }
            Write-File (Join-Path $pair.Src 'locked/new.txt') 'n'
            Write-File (Join-Path $pair.Src 'zz.txt') 'zz'
            $locked = Join-Path $pair.Dst 'locked'
            & chattr +i $locked
            try {
                $out = @(Sync-Directory -Path $pair.Src -Destination $pair.Dst -ErrorVariable errs -ErrorAction SilentlyContinue)
            }
            finally { & chattr -i $locked }
            Get-ErrorId $errs | Should -Contain 'PermissionDenied'
            ($errs | Where-Object { $_.FullyQualifiedErrorId -like 'PermissionDenied,*' } | Select-Object -First 1).CategoryInfo.Category | Should -Be 'PermissionDenied'
            Test-Path (Join-Path $pair.Dst 'zz.txt') | Should -BeTrue
            Test-Path (Join-Path $locked 'new.txt') | Should -BeFalse
            Get-TempLeftover $pair.Dst | Should -BeNullOrEmpty
            @($out.RelativePath) | Should -Contain 'zz.txt'
        }

        It 'as an unprivileged user: ScanError for an unreadable subdirectory, DeletionSkippedAfterIoError, and SourceUnreadable for the root' {
            $work = Join-Path $TestDrive 'unpriv'
            $src = New-TestTree -Root (Join-Path $work 'src') -Files @{ 'ok.txt' = 'ok'; 'locked/secret.txt' = 's' }
            & chmod 700 (Join-Path $src 'locked')
            $dst = New-TestTree -Root (Join-Path $work 'dst') -Files @{ 'extra.txt' = 'x' }
            $closed = New-TestTree -Root (Join-Path $work 'closed') -Files @{ 'c.txt' = 'c' }
            & chmod 700 $closed
            & chown -R 65534:65534 $dst
            & chmod 755 $TestDrive $work
            $script = @"
`$out = @(Sync-Directory -Path '$src' -Destination '$dst' -Delete -ErrorVariable e1 -ErrorAction SilentlyContinue)
`$summary = Sync-Directory -Path '$src' -Destination '$dst' -Delete -Summary -ErrorAction SilentlyContinue
`$rootErr = `$null
try { Sync-Directory -Path '$closed' -Destination '$work/dst2' -ErrorAction SilentlyContinue } catch { `$rootErr = `$_.FullyQualifiedErrorId }
[pscustomobject]@{
    User = [Environment]::UserName
    Ids = @(`$e1 | ForEach-Object { (`$_.FullyQualifiedErrorId -split ',')[0] })
    Items = @(`$out | ForEach-Object RelativePath)
    OkCopied = Test-Path '$dst/ok.txt'
    ExtraKept = Test-Path '$dst/extra.txt'
    DeletionsSkipped = `$summary.DeletionsSkipped
    SummaryErrors = `$summary.Errors
    SummaryDeleted = `$summary.Deleted
    RootError = `$rootErr
    Dst2Exists = Test-Path '$work/dst2'
} | ConvertTo-Json -Compress
"@
            $r = Invoke-Unprivileged -Script $script -WorkDir $work
            $r.User | Should -Be 'nobody'
            $r.Ids | Should -Contain 'ScanError'
            $r.Ids | Should -Contain 'DeletionSkippedAfterIoError'
            $r.OkCopied | Should -BeTrue
            $r.ExtraKept | Should -BeTrue
            $r.Items | Should -Contain 'ok.txt'
            $r.Items | Should -Not -Contain 'extra.txt'
            $r.DeletionsSkipped | Should -BeTrue
            $r.SummaryDeleted | Should -Be 0
            $r.SummaryErrors | Should -BeGreaterOrEqual 2
            $r.RootError | Should -BeLike 'SourceUnreadable,*'
            $r.Dst2Exists | Should -BeFalse
        }
    }

    Context 'progress' {
        BeforeAll {
            # Syncs a source holding the given file sizes into an empty destination in a hosted PowerShell and
            # returns the progress records it wrote.
            function Get-ProgressRecords([string] $Name, [System.Collections.IDictionary] $Sizes) {
                $src = Join-Path $TestDrive "$Name-src"
                $null = New-Item -ItemType Directory $src
                foreach ($file in $Sizes.Keys) { & fallocate -l $Sizes[$file] (Join-Path $src $file) }
                $dst = Join-Path $TestDrive "$Name-dst"
                $null = New-Item -ItemType Directory $dst
                Sync-RootAttributes $src $dst
                $ps = New-PlainPowerShell
                try {
                    $null = $ps.AddCommand('Sync-Directory').AddParameter('Path', $src).AddParameter('Destination', $dst).Invoke()
                    @($ps.Streams.Progress)
                }
                finally { $ps.Dispose() }
            }
        }

        It 'writes scanning, transfer, child and completed progress records' {
            $records = Get-ProgressRecords 'progress' ([ordered]@{ 'small.txt' = '1'; 'big.bin' = '40MiB' })
            $records.Count | Should -BeGreaterThan 2
            $scan = @($records | Where-Object { $_.StatusDescription -like 'Scanning*' })
            $scan.Count | Should -BeGreaterThan 0
            $scan | ForEach-Object { $_.PercentComplete | Should -Be -1 }
            $scan[0].Activity | Should -Be 'Sync-Directory'
            $transfer = @($records | Where-Object { $_.ParentActivityId -lt 0 -and $_.RecordType -eq 'Processing' -and $_.StatusDescription -like '* of * items, *' })
            $transfer.Count | Should -BeGreaterThan 0
            $child = @($records | Where-Object { $_.ParentActivityId -ge 0 -and $_.RecordType -eq 'Processing' })
            $child.Count | Should -BeGreaterThan 0
            $child[0].ParentActivityId | Should -Be $scan[0].ActivityId
            $child[0].Activity | Should -BeLike '*big.bin*'
            $child[0].PercentComplete | Should -BeGreaterOrEqual 0
            $child[0].PercentComplete | Should -BeLessThan 100
            @($child | Where-Object { $_.PercentComplete -gt 0 -and $_.PercentComplete -lt 100 }).Count | Should -BeGreaterThan 0
            $records[-1].RecordType | Should -Be 'Completed'
            $records[-1].ActivityId | Should -Be $scan[0].ActivityId
            @($records | Where-Object { $_.RecordType -eq 'Completed' -and $_.ActivityId -eq $child[0].ActivityId }).Count | Should -BeGreaterThan 0
        }

        It 'writes a child record for a file of 16 MiB or more even when it is copied in one chunk' {
            $records = Get-ProgressRecords 'progress16' @{ 'mid.bin' = '24MiB' }
            @($records | Where-Object { $_.ParentActivityId -ge 0 -and $_.RecordType -eq 'Processing' }).Count | Should -BeGreaterThan 0
        }
    }

    Context 'stopping (Ctrl+C)' {
        It 'leaves neither a partial file under the final name nor a temp file when stopped mid-copy' {
            $src = Join-Path $TestDrive 'stop-src'
            $null = New-Item -ItemType Directory $src
            & fallocate -l 1GiB (Join-Path $src 'huge.bin')
            $LASTEXITCODE | Should -Be 0
            $dst = Join-Path $TestDrive 'stop-dst'
            $null = New-Item -ItemType Directory $dst
            Sync-RootAttributes $src $dst
            $ps = New-PlainPowerShell
            $watcher = [PSReplicaTests.ProgressWatcher]::new($ps.Streams.Progress)
            try {
                $null = $ps.AddCommand('Sync-Directory').AddParameter('Path', $src).AddParameter('Destination', $dst)
                $async = $ps.BeginInvoke()
                $moving = $watcher.WaitForBytesMoving([timespan]::FromSeconds(60), $async.AsyncWaitHandle)
                $moving | Should -BeTrue -Because 'progress must show the copy under way before it ends'
                $ps.Stop()
                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            }
            finally {
                $watcher.Dispose()
                $ps.Dispose()
            }
            $final = Join-Path $dst 'huge.bin'
            if (Test-Path $final) {
                (Get-Item $final).Length | Should -Be 1GB -Because 'a file under the final name must be complete'
            }
            Test-Path $final | Should -BeFalse -Because 'the stop came while the copy was at most a few chunks in'
            Get-TempLeftover $dst | Should -BeNullOrEmpty
        }
    }
}
