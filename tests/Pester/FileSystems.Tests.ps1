# Destination file systems (issue #16): a FAT image mounted through fusefat, as a camera card or USB stick is, exFAT
# and NTFS images on loop devices through exfat-fuse and ntfs-3g, and loop-mounted ext4, XFS and Btrfs images. FAT
# keeps times to 2 seconds, holds no owners, permissions or links, and folds the case of names: a sync there reports no
# error per file, says each limit once, converges without -ModifyWindow, and refuses two names that fold to one and
# names Windows forbids. Root only (mounts); each image is made and mounted here and unmounted afterwards.
BeforeDiscovery {
    $script:IsRoot = (& id -u) -eq '0'
    $script:HasFat = $IsRoot -and (Get-Command fusefat -ErrorAction SilentlyContinue) -and (Get-Command mkfs.vfat -ErrorAction SilentlyContinue)
    $script:HasFuse = $IsRoot -and (Test-Path /dev/fuse) -and (Get-Command losetup -ErrorAction SilentlyContinue)
    # What each FUSE driver keeps, as measured on these mounts: exfat-fuse whole seconds (odd ones too), ntfs-3g 100 ns;
    # exfat-fuse folds case, ntfs-3g keeps README.TXT and Readme.txt apart; ntfs-3g makes symbolic links.
    $script:FuseTypes = @(
        @{
            Name = 'exFAT'; Type = 'fuseblk.exfat'; Tools = 'mkfs.exfat', 'mount.exfat-fuse'; Format = 'mkfs.exfat'; Driver = 'mount.exfat-fuse'
            Ticks = [timespan]::TicksPerSecond; CaseSensitive = $false; SymbolicLinks = $false
            Description = 'fuseblk.exfat (known type): times kept to 1 s, no owners, no permissions, no symbolic links, no hard links, case-insensitive names, names up to 255 bytes, no names Windows forbids'
        }
        @{
            Name = 'NTFS'; Type = 'fuseblk.ntfs'; Tools = 'mkntfs', 'ntfs-3g'; Format = 'mkntfs'; Driver = 'ntfs-3g'
            Ticks = 1; CaseSensitive = $true; SymbolicLinks = $true
            Description = 'fuseblk.ntfs (known type): times kept to 100 ns, no owners, no permissions, case-sensitive names, names up to 255 bytes, no names Windows forbids'
        }
    ) | ForEach-Object {
        $missing = @($_.Tools | Where-Object { -not (Get-Command $_ -ErrorAction SilentlyContinue) })
        $_.Skip = if (-not $HasFuse) { 'needs root, /dev/fuse and losetup' } elseif ($missing) { "needs $($missing -join ', ') (.ci/run installs exfatprogs, exfat-fuse and ntfs-3g)" } else { $null }
        $_
    }
    $script:LoopTypes = foreach ($type in 'ext4', 'xfs', 'btrfs') {
        @{ Type = $type; Available = [bool]($IsRoot -and (Get-Command "mkfs.$type" -ErrorAction SilentlyContinue)) }
    }
}

BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-fs-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $script:WorkRoot
    $script:Mounts = [System.Collections.Generic.List[string]]::new()
    $script:Loops = [System.Collections.Generic.List[string]]::new()

    function Write-TestFile([string] $Path, [string] $Text, [string] $Time) {
        $parent = Split-Path $Path
        if (-not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent }
        [System.IO.File]::WriteAllText($Path, $Text)
        & touch -d $Time -- $Path
    }

    # A camera card's tree: pictures in DCIM with odd seconds and fractions (which FAT cannot keep), a settings file.
    function New-CardTree([string] $Root) {
        Write-TestFile (Join-Path $Root 'DCIM/100CANON/IMG_0001.JPG') ('a' * 5000) '2024-05-05 10:00:03.7'
        Write-TestFile (Join-Path $Root 'DCIM/100CANON/IMG_0002.JPG') ('b' * 7000) '2024-05-05 10:00:04.25'
        Write-TestFile (Join-Path $Root 'DCIM/101CANON/IMG_0101.JPG') ('c' * 3000) '2024-06-01 08:30:01.999'
        Write-TestFile (Join-Path $Root 'MISC/AUTPRINT.MRK') 'print' '2024-06-02 09:00:00.5'
    }

    # A directory holding README.TXT and Readme.txt (one name where case folds) beside other.txt, synced to $Destination.
    function Invoke-CaseSync([string] $Source, [string] $Destination) {
        Write-TestFile (Join-Path $Source 'docs/README.TXT') 'upper' '2024-01-01 00:00:00'
        Write-TestFile (Join-Path $Source 'docs/Readme.txt') 'mixed' '2024-01-01 00:00:00'
        Write-TestFile (Join-Path $Source 'docs/other.txt') 'other' '2024-01-01 00:00:00'
        Invoke-Sync @{ Path = $Source; Destination = $Destination }
    }

    # What a case-insensitive destination shows after Invoke-CaseSync: one CaseCollision naming both, and neither written.
    function Assert-CaseCollision([object] $Run, [string] $Destination) {
        $Run.Errors.Count | Should -Be 1
        $Run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'CaseCollision,*'
        $Run.Errors[0].Exception.Message | Should -BeLike "*'docs/README.TXT' and 'docs/Readme.txt'*'docs'*"
        Get-ChildItem -LiteralPath (Join-Path $Destination 'docs') -Name | Should -Be 'other.txt'
    }

    $script:CardFiles = 'DCIM/100CANON/IMG_0001.JPG', 'DCIM/100CANON/IMG_0002.JPG', 'DCIM/101CANON/IMG_0101.JPG', 'MISC/AUTPRINT.MRK'

    # The camera-card scenario: the card's tree from $Source to $Destination (on a file system of type $Type that keeps
    # times to $Ticks) and back to $Back, each way twice. No error record; to the mount, the owners and permissions
    # limits said once per run (as root -Preserve includes owners, and permissions always) and nothing else; every file's
    # data arrives, with its time cut to the granularity there and exactly that time back; each second run sends nothing,
    # without -ModifyWindow.
    function Test-CardRoundTrip([string] $Source, [string] $Destination, [string] $Back, [string] $Type, [long] $Ticks) {
        New-CardTree $Source
        foreach ($way in @{ Path = $Source; Destination = $Destination; Limits = @('owners', 'permissions') }, @{ Path = $Destination; Destination = $Back; Limits = @() }) {
            foreach ($attempt in 'first', 'second') {
                $run = Invoke-Sync @{ Path = $way.Path; Destination = $way.Destination }
                $because = "the $attempt run to $($way.Destination)"
                $run.Errors | Should -BeNullOrEmpty -Because $because
                @($run.Warnings | ForEach-Object { "$_" -replace "^.*\($([regex]::Escape($Type))\) cannot hold ([a-z ]+):.*$", '$1' } | Sort-Object) | Should -Be $way.Limits -Because $because
                @($run.Items | Where-Object ItemType -EQ 'File').Count | Should -Be $(if ($attempt -eq 'first') { 4 } else { 0 }) -Because $because
                if ($attempt -eq 'second') { $run.Items | Should -BeNullOrEmpty -Because $because }
            }
        }

        foreach ($file in $script:CardFiles) {
            $data = Get-Content -Raw (Join-Path $Source $file)
            Get-Content -Raw (Join-Path $Destination $file) | Should -Be $data -Because $file
            Get-Content -Raw (Join-Path $Back $file) | Should -Be $data -Because $file
            $sourceTicks = (Get-Item (Join-Path $Source $file)).LastWriteTimeUtc.Ticks
            $sourceTicks % [timespan]::TicksPerSecond | Should -Not -Be 0 -Because "$file's time has a fraction"
            $kept = (Get-Item (Join-Path $Destination $file)).LastWriteTimeUtc.Ticks
            $kept | Should -Be ($sourceTicks - ($sourceTicks % $Ticks)) -Because "$file keeps its time to the granularity of $Type"
            (Get-Item (Join-Path $Back $file)).LastWriteTimeUtc.Ticks | Should -Be $kept -Because "$file comes back with the time $Type kept"
        }
    }

    # Runs Sync-Directory and returns its items, error records and warnings.
    function Invoke-Sync([hashtable] $Parameters) {
        $errors = $null
        $warnings = $null
        $items = @(Sync-Directory @Parameters -ErrorVariable errors -ErrorAction SilentlyContinue -WarningVariable warnings -WarningAction SilentlyContinue)
        [pscustomobject]@{ Items = $items; Errors = @($errors); Warnings = @($warnings) }
    }

    # A FAT16 image without a volume label (fusefat lists a label as a file) mounted with fusefat, read-write.
    function Mount-Fat([string] $Name) {
        $image = Join-Path $script:WorkRoot "$Name.img"
        $mount = Join-Path $script:WorkRoot $Name
        $null = New-Item -ItemType Directory -Path $mount
        & truncate -s 64M $image
        & mkfs.vfat $image *> $null
        if ($LASTEXITCODE -ne 0) { throw "mkfs.vfat failed ($LASTEXITCODE)" }
        & fusefat -o rw+ $image $mount *> $null
        if ($LASTEXITCODE -ne 0) { throw "fusefat failed ($LASTEXITCODE)" }
        $script:Mounts.Add($mount)
        $mount
    }

    # An image on a loop device (exfat-fuse takes only a block device; a USB disk is one) made with $Format and mounted
    # with the FUSE driver $Driver, read-write.
    function Mount-LoopImage([string] $Name, [string] $Format, [string] $Driver) {
        $image = Join-Path $script:WorkRoot "$Name.img"
        $mount = Join-Path $script:WorkRoot $Name
        $null = New-Item -ItemType Directory -Path $mount
        & truncate -s 16M $image
        # mkntfs: -F for a file that is not a block device, -Q to skip zeroing it.
        $formatArguments = @(if ($Format -eq 'mkntfs') { '-F', '-Q' }) + $image
        & $Format @formatArguments *> $null
        if ($LASTEXITCODE -ne 0) { throw "$Format failed ($LASTEXITCODE)" }
        $loop = & losetup --find --show $image
        if ($LASTEXITCODE -ne 0) { throw "losetup failed ($LASTEXITCODE)" }
        $script:Loops.Add($loop)
        & $Driver $loop $mount *> $null
        if ($LASTEXITCODE -ne 0) { throw "$Driver failed ($LASTEXITCODE)" }
        $script:Mounts.Add($mount)
        $mount
    }
}

