# Runs the Pester suite in this (child) pwsh with the built module imported, and writes the counts as JSON.
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [Parameter(Mandatory)] [string] $ResultPath,
    [string] $TestPath
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
$pester = Get-ChildItem (Join-Path $root 'tests/Pester/packages/pester') -Directory | Sort-Object { [version]$_.Name } | Select-Object -Last 1
Import-Module (Join-Path $pester.FullName 'tools/Pester.psd1') -Force
$env:PSREPLICA_MODULE = (Resolve-Path $ModuleManifest).Path
Import-Module $env:PSREPLICA_MODULE -Force

$config = New-PesterConfiguration
$config.Run.Path = if ($TestPath) {
    @($TestPath -split ',' | ForEach-Object { if (Test-Path $_) { $_ } else { Join-Path $root "tests/Pester/$_" } })
} else { Join-Path $root 'tests/Pester' }
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Normal'
$config.TestResult.Enabled = $true
$config.TestResult.OutputPath = [IO.Path]::ChangeExtension($ResultPath, '.xml')
$result = Invoke-Pester -Configuration $config

[pscustomobject]@{
    Passed      = $result.PassedCount
    Failed      = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped     = $result.SkippedCount
    FailedNames = @($result.Failed | ForEach-Object ExpandedPath) + @($result.FailedContainers | ForEach-Object { "$($_.Item)" })
} | ConvertTo-Json | Set-Content -Path $ResultPath
exit 0
