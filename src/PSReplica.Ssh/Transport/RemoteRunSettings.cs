namespace PSReplica.Ssh.Transport;

/// <summary>One run over SSH: where the server is and how to log in, which side is remote, how to reach its tree, and the
/// agent's wire options.</summary>
public sealed record RemoteRunSettings
{
    public required RemoteConnectionSettings Connection { get; init; }

    /// <summary>Source: a pull; Destination: a push.</summary>
    public required RemoteSide Side { get; init; }

    /// <summary>Auto: the agent, else SFTP with a warning; Agent: the agent or an error; Sftp: SFTP only.</summary>
    public RemoteTransport Transport { get; init; }

    /// <summary>The deflate level 1 to 9 for data and listings on the agent's wire; 0: no compression.</summary>
    public int CompressionLevel { get; init; }

    /// <summary>The most each side sends, in bytes per second; 0: no limit.</summary>
    public long BandwidthLimit { get; init; }
}
