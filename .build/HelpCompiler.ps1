# Compiles docs/*.md (platyPS v1 "schema 2.0.0" markdown) into en-US/: one MAML file for the cmdlets and one
# plain-text topic per about_*.md. Parameter metadata and syntax come from the built cmdlets, read in a child
# pwsh so that the calling session never loads the module; any drift between the docs and the cmdlets fails the
# compilation with every problem listed. The output is deterministic: the same input gives byte-identical files.

Set-StrictMode -Version Latest

$script:HelpCompilerRoot = Split-Path $PSScriptRoot -Parent
$script:HelpFileName = 'PSReplica.dll-Help.xml'
$script:MamlNs = 'http://schemas.microsoft.com/maml/2004/10'
$script:CommandNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$script:DevNs = 'http://schemas.microsoft.com/maml/dev/2004/10'
$script:ShouldProcessParameters = @('WhatIf', 'Confirm')
$script:TopicWidth = 80
$script:Unbreakable = [string][char]0xE000

function Invoke-HelpCompiler {
    <#
    .SYNOPSIS
        Compiles PlatyPS-schema markdown into MAML and about_ topics, failing on drift from the built cmdlets.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $DocsPath,
        [Parameter(Mandatory)] [string] $ModuleManifest,
        [Parameter(Mandatory)] [string] $OutputPath
    )

    if (-not (Test-Path -LiteralPath $DocsPath -PathType Container)) { throw "Help compiler: the docs folder '$DocsPath' does not exist." }
    if (-not (Test-Path -LiteralPath $ModuleManifest -PathType Leaf)) { throw "Help compiler: the module manifest '$ModuleManifest' does not exist; build first." }
    $DocsPath = (Resolve-Path -LiteralPath $DocsPath).ProviderPath
    $ModuleManifest = (Resolve-Path -LiteralPath $ModuleManifest).ProviderPath
    $moduleName = [IO.Path]::GetFileNameWithoutExtension($ModuleManifest)

    $problems = [Collections.Generic.List[string]]::new()
    $commands = Get-HelpCompilerCommandMetadata -ModuleManifest $ModuleManifest

    # Ordinal order, so that the output does not depend on the culture.
    $found = @(Get-ChildItem -LiteralPath $DocsPath -Filter '*.md' -File)
    $names = [string[]]@($found | ForEach-Object Name)
    [Array]::Sort($names, [StringComparer]::Ordinal)
    $files = @(foreach ($n in $names) { $found | Where-Object Name -CEQ $n })
    $aboutFiles = @($files | Where-Object { $_.Name -like 'about_*.md' })
    $commandFiles = @($files | Where-Object { $_.Name -notlike 'about_*.md' })

    # Cmdlets and docs must correspond one to one.
    $docs = [ordered]@{}
    foreach ($file in $commandFiles) {
        $name = $file.BaseName
        if (-not $commands.Contains($name)) {
            $problems.Add("docs/$($file.Name): documents '$name', which is not a cmdlet of $moduleName (remove the doc or restore the cmdlet).")
            continue
        }
        $doc = Read-HelpMarkdown -Path $file.FullName
        Test-HelpDocument -Doc $doc -Command $commands[$name] -FileName $file.Name -Problems $problems
        $docs[$name] = $doc
    }
    foreach ($name in $commands.Keys) {
        if (-not $docs.Contains($name) -and -not ($commandFiles | Where-Object BaseName -EQ $name)) {
            $problems.Add("${name}: the cmdlet has no doc (docs/$name.md is missing).")
        }
    }

    $topics = [ordered]@{}
    foreach ($file in $aboutFiles) {
        $topic = Read-HelpMarkdown -Path $file.FullName
        if ($topic.Title -ne $file.BaseName) {
            $problems.Add("docs/$($file.Name): the title '# $($topic.Title)' does not match the file name '$($file.BaseName)'.")
        }
        foreach ($section in 'SHORT DESCRIPTION', 'LONG DESCRIPTION') {
            if (-not $topic.Sections.Contains($section) -or -not (Test-HelpText $topic.Sections[$section].Lines)) {
                $problems.Add("docs/$($file.Name): the section '## $section' is missing or empty.")
            }
        }
        $topics[$file.BaseName] = $topic
    }

    if ($problems.Count -gt 0) {
        $list = ($problems | ForEach-Object { "  - $_" }) -join [Environment]::NewLine
        throw "Help compiler: the docs in '$DocsPath' do not match the cmdlets of '$ModuleManifest' ($($problems.Count) problem(s)):$([Environment]::NewLine)$list"
    }

    $null = New-Item -ItemType Directory -Path $OutputPath -Force
    $written = @()
    $maml = ConvertTo-HelpMaml -Docs $docs -Commands $commands
    $written += Write-HelpOutput -Path (Join-Path $OutputPath $script:HelpFileName) -Content $maml
    foreach ($name in $topics.Keys) {
        $written += Write-HelpOutput -Path (Join-Path $OutputPath "$name.help.txt") -Content (ConvertTo-HelpTopicText -Topic $topics[$name])
    }
    # Generated files whose source is gone are removed; nothing else in the folder is touched.
    foreach ($stale in Get-ChildItem -LiteralPath $OutputPath -Filter 'about_*.help.txt' -File) {
        if ($stale.FullName -notin $written) { Remove-Item -LiteralPath $stale.FullName }
    }
    Write-Verbose "Help compiled: $($docs.Count) cmdlet(s), $($topics.Count) topic(s) -> $OutputPath"
}

# ---------------------------------------------------------------------------------------------------------------
# Cmdlet metadata, read from the built module in a child pwsh.

