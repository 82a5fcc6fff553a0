using System;
using System.Collections.Generic;
using System.Security;
using PSReplica.Ssh;

namespace PSReplica.Commands;

/// <summary>How to reach the server and start the agent, from the cmdlets' remote parameters.</summary>
internal sealed record RemoteConnectionSettings
{
    public required RemotePath Remote { get; init; }

    public int? Port { get; init; }

    public string? User { get; init; }

    public SecureString? Password { get; init; }

    public IReadOnlyList<string>? KeyFilePaths { get; init; }

    public string? KnownHostsPath { get; init; }

    public bool AcceptNewHostKey { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan IdleTimeout { get; init; } = System.Threading.Timeout.InfiniteTimeSpan;

    public string? RemoteCommand { get; init; }

    public string? SshCommand { get; init; }
}
