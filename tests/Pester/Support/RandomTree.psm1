# Deterministic random trees for the differential test against rsync: generation, mutation, destination noise,
# snapshots and their comparison. Everything that varies is drawn from System.Random(seed) in ordinal name order, so
# a seed always produces the same tree (only the times of directories that the test itself writes into vary, and
# those are re-stamped from the seed as well).
Set-StrictMode -Version Latest

if (-not ('RandomTreeNative' -as [type])) {
    # .NET sets times with 100 ns ticks and cannot chown, hard-link or stamp a link itself; libc can.
    Add-Type -TypeDefinition @'
using System;
using System.ComponentModel;
using System.Runtime.InteropServices;

public static class RandomTreeNative
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", SetLastError = true)]
    private static extern int utimensat(int dirfd, string path, Timespec[] times, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int lchown(string path, uint owner, uint group);

    [DllImport("libc", SetLastError = true)]
    private static extern int chmod(string path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int link(string existing, string newPath);

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(string path, uint mode);

    private static void Check(int result, string what, string path)
    {
        if (result != 0)
        {
            throw new Win32Exception(Marshal.GetLastWin32Error(), what + " '" + path + "' failed");
        }
    }

    /// <summary>Sets the modification (and access) time of the item itself, never a link's referent.</summary>
    public static void SetTime(string path, long seconds, long nanoseconds)
    {
        var times = new[] { new Timespec { Seconds = seconds, Nanoseconds = nanoseconds }, new Timespec { Seconds = seconds, Nanoseconds = nanoseconds } };
        Check(utimensat(AtFdCwd, path, times, AtSymlinkNoFollow), "utimensat", path);
    }

    public static void SetOwner(string path, uint owner, uint group) => Check(lchown(path, owner, group), "lchown", path);

    public static void SetMode(string path, int mode) => Check(chmod(path, (uint)mode), "chmod", path);

    public static void HardLink(string existing, string newPath) => Check(link(existing, newPath), "link", newPath);

    public static void MakeFifo(string path) => Check(mkfifo(path, Convert.ToUInt32("644", 8)), "mkfifo", path);
}
'@
}

$script:Utf8 = [System.Text.UTF8Encoding]::new($false)

$script:Words = @('alpha', 'beta', 'gamma', 'notes', 'data', 'readme', 'x', 'b', 'Zeta', 'MiXeD', 'report 2024', 'a b  c', 'lib')
# NFC 'é' and NFD 'e'+U+0301 are different names on Linux; U+FF01 sorts after emoji in UTF-16 but before them in UTF-8.
$script:Unicode = @('é', "e$([char]0x301)", '日本', '日本語', '😀', '🎉', 'Ünïcödé', 'ß', 'Ω', "$([char]0xFF01)", 'ﬁ', 'Ж', 'كتاب', '한')
$script:Odd = @('[', ']', '*', '?', '[a-z]', '[!x]', ' ', "'", '"', '$HOME', '#', '%', '&', ';', '|', '\', '~', '{a,b}', '(', ')', '\#101', '=', '@', ',')
$script:Dashes = @('-rf', '--delete', '-', '-x y', '--', '-e sh')
$script:Suffixes = @('', '', '.txt', '.bin', '.log', '.d', ' ', '.tar.gz')
$script:FileModes = @('644', '644', '600', '640', '755', '700', '444', '4755', '2755', '400', '664')
$script:DirModes = @('755', '755', '700', '750', '555', '1777', '2775', '711')
$script:Owners = @(@(0, 0), @(1000, 1000), @(65534, 65534), @(0, 100), @(4242, 0))

function Get-Pick {
    param([System.Random] $Rng, [object[]] $From)
    $From[$Rng.Next($From.Count)]
}

function Get-Utf8Length([string] $Text) { $script:Utf8.GetByteCount($Text) }

function New-RandomName {
    <# A name of 1..255 UTF-8 bytes with spaces, unicode, glob characters, leading dashes, control characters or
       close to the length limit, unique (ordinally) among $Used. #>
    param([System.Random] $Rng, [System.Collections.Generic.HashSet[string]] $Used, [string[]] $ExtraSuffixes = @())
    for ($attempt = 0; ; $attempt++) {
        $kind = $Rng.Next(100)
        $name = switch ($kind) {
            { $_ -lt 25 } { (Get-Pick $Rng $script:Words) + (Get-Pick $Rng ($script:Suffixes + $ExtraSuffixes)); break }
            { $_ -lt 45 } { (Get-Pick $Rng $script:Unicode) + (Get-Pick $Rng $script:Words) + (Get-Pick $Rng $script:Unicode) + (Get-Pick $Rng $script:Suffixes); break }
            { $_ -lt 60 } { (Get-Pick $Rng $script:Words) + (Get-Pick $Rng $script:Odd) + (Get-Pick $Rng $script:Odd) + (Get-Pick $Rng $script:Suffixes); break }
            { $_ -lt 70 } { (Get-Pick $Rng $script:Dashes) + (Get-Pick $Rng ($script:Words + $script:Unicode)); break }
            { $_ -lt 80 } { '.' + (Get-Pick $Rng $script:Words) + (Get-Pick $Rng $script:Suffixes); break }
            { $_ -lt 83 } { (Get-Pick $Rng $script:Words) + (Get-Pick $Rng @("`t", "`n", "$([char]0x7F)", "$([char]0x1B)[0m", "`r")) + (Get-Pick $Rng $script:Words); break }
            default { New-LongName -Rng $Rng }
        }
        if ($attempt -gt 20) { $name += '-' + $attempt }
        if ($name -in @('.', '..') -or $name.Contains('/') -or (Get-Utf8Length $name) -gt 255) { continue }
        if ($Used.Add($name)) { return $name }
    }
}

function New-LongName {
    <# 200..255 UTF-8 bytes, a third of them exactly 255, mixing 1-, 2-, 3- and 4-byte characters. #>
    param([System.Random] $Rng)
    $target = if ($Rng.Next(3) -eq 0) { 255 } else { $Rng.Next(200, 256) }
    $text = [System.Text.StringBuilder]::new()
    while ($true) {
        $piece = Get-Pick $Rng ($script:Words + $script:Unicode + @(' ', '-', '[', '_'))
        if ((Get-Utf8Length ($text.ToString() + $piece)) -gt $target - 4) { break }
        $null = $text.Append($piece)
    }
    while ((Get-Utf8Length $text.ToString()) -lt $target) { $null = $text.Append([char](0x61 + $Rng.Next(26))) }
    $text.ToString()
}

function Get-RandomTime {
    <# [seconds, nanoseconds]: mostly 2000..2023 with random nanoseconds, sometimes whole seconds, before 1970 or in 2100. #>
    param([System.Random] $Rng)
    $roll = $Rng.Next(100)
    $seconds = [long](946684800 + $Rng.Next(0, 756000000))
    if ($roll -lt 4) { $seconds = - [long]$Rng.Next(1, 100000000) }
    elseif ($roll -lt 7) { $seconds = [long]4102444800 + $Rng.Next(0, 1000000) }
    $nanoseconds = if ($roll -ge 90) { 0 } else { [long]$Rng.Next(0, 1000000000) }
    , @($seconds, $nanoseconds)
}

function Set-RandomTime {
    param([System.Random] $Rng, [string] $Path)
    $t = Get-RandomTime $Rng
    [RandomTreeNative]::SetTime($Path, $t[0], $t[1])
}

function Get-CurrentTime([string] $Path) {
    # find prints the item's own time with nanoseconds (.NET would round to 100 ns and follow links).
    $text = (Invoke-Captured -FilePath find -ArgumentList @($Path, '-maxdepth', '0', '-printf', '%T@')).Output
    ConvertFrom-FindTime $text
}

function ConvertFrom-FindTime([string] $Text) {
    $value = [decimal]::Parse($Text, [System.Globalization.CultureInfo]::InvariantCulture)
    $seconds = [decimal]::Floor($value)
    , @([long]$seconds, [long](($value - $seconds) * 1000000000))
}

function New-RandomBytes {
    param([System.Random] $Rng, [int] $Length)
    $bytes = [byte[]]::new($Length)
    if ($Length -gt 0) {
        if ($Rng.Next(4) -eq 0) {
            # Compressible text-like content, as real trees have.
            $line = $script:Utf8.GetBytes((Get-Pick $Rng $script:Words) + " $($Rng.Next())`n")
            for ($i = 0; $i -lt $Length; $i++) { $bytes[$i] = $line[$i % $line.Length] }
        }
        else { $Rng.NextBytes($bytes) }
    }
    , $bytes
}

function Get-RandomLength {
    param([System.Random] $Rng)
    $roll = $Rng.Next(100)
    if ($roll -lt 12) { return 0 }
    if ($roll -lt 20) { return 1 }
    if ($roll -lt 60) { return $Rng.Next(2, 4097) }
    if ($roll -lt 97) { return $Rng.Next(4097, 300 * 1024) }
    $Rng.Next(1024 * 1024, 3 * 1024 * 1024)
}

function Set-RandomOwnerAndMode {
    param([System.Random] $Rng, [string] $Path, [string[]] $Modes)
    # chown first: it may clear set-id bits, and the mode must be exactly the one chosen.
    if ($Rng.Next(100) -lt 20) {
        $owner = Get-Pick $Rng $script:Owners
        [RandomTreeNative]::SetOwner($Path, $owner[0], $owner[1])
    }
    [RandomTreeNative]::SetMode($Path, [Convert]::ToInt32((Get-Pick $Rng $Modes), 8))
}

function New-RandomFile {
    param([System.Random] $Rng, [string] $Path)
    [System.IO.File]::WriteAllBytes($Path, (New-RandomBytes $Rng (Get-RandomLength $Rng)))
    Set-RandomOwnerAndMode $Rng $Path $script:FileModes
    Set-RandomTime $Rng $Path
}

function Get-RandomLinkTarget {
    param([System.Random] $Rng, [string[]] $Siblings, [int] $Depth)
    $roll = $Rng.Next(100)
    if ($roll -lt 30 -and $Siblings.Count -gt 0) { return (Get-Pick $Rng $Siblings) }
    if ($roll -lt 42 -and $Depth -gt 0) { return '../' + (Get-Pick $Rng ($script:Words + $Siblings)) }
    if ($roll -lt 52) { return 'missing-' + (Get-Pick $Rng $script:Words) }
    if ($roll -lt 62) { return (Get-Pick $Rng @('/etc/hostname', '/nonexistent/deep/path', '/tmp', '/', '/usr/bin/../lib')) }
    if ($roll -lt 70) { return (Get-Pick $Rng @('.', '..', './', 'sub/dir/', '../../..')) }
    if ($roll -lt 80) { return (Get-Pick $Rng $script:Unicode) + ' ' + (Get-Pick $Rng $script:Odd) + ' target' }
    if ($roll -lt 88) { return ('long/' * $Rng.Next(60, 200)) + 'end' }
    (Get-Pick $Rng $script:Dashes) + (Get-Pick $Rng $script:Words)
}

function New-RandomSymbolicLink {
    param([System.Random] $Rng, [string] $Path, [string] $Target)
    $null = [System.IO.File]::CreateSymbolicLink($Path, $Target)
    if ($Rng.Next(100) -lt 15) {
        $owner = Get-Pick $Rng $script:Owners
        [RandomTreeNative]::SetOwner($Path, $owner[0], $owner[1])
    }
    Set-RandomTime $Rng $Path
}

function New-RandomTree {
    <#
    .SYNOPSIS
        Fills $Path (created when missing) with a random tree drawn from $Rng: files of 0, 1 and many bytes,
        nested and empty directories, relative, absolute, dangling and directory symlinks, hard links, varied
        modes, owners and nanosecond times.
    .PARAMETER ExcludeBait
        Also create '*.tmp' files and directories and 'cache' directories (and a 'cache' file) for filter tests.
    #>
    param(
        [Parameter(Mandatory)] [System.Random] $Rng,
        [Parameter(Mandatory)] [string] $Path,
        [int] $MaxDepth = 4,
        [int] $Depth = 0,
        [switch] $ExcludeBait,
        [System.Collections.Generic.List[string]] $Files = [System.Collections.Generic.List[string]]::new()
    )
    if (-not (Test-Path -LiteralPath $Path)) { $null = [System.IO.Directory]::CreateDirectory($Path) }
    $used = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::Ordinal)
    $siblings = [System.Collections.Generic.List[string]]::new()
    $count = if ($Depth -eq 0) { $Rng.Next(10, 18) } elseif ($Rng.Next(100) -lt 12) { 0 } else { $Rng.Next(1, [Math]::Max(2, 9 - 2 * $Depth)) }
    $extra = if ($ExcludeBait) { @('.tmp', '.tmp') } else { @() }
    for ($i = 0; $i -lt $count; $i++) {
        $name = New-RandomName -Rng $Rng -Used $used -ExtraSuffixes $extra
        $full = [System.IO.Path]::Join($Path, $name)
        $roll = $Rng.Next(100)
        if ($roll -lt 22 -and $Depth -lt $MaxDepth) {
            New-RandomTree -Rng $Rng -Path $full -MaxDepth $MaxDepth -Depth ($Depth + 1) -ExcludeBait:$ExcludeBait -Files $Files
        }
        elseif ($roll -lt 38) {
            New-RandomSymbolicLink $Rng $full (Get-RandomLinkTarget $Rng $siblings.ToArray() $Depth)
        }
        elseif ($roll -lt 41 -and $Files.Count -gt 0) {
            # rsync -a has no -H: a hard link arrives as a file of its own.
            [RandomTreeNative]::HardLink((Get-Pick $Rng $Files.ToArray()), $full)
        }
        else {
            New-RandomFile $Rng $full
            $Files.Add($full)
        }
        $siblings.Add($name)
    }
    if ($ExcludeBait -and $Rng.Next(100) -lt 50) {
        $bait = Get-Pick $Rng @('cache', 'x.tmp', 'cache.tmp', '[c].tmp')
        if ($used.Add($bait)) {
            $full = [System.IO.Path]::Join($Path, $bait)
            if ($Rng.Next(3) -eq 0 -and $bait -eq 'cache') { New-RandomFile $Rng $full }
            else { New-RandomTree -Rng $Rng -Path $full -MaxDepth ([Math]::Min($MaxDepth, $Depth + 1)) -Depth ($Depth + 1) -Files $Files }
        }
    }
    Set-RandomOwnerAndMode $Rng $Path $script:DirModes
    Set-RandomTime $Rng $Path
}

function Get-TreeEntry {
    <# The entries below $Path as objects (Relative, Full, Type: f d l), parents before children, ordinal order;
       symlinks are not followed. #>
    param([Parameter(Mandatory)] [string] $Path)
    $result = [System.Collections.Generic.List[object]]::new()
    $stack = [System.Collections.Generic.Stack[object]]::new()
    $stack.Push(@('', $Path))
    while ($stack.Count -gt 0) {
        $pair = $stack.Pop()
        $infos = @([System.IO.DirectoryInfo]::new($pair[1]).EnumerateFileSystemInfos())
        if ($infos.Count -gt 1) { [System.Array]::Sort([string[]]@($infos | ForEach-Object Name), $infos, [System.StringComparer]::Ordinal) }
        $children = [System.Collections.Generic.List[object]]::new()
        foreach ($info in $infos) {
            $relative = if ($pair[0]) { $pair[0] + '/' + $info.Name } else { $info.Name }
            $type = if ($null -ne $info.LinkTarget) { 'l' } elseif ($info -is [System.IO.DirectoryInfo]) { 'd' } else { 'f' }
            $entry = [pscustomobject]@{ Relative = $relative; Full = $info.FullName; Type = $type; Name = $info.Name }
            $result.Add($entry)
            if ($type -eq 'd') { $children.Add($entry) }
        }
        for ($i = $children.Count - 1; $i -ge 0; $i--) { $stack.Push(@($children[$i].Relative, $children[$i].Full)) }
    }
    $sorted = $result.ToArray()
    if ($sorted.Count -gt 1) { [System.Array]::Sort([string[]]@($sorted | ForEach-Object Relative), $sorted, [System.StringComparer]::Ordinal) }
    $sorted
}

function Remove-TreeItem([string] $Path) {
    $info = [System.IO.FileInfo]::new($Path)
    if ($null -eq $info.LinkTarget -and [System.IO.Directory]::Exists($Path)) { [System.IO.Directory]::Delete($Path, $true) }
    else { [System.IO.File]::Delete($Path) }
}

function Set-ShiftedTime {
    <# Moves an item's time by at least one whole second (rsync's default -@0 compares whole seconds). #>
    param([System.Random] $Rng, [string] $Path, [long[]] $From = (Get-CurrentTime $Path))
    $now = $From
    $shift = [long]$Rng.Next(1, 5000000) * (Get-Pick $Rng @(1, -1))
    [RandomTreeNative]::SetTime($Path, $now[0] + $shift, [long]$Rng.Next(0, 1000000000))
}

function Update-RandomTree {
    <#
    .SYNOPSIS
        Mutates a tree made by New-RandomTree: content changes (new size; same size with a new time), time-only and
        mode-only changes, deletions of files and whole directories, file->dir, dir->file, file->symlink,
        symlink->file, symlink->dir, retargeted links and new files, directories and subtrees. Times of directories
        whose contents changed are re-stamped from $Rng, so the result depends on the seed only.
    #>
    param([Parameter(Mandatory)] [System.Random] $Rng, [Parameter(Mandatory)] [string] $Path, [switch] $ExcludeBait)
    $started = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    $gone = [System.Collections.Generic.List[string]]::new()
    foreach ($entry in (Get-TreeEntry $Path)) {
        $underGone = $false
        foreach ($prefix in $gone) { if ($entry.Relative.StartsWith($prefix + '/', [System.StringComparison]::Ordinal)) { $underGone = $true; break } }
        if ($underGone) { continue }
        $full = $entry.Full
        $roll = $Rng.Next(100)
        switch ($entry.Type) {
            'f' {
                if ($roll -lt 8) {
                    $old = [System.IO.File]::ReadAllBytes($full)
                    $length = if ($old.Length -gt 0 -and $Rng.Next(2) -eq 0) { $Rng.Next(0, $old.Length) } else { $old.Length + $Rng.Next(1, 5000) }
                    [System.IO.File]::WriteAllBytes($full, (New-RandomBytes $Rng $length))
                    Set-RandomTime $Rng $full
                }
                elseif ($roll -lt 14) {
                    $before = Get-CurrentTime $full
                    $bytes = [System.IO.File]::ReadAllBytes($full)
                    if ($bytes.Length -gt 0) {
                        # Same size, some bytes changed (a delta transfer would reuse the rest), new time.
                        for ($k = 0; $k -lt [Math]::Min(8, $bytes.Length); $k++) { $bytes[$Rng.Next($bytes.Length)] = [byte]$Rng.Next(256) }
                        [System.IO.File]::WriteAllBytes($full, $bytes)
                    }
                    Set-ShiftedTime $Rng $full $before
                }
                elseif ($roll -lt 20) { Set-ShiftedTime $Rng $full }
                elseif ($roll -lt 26) { [RandomTreeNative]::SetMode($full, [Convert]::ToInt32((Get-Pick $Rng $script:FileModes), 8)) }
                elseif ($roll -lt 29) { $o = Get-Pick $Rng $script:Owners; [RandomTreeNative]::SetOwner($full, $o[0], $o[1]) }
                elseif ($roll -lt 35) { Remove-TreeItem $full; $gone.Add($entry.Relative) }
                elseif ($roll -lt 38) { Remove-TreeItem $full; New-RandomTree -Rng $Rng -Path $full -MaxDepth 2 -ExcludeBait:$ExcludeBait -Depth 1; $gone.Add($entry.Relative) }
                elseif ($roll -lt 41) { Remove-TreeItem $full; New-RandomSymbolicLink $Rng $full (Get-RandomLinkTarget $Rng @() 1) }
            }
            'l' {
                if ($roll -lt 15) { Remove-TreeItem $full; New-RandomSymbolicLink $Rng $full ((Get-RandomLinkTarget $Rng @() 1) + '2') }
                elseif ($roll -lt 25) { Remove-TreeItem $full; New-RandomFile $Rng $full }
                elseif ($roll -lt 30) { Remove-TreeItem $full; New-RandomTree -Rng $Rng -Path $full -MaxDepth 2 -Depth 1 -ExcludeBait:$ExcludeBait }
                elseif ($roll -lt 40) { Remove-TreeItem $full }
                elseif ($roll -lt 48) { Set-ShiftedTime $Rng $full }
            }
            'd' {
                if ($roll -lt 6) { Remove-TreeItem $full; $gone.Add($entry.Relative) }
                elseif ($roll -lt 10) { Remove-TreeItem $full; New-RandomFile $Rng $full; $gone.Add($entry.Relative) }
                elseif ($roll -lt 13) { Remove-TreeItem $full; New-RandomSymbolicLink $Rng $full (Get-RandomLinkTarget $Rng @() 1); $gone.Add($entry.Relative) }
                elseif ($roll -lt 20) { [RandomTreeNative]::SetMode($full, [Convert]::ToInt32((Get-Pick $Rng $script:DirModes), 8)) }
                elseif ($roll -lt 25) { Set-ShiftedTime $Rng $full }
                elseif ($roll -lt 35) {
                    $used = [System.Collections.Generic.HashSet[string]]::new([string[]]@([System.IO.Directory]::EnumerateFileSystemEntries($full) | ForEach-Object { [System.IO.Path]::GetFileName($_) }), [System.StringComparer]::Ordinal)
                    $new = [System.IO.Path]::Join($full, (New-RandomName -Rng $Rng -Used $used))
                    if ($Rng.Next(2) -eq 0) { New-RandomFile $Rng $new } else { New-RandomTree -Rng $Rng -Path $new -MaxDepth 2 -Depth 1 -ExcludeBait:$ExcludeBait }
                    $gone.Add($entry.Relative + '/' + [System.IO.Path]::GetFileName($new))
                }
            }
        }
    }
    # New items at the top as well.
    $topUsed = [System.Collections.Generic.HashSet[string]]::new([string[]]@([System.IO.Directory]::EnumerateFileSystemEntries($Path) | ForEach-Object { [System.IO.Path]::GetFileName($_) }), [System.StringComparer]::Ordinal)
    New-RandomFile $Rng ([System.IO.Path]::Join($Path, (New-RandomName -Rng $Rng -Used $topUsed)))
    New-RandomTree -Rng $Rng -Path ([System.IO.Path]::Join($Path, (New-RandomName -Rng $Rng -Used $topUsed))) -MaxDepth 3 -Depth 1 -ExcludeBait:$ExcludeBait
    Reset-TouchedDirectoryTime -Rng $Rng -Path $Path -Since $started
}

function Reset-TouchedDirectoryTime {
    <# Directories written into since $Since carry the wall-clock time; give them a time drawn from $Rng. #>
    param([System.Random] $Rng, [string] $Path, [long] $Since)
    $until = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() + 2
    $run = Invoke-Captured -FilePath find -ArgumentList @($Path, '-type', 'd', '-printf', '%P\0%T@\0')
    $fields = $run.Output.Split([char]0)
    $dirs = [System.Collections.Generic.List[string]]::new()
    $times = @{}
    for ($i = 0; $i + 1 -lt $fields.Length; $i += 2) { $dirs.Add($fields[$i]); $times[$fields[$i]] = ConvertFrom-FindTime $fields[$i + 1] }
    $dirs.Sort([System.StringComparer]::Ordinal)
    foreach ($dir in $dirs) {
        $seconds = $times[$dir][0]
        if ($seconds -ge $Since - 2 -and $seconds -le $until) { Set-RandomTime $Rng ([System.IO.Path]::Join($Path, $dir)) }
    }
}

function Add-DestinationNoise {
    <#
    .SYNOPSIS
        Makes a replica differ from its source the way a used destination does: extraneous files, directories
        (with contents) and symlinks, a directory standing where the source has a file, local mode and time
        changes. Applied with the same seed to two identical replicas it changes them identically.
    #>
    param([Parameter(Mandatory)] [System.Random] $Rng, [Parameter(Mandatory)] [string] $Path, [switch] $ExcludeBait)
    $started = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    $entries = @(Get-TreeEntry $Path)
    $dirs = @(@([pscustomobject]@{ Full = $Path; Type = 'd'; Relative = '' }) + $entries | Where-Object Type -EQ 'd')
    foreach ($dir in $dirs) {
        if ($Rng.Next(100) -ge 25) { continue }
        $used = [System.Collections.Generic.HashSet[string]]::new([string[]]@([System.IO.Directory]::EnumerateFileSystemEntries($dir.Full) | ForEach-Object { [System.IO.Path]::GetFileName($_) }), [System.StringComparer]::Ordinal)
        $name = New-RandomName -Rng $Rng -Used $used
        $full = [System.IO.Path]::Join($dir.Full, $name)
        switch ($Rng.Next(4)) {
            0 { New-RandomFile $Rng $full }
            1 { New-RandomTree -Rng $Rng -Path $full -MaxDepth 3 -Depth 1 }
            2 { New-RandomSymbolicLink $Rng $full (Get-RandomLinkTarget $Rng @() 1) }
            3 { New-RandomFile $Rng $(if ((Get-Utf8Length $name) -le 244) { $full + '.extraneous' } else { $full }) }
        }
        if ($ExcludeBait) {
            # Excluded names are protected from deletion, also inside an extraneous directory that then cannot go
            # (rsync says 'cannot delete non-empty directory' and exits 0).
            foreach ($bait in @('junk.tmp', 'cache')) {
                if ($used.Add($bait) -and $Rng.Next(2) -eq 0) {
                    $b = [System.IO.Path]::Join($dir.Full, $bait)
                    if ($bait -eq 'cache') { New-RandomTree -Rng $Rng -Path $b -MaxDepth 2 -Depth 1 } else { New-RandomFile $Rng $b }
                }
            }
            if ($Rng.Next(3) -eq 0 -and $used.Add('gone dir')) {
                $g = [System.IO.Path]::Join($dir.Full, 'gone dir')
                $null = [System.IO.Directory]::CreateDirectory($g)
                # Only an excluded child: neither tool changes the directory, so its time stays comparable.
                New-RandomFile $Rng ([System.IO.Path]::Join($g, 'keep.tmp'))
            }
        }
    }
    foreach ($entry in $entries) {
        if (-not (Test-Path -LiteralPath ([System.IO.Path]::GetDirectoryName($entry.Full)))) { continue }
        $roll = $Rng.Next(100)
        if ($entry.Type -eq 'f') {
            if ($roll -lt 4) { [RandomTreeNative]::SetMode($entry.Full, [Convert]::ToInt32((Get-Pick $Rng $script:FileModes), 8)) }
            elseif ($roll -lt 8) { Set-ShiftedTime $Rng $entry.Full }
            elseif ($roll -lt 10) {
                # The source's file meets a non-empty directory in the destination.
                Remove-TreeItem $entry.Full
                New-RandomTree -Rng $Rng -Path $entry.Full -MaxDepth 2 -Depth 1
                $null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::Join($entry.Full, 'inner'))
            }
        }
        elseif ($entry.Type -eq 'd' -and $roll -lt 5) {
            [RandomTreeNative]::SetMode($entry.Full, [Convert]::ToInt32((Get-Pick $Rng $script:DirModes), 8))
        }
    }
    Reset-TouchedDirectoryTime -Rng $Rng -Path $Path -Since $started
}