function Get-HelpCompilerCommandMetadata {
    param([Parameter(Mandatory)] [string] $ModuleManifest)

    $quoted = $ModuleManifest.Replace("'", "''")
    $script = @"
`$ErrorActionPreference = 'Stop'
`$module = Import-Module -Name '$quoted' -PassThru
`$common = [System.Management.Automation.Cmdlet]::CommonParameters
`$commands = foreach (`$command in Get-Command -Module `$module.Name -CommandType Cmdlet | Sort-Object Name) {
    `$sets = foreach (`$set in `$command.ParameterSets) {
        [ordered]@{
            Name = `$set.Name
            IsDefault = `$set.IsDefault
            Parameters = @(foreach (`$p in `$set.Parameters) {
                if (`$common -contains `$p.Name) { continue }
                [ordered]@{
                    Name = `$p.Name
                    Type = `$p.ParameterType.Name
                    FullType = `$p.ParameterType.FullName
                    IsSwitch = `$p.ParameterType -eq [System.Management.Automation.SwitchParameter]
                    EnumValues = @(if (`$p.ParameterType.IsEnum) { [Enum]::GetNames(`$p.ParameterType) })
                    Mandatory = `$p.IsMandatory
                    Position = `$p.Position
                    ByValue = `$p.ValueFromPipeline
                    ByPropertyName = `$p.ValueFromPipelineByPropertyName
                    Wildcards = [bool](`$p.Attributes | Where-Object { `$_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                    Aliases = @(`$p.Aliases)
                }
            })
        }
    }
    [ordered]@{ Name = `$command.Name; Verb = `$command.Verb; Noun = `$command.Noun; ParameterSets = @(`$sets) }
}
ConvertTo-Json -InputObject @(`$commands) -Depth 8 -Compress
"@
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
    # 'dotnet pwsh' finds the repository's local tool only from inside the repository.
    Push-Location -LiteralPath $script:HelpCompilerRoot
    try {
        $output = & dotnet pwsh -NoProfile -NonInteractive -OutputFormat Text -EncodedCommand $encoded 2>&1
        $exit = $LASTEXITCODE
    }
    finally { Pop-Location }
    $text = ($output | ForEach-Object { "$_" }) -join "`n"
    if ($exit -ne 0) { throw "Help compiler: cannot read the cmdlets of '$ModuleManifest' (child pwsh exited with $exit):`n$text" }
    $json = ($text -split "`n" | Where-Object { $_.StartsWith('[') }) | Select-Object -Last 1
    if (-not $json) { throw "Help compiler: the child pwsh returned no cmdlet metadata:`n$text" }

    $commands = [ordered]@{}
    foreach ($command in (ConvertFrom-Json -InputObject $json)) {
        $commands[$command.Name] = New-HelpCommandModel -Raw $command
    }
    $commands
}

# Folds the per-set view into one record per parameter, with its per-set attributes.
function New-HelpCommandModel {
    param([Parameter(Mandatory)] $Raw)

    $parameters = [ordered]@{}
    $setNames = @($Raw.ParameterSets | ForEach-Object Name)
    foreach ($set in $Raw.ParameterSets) {
        foreach ($p in $set.Parameters) {
            if (-not $parameters.Contains($p.Name)) {
                $parameters[$p.Name] = [pscustomobject]@{
                    Name       = $p.Name
                    Type       = $p.Type
                    FullType   = $p.FullType
                    IsSwitch   = [bool]$p.IsSwitch
                    EnumValues = @($p.EnumValues)
                    Aliases    = @($p.Aliases)
                    Wildcards  = [bool]$p.Wildcards
                    Sets       = [ordered]@{}
                }
            }
            $parameters[$p.Name].Sets[$set.Name] = [pscustomobject]@{
                Mandatory      = [bool]$p.Mandatory
                Position       = [int]$p.Position
                ByValue        = [bool]$p.ByValue
                ByPropertyName = [bool]$p.ByPropertyName
            }
        }
    }
    foreach ($p in $parameters.Values) {
        $p | Add-Member -NotePropertyName InAllSets -NotePropertyValue ($p.Sets.Count -eq $setNames.Count)
    }
    [pscustomobject]@{
        Name          = $Raw.Name
        Verb          = $Raw.Verb
        Noun          = $Raw.Noun
        ParameterSets = @($Raw.ParameterSets)
        Parameters    = $parameters
    }
}

# ---------------------------------------------------------------------------------------------------------------
# Markdown reading: front matter, headings (outside fences), and the lines under each.

function Read-HelpMarkdown {
    param([Parameter(Mandatory)] [string] $Path)

    $lines = @(([IO.File]::ReadAllText($Path) -replace "`r`n", "`n") -split "`n")
    $front = [ordered]@{}
    $i = 0
    if ($lines.Count -gt 0 -and $lines[0] -eq '---') {
        for ($i = 1; $i -lt $lines.Count -and $lines[$i] -ne '---'; $i++) {
            if ($lines[$i] -match '^\s*([^:]+?)\s*:\s*(.*?)\s*$') { $front[$Matches[1]] = $Matches[2] }
        }
        $i++
    }

    $doc = [pscustomobject]@{ Path = $Path; FrontMatter = $front; Title = $null; Sections = [ordered]@{} }
    $section = $null
    $sub = $null
    $inFence = $false
    for (; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($line -match '^\s*```') { $inFence = -not $inFence }
        elseif (-not $inFence) {
            if ($line -match '^# (.+?)\s*$' -and -not $doc.Title) { $doc.Title = $Matches[1]; continue }
            if ($line -match '^## (.+?)\s*$') {
                $section = [pscustomobject]@{ Name = $Matches[1].ToUpperInvariant(); Lines = [Collections.Generic.List[string]]::new(); Subs = [Collections.Generic.List[object]]::new() }
                $doc.Sections[$section.Name] = $section
                $sub = $null
                continue
            }
            if ($line -match '^### (.+?)\s*$' -and $section) {
                $sub = [pscustomobject]@{ Title = $Matches[1]; Lines = [Collections.Generic.List[string]]::new() }
                $section.Subs.Add($sub)
                continue
            }
        }
        if ($sub) { $sub.Lines.Add($line) } elseif ($section) { $section.Lines.Add($line) }
    }
    $doc
}

