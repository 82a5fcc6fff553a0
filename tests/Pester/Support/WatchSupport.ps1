# Sync-Directory -Watch in a pipeline of its own, for the -Watch tests (Watch.Tests.ps1, WatchRemote.Tests.ps1): start it,
# wait for the items it writes (bounded waits for the items themselves, never sleeps), stop it as Ctrl+C does.
# Dot-source it after CmdletTestSupport.ps1 (New-PlainPowerShell, and [PSReplicaTests.ItemWatcher]).
$script:Bound = [timespan]::FromSeconds(60)

function Start-Watch([string] $Source, [string] $Destination, [hashtable] $More = @{}) {
    $ps = New-PlainPowerShell
    $null = $ps.AddCommand('Sync-Directory').AddParameter('Path', $Source).AddParameter('Destination', $Destination).AddParameter('Watch')
    foreach ($key in $More.Keys) { $null = $ps.AddParameter($key, $More[$key]) }
    $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $items = [PSReplicaTests.ItemWatcher]::new($output)
    # No pipeline input: the input ends at once, or the command would wait for it.
    $inputs = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $inputs.Complete()
    $async = $ps.BeginInvoke($inputs, $output)
    [pscustomobject]@{ PowerShell = $ps; Items = $items; Async = $async; Output = $output }
}

# What a running watch's stream holds, read by index: enumerating a running pipeline's stream waits for the pipeline to end.
function Get-WatchStream($Watch, [string] $Name) {
    $stream = $Watch.PowerShell.Streams.$Name
    @(for ($i = 0; $i -lt $stream.Count; $i++) { $stream[$i] })
}

function Wait-Item($Watch, [string] $Action, [string] $RelativePath) {
    $seen = $Watch.Items.WaitFor($Action, $RelativePath, $script:Bound, $Watch.Async.AsyncWaitHandle)
    $errors = @(Get-WatchStream $Watch Error | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" })
    $seen | Should -BeTrue -Because "'$Action $RelativePath' must be written (seen: $($Watch.Items.Seen -join '; '); errors: $($errors -join '; '); state: $($Watch.PowerShell.InvocationStateInfo.State) $($Watch.PowerShell.InvocationStateInfo.Reason))"
}

function Stop-Watch($Watch) {
    try {
        $Watch.PowerShell.Stop()
        $Watch.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
    }
    finally {
        $Watch.Items.Dispose()
        $Watch.PowerShell.Dispose()
    }
}

# For a stop during a transfer (with -BandwidthLimit 64, 2 MiB take half a minute): puts a 2 MiB file into the watched
# source in one step (written in $Staging, renamed in) and waits until its temporary file appears in $Destination.
# Needs ConnectionFaults.ps1 (Write-RandomFile, Wait-Until).
function Start-BusyTransfer([string] $Source, [string] $Destination, [string] $Staging) {
    $staged = Join-Path $Staging 'busy.bin'
    Write-RandomFile $staged (2MB) 17
    Move-Item -LiteralPath $staged -Destination (Join-Path $Source 'big.bin')
    Wait-Until { @(Get-ChildItem -LiteralPath $Destination -Force -Name | Where-Object { $_ -like '.~psr*' }).Count -gt 0 } 'the transfer of big.bin to start'
}
