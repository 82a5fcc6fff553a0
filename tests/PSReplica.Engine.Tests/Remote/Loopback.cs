using PSReplica.Engine.Protocol;
using PSReplica.Engine.Remote;
using PSReplica.Engine.Tests.Protocol;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>An agent served in process over two memory pipes, and the controller's ends of them.</summary>
internal sealed class Loopback : IAsyncDisposable
{
    private readonly MemoryPipe _toAgent;
    private readonly MemoryPipe _toController;
    private readonly StringWriter _diagnostics = new();

    private Loopback(TimeSpan latency = default)
    {
        _toAgent = new MemoryPipe(latency);
        _toController = new MemoryPipe(latency);
    }

    /// <summary>The agent's exit code once the session is over.</summary>
    public Task<int> Agent { get; private set; } = Task.FromResult(-1);

    public string Diagnostics => _diagnostics.ToString();

    /// <summary>The controller's ends, for tests that play the controller by hand.</summary>
    public Stream ControllerIn => _toController.Reader;

    public Stream ControllerOut => _toAgent.Writer;

    /// <summary>The agent's ends, for tests that play the agent by hand.</summary>
    public Stream AgentIn => _toAgent.Reader;

    public Stream AgentOut => _toController.Writer;

    public long BytesToAgent => _toAgent.BytesWritten;

    public long BytesToController => _toController.BytesWritten;

    /// <param name="latency">How long each write takes to reach the other side, in both directions.</param>
    public static Loopback WithAgent(TimeSpan? handshakeTimeout = null, TimeSpan latency = default)
    {
        var loopback = new Loopback(latency);
        loopback.Agent = Task.Run(() => AgentServer.ServeAsync(loopback.AgentIn, loopback.AgentOut, loopback._diagnostics,
            handshakeTimeout ?? ProtocolLimits.DefaultHandshakeTimeout, CancellationToken.None));
        return loopback;
    }

    /// <summary>No agent: the test plays one on <see cref="AgentIn"/> and <see cref="AgentOut"/>.</summary>
    public static Loopback Bare() => new();

    public Task<AgentClient> ConnectAsync(AgentRole role, string root, AgentClientOptions? options = null) =>
        AgentClient.ConnectAsync(ControllerIn, ControllerOut, role, root, options ?? new AgentClientOptions(), CancellationToken.None);

    /// <summary>Closes the controller's output (end of stream for the agent) and waits for the agent's exit code.</summary>
    public async Task<int> FinishAsync()
    {
        ControllerOut.Dispose();
        return await Agent.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public ValueTask DisposeAsync()
    {
        ControllerOut.Dispose();
        AgentOut.Dispose();
        _diagnostics.Dispose();
        return ValueTask.CompletedTask;
    }
}