# Splits lines into blocks: paragraphs, lists, tables and fenced code.
function ConvertTo-HelpBlock {
    param([AllowEmptyCollection()] [string[]] $Lines)

    $blocks = [Collections.Generic.List[object]]::new()
    $current = $null
    $fence = $null
    foreach ($line in @($Lines)) {
        if ($null -ne $fence) {
            if ($line -match '^\s*```\s*$') { $blocks.Add($fence); $fence = $null } else { $fence.Lines.Add($line) }
            continue
        }
        if ($line -match '^\s*```\s*(\S*)') {
            $current = $null
            $fence = [pscustomobject]@{ Kind = 'code'; Lang = $Matches[1]; Lines = [Collections.Generic.List[string]]::new() }
            continue
        }
        if ($line -match '^\s*$') { $current = $null; continue }
        $kind = if ($line -match '^\s*\|') { 'table' } elseif ($line -match '^\s*([-*]|\d+\.)\s+') { 'list' } else { 'para' }
        if ($current -and ($current.Kind -eq $kind -or ($current.Kind -eq 'list' -and $kind -eq 'para' -and $line -match '^\s+'))) {
            $current.Lines.Add($line)
            continue
        }
        $current = [pscustomobject]@{ Kind = $kind; Lang = $null; Lines = [Collections.Generic.List[string]]::new() }
        $current.Lines.Add($line)
        $blocks.Add($current)
    }
    if ($null -ne $fence) { $blocks.Add($fence) }
    $blocks
}

function Test-HelpText {
    param([AllowEmptyCollection()] [string[]] $Lines)
    [bool](@($Lines) | Where-Object { $_ -match '\S' })
}

# Inline markdown as plain text: code spans, emphasis and links lose their markup.
function ConvertFrom-HelpInline {
    param([string] $Text)
    $t = $Text -replace '\[([^\]]+)\]\(([^)]+)\)', '$1 ($2)'
    $t = $t -replace '(\*\*|__)(.+?)\1', '$2'
    # Code spans lose their backticks but keep their spaces unbreakable until the text is laid out.
    $t = [regex]::Replace($t, '`([^`]+)`', { param($m) $m.Groups[1].Value.Replace(' ', $script:Unbreakable) })
    $t = $t -replace '\\([\\`*_{}\[\]()#+\-.!|<>])', '$1'
    $t.Trim()
}

# One plain-text paragraph per block; lists keep one line per item, tables are aligned, code is indented.
function ConvertTo-HelpParagraph {
    param([AllowEmptyCollection()] [string[]] $Lines)

    foreach ($block in (ConvertTo-HelpBlock -Lines $Lines)) {
        switch ($block.Kind) {
            'para' { ($block.Lines | ForEach-Object { ConvertFrom-HelpInline $_ }) -join ' ' }
            'list' {
                $items = [Collections.Generic.List[string]]::new()
                foreach ($line in $block.Lines) {
                    if ($line -match '^\s*([-*]|\d+\.)\s+(.*)$') {
                        $bullet = $Matches[1]
                        $itemText = $Matches[2]
                        $marker = if ($bullet -match '\d') { $bullet } else { '-' }
                        $items.Add("$marker $(ConvertFrom-HelpInline $itemText)")
                    }
                    else { $items[$items.Count - 1] += ' ' + (ConvertFrom-HelpInline $line) }
                }
                $items -join "`n"
            }
            'table' { (Format-HelpTable -Lines $block.Lines) -join "`n" }
            'code' { ($block.Lines | ForEach-Object { "    $_".TrimEnd() }) -join "`n" }
        }
    }
}

# Aligned columns; with a width, the last column wraps under itself.
function Format-HelpTable {
    param([string[]] $Lines, [int] $Width = 0)
    $rows = foreach ($line in $Lines) {
        if ($line -match '^\s*\|?\s*:?-{3,}') { continue }
        , @($line.Trim().Trim('|').Split('|') | ForEach-Object { ConvertFrom-HelpInline $_ })
    }
    $rows = @($rows)
    $columns = ($rows | ForEach-Object { $_.Count } | Measure-Object -Maximum).Maximum
    $widths = foreach ($c in 0..($columns - 1)) { ($rows | ForEach-Object { if ($c -lt $_.Count) { $_[$c].Length } else { 0 } } | Measure-Object -Maximum).Maximum }
    $widths = @($widths)
    $lead = 0
    for ($c = 0; $c -lt $columns - 1; $c++) { $lead += $widths[$c] + 2 }
    $last = $widths[$columns - 1]
    if ($Width -gt 0 -and $lead + $last -gt $Width -and $Width - $lead -ge 20) { $last = $Width - $lead }
    $out = foreach ($index in 0..($rows.Count - 1)) {
        $row = $rows[$index]
        $head = -join @(for ($c = 0; $c -lt $columns - 1; $c++) { $(if ($c -lt $row.Count) { $row[$c] } else { '' }).PadRight($widths[$c] + 2) })
        $tail = if ($columns - 1 -lt $row.Count) { $row[$columns - 1] } else { '' }
        $wrapped = @(Split-HelpTopicLine -Text $tail -Width $last)
        if ($wrapped.Count -eq 0) { $wrapped = @('') }
        "$head$($wrapped[0])".TrimEnd()
        foreach ($more in @($wrapped | Select-Object -Skip 1)) { ((' ' * $lead) + $more).TrimEnd() }
        if ($index -eq 0) {
            ((@(for ($c = 0; $c -lt $columns - 1; $c++) { '-' * $widths[$c] }) + @('-' * [Math]::Min($last, $widths[$columns - 1]))) -join '  ')
        }
    }
    @($out)
}