AfterAll {
    foreach ($mount in $script:Mounts) {
        & fusermount -u $mount *> $null
        & umount $mount *> $null
    }

    # A loop still held by a FUSE daemon that is exiting is detached when it lets go (losetup -d sets autoclear).
    foreach ($loop in $script:Loops) {
        & losetup -d $loop *> $null
    }

    Remove-Item -LiteralPath $script:WorkRoot -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'A FAT destination (fusefat, as a USB stick is mounted)' -Skip:(-not $HasFat) {
    BeforeAll {
        $script:Card = Mount-Fat 'card'
    }

    It 'takes a camera card tree and back with no error per file, says each limit once, and converges without -ModifyWindow' {
        $source = Join-Path $WorkRoot 'camera'
        $onCard = Join-Path $Card 'backup'
        Test-CardRoundTrip $source $onCard (Join-Path $WorkRoot 'from-card') 'fuse.fusefat' (2 * [timespan]::TicksPerSecond)
        # FAT keeps even seconds: 10:00:03.7 is 10:00:02 there.
        (Get-Item (Join-Path $onCard 'DCIM/100CANON/IMG_0001.JPG')).LastWriteTimeUtc | Should -Be ([datetime]::new(2024, 5, 5, 10, 0, 2, [DateTimeKind]::Utc))

        # An explicit window overrides the detected granularity: whole seconds see 10:00:03 against 10:00:02.
        $strict = Get-SyncPlan -Path $source -Destination $onCard -ModifyWindow 0 -WarningAction SilentlyContinue
        ($strict | Where-Object RelativePath -EQ 'DCIM/100CANON/IMG_0001.JPG').Reason | Should -Be 'TimeChanged'
    }

    It 'says what it detected with -Verbose' {
        $source = Join-Path $WorkRoot 'verbose-src'
        Write-TestFile (Join-Path $source 'a.txt') 'a' '2024-01-01 00:00:00'
        $verbose = Sync-Directory -Path $source -Destination (Join-Path $Card 'verbose') -Verbose -WarningAction SilentlyContinue 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        $verbose | Should -Contain ($verbose | Where-Object { $_ -like 'Destination file system at *: fuse.fusefat (known type): times kept to 2 s, no owners, no permissions, no symbolic links, no hard links, a renamed file takes the time of the rename, case-insensitive names*' })
        @($verbose | Where-Object { $_ -like 'Destination file system at *' }).Count | Should -Be 1
    }

    It 'refuses two names that fold to one, naming both, and writes neither' {
        $destination = Join-Path $Card 'case'
        Assert-CaseCollision (Invoke-CaseSync (Join-Path $WorkRoot 'case-src') $destination) $destination
    }

    It 'refuses each name Windows forbids with ForbiddenName, copies the rest, and a second run is the same' {
        $source = Join-Path $WorkRoot 'names-src'
        foreach ($name in 'ok.txt', 'a:b.txt', 'trailing.', 'nul.txt') {
            Write-TestFile (Join-Path $source $name) $name '2024-01-01 00:00:00'
        }
        $destination = Join-Path $Card 'names'

        # fusefat refuses ':' (EPERM) but would store 'trailing.' and 'nul.txt' as given: the planner keeps them out.
        foreach ($attempt in 'first', 'second') {
            $run = Invoke-Sync @{ Path = $source; Destination = $destination }
            @($run.Errors | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] } | Sort-Object -Unique) | Should -Be 'ForbiddenName' -Because "the $attempt run"
            @($run.Errors.TargetObject | Sort-Object) | Should -Be @('a:b.txt', 'nul.txt', 'trailing.') -Because "the $attempt run"
            ($run.Errors | Where-Object TargetObject -EQ 'nul.txt').Exception.Message | Should -BeLike "*'nul.txt' is not one (NUL is a device name)*"
            @(Get-ChildItem -LiteralPath $destination -Force -Name) | Should -Be 'ok.txt' -Because "the $attempt run"
            Get-Content -Raw (Join-Path $destination 'ok.txt') | Should -Be 'ok.txt'
            if ($attempt -eq 'second') { $run.Items | Should -BeNullOrEmpty }
        }
    }

    It 'reports each symbolic link once with its own id, and -CopyLinks copies what it points to' {
        $source = Join-Path $WorkRoot 'link-src'
        Write-TestFile (Join-Path $source 'target.txt') 'pointed at' '2024-01-01 00:00:00'
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $source 'link.txt') -Target 'target.txt'
        $destination = Join-Path $Card 'links'

        $run = Invoke-Sync @{ Path = $source; Destination = $destination }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'SymbolicLinkUnsupported,*'
        Test-Path -LiteralPath (Join-Path $destination 'link.txt') | Should -BeFalse

        $copied = Invoke-Sync @{ Path = $source; Destination = $destination; CopyLinks = $true }
        $copied.Errors | Should -BeNullOrEmpty
        Get-Content -Raw (Join-Path $destination 'link.txt') | Should -Be 'pointed at'
    }

    It 'takes an exact hour apart as equal with -IgnoreDaylightSavingShift, and nothing else within the hour' {
        $source = Join-Path $WorkRoot 'dst-src'
        Write-TestFile (Join-Path $source 'IMG.JPG') 'picture' '2024-03-30 12:00:00'
        Write-TestFile (Join-Path $source 'OTHER.JPG') 'other' '2024-03-30 12:00:00'
        $destination = Join-Path $Card 'dst'
        $null = Invoke-Sync @{ Path = $source; Destination = $destination }
        # After the change to summer time the card shows every local time an hour later.
        [System.IO.File]::SetLastWriteTimeUtc((Join-Path $destination 'IMG.JPG'), [datetime]::new(2024, 3, 30, 13, 0, 0, [DateTimeKind]::Utc))
        [System.IO.File]::SetLastWriteTimeUtc((Join-Path $destination 'OTHER.JPG'), [datetime]::new(2024, 3, 30, 12, 30, 0, [DateTimeKind]::Utc))

        $plain = Get-SyncPlan -Path $source -Destination $destination -WarningAction SilentlyContinue
        ($plain | Where-Object ItemType -EQ 'File').RelativePath | Sort-Object | Should -Be @('IMG.JPG', 'OTHER.JPG')
        $shifted = Get-SyncPlan -Path $source -Destination $destination -IgnoreDaylightSavingShift -WarningAction SilentlyContinue
        ($shifted | Where-Object ItemType -EQ 'File').RelativePath | Should -Be 'OTHER.JPG'
    }
}

