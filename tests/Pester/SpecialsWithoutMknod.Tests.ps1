# -Preserve Devices where the destination may not make devices (issue 18): the run is started in a process whose
# capability bounding set lacks CAP_MKNOD (setpriv), as a run by a user without that right is, so mknod of a device
# fails with EPERM while a FIFO (which needs no capability) and files are still made. Each device must fail on its own
# with SpecialFileFailed (PermissionDenied), nothing else may be lost, no temporary name may be left behind, and a
# second run must fail the same way again (not report success over a destination that lacks the devices).
BeforeDiscovery {
    # Root is needed to make the source's devices; setpriv to take CAP_MKNOD away from the run.
    $script:CanRun = ((& id -u) -eq '0') -and [bool](Get-Command setpriv -ErrorAction Ignore)
}

BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-nomknod-$([guid]::NewGuid().ToString('n'))"
    # This PowerShell again: the dotnet host with pwsh.dll when it runs as a .NET tool, else its own executable.
    $script:Pwsh = @([Environment]::ProcessPath)
    if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $script:Pwsh += Join-Path $PSHOME 'pwsh.dll' }

    function Invoke-WithoutMknod {
        # Runs Sync-Directory in a child pwsh that cannot gain CAP_MKNOD; returns what it reports as one object.
        param([string] $Source, [string] $Destination)
        $script = @'
param($Module, $Source, $Destination)
Import-Module $Module
$items = @(Sync-Directory -Path $Source -Destination $Destination -Preserve 'Times, Permissions, Links, Devices, Specials' -ErrorVariable failures -ErrorAction SilentlyContinue)
[pscustomobject]@{
    Items = @($items | ForEach-Object { '{0} {1} {2}' -f $_.Action, $_.ItemType, $_.RelativePath })
    Errors = @($failures | ForEach-Object { '{0}|{1}|{2}' -f $_.FullyQualifiedErrorId.Split(',')[0], $_.CategoryInfo.Category, $_.TargetObject })
    Capabilities = (Get-Content /proc/self/status | Where-Object { $_ -like 'CapEff:*' })
} | ConvertTo-Json -Compress
'@
        $scriptPath = Join-Path $script:WorkRoot 'run.ps1'
        Set-Content -LiteralPath $scriptPath -Value $script
        $output = & setpriv --bounding-set=-mknod --inh-caps=-mknod -- @script:Pwsh -NoProfile -NonInteractive -File $scriptPath $env:PSREPLICA_MODULE $Source $Destination 2>&1
        if ($LASTEXITCODE -ne 0) { throw "The child run exited with ${LASTEXITCODE}: $output" }
        ($output | Select-Object -Last 1) | ConvertFrom-Json
    }
}

AfterAll {
    if (Test-Path -LiteralPath $script:WorkRoot) { & rm -rf -- $script:WorkRoot }
}

Describe 'Devices at a destination that may not make them' {
    BeforeEach {
        & rm -rf -- $script:WorkRoot
        $script:Source = Join-Path $script:WorkRoot 'src'
        $script:Destination = Join-Path $script:WorkRoot 'dst'
        $null = New-Item -ItemType Directory -Force -Path (Join-Path $script:Source 'sub')
        & mknod -m 640 (Join-Path $script:Source 'console') c 5 1
        & mknod -m 600 (Join-Path $script:Source 'sub/disk') b 7 42
        & mkfifo -m 644 (Join-Path $script:Source 'sub/pipe')
        [System.IO.File]::WriteAllText((Join-Path $script:Source 'sub/file.txt'), 'content')
    }

    It 'fails each device with SpecialFileFailed and replicates everything else' -Skip:(-not $script:CanRun) {
        $result = Invoke-WithoutMknod $script:Source $script:Destination

        # The child really lacked CAP_MKNOD (bit 27) in its effective set: otherwise this test would prove nothing.
        $effective = [Convert]::ToUInt64(($result.Capabilities -split '\s+')[1], 16)
        ($effective -band (1 -shl 27)) | Should -Be 0

        @($result.Errors | Sort-Object) | Should -Be @(
            'SpecialFileFailed|PermissionDenied|console',
            'SpecialFileFailed|PermissionDenied|sub/disk')
        $result.Items | Should -Contain 'Create Fifo sub/pipe'
        $result.Items | Should -Contain 'Create File sub/file.txt'
        $result.Items | Should -Not -Contain 'Create CharacterDevice console'
        $result.Items | Should -Not -Contain 'Create BlockDevice sub/disk'

        & test -p (Join-Path $script:Destination 'sub/pipe'); $LASTEXITCODE | Should -Be 0
        Get-Content -Raw (Join-Path $script:Destination 'sub/file.txt') | Should -Be 'content'
        Test-Path -LiteralPath (Join-Path $script:Destination 'console') | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $script:Destination 'sub/disk') | Should -BeFalse
        # Nothing half-made is left under a temporary name.
        @(Get-ChildItem -Force -Recurse -LiteralPath $script:Destination | Where-Object Name -like '.*') | Should -BeNullOrEmpty
    }

    It 'fails the devices again on the next run and leaves the rest alone' -Skip:(-not $script:CanRun) {
        $null = Invoke-WithoutMknod $script:Source $script:Destination
        $again = Invoke-WithoutMknod $script:Source $script:Destination

        @($again.Errors | Sort-Object) | Should -Be @(
            'SpecialFileFailed|PermissionDenied|console',
            'SpecialFileFailed|PermissionDenied|sub/disk')
        @($again.Items | Where-Object { $_ -notlike '* CharacterDevice *' -and $_ -notlike '* BlockDevice *' }) | Should -BeNullOrEmpty
    }
}
