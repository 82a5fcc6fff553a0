# Safe updates (issue #6): -Partial, -PartialDirectory, -DelayUpdates, -Inplace and a local -BandwidthLimit.
# The kill test runs Sync-Directory in a child pwsh paced by -BandwidthLimit, waits until the partial file holds more
# than half of a 256 MiB file, kills the child hard (SIGKILL) and resumes with -Partial. Where rsync has the same
# option (--partial, --partial-dir, --delay-updates, --inplace), a differential test compares the trees both tools make.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-safe-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $script:WorkRoot

    function Write-TestFile([string] $Path, [string] $Text, [string] $Time = '2026-01-01 10:00:00') {
        $parent = Split-Path $Path
        if (-not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent }
        [System.IO.File]::WriteAllText($Path, $Text)
        & touch -d $Time -- $Path
    }

    # Starts Sync-Directory in a child pwsh (the same PowerShell as this one) with the built module.
    function Start-SyncChild([string] $Arguments) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($argument in '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$env:PSREPLICA_MODULE'; Sync-Directory $Arguments") {
            $psi.ArgumentList.Add($argument)
        }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        [System.Diagnostics.Process]::Start($psi)
    }

    # Polls (every 50 ms, up to 3 minutes) until a file in $Directory whose name matches $Like holds $AtLeast bytes.
    function Wait-ForGrowth([string] $Directory, [string] $Like, [long] $AtLeast, [System.Diagnostics.Process] $Process) {
        $deadline = [DateTime]::UtcNow.AddMinutes(3)
        while ([DateTime]::UtcNow -lt $deadline) {
            $file = Get-ChildItem -Force -LiteralPath $Directory -File -ErrorAction Ignore | Where-Object { $_.Name -like $Like -and $_.Length -ge $AtLeast }
            if ($file) { return $file }
            if ($Process.HasExited) { throw "The child ended first (exit $($Process.ExitCode)): $($Process.StandardError.ReadToEnd())" }
            Start-Sleep -Milliseconds 50
        }
        throw "No file like '$Like' in '$Directory' reached $AtLeast bytes."
    }

    function Stop-Child([System.Diagnostics.Process] $Process, [string] $Signal) {
        if ($Signal -eq 'KILL') { $Process.Kill() } else { & kill "-$Signal" $Process.Id }
        if (-not $Process.WaitForExit(60000)) { $Process.Kill(); throw 'The child did not stop.' }
    }

    function Get-Names([string] $Root) { @(Get-ChildItem -Force -Recurse -LiteralPath $Root | ForEach-Object { $_.FullName.Substring($Root.Length + 1) } | Sort-Object -CaseSensitive) }

    function Get-Tree([string] $Root) {
        foreach ($line in (& find $Root -mindepth 1 -printf '%P|%y|%m|%s|%T@|%l\n' | Sort-Object -CaseSensitive)) {
            $fields = $line.Split('|')
            if ($fields[1] -eq 'd') { "$($fields[0])|d"; continue }
            $hash = if ($fields[1] -eq 'f') { (Get-FileHash -LiteralPath (Join-Path $Root $fields[0]) -Algorithm SHA256).Hash } else { '-' }
            "$line|$hash"
        }
    }

    # A source and an older replica of it: edited, new, deleted, grown and shrunk files, and a large file edited in
    # one place (so a delta transfer reuses most of it).
    function New-Fixture([string] $Root) {
        $src = Join-Path $Root 'src'
        $dest = Join-Path $Root 'dest'
        foreach ($name in 'keep', 'edit', 'grow', 'shrink', 'sub/deep', 'sub/edit2') { Write-TestFile (Join-Path $dest $name) "old $name" }
        Write-TestFile (Join-Path $dest 'gone') 'gone'
        Write-TestFile (Join-Path $dest 'grow') 'short'
        Write-TestFile (Join-Path $dest 'shrink') ('long ' * 1000)
        $lines = 1..40000 | ForEach-Object { "line $_ of the large file" }
        Write-TestFile (Join-Path $dest 'large') ($lines -join "`n")
        Write-TestFile (Join-Path $src 'keep') 'old keep'
        Write-TestFile (Join-Path $src 'sub/deep') 'old sub/deep'
        Write-TestFile (Join-Path $src 'edit') 'new edit' '2026-01-02 10:00:00'
        Write-TestFile (Join-Path $src 'sub/edit2') 'new edit2' '2026-01-02 10:00:00'
        Write-TestFile (Join-Path $src 'grow') ('grown ' * 2000) '2026-01-02 10:00:00'
        Write-TestFile (Join-Path $src 'shrink') 'short now' '2026-01-02 10:00:00'
        Write-TestFile (Join-Path $src 'new/file') 'a new file' '2026-01-02 10:00:00'
        $lines[20000] = 'changed in the middle'
        Write-TestFile (Join-Path $src 'large') ($lines -join "`n") '2026-01-02 10:00:00'
        foreach ($tree in $src, $dest) { & find $tree -type d -exec touch -d '2026-01-03 00:00:00' '{}' + }
    }

    # Runs rsync and Sync-Directory on separate copies of the fixture; returns both destination trees.
    function Invoke-Both([string] $Name, [string[]] $RsyncOptions, [hashtable] $Parameters) {
        $rsyncRoot = Join-Path $script:WorkRoot "$Name-rsync"
        $psrRoot = Join-Path $script:WorkRoot "$Name-psr"
        New-Fixture $rsyncRoot
        New-Fixture $psrRoot
        & rsync -a --delete @RsyncOptions -- "$rsyncRoot/src/" "$rsyncRoot/dest/"
        if ($LASTEXITCODE -ne 0) { throw "rsync failed with $LASTEXITCODE" }
        $items = Sync-Directory -Path "$psrRoot/src" -Destination "$psrRoot/dest" -Delete @Parameters -ErrorAction Stop
        [pscustomobject]@{ Rsync = Get-Tree "$rsyncRoot/dest"; PSReplica = Get-Tree "$psrRoot/dest"; Items = $items; Root = $psrRoot }
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { & rm -rf -- $script:WorkRoot }
}

