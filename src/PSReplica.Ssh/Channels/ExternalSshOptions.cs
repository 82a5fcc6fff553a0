namespace PSReplica.Ssh;

/// <summary>How to run the system's ssh client (or a replacement, as rsync's <c>-e</c>) as the transport.</summary>
public sealed class ExternalSshOptions
{
    /// <summary>
    /// The client's command line, split as a shell would split words (quotes group; no expansion), for example
    /// <c>ssh -i ~/.ssh/backup -o Compression=no</c>. Default: <c>ssh</c> from PATH.
    /// </summary>
    public string CommandLine { get; init; } = "ssh";

    /// <summary>The host or ssh config alias; ssh applies its own config (HostName, ProxyJump, agent...).</summary>
    public required string Host { get; init; }

    /// <summary>Passed as <c>-p</c> when set.</summary>
    public int? Port { get; init; }

    /// <summary>Passed as <c>-l</c> when set.</summary>
    public string? User { get; init; }

    /// <summary>More arguments placed before the host (for example <c>-o</c>, <c>BatchMode=yes</c>).</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The longest wait for the peer on the pipe; infinite by default.</summary>
    public TimeSpan IdleTimeout { get; init; } = System.Threading.Timeout.InfiniteTimeSpan;
}
