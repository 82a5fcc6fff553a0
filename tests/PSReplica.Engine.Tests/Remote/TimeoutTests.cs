using PSReplica.Engine.Client;

namespace PSReplica.Engine.Tests.Remote;

public sealed class TimeoutTests
{
    [Fact]
    public async Task An_agent_that_never_answers_the_handshake_times_out()
    {
        await using Loopback loop = Loopback.Bare();
        var error = await Assert.ThrowsAsync<SyncException>(() =>
            loop.ConnectAsync(RemoteSide.Source, "/x", new AgentClientOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Equal(ErrorIds.PeerTimeout, error.ErrorId);
    }

    [Fact]
    public async Task A_controller_that_never_greets_the_agent_times_out()
    {
        await using Loopback loop = Loopback.WithAgent(handshakeTimeout: TimeSpan.FromMilliseconds(300));
        Assert.Equal(1, await loop.Agent.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(ErrorIds.PeerTimeout, loop.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agent_that_goes_silent_after_the_handshake_times_out()
    {
        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync();
        AgentClient client = await loop.ConnectAsync(RemoteSide.Source, "/remote", new AgentClientOptions { IdleTimeout = TimeSpan.FromMilliseconds(400) });
        await using (client)
        {
            await accept;

            // The timeout may strike before the request is even sent (a slow machine) or while it waits for the answer.
            var error = await Assert.ThrowsAsync<SyncException>(async () =>
            {
                RemoteListing listing = await client.ListAsync(string.Empty, recursive: true, CancellationToken.None);
                await listing.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            });
            Assert.Equal(ErrorIds.PeerTimeout, error.ErrorId);
            Assert.Equal(ErrorIds.PeerTimeout, client.Fault?.ErrorId);
        }
    }

    [Fact]
    public async Task A_controller_that_goes_silent_after_the_handshake_times_out()
    {
        using var tree = new TestTree();
        await using Loopback loop = Loopback.WithAgent();
        var peer = new FakePeer(loop.ControllerIn, loop.ControllerOut);
        await peer.ConnectAsAgentPeerAsync(RemoteSide.Source, tree.Source, TimeSpan.FromMilliseconds(400));
        Assert.Equal(1, await loop.Agent.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(ErrorIds.PeerTimeout, loop.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keep_alives_hold_an_idle_but_healthy_session_open()
    {
        using var tree = new TestTree();
        tree.Src("f", "data");
        await using Loopback loop = Loopback.WithAgent();
        // A side hears a Ping within half the timeout; the other half is slack for a stalled machine. With a timeout of three
        // seconds, a parallel build on this two-core host stalled the test process past that 1.5 s once (the agent's Pings
        // came late, the controller gave up): eight leaves four seconds.
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, tree.Source, new AgentClientOptions { IdleTimeout = TimeSpan.FromSeconds(8) }))
        {
            // Idle for half a timeout more than a timeout: without keep-alives either side would have given up.
            await Task.Delay(TimeSpan.FromSeconds(12));
            Assert.Null(client.Fault);
            Assert.Equal(4, await client.ReadFileAsync("f", System.IO.Stream.Null, CancellationToken.None));
        }

        Assert.Equal(0, await loop.FinishAsync());
    }
}
