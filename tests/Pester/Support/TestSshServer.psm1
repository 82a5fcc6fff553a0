# An OpenSSH sshd for tests: 127.0.0.1 at a free high port, host keys (ed25519, ecdsa, rsa) and a user key generated
# per run into a temp directory, key login for the current user, an SFTP subsystem. Mirrors the xunit fixture
# tests/PSReplica.Ssh.Tests/Support/TestSshServer.cs. Needs /usr/sbin/sshd and ssh-keygen (.ci/run installs them).
Set-StrictMode -Version Latest

function Invoke-SshKeyGen {
    param([string] $Path, [string] $Type)
    $bits = if ($Type -eq 'rsa') { @('-b', '2048') } else { @() }
    $output = & ssh-keygen -q -t $Type @bits -N '' -C 'psreplica-test' -f $Path 2>&1
    if ($LASTEXITCODE -ne 0) { throw "ssh-keygen -t $Type failed: $output" }
}

function Get-FreeTcpPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Start-TestSshServer {
    <#
    .SYNOPSIS
        Starts a private sshd and returns how to reach it.
    .PARAMETER ExtraConfig
        More sshd_config lines, appended after the defaults.
    .OUTPUTS
        An object with Host, Port, User, KeyPath, OtherKeyPath (not authorized), KnownHostsPath (records the server's
        ed25519 key), ConfigPath (an ssh_config whose Host alias 'psreplica-test' reaches the server by key in batch
        mode), Alias, SshCommand (for rsync -e / -SshCommand), Root (the temp directory), Home (the sessions' HOME) and
        Process.
    .PARAMETER SessionEnvironment
        Variables sshd sets in every session (its SetEnv). They override what sshd takes from the account. HOME
        defaults to Root/home, not the account's home; @{ HOME = $HOME } gives sessions the account's real login.
    .PARAMETER WithoutDotnet
        A server where no .NET runtime is reachable, as the xunit fixture's TestSshServer.WithoutDotnet(): sshd runs in
        a mount namespace of its own (unshare -m, root only) in which the runtime's usual folders, ~/.dotnet,
        $DOTNET_ROOT and the folder this process's dotnet resolves to are covered by empty tmpfs mounts, for sshd and
        every session. The rest of the machine keeps its runtime. Process is sshd itself (unshare and the shell exec it).
    #>
    [CmdletBinding()]
    param(
        [System.Collections.IDictionary] $SessionEnvironment = @{},
        # More sshd_config lines, e.g. 'ForceCommand internal-sftp' for a server that allows SFTP only.
        [string[]] $ExtraConfig = @(),
        [switch] $WithoutDotnet
    )
    $root = Join-Path ([IO.Path]::GetTempPath()) ("psr-sshd-" + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $root
    foreach ($type in 'ed25519', 'ecdsa', 'rsa') { Invoke-SshKeyGen -Path (Join-Path $root "ssh_host_${type}_key") -Type $type }
    $keyPath = Join-Path $root 'id_ed25519'
    Invoke-SshKeyGen -Path $keyPath -Type 'ed25519'
    $otherKeyPath = Join-Path $root 'id_other'
    Invoke-SshKeyGen -Path $otherKeyPath -Type 'ed25519'
    Copy-Item "$keyPath.pub" (Join-Path $root 'authorized_keys')

    # sshd's privilege separation needs its empty directory, writable by root alone (a stock install makes it at boot);
    # made with its mode given, not left to the umask, which sshd refuses when it is 0.
    if ([Environment]::UserName -eq 'root' -and -not (Test-Path '/run/sshd')) { & mkdir -m 755 -- /run/sshd }

    # A home of the server's own unless the caller names one: the login shell then reads no ~/.bashrc of the machine's
    # account (on the CI image it runs `pyenv init`, whose rehash lock, left by a login killed in the middle of it,
    # makes every later login wait 60 s), and the agent is deployed into this server's temp directory.
    $environment = [ordered]@{}
    foreach ($name in $SessionEnvironment.Keys) { $environment[$name] = $SessionEnvironment[$name] }
    if (-not $environment.Contains('HOME')) {
        $environment['HOME'] = Join-Path $root 'home'
        $null = New-Item -ItemType Directory -Path $environment['HOME']
    }

    $port = Get-FreeTcpPort
    $config = Join-Path $root 'sshd_config'
    @(
        "Port $port"
        'ListenAddress 127.0.0.1'
        "HostKey $root/ssh_host_ed25519_key"
        "HostKey $root/ssh_host_ecdsa_key"
        "HostKey $root/ssh_host_rsa_key"
        "PidFile $root/sshd.pid"
        "AuthorizedKeysFile $root/authorized_keys"
        'StrictModes no'
        'PermitRootLogin prohibit-password'
        'PubkeyAuthentication yes'
        'PasswordAuthentication yes'
        'KbdInteractiveAuthentication no'
        'UsePAM no'
        'MaxStartups 100:30:200'
        'MaxSessions 50'
        'Subsystem sftp internal-sftp'
        'LogLevel ERROR'
        foreach ($name in $environment.Keys) { "SetEnv `"$name=$($environment[$name])`"" }
        $ExtraConfig
    ) | Set-Content -Path $config

    $log = Join-Path $root 'sshd.log'
    if ($WithoutDotnet) {
        # Start-Process joins its arguments with blanks, unquoted, so the folders go into a script rather than onto
        # the command line. unshare makes the new namespace's mounts private; a folder that does not exist needs no cover.
        $hidden = [Collections.Generic.List[string]]@('/usr/share/dotnet', '/usr/lib/dotnet', '/usr/local/share/dotnet', '/opt/dotnet',
            (Join-Path ([Environment]::GetFolderPath('UserProfile')) '.dotnet'))
        if ($env:DOTNET_ROOT) { $hidden.Add($env:DOTNET_ROOT) }
        # The dotnet running this pwsh, through any links (/usr/bin/dotnet -> /usr/share/dotnet/dotnet).
        $running = [Environment]::ProcessPath
        if ($running -and [IO.Path]::GetFileNameWithoutExtension($running) -eq 'dotnet') {
            $target = [IO.FileInfo]::new($running).ResolveLinkTarget($true)
            $hidden.Add((Split-Path -Parent $(if ($target) { $target.FullName } else { $running })))
        }
        $quoted = @($hidden | Select-Object -Unique | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" })
        $wrapper = Join-Path $root 'sshd-without-dotnet.sh'
        @(
            "for d in $($quoted -join ' '); do"
            '    if [ -d "$d" ]; then mount -t tmpfs -o size=1m tmpfs "$d" || exit 1; fi'
            'done'
            "exec /usr/sbin/sshd -D -e -f '$config'"
        ) | Set-Content -Path $wrapper
        $process = Start-Process -FilePath '/usr/bin/unshare' -ArgumentList @('-m', '/bin/sh', $wrapper) -RedirectStandardError $log -PassThru
    }
    else {
        $process = Start-Process -FilePath '/usr/sbin/sshd' -ArgumentList @('-D', '-e', '-f', $config) -RedirectStandardError $log -PassThru
    }

    # Readiness: poll until sshd sends its identification line.
    $deadline = [Diagnostics.Stopwatch]::StartNew()
    $ready = $false
    while (-not $ready -and $deadline.Elapsed.TotalSeconds -lt 30) {
        if ($process.HasExited) { throw "sshd exited with $($process.ExitCode): $(Get-Content -Raw $log)" }
        $client = [System.Net.Sockets.TcpClient]::new()
        try {
            $client.Connect([System.Net.IPAddress]::Loopback, $port)
            $client.ReceiveTimeout = 5000
            $buffer = [byte[]]::new(4)
            $ready = $client.GetStream().ReadAtLeast($buffer, 4, $false) -eq 4 -and [Text.Encoding]::ASCII.GetString($buffer) -eq 'SSH-'
        }
        catch [System.Net.Sockets.SocketException], [System.IO.IOException] { }
        finally { $client.Dispose() }
        if (-not $ready) { Start-Sleep -Milliseconds 50 }
    }
    if (-not $ready) {
        Stop-Process -Id $process.Id -Force -ErrorAction SilentlyContinue
        throw "sshd did not listen on port $port within 30 s: $(Get-Content -Raw $log)"
    }

    $knownHosts = Join-Path $root 'known_hosts'
    $hostKey = (Get-Content -Raw "$root/ssh_host_ed25519_key.pub").Trim().Split(' ')
    "[127.0.0.1]:$port $($hostKey[0]) $($hostKey[1])" | Set-Content -Path $knownHosts
    $user = [Environment]::UserName
    $clientConfig = Join-Path $root 'ssh_config'
    @(
        'Host psreplica-test'
        '  HostName 127.0.0.1'
        "  Port $port"
        "  User $user"
        "  IdentityFile $keyPath"
        '  IdentitiesOnly yes'
        "  UserKnownHostsFile $knownHosts"
        '  StrictHostKeyChecking yes'
        '  BatchMode yes'
    ) | Set-Content -Path $clientConfig

    [pscustomobject]@{
        PSTypeName     = 'PSReplica.TestSshServer'
        Host           = '127.0.0.1'
        Port           = $port
        User           = $user
        KeyPath        = $keyPath
        OtherKeyPath   = $otherKeyPath
        KnownHostsPath = $knownHosts
        ConfigPath     = $clientConfig
        Alias          = 'psreplica-test'
        SshCommand     = "ssh -F '$clientConfig'"
        Root           = $root
        Home           = $environment['HOME']
        Process        = $process
    }
}

function Stop-TestSshServer {
    <#
    .SYNOPSIS
        Stops the sshd of Start-TestSshServer (kill, wait) and removes its directory.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline)] [psobject] $Server)
    process {
        $process = $Server.Process
        if (-not $process.HasExited) { $process.Kill($true) }
        $process.WaitForExit()
        $process.Dispose()
        if (Test-Path -LiteralPath $Server.Root) { Remove-Item -LiteralPath $Server.Root -Recurse -Force }
    }
}

Export-ModuleMember -Function Start-TestSshServer, Stop-TestSshServer
