# Help: Get-Help shows what docs/ says for every cmdlet and topic, and the help compiler refuses docs that have
# drifted from the cmdlets. Runs in a pwsh that has imported the built module ($env:PSREPLICA_MODULE).

BeforeDiscovery {
    $script:cmdletNames = @('Sync-Directory', 'Get-SyncPlan', 'New-SyncFilter')
}

BeforeAll {
    $script:repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    $script:docsPath = Join-Path $script:repoRoot 'docs'
    $script:compiler = Join-Path $script:repoRoot '.build/HelpCompiler.ps1'

    # The text of a '## NAME' section of a doc, as one whitespace-normalised string without markdown code spans.
    function Get-DocSection {
        param([string] $Name, [string] $Section)
        $text = Get-Content -Raw (Join-Path $script:docsPath "$Name.md")
        $match = [regex]::Match($text, "(?ms)^## $Section\s*\n(.*?)(?=^## )")
        ($match.Groups[1].Value -replace '`', '' -replace '\s+', ' ').Trim()
    }

    function ConvertTo-Normalized {
        param([string] $Text)
        ($Text -replace '\s+', ' ').Trim()
    }
}

Describe 'Get-Help <_>' -ForEach $cmdletNames {
    BeforeAll {
        $name = $_
        $help = Get-Help -Name $name -Full
        $command = Get-Command -Name $name
    }

    It 'comes from the compiled MAML (not the generated stub)' {
        Split-Path -Leaf $command.HelpFile | Should -Be 'PSReplica.dll-Help.xml'
        Join-Path (Split-Path $env:PSREPLICA_MODULE) 'en-US/PSReplica.dll-Help.xml' | Should -Exist
    }

    It 'shows the synopsis from docs' {
        ConvertTo-Normalized $help.Synopsis | Should -BeExactly (Get-DocSection $name 'SYNOPSIS')
    }

    It 'shows the description from docs' {
        $description = ConvertTo-Normalized (($help.Description | ForEach-Object Text) -join ' ')
        $expected = Get-DocSection $name 'DESCRIPTION'
        $description | Should -Not -BeNullOrEmpty
        $description | Should -BeExactly $expected
    }

    It 'has at least two examples, each with code' {
        $examples = @($help.Examples.Example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            $example.Code | Should -Match $name.Split('-')[0]
        }
    }

    It 'describes every parameter of the cmdlet' {
        $common = [System.Management.Automation.Cmdlet]::CommonParameters
        $expected = @($command.Parameters.Keys | Where-Object { $_ -notin $common })
        $documented = @($help.Parameters.Parameter)
        @($documented.Name | Sort-Object) | Should -Be @($expected | Sort-Object)
        foreach ($parameter in $documented) {
            $text = ($parameter.Description | ForEach-Object Text) -join ' '
            $text | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) needs a description"
        }
    }

    It 'reports each parameter as the cmdlet declares it' {
        foreach ($parameter in @($help.Parameters.Parameter)) {
            $metadata = $command.Parameters[$parameter.Name]
            $parameter.Type.Name | Should -Be $metadata.ParameterType.Name
            $anySet = @($metadata.ParameterSets.Values)
            $parameter.Required | Should -Be ("$([bool]($anySet | Where-Object IsMandatory))".ToLowerInvariant()) -Because "-$($parameter.Name) Required"
        }
    }

    It 'shows one syntax block per parameter set' {
        @($help.Syntax.SyntaxItem).Count | Should -Be @($command.ParameterSets).Count
    }

    It 'names the output types' {
        $help.ReturnValues.ReturnValue.Type.Name | Should -Contain ($(if ($name -eq 'New-SyncFilter') { 'PSReplica.SyncFilter' } else { 'PSReplica.SyncItem' }))
    }
}

Describe 'Get-Help about_PSReplica' {
    BeforeAll {
        $topic = Get-Help about_PSReplica | Out-String
    }

    It 'returns the topic' {
        $topic | Should -Match 'about_PSReplica'
        $topic | Should -Match 'SHORT DESCRIPTION'
        $topic | Should -Match 'LONG DESCRIPTION'
        $topic | Should -Match 'rsync for PowerShell'
    }

    It 'lists every ErrorId of the module' {
        foreach ($id in [PSReplica.ErrorIds].GetFields().Name) {
            $topic | Should -Match "\b$id\b" -Because "ErrorId $id must be documented"
        }
    }

    It 'documents the temporary-file naming and the deletion rules' {
        $topic | Should -Match ([regex]::Escape('.~psr<8 hex digits>~<name>'))
        $topic | Should -Match 'DeletionSkippedAfterIoError'
        $topic | Should -Match '-MaxDelete'
    }
}