# The YAML block of a parameter: "Key: value" lines.
function ConvertFrom-HelpYaml {
    param([string[]] $Lines)
    $map = [ordered]@{}
    foreach ($line in $Lines) {
        if ($line -match '^\s*([^:#][^:]*?)\s*:\s*(.*?)\s*$') { $map[$Matches[1]] = $Matches[2] }
    }
    $map
}

# ---------------------------------------------------------------------------------------------------------------
# Drift detection.

function Get-HelpExpectedSyntax {
    param([Parameter(Mandatory)] $Command, [Parameter(Mandatory)] $Set)
    $parts = foreach ($p in (Get-HelpOrderedSetParameter -Set $Set)) {
        $name = if ($p.Position -ge 0) { "[-$($p.Name)]" } else { "-$($p.Name)" }
        $text = if ($p.IsSwitch) { "-$($p.Name)" } else { "$name <$($p.Type)>" }
        if ($p.Mandatory) { $text } else { "[$text]" }
    }
    (@($Command.Name) + @($parts) + '[<CommonParameters>]') -join ' '
}

# Positional parameters by position, then the others in declaration order, -WhatIf and -Confirm last.
function Get-HelpOrderedSetParameter {
    param([Parameter(Mandatory)] $Set)
    $all = @($Set.Parameters)
    $positional = @($all | Where-Object { $_.Position -ge 0 } | Sort-Object Position)
    $named = @($all | Where-Object { $_.Position -lt 0 -and $_.Name -notin $script:ShouldProcessParameters })
    $risk = foreach ($name in $script:ShouldProcessParameters) { $all | Where-Object Name -EQ $name }
    @($positional) + @($named | Where-Object Mandatory) + @($named | Where-Object { -not $_.Mandatory }) + @($risk)
}

function Format-HelpPipelineInput {
    param([bool] $ByValue, [bool] $ByPropertyName)
    $kinds = @(if ($ByPropertyName) { 'ByPropertyName' }; if ($ByValue) { 'ByValue' })
    if ($kinds.Count -eq 0) { 'False' } else { "True ($($kinds -join ', '))" }
}

function Test-HelpDocument {
    param(
        [Parameter(Mandatory)] $Doc,
        [Parameter(Mandatory)] $Command,
        [Parameter(Mandatory)] [string] $FileName,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [Collections.Generic.List[string]] $Problems
    )
    $where = "docs/$FileName"
    $name = $Command.Name

    $expectedFront = [ordered]@{ 'external help file' = $script:HelpFileName; 'Module Name' = 'PSReplica'; 'schema' = '2.0.0' }
    foreach ($key in $expectedFront.Keys) {
        if (-not $Doc.FrontMatter.Contains($key) -or $Doc.FrontMatter[$key] -ne $expectedFront[$key]) {
            $Problems.Add("${where}: the front matter needs '${key}: $($expectedFront[$key])'.")
        }
    }
    if ($Doc.Title -ne $name) { $Problems.Add("${where}: the title is '# $($Doc.Title)', expected '# $name'.") }
    foreach ($section in 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS') {
        if (-not $Doc.Sections.Contains($section)) { $Problems.Add("${where}: the section '## $section' is missing.") }
    }
    foreach ($section in 'SYNOPSIS', 'DESCRIPTION') {
        if ($Doc.Sections.Contains($section) -and -not (Test-HelpText $Doc.Sections[$section].Lines)) {
            $Problems.Add("${where}: the section '## $section' is empty.")
        }
    }

    # SYNTAX: one subsection per parameter set (optional with a single set), its block equal to the cmdlet's syntax.
    if ($Doc.Sections.Contains('SYNTAX')) {
        $syntax = $Doc.Sections['SYNTAX']
        $documented = [ordered]@{}
        if ($syntax.Subs.Count -eq 0) { $documented['__AllParameterSets'] = $syntax.Lines }
        foreach ($sub in $syntax.Subs) { $documented[($sub.Title -replace '\s*\(Default\)\s*$', '')] = $sub.Lines }
        $sets = @($Command.ParameterSets)
        foreach ($set in $sets) {
            $key = if ($sets.Count -eq 1 -and -not $documented.Contains($set.Name) -and $documented.Count -eq 1) { @($documented.Keys)[0] } else { $set.Name }
            $expected = Get-HelpExpectedSyntax -Command $Command -Set $set
            if (-not $documented.Contains($key)) {
                $Problems.Add("${where}: SYNTAX has no '### $($set.Name)' for the parameter set '$($set.Name)'; expected:`n      $expected")
                continue
            }
            $code = @(ConvertTo-HelpBlock -Lines $documented[$key] | Where-Object Kind -EQ 'code')
            $actual = if ($code.Count -gt 0) { ($code[0].Lines -join ' ') -replace '\s+', ' ' } else { '' }
            if ($actual.Trim() -ne $expected) {
                $Problems.Add("${where}: SYNTAX for the parameter set '$($set.Name)' is out of date; expected:`n      $expected")
            }
        }
        foreach ($key in $documented.Keys) {
            if ($sets.Count -gt 1 -and -not ($sets | Where-Object Name -CEQ $key)) {
                $Problems.Add("${where}: SYNTAX documents the parameter set '$key', which $name does not have.")
            }
        }
    }

    if ($Doc.Sections.Contains('EXAMPLES')) {
        foreach ($example in $Doc.Sections['EXAMPLES'].Subs) {
            if (-not (ConvertTo-HelpBlock -Lines $example.Lines | Where-Object Kind -EQ 'code')) {
                $Problems.Add("${where}: the example '$($example.Title)' has no code block.")
            }
        }
    }

    # PARAMETERS: every parameter documented once, nothing else, and the YAML in agreement with the cmdlet.
    $seen = @{}
    if ($Doc.Sections.Contains('PARAMETERS')) {
        foreach ($sub in $Doc.Sections['PARAMETERS'].Subs) {
            if ($sub.Title -eq 'CommonParameters') { continue }
            if ($sub.Title -notmatch '^-(\S+)$') {
                $Problems.Add("${where}: '### $($sub.Title)' under PARAMETERS is not a parameter heading ('### -Name').")
                continue
            }
            $parameterName = $Matches[1]
            if (-not $Command.Parameters.Contains($parameterName)) {
                $Problems.Add("${where}: documents the parameter -$parameterName, which $name does not have.")
                continue
            }
            $parameter = $Command.Parameters[$parameterName]
            if ($parameter.Name -cne $parameterName) {
                $Problems.Add("${where}: '### -$parameterName' is spelt '-$($parameter.Name)' by the cmdlet.")
            }
            if ($seen.ContainsKey($parameter.Name)) { $Problems.Add("${where}: the parameter -$($parameter.Name) is documented twice.") }
            $seen[$parameter.Name] = $true
            $blocks = @(ConvertTo-HelpBlock -Lines $sub.Lines)
            if (-not ($blocks | Where-Object { $_.Kind -ne 'code' })) {
                $Problems.Add("${where}: the parameter -$($parameter.Name) has no description.")
            }
            $yamlBlocks = @($blocks | Where-Object { $_.Kind -eq 'code' -and $_.Lang -eq 'yaml' })
            if ($yamlBlocks.Count -eq 0) {
                $Problems.Add("${where}: the parameter -$($parameter.Name) has no yaml block.")
                continue
            }
            Test-HelpParameterYaml -Parameter $parameter -YamlBlocks $yamlBlocks -Where "${where}: -$($parameter.Name)" -Problems $Problems
        }
    }
    foreach ($parameter in $Command.Parameters.Values) {
        if (-not $seen.ContainsKey($parameter.Name)) {
            $Problems.Add("${where}: the parameter -$($parameter.Name) of $name is not documented (add '### -$($parameter.Name)' under PARAMETERS).")
        }
    }
}

