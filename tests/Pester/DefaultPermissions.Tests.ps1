# New items without -Preserve Permissions against Debian's rsync without -p (rsync -rt): the receiver limits a new
# item's mode by the default ACL of the directory it is made in, else by its own umask (rsync's dest_mode), so a
# destination whose directories carry default ACLs gets the modes and inherited ACLs those ACLs ask for, locally, on a
# pull and on a push through the agent; and a push from a controller whose umask differs from the server's gets the
# server's, as rsync's remote receiver does. The trees are compared with getfacl (modes and ACL entries) and stat.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force
    . (Join-Path $PSScriptRoot 'Support/RemoteTestSession.ps1')
    Start-RemoteTestSession 'defaultperms'
    Invoke-WarmUpPush
    $script:Module = $env:PSREPLICA_MODULE

    function New-Source([string] $Path) {
        # Modes that a umask or a default ACL cut differently: world-writable, executable, group-only, special bits.
        $null = New-Item -ItemType Directory -Path (Join-Path $Path 'open'), (Join-Path $Path 'tight/deeper')
        $modes = [ordered]@{ 'f666' = '666'; 'x755' = '755'; 'g640' = '640'; 'open/w777' = '777'; 'tight/p600' = '600'; 'tight/deeper/s4755' = '4755' }
        foreach ($name in $modes.Keys) {
            $file = Join-Path $Path $name
            [IO.File]::WriteAllText($file, "file $name`n")
            & chmod $modes[$name] -- $file
        }
        & chmod 777 -- (Join-Path $Path 'open')
        & chmod 750 -- (Join-Path $Path 'tight')
        & chmod 2775 -- (Join-Path $Path 'tight/deeper')
    }

    function New-Destination([string] $Path, [switch] $DefaultAcl) {
        $null = New-Item -ItemType Directory -Path $Path
        # Owner rwx, a named user (the mask becomes rwx), owning group r-x, others nothing.
        if ($DefaultAcl) { & setfacl -d -m 'u::rwx,u:nobody:rwx,g::r-x,o::---' -- $Path; $LASTEXITCODE | Should -Be 0 }
    }

    function Get-PermissionListing([string] $Path) {
        # Every item's mode and ACL entries (access and default), by relative path.
        Push-Location -LiteralPath $Path
        try {
            $acls = & getfacl -R -p -- . 2>&1 | Where-Object { $_ -notmatch '^# (owner|group):' }
            $modes = & find . -mindepth 1 -printf '%p %m\n' | Sort-Object
            @($modes) + @($acls)
        }
        finally { Pop-Location }
    }

    function Assert-SamePermissions([string] $Expected, [string] $Actual) {
        $difference = Compare-Object (Get-PermissionListing $Expected) (Get-PermissionListing $Actual) -SyncWindow 0
        @($difference | ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" }) | Should -BeNullOrEmpty
    }

    function Invoke-Both([string] $Direction, [string] $Source, [string] $RsyncDest, [string] $PsrDest) {
        $rsyncSource = if ($Direction -eq 'pull') { "$($server.Alias):$Source/" } else { "$Source/" }
        $rsyncTarget = if ($Direction -eq 'push') { "$($server.Alias):$RsyncDest" } else { $RsyncDest }
        $output = & rsync -rt -e $server.SshCommand -- $rsyncSource $rsyncTarget 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$output"
        $psrSource = if ($Direction -eq 'pull') { Get-RemoteAddress "$Source/" } else { "$Source/" }
        $psrTarget = if ($Direction -eq 'push') { Get-RemoteAddress $PsrDest } else { $PsrDest }
        $parameters = if ($Direction -eq 'local') { @{} } else { $ssh }
        $null = Sync-Directory -Path $psrSource -Destination $psrTarget -Preserve Times @parameters -ErrorAction Stop
    }
}

AfterAll { Stop-RemoteTestSession $server $work }

Describe 'New items without -Preserve Permissions, as rsync -rt gives them' {
    It 'a <_> run into a directory with a default ACL gives the modes and ACLs rsync''s receiver gives' -ForEach 'local', 'push', 'pull' {
        $root = Join-Path $work "acl-$_"
        New-Source (Join-Path $root 'src')
        New-Destination (Join-Path $root 'rsync') -DefaultAcl
        New-Destination (Join-Path $root 'psreplica') -DefaultAcl
        Invoke-Both $_ (Join-Path $root 'src') (Join-Path $root 'rsync') (Join-Path $root 'psreplica')
        Assert-SamePermissions (Join-Path $root 'rsync') (Join-Path $root 'psreplica')
        # The default ACL took others' bits away, the umask alone would have left them.
        & stat -c '%a' -- (Join-Path $root 'psreplica/f666') | Should -Be '660'
        & stat -c '%a' -- (Join-Path $root 'psreplica/open') | Should -Be '770'
    }

    It 'a <_> run into a directory without one gives the receiver''s umask' -ForEach 'local', 'push', 'pull' {
        $root = Join-Path $work "plain-$_"
        New-Source (Join-Path $root 'src')
        New-Destination (Join-Path $root 'rsync')
        New-Destination (Join-Path $root 'psreplica')
        Invoke-Both $_ (Join-Path $root 'src') (Join-Path $root 'rsync') (Join-Path $root 'psreplica')
        Assert-SamePermissions (Join-Path $root 'rsync') (Join-Path $root 'psreplica')
    }

    It 'a push from a controller whose umask differs from the server''s gives the server''s, as rsync''s remote receiver' {
        $root = Join-Path $work 'controller-umask'
        New-Source (Join-Path $root 'src')
        New-Destination (Join-Path $root 'rsync')
        New-Destination (Join-Path $root 'psreplica')
        # The server's sessions have this process's umask (sshd inherits it); the controller gets another.
        $serverUmask = (& sh -c umask).Trim()
        $controllerUmask = if ($serverUmask -eq '0077') { '022' } else { '077' }
        $output = & sh -c "umask $controllerUmask; exec rsync -rt -e ""`$0"" -- ""`$1/"" ""`$2""" $server.SshCommand (Join-Path $root 'src') "$($server.Alias):$(Join-Path $root 'rsync')" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$output"
        $script = @'
param($Module, $Source, $Target, $Port, $Key, $KnownHosts)
Import-Module $Module
$null = Sync-Directory -Path "$Source/" -Destination $Target -Preserve Times -Port $Port -KeyFilePath $Key -KnownHostsPath $KnownHosts -ErrorAction Stop
'@
        $scriptPath = Join-Path $root 'push.ps1'
        Set-Content -LiteralPath $scriptPath -Value $script
        # This pwsh again: through dotnet (as build.ps1 runs the tests) or its own executable.
        $pwsh = (Get-Process -Id $PID).Path
        $arguments = @(if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' }) + @('-NoProfile', '-NonInteractive', '-File', $scriptPath, $script:Module, (Join-Path $root 'src'),
            (Get-RemoteAddress (Join-Path $root 'psreplica')), $server.Port, $server.KeyPath, $server.KnownHostsPath)
        $output = & sh -c "umask $controllerUmask; exec ""`$@""" sh $pwsh @arguments 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$output"
        Assert-SamePermissions (Join-Path $root 'rsync') (Join-Path $root 'psreplica')
        # Not the controller's: with 077 a new 0666 file would be 0600.
        $expected = [Convert]::ToString(0x1B6 -band -bnot [Convert]::ToInt32($serverUmask, 8), 8)
        & stat -c '%a' -- (Join-Path $root 'psreplica/f666') | Should -Be $expected
    }
}
