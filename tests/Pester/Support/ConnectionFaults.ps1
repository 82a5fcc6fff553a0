# Helpers for tests that break a running SSH connection on purpose; dot-source in BeforeAll after starting the test
# sshd into $server (Start-RemoteTestSession of Support/RemoteTestSession.ps1).

function Write-RandomFile([string] $Path, [long] $Length, [int] $Seed) {
    $rng = [Random]::new($Seed)
    $buffer = [byte[]]::new(1MB)
    $stream = [IO.File]::Create($Path)
    try {
        for ($done = 0L; $done -lt $Length; $done += $buffer.Length) {
            $rng.NextBytes($buffer)
            $stream.Write($buffer, 0, [int][Math]::Min($buffer.Length, $Length - $done))
        }
    }
    finally { $stream.Dispose() }
}

# Every process below the test sshd (the listener's children serve the connections; below them the shells and the
# agent), from /proc: pid, parent and command name.
function Get-ServerDescendants {
    $table = foreach ($stat in Get-ChildItem /proc -Directory -ErrorAction Ignore | Where-Object Name -Match '^\d+$') {
        try { $text = [IO.File]::ReadAllText("$($stat.FullName)/stat") } catch { continue }
        $close = $text.LastIndexOf(')')
        $fields = $text.Substring($close + 2).Split(' ')
        [pscustomobject]@{ Id = [int]$stat.Name; Parent = [int]$fields[1]; Name = $text.Substring($text.IndexOf('(') + 1, $close - $text.IndexOf('(') - 1) }
    }
    $found = [Collections.Generic.List[object]]::new()
    $parents = [Collections.Generic.HashSet[int]]::new([int[]]@($server.Process.Id))
    do {
        $next = @($table | Where-Object { $parents.Contains($_.Parent) -and -not $parents.Contains($_.Id) })
        foreach ($p in $next) { $found.Add($p); $null = $parents.Add($p.Id) }
    } while ($next.Count -gt 0)
    $found
}

function Wait-Until([scriptblock] $Condition, [string] $What, [double] $Seconds = 60) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while (-not (& $Condition)) {
        if ($clock.Elapsed.TotalSeconds -gt $Seconds) { throw "Timed out after $Seconds s waiting for: $What" }
        Start-Sleep -Milliseconds 20
    }
}

# Runs Sync-Directory in a runspace of its own; returns the PowerShell instance and its handle. The result is
# 'completed' or the terminating ErrorRecord.
function Start-BackgroundSync([string] $Source, [string] $Destination, [hashtable] $Parameters) {
    # A new runspace starts without the module: it imports the one this session has loaded.
    $modulePath = (Get-Module PSReplica).Path
    $ps = [powershell]::Create()
    $null = $ps.AddScript({
            param($module, $source, $destination, $parameters)
            Import-Module $module
            try { $null = Sync-Directory -Path $source -Destination $destination @parameters -ErrorAction Stop; 'completed' } catch { $_ }
        }).AddArgument($modulePath).AddArgument($Source).AddArgument($Destination).AddArgument($Parameters)
    [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
}

function Receive-BackgroundSync($Job, [double] $Seconds = 120) {
    try {
        if (-not $Job.Handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($Seconds))) { throw "The sync did not end within $Seconds s of the connection being killed." }
        @($Job.PowerShell.EndInvoke($Job.Handle))[0]
    }
    finally { $Job.PowerShell.Dispose() }
}

# Kills (SIGKILL) the sshd processes serving connections, so that the TCP connection drops as in a network failure
# or a server crash; then waits until the agents they ran have gone (they see their pipes close).
function Stop-SshConnections {
    $serving = @(Get-ServerDescendants | Where-Object Name -EQ 'sshd')
    $serving.Count | Should -BeGreaterThan 0 -Because 'a connection is being served'
    foreach ($p in $serving) { Stop-Process -Id $p.Id -Force -ErrorAction Ignore }
    Wait-Until { @(Get-ServerDescendants).Count -eq 0 } 'the server side of the connection to end'
}