Describe 'A transfer killed halfway through a 256 MiB file' {
    BeforeAll {
        $script:BigSource = Join-Path $script:WorkRoot 'big-src'
        $null = New-Item -ItemType Directory -Path $script:BigSource
        & head -c 268435456 /dev/urandom > (Join-Path $script:BigSource 'big.bin')
        Write-TestFile (Join-Path $script:BigSource 'a-small.txt') 'small'
        $script:BigHash = (Get-FileHash -LiteralPath (Join-Path $script:BigSource 'big.bin') -Algorithm SHA256).Hash
    }

    It 'keeps the bytes under the hidden partial name, and -Partial resumes from them sending well under half again' {
        $dst = Join-Path $script:WorkRoot 'killed-partial'
        # 32 MiB/s: the whole file would take 8 s, so the copy is still running when more than half is there.
        $child = Start-SyncChild "-Path '$script:BigSource' -Destination '$dst' -Partial -BandwidthLimit 32768"
        $null = Wait-ForGrowth $dst '.big.bin.psreplica-partial' 144MB $child
        Stop-Child $child 'KILL'
        $child.ExitCode | Should -Be 137

        # Never a torn file under the real name; the partial file holds a prefix of the source.
        Test-Path -LiteralPath (Join-Path $dst 'big.bin') | Should -BeFalse
        $partial = Get-Item -Force -LiteralPath (Join-Path $dst '.big.bin.psreplica-partial')
        $partial.Length | Should -BeGreaterOrEqual 144MB
        $partial.Length | Should -BeLessThan 256MB
        & cmp -n $partial.Length -- $partial.FullName (Join-Path $script:BigSource 'big.bin')
        $LASTEXITCODE | Should -Be 0

        $items = Sync-Directory -Path $script:BigSource -Destination $dst -Partial -ErrorAction Stop
        $big = $items | Where-Object RelativePath -eq 'big.bin'
        $big.Action | Should -Be 'Create'
        $big.BytesTransferred | Should -BeLessThan 128MB
        $big.BytesTransferred | Should -BeLessOrEqual (256MB - $partial.Length + 1MB)
        $big.BytesMatched | Should -BeGreaterOrEqual ($partial.Length - 1MB)
        (Get-FileHash -LiteralPath (Join-Path $dst 'big.bin') -Algorithm SHA256).Hash | Should -Be $script:BigHash
        Get-Names $dst | Should -Be @('a-small.txt', 'big.bin')
        & rm -rf -- $dst
    }

    It 'leaves nothing partial behind without -Partial: the next run removes the temp file and copies the file whole' {
        $dst = Join-Path $script:WorkRoot 'killed-plain'
        $child = Start-SyncChild "-Path '$script:BigSource' -Destination '$dst' -BandwidthLimit 32768"
        $null = Wait-ForGrowth $dst '.~psr*~big.bin' 64MB $child
        Stop-Child $child 'KILL'

        Test-Path -LiteralPath (Join-Path $dst 'big.bin') | Should -BeFalse
        Get-ChildItem -Force -LiteralPath $dst -Filter '*.psreplica-partial' | Should -BeNullOrEmpty

        $items = Sync-Directory -Path $script:BigSource -Destination $dst -ErrorAction Stop
        ($items | Where-Object RelativePath -eq 'big.bin').BytesTransferred | Should -Be 256MB
        Get-Names $dst | Should -Be @('a-small.txt', 'big.bin')
        & rm -rf -- $dst
    }

    It 'keeps the partial file when stopped with Ctrl+C (SIGINT) under -Partial, and removes everything without' {
        $kept = Join-Path $script:WorkRoot 'stopped-partial'
        $child = Start-SyncChild "-Path '$script:BigSource' -Destination '$kept' -PartialDirectory .partial -BandwidthLimit 32768"
        $null = Wait-ForGrowth (Join-Path $kept '.partial') 'big.bin' 32MB $child
        Stop-Child $child 'INT'
        (Get-Item -LiteralPath (Join-Path $kept '.partial/big.bin')).Length | Should -BeGreaterOrEqual 32MB
        Test-Path -LiteralPath (Join-Path $kept 'big.bin') | Should -BeFalse

        $items = Sync-Directory -Path $script:BigSource -Destination $kept -PartialDirectory .partial -ErrorAction Stop
        ($items | Where-Object RelativePath -eq 'big.bin').BytesMatched | Should -BeGreaterOrEqual 31MB
        Get-Names $kept | Should -Be @('a-small.txt', 'big.bin')
        & rm -rf -- $kept

        $plain = Join-Path $script:WorkRoot 'stopped-plain'
        $child = Start-SyncChild "-Path '$script:BigSource' -Destination '$plain' -BandwidthLimit 32768"
        $null = Wait-ForGrowth $plain '.~psr*~big.bin' 32MB $child
        Stop-Child $child 'INT'
        Get-Names $plain | Should -Be @('a-small.txt')
        & rm -rf -- $plain
    }
}

