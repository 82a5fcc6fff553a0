# Differential test for -Preserve Acls, ExtendedAttributes against Debian's `rsync -aAX --delete`: random trees whose
# files carry user.* attributes (and trusted.* ones when run as root) of various sizes (empty, binary with NULs, a few
# KiB: ext4 holds one 4 KiB block of them per inode) and access ACLs, and whose directories carry access and default
# ACLs. Both tools replicate the tree, then the source's attributes are changed, removed and added and both run again,
# then once more with nothing changed. The replicas' attributes (every namespace getfattr shows, ACLs included), modes
# and contents are compared with each other and with the source, and PSReplica's itemize strings with rsync's
# --itemize-changes for the items whose attributes alone changed. The trees are under the temp directory, which must be
# on a file system with user attributes and ACLs (ext4, xfs).
BeforeDiscovery {
    $script:Seeds = @(3101, 3102, 3103, 3104)
    # Mounting a FAT image through fusefat needs root (as tests/Pester/FileSystems.Tests.ps1 does); .ci/run installs fusefat.
    $script:HasFat = ((& id -u) -eq '0') -and (Get-Command fusefat -ErrorAction SilentlyContinue) -and (Get-Command mkfs.vfat -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:IsRoot = (& id -u) -eq '0'
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-aclxattr-$([guid]::NewGuid().ToString('n'))"

    function Invoke-Tool {
        param([string] $FilePath, [string[]] $ArgumentList)
        $output = & $FilePath @ArgumentList 2>&1
        if ($LASTEXITCODE -ne 0) { throw "$FilePath $($ArgumentList -join ' ') exited with ${LASTEXITCODE}: $output" }
        $output
    }

    function Get-RandomHex {
        param([System.Random] $Rng, [int] $Length)
        $bytes = [byte[]]::new($Length)
        $Rng.NextBytes($bytes)
        # Binary values with NULs in them, as attributes may hold.
        if ($Length -gt 2) { $bytes[1] = 0 }
        '0x' + [System.Convert]::ToHexString($bytes)
    }

    function Set-RandomAttributes {
        param([System.Random] $Rng, [string] $Path, [int] $Count)
        for ($i = 0; $i -lt $Count; $i++) {
            $length = @(0, 1, 17, 200, 1500)[$Rng.Next(5)]
            Invoke-Tool setfattr @('-n', "user.attr$($Rng.Next(6))", '-v', (Get-RandomHex $Rng $length), $Path) | Out-Null
        }
    }

    function New-AttributeTree {
        param([int] $Seed, [string] $Path)
        $rng = [System.Random]::new($Seed)
        foreach ($directory in '', 'a', 'a/b', 'c') {
            $full = Join-Path $Path $directory
            $null = New-Item -ItemType Directory -Force -Path $full
            for ($f = 0; $f -lt 4; $f++) {
                $file = Join-Path $full "file$f.txt"
                [System.IO.File]::WriteAllText($file, "seed $Seed file $directory/$f`n")
                Set-RandomAttributes $rng $file $rng.Next(4)
                if ($rng.Next(3) -eq 0) { Invoke-Tool setfacl @('-m', "u:nobody:r,g:daemon:rw", $file) | Out-Null }
                # As root both tools copy trusted.* too (rsync -X as root; PSReplica's ExtendedAttributes as root).
                if ($script:IsRoot -and $rng.Next(3) -eq 0) { Invoke-Tool setfattr @('-n', "trusted.t$($rng.Next(2))", '-v', (Get-RandomHex $rng 9), $file) | Out-Null }
            }
            if ($directory -and $rng.Next(2) -eq 0) { Invoke-Tool setfacl @('-m', 'u:nobody:rwx', $full) | Out-Null }
            if ($directory -and $rng.Next(2) -eq 0) { Invoke-Tool setfacl @('-d', '-m', 'u:nobody:rx,g:daemon:r', $full) | Out-Null }
            if ($directory) { Set-RandomAttributes $rng $full $rng.Next(3) }
        }
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $Path 'link') -Target 'a/file0.txt'
    }

    function Update-AttributeTree {
        param([int] $Seed, [string] $Path)
        $rng = [System.Random]::new($Seed + 1)
        foreach ($file in Get-ChildItem -LiteralPath $Path -Recurse -File) {
            switch ($rng.Next(5)) {
                0 {
                    # Remove every user attribute: the replicas must lose them too.
                    foreach ($name in @(& getfattr -h --absolute-names -m '^(user|trusted)\.' $file.FullName 2>$null | Where-Object { $_ -like 'user.*' -or $_ -like 'trusted.*' })) {
                        Invoke-Tool setfattr @('-x', $name, $file.FullName) | Out-Null
                    }
                }
                1 { Set-RandomAttributes $rng $file.FullName 2 }
                2 { Invoke-Tool setfacl @('-b', $file.FullName) | Out-Null }
                3 { Invoke-Tool setfacl @('-m', 'u:daemon:rw', $file.FullName) | Out-Null }
            }
        }
        foreach ($directory in Get-ChildItem -LiteralPath $Path -Recurse -Directory) {
            if ($rng.Next(2) -eq 0) { Invoke-Tool setfacl @('-k', $directory.FullName) | Out-Null }
            else { Invoke-Tool setfacl @('-d', '-m', 'u:daemon:rwx', $directory.FullName) | Out-Null }
        }
    }

    function Get-AttributeSnapshot {
        # path -> its attributes (sorted getfattr lines, hex values), its mode and its content; links by their target.
        param([string] $Root)
        $snapshot = [ordered]@{}
        $current = $null
        foreach ($line in (& getfattr -R -h -d -m - -e hex --absolute-names $Root 2>&1)) {
            if ($line -like '# file: *') { $current = $line.Substring(8).Substring($Root.Length).TrimStart('/'); $snapshot[$current] = [System.Collections.Generic.List[string]]::new() }
            elseif ($line) { $snapshot[$current].Add($line) }
        }
        $result = [System.Collections.Generic.SortedDictionary[string, string]]::new([System.StringComparer]::Ordinal)
        foreach ($item in @(Get-Item -LiteralPath $Root) + @(Get-ChildItem -LiteralPath $Root -Recurse -Force)) {
            $relative = $item.FullName.Substring($Root.Length).TrimStart('/')
            $attributes = if ($snapshot.Contains($relative)) { ($snapshot[$relative] | Sort-Object -CaseSensitive) -join ' ' } else { '' }
            $mode = (& stat -c '%a' $item.FullName)
            $content = if ($item.LinkTarget) { "-> $($item.LinkTarget)" } elseif ($item.PSIsContainer) { 'dir' } else { [System.IO.File]::ReadAllText($item.FullName) }
            $result[$relative] = "$mode $content | $attributes"
        }
        $result
    }

    function Compare-Snapshot {
        param($Reference, $Difference, [string] $What)
        $differences = [System.Collections.Generic.List[string]]::new()
        foreach ($key in $Reference.Keys) {
            if (-not $Difference.ContainsKey($key)) { $differences.Add("$What lacks '$key'") }
            elseif ($Reference[$key] -cne $Difference[$key]) { $differences.Add("'$key': $($Reference[$key]) <> $What $($Difference[$key])") }
        }
        foreach ($key in $Difference.Keys) { if (-not $Reference.ContainsKey($key)) { $differences.Add("$What has extra '$key'") } }
        $differences
    }

    function Invoke-Both {
        param([string] $Source, [string] $RsyncDestination, [string] $PSReplicaDestination)
        $rsyncLines = Invoke-Tool rsync @('-aAX', '--delete', '--out-format=%i %n', '--', "$Source/", "$RsyncDestination/")
        $rsync = @{}
        foreach ($line in $rsyncLines) {
            $itemize, $name = "$line".Split(' ', 2)
            $rsync[$name.TrimEnd('/')] = $itemize
        }
        $items = @(Sync-Directory -Path $Source -Destination $PSReplicaDestination -Delete `
                -Preserve Times, Permissions, Links, Owner, Group, Acls, ExtendedAttributes -ErrorVariable syncErrors -ErrorAction SilentlyContinue)
        [pscustomobject]@{ Rsync = $rsync; Items = $items; Errors = @($syncErrors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) }
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { & rm -rf -- $script:WorkRoot }
}

Describe 'Sync-Directory -Preserve Acls, ExtendedAttributes against rsync -aAX' -Tag 'Differential' {
    It 'seed <_> converges with rsync through changes and removals' -ForEach $script:Seeds {
        $seed = $_
        $root = Join-Path $script:WorkRoot "seed-$seed"
        $source = Join-Path $root 'src'
        $rsyncDest = Join-Path $root 'rsync'
        $psrDest = Join-Path $root 'psreplica'
        New-AttributeTree -Seed $seed -Path $source
        $null = New-Item -ItemType Directory -Path $rsyncDest, $psrDest
        $checkedItemize = 0
        foreach ($phase in 'initial', 'update', 'rerun') {
            if ($phase -eq 'update') { Update-AttributeTree -Seed $seed -Path $source }
            $run = Invoke-Both -Source $source -RsyncDestination $rsyncDest -PSReplicaDestination $psrDest
            $run.Errors | Should -BeNullOrEmpty -Because "phase $phase"
            $sourceSnapshot = Get-AttributeSnapshot $source
            $rsyncSnapshot = Get-AttributeSnapshot $rsyncDest
            $psrSnapshot = Get-AttributeSnapshot $psrDest
            # rsync's replica is the reference: a difference there would be rsync's, not ours, so it is checked too.
            Compare-Snapshot $sourceSnapshot $rsyncSnapshot 'rsync' | Should -BeNullOrEmpty -Because "rsync's replica matches the source in phase $phase"
            Compare-Snapshot $rsyncSnapshot $psrSnapshot 'PSReplica' | Should -BeNullOrEmpty -Because "phase $phase"
            if ($phase -eq 'rerun') {
                $run.Items | Should -BeNullOrEmpty -Because 'nothing changed since the last run'
                continue
            }
            foreach ($item in $run.Items) {
                $path = if ($item.RelativePath -eq '.') { '.' } else { $item.RelativePath }
                # Files and directories whose attributes alone changed are itemized as rsync itemizes them (the 'a' and 'x' columns).
                if ($item.Action -eq 'Metadata') {
                    $run.Rsync[$path] | Should -BeExactly $item.Itemize -Because "phase $phase, '$path'"
                    $checkedItemize++
                }
            }
            if ($phase -eq 'update') {
                # What changed only in its attributes: rsync reports it, and so must PSReplica.
                foreach ($path in $run.Rsync.Keys) {
                    if ($run.Rsync[$path] -match '^\.f' -and $run.Rsync[$path] -match '[ax]$|a.$') {
                        @($run.Items | Where-Object RelativePath -CEQ $path).Count | Should -Be 1 -Because "rsync itemized '$path' $($run.Rsync[$path])"
                    }
                }
            }
        }
        $checkedItemize | Should -BeGreaterThan 0 -Because 'the seed must change some item in its attributes alone'
    }
}

Describe 'Get-SyncPlan -Preserve Acls, ExtendedAttributes' {
    It 'plans attribute changes that a review applies, the plan''s command line carrying the flags' {
        $root = Join-Path $script:WorkRoot 'plan'
        $source = Join-Path $root 'src'
        $destination = Join-Path $root 'dst'
        $null = New-Item -ItemType Directory -Path $source, $destination
        [System.IO.File]::WriteAllText((Join-Path $source 'a.txt'), "a`n")
        Invoke-Tool cp @('-p', (Join-Path $source 'a.txt'), (Join-Path $destination 'a.txt')) | Out-Null
        Invoke-Tool setfattr @('-n', 'user.k', '-v', '0x0100ff', (Join-Path $source 'a.txt')) | Out-Null
        Invoke-Tool setfacl @('-m', 'u:nobody:r', (Join-Path $source 'a.txt')) | Out-Null
        # The roots alike but for the file's attributes: cp made the destination's a.txt later than the source's (a
        # second later on a loaded machine), which left the roots' times apart and put the root in the plan too.
        Invoke-Tool touch @('-r', $source, $destination) | Out-Null

        $plan = @(Get-SyncPlan -Path $source -Destination $destination -Preserve Times, ExtendedAttributes, Acls)
        $plan.Count | Should -Be 1
        $plan[0].Itemize | Should -BeExactly '.f.......ax'
        $applied = @($plan | Sync-Directory)
        $applied.Itemize | Should -BeExactly '.f.......ax'
        (& getfattr -n user.k -e hex --absolute-names (Join-Path $destination 'a.txt')) -join ' ' | Should -Match 'user.k=0x0100ff'
        (& getfacl -c (Join-Path $destination 'a.txt')) -join ' ' | Should -Match 'user:nobody:r--'
        @(Get-SyncPlan -Path $source -Destination $destination -Preserve Times, ExtendedAttributes, Acls) | Should -BeNullOrEmpty
    }
}

Describe 'A destination file system without extended attributes' {
    It 'gets the files with one warning, no error per file, and a second run has nothing to do' -Skip:(-not $script:HasFat) {
        $root = Join-Path $script:WorkRoot 'fat'
        $source = Join-Path $root 'src'
        $mount = Join-Path $root 'mnt'
        $null = New-Item -ItemType Directory -Path (Join-Path $source 'd'), $mount
        foreach ($name in 'a.txt', 'd/b.txt', 'd/c.txt') {
            $file = Join-Path $source $name
            [System.IO.File]::WriteAllText($file, "$name`n")
            Invoke-Tool setfattr @('-n', 'user.k', '-v', '0x01', $file) | Out-Null
            & touch -d '2024-05-05 10:00:02' -- $file
        }
        Invoke-Tool setfacl @('-m', 'u:nobody:r', (Join-Path $source 'a.txt')) | Out-Null
        & touch -d '2024-05-05 10:00:02' -- (Join-Path $source 'a.txt')
        $image = Join-Path $root 'fat.img'
        & truncate -s 16M $image
        & mkfs.vfat $image *> $null
        & fusefat -o rw+ $image $mount *> $null
        $LASTEXITCODE | Should -Be 0
        try {
            $destination = Join-Path $mount 'dst'
            $parameters = @{ Path = $source; Destination = $destination; Preserve = 'Times', 'ExtendedAttributes' }
            $items = @(Sync-Directory @parameters -ErrorVariable errors -ErrorAction SilentlyContinue -WarningVariable warnings -WarningAction SilentlyContinue)
            $errors | Should -BeNullOrEmpty
            @($warnings | Where-Object { "$_" -like '*cannot hold extended attributes*' }).Count | Should -Be 1
            @($items | Where-Object ItemType -EQ 'File').Count | Should -Be 3
            [System.IO.File]::ReadAllText((Join-Path $destination 'd/c.txt')) | Should -BeExactly "d/c.txt`n"
            $again = @(Sync-Directory @parameters -ErrorVariable errors2 -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
            $errors2 | Should -BeNullOrEmpty
            $again | Should -BeNullOrEmpty
        }
        finally {
            & fusermount -u $mount *> $null
        }
    }
}
