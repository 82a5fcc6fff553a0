# Deterministic random filter-rule cases for the differential test against rsync (issue #4): a small source tree, a
# destination that shares some of its names and has extraneous ones, and a random rule set in rsync's syntax drawn
# from the names actually in the trees (so that rules match things), with per-directory merge files placed in random
# source (and, for receiver-side cases, destination) directories. Everything is drawn from System.Random(seed), so a
# seed always produces the same case; New-FilterCase describes it as data, Write-FilterCase puts it on disk.
#
# Rules may hold the placeholders {SRC}, {DST} and {ROOT} (absolute paths of the source, the destination and the
# case's directory) for the '/' modifier (match against the absolute path) and 'merge FILE'; Resolve-FilterCaseRule
# substitutes them.
Set-StrictMode -Version Latest

Import-Module (Join-Path $PSScriptRoot 'RandomTree.psm1')

# Stems and suffixes of names: wildcard characters, brackets, spaces, dots, unicode (NFC 'é' and NFD 'e'+U+0301 are
# different names; multi-byte characters tell byte-wise matching, as rsync's, from character-wise matching).
$script:Stems = @('alpha', 'beta', 'data', 'notes', 'lib', 'build', 'src', 'cache', 'core', 'x', 'y', 'b', 'ab', 'abc',
    'Zeta', 'MiXeD', 'report 2024', 'a b', 'keep', 'old', 'tmp', 'log', 'out', 'doc', 'test', 'v1', 'v2',
    '.hidden', '.git', '.config', '-dash', 'a.b', 'x[1]', '[x]', '[ab]', 'a*b', 'q?', 'sp ace', 'dot.dot.',
    'é', "e$([char]0x301)", '日本', 'Ünï', 'ß', 'Ж', '😀', 'naïve', 'Ω')
$script:Extensions = @('', '', '', '', '.txt', '.txt', '.o', '.c', '.h', '.log', '.tmp', '.bak', '.tar.gz', '~', '.TXT', '.d')
$script:DestinationOnlyStems = @('junk', 'stale', 'orphan', 'leftover', 'keep.me', 'old copy', '#hash', '~tilde', 'ÿ')
$script:MergeFileNames = @{ Rules = '.rules'; Exclude = '.ex'; Include = '.in'; FilterFile = '.rsync-filter' }

function Get-Pick($Rng, $From) {
    # Untyped parameters: binding [object[]] would copy the array on every call, and this is the hot path.
    $From[$Rng.Next($From.Count)]
}

function Test-Chance($Rng, $Percent) { $Rng.Next(100) -lt $Percent }

function New-EntryName {
    <# A name unique (ordinally) among $Used, from the stems and suffixes; directories mostly without a suffix. #>
    param($Rng, $Used, [string] $Type, $Stems = $script:Stems)
    for ($attempt = 0; ; $attempt++) {
        $stem = $Stems[$Rng.Next($Stems.Count)]
        $ext = if ($Type -eq 'd' -and -not ($Rng.Next(100) -lt 15)) { '' } else { $script:Extensions[$Rng.Next($script:Extensions.Count)] }
        $name = $stem + $ext
        if ($attempt -gt 10) { $name = $stem + $attempt + $ext }
        if ($Used.Add($name)) { return $name }
    }
}

function Get-ParentPath([string] $Relative) {
    $i = $Relative.LastIndexOf('/')
    if ($i -lt 0) { '' } else { $Relative.Substring(0, $i) }
}

function Get-LeafName([string] $Relative) { $Relative.Substring($Relative.LastIndexOf('/') + 1) }

function Join-Relative([string] $Parent, [string] $Name) { if ($Parent) { "$Parent/$Name" } else { $Name } }

