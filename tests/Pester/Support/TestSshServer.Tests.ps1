# The sshd harness for Pester works: the system ssh client logs in through its config and the server stops after.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSshServer.psm1') -Force
}

Describe 'Start-TestSshServer' {
    BeforeAll {
        $server = Start-TestSshServer
    }
    AfterAll {
        if ($server) { Stop-TestSshServer -Server $server }
    }

    It 'serves key logins through the generated ssh config' {
        $output = & ssh -F $server.ConfigPath $server.Alias 'echo psreplica-$((20+22))' 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$output"
        "$output" | Should -Be 'psreplica-42'
    }

    It 'refuses a key it does not authorize' {
        $options = @('-F', '/dev/null', '-o', "UserKnownHostsFile=$($server.KnownHostsPath)", '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes')
        $output = & ssh @options -i $server.OtherKeyPath -p $server.Port "$($server.User)@$($server.Host)" 'true' 2>&1
        $LASTEXITCODE | Should -Be 255
        "$output" | Should -Match 'Permission denied'
    }

    It 'serves the module''s own SSH client (SSH.NET loads in the PowerShell host)' {
        # Until the cmdlets use it, nothing loads the transport assembly by itself: load it from the module folder.
        $moduleDir = Split-Path (Get-Module PSReplica).Path
        Add-Type -Path (Join-Path $moduleDir 'PSReplica.Ssh.dll')
        $options = [PSReplica.Ssh.SshConnectionOptions]@{
            Host = $server.Host; Port = $server.Port; User = $server.User; KeyFilePaths = [string[]]@($server.KeyPath)
            KnownHostsPath = $server.KnownHostsPath; ConfigPath = ''
        }
        $session = [PSReplica.Ssh.SshConnector]::Connect($options, [Threading.CancellationToken]::None)
        try {
            $session.IsConnected | Should -BeTrue
            $session.Negotiation.ServerVersion | Should -Match '^SSH-2.0-OpenSSH'
        }
        finally { $session.Dispose() }
    }

    It 'stops the server and removes its files' {
        $other = Start-TestSshServer
        $other.Port | Should -BeGreaterThan 1023
        $id = $other.Process.Id
        Stop-TestSshServer -Server $other
        Get-Process -Id $id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Test-Path $other.Root | Should -BeFalse
    }
}