Describe 'Invoke-HelpCompiler' {
    BeforeAll {
        . $script:compiler
        # The drift cases share one compiler run: every problem must be reported at once.
        $docs = Join-Path $TestDrive 'docs'
        Copy-Item $script:docsPath $docs -Recurse

        # 1. A parameter section removed: -Checksum of Sync-Directory.
        $file = Join-Path $docs 'Sync-Directory.md'
        $text = Get-Content -Raw $file
        $text = [regex]::Replace($text, '(?ms)^### -Checksum\n.*?(?=^### )', '')
        Set-Content -Path $file -Value $text -NoNewline

        # 2. A bogus parameter added, and a YAML block that disagrees with the cmdlet.
        $file = Join-Path $docs 'Get-SyncPlan.md'
        $text = Get-Content -Raw $file
        $bogus = "### -Bogus`nA parameter that does not exist.`n`n``````yaml`nType: String`nParameter Sets: (All)`nAliases: None`n`nRequired: False`nPosition: Named`nDefault value: None`nAccept pipeline input: False`nAccept wildcard characters: False`n```````n`n"
        $text = $text.Replace("### CommonParameters", "$bogus### CommonParameters")
        $text = [regex]::Replace($text, '(?ms)(^### -LiteralPath\n.*?)Required: True', '$1Required: False')
        Set-Content -Path $file -Value $text -NoNewline

        # 3. A doc removed, and a doc for a cmdlet that does not exist.
        Remove-Item (Join-Path $docs 'New-SyncFilter.md')
        Copy-Item (Join-Path $script:docsPath 'Get-SyncPlan.md') (Join-Path $docs 'Get-SyncFiles.md')

        $out = Join-Path $TestDrive 'en-US'
        $driftError = $null
        try { Invoke-HelpCompiler -DocsPath $docs -ModuleManifest $env:PSREPLICA_MODULE -OutputPath $out }
        catch { $driftError = $_ }
    }

    It 'fails on drift' {
        $driftError | Should -Not -BeNullOrEmpty
        "$driftError" | Should -Match 'do not match the cmdlets'
    }

    It 'names the undocumented parameter' {
        "$driftError" | Should -Match 'Sync-Directory\.md: the parameter -Checksum of Sync-Directory is not documented'
    }

    It 'names the documented parameter that does not exist' {
        "$driftError" | Should -Match 'Get-SyncPlan\.md: documents the parameter -Bogus, which Get-SyncPlan does not have'
    }

    It 'names the cmdlet without a doc' {
        "$driftError" | Should -Match 'New-SyncFilter: the cmdlet has no doc'
    }

    It 'names the doc without a cmdlet' {
        "$driftError" | Should -Match "Get-SyncFiles\.md: documents 'Get-SyncFiles', which is not a cmdlet"
    }

    It 'names the YAML that disagrees with the cmdlet' {
        "$driftError" | Should -Match 'Get-SyncPlan\.md: -LiteralPath: Required is ''False'' in the doc but True in the cmdlet'
    }

    It 'writes nothing when it fails' {
        Join-Path $TestDrive 'en-US/PSReplica.dll-Help.xml' | Should -Not -Exist
    }

    It 'reproduces the committed en-US byte for byte from docs (deterministic and up to date)' {
        $fresh = Join-Path $TestDrive 'fresh'
        Invoke-HelpCompiler -DocsPath $script:docsPath -ModuleManifest $env:PSREPLICA_MODULE -OutputPath $fresh
        $committed = Join-Path $script:repoRoot 'en-US'
        $names = @(Get-ChildItem $fresh -File | ForEach-Object Name | Sort-Object)
        $names | Should -Be @(Get-ChildItem $committed -File | ForEach-Object Name | Sort-Object)
        foreach ($name in $names) {
            (Get-FileHash (Join-Path $fresh $name)).Hash | Should -Be (Get-FileHash (Join-Path $committed $name)).Hash -Because "$name must be regenerated from docs"
        }
        [xml] (Get-Content -Raw (Join-Path $fresh 'PSReplica.dll-Help.xml')) | Should -Not -BeNullOrEmpty
    }
}
