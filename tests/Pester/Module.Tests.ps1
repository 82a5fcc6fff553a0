BeforeDiscovery {
    $script:cmdletNames = @('Sync-Directory', 'Get-SyncPlan', 'New-SyncFilter')
}

BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/CmdletTestSupport.ps1')
    $script:Manifest = Import-PowerShellDataFile -Path $env:PSREPLICA_MODULE
    $script:Module = Get-Module PSReplica
    $script:Root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    $script:SourceManifestPath = Join-Path $script:Root 'PSReplica.psd1'
    $script:ProjectUri = 'https://github.com/PSReplica/PSReplica'

    # A manifest value as one string with the keys of every hashtable sorted, so that two manifests compare by content.
    function ConvertTo-ManifestText($Value) {
        if ($Value -is [System.Collections.IDictionary]) {
            '{' + (@($Value.Keys | Sort-Object | ForEach-Object { "$_=$(ConvertTo-ManifestText $Value[$_])" }) -join ';') + '}'
        }
        elseif ($Value -is [array]) { '[' + (@($Value | ForEach-Object { ConvertTo-ManifestText $_ }) -join ',') + ']' }
        else { "$Value" }
    }
}

Describe 'PSReplica module manifest' {
    It 'is a valid manifest' {
        { Test-ModuleManifest -Path $env:PSREPLICA_MODULE -ErrorAction Stop } | Should -Not -Throw
    }

    It 'lists exactly the three cmdlets, explicitly' {
        @($Manifest.CmdletsToExport | Sort-Object) | Should -Be @('Get-SyncPlan', 'New-SyncFilter', 'Sync-Directory')
    }

    It 'exports no functions, aliases or variables (empty lists, not wildcards)' {
        $Manifest.FunctionsToExport | Should -BeNullOrEmpty
        $Manifest.AliasesToExport | Should -BeNullOrEmpty
        $Manifest.VariablesToExport | Should -BeNullOrEmpty
        $Manifest.ContainsKey('FunctionsToExport') | Should -BeTrue
        $Manifest.ContainsKey('AliasesToExport') | Should -BeTrue
        $Manifest.ContainsKey('VariablesToExport') | Should -BeTrue
    }

    It 'is for PowerShell 7.6 Core' {
        $Manifest.CompatiblePSEditions | Should -Be @('Core')
        [version]$Manifest.PowerShellVersion | Should -Be ([version]'7.6')
    }

    It 'loads its format file' {
        $Manifest.FormatsToProcess | Should -Contain 'PSReplica.Format.ps1xml'
        Test-Path (Join-Path (Split-Path $env:PSREPLICA_MODULE) 'PSReplica.Format.ps1xml') | Should -BeTrue
    }
}

Describe 'The repository''s manifest and project files' {
    It 'PSReplica.psd1 at the repository root passes Test-ModuleManifest where it stands' {
        { Test-ModuleManifest -Path $SourceManifestPath -ErrorAction Stop } | Should -Not -Throw
    }

    It 'the built manifest is the repository''s with the assembly as root module and the format and types files beside it' {
        $source = Import-PowerShellDataFile -Path $SourceManifestPath
        $source.ContainsKey('RootModule') | Should -BeFalse -Because 'PSReplica.dll exists only after a build'
        $Manifest.RootModule | Should -Be 'PSReplica.dll'
        foreach ($key in 'FormatsToProcess', 'TypesToProcess') {
            @($Manifest[$key]) | Should -Be @($source[$key] | ForEach-Object { Split-Path -Leaf $_ })
            foreach ($file in $source[$key]) {
                $built = Join-Path (Split-Path $env:PSREPLICA_MODULE) (Split-Path -Leaf $file)
                (Get-FileHash $built).Hash | Should -Be (Get-FileHash (Join-Path $Root $file)).Hash
            }
        }
        $rest = $Manifest.Clone()
        $rest.Remove('RootModule')
        foreach ($key in 'FormatsToProcess', 'TypesToProcess') {
            $rest.Remove($key)
            $source.Remove($key)
        }
        ConvertTo-ManifestText $rest | Should -BeExactly (ConvertTo-ManifestText $source)
    }

    It 'names the project, its MIT licence and its changelog, each a file at the repository root' {
        $psData = $Manifest.PrivateData.PSData
        $psData.ProjectUri | Should -Be $ProjectUri
        $psData.LicenseUri | Should -Be "$ProjectUri/blob/main/LICENSE"
        $psData.ReleaseNotes | Should -Be "$ProjectUri/blob/main/CHANGELOG.md"
        $license = Get-Content -Raw (Join-Path $Root 'LICENSE')
        $license | Should -Match '\AMIT License\r?\n'
        $license | Should -Match 'Copyright \(c\) 2026 The PSReplica authors'
        $Manifest.Copyright | Should -Match 'The PSReplica authors\. MIT License'
        Get-Content -Raw (Join-Path $Root 'README.md') | Should -Match ([regex]::Escape($ProjectUri))
    }

    It 'keeps a changelog with an Unreleased section above the issues already done' {
        $headings = @(Get-Content (Join-Path $Root 'CHANGELOG.md') | Where-Object { $_ -match '^## ' })
        $headings[0] | Should -Be '## [Unreleased]'
        foreach ($issue in 13, 6, 5, 4, 3, 2) {
            @($headings | Where-Object { $_ -match "^## Issue ${issue}: .+ - \d{4}-\d{2}-\d{2}$" }).Count | Should -Be 1 -Because "issue $issue has a dated section"
        }
    }
}

