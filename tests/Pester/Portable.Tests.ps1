# The portable file-system backend (issue 16, item 5) through the cmdlets: PSREPLICA_FILESYSTEM=portable selects it on
# Linux for the calls that follow (the variable is read per call), -Verbose names it, times are kept to .NET's 100 ns,
# a second run converges, what it cannot honour is refused before anything is touched, and a value that names no
# backend stops the cmdlet. (Every option of the scenario matrix runs through it in PSReplica.Ssh.Tests.)
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:work = Join-Path ([IO.Path]::GetTempPath()) "psr-portable-$([guid]::NewGuid().ToString('N'))"
    $null = New-Item -ItemType Directory -Path $work

    function New-Tree([string] $Name) {
        $src = Join-Path $work $Name
        $null = New-Item -ItemType Directory -Path (Join-Path $src 'sub') -Force
        Set-Content -LiteralPath (Join-Path $src 'a.txt') -Value 'alpha' -NoNewline
        Set-Content -LiteralPath (Join-Path $src 'sub/b.txt') -Value 'bravo' -NoNewline
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $src 'link') -Target 'sub/b.txt'
        # A FIFO, which System.IO takes for an empty file: skipped as the Linux backend skips it, never opened.
        & mkfifo (Join-Path $src 'sub/pipe')
        & touch -d '@1600000000.123456789' (Join-Path $src 'a.txt')
        & touch -d '@1600000100.987654321' (Join-Path $src 'sub/b.txt')
        $src
    }

    # Seconds and nanoseconds of an item's modification time, as the kernel holds it.
    function Get-Mtime([string] $Path) { (& stat -c '%.9Y' $Path) }
}

AfterAll {
    $env:PSREPLICA_FILESYSTEM = $null
    if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'PSREPLICA_FILESYSTEM=portable' {
    BeforeEach { $env:PSREPLICA_FILESYSTEM = 'portable' }
    AfterEach { $env:PSREPLICA_FILESYSTEM = $null }

    It 'replicates through System.IO, says so, keeps times to 100 ns and converges' {
        $src = New-Tree 'conv-src'
        $dst = Join-Path $work 'conv-dst'
        $syncErrors = $null
        $output = Sync-Directory -Path $src -Destination $dst -Verbose -ErrorVariable syncErrors 4>&1 3>&1
        $syncErrors | Should -BeNullOrEmpty
        Test-Path (Join-Path $dst 'sub/pipe') | Should -BeFalse
        $verbose = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $warnings = @($output | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })
        $items = @($output | Where-Object { $_ -is [PSReplica.SyncItem] })

        @($verbose | Where-Object { $_ -like 'File system: the portable backend (System.IO; PSREPLICA_FILESYSTEM=portable)*' }).Count | Should -Be 1
        @($warnings | ForEach-Object Message) | Should -Be @("Skipping FIFO 'sub/pipe': -Preserve Specials replicates it.")
        @($items | Sort-Object RelativePath | ForEach-Object { "$($_.Action) $($_.ItemType) $($_.RelativePath)" }) |
            Should -Be @('Create Directory .', 'Create File a.txt', 'Create SymbolicLink link', 'Create Directory sub', 'Create File sub/b.txt')
        Get-Content -Raw (Join-Path $dst 'sub/b.txt') | Should -Be 'bravo'
        (Get-Item (Join-Path $dst 'link')).LinkTarget | Should -Be 'sub/b.txt'
        Get-Mtime (Join-Path $dst 'a.txt') | Should -Be '1600000000.123456700'
        Get-Mtime (Join-Path $dst 'sub/b.txt') | Should -Be '1600000100.987654300'

        @(Sync-Directory -Path $src -Destination $dst) | Should -BeNullOrEmpty

        Set-Content -LiteralPath (Join-Path $src 'sub/b.txt') -Value 'bravo, changed' -NoNewline
        $second = @(Sync-Directory -Path $src -Destination $dst -Delete)
        @($second | ForEach-Object { "$($_.Action) $($_.RelativePath)" }) | Should -Be @('Update sub/b.txt')
        Get-Content -Raw (Join-Path $dst 'sub/b.txt') | Should -Be 'bravo, changed'
    }

    It 'applies a reviewed plan' {
        $src = New-Tree 'plan-src'
        $dst = Join-Path $work 'plan-dst'
        $plan = @(Get-SyncPlan -Path $src -Destination $dst)
        $plan.Count | Should -Be 5
        Test-Path $dst | Should -BeFalse
        @($plan | Sync-Directory).Count | Should -Be 5
        Get-Content -Raw (Join-Path $dst 'a.txt') | Should -Be 'alpha'
    }

    It 'refuses what System.IO cannot do before anything is touched: <Parameter>' -TestCases @(
        @{ Parameter = '-Preserve HardLinks'; Splat = @{ Preserve = 'Times', 'Permissions', 'Links', 'HardLinks' } }
        @{ Parameter = '-OneFileSystem'; Splat = @{ OneFileSystem = $true } }
        @{ Parameter = '-Preserve ExtendedAttributes'; Splat = @{ Preserve = 'Times', 'ExtendedAttributes' } }
    ) {
        param($Parameter, $Splat)
        $src = New-Tree "refuse-src-$($Parameter -replace '\W', '')"
        $dst = Join-Path $work "refuse-dst-$($Parameter -replace '\W', '')"
        $script:items = @()
        { $script:items = @(Sync-Directory -Path $src -Destination $dst @Splat) } |
            Should -Throw -ErrorId 'InvalidParameterCombination*' -ExpectedMessage "$Parameter cannot be used with the portable file-system backend."
        $items | Should -BeNullOrEmpty
        Test-Path $dst | Should -BeFalse
    }
}

Describe 'PSREPLICA_FILESYSTEM naming no backend' {
    AfterEach { $env:PSREPLICA_FILESYSTEM = $null }

    It 'stops the cmdlet with InvalidFileSystemBackend and touches nothing' {
        $src = New-Tree 'bogus-src'
        $dst = Join-Path $work 'bogus-dst'
        $env:PSREPLICA_FILESYSTEM = 'zfs-please'
        { Sync-Directory -Path $src -Destination $dst -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidFileSystemBackend*' -ExpectedMessage "*PSREPLICA_FILESYSTEM='zfs-please' names no file-system backend*"
        Test-Path $dst | Should -BeFalse
    }

    It 'takes "linux" on Linux' {
        $src = New-Tree 'linux-src'
        $dst = Join-Path $work 'linux-dst'
        $env:PSREPLICA_FILESYSTEM = 'linux'
        $output = Sync-Directory -Path $src -Destination $dst -Verbose 4>&1
        @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'File system: the Linux backend*' }).Count | Should -Be 1
        Get-Mtime (Join-Path $dst 'a.txt') | Should -Be '1600000000.123456789'
    }
}
