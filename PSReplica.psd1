# The module's manifest as the repository keeps it, valid where it stands (Test-ModuleManifest): paths are relative to
# the repository root, and there is no RootModule, since PSReplica.dll exists only after a build. build.ps1 writes the
# module's manifest (out/PSReplica/PSReplica.psd1) from this file, with RootModule 'PSReplica.dll' and each
# FormatsToProcess and TypesToProcess file beside it.
#
# Platforms (README.md, "Platforms"): Linux x64 is where every test runs (the Linux file-system backend, and the
# portable System.IO backend through the whole scenario matrix); arm64 Linux servers are tested through the native
# agent under qemu-user. Windows x64 and macOS arm64 run the portable backend: build.ps1 compiles the module for
# win-x64 and osx-arm64 with no warning (CA1416 an error), but no test runs on either.
@{
    ModuleVersion        = '0.1.0'
    GUID                 = '5d1c7a9e-2f4b-4c8e-9a61-3b7e0f2d8c41'
    Author               = 'The PSReplica authors'
    CompanyName          = 'PSReplica'
    Copyright            = '(c) 2026 The PSReplica authors. MIT License.'
    Description          = 'rsync for PowerShell: replicate directory trees locally and over SSH, one object per change. Tested on Linux; built for Windows and macOS (the portable file-system backend), not tested there.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.6'
    TypesToProcess       = @('src/PSReplica/PSReplica.Types.ps1xml')
    FormatsToProcess     = @('src/PSReplica/PSReplica.Format.ps1xml')
    CmdletsToExport      = @('Sync-Directory', 'Get-SyncPlan', 'New-SyncFilter')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('rsync', 'sync', 'mirror', 'backup', 'replication', 'Linux', 'Windows', 'MacOS')
            ProjectUri   = 'https://github.com/PSReplica/PSReplica'
            LicenseUri   = 'https://github.com/PSReplica/PSReplica/blob/main/LICENSE'
            ReleaseNotes = 'https://github.com/PSReplica/PSReplica/blob/main/CHANGELOG.md'
        }
    }
}
