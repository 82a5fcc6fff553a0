# Windows' file attributes (issue 16, item 5) through the cmdlets on Linux: -Preserve Attributes, -ArchiveOnly and
# -ResetArchive are refused with InvalidParameterCombination before anything is touched, on the Linux backend and on the
# portable one (which holds them on Windows only), by Sync-Directory and Get-SyncPlan alike; Get-Help shows them. What
# they do is tested in PSReplica.Engine.Tests (Metadata/FileAttributesTests.cs) through an in-memory attribute store.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:work = Join-Path ([IO.Path]::GetTempPath()) "psr-attributes-$([guid]::NewGuid().ToString('N'))"
    $null = New-Item -ItemType Directory -Path $work
}

AfterAll {
    $env:PSREPLICA_FILESYSTEM = $null
    if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Windows file attributes on Linux' {
    AfterEach { $env:PSREPLICA_FILESYSTEM = $null }

    It '<Command> refuses <Parameter> on the <Backend> backend before anything is touched' -TestCases @(
        foreach ($command in 'Sync-Directory', 'Get-SyncPlan') {
            foreach ($backend in 'Linux', 'portable') {
                @{ Command = $command; Backend = $backend; Parameter = '-Preserve Attributes'; Splat = @{ Preserve = 'Times', 'Attributes' } }
                @{ Command = $command; Backend = $backend; Parameter = '-ArchiveOnly'; Splat = @{ ArchiveOnly = $true } }
                @{ Command = $command; Backend = $backend; Parameter = '-ResetArchive'; Splat = @{ ResetArchive = $true } }
            }
        }
    ) {
        param($Command, $Backend, $Parameter, $Splat)
        $name = "$Command-$Backend-$($Parameter -replace '\W', '')"
        $src = Join-Path $work "$name-src"
        $dst = Join-Path $work "$name-dst"
        $null = New-Item -ItemType Directory -Path $src
        Set-Content -LiteralPath (Join-Path $src 'a.txt') -Value 'alpha' -NoNewline
        $env:PSREPLICA_FILESYSTEM = $Backend.ToLowerInvariant()
        $script:items = @()
        { $script:items = @(& $Command -Path $src -Destination $dst @Splat) } |
            Should -Throw -ErrorId "InvalidParameterCombination*" `
                -ExpectedMessage "$Parameter cannot be used with the $Backend file-system backend. Windows file attributes are held only by the portable file-system backend on Windows*"
        $items | Should -BeNullOrEmpty
        Test-Path $dst | Should -BeFalse
        Get-Content -Raw (Join-Path $src 'a.txt') | Should -Be 'alpha'
    }

    It 'Get-Help <_> shows -ArchiveOnly, -ResetArchive and the Attributes value of -Preserve' -ForEach 'Sync-Directory', 'Get-SyncPlan' {
        $archiveOnly = Get-Help -Name $_ -Parameter ArchiveOnly
        ($archiveOnly.description.Text -join ' ') | Should -BeLike "*Archive attribute is set (robocopy's /A)*"
        $archiveOnly.type.name | Should -Be 'SwitchParameter'
        (Get-Help -Name $_ -Parameter ResetArchive).description.Text -join ' ' | Should -BeLike "*robocopy's /M*"
        (Get-Help -Name $_ -Parameter Preserve).description.Text -join ' ' | Should -BeLike "*Attributes (robocopy's /COPY:A, Windows)*"
        (Get-Help -Name $_).syntax.syntaxItem[0].parameter.name | Should -Contain 'ResetArchive'
    }
}