Describe 'Online help for <_>' -ForEach $cmdletNames {
    BeforeAll {
        $name = $_
        $expected = "$ProjectUri/blob/main/docs/$name.md"
    }

    # Get-Help -Online opens a browser; it takes the first related link of the help, else the cmdlet's HelpUri.
    It 'the cmdlet''s HelpUri is its doc in the project' {
        (Get-Command $name).HelpUri | Should -Be $expected
    }

    It 'the doc''s online version is the same address, and Get-Help gives it as the first related link' {
        Get-Content (Join-Path $Root "docs/$name.md") | Should -Contain "online version: $expected"
        @((Get-Help $name).relatedLinks.navigationLink)[0].uri | Should -Be $expected
    }
}

Describe 'PSReplica module as imported' {
    It 'exports exactly Sync-Directory, Get-SyncPlan and New-SyncFilter as cmdlets' {
        @($Module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @('Get-SyncPlan', 'New-SyncFilter', 'Sync-Directory')
        foreach ($name in 'Sync-Directory', 'Get-SyncPlan', 'New-SyncFilter') {
            (Get-Command $name -Module PSReplica).CommandType | Should -Be 'Cmdlet'
        }
    }

    It 'exports no functions, aliases or variables' {
        $Module.ExportedFunctions.Count | Should -Be 0
        $Module.ExportedAliases.Count | Should -Be 0
        $Module.ExportedVariables.Count | Should -Be 0
        @(Get-Command -Module PSReplica).Count | Should -Be 3
    }

    It 'declares its output types' {
        (Get-Command Sync-Directory).OutputType.Name | Should -Contain 'PSReplica.SyncItem'
        (Get-Command Sync-Directory).OutputType.Name | Should -Contain 'PSReplica.SyncSummary'
        (Get-Command Get-SyncPlan).OutputType.Name | Should -Be 'PSReplica.SyncItem'
        (Get-Command New-SyncFilter).OutputType.Name | Should -Be 'PSReplica.SyncFilter'
    }

    It 'makes only Sync-Directory support ShouldProcess' {
        (Get-Command Sync-Directory).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Sync-Directory).Parameters.Keys | Should -Contain 'Confirm'
        (Get-Command Get-SyncPlan).Parameters.Keys | Should -Not -Contain 'WhatIf'
    }
}

Describe 'Format views' {
    It 'has a default table view for SyncItem with Itemize, Action and RelativePath' {
        $views = @(Get-FormatData -TypeName PSReplica.SyncItem)
        $views.Count | Should -BeGreaterThan 0
        $default = $views[0].FormatViewDefinition[0]
        $default.Control | Should -BeOfType ([System.Management.Automation.TableControl])
        $labels = @($default.Control.Headers.Label)
        $properties = @($default.Control.Rows[0].Columns.DisplayEntry.Value)
        $labels | Should -Contain 'Itemize'
        $labels | Should -Contain 'Action'
        $labels | Should -Contain 'RelativePath'
        $properties[0] | Should -Be 'Itemize'
        $properties | Should -Contain 'Action'
        $properties[-1] | Should -Be 'RelativePath'
    }

    It 'renders a SyncItem as a table row by default' {
        $src = New-TestTree -Root (Join-Path $TestDrive 'fmt-src') -Files @{ 'a.txt' = 'a' }
        $item = Get-SyncPlan -Path $src -Destination (Join-Path $TestDrive 'fmt-dst') | Where-Object RelativePath -EQ 'a.txt'
        $text = $item | Out-String
        $text | Should -Match 'Itemize\s+Action'
        $text | Should -Match '>f\+{9}\s+Create\s+File\s+New\s+1\s+a\.txt'
    }

    It 'has a list view for SyncSummary and views for SyncFilter and FilterRule' {
        (Get-FormatData -TypeName PSReplica.SyncSummary).FormatViewDefinition[0].Control |
            Should -BeOfType ([System.Management.Automation.ListControl])
        (Get-FormatData -TypeName PSReplica.SyncFilter) | Should -Not -BeNullOrEmpty
        (Get-FormatData -TypeName PSReplica.FilterRule).FormatViewDefinition[0].Control |
            Should -BeOfType ([System.Management.Automation.TableControl])
    }

    It 'shows the rules of a SyncFilter in rsync syntax' {
        $text = New-SyncFilter -Exclude '*.bak' -Include 'keep.bak' | Out-String
        $text | Should -Match '\+ keep\.bak'
        $text | Should -Match '- \*\.bak'
    }
}
