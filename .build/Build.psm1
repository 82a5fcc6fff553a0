# Tasks behind build.ps1. Everything runs from the repository's own files: the .NET SDK, the local tool
# manifest's pwsh, and NuGet packages restored into the repository.

$script:Root = Split-Path $PSScriptRoot -Parent
$script:OutModule = Join-Path $script:Root 'out/PSReplica'
$script:TestResults = Join-Path $script:Root 'out/TestResults'

function Invoke-Native {
    param([Parameter(Mandatory)] [string] $FilePath, [string[]] $ArgumentList)
    & $FilePath @ArgumentList
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

function Invoke-PSReplicaBuild {
    param([string] $Configuration = 'Release')
    Write-Host "Building PSReplica ($Configuration)" -ForegroundColor Cyan
    Invoke-Native dotnet @('build', (Join-Path $script:Root 'PSReplica.sln'), '-c', $Configuration, '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')

    $bin = Join-Path $script:Root "src/PSReplica/bin/$Configuration/net10.0"
    if (Test-Path $script:OutModule) { Remove-Item $script:OutModule -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $script:OutModule
    # Every assembly the cmdlets' project brings (PowerShellStandard.Library is compile-only and not among them).
    Copy-Item (Join-Path $bin '*.dll') $script:OutModule
    Copy-Item (Join-Path $bin 'PSReplica.Format.ps1xml') $script:OutModule
    Copy-Item (Join-Path $bin 'PSReplica.Types.ps1xml') $script:OutModule
    Copy-Item (Join-Path $script:Root 'PSReplica.psd1') $script:OutModule
    # The remote agent, deployed from here to servers that have .NET but no PSReplica (see about_PSReplica).
    $agentBin = Join-Path $script:Root "src/PSReplica.Agent/bin/$Configuration/net10.0"
    $agentOut = Join-Path $script:OutModule 'agent'
    $null = New-Item -ItemType Directory -Path $agentOut
    Copy-Item (Join-Path $agentBin '*') $agentOut -Include '*.dll', '*.json'

    # Help: docs/*.md -> en-US (checked against the built cmdlets), then into the module.
    $enUs = Join-Path $script:Root 'en-US'
    . (Join-Path $PSScriptRoot 'HelpCompiler.ps1')
    Invoke-HelpCompiler -DocsPath (Join-Path $script:Root 'docs') -ModuleManifest (Join-Path $script:OutModule 'PSReplica.psd1') -OutputPath $enUs
    Copy-Item $enUs (Join-Path $script:OutModule 'en-US') -Recurse
    Write-Host "Module laid out in $script:OutModule" -ForegroundColor Cyan
}

function Get-TrxCounts {
    param([string] $Path)
    [xml] $trx = Get-Content -Raw $Path
    $counters = $trx.TestRun.ResultSummary.Counters
    [pscustomobject]@{ Passed = [int]$counters.passed; Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted }
}

function Invoke-PSReplicaTest {
    param([string] $Configuration = 'Release', [string[]] $PesterPath)
    Invoke-PSReplicaBuild -Configuration $Configuration
    if (Test-Path $script:TestResults) { Remove-Item $script:TestResults -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $script:TestResults

    $passed = 0
    $failed = 0
    $failures = @()

    if (-not $PesterPath) {
        # Every xunit project under tests/ (tests/<Name>.Tests/<Name>.Tests.csproj).
        foreach ($project in Get-ChildItem (Join-Path $script:Root 'tests') -Filter '*.Tests.csproj' -Recurse -Depth 1 -File) {
            Write-Host "Running xunit tests: $($project.BaseName)" -ForegroundColor Cyan
            $trx = Join-Path $script:TestResults "$($project.BaseName).trx"
            & dotnet test $project.FullName -c $Configuration --no-build --nologo `
                --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal'
            $xunitExit = $LASTEXITCODE
            $counted = 0
            if (Test-Path $trx) {
                $counts = Get-TrxCounts $trx
                $passed += $counts.Passed
                $failed += $counts.Failed
                $counted = $counts.Failed
                if ($counts.Failed -gt 0) { $failures += "$($project.BaseName): $($counts.Failed) failed" }
            }
            if ($xunitExit -ne 0 -and $counted -eq 0) {
                $failed += 1
                $failures += "$($project.BaseName): dotnet test exited with $xunitExit"
            }
        }
    }

    Write-Host 'Running Pester tests' -ForegroundColor Cyan
    Invoke-Native dotnet @('restore', (Join-Path $script:Root 'tests/Pester/Pester.Restore.csproj'), '--nologo', '-v', 'quiet')
    $pesterJson = Join-Path $script:TestResults 'pester.json'
    $runner = Join-Path $PSScriptRoot 'Invoke-PesterRun.ps1'
    $arguments = @('pwsh', '-NoProfile', '-NonInteractive', '-File', $runner, '-ModuleManifest', (Join-Path $script:OutModule 'PSReplica.psd1'), '-ResultPath', $pesterJson)
    if ($PesterPath) { $arguments += @('-TestPath', ($PesterPath -join ',')) }
    Push-Location $script:Root
    try { & dotnet @arguments } finally { Pop-Location }
    $pesterExit = $LASTEXITCODE
    if (Test-Path $pesterJson) {
        $counts = Get-Content -Raw $pesterJson | ConvertFrom-Json
        $passed += $counts.Passed
        $failed += $counts.Failed
        if ($counts.Failed -gt 0) { $failures += "Pester: $($counts.Failed) failed: $($counts.FailedNames -join '; ')" }
    }
    else {
        $failed += 1
        $failures += "Pester: the run produced no result (exit code $pesterExit)"
    }

    foreach ($failure in $failures) { Write-Host $failure -ForegroundColor Red }
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-PSReplicaDemo {
    param([string] $Configuration = 'Release')
    Invoke-PSReplicaBuild -Configuration $Configuration
    & (Join-Path $PSScriptRoot 'Demo.ps1') -ModuleManifest (Join-Path $script:OutModule 'PSReplica.psd1')
}

Export-ModuleMember -Function Invoke-PSReplicaBuild, Invoke-PSReplicaTest, Invoke-PSReplicaDemo
