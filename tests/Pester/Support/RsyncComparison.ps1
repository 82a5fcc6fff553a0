# What the tests that compare Sync-Directory's results with Debian's rsync item by item share, locally and over SSH:
# a listing of a tree, which basis directory a file shares its inode with, and the basis-directory fixture that
# BasisDirectories.Tests.ps1 and RemoteBasis.Tests.ps1 both build. Dot-source in BeforeAll after TestFiles.ps1
# (Write-TestFile).

function Get-TreeListing {
    <# One line per item below $Root, sorted: path|type|mode|size|time|SHA-256 of a file's content, '-> target' of a link, '-' else,
       with the owner (uid:gid) after the mode under -WithOwner. #>
    param([Parameter(Mandatory)] [string] $Root, [switch] $WithOwner)
    $format = if ($WithOwner) { '%P|%y|%m|%U:%G|%s|%T@\n' } else { '%P|%y|%m|%s|%T@\n' }
    $sizeField = if ($WithOwner) { 4 } else { 3 }
    $lines = & find $Root -mindepth 1 -printf $format | Sort-Object -CaseSensitive
    foreach ($line in $lines) {
        $fields = $line.Split('|')
        $path = Join-Path $Root $fields[0]
        # A directory's size depends on the filesystem, not on what was replicated.
        if ($fields[1] -eq 'd') { $fields[$sizeField] = '-'; $line = $fields -join '|' }
        $hash = switch ($fields[1]) {
            'f' { (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash }
            'l' { '-> ' + (& readlink -- $path) }
            default { '-' }
        }
        "$line|$hash"
    }
}

# For each file of $Root: which of the bases shares its inode ('-' for none), as 'path -> basis'.
function Get-BasisSharing([string] $Root, [string[]] $Bases) {
    # Files and symbolic links (rsync --link-dest hard-links both); stat never follows a link here.
    foreach ($rel in (& find $Root '(' -type f -o -type l ')' -printf '%P\n' | Sort-Object -CaseSensitive)) {
        $inode = & stat -c '%d:%i' -- (Join-Path $Root $rel)
        $owner = '-'
        foreach ($base in $Bases) {
            $candidate = Join-Path $base $rel
            if ((& stat -c '%d:%i' -- $candidate 2>$null) -eq $inode) {
                $owner = Split-Path $base -Leaf
                break
            }
        }
        "$rel -> $owner"
    }
}

function New-BasisDirectoryFixture {
    <# A source (src) and two earlier snapshots (prev1, prev2) under $Root that differ from it in every way the basis
       lookup distinguishes: same file; changed content; same content with another time or mode; missing; present
       only in the second basis; a large file changed in one place (with a delta most of it comes from the basis).
       The same every time it is called, so that rsync and Sync-Directory each get an identical copy. #>
    param(
        [Parameter(Mandatory)] [string] $Root,
        # prev1's 'empty' is as empty as the source's, a zero-length file to find in a basis; without this it has content.
        [switch] $EmptyFileInFirstBasis,
        # More cases, for the tests whose listings show owners: 'owned' (same content, another owner; chown needs
        # root), 'wasdir' (a directory in prev1, a file in prev2) and an edited copy of 'edited' in prev2 as well.
        [switch] $OwnerAndTypeChanges
    )
    $src = Join-Path $Root 'src'
    $p1 = Join-Path $Root 'prev1'
    $p2 = Join-Path $Root 'prev2'
    $inSource = @('same', 'edited', 'retimed', 'remoded', 'only2', 'sub/deep', 'new', 'empty')
    $inFirstBasis = @('same', 'retimed', 'remoded', 'sub/deep', 'empty')
    if ($OwnerAndTypeChanges) { $inSource += 'owned', 'wasdir'; $inFirstBasis += 'owned' }
    foreach ($name in $inSource) {
        Write-TestFile (Join-Path $src $name) "content of $name"
    }
    Write-TestFile (Join-Path $src 'empty') ''
    $lines = 1..20000 | ForEach-Object { "line $_" }
    Write-TestFile (Join-Path $p1 'big') ($lines -join "`n") '2026-01-01 09:00:00'
    $lines[10000] = 'changed'
    Write-TestFile (Join-Path $src 'big') ($lines -join "`n")
    if ($OwnerAndTypeChanges) { & chown 1234:1234 -- (Join-Path $src 'owned') }
    foreach ($name in $inFirstBasis) {
        Write-TestFile (Join-Path $p1 $name) "content of $name"
    }
    if ($EmptyFileInFirstBasis) { Write-TestFile (Join-Path $p1 'empty') '' }
    Write-TestFile (Join-Path $p1 'edited') 'content of edited, yesterday'
    & touch -d '2026-01-01 09:00:00' -- (Join-Path $p1 'retimed')
    & chmod 600 -- (Join-Path $p1 'remoded')
    Write-TestFile (Join-Path $p2 'only2') 'content of only2'
    Write-TestFile (Join-Path $p2 'same') 'content of same'
    if ($OwnerAndTypeChanges) {
        $null = New-Item -ItemType Directory -Path (Join-Path $p1 'wasdir')
        Write-TestFile (Join-Path $p2 'wasdir') 'content of wasdir'
        Write-TestFile (Join-Path $p2 'edited') 'content of edited, day before'
    }
    # The second basis holds the mode the first lacks: the lookup must keep searching past a partial match.
    Write-TestFile (Join-Path $p2 'remoded') 'content of remoded'
    & find $src -type d -exec touch -d '2026-01-02 00:00:00' '{}' +
}

function Get-BasisComparison {
    <# After rsync replicated $RsyncRoot/src to $RsyncRoot/dest and Sync-Directory $PsrRoot/src to $PsrRoot/dest, each
       with prev1 and prev2 of its root as bases: both destinations' listings and which basis each of their files
       shares its inode with, one string each, beside the items Sync-Directory emitted. #>
    param([string] $RsyncRoot, [string] $PsrRoot, [object[]] $Items, [switch] $WithOwner)
    [pscustomobject]@{
        Items        = $Items
        RsyncTree    = (Get-TreeListing "$RsyncRoot/dest" -WithOwner:$WithOwner) -join "`n"
        PsrTree      = (Get-TreeListing "$PsrRoot/dest" -WithOwner:$WithOwner) -join "`n"
        RsyncSharing = (Get-BasisSharing "$RsyncRoot/dest" @("$RsyncRoot/prev1", "$RsyncRoot/prev2")) -join "`n"
        PsrSharing   = (Get-BasisSharing "$PsrRoot/dest" @("$PsrRoot/prev1", "$PsrRoot/prev2")) -join "`n"
        PsrRoot      = $PsrRoot
    }
}