function Invoke-Captured {
    <# Runs a program with exact arguments (no shell, no quoting) and captures UTF-8 stdout/stderr. #>
    param([string] $FilePath, [string[]] $ArgumentList, [hashtable] $Environment = @{})
    $psi = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $psi.StandardOutputEncoding = $script:Utf8
    $psi.StandardErrorEncoding = $script:Utf8
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
    $process = [System.Diagnostics.Process]::Start($psi)
    $stderrTask = $process.StandardError.ReadToEndAsync()
    $stdout = $process.StandardOutput.ReadToEnd()
    $process.WaitForExit()
    [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout; Error = $stderrTask.GetAwaiter().GetResult() }
}

function ConvertFrom-RsyncEscape {
    <# rsync prints unprintable bytes of a name as \#ooo (octal); turn them back into the UTF-8 name. #>
    param([string] $Text)
    if (-not $Text.Contains('\#')) { return $Text }
    $bytes = [System.Collections.Generic.List[byte]]::new()
    for ($i = 0; $i -lt $Text.Length; $i++) {
        if ($Text[$i] -eq '\' -and $i + 4 -lt $Text.Length -and $Text[$i + 1] -eq '#' -and $Text.Substring($i + 2, 3) -match '^[0-7]{3}$') {
            $bytes.Add([Convert]::ToByte($Text.Substring($i + 2, 3), 8))
            $i += 4
            continue
        }
        $charLength = if ([char]::IsHighSurrogate($Text[$i])) { 2 } else { 1 }
        $bytes.AddRange($script:Utf8.GetBytes($Text.Substring($i, $charLength)))
        $i += $charLength - 1
    }
    $script:Utf8.GetString($bytes.ToArray())
}

