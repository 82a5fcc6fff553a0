using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Client;

/// <summary>How the controller runs a session with an agent.</summary>
internal sealed record AgentClientOptions
{
    /// <summary>How long the agent may take to answer each step of the handshake.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = ProtocolLimits.DefaultHandshakeTimeout;

    /// <summary>How long either side may stay silent (-Timeout); keep-alives are sent at a third of it.
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> turns it off.</summary>
    public TimeSpan IdleTimeout { get; init; } = ProtocolLimits.DefaultIdleTimeout;

    /// <summary>Deflate level 1 to 9 for file data and listings in both directions (-Compress, -CompressionLevel); 0 for none.
    /// Files whose names say they are compressed already are sent as they are.</summary>
    public int CompressionLevel { get; init; }

    /// <summary>Bytes per second each side may send (-BandwidthLimit in KiB/s times 1024); 0 for no limit.</summary>
    public long BandwidthLimit { get; init; }

    /// <summary>Receives the agent's log lines.</summary>
    public Action<string>? Log { get; init; }
}
