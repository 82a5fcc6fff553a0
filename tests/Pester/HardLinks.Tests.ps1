# Differential test of -Preserve HardLinks against Debian's rsync -aH: hard-link groups of the source (in one
# directory, across directories, with a member already in the destination, with a destination name that is a
# separate copy or a link to another file) come out as the same groups in both destinations. Trees are compared item
# by item and by group: for each file, the sorted list of names sharing its inode.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-hardlinks-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $script:WorkRoot

    . (Join-Path $PSScriptRoot 'Support/TestFiles.ps1')

    function New-Fixture([string] $Root) {
        $src = "$Root/src"
        $dest = "$Root/dest"
        Write-TestFile "$src/a" 'group one'
        & ln -- "$src/a" "$src/b"
        $null = New-Item -ItemType Directory -Path "$src/sub"
        & ln -- "$src/a" "$src/sub/c"
        Write-TestFile "$src/x/one" 'group two'
        & ln -- "$src/x/one" "$src/y-two"
        Write-TestFile "$src/single" 'no group'
        # The destination already holds parts: 'a' as a copy, 'b' a separate copy, 'y-two' linked to 'single'.
        Write-TestFile "$dest/a" 'group one'
        Write-TestFile "$dest/b" 'group one'
        Write-TestFile "$dest/single" 'no group'
        & ln -- "$dest/single" "$dest/y-two"
        foreach ($tree in $src, $dest) { & find $tree -type d -exec touch -d '2026-01-03 00:00:00' '{}' + }
    }

    function Get-Tree([string] $Root) {
        foreach ($line in (& find $Root -mindepth 1 -printf '%P|%y|%m|%s|%T@|%n\n' | Sort-Object -CaseSensitive)) {
            $fields = $line.Split('|')
            if ($fields[1] -eq 'd') { $fields[3] = '-' }
            $fields -join '|'
        }
    }

    function Get-Groups([string] $Root) {
        $byInode = @{}
        foreach ($line in (& find $Root -type f -printf '%i %P\n')) {
            $inode, $rel = $line.Split(' ', 2)
            if (-not $byInode.ContainsKey($inode)) { $byInode[$inode] = [System.Collections.Generic.List[string]]::new() }
            $byInode[$inode].Add($rel)
        }
        ($byInode.Values | ForEach-Object { ($_ | Sort-Object) -join '=' } | Sort-Object) -join "`n"
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { & rm -rf -- $script:WorkRoot }
}