function Test-HelpParameterYaml {
    param($Parameter, $YamlBlocks, [string] $Where, [Collections.Generic.List[string]] $Problems)

    $coveredSets = @{}
    foreach ($block in $YamlBlocks) {
        $yaml = ConvertFrom-HelpYaml -Lines $block.Lines
        foreach ($key in 'Type', 'Parameter Sets', 'Aliases', 'Required', 'Position', 'Default value', 'Accept pipeline input', 'Accept wildcard characters') {
            if (-not $yaml.Contains($key)) { $Problems.Add("${Where}: the yaml block has no '$key'.") }
        }
        if ($yaml.Contains('Type') -and $yaml['Type'] -ne $Parameter.Type -and $yaml['Type'] -ne $Parameter.FullType) {
            $Problems.Add("${Where}: Type is '$($yaml['Type'])' in the doc but $($Parameter.Type) in the cmdlet.")
        }
        if ($yaml.Contains('Aliases')) {
            $documented = @(if ($yaml['Aliases'] -ne 'None') { $yaml['Aliases'] -split '\s*,\s*' | Where-Object { $_ } })
            if ((($documented | Sort-Object) -join ',') -ne (($Parameter.Aliases | Sort-Object) -join ',')) {
                $actual = if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'None' }
                $Problems.Add("${Where}: Aliases are '$($yaml['Aliases'])' in the doc but '$actual' in the cmdlet.")
            }
        }
        if ($yaml.Contains('Accept wildcard characters') -and $Parameter.Wildcards -and $yaml['Accept wildcard characters'] -ne 'True') {
            $Problems.Add("${Where}: the cmdlet declares [SupportsWildcards] but the doc says 'Accept wildcard characters: $($yaml['Accept wildcard characters'])'.")
        }

        $setsText = if ($yaml.Contains('Parameter Sets')) { $yaml['Parameter Sets'] } else { '(All)' }
        $sets = if ($setsText -eq '(All)') { @($Parameter.Sets.Keys) } else { @($setsText -split '\s*,\s*' | Where-Object { $_ }) }
        if ($setsText -eq '(All)' -and -not $Parameter.InAllSets) {
            $Problems.Add("${Where}: Parameter Sets is '(All)' in the doc but the parameter is only in $(@($Parameter.Sets.Keys) -join ', ').")
            continue
        }
        foreach ($setName in $sets) {
            if (-not $Parameter.Sets.Contains($setName)) {
                $Problems.Add("${Where}: the doc puts it in the parameter set '$setName', where the cmdlet does not have it.")
                continue
            }
            $coveredSets[$setName] = $true
            $actual = $Parameter.Sets[$setName]
            if ($yaml.Contains('Required') -and $yaml['Required'] -ne "$($actual.Mandatory)") {
                $Problems.Add("${Where}: Required is '$($yaml['Required'])' in the doc but $($actual.Mandatory) in the cmdlet (set '$setName').")
            }
            $position = if ($actual.Position -ge 0) { "$($actual.Position)" } else { 'Named' }
            if ($yaml.Contains('Position') -and $yaml['Position'] -ne $position) {
                $Problems.Add("${Where}: Position is '$($yaml['Position'])' in the doc but $position in the cmdlet (set '$setName').")
            }
            $pipeline = Format-HelpPipelineInput -ByValue $actual.ByValue -ByPropertyName $actual.ByPropertyName
            if ($yaml.Contains('Accept pipeline input') -and (ConvertTo-HelpPipelineKey $yaml['Accept pipeline input']) -ne (ConvertTo-HelpPipelineKey $pipeline)) {
                $Problems.Add("${Where}: Accept pipeline input is '$($yaml['Accept pipeline input'])' in the doc but '$pipeline' in the cmdlet (set '$setName').")
            }
        }
    }
    foreach ($setName in $Parameter.Sets.Keys) {
        if (-not $coveredSets.ContainsKey($setName)) {
            $Problems.Add("${Where}: the parameter is in the set '$setName' but no yaml block covers that set.")
        }
    }
}