Describe '-Partial and -PartialDirectory' {
    It 'give the same tree as rsync --partial and --partial-dir' {
        foreach ($case in @(
                @{ Name = 'partial'; Rsync = @('--partial'); Ours = @{ Partial = $true } },
                @{ Name = 'partialdir'; Rsync = @('--partial-dir=.rsync-partial'); Ours = @{ PartialDirectory = '.rsync-partial' } })) {
            $result = Invoke-Both $case.Name $case.Rsync $case.Ours
            $result.PSReplica | Should -Be $result.Rsync -Because $case.Name
        }
    }

    It 'resume from a partial file in a relative partial directory and remove the directory once empty' {
        $root = Join-Path $script:WorkRoot 'pdir'
        $data = [byte[]]::new(3MB); [Random]::new(5).NextBytes($data)
        $null = New-Item -ItemType Directory -Path "$root/src/sub", "$root/dest/sub/.pd"
        [IO.File]::WriteAllBytes("$root/src/sub/data.bin", $data)
        [IO.File]::WriteAllBytes("$root/dest/sub/.pd/data.bin", $data[0..(2MB - 1)])
        Write-TestFile "$root/src/.pd/not-sent" 'a source directory named like the partial directory is not sent'
        Write-TestFile "$root/src/other/x" 'x'
        Write-TestFile "$root/dest/other/.pd/stale" 'another file''s partial copy is not deleted'

        $items = Sync-Directory -Path "$root/src" -Destination "$root/dest" -PartialDirectory .pd -Delete -ErrorAction Stop
        $item = $items | Where-Object RelativePath -eq 'sub/data.bin'
        $item.BytesMatched | Should -BeGreaterOrEqual (2MB - 64KB)
        $item.BytesTransferred | Should -BeLessOrEqual (1MB + 64KB)
        & cmp -- "$root/src/sub/data.bin" "$root/dest/sub/data.bin"
        $LASTEXITCODE | Should -Be 0
        Test-Path -LiteralPath "$root/dest/sub/.pd" | Should -BeFalse
        Test-Path -LiteralPath "$root/dest/.pd" | Should -BeFalse
        Test-Path -LiteralPath "$root/dest/other/.pd/stale" | Should -BeTrue
    }

    It 'use an absolute partial directory for all files and keep it' {
        $root = Join-Path $script:WorkRoot 'pabs'
        $data = [byte[]]::new(1MB); [Random]::new(6).NextBytes($data)
        $null = New-Item -ItemType Directory -Path "$root/src/a/b", "$root/parts"
        [IO.File]::WriteAllBytes("$root/src/a/b/f.bin", $data)
        [IO.File]::WriteAllBytes("$root/parts/f.bin", $data[0..(768KB - 1)])
        $items = Sync-Directory -Path "$root/src" -Destination "$root/dest" -PartialDirectory "$root/parts" -ErrorAction Stop
        ($items | Where-Object RelativePath -eq 'a/b/f.bin').BytesMatched | Should -BeGreaterOrEqual 700KB
        & cmp -- "$root/src/a/b/f.bin" "$root/dest/a/b/f.bin"
        $LASTEXITCODE | Should -Be 0
        Test-Path -LiteralPath "$root/parts/f.bin" | Should -BeFalse
        Test-Path -LiteralPath "$root/parts" | Should -BeTrue
    }

    It 'write a new file through an absolute partial directory into place whole, with and without -DelayUpdates' {
        $root = Join-Path $script:WorkRoot 'pabs-new'
        $data = [byte[]]::new(3MB); [Random]::new(7).NextBytes($data)
        $null = New-Item -ItemType Directory -Path "$root/src/a", "$root/parts"
        [IO.File]::WriteAllBytes("$root/src/a/f.bin", $data)
        Sync-Directory -Path "$root/src" -Destination "$root/dest" -PartialDirectory "$root/parts" -ErrorAction Stop | Out-Null
        & cmp -- "$root/src/a/f.bin" "$root/dest/a/f.bin"
        $LASTEXITCODE | Should -Be 0
        Test-Path -LiteralPath "$root/parts/f.bin" | Should -BeFalse

        [IO.File]::WriteAllBytes("$root/src/a/g.bin", $data[0..(2MB - 1)])
        Sync-Directory -Path "$root/src" -Destination "$root/dest" -PartialDirectory "$root/parts" -DelayUpdates -ErrorAction Stop | Out-Null
        & cmp -- "$root/src/a/g.bin" "$root/dest/a/g.bin"
        $LASTEXITCODE | Should -Be 0
        Test-Path -LiteralPath "$root/parts/g.bin" | Should -BeFalse
        Get-ChildItem -LiteralPath "$root/dest/a" -Force -Name | Should -Be @('f.bin', 'g.bin')
    }

    It 'refuses a relative partial directory that is not one name' {
        { Sync-Directory -Path $script:WorkRoot -Destination (Join-Path ([IO.Path]::GetTempPath()) "psr-none-$([guid]::NewGuid())") -PartialDirectory 'a/b' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidPartialDirectory,PSReplica.Commands.SyncDirectoryCommand'
    }
}

Describe '-DelayUpdates' {
    It 'gives the same tree as rsync --delay-updates' {
        $result = Invoke-Both 'delay' @('--delay-updates') @{ DelayUpdates = $true }
        $result.PSReplica | Should -Be $result.Rsync
        Get-ChildItem -Force -Recurse "$($result.Root)/dest" -Filter '.~*' | Should -BeNullOrEmpty
    }

    It 'leaves the destination as it was when the run is stopped before the end' {
        $root = Join-Path $script:WorkRoot 'delay-stop'
        Write-TestFile "$root/src/a.txt" 'new a' '2026-01-02 10:00:00'
        Write-TestFile "$root/dest/a.txt" 'old a'
        $null = New-Item -ItemType Directory -Path "$root/dest" -Force
        & head -c 67108864 /dev/urandom > "$root/src/big.bin"
        Write-TestFile "$root/dest/big.bin" 'old big'
        $before = Get-Tree "$root/dest"
        $child = Start-SyncChild "-Path '$root/src' -Destination '$root/dest' -DelayUpdates -BandwidthLimit 16384"
        $null = Wait-ForGrowth "$root/dest" '.~psr*~big.bin' 16MB $child
        Stop-Child $child 'INT'
        Get-Tree "$root/dest" | Should -Be $before
    }
}

Describe '-Inplace' {
    It 'gives the same tree as rsync --inplace' {
        $result = Invoke-Both 'inplace' @('--inplace') @{ Inplace = $true }
        $result.PSReplica | Should -Be $result.Rsync
    }

    It 'gives the same tree as rsync --inplace --no-whole-file with a delta transfer, sending little and keeping the inode' {
        $root = Join-Path $script:WorkRoot 'inplace-inode'
        New-Fixture $root
        $inode = (& stat -c '%i' -- "$root/dest/large")
        $result = Invoke-Both 'inplace-delta' @('--inplace', '--no-whole-file') @{ Inplace = $true; TransferMode = 'Delta' }
        $result.PSReplica | Should -Be $result.Rsync
        ($result.Items | Where-Object RelativePath -eq 'large').BytesTransferred | Should -BeLessThan 64KB

        $null = Sync-Directory -Path "$root/src" -Destination "$root/dest" -Inplace -TransferMode Delta -ErrorAction Stop
        (& stat -c '%i' -- "$root/dest/large") | Should -Be $inode
    }

    It 'changes every hard link to the file, as rsync --inplace does' {
        $root = Join-Path $script:WorkRoot 'inplace-links'
        Write-TestFile "$root/src/f" 'new content' '2026-01-02 10:00:00'
        Write-TestFile "$root/dest/f" 'old content'
        & ln -- "$root/dest/f" "$root/other-name"
        $null = Sync-Directory -Path "$root/src" -Destination "$root/dest" -Inplace -ErrorAction Stop
        Get-Content -Raw -LiteralPath "$root/other-name" | Should -Be 'new content'
    }

    It 'refuses -DelayUpdates and -PartialDirectory' {
        foreach ($extra in @{ DelayUpdates = $true }, @{ PartialDirectory = '.pd' }) {
            { Sync-Directory -Path $script:WorkRoot -Destination (Join-Path ([IO.Path]::GetTempPath()) "psr-none-$([guid]::NewGuid())") -Inplace @extra -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidParameterCombination,PSReplica.Commands.SyncDirectoryCommand'
        }
    }
}

Describe '-BandwidthLimit on a local run' {
    It 'paces the copy as rsync --bwlimit does' {
        $root = Join-Path $script:WorkRoot 'bwlimit'
        $null = New-Item -ItemType Directory -Path "$root/src"
        & head -c 3145728 /dev/urandom > "$root/src/f.bin"
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $null = Sync-Directory -Path "$root/src" -Destination "$root/dest" -BandwidthLimit 1024 -ErrorAction Stop
        $clock.Elapsed.TotalSeconds | Should -BeGreaterThan 2.5
        & cmp -- "$root/src/f.bin" "$root/dest/f.bin"
        $LASTEXITCODE | Should -Be 0
    }
}

# Issue 18: kill -9 at seeded pseudo-random points of a local run that replaces, updates by delta and creates files.
# The point is a number of bytes the run has visibly written into the destination (its temporary files, and finished
# files, which carry the source's time), polled; -BandwidthLimit keeps the run long enough for the poll to land inside it.
Describe 'A local run killed (SIGKILL) at random points' {
    BeforeAll {
        $script:OldTime = [DateTime]::new(2020, 9, 13, 12, 26, 40, [DateTimeKind]::Utc)
        $script:NewTime = [DateTime]::new(2023, 11, 14, 22, 13, 20, [DateTimeKind]::Utc)

        function Write-Bytes([string] $Path, [byte[]] $Data, [DateTime] $Time) {
            $parent = Split-Path $Path
            if (-not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent }
            [IO.File]::WriteAllBytes($Path, $Data)
            [IO.File]::SetLastWriteTimeUtc($Path, $Time)
        }

        function New-Bytes([Random] $Random, [int] $Length) { $data = [byte[]]::new($Length); $Random.NextBytes($data); , $data }

        # The fixture of the engine's fault tests (FaultTree): same/ untouched by the plan, upd/ replaced whole,
        # delta.bin updated by delta, new/ created; 3.3 MB to write.
        function New-KillFixture([string] $Root, [int] $Seed) {
            $random = [Random]::new($Seed)
            foreach ($name in 'a', 'b', 'c', 'd', 'e') {
                $data = New-Bytes $random 1000
                Write-Bytes "$Root/src/same/$name" $data $script:OldTime
                Write-Bytes "$Root/dst/same/$name" $data $script:OldTime
            }
            foreach ($i in 0..3) {
                Write-Bytes "$Root/dst/upd/u$i" (New-Bytes $random 200000) $script:OldTime
                Write-Bytes "$Root/src/upd/u$i" (New-Bytes $random 200000) $script:NewTime
            }
            $large = New-Bytes $random 1000000
            Write-Bytes "$Root/dst/delta.bin" $large $script:OldTime
            $patch = New-Bytes $random 4096
            [Array]::Copy($patch, 0, $large, 400000, $patch.Length)
            Write-Bytes "$Root/src/delta.bin" $large $script:NewTime
            foreach ($i in 0..9) { Write-Bytes ("$Root/src/new/n{0:D2}" -f $i) (New-Bytes $random 150000) $script:NewTime }
        }

        # relative path -> "hash|mtime|inode" of every file below $Root.
        function Get-FileStates([string] $Root) {
            $states = @{}
            foreach ($line in (& find $Root -type f -printf '%P|%T@|%i\n')) {
                $relative = $line.Split('|')[0]
                $states[$relative] = "$((Get-FileHash -LiteralPath "$Root/$relative" -Algorithm SHA256).Hash)|$($line.Substring($relative.Length + 1))"
            }
            $states
        }

        # Bytes the run has written so far: its temporary files, and the files that already carry the source's time.
        function Get-WrittenBytes([string] $Root) {
            $total = 0L
            foreach ($file in [IO.DirectoryInfo]::new($Root).EnumerateFiles('*', [IO.SearchOption]::AllDirectories)) {
                if ($file.Name.StartsWith('.~psr') -or $file.LastWriteTimeUtc -eq $script:NewTime) { $total += $file.Length }
            }
            $total
        }
    }

    It 'leaves every file old or new, never torn, only PSReplica temporary names, and a re-run converges' {
        $random = [Random]::new(1806)
        $killed = 0
        foreach ($round in 1..5) {
            $root = Join-Path $script:WorkRoot "kill-$round"
            New-KillFixture $root $round
            $before = Get-FileStates "$root/dst"
            $at = $random.Next(3000000)
            # 8 MiB/s: about 0.4 s of writing, which the 10 ms poll below sees go by.
            $child = Start-SyncChild "-Path '$root/src' -Destination '$root/dst' -BandwidthLimit 8192"
            while (-not $child.HasExited -and (Get-WrittenBytes "$root/dst") -lt $at) { Start-Sleep -Milliseconds 10 }
            if (-not $child.HasExited) { Stop-Child $child 'KILL' }
            $child.WaitForExit()
            if ($child.ExitCode -eq 137) { $killed++ }

            $after = Get-FileStates "$root/dst"
            foreach ($relative in $after.Keys) {
                $name = Split-Path -Leaf $relative
                if ($name.StartsWith('.~psr')) { $name | Should -BeLike '.~psr????????~*' -Because 'only PSReplica''s temporary names may be left'; continue }
                $hash = $after[$relative].Split('|')[0]
                $old = $before.ContainsKey($relative) -and $before[$relative].StartsWith($hash)
                $new = (Test-Path -LiteralPath "$root/src/$relative") -and (Get-FileHash -LiteralPath "$root/src/$relative" -Algorithm SHA256).Hash -eq $hash
                ($old -or $new) | Should -BeTrue -Because "$relative (killed at $at bytes) is its old content or the source's, never a torn mix"
            }
            foreach ($relative in $before.Keys) { $after.ContainsKey($relative) | Should -BeTrue -Because "$relative was in place" }
            foreach ($name in 'a', 'b', 'c', 'd', 'e') { $after["same/$name"] | Should -Be $before["same/$name"] -Because 'the plan leaves same/ alone' }

            $null = Sync-Directory -Path "$root/src" -Destination "$root/dst" -ErrorAction Stop
            Get-Tree "$root/dst" | Should -Be (Get-Tree "$root/src") -Because "the re-run after the kill at $at bytes converges and clears the temporary files"
            & rm -rf -- $root
        }
        # A kill point is drawn below what the run writes (3.3 MB), so nearly every run is killed mid-way.
        $killed | Should -BeGreaterOrEqual 3
    }
}