function Invoke-Rsync {
    <# rsync -a --delete SOURCE/ [SOURCE2/ ...] [ITEM ...] DESTINATION/ with --out-format='%i %n'; returns the exit code,
       the itemized changes (Itemize, Path normalised like SyncItem.RelativePath, IsDelete) and the other output lines.
       Each -Source is a directory whose contents are sent; each -Item (a file or link) is sent itself. With -RemoteShell
       (rsync -e), a source or the destination may be host:path. #>
    param([string[]] $Source = @(), [string] $Destination, [string[]] $Exclude = @(), [string[]] $Item = @(), [string] $RemoteShell)
    $arguments = @('-a', '--delete', '--out-format=%i %n')
    if ($RemoteShell) { $arguments += @('-e', $RemoteShell) }
    foreach ($pattern in $Exclude) { $arguments += "--exclude=$pattern" }
    $arguments += '--'
    foreach ($directory in $Source) { $arguments += ($directory.TrimEnd('/') + '/') }
    $arguments += $Item
    $arguments += ($Destination.TrimEnd('/') + '/')
    $run = Invoke-Captured -FilePath rsync -ArgumentList $arguments -Environment @{ LC_ALL = 'C.UTF-8' }
    $changes = [System.Collections.Generic.List[object]]::new()
    $other = [System.Collections.Generic.List[string]]::new()
    foreach ($line in $run.Output.Split("`n")) {
        if ($line.Length -eq 0) { continue }
        if ($line.Length -gt 12 -and $line -match '^(\*deleting  |[<>ch.][fdLDS][^ ]{9}) ') {
            $itemize = $line.Substring(0, 11)
            $name = ConvertFrom-RsyncEscape $line.Substring(12)
            if ($name -eq './') { $name = '.' }
            elseif ($name.EndsWith('/')) { $name = $name.Substring(0, $name.Length - 1) }
            $changes.Add([pscustomobject]@{ Itemize = $itemize; Path = $name; IsDelete = $itemize.StartsWith('*') })
        }
        else { $other.Add($line) }
    }
    [pscustomobject]@{ ExitCode = $run.ExitCode; Changes = $changes.ToArray(); Messages = $other.ToArray(); Error = $run.Error }
}

