# Differential test for -Preserve Devices, Specials against Debian's `rsync -aD --delete` (issue 18): random trees of
# FIFOs, sockets, character and block devices (random numbers, modes and times, nanoseconds included) among regular
# files, replicated by both tools into destinations that start out alike and hold what must be replaced: a node of
# another type, a device of another number, a file where a node goes, a node where a file goes, an extraneous FIFO.
# Then the source's nodes change (types, numbers, modes, times) and both run again, then once more with nothing changed.
# The replicas are compared item by item with each other and with the source: type, device number, mode, owner,
# modification time to the nanosecond, a file's content. New nodes are itemized as rsync itemizes them. Devices need
# root (the CI runs as root); without it only FIFOs and sockets are used.
BeforeDiscovery {
    $script:Seeds = @(1801, 1802, 1803)
}

BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:IsRoot = (& id -u) -eq '0'
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-specials-$([guid]::NewGuid().ToString('n'))"

    function Invoke-Tool {
        param([string] $FilePath, [string[]] $ArgumentList)
        $output = & $FilePath @ArgumentList 2>&1
        if ($LASTEXITCODE -ne 0) { throw "$FilePath $($ArgumentList -join ' ') exited with ${LASTEXITCODE}: $output" }
        $output
    }

    function New-Node {
        # One node of $Kind (fifo, socket, char, block) at $Path with $Mode (octal text) and a random time.
        param([System.Random] $Rng, [string] $Path, [string] $Kind, [string] $Mode, [int] $Variant)
        switch ($Kind) {
            'fifo' { Invoke-Tool mkfifo @('-m', $Mode, $Path) | Out-Null }
            'socket' {
                # .NET removes the name it bound when the socket closes: the name beside it is hard-linked first.
                $bound = "$Path.bound"
                $socket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Unspecified)
                try {
                    $socket.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new($bound))
                    Invoke-Tool ln @('--', $bound, $Path) | Out-Null
                }
                finally { $socket.Dispose() }
                & rm -f -- $bound
                Invoke-Tool chmod @($Mode, $Path) | Out-Null
            }
            default {
                # Numbers beyond 8 bits on both sides (Linux: majors to 4095, minors to 2^20-1), as glibc's makedev packs them. Each variant has majors of its own, so a
                # device never meets one of the other type with its number: rsync 3.5 leaves a character device where a block
                # device of the same number (and time and mode) goes (PSReplica replaces it; SpecialFilesRemoteTests).
                $major = @(1, 7, 259, 4093)[$Rng.Next(4)] + $Variant
                $minor = @(3, 200, 70000, 1048575)[$Rng.Next(4)]
                Invoke-Tool mknod @('-m', $Mode, $Path, $(if ($Kind -eq 'char') { 'c' } else { 'b' }), "$major", "$minor") | Out-Null
            }
        }
        $stamp = '2024-0{0}-1{1} 1{2}:0{3}:1{4}.{5:D9}' -f ($Rng.Next(1, 10)), ($Rng.Next(10)), ($Rng.Next(10)), ($Rng.Next(10)), ($Rng.Next(10)), ($Rng.Next(1000000000))
        Invoke-Tool touch @('-h', '-d', $stamp, '--', $Path) | Out-Null
    }

    function Get-Kinds {
        if ($script:IsRoot) { @('fifo', 'socket', 'char', 'block') } else { @('fifo', 'socket') }
    }

    function New-SpecialsTree {
        param([int] $Seed, [string] $Path, [int] $Variant)
        $rng = [System.Random]::new($Seed * 10 + $Variant)
        $kinds = Get-Kinds
        foreach ($directory in '', 'a', 'a/b') {
            $full = Join-Path $Path $directory
            $null = New-Item -ItemType Directory -Force -Path $full
            for ($n = 0; $n -lt 6; $n++) {
                $mode = @('600', '644', '660', '666', '700', '640')[$rng.Next(6)]
                New-Node $rng (Join-Path $full "node$n") $kinds[$rng.Next($kinds.Count)] $mode $Variant
            }
            [System.IO.File]::WriteAllText((Join-Path $full 'file.txt'), "seed $Seed $directory`n")
            Invoke-Tool touch @('-d', '2024-02-02 02:02:02.5', '--', (Join-Path $full 'file.txt')) | Out-Null
        }
        # Times in the past, deepest first: rsync compares whole seconds, so a directory made in the second of its run
        # would keep the time of its creation there.
        foreach ($directory in 'a/b', 'a', '') {
            Invoke-Tool touch @('-d', "2023-03-0$($Variant + 1) 03:03:0$($rng.Next(10)).25", '--', (Join-Path $Path $directory)) | Out-Null
        }
    }

    function Initialize-Destination {
        # What both destinations hold before the first run: nodes and files the source replaces, and an extraneous FIFO.
        param([int] $Seed, [string] $Path)
        $rng = [System.Random]::new($Seed + 77)
        $kinds = Get-Kinds
        $null = New-Item -ItemType Directory -Force -Path (Join-Path $Path 'a')
        New-Node $rng (Join-Path $Path 'node0') $kinds[$rng.Next($kinds.Count)] '600' 2
        New-Node $rng (Join-Path $Path 'node1') $kinds[$rng.Next($kinds.Count)] '644' 2
        [System.IO.File]::WriteAllText((Join-Path $Path 'a/node2'), "a file where a node goes`n")
        New-Node $rng (Join-Path $Path 'a/file.txt') 'fifo' '644' 2
        New-Node $rng (Join-Path $Path 'extraneous') 'fifo' '644' 2
        Invoke-Tool touch @('-d', '2022-01-01 01:01:01', '--', (Join-Path $Path 'a'), $Path) | Out-Null
    }

    function Get-NodeSnapshot {
        # Relative path -> type, device number, mode, owner, nanosecond time, and a file's content (never a node's: a
        # FIFO is never opened).
        param([string] $Root)
        $result = [System.Collections.Generic.SortedDictionary[string, string]]::new([System.StringComparer]::Ordinal)
        $entries = (& find $Root -mindepth 1 -printf '%P\n') | Sort-Object -CaseSensitive
        foreach ($relative in $entries) {
            $full = Join-Path $Root $relative
            $stat = Invoke-Tool stat @('-c', '%F %t:%T %a %u:%g', '--', $full)
            $time = Invoke-Tool stat @('-c', '%.9Y', '--', $full)
            # A directory's time changes as its contents do: both tools set it after the contents, so it is compared too.
            $content = if ("$stat" -like 'regular*') { [System.IO.File]::ReadAllText($full) } else { '' }
            $result[$relative] = "$stat $time $content"
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
        $rsyncLines = Invoke-Tool rsync @('-aD', '--delete', '--out-format=%i %n', '--', "$Source/", "$RsyncDestination/")
        $rsync = @{}
        foreach ($line in $rsyncLines) {
            $itemize, $name = "$line".Split(' ', 2)
            $rsync[$name.TrimEnd('/')] = $itemize
        }
        $preserve = 'Times', 'Permissions', 'Links', 'Owner', 'Group', 'Devices', 'Specials'
        $items = @(Sync-Directory -Path $Source -Destination $PSReplicaDestination -Delete -Preserve $preserve -ErrorVariable syncErrors -ErrorAction SilentlyContinue)
        [pscustomobject]@{ Rsync = $rsync; Items = $items; Errors = @($syncErrors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) }
    }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { & rm -rf -- $script:WorkRoot }
}