Describe 'An <Name> destination (<Driver> on a loop device, as a USB disk is mounted)' -ForEach $FuseTypes {
    BeforeAll {
        $script:Disk = if (-not $Skip) { Mount-LoopImage $Name.ToLowerInvariant() $Format $Driver }
    }

    It 'takes a camera card tree and back with no error per file, says each limit once, and converges without -ModifyWindow' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        # Each card time has a fraction: exfat-fuse drops it, ntfs-3g keeps it (to 100 ns, all the source has here).
        # Neither driver keeps owners or modes (ntfs-3g without its permissions option takes chown and chmod and keeps
        # nothing): each said once.
        Test-CardRoundTrip (Join-Path $WorkRoot "camera-$Name") (Join-Path $Disk 'backup') (Join-Path $WorkRoot "from-$Name") $Type $Ticks
    }

    It 'names the type it detected with -Verbose' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $source = Join-Path $WorkRoot "verbose-$Name"
        Write-TestFile (Join-Path $source 'a.txt') 'a' '2024-01-01 00:00:00'
        $verbose = @(Sync-Directory -Path $source -Destination (Join-Path $Disk 'verbose') -Verbose -WarningAction SilentlyContinue 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Destination file system at *' } | ForEach-Object Message)
        $verbose.Count | Should -Be 1
        $verbose[0] | Should -BeLike "Destination file system at *: $Description"
    }

    It 'refuses two names that fold to one where the driver folds case, and keeps both where it does not' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $destination = Join-Path $Disk 'case'

        $run = Invoke-CaseSync (Join-Path $WorkRoot "case-$Name") $destination

        if ($CaseSensitive) {
            $run.Errors | Should -BeNullOrEmpty
            [string[]] $names = Get-ChildItem -LiteralPath (Join-Path $destination 'docs') -Name
            [Array]::Sort($names, [StringComparer]::Ordinal)
            $names -join ',' | Should -BeExactly 'README.TXT,Readme.txt,other.txt'
            Get-Content -Raw (Join-Path $destination 'docs/README.TXT') | Should -Be 'upper'
            Get-Content -Raw (Join-Path $destination 'docs/Readme.txt') | Should -Be 'mixed'
        }
        else {
            Assert-CaseCollision $run $destination
        }
    }

    It 'refuses a name Windows forbids with ForbiddenName, whatever the driver would store' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $source = Join-Path $WorkRoot "names-$Name"
        foreach ($file in 'ok.txt', 'a:b.txt') { Write-TestFile (Join-Path $source $file) $file '2024-01-01 00:00:00' }
        $destination = Join-Path $Disk 'names'

        # ntfs-3g (without its windows_names option) would store 'a:b.txt': Windows could not open it.
        $run = Invoke-Sync @{ Path = $source; Destination = $destination }

        @($run.Errors | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] }) | Should -Be 'ForbiddenName'
        $run.Errors[0].TargetObject | Should -Be 'a:b.txt'
        @(Get-ChildItem -LiteralPath $destination -Force -Name) | Should -Be 'ok.txt'
    }

    It 'copies a symbolic link as a link where the driver makes them, and reports it once where it does not' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $source = Join-Path $WorkRoot "link-$Name"
        Write-TestFile (Join-Path $source 'target.txt') 'pointed at' '2024-01-01 00:00:00'
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $source 'link.txt') -Target 'target.txt'
        $destination = Join-Path $Disk 'links'

        $run = Invoke-Sync @{ Path = $source; Destination = $destination }

        if ($SymbolicLinks) {
            $run.Errors | Should -BeNullOrEmpty
            (Get-Item (Join-Path $destination 'link.txt')).LinkTarget | Should -Be 'target.txt'
            (Invoke-Sync @{ Path = $source; Destination = $destination }).Items | Should -BeNullOrEmpty
        }
        else {
            $run.Errors.Count | Should -Be 1
            $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'SymbolicLinkUnsupported,*'
            Test-Path -LiteralPath (Join-Path $destination 'link.txt') | Should -BeFalse
        }
    }
}