function ConvertTo-HelpPipelineKey {
    param([string] $Text)
    if ($Text -notmatch '^\s*True') { return 'False' }
    $kinds = @([regex]::Matches($Text, 'ByValue|ByPropertyName') | ForEach-Object Value | Sort-Object -Unique)
    "True ($($kinds -join ', '))"
}

# ---------------------------------------------------------------------------------------------------------------
# MAML writing.

function ConvertTo-HelpMaml {
    param([Parameter(Mandatory)] $Docs, [Parameter(Mandatory)] $Commands)

    $settings = [Xml.XmlWriterSettings]::new()
    $settings.Indent = $true
    $settings.IndentChars = '  '
    $settings.NewLineChars = "`n"
    $settings.NewLineHandling = [Xml.NewLineHandling]::Replace
    $settings.Encoding = [Text.UTF8Encoding]::new($false)
    $stream = [IO.MemoryStream]::new()
    $w = [Xml.XmlWriter]::Create($stream, $settings)
    try {
        $w.WriteStartDocument()
        $w.WriteStartElement('helpItems', 'http://msh')
        $w.WriteAttributeString('schema', 'maml')
        foreach ($name in $Docs.Keys) {
            Write-HelpMamlCommand -Writer $w -Doc $Docs[$name] -Command $Commands[$name]
        }
        $w.WriteEndElement()
        $w.WriteEndDocument()
    }
    finally { $w.Dispose() }
    [Text.Encoding]::UTF8.GetString($stream.ToArray()) + "`n"
}

function Write-HelpMamlPara {
    param([Xml.XmlWriter] $Writer, [AllowEmptyCollection()] [string[]] $Lines)
    foreach ($para in @(ConvertTo-HelpParagraph -Lines $Lines)) {
        $Writer.WriteElementString('maml', 'para', $script:MamlNs, $para.Replace($script:Unbreakable, ' '))
    }
}

function Write-HelpMamlDescription {
    param([Xml.XmlWriter] $Writer, [AllowEmptyCollection()] [string[]] $Lines)
    $Writer.WriteStartElement('maml', 'description', $script:MamlNs)
    Write-HelpMamlPara -Writer $Writer -Lines $Lines
    $Writer.WriteEndElement()
}

function Get-HelpSectionLines {
    param($Doc, [string] $Name)
    if ($Doc.Sections.Contains($Name)) { @($Doc.Sections[$Name].Lines) } else { @() }
}

