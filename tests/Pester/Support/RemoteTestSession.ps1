# The set-up the Pester files that run against the private sshd of TestSshServer.psm1 share. Dot-source it in the
# file's BeforeAll, call Start-RemoteTestSession there (or its parts, for a file whose server is started differently)
# and Stop-RemoteTestSession in AfterAll. Functions below that read $server, $work or $ssh find them in that BeforeAll's
# scope, which every test of the file sees.
Import-Module (Join-Path $PSScriptRoot 'TestSshServer.psm1') -Force
# For Get-TreeSnapshot and Compare-TreeSnapshot (Assert-SameTree).
Import-Module (Join-Path $PSScriptRoot 'RandomTree.psm1') -Force
. (Join-Path $PSScriptRoot 'HostedPowerShell.ps1')

function New-TestWorkDirectory([string] $Prefix) {
    # Under the system temp directory, not $TestDrive: Pester's clean-up of $TestDrive follows symbolic links to
    # directories, and Stop-RemoteTestSession removes it with rm, which does not.
    $path = Join-Path ([IO.Path]::GetTempPath()) ($Prefix + '-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $path
    $path
}

# The Sync-Directory parameters that log in to $Server with its key and check its host key.
function Get-SshLoginParameters([psobject] $Server) {
    @{ Port = $Server.Port; KeyFilePath = $Server.KeyPath; KnownHostsPath = $Server.KnownHostsPath }
}

function Start-RemoteTestSession {
    <# Starts a test sshd and makes a work directory named psr-<Name>-<guid>; sets $server, $work and $ssh (the login
       parameters for $server) in the calling scope, the file's BeforeAll, so that its tests read them as their own. #>
    param([Parameter(Mandatory)] [string] $Name)
    $started = Start-TestSshServer
    # Set first: if anything below fails, AfterAll still stops the server.
    Set-Variable -Scope 1 -Name server -Value $started
    Set-Variable -Scope 1 -Name work -Value (New-TestWorkDirectory "psr-$Name")
    Set-Variable -Scope 1 -Name ssh -Value (Get-SshLoginParameters $started)
}

function Stop-RemoteTestSession {
    <# Stops the servers and removes the work directory. AfterAll runs after a BeforeAll that failed part way too, so
       what was never made is passed over. #>
    param([psobject[]] $Server, [string] $Work)
    foreach ($one in $Server) { if ($one) { Stop-TestSshServer -Server $one } }
    # rm -rf removes symbolic links, never what they point to.
    if ($Work -and (Test-Path -LiteralPath $Work)) { & rm -rf -- $Work }
}

# The user@host:path form of a path on the test server ($server unless another is given).
function Get-RemoteAddress([string] $Path, [psobject] $SshServer = $server) { "$($SshServer.User)@$($SshServer.Host):$Path" }

# A first push deploys the agent (over SFTP) into the server's cache, so that nothing a test later times or kills
# includes the deployment.
function Invoke-WarmUpPush {
    $warm = Join-Path $work 'warm'
    $null = New-Item -ItemType Directory -Path $warm
    Set-Content -Path (Join-Path $warm 'w.txt') -Value 'warm'
    $null = Sync-Directory -Path $warm -Destination (Get-RemoteAddress (Join-Path $work 'warm-dst')) @ssh -ErrorAction Stop
}

# Debian's rsync over ssh to the test server (rsync -e with the server's ssh_config), for the tests that compare with
# it; a failure throws with rsync's output.
function Invoke-RsyncOverSsh([string[]] $Arguments) {
    $output = & rsync -e $server.SshCommand @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "rsync $Arguments failed with ${LASTEXITCODE}: $output" }
}

# The terminating error $Script ends with, or $null: for asserting on the ErrorId of a run that must fail.
function Get-TerminatingError([scriptblock] $Script) {
    try { & $Script; $null } catch { $_ }
}

function Get-ComparableSnapshot([string] $Path, [switch] $IgnoreLinkAttributes) {
    # Link counts are left out: a replica need not share inodes the way its source does.
    $snapshot = Get-TreeSnapshot $Path -IgnoreLinkCount
    if ($IgnoreLinkAttributes) {
        # SFTP cannot set a symbolic link's own time or owner: the link keeps the server's.
        foreach ($record in $snapshot.Values) {
            if ($record.type -eq 'l') { $record.Remove('mtime'); $record.Remove('owner') }
        }
    }
    $snapshot
}

# Fails with the list of differences (type, mode, owner, time, size, content, link target) between two trees.
function Assert-SameTree([string] $Expected, [string] $Actual, [switch] $IgnoreLinkAttributes) {
    $differences = Compare-TreeSnapshot (Get-ComparableSnapshot $Expected -IgnoreLinkAttributes:$IgnoreLinkAttributes) (Get-ComparableSnapshot $Actual -IgnoreLinkAttributes:$IgnoreLinkAttributes) -ReferenceName source -DifferenceName replica
    $differences -join "`n" | Should -BeNullOrEmpty
}

# Runs Sync-Directory with -WhatIf in a runspace of its own whose host (CmdletTestHost.cs) keeps the lines it is
# given, and returns them: a test checks the "What if:" lines instead of leaving them in the run's log.
function Invoke-SyncWhatIf([hashtable] $Parameters) {
    $hosted = New-HostedPowerShell
    try {
        $output = $hosted.PS.AddCommand('Sync-Directory').AddParameters($Parameters).AddParameter('WhatIf').AddParameter('ErrorAction', 'Stop').Invoke()
        [pscustomobject]@{ Output = @($output); WhatIf = @($hosted.UI.Lines | Where-Object { $_ -like 'What if:*' }) }
    }
    finally {
        $hosted.PS.Runspace.Dispose()
        $hosted.PS.Dispose()
    }
}

# The agent file this module deploys to the test server (this machine): the native agent of this machine's platform
# when the module has one (a full build), else the managed agent (a build without native agents).
function Get-DeployedAgentFile {
    $moduleBase = Split-Path (Get-Module PSReplica).Path
    $rid = switch ((& uname -m)) { 'x86_64' { 'linux-x64' } 'aarch64' { 'linux-arm64' } default { '' } }
    $native = Join-Path $moduleBase "agent/native/$rid/psreplica-agent"
    if ($rid -and (Test-Path -LiteralPath $native)) {
        [pscustomobject]@{ Name = 'psreplica-agent'; Local = $native; Process = 'psreplica-agent'; Description = "native $rid agent" }
    }
    else {
        [pscustomobject]@{ Name = 'PSReplica.Agent.dll'; Local = (Join-Path $moduleBase 'agent/PSReplica.Agent.dll'); Process = 'dotnet'; Description = 'agent' }
    }
}