function New-EntryList {
    <# A tree as an ordered dictionary: relative path -> @{ Type = d|f|l; Content; Target }; parents come first. #>
    param([System.Random] $Rng, [int] $Count, [int] $MaxDepth = 4, $Stems = $script:Stems,
        [System.Collections.Specialized.OrderedDictionary] $Into = [ordered]@{}, [string[]] $Roots = @(''), [string[]] $Avoid = @())
    $dirs = [System.Collections.Generic.List[string]]::new()
    $dirs.AddRange([string[]]$Roots)
    $used = @{}
    foreach ($key in @($Into.Keys) + $Avoid) {
        $parent = Get-ParentPath $key
        if (-not $used.ContainsKey($parent)) { $used[$parent] = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::Ordinal) }
        $null = $used[$parent].Add((Get-LeafName $key))
    }
    for ($i = 0; $i -lt $Count; $i++) {
        # Favour recently made directories a little so that the tree gets some depth.
        $parent = if ($dirs.Count -gt 1 -and ($Rng.Next(100) -lt 45)) { $dirs[$dirs.Count - 1 - $Rng.Next([Math]::Min(3, $dirs.Count))] } else { $dirs[$Rng.Next($dirs.Count)] }
        if (-not $used.ContainsKey($parent)) { $used[$parent] = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::Ordinal) }
        $depth = if ($parent) { $parent.Split('/').Count } else { 0 }
        $roll = $Rng.Next(100)
        $type = if ($roll -lt 28 -and $depth -lt $MaxDepth) { 'd' } elseif ($roll -lt 36) { 'l' } else { 'f' }
        $name = New-EntryName -Rng $Rng -Used $used[$parent] -Type $type -Stems $Stems
        $path = Join-Relative $parent $name
        switch ($type) {
            'd' { $Into[$path] = @{ Type = 'd' }; $dirs.Add($path) }
            'l' { $Into[$path] = @{ Type = 'l'; Target = (Get-Pick $Rng @('alpha', '../x', 'missing', '/etc/hostname', '.')) } }
            'f' { $Into[$path] = @{ Type = 'f'; Content = "$path $($Rng.Next())" } }
        }
    }
    $Into
}

function Get-RuneList([string] $Text) {
    $runes = [System.Collections.Generic.List[string]]::new()
    foreach ($r in $Text.EnumerateRunes()) { $runes.Add($r.ToString()) }
    , $runes.ToArray()
}

