# A PowerShell instance whose host (CmdletTestHost.cs) keeps the lines it is given; dot-source it. Shared by the cmdlet
# tests (CmdletTestSupport.ps1) and the remote tests (RemoteTestSession.ps1), which do not run under strict mode.

if (-not ('PSReplicaTests.CmdletTestHost' -as [type])) {
    Add-Type -Path (Join-Path $PSScriptRoot 'CmdletTestHost.cs')
}

function New-HostedPowerShell {
    <# A PowerShell instance whose runspace has a CmdletTestHost and the module imported. Returns @{ PS; Host }. #>
    $testHost = [PSReplicaTests.CmdletTestHost]::new()
    $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
    $iss.ImportPSModule([string[]]@($env:PSREPLICA_MODULE))
    $runspace = [runspacefactory]::CreateRunspace($testHost, $iss)
    $runspace.Open()
    $ps = [powershell]::Create()
    $ps.Runspace = $runspace
    [pscustomobject]@{ PS = $ps; Host = $testHost; UI = $testHost.TestUI }
}