Describe 'Sync-Directory -Preserve Devices, Specials against rsync -aD' -Tag 'Differential' {
    It 'seed <_> converges with rsync through replacements, changes and deletions' -ForEach $script:Seeds {
        $seed = $_
        $root = Join-Path $script:WorkRoot "seed-$seed"
        $source = Join-Path $root 'src'
        $rsyncDest = Join-Path $root 'rsync'
        $psrDest = Join-Path $root 'psreplica'
        New-SpecialsTree -Seed $seed -Path $source -Variant 0
        Initialize-Destination -Seed $seed -Path $rsyncDest
        Invoke-Tool cp @('-a', '--', "$rsyncDest/.", $psrDest) | Out-Null
        $checkedItemize = 0
        foreach ($phase in 'initial', 'update', 'rerun') {
            if ($phase -eq 'update') {
                # Every node anew: other types, numbers, modes and times at the same names.
                & rm -rf -- $source
                New-SpecialsTree -Seed $seed -Path $source -Variant 1
            }
            $run = Invoke-Both -Source $source -RsyncDestination $rsyncDest -PSReplicaDestination $psrDest
            $run.Errors | Should -BeNullOrEmpty -Because "phase $phase"
            $sourceSnapshot = Get-NodeSnapshot $source
            $rsyncSnapshot = Get-NodeSnapshot $rsyncDest
            $psrSnapshot = Get-NodeSnapshot $psrDest
            # rsync's replica is the reference; that it matches the source is checked too.
            Compare-Snapshot $sourceSnapshot $rsyncSnapshot 'rsync' | Should -BeNullOrEmpty -Because "rsync's replica matches the source in phase $phase"
            Compare-Snapshot $rsyncSnapshot $psrSnapshot 'PSReplica' | Should -BeNullOrEmpty -Because "phase $phase"
            if ($phase -eq 'rerun') {
                $run.Items | Should -BeNullOrEmpty -Because 'nothing changed since the last run'
                $run.Rsync.Keys | Where-Object { $_ -ne '.' -and $_ -ne '' } | Should -BeNullOrEmpty -Because 'rsync found nothing to do either'
                continue
            }
            foreach ($item in $run.Items | Where-Object { $_.ItemType -in 'BlockDevice', 'CharacterDevice', 'Fifo', 'Socket' -and $_.Action -in 'Create', 'Update', 'Metadata' }) {
                $run.Rsync[$item.RelativePath] | Should -BeExactly $item.Itemize -Because "phase $phase, '$($item.RelativePath)'"
                $checkedItemize++
            }
            # Whatever rsync made or remade as a node, PSReplica did too.
            foreach ($path in $run.Rsync.Keys | Where-Object { $run.Rsync[$_] -clike 'c[DS]*' }) {
                @($run.Items | Where-Object { $_.RelativePath -ceq $path -and $_.Action -in 'Create', 'Update' }).Count | Should -Be 1 -Because "rsync itemized '$path' $($run.Rsync[$path])"
            }
        }
        $checkedItemize | Should -BeGreaterThan 0 -Because 'the seed must make nodes'
    }
}