Describe 'A <Type> destination on a loop device' -ForEach $LoopTypes {
    BeforeAll {
        $script:Skip = $null
        $image = Join-Path $WorkRoot "$Type.img"
        $script:LoopMount = Join-Path $WorkRoot "loop-$Type"
        $null = New-Item -ItemType Directory -Path $LoopMount
        if ($Available) {
            & truncate -s 320M $image
            $force = if ($Type -eq 'ext4') { '-F' } else { '-f' }
            & "mkfs.$Type" -q $force $image *> $null
            & mount -o loop $image $LoopMount *> $null
            if ($LASTEXITCODE -eq 0) { $script:Mounts.Add($LoopMount) } else { $script:Skip = 'mount -o loop is not allowed here' }
        }
        else {
            $script:Skip = "mkfs.$Type is missing or not root"
        }
    }

    It 'is detected as <Type> holding everything, and a second run sends nothing' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $source = Join-Path $WorkRoot "src-$Type"
        Write-TestFile (Join-Path $source 'sub/a.txt') 'a' '2024-01-01 00:00:00.123456789'
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $source 'link') -Target 'sub/a.txt'
        $destination = Join-Path $LoopMount 'replica'
        $verbose = Sync-Directory -Path $source -Destination $destination -Verbose -ErrorAction Stop 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Destination file system at *' } | ForEach-Object Message
        $verbose | Should -BeLike "*: $Type (known type): times kept to 1 ns, case-sensitive names*"
        (Get-Item (Join-Path $destination 'sub/a.txt')).LastWriteTimeUtc.Ticks % 10000000 | Should -Be 1234567
        (Get-Item (Join-Path $destination 'link')).LinkTarget | Should -Be 'sub/a.txt'
        @(Sync-Directory -Path $source -Destination $destination -ErrorAction Stop) | Should -BeNullOrEmpty
    }
}