function Write-HelpMamlCommand {
    param([Xml.XmlWriter] $Writer, $Doc, $Command)
    $w = $Writer
    $w.WriteStartElement('command', 'command', $script:CommandNs)
    $w.WriteAttributeString('xmlns', 'maml', $null, $script:MamlNs)
    $w.WriteAttributeString('xmlns', 'dev', $null, $script:DevNs)

    $w.WriteStartElement('command', 'details', $script:CommandNs)
    $w.WriteElementString('command', 'name', $script:CommandNs, $Command.Name)
    $w.WriteElementString('command', 'verb', $script:CommandNs, $Command.Verb)
    $w.WriteElementString('command', 'noun', $script:CommandNs, $Command.Noun)
    Write-HelpMamlDescription -Writer $w -Lines (Get-HelpSectionLines $Doc 'SYNOPSIS')
    $w.WriteEndElement()

    Write-HelpMamlDescription -Writer $w -Lines (Get-HelpSectionLines $Doc 'DESCRIPTION')

    # Parameter text, YAML facts, and per-set attributes from the cmdlet.
    $docParameters = [ordered]@{}
    foreach ($sub in $Doc.Sections['PARAMETERS'].Subs) {
        $parameterName = if ($sub.Title -match '^-(\S+)$') { $Matches[1] } else { $null }
        if ($parameterName -and $Command.Parameters.Contains($parameterName)) {
            $blocks = @(ConvertTo-HelpBlock -Lines $sub.Lines)
            $yaml = ConvertFrom-HelpYaml -Lines (@($blocks | Where-Object { $_.Kind -eq 'code' -and $_.Lang -eq 'yaml' })[0].Lines)
            $text = [Collections.Generic.List[string]]::new()
            $inYaml = $false
            foreach ($line in $sub.Lines) {
                if ($line -match '^\s*```\s*yaml') { $inYaml = $true; continue }
                if ($inYaml) { if ($line -match '^\s*```') { $inYaml = $false }; continue }
                $text.Add($line)
            }
            $docParameters[$Command.Parameters[$parameterName].Name] = [pscustomobject]@{ Lines = @($text); Yaml = $yaml }
        }
    }

    $w.WriteStartElement('command', 'syntax', $script:CommandNs)
    foreach ($set in $Command.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $script:CommandNs)
        $w.WriteElementString('maml', 'name', $script:MamlNs, $Command.Name)
        foreach ($p in (Get-HelpOrderedSetParameter -Set $set)) {
            Write-HelpMamlParameter -Writer $w -Parameter $Command.Parameters[$p.Name] -SetName $set.Name -Doc $docParameters[$p.Name] -InSyntax
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $script:CommandNs)
    foreach ($name in $docParameters.Keys) {
        $parameter = $Command.Parameters[$name]
        Write-HelpMamlParameter -Writer $w -Parameter $parameter -SetName (Get-HelpPrimarySet $parameter $Command) -Doc $docParameters[$name]
    }
    $w.WriteEndElement()

    Write-HelpMamlTypes -Writer $w -Doc $Doc -Section 'INPUTS' -ListName 'inputTypes' -ItemName 'inputType'
    Write-HelpMamlTypes -Writer $w -Doc $Doc -Section 'OUTPUTS' -ListName 'returnValues' -ItemName 'returnValue'

    $notes = Get-HelpSectionLines $Doc 'NOTES'
    if (Test-HelpText $notes) {
        $w.WriteStartElement('maml', 'alertSet', $script:MamlNs)
        $w.WriteStartElement('maml', 'alert', $script:MamlNs)
        Write-HelpMamlPara -Writer $w -Lines $notes
        $w.WriteEndElement()
        $w.WriteEndElement()
    }

    $w.WriteStartElement('command', 'examples', $script:CommandNs)
    foreach ($example in $Doc.Sections['EXAMPLES'].Subs) {
        $blocks = @(ConvertTo-HelpBlock -Lines $example.Lines)
        $code = @($blocks | Where-Object Kind -EQ 'code')
        $remarks = [Collections.Generic.List[string]]::new()
        $skipped = $false
        $inFence = $false
        foreach ($line in $example.Lines) {
            # Everything but the first code block is a remark.
            if (-not $skipped -and $line -match '^\s*```') {
                if ($inFence) { $skipped = $true }
                $inFence = -not $inFence
                continue
            }
            if ($inFence -and -not $skipped) { continue }
            $remarks.Add($line)
        }
        $w.WriteStartElement('command', 'example', $script:CommandNs)
        $w.WriteElementString('maml', 'title', $script:MamlNs, "--------- $($example.Title) ---------")
        $w.WriteElementString('dev', 'code', $script:DevNs, ($code[0].Lines -join "`n"))
        $w.WriteStartElement('dev', 'remarks', $script:DevNs)
        Write-HelpMamlPara -Writer $w -Lines $remarks
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $script:CommandNs)
    $online = $Doc.FrontMatter['online version']
    if ($online) { Write-HelpMamlLink -Writer $w -Text 'Online Version:' -Uri $online }
    foreach ($line in (Get-HelpSectionLines $Doc 'RELATED LINKS')) {
        if ($line -match '^\s*[-*]?\s*\[([^\]]+)\]\(([^)]*)\)') {
            $uri = if ($Matches[2] -match '^[a-z]+://') { $Matches[2] } else { '' }
            Write-HelpMamlLink -Writer $w -Text $Matches[1] -Uri $uri
        }
    }
    $w.WriteEndElement()

    $w.WriteEndElement()
}

# The set whose attributes describe a parameter in the PARAMETERS list: the default set when it is there.
function Get-HelpPrimarySet {
    param($Parameter, $Command)
    $default = @($Command.ParameterSets | Where-Object IsDefault | ForEach-Object Name)
    foreach ($name in $default) { if ($Parameter.Sets.Contains($name)) { return $name } }
    @($Parameter.Sets.Keys)[0]
}

function Write-HelpMamlParameter {
    param([Xml.XmlWriter] $Writer, $Parameter, [string] $SetName, $Doc, [switch] $InSyntax)
    $w = $Writer
    $set = $Parameter.Sets[$SetName]
    $isArray = $Parameter.Type.EndsWith('[]')
    $w.WriteStartElement('command', 'parameter', $script:CommandNs)
    $w.WriteAttributeString('required', "$($set.Mandatory)".ToLowerInvariant())
    $w.WriteAttributeString('variableLength', "$isArray".ToLowerInvariant())
    $globbing = $Parameter.Wildcards -or ($Doc -and $Doc.Yaml['Accept wildcard characters'] -eq 'True')
    $w.WriteAttributeString('globbing', "$globbing".ToLowerInvariant())
    $w.WriteAttributeString('pipelineInput', (Format-HelpPipelineInput -ByValue $set.ByValue -ByPropertyName $set.ByPropertyName))
    $w.WriteAttributeString('position', $(if ($set.Position -ge 0) { "$($set.Position)" } else { 'named' }))
    $w.WriteAttributeString('aliases', $(if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }))
    $w.WriteElementString('maml', 'name', $script:MamlNs, $Parameter.Name)
    Write-HelpMamlDescription -Writer $w -Lines $(if ($Doc) { $Doc.Lines } else { @() })
    if ($Parameter.EnumValues.Count -gt 0) {
        $w.WriteStartElement('command', 'parameterValueGroup', $script:CommandNs)
        foreach ($value in $Parameter.EnumValues) {
            $w.WriteStartElement('command', 'parameterValue', $script:CommandNs)
            $w.WriteAttributeString('required', 'false')
            $w.WriteAttributeString('command', 'variableLength', $script:CommandNs, 'false')
            $w.WriteString($value)
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }
    if (-not ($InSyntax -and $Parameter.IsSwitch)) {
        $w.WriteStartElement('command', 'parameterValue', $script:CommandNs)
        $w.WriteAttributeString('required', $(if ($Parameter.IsSwitch) { 'false' } else { 'true' }))
        $w.WriteAttributeString('variableLength', "$isArray".ToLowerInvariant())
        $w.WriteString($Parameter.Type)
        $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $script:DevNs)
    $w.WriteElementString('maml', 'name', $script:MamlNs, $Parameter.Type)
    $w.WriteElementString('maml', 'uri', $script:MamlNs, '')
    $w.WriteEndElement()
    $default = if ($Doc -and $Doc.Yaml.Contains('Default value') -and $Doc.Yaml['Default value']) { $Doc.Yaml['Default value'] } else { 'None' }
    $w.WriteElementString('dev', 'defaultValue', $script:DevNs, $default)
    $w.WriteEndElement()
}