function Get-ClassFor {
    <# A bracket class that matches $Char: a set, a range, a negated set of something else, or a POSIX class. #>
    param([System.Random] $Rng, [string] $Char)
    $isLower = $Char -cmatch '^[a-z]$'; $isUpper = $Char -cmatch '^[A-Z]$'; $isDigit = $Char -match '^[0-9]$'
    $roll = $Rng.Next(100)
    if ($Char -in @(']', '[', '!', '^', '-', '\', '/')) { return '?' }
    if ($roll -lt 25) { return "[$Char$(Get-Pick $Rng @('x', 'q', '_', '.', 'Z'))]" }
    if ($roll -lt 50 -and ($isLower -or $isUpper -or $isDigit)) {
        return $(if ($isLower) { Get-Pick $Rng @('[a-z]', '[a-m]', '[n-z]', '[_a-z0-9]') } elseif ($isUpper) { Get-Pick $Rng @('[A-Z]', '[A-Za-z]') } else { '[0-9]' })
    }
    if ($roll -lt 70) { return "[!$(Get-Pick $Rng @('x', 'q', '.', ' ', 'Q'))]" }
    if ($roll -lt 80 -and ($isLower -or $isUpper)) { return Get-Pick $Rng @('[[:alpha:]]', '[[:alnum:]]', $(if ($isLower) { '[[:lower:]]' } else { '[[:upper:]]' })) }
    # Deliberately a class that may not match (a negated class of the very character, or a range beside it).
    Get-Pick $Rng @("[!$Char]", '[0-9]', "[$Char]")
}

function Get-MutatedName {
    <# $Name as a wildcard pattern that usually still matches it: '?' for a character, '*' for a run, a class for a
       character; sometimes unchanged (a literal, which stays a wildcard pattern when the name holds '[', '*' or '?'). #>
    param($Rng, [string] $Name)
    $runes = Get-RuneList $Name
    $n = $runes.Count
    if ($n -eq 0) { return $Name }
    $at = $Rng.Next($n)
    switch ($Rng.Next(9)) {
        0 { return $Name }
        1 { $runes[$at] = '?'; return -join $runes }
        2 { return (-join $runes[0..($at)]) + '*' }
        3 { return '*' + (-join $runes[$at..($n - 1)]) }
        4 {
            # a run of one to three characters inside the name
            $end = [Math]::Min($n - 1, $at + $Rng.Next(3))
            $head = if ($at -gt 0) { -join $runes[0..($at - 1)] } else { '' }
            $tail = if ($end -lt $n - 1) { -join $runes[($end + 1)..($n - 1)] } else { '' }
            return $head + '*' + $tail
        }
        5 { $runes[$at] = Get-ClassFor $Rng $runes[$at]; return -join $runes }
        6 { $runes[$at] = Get-ClassFor $Rng $runes[$at]; $runes[$Rng.Next($n)] = '?'; return -join $runes }
        7 { $i = $Name.LastIndexOf('.'); if ($i -gt 0) { return '*' + $Name.Substring($i) } else { return $Name + '*' } }
        default { return '*' + $runes[$at] + '*' }
    }
}

function Test-SafePattern([string] $Pattern) {
    # Patterns rsync and a careful port should read the same way: no backslash (an escape only in wildcard patterns),
    # no leading or trailing space (rule parsing), not a comment, no '[' that does not open a class closed within the
    # component (rsync's matcher gives up on those: a corner case of its own, not the rule language).
    if ($Pattern.Length -eq 0 -or $Pattern -match '\\|^[ #;]| $|^!$') { return $false }
    -not ($Pattern -replace '\[[!^]?\]?[^\]/]*\]', '').Contains('[')
}

function Get-RandomPattern {
    <#
    .SYNOPSIS
        One pattern drawn from $Entries (relative path -> entry, relative to the directory the rule applies in) and
        $Extra (names that exist only in the destination), in one of the forms rsync's FILTER RULES describe.
    #>
    param($Rng, $Paths, $Types, $Extra = @(),
        # Leave out the catch-all forms ('*', '?*', '*/' ...): for a benchmark whose rules should mostly not match.
        [switch] $Selective)
    for ($attempt = 0; $attempt -lt 20; $attempt++) {
        $path = if ($Paths.Count -gt 0) { $Paths[$Rng.Next($Paths.Count)] } else { $script:Stems[$Rng.Next($script:Stems.Count)] }
        $leaf = Get-LeafName $path
        $isDir = $Types.ContainsKey($path) -and $Types[$path] -eq 'd'
        $parts = $path.Split('/')
        $roll = $Rng.Next(100)
        $dirPart = if ($isDir) { $path } elseif ($parts.Count -ge 2) { $parts[0..($parts.Count - 2)] -join '/' } else { $leaf }
        $pattern = if ($roll -lt 10) { $leaf }                                               # floating literal name
        elseif ($roll -lt 28) { Get-MutatedName $Rng $leaf }                                 # floating wildcard name
        elseif ($roll -lt 34) {
            $i = $leaf.LastIndexOf('.'); if ($i -gt 0) { '*' + $leaf.Substring($i) } else { Get-Pick $Rng @('*.txt', '*.o', '*~', '*.t?t', '*.[ch]', '*.[!o]') }
        }
        elseif ($roll -lt 46) {                                                              # anchored, from the root
            $mutated = foreach ($part in $parts) { if ($Rng.Next(100) -lt 30) { Get-MutatedName $Rng $part } else { $part } }
            '/' + ($mutated -join '/')
        }
        elseif ($roll -lt 53) {
            # An inner '/': matched against the end of the path (rsync compares whole components).
            if ($parts.Count -ge 2) { $parts[-2] + '/' + (Get-MutatedName $Rng $parts[-1]) } else { "*/$leaf" }
        }
        elseif ($roll -lt 62) {                                                              # directory-only
            switch ($Rng.Next(3)) { 0 { "$leaf/" } 1 { (Get-MutatedName $Rng $leaf) + '/' } default { "/$path/" } }
        }
        elseif ($roll -lt 72) {                                                              # '**'
            switch ($Rng.Next(8)) {
                0 { "**/$leaf" } 1 { "/$dirPart/**" } 2 { "$(Get-LeafName $dirPart)/**" } 3 { '**/' + (Get-MutatedName $Rng $leaf) }
                4 { "/**/$leaf" } 5 { "$($parts[0])/**/$leaf" } 6 { '**' + $leaf.Substring([Math]::Max(0, $leaf.Length - 2)) } default { "/$($parts[0])**" }
            }
        }
        elseif ($roll -lt 80) {                                                              # '***'
            switch ($Rng.Next(4)) {
                0 { "/$dirPart/***" } 1 { "$(Get-LeafName $dirPart)/***" } 2 { '/' + (Get-MutatedName $Rng $parts[0]) + '/***' } default { (Get-MutatedName $Rng (Get-LeafName $dirPart)) + '/***' }
            }
        }
        elseif ($roll -lt 88 -and $Extra.Count -gt 0) {                                     # a destination-only name
            $name = $Extra[$Rng.Next($Extra.Count)]
            switch ($Rng.Next(3)) { 0 { $name } 1 { Get-MutatedName $Rng $name } default { "/$name" } }
        }
        elseif ($roll -lt 93 -and -not $Selective) { Get-Pick $Rng @('*', '.*', '?', '?*', '*/', '[[:upper:]]*', '*[0-9]*', '[!.]*', 'nomatch*', '/*', '*.*.*') }
        else { Get-MutatedName $Rng $leaf }
        if (Test-SafePattern $pattern) { return $pattern }
    }
    'nomatch'
}

function Get-RandomRuleType {
    <# The rule's prefix: short or long form, with a modifier now and then ('!' negate, 's'/'r' side, 'p' perishable). #>
    param([System.Random] $Rng, [switch] $PlainOnly, [switch] $NoModifiers)
    $roll = $Rng.Next(100)
    $type = if ($PlainOnly) { if ($roll -lt 55) { '-' } else { '+' } }
    elseif ($roll -lt 45) { '-' } elseif ($roll -lt 78) { '+' } elseif ($roll -lt 87) { 'P' } elseif ($roll -lt 93) { 'R' } elseif ($roll -lt 97) { 'H' } else { 'S' }
    $modifier = ''
    if (-not $PlainOnly -and -not $NoModifiers -and $type -in '-', '+') {
        $m = $Rng.Next(100)
        if ($m -lt 5) { $modifier = '!' } elseif ($m -lt 9) { $modifier = Get-Pick $Rng @('s', 'r') } elseif ($m -lt 12) { $modifier = 'p' }
    }
    $long = @{ '-' = 'exclude'; '+' = 'include'; 'P' = 'protect'; 'R' = 'risk'; 'H' = 'hide'; 'S' = 'show' }
    if (-not $PlainOnly -and ($Rng.Next(100) -lt 15)) { return $(if ($modifier) { "$($long[$type]),$modifier " } else { "$($long[$type]) " }) }
    "$type$modifier "
}

function New-RuleList {
    <# $Count rules for the directory $Base of the tree (patterns relative to it), plus, now and then, a well-known idiom. #>
    param([System.Random] $Rng, [System.Collections.Specialized.OrderedDictionary] $Tree, [string] $Base = '', [int] $Count,
        [string[]] $Extra = @(), [switch] $PlainOnly, [switch] $NoModifiers, [switch] $PatternsOnly)
    $prefix = if ($Base) { "$Base/" } else { '' }
    $types = @{}
    $paths = [System.Collections.Generic.List[string]]::new()
    foreach ($key in $Tree.Keys) {
        if ($prefix -and -not $key.StartsWith($prefix, [System.StringComparison]::Ordinal)) { continue }
        $relative = $key.Substring($prefix.Length)
        $paths.Add($relative); $types[$relative] = $Tree[$key].Type
    }
    $rules = [System.Collections.Generic.List[string]]::new()
    if (-not $PatternsOnly -and ($Rng.Next(100) -lt 12)) {
        # "Only these": descend everywhere, take some names, leave out the rest.
        $rules.Add('+ */')
        for ($i = 0; $i -lt $Rng.Next(1, 4); $i++) { $rules.Add('+ ' + (Get-RandomPattern -Rng $Rng -Paths $paths -Types $types -Extra $Extra)) }
        $rules.Add('- *')
    }
    while ($rules.Count -lt $Count) {
        $pattern = Get-RandomPattern -Rng $Rng -Paths $paths -Types $types -Extra $Extra
        if ($PatternsOnly) { $rules.Add($pattern) }
        else { $rules.Add((Get-RandomRuleType -Rng $Rng -PlainOnly:$PlainOnly -NoModifiers:$NoModifiers) + $pattern) }
    }
    , $rules.ToArray()
}

function Get-AbsoluteRule {
    <# A rule with the '/' modifier: its pattern is matched against the absolute path, so it names the source or the
       destination root ({SRC}, {DST}); the same path then means something on one side only. #>
    param([System.Random] $Rng, [System.Collections.Specialized.OrderedDictionary] $Source, [System.Collections.Specialized.OrderedDictionary] $Destination)
    $side = Get-Pick $Rng @('SRC', 'SRC', 'DST')
    $tree = if ($side -eq 'SRC') { $Source } else { $Destination }
    $keys = @($tree.Keys)
    if ($keys.Count -eq 0) { return '-/ {SRC}/nomatch' }
    $path = $keys[$Rng.Next($keys.Count)]
    $parts = @($path.Split('/') | ForEach-Object { if ($Rng.Next(100) -lt 25) { Get-MutatedName $Rng $_ } else { $_ } })
    $pattern = "{$side}/" + ($parts -join '/') + $(if ($tree[$path].Type -eq 'd' -and ($Rng.Next(100) -lt 40)) { '/***' } else { '' })
    if (-not (Test-SafePattern ($pattern -replace '^\{(SRC|DST)\}', ''))) { $pattern = "{$side}/$path" }
    (Get-Pick $Rng @('-/ ', '-/ ', '+/ ', 'exclude,/ ')) + $pattern
}

function Add-MergeFile {
    <# Places the merge file $Name with random rules into random directories of $Tree (the root now and then). #>
    param([System.Random] $Rng, [System.Collections.Specialized.OrderedDictionary] $Tree, [string] $Name, [string] $Style,
        [string[]] $Extra, [int] $MaxFiles = 3)
    $dirs = @('') + @($Tree.Keys | Where-Object { $Tree[$_].Type -eq 'd' })
    $count = $Rng.Next(1, $MaxFiles + 1)
    for ($i = 0; $i -lt $count; $i++) {
        $dir = if ($Rng.Next(100) -lt 30) { '' } else { $dirs[$Rng.Next($dirs.Count)] }
        $path = Join-Relative $dir $Name
        if ($Tree.Contains($path)) { continue }
        $lines = [System.Collections.Generic.List[string]]::new()
        $rules = New-RuleList -Rng $Rng -Tree $Tree -Base $dir -Count $Rng.Next(1, 6) -Extra $Extra -PatternsOnly:($Style -ne 'Rules')
        foreach ($rule in $rules) {
            if ($Rng.Next(100) -lt 8) { $lines.Add((Get-Pick $Rng @('', '# a comment', '; another comment'))) }
            $lines.Add($rule)
        }
        if ($Style -eq 'Rules' -and ($Rng.Next(100) -lt 4)) { $lines.Insert($Rng.Next($lines.Count + 1), '!') }   # clear the inherited rules
        $Tree[$path] = @{ Type = 'f'; Content = ($lines -join "`n") + "`n"; MergeFile = $true }
    }
}

function New-FilterCase {
    <#
    .SYNOPSIS
        Describes one seeded filter case: Source and Destination trees (ordered dictionaries of relative path ->
        @{ Type; Content; Target }), the rules in rsync's syntax (command-line order) and the options.
    .PARAMETER Kind
        Plain          '+'/'-' rules only, no modifiers or merge files (what a pre-#4 build can express with
                       -Include/-Exclude: the includes are then put first, for both tools).
        Rules          the whole command-line language: include/exclude (long and short), protect/risk, hide/show,
                       the '!', 's', 'r', 'p' and '/' modifiers, a 'merge FILE' now and then.
        DirMerge       Rules plus a dir-merge rule (': .rules', 'dir-merge,- .ex', with and without 'n'/'e', ...) and
                       its files in random source directories; the destination's directories that also exist in
                       the source hold the same merge files (as a previous run would have left them).
        ReceiverMerge  DirMerge, but the destination holds merge files of its own (different, missing or in
                       extraneous directories): rsync reads the receiver's files when it deletes.
        DeleteExcluded DirMerge with --delete-excluded / -DeleteExcluded.
        FilterFiles    .rsync-filter files in random directories and rsync -F / -UseFilterFiles, in half of the
                       cases with command-line rules too (-F is given after them).
    #>
    param([Parameter(Mandatory)] [int] $Seed,
        [ValidateSet('Plain', 'Rules', 'DirMerge', 'ReceiverMerge', 'DeleteExcluded', 'FilterFiles')] [string] $Kind = 'Rules')
    $rng = [System.Random]::new($Seed)
    $source = New-EntryList -Rng $rng -Count $rng.Next(18, 45)

    # The destination: some of the source's directories and files (files differ, so they are sent), and extraneous
    # items, some with names only the destination has.
    $destination = [ordered]@{}
    foreach ($key in $source.Keys) {
        $parent = Get-ParentPath $key
        if ($parent -and -not $destination.Contains($parent)) { continue }
        $entry = $source[$key]
        if ($entry.Type -eq 'd' -and ($rng.Next(100) -lt 65)) { $destination[$key] = @{ Type = 'd' } }
        elseif ($entry.Type -eq 'f' -and ($rng.Next(100) -lt 35)) { $destination[$key] = @{ Type = 'f'; Content = "older $key" } }
    }
    $destinationDirs = @('') + @($destination.Keys | Where-Object { $destination[$_].Type -eq 'd' })
    $null = New-EntryList -Rng $rng -Count $rng.Next(3, 10) -Into $destination -Roots $destinationDirs -MaxDepth 5 -Avoid @($source.Keys)
    $null = New-EntryList -Rng $rng -Count $rng.Next(2, 6) -Into $destination -Roots $destinationDirs -MaxDepth 5 -Stems $script:DestinationOnlyStems -Avoid @($source.Keys)
    $extra = @($destination.Keys | Where-Object { -not $source.Contains($_) } | ForEach-Object { Get-LeafName $_ })

    $plain = $Kind -eq 'Plain'
    $rules = [System.Collections.Generic.List[string]]::new()
    $rules.AddRange([string[]](New-RuleList -Rng $rng -Tree $source -Count $rng.Next(1, 11) -Extra $extra -PlainOnly:$plain))
    $globals = [ordered]@{}
    if (-not $plain) {
        if ($rng.Next(100) -lt 25) { $rules.Insert($rng.Next($rules.Count + 1), (Get-AbsoluteRule -Rng $rng -Source $source -Destination $destination)) }
        # rsync's CVS defaults ('-C': *.o, *~, core, .git/ ... and $HOME/.cvsignore) and the clear rule '!'.
        if ($rng.Next(100) -lt 4) { $rules.Insert($rng.Next($rules.Count + 1), '-C') }
        if ($rng.Next(100) -lt 3) { $rules.Insert($rng.Next($rules.Count + 1), '!') }
        if ($rng.Next(100) -lt 8) {
            $globals['global.rules'] = ((New-RuleList -Rng $rng -Tree $source -Count $rng.Next(1, 4) -Extra $extra) -join "`n") + "`n"
            $rules.Insert($rng.Next($rules.Count + 1), (Get-Pick $rng @('merge {ROOT}/global.rules', '. {ROOT}/global.rules')))
        }
    }

    $useFilterFiles = $false
    if ($Kind -in 'DirMerge', 'ReceiverMerge', 'DeleteExcluded') {
        $style = Get-Pick $rng @('Rules', 'Rules', 'Rules', 'Exclude', 'Include')
        $name = $script:MergeFileNames[$style]
        $modifiers = @{ Rules = @('', '', 'n', 'e', 'ne'); Exclude = @('-', 'n-', 'e-', '-'); Include = @('+', 'n+', '+') }[$style]
        $modifier = $modifiers[$rng.Next($modifiers.Count)]
        $rule = if ($rng.Next(100) -lt 50) { ":$modifier $name" } elseif ($modifier) { "dir-merge,$modifier $name" } else { "dir-merge $name" }
        $rules.Insert($rng.Next($rules.Count + 1), $rule)
        Add-MergeFile -Rng $rng -Tree $source -Name $name -Style $style -Extra $extra
        if ($Kind -eq 'ReceiverMerge') {
            Add-MergeFile -Rng $rng -Tree $destination -Name $name -Style $style -Extra $extra
            # and now and then the source's own file, as a previous run would have left it
            foreach ($key in @($source.Keys)) {
                if (-not $source[$key].Contains('MergeFile')) { continue }
                $parent = Get-ParentPath $key
                if ((-not $parent -or $destination.Contains($parent)) -and -not $destination.Contains($key) -and ($rng.Next(100) -lt 40)) { $destination[$key] = $source[$key].Clone() }
            }
        }
    }
    elseif ($Kind -eq 'FilterFiles') {
        $useFilterFiles = $true
        Add-MergeFile -Rng $rng -Tree $source -Name $script:MergeFileNames.FilterFile -Style Rules -Extra $extra -MaxFiles 4
        if ($rng.Next(100) -lt 50) { $rules.Clear() }
    }
    if ($Kind -in 'DirMerge', 'DeleteExcluded', 'FilterFiles') {
        # The destination's copy of each merge file is the source's, where the directory exists on both sides.
        foreach ($key in @($source.Keys)) {
            if (-not $source[$key].Contains('MergeFile')) { continue }
            $parent = Get-ParentPath $key
            if ((-not $parent -or ($destination.Contains($parent) -and $destination[$parent].Type -eq 'd')) -and -not $destination.Contains($key)) {
                $destination[$key] = $source[$key].Clone()
            }
        }
    }
    if ($plain) {
        # A pre-#4 build takes -Include before -Exclude; keep the relative order within each kind.
        $ordered = @($rules | Where-Object { $_.StartsWith('+') }) + @($rules | Where-Object { $_.StartsWith('-') })
        $rules.Clear(); $rules.AddRange([string[]]$ordered)
    }

    [pscustomobject]@{
        Seed           = $Seed
        Kind           = $Kind
        Source         = $source
        Destination    = $destination
        Rules          = $rules.ToArray()
        GlobalFiles    = $globals
        DeleteExcluded = $Kind -eq 'DeleteExcluded'
        UseFilterFiles = $useFilterFiles
    }
}

function Write-FilterTree {
    <# Creates $Tree under $Path (which must not exist): directories, files (source files dated 2020, destination
       files 2001, so the quick check sends every shared file) and symbolic links. #>
    param([System.Collections.Specialized.OrderedDictionary] $Tree, [string] $Path, [datetime] $Time)
    $null = [System.IO.Directory]::CreateDirectory($Path)
    $utf8 = [System.Text.UTF8Encoding]::new($false)
    foreach ($key in $Tree.Keys) {
        $full = [System.IO.Path]::Join($Path, $key)
        $entry = $Tree[$key]
        switch ($entry.Type) {
            'd' { $null = [System.IO.Directory]::CreateDirectory($full) }
            'f' { [System.IO.File]::WriteAllText($full, $entry.Content, $utf8); [System.IO.File]::SetLastWriteTimeUtc($full, $Time) }
            'l' { $null = [System.IO.File]::CreateSymbolicLink($full, $entry.Target) }
        }
    }
}

function Write-FilterCase {
    <# Writes the case under $Root: src/, dst/ (the populated destination), the global merge files; 'fresh' is the
       path of a destination that does not exist. Returns the paths. #>
    param([Parameter(Mandatory)] $Case, [Parameter(Mandatory)] [string] $Root)
    $null = [System.IO.Directory]::CreateDirectory($Root)
    $paths = [pscustomobject]@{
        Root        = $Root
        Source      = [System.IO.Path]::Join($Root, 'src')
        Destination = [System.IO.Path]::Join($Root, 'dst')
        Fresh       = [System.IO.Path]::Join($Root, 'fresh')
    }
    Write-FilterTree -Tree $Case.Source -Path $paths.Source -Time ([datetime]::new(2020, 5, 1, 0, 0, 0, [System.DateTimeKind]::Utc))
    Write-FilterTree -Tree $Case.Destination -Path $paths.Destination -Time ([datetime]::new(2001, 5, 1, 0, 0, 0, [System.DateTimeKind]::Utc))
    foreach ($name in $Case.GlobalFiles.Keys) { [System.IO.File]::WriteAllText([System.IO.Path]::Join($Root, $name), $Case.GlobalFiles[$name]) }
    $paths
}

function Resolve-FilterCaseRule {
    <# The case's rules with {SRC}, {DST} and {ROOT} replaced by absolute paths. #>
    param([Parameter(Mandatory)] $Case, [Parameter(Mandatory)] $Paths, [string] $Destination = $Paths.Destination)
    @($Case.Rules | ForEach-Object { $_.Replace('{SRC}', $Paths.Source).Replace('{DST}', $Destination).Replace('{ROOT}', $Paths.Root) })
}

function Format-FilterCase {
    <# The case as text for a failure report: seed, kind, options, rules, both trees and the merge files' contents. #>
    param([Parameter(Mandatory)] $Case)
    $text = [System.Text.StringBuilder]::new()
    $null = $text.AppendLine("seed $($Case.Seed), kind $($Case.Kind), DeleteExcluded $($Case.DeleteExcluded), UseFilterFiles $($Case.UseFilterFiles)")
    $null = $text.AppendLine('rules (command-line order):')
    foreach ($r in $Case.Rules) { $null = $text.AppendLine("  '$r'") }
    foreach ($name in $Case.GlobalFiles.Keys) { $null = $text.AppendLine("{ROOT}/${name}:"); foreach ($l in $Case.GlobalFiles[$name].TrimEnd("`n").Split("`n")) { $null = $text.AppendLine("    $l") } }
    foreach ($side in 'Source', 'Destination') {
        $null = $text.AppendLine("$($side.ToLowerInvariant()):")
        foreach ($key in $Case.$side.Keys) {
            $e = $Case.$side[$key]
            $suffix = switch ($e.Type) { 'd' { '/' } 'l' { " -> $($e.Target)" } default { '' } }
            $null = $text.AppendLine("  $(Format-TreePath $key)$suffix")
            if ($e.Contains('MergeFile')) { foreach ($l in $e.Content.TrimEnd("`n").Split("`n")) { $null = $text.AppendLine("      | $l") } }
        }
    }
    $text.ToString()
}

function Invoke-RsyncSelection {
    <#
    .SYNOPSIS
        rsync -rl -n --out-format=%n [--delete] [--delete-excluded] --filter=RULE... [-F] SOURCE/ DESTINATION/:
        what rsync would send (Transfer: relative path -> 'd' for directories, 'f' otherwise; the root is '.') and
        delete (Delete: the same), its exit code and any other output.
    .PARAMETER MergeFile
        Give the rules through one 'merge FILE' rule instead of one --filter each (the harness's self-check).
    .PARAMETER Apply
        Run for real (no -n): the destination is changed.
    #>
    param([Parameter(Mandatory)] [string] $Source, [Parameter(Mandatory)] [string] $Destination, [string[]] $Rule = @(),
        [switch] $Delete, [switch] $DeleteExcluded, [switch] $UseFilterFiles, [string] $MergeFile,
        # Really transfer and delete (no -n).
        [switch] $Apply)
    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.AddRange([string[]]@('-rl', '--out-format=%n'))
    if (-not $Apply) { $arguments.Add('-n') }
    if ($Delete) { $arguments.Add('--delete') }
    if ($DeleteExcluded) { $arguments.Add('--delete-excluded') }
    if ($MergeFile) {
        [System.IO.File]::WriteAllText($MergeFile, (($Rule | ForEach-Object { "$_`n" }) -join ''))
        $arguments.Add("--filter=merge $MergeFile")
    }
    else { foreach ($r in $Rule) { $arguments.Add("--filter=$r") } }
    # After the rules: the cmdlets' documented order puts -UseFilterFiles after -FilterRule.
    if ($UseFilterFiles) { $arguments.Add('-F') }
    $arguments.AddRange([string[]]@('--', ($Source.TrimEnd('/') + '/'), ($Destination.TrimEnd('/') + '/')))
    $run = Invoke-Captured -FilePath rsync -ArgumentList $arguments.ToArray() -Environment @{ LC_ALL = 'C.UTF-8' }
    $sent = [System.Collections.Generic.SortedDictionary[string, string]]::new([System.StringComparer]::Ordinal)
    $deleted = [System.Collections.Generic.SortedDictionary[string, string]]::new([System.StringComparer]::Ordinal)
    $other = [System.Collections.Generic.List[string]]::new()
    $kept = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::Ordinal)
    foreach ($line in $run.Output.Split("`n")) {
        if ($line.Length -eq 0) { continue }
        $target = $sent
        if ($line.StartsWith('deleting ', [System.StringComparison]::Ordinal)) { $target = $deleted; $line = $line.Substring(9) }
        elseif ($line.StartsWith('cannot delete non-empty directory: ', [System.StringComparison]::Ordinal)) {
            # A dry run also prints 'deleting DIR/' for a directory below an extraneous one that the real run keeps
            # (it holds protected items); the real run prints only this line for it, so it is not a deletion.
            $null = $kept.Add((ConvertFrom-RsyncEscape $line.Substring(35)).TrimEnd('/')); $other.Add($line); continue
        }
        elseif ($line.StartsWith('skipping ', [System.StringComparison]::Ordinal)) { $other.Add($line); continue }
        $name = ConvertFrom-RsyncEscape $line
        $type = 'f'
        if ($name -eq './') { $name = '.'; $type = 'd' }
        elseif ($name.EndsWith('/')) { $name = $name.Substring(0, $name.Length - 1); $type = 'd' }
        $target[$name] = $type
    }
    foreach ($name in $kept) { $null = $deleted.Remove($name) }
    [pscustomobject]@{ ExitCode = $run.ExitCode; Transfer = $sent; Delete = $deleted; Other = $other.ToArray(); Error = $run.Error; Arguments = $arguments.ToArray() }
}

function Compare-PathSet {
    <# Lines for the paths in only one of two sets (relative path -> type), in ordinal order; empty when equal. #>
    param($Reference, $Difference, [string] $ReferenceName = 'rsync', [string] $DifferenceName = 'PSReplica')
    $lines = [System.Collections.Generic.List[string]]::new()
    foreach ($k in $Reference.Keys) {
        if (-not $Difference.ContainsKey($k)) { $lines.Add("$ReferenceName only: $(Format-TreePath $k) ($($Reference[$k]))") }
        elseif ($Difference[$k] -ne $Reference[$k]) { $lines.Add("type differs: $(Format-TreePath $k) ($ReferenceName $($Reference[$k]), $DifferenceName $($Difference[$k]))") }
    }
    foreach ($k in $Difference.Keys) { if (-not $Reference.ContainsKey($k)) { $lines.Add("$DifferenceName only: $(Format-TreePath $k) ($($Difference[$k]))") } }
    $lines.ToArray()
}

Export-ModuleMember -Function New-FilterCase, Write-FilterCase, Resolve-FilterCaseRule, Format-FilterCase, Invoke-RsyncSelection, Compare-PathSet,
    Get-RandomPattern, Get-MutatedName
