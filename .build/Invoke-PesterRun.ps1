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
# Pester prints nothing: the caller reports each failure from the JSON below, and the XML keeps the details.
$config.Output.Verbosity = 'None'
$config.TestResult.Enabled = $true
$config.TestResult.OutputPath = [IO.Path]::ChangeExtension($ResultPath, '.xml')
$result = Invoke-Pester -Configuration $config

function Get-FailureName($Item, [string] $Suffix) {
    $file = if ($Item.ScriptBlock -and $Item.ScriptBlock.File) { [IO.Path]::GetFileName($Item.ScriptBlock.File) + ': ' } else { '' }
    "$file$($Item.ExpandedPath)$Suffix"
}

function Get-FailureMessage($ErrorRecords) {
    $messages = @($ErrorRecords | ForEach-Object { $_.Exception.Message })
    if ($messages) { $messages -join "`n" } else { '(no message)' }
}

# A failed BeforeAll or AfterAll fails its block, a file that cannot be discovered or run fails its container: each
# is one failure, named by its path, and the tests that failed with it (they carry no error of their own) are counted
# in its line instead of each having one.
$failures = [Collections.Generic.List[object]]::new()
$followers = @{}
foreach ($test in $result.Failed) {
    if ($test.ErrorRecord.Count -gt 0) {
        $failures.Add([pscustomobject]@{ Name = Get-FailureName $test; Message = Get-FailureMessage $test.ErrorRecord })
    }
    else {
        $file = "$($test.ScriptBlock.File)"
        $followers[$file] = 1 + $(if ($followers.ContainsKey($file)) { $followers[$file] } else { 0 })
    }
}
$causes = @($result.FailedBlocks | ForEach-Object { @{ File = "$($_.ScriptBlock.File)"; Name = Get-FailureName $_ ' (set-up or clean-up)'; Errors = $_.ErrorRecord } }) +
@($result.FailedContainers | ForEach-Object { @{ File = "$($_.Item)"; Name = [IO.Path]::GetFileName("$($_.Item)") + ' (the file''s set-up or discovery)'; Errors = $_.ErrorRecord } })
foreach ($cause in $causes) {
    $message = Get-FailureMessage $cause.Errors
    if ($followers.ContainsKey($cause.File)) {
        $message += " ($($followers[$cause.File]) test(s) of the file failed with it)"
        $followers.Remove($cause.File)
    }
    $failures.Add([pscustomobject]@{ Name = $cause.Name; Message = $message })
}
foreach ($file in $followers.Keys) {
    $failures.Add([pscustomobject]@{ Name = [IO.Path]::GetFileName($file); Message = "$($followers[$file]) test(s) failed without an error of their own" })
}

[pscustomobject]@{
    Passed   = $result.PassedCount
    Failed   = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped  = $result.SkippedCount
    Failures = @($failures)
} | ConvertTo-Json -Depth 3 | Set-Content -Path $ResultPath
exit 0