function Write-HelpMamlTypes {
    param([Xml.XmlWriter] $Writer, $Doc, [string] $Section, [string] $ListName, [string] $ItemName)
    $w = $Writer
    $w.WriteStartElement('command', $ListName, $script:CommandNs)
    if ($Doc.Sections.Contains($Section)) {
        foreach ($sub in $Doc.Sections[$Section].Subs) {
            $w.WriteStartElement('command', $ItemName, $script:CommandNs)
            $w.WriteStartElement('dev', 'type', $script:DevNs)
            $w.WriteElementString('maml', 'name', $script:MamlNs, $sub.Title)
            $w.WriteEndElement()
            Write-HelpMamlDescription -Writer $w -Lines $sub.Lines
            $w.WriteEndElement()
        }
    }
    $w.WriteEndElement()
}

function Write-HelpMamlLink {
    param([Xml.XmlWriter] $Writer, [string] $Text, [string] $Uri)
    $Writer.WriteStartElement('maml', 'navigationLink', $script:MamlNs)
    $Writer.WriteElementString('maml', 'linkText', $script:MamlNs, $Text)
    $Writer.WriteElementString('maml', 'uri', $script:MamlNs, $Uri)
    $Writer.WriteEndElement()
}

# ---------------------------------------------------------------------------------------------------------------
# about_ topics: the plain-text help-topic layout (TOPIC, SHORT DESCRIPTION, LONG DESCRIPTION, ...).

function ConvertTo-HelpTopicText {
    param([Parameter(Mandatory)] $Topic)
    $out = [Collections.Generic.List[string]]::new()
    $out.Add('TOPIC')
    $out.Add("    $($Topic.Title)")
    foreach ($section in $Topic.Sections.Values) {
        $out.Add('')
        $out.Add($section.Name)
        Add-HelpTopicBody -Out $out -Lines $section.Lines -Indent 4
        foreach ($sub in $section.Subs) {
            $out.Add('')
            $out.Add("  $($sub.Title.ToUpperInvariant())")
            Add-HelpTopicBody -Out $out -Lines $sub.Lines -Indent 4
        }
    }
    (($out -join "`n") + "`n").Replace($script:Unbreakable, ' ')
}

function Add-HelpTopicBody {
    param([Collections.Generic.List[string]] $Out, [AllowEmptyCollection()] [string[]] $Lines, [int] $Indent)
    $pad = ' ' * $Indent
    $first = $true
    foreach ($block in (ConvertTo-HelpBlock -Lines $Lines)) {
        if ($first) { $first = $false } else { $Out.Add('') }
        switch ($block.Kind) {
            'code' { foreach ($line in $block.Lines) { $Out.Add("$pad    $line".TrimEnd()) } }
            'table' { foreach ($line in (Format-HelpTable -Lines $block.Lines -Width ($script:TopicWidth - $Indent))) { $Out.Add("$pad$line".TrimEnd()) } }
            'list' {
                foreach ($item in ((ConvertTo-HelpParagraph -Lines $block.Lines) -split "`n")) {
                    $marker = ($item -split ' ', 2)[0]
                    $hang = ' ' * ($marker.Length + 1)
                    $wrapped = @(Split-HelpTopicLine -Text $item -Width ($script:TopicWidth - $Indent - $hang.Length))
                    $Out.Add("$pad$($wrapped[0])")
                    foreach ($rest in @($wrapped | Select-Object -Skip 1)) { $Out.Add("$pad$hang$rest") }
                }
            }
            default {
                foreach ($line in (Split-HelpTopicLine -Text (ConvertTo-HelpParagraph -Lines $block.Lines) -Width ($script:TopicWidth - $Indent))) {
                    $Out.Add("$pad$line")
                }
            }
        }
    }
}

function Split-HelpTopicLine {
    param([string] $Text, [int] $Width)
    $line = ''
    foreach ($word in ($Text -split '\s+' | Where-Object { $_ })) {
        if ($line.Length -eq 0) { $line = $word }
        elseif ($line.Length + 1 + $word.Length -le $Width) { $line += " $word" }
        else { $line; $line = $word }
    }
    if ($line.Length) { $line }
}

function Write-HelpOutput {
    param([string] $Path, [string] $Content)
    $bytes = [Text.UTF8Encoding]::new($false).GetBytes($Content)
    $full = [IO.Path]::GetFullPath($Path)
    if (-not (Test-Path -LiteralPath $full) -or -not [Linq.Enumerable]::SequenceEqual([byte[]][IO.File]::ReadAllBytes($full), $bytes)) {
        [IO.File]::WriteAllBytes($full, $bytes)
    }
    $full
}
