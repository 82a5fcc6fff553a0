using System.Security;

namespace PSReplica.Ssh.Transport;

/// <summary>How to reach the server and start the agent there: plain values, resolved by the caller (the cmdlets
/// resolve PowerShell paths and parameters into these).</summary>
public sealed record RemoteConnectionSettings
{
    /// <summary>The server and the path on it.</summary>
    public required RemotePath Remote { get; init; }

    /// <summary>The port; null: the address's port, the ssh config's Port, else 22.</summary>
    public int? Port { get; init; }

    /// <summary>The login name; null: the address's user, the ssh config's User, else the local user name.</summary>
    public string? User { get; init; }

    public SecureString? Password { get; init; }

    public IReadOnlyList<string>? KeyFilePaths { get; init; }

    public string? KnownHostsPath { get; init; }

    public bool AcceptNewHostKey { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan IdleTimeout { get; init; } = System.Threading.Timeout.InfiniteTimeSpan;

    /// <summary>The idle timeout a watch keeps when none is given (the protocol's default): both sides ping at a third of
    /// it, and a connection that died quietly is found within it.</summary>
    public static TimeSpan WatchIdleTimeout => Engine.Protocol.ProtocolLimits.DefaultIdleTimeout;

    /// <summary>The command that starts the agent on the server; null: an installed agent, else a deployed one.</summary>
    public string? RemoteCommand { get; init; }

    /// <summary>An ssh client command line used as the pipe to the agent instead of SSH.NET (as rsync -e).</summary>
    public string? SshCommand { get; init; }

    /// <summary>The ssh config file; null: <c>~/.ssh/config</c>; empty: read none.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>The agent's files to deploy to a server that has .NET but no agent; null: the agent/ folder beside this
    /// assembly, where the module keeps them.</summary>
    public string? AgentDirectory { get; init; }
}
