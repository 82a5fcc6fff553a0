using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>A fake controller speaking forged frames, over SSH, to the native agent deployed on a
/// <see cref="NativeAgentModule"/>'s server (which has no .NET). The agent is started by its path in the server's cache,
/// not through the launcher, so that its exit status and standard error are the agent's own.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class NativeAgentPeer : IDisposable
{
    private readonly SshSession _session;
    private readonly ICommandChannel _channel;

    private NativeAgentPeer(SshSession session, ICommandChannel channel)
    {
        _session = session;
        _channel = channel;
        Peer = new FakePeer(channel.Stream, channel.Stream);
    }

    public FakePeer Peer { get; }

    /// <summary>Logs in, deploys the native agent the way a run does if no earlier test has (and checks that the native
    /// agent is what a run would start), starts it, and plays the controller's half of the handshake with it serving
    /// <paramref name="root"/> as <paramref name="role"/>.</summary>
    public static async Task<NativeAgentPeer> ConnectAsync(NativeAgentModule module, RemoteSide role, string root)
    {
        RemoteConnectionSettings settings = NativeAgentRuns.Connection(module, root);
        SshSession session = RemoteAgentConnection.Connect(settings, CancellationToken.None);
        try
        {
            string cache = Path.Join(module.Server.Home, AgentCache.Folder);
            if (!Directory.Exists(cache) || Directory.GetDirectories(cache, "*-" + module.RuntimeIdentifier + "-*").Length == 0)
            {
                using RemoteAgentConnection deployed = RemoteAgentConnection.Start(session, settings, ownsSession: false, CancellationToken.None);
                Assert.Contains($"this module's native {module.RuntimeIdentifier} agent, deployed now", deployed.Origin, StringComparison.Ordinal);
            }

            ICommandChannel channel = session.OpenCommand(RemoteShell.Join([NativeAgentRuns.DeployedAgent(module), "--serve"]));
            var agent = new NativeAgentPeer(session, channel);
            await agent.Peer.ConnectAsAgentPeerAsync(role, root, Timeout.InfiniteTimeSpan);
            return agent;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Expects the agent to end the session: <paramref name="errorId"/> told on stream 0, written to its standard
    /// error, and exit status 1.</summary>
    public async Task AssertAbortedAsync(string errorId)
    {
        using (Frame told = await Peer.ExpectAsync(FrameKind.Error, 0))
        {
            Assert.Equal(errorId, WireError.Read(told.Payload, "agent").ErrorId);
        }

        Assert.Equal(1, await _channel.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(errorId, _channel.StandardError, StringComparison.Ordinal);
    }

    /// <summary>Expects stream <paramref name="id"/> to end in an error <paramref name="errorId"/>, with no data before it.</summary>
    public async Task AssertRefusedAsync(uint id, string errorId)
    {
        while (true)
        {
            using Frame frame = await Peer.ReadAsync() ?? throw new EndOfStreamException($"The agent closed before answering request {id}.");
            if (frame.Id != id)
            {
                continue;
            }

            Assert.True(frame.Kind == FrameKind.Error, $"request {id} was answered with a {frame.Kind} frame, not refused");
            Assert.Equal(errorId, WireError.Read(frame.Payload, "agent").ErrorId);
            return;
        }
    }

    /// <summary>Ends the session as a controller does (end of input) and returns the agent's exit status.</summary>
    public async Task<int?> FinishAsync()
    {
        _channel.CloseInput();
        return await _channel.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public void Dispose()
    {
        _channel.Dispose();
        _session.Dispose();
    }
}
