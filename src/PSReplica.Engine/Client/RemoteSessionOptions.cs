using PSReplica.Engine.Protocol;

namespace PSReplica;

/// <summary>How a remote run talks to its agent (the cmdlets' -Timeout, -Compress, -CompressionLevel, -BandwidthLimit).</summary>
public sealed record RemoteSessionOptions
{
    /// <summary>How long the agent may stay silent before the run fails with PeerTimeout;
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for no limit.</summary>
    public TimeSpan IdleTimeout { get; init; } = ProtocolLimits.DefaultIdleTimeout;

    /// <summary>How long each handshake step may take.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = ProtocolLimits.DefaultHandshakeTimeout;

    /// <summary>Deflate level 1..9 for file data and listings; 0 sends them as they are.</summary>
    public int CompressionLevel { get; init; }

    /// <summary>Bytes per second each side may send; 0 for no limit.</summary>
    public long BandwidthLimit { get; init; }

    /// <summary>Receives the agent's log lines.</summary>
    public Action<string>? Log { get; init; }
}