Describe '-Preserve HardLinks against rsync -aH' {
    It 'recreates the source hard-link groups as rsync -aH does (<Label>)' -ForEach @(
        @{ Label = 'into an empty destination'; Fresh = $true }, @{ Label = 'over an older destination'; Fresh = $false }
    ) {
        $rsyncRoot = Join-Path $script:WorkRoot "$Label-rsync"
        $psrRoot = Join-Path $script:WorkRoot "$Label-psr"
        foreach ($root in $rsyncRoot, $psrRoot) {
            New-Fixture $root
            if ($Fresh) { & rm -rf -- "$root/dest" }
        }
        & rsync -aH --delete -- "$rsyncRoot/src/" "$rsyncRoot/dest/"
        $LASTEXITCODE | Should -Be 0
        $preserve = [PSReplica.SyncOptions]::DefaultPreserve -bor [PSReplica.PreserveOptions]::HardLinks
        $null = Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dest" -Delete -Preserve $preserve -ErrorAction Stop
        (Get-Tree "$psrRoot/dest") -join "`n" | Should -Be ((Get-Tree "$rsyncRoot/dest") -join "`n")
        $groups = Get-Groups "$psrRoot/dest"
        $groups | Should -Be (Get-Groups "$rsyncRoot/dest")
        $groups | Should -Match '(?m)^a=b=sub/c$'
        $groups | Should -Match '(?m)^x/one=y-two$'
        # A second run changes nothing.
        @(Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dest" -Delete -Preserve $preserve -ErrorAction Stop).Count | Should -Be 0
    }

    It 'with <Option> leaves a name''s own destination file alone and sends the next name of a kept first one, as rsync does (<Case>)' -ForEach @(
        @{ Option = '-Update'; Flag = '-u'; Case = 'both newer'; Newer = @('a', 'b') }
        @{ Option = '-Update'; Flag = '-u'; Case = 'first newer, second missing'; Newer = @('a') }
        @{ Option = '-Update'; Flag = '-u'; Case = 'first missing, second newer'; Newer = @('b') }
        @{ Option = '-IgnoreExisting'; Flag = '--ignore-existing'; Case = 'first exists, second missing'; Newer = @('a') }
        @{ Option = '-IgnoreExisting'; Flag = '--ignore-existing'; Case = 'first missing, second exists'; Newer = @('b') }
    ) {
        # The source group a=b=c is older than what the destination holds: a linked name must never replace a kept file
        # (that lost the destination's newer content), nor be linked to one (that gave it the kept file's content).
        $label = "$Option $Case" -replace '\W', ''
        $rsyncRoot = Join-Path $script:WorkRoot "$label-rsync"
        $psrRoot = Join-Path $script:WorkRoot "$label-psr"
        foreach ($root in $rsyncRoot, $psrRoot) {
            Write-TestFile "$root/src/a" 'source'
            & ln -- "$root/src/a" "$root/src/b"
            & ln -- "$root/src/a" "$root/src/c"
            & touch -d '2020-01-01 00:00:00' "$root/src/a"
            $null = New-Item -ItemType Directory -Path "$root/dest"
            foreach ($name in $Newer) {
                Write-TestFile "$root/dest/$name" "newer $name"
                & touch -d '2021-01-01 00:00:00' "$root/dest/$name"
            }
            & touch -d '2026-01-03 00:00:00' "$root/src" "$root/dest"
        }
        & rsync -aH $Flag -- "$rsyncRoot/src/" "$rsyncRoot/dest/"
        $LASTEXITCODE | Should -Be 0
        $preserve = [PSReplica.SyncOptions]::DefaultPreserve -bor [PSReplica.PreserveOptions]::HardLinks
        $parameters = @{ $Option.TrimStart('-') = $true }
        $null = Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dest" -Preserve $preserve @parameters -ErrorAction Stop
        (Get-Tree "$psrRoot/dest") -join "`n" | Should -Be ((Get-Tree "$rsyncRoot/dest") -join "`n")
        Get-Groups "$psrRoot/dest" | Should -Be (Get-Groups "$rsyncRoot/dest")
        foreach ($name in $Newer) { Get-Content -Raw "$psrRoot/dest/$name" | Should -Be "newer $name" }
    }

    It 'with -Inplace rewrites a group already linked in the destination once, in its own inode, as rsync --inplace -H does' {
        $rsyncRoot = Join-Path $script:WorkRoot 'inplace-rsync'
        $psrRoot = Join-Path $script:WorkRoot 'inplace-psr'
        foreach ($root in $rsyncRoot, $psrRoot) {
            Write-TestFile "$root/src/a" 'new content'
            & ln -- "$root/src/a" "$root/src/b"
            Write-TestFile "$root/dest/a" 'old content' -Time '2019-01-01 00:00:00'
            & ln -- "$root/dest/a" "$root/dest/b"
            & touch -d '2026-01-03 00:00:00' "$root/src" "$root/dest"
        }
        $inode = & stat -c '%i' -- "$psrRoot/dest/a"
        & rsync -aH --inplace -- "$rsyncRoot/src/" "$rsyncRoot/dest/"
        $LASTEXITCODE | Should -Be 0
        $preserve = [PSReplica.SyncOptions]::DefaultPreserve -bor [PSReplica.PreserveOptions]::HardLinks
        $out = @(Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dest" -Inplace -Preserve $preserve -ErrorAction Stop)
        # One item: the first name's content; the other name is the same inode. No temp name is left beside it.
        @($out.RelativePath) | Should -Be @('a')
        (Get-Tree "$psrRoot/dest") -join "`n" | Should -Be ((Get-Tree "$rsyncRoot/dest") -join "`n")
        & stat -c '%i' -- "$psrRoot/dest/b" | Should -Be $inode
        @(Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dest" -Inplace -Preserve $preserve -ErrorAction Stop).Count | Should -Be 0
    }

    It 'sends the next name of a group whose first name a non-empty directory keeps out, with one error for that directory' {
        # rsync -H writes the second name too (and then hangs, 3.5.0); the second name was linked to the directory.
        $root = Join-Path $script:WorkRoot 'blocked'
        Write-TestFile "$root/src/d" 'group'
        & ln -- "$root/src/d" "$root/src/dh"
        $null = New-Item -ItemType Directory -Path "$root/dest/d/sub"
        $preserve = [PSReplica.SyncOptions]::DefaultPreserve -bor [PSReplica.PreserveOptions]::HardLinks
        $out = @(Sync-Directory -Path "$root/src" -Destination "$root/dest" -Preserve $preserve -ErrorVariable errs -ErrorAction SilentlyContinue)
        @($errs | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] }) | Should -Be @('CannotReplaceNonEmptyDirectory')
        @($out | Where-Object ItemType -NE 'Directory' | ForEach-Object RelativePath) | Should -Be @('dh')
        Get-Content -Raw "$root/dest/dh" | Should -Be 'group'
        Test-Path -LiteralPath "$root/dest/d/sub" -PathType Container | Should -BeTrue
    }
}
