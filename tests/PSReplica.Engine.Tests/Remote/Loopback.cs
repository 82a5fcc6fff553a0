using PSReplica.Engine.Agent;
using PSReplica.Engine.Client;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>An agent served in process over two memory pipes, and the controller's ends of them; with the steps and the
/// whole runs that the remote tests make through one.</summary>
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

    /// <summary>How many writes the controller made to the agent's input.</summary>
    public long WritesToAgent => Interlocked.Read(ref _toAgent.Writes);

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

    public Task<AgentClient> ConnectAsync(RemoteSide role, string root, AgentClientOptions? options = null) =>
        AgentClient.ConnectAsync(ControllerIn, ControllerOut, role, root, options ?? new AgentClientOptions(), CancellationToken.None);

    /// <summary>A replicator on the controller's ends, with the agent serving <paramref name="remoteRoot"/> as <paramref name="side"/>.</summary>
    public Task<RemoteReplicator> ConnectReplicatorAsync(RemoteSide side, string remoteRoot, RemoteSessionOptions? options = null) =>
        RemoteReplicator.ConnectAsync(ControllerIn, ControllerOut, side, remoteRoot, options ?? new RemoteSessionOptions(), CancellationToken.None);

    /// <summary>A fake controller on the controller's ends, the handshake done and no idle timeout asked for.</summary>
    public async Task<FakePeer> ConnectPeerAsync(RemoteSide role, string root, params string[] capabilities)
    {
        var peer = new FakePeer(ControllerIn, ControllerOut);
        await peer.ConnectAsAgentPeerAsync(role, root, Timeout.InfiniteTimeSpan, capabilities);
        return peer;
    }

    /// <summary>Expects the agent to end the session: <paramref name="errorId"/> told to <paramref name="peer"/> on stream 0,
    /// written to the diagnostics, and a non-zero exit.</summary>
    public async Task AssertAgentAbortedAsync(FakePeer peer, string errorId)
    {
        using (Frame told = await peer.ExpectAsync(FrameKind.Error, 0))
        {
            Assert.Equal(errorId, WireError.Read(told.Payload, "agent").ErrorId);
        }

        Assert.Equal(1, await Agent.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(errorId, Diagnostics, StringComparison.Ordinal);
    }

    /// <summary>One run on a wiring named as the theories over wirings name them: "Local" (this process both sides),
    /// "Push" or "Pull" (<see cref="RunAsync(RemoteSide, SyncOptions, bool)"/>), in any case.</summary>
    public static async Task<RecordingObserver> RunOnWiringAsync(string wiring, SyncOptions options)
    {
        if (string.Equals(wiring, "Local", StringComparison.OrdinalIgnoreCase))
        {
            var observer = new RecordingObserver();
            await Task.Run(() => LocalReplicator.Run(options, observer, CancellationToken.None));
            return observer;
        }

        RemoteSide side = string.Equals(wiring, "Push", StringComparison.OrdinalIgnoreCase) ? RemoteSide.Destination : RemoteSide.Source;
        (_, RecordingObserver remote, _) = await RunAsync(side, options);
        return remote;
    }

    /// <summary>One run with an agent serving the remote side (the destination of a push or the source of a pull),
    /// which must then exit cleanly; also returns the bytes the agent sent.</summary>
    public static async Task<(SyncSummary Summary, RecordingObserver Observer, long BytesFromAgent)> RunAsync(RemoteSide side, SyncOptions options,
        bool dryRun = false)
    {
        var observer = new RecordingObserver();
        await using Loopback loop = WithAgent();
        SyncSummary summary;
        await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, RemoteRoot(side, options)))
        {
            summary = await Task.Run(() => replicator.Run(options, observer, CancellationToken.None, dryRun));
        }

        long bytes = loop.BytesToController;
        Assert.Equal(0, await loop.FinishAsync());
        return (summary, observer, bytes);
    }

    /// <summary>One remote run in its two steps, with <paramref name="afterPlan"/> between them (to change a tree the plan has
    /// already seen), over a link with <paramref name="latency"/> each way. Counts the requests the execution sent: all of
    /// them, and those that started with nothing else in flight.</summary>
    public static async Task<(SyncSummary Summary, RecordingObserver Observer, long Requests, long IdleStarts)> PlanThenExecuteAsync(
        RemoteSide side, SyncOptions options, Action? afterPlan = null, TimeSpan latency = default)
    {
        var observer = new RecordingObserver();
        await using Loopback loop = WithAgent(latency: latency);
        SyncSummary summary;
        long requests;
        long idleStarts;
        await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, RemoteRoot(side, options)))
        {
            SyncPlan plan = replicator.Plan(options, observer, CancellationToken.None);
            afterPlan?.Invoke();
            long requestsBefore = replicator.Client.Requests;
            long idleStartsBefore = replicator.Client.IdleStarts;
            summary = await Task.Run(() => replicator.Execute(plan, observer, CancellationToken.None));
            requests = replicator.Client.Requests - requestsBefore;
            idleStarts = replicator.Client.IdleStarts - idleStartsBefore;
        }

        Assert.Equal(0, await loop.FinishAsync());
        return (summary, observer, requests, idleStarts);
    }

    /// <summary>A push whose connection is cut once the sender has read more than half of <paramref name="file"/>
    /// (<paramref name="length"/> bytes); returns once the agent has finished with what it received.</summary>
    public static async Task<RecordingObserver> CutMidFileAsync(SyncOptions options, string file, long length)
    {
        await using Loopback loop = WithAgent();
        var cut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver
        {
            OnProgressHook = progress =>
            {
                if (progress.CurrentPath == file && progress.CurrentBytesDone > length / 2 && cut.TrySetResult())
                {
                    loop.Cut();
                }
            },
        };

        RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Destination, options.Destination);
        await Assert.ThrowsAsync<SyncException>(() => Task.Run(() => replicator.Run(options, observer, CancellationToken.None)));
        await replicator.DisposeAsync();
        Assert.True(cut.Task.IsCompleted);
        await loop.Agent.WaitAsync(TimeSpan.FromSeconds(30));
        return observer;
    }

    /// <summary>Cuts the connection (<see cref="Cut"/>) in the middle of the write that carries the controller's byte
    /// number <paramref name="toAgent"/> or the agent's byte number <paramref name="toController"/>, counted from the
    /// start of the session.</summary>
    public void CutAfter(long toAgent = long.MaxValue, long toController = long.MaxValue)
    {
        if (toAgent < long.MaxValue)
        {
            _toAgent.CutAfter(toAgent, Cut);
        }

        if (toController < long.MaxValue)
        {
            _toController.CutAfter(toController, Cut);
        }
    }

    /// <summary>Closes both directions at once, as a lost connection would.</summary>
    public void Cut()
    {
        ControllerOut.Dispose();
        AgentOut.Dispose();
    }

    /// <summary>Closes the controller's output (end of stream for the agent) and waits for the agent's exit code.</summary>
    public async Task<int> FinishAsync()
    {
        ControllerOut.Dispose();
        return await Agent.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        _diagnostics.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string RemoteRoot(RemoteSide side, SyncOptions options) => side == RemoteSide.Destination ? options.Destination : options.Source;
}