function Get-TreeSnapshot {
    <#
    .SYNOPSIS
        Relative path -> record of what a replica must reproduce: type, mode (with set-id and sticky bits), owner,
        group, modification time to the nanosecond, size and link count of files, content hash, symlink target.
        The root is '.'. Directory sizes are left out (they depend on the directory's history).
    #>
    param([Parameter(Mandatory)] [string] $Path, [switch] $IgnoreLinkCount)
    $run = Invoke-Captured -FilePath find -ArgumentList @($Path, '-printf', '%P\0%y\0%m\0%U\0%G\0%T@\0%s\0%n\0%l\0')
    if ($run.ExitCode -ne 0) { throw "find $Path failed: $($run.Error)" }
    $fields = $run.Output.Split([char]0)
    $snapshot = [System.Collections.Generic.SortedDictionary[string, object]]::new([System.StringComparer]::Ordinal)
    for ($i = 0; $i + 8 -lt $fields.Length; $i += 9) {
        $relative = if ($fields[$i]) { $fields[$i] } else { '.' }
        $type = $fields[$i + 1]
        $record = [ordered]@{ type = $type; mode = $fields[$i + 2]; owner = $fields[$i + 3] + ':' + $fields[$i + 4]; mtime = $fields[$i + 5] }
        if ($type -eq 'f') {
            $record.size = $fields[$i + 6]
            if (-not $IgnoreLinkCount) { $record.links = $fields[$i + 7] }
            $full = [System.IO.Path]::Join($Path, $relative)
            $stream = [System.IO.File]::OpenRead($full)
            try { $record.sha256 = [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($stream)) } finally { $stream.Dispose() }
        }
        elseif ($type -eq 'l') { $record.target = $fields[$i + 8] }
        elseif ($type -ne 'd') { $record.size = $fields[$i + 6] }
        $snapshot[$relative] = $record
    }
    $snapshot
}

function Format-TreePath([string] $Relative) {
    # Control characters would break the report's lines.
    [regex]::Replace($Relative, '[\x00-\x1F\x7F]', { param($m) '\x{0:X2}' -f [int][char]$m.Value })
}

function Compare-TreeSnapshot {
    <#
    .SYNOPSIS
        Differences between two snapshots, one line each: paths only on one side first, then attribute
        differences ('path: mode 644 vs 600'), in path order. Empty when the trees agree.
    #>
    param(
        [Parameter(Mandatory)] $Reference,
        [Parameter(Mandatory)] $Difference,
        [string] $ReferenceName = 'reference',
        [string] $DifferenceName = 'difference',
        [System.Collections.Generic.HashSet[string]] $Ignore
    )
    $lines = [System.Collections.Generic.List[string]]::new()
    $attributes = [System.Collections.Generic.List[string]]::new()
    foreach ($key in $Reference.Keys) {
        if ($Ignore -and $Ignore.Contains($key)) { continue }
        if (-not $Difference.ContainsKey($key)) { $lines.Add("only in ${ReferenceName}: $(Format-TreePath $key) ($($Reference[$key].type))"); continue }
        $a = $Reference[$key]; $b = $Difference[$key]
        $names = @($a.Keys) + @($b.Keys | Where-Object { -not $a.Contains($_) })
        foreach ($name in $names) {
            $va = if ($a.Contains($name)) { $a[$name] } else { '<none>' }
            $vb = if ($b.Contains($name)) { $b[$name] } else { '<none>' }
            if ($va -cne $vb) { $attributes.Add("$(Format-TreePath $key): $name $va ($ReferenceName) vs $vb ($DifferenceName)") }
        }
    }
    foreach ($key in $Difference.Keys) {
        if ($Ignore -and $Ignore.Contains($key)) { continue }
        if (-not $Reference.ContainsKey($key)) { $lines.Add("only in ${DifferenceName}: $(Format-TreePath $key) ($($Difference[$key].type))") }
    }
    $lines.AddRange($attributes)
    , $lines.ToArray()
}

function Compare-ChangeSet {
    <#
    .SYNOPSIS
        Compares rsync's itemized changes with PSReplica's SyncItems by relative path. Paths are the contract:
        Paths lists those only one tool changed. Itemize lists the paths both changed but itemized differently;
        a path with several entries (a deletion then a creation when the type changes) shows them joined by ' + '.
    .PARAMETER DestinationBefore
        PSReplica's destination before the run (Get-TreeSnapshot). A file there with a set-user-ID or set-group-ID bit
        whose owner or group the run changed is one rsync -a (as root) changes without a line: it stats the file again
        after chown (which may clear those bits) and itemizes what it then sees. PSReplica reports the change; such a
        path goes to Itemize (a known difference in reporting, not in what is done).
    #>
    param([object[]] $Rsync, [object[]] $Items, $DestinationBefore)
    $r = [System.Collections.Generic.Dictionary[string, string]]::new([System.StringComparer]::Ordinal)
    $p = [System.Collections.Generic.Dictionary[string, string]]::new([System.StringComparer]::Ordinal)
    foreach ($c in $Rsync) { $r[$c.Path] = if ($r.ContainsKey($c.Path)) { $r[$c.Path] + ' + ' + $c.Itemize } else { $c.Itemize } }
    # RelativePath shows a name's bytes that are not UTF-8, and a real '\#', escaped (about_PSReplica, "Names that are
    # not UTF-8"); rsync's lines are read back into names by ConvertFrom-RsyncEscape: both sides compare as names.
    foreach ($i in $Items) {
        $name = [PSReplica.SyncNames]::Parse($i.RelativePath)
        $p[$name] = if ($p.ContainsKey($name)) { $p[$name] + ' + ' + $i.Itemize } else { $i.Itemize }
    }
    $paths = [System.Collections.Generic.List[string]]::new()
    $itemize = [System.Collections.Generic.List[string]]::new()
    $rKeys = [string[]]@($r.Keys); [System.Array]::Sort($rKeys, [System.StringComparer]::Ordinal)
    $pKeys = [string[]]@($p.Keys); [System.Array]::Sort($pKeys, [System.StringComparer]::Ordinal)
    foreach ($k in $rKeys) {
        if (-not $p.ContainsKey($k)) { $paths.Add("rsync only: $(Format-TreePath $k) [$($r[$k])]") }
        elseif ($p[$k] -cne $r[$k]) { $itemize.Add("$(Format-TreePath $k): rsync '$($r[$k])' PSReplica '$($p[$k])'") }
    }
    foreach ($k in $pKeys) {
        if ($r.ContainsKey($k)) { continue }
        $before = if ($DestinationBefore -and $DestinationBefore.ContainsKey($k)) { $DestinationBefore[$k] } else { $null }
        $setId = $before -and $before.type -eq 'f' -and $before.mode.Length -eq 4 -and ([Convert]::ToInt32($before.mode.Substring(0, 1), 8) -band 6)
        if ($setId -and $p[$k] -cmatch '^\.f\.{3}.(o|.g)') { $itemize.Add("$(Format-TreePath $k): rsync (no line: set-id bits and a new owner) PSReplica '$($p[$k])'") }
        else { $paths.Add("PSReplica only: $(Format-TreePath $k) [$($p[$k])]") }
    }
    [pscustomobject]@{ Paths = $paths.ToArray(); Itemize = $itemize.ToArray() }
}

Export-ModuleMember -Function New-RandomTree, Update-RandomTree, Add-DestinationNoise, Get-TreeSnapshot, Compare-TreeSnapshot,
    Invoke-Rsync, Compare-ChangeSet, Get-TreeEntry, Invoke-Captured, Format-TreePath, ConvertFrom-RsyncEscape
