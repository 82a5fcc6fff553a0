using System;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Remote;

/// <summary>How the controller runs a session with an agent.</summary>
internal sealed record AgentClientOptions
{
    /// <summary>How long the agent may take to answer each step of the handshake.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = ProtocolLimits.DefaultHandshakeTimeout;

    /// <summary>How long either side may stay silent (-Timeout); keep-alives are sent at a third of it.
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> turns it off.</summary>
    public TimeSpan IdleTimeout { get; init; } = ProtocolLimits.DefaultIdleTimeout;

    /// <summary>Receives the agent's log lines.</summary>
    public Action<string>? Log { get; init; }
}
