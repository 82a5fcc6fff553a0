using System.Diagnostics;
using PSReplica.Engine.Tests.Execution;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>-BandwidthLimit over an agent (issue 14): the side that sends the files paces them, the controller on a push
/// and the agent, told the limit in the handshake, on a pull. Real runs of many small files and two large ones, checked
/// only against a lower bound on their time (which cannot flake); what the pacing costs is counted in
/// <see cref="Protocol.FrameWriterPacingTests"/>.</summary>
public sealed class BandwidthLimitTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task A_remote_run_under_a_tight_limit_takes_at_least_its_bytes_over_the_limit(RemoteSide side)
    {
        long bytes = BandwidthThrottleTests.WriteMixedTree(_tree.Source);
        long limit = bytes / 3;
        var options = new SyncOptions { Source = _tree.Source, Destination = _tree.Destination };
        var observer = new RecordingObserver();
        var clock = Stopwatch.StartNew();
        await using Loopback loop = Loopback.WithAgent();
        await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, side == RemoteSide.Destination ? options.Destination : options.Source,
            new RemoteSessionOptions { BandwidthLimit = limit }))
        {
            await Task.Run(() => replicator.Run(options, observer, CancellationToken.None));
        }

        clock.Stop();
        Assert.Equal(0, await loop.FinishAsync());
        Assert.Empty(observer.Errors);
        Assert.Equal(bytes, observer.Items.Sum(i => i.BytesTransferred));
        Assert.True((side == RemoteSide.Destination ? loop.BytesToAgent : loop.BytesToController) > bytes, "the files crossed the wire");
        BandwidthThrottleTests.AssertNoFasterThan(bytes, limit, clock.Elapsed);
    }

    [Fact]
    public async Task Under_a_tight_limit_the_peer_hears_from_the_sender_within_its_idle_timeout()
    {
        // A 128 KiB data frame takes 8 s at 16 KiB/s. Paced as one piece it left after 8 s of silence, and the agent,
        // whose idle timeout counts bytes, gave up after 5 s; in chunks it hears something every twentieth of a second.
        // The agent's own pings reach the controller at least every 2.5 s, half the timeout; the other half is slack for
        // a host so busy that the thread pool both sides share here is late with a ping by seconds.
        byte[] data = TestTree.RandomBytes(140 << 10, 14);
        File.WriteAllBytes(Path.Join(_tree.Source, "f.bin"), data);
        var options = new SyncOptions { Source = _tree.Source, Destination = _tree.Destination };
        var observer = new RecordingObserver();
        await using Loopback loop = Loopback.WithAgent();
        await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Destination, options.Destination,
            new RemoteSessionOptions { BandwidthLimit = 16 << 10, IdleTimeout = TimeSpan.FromSeconds(5) }))
        {
            await Task.Run(() => replicator.Run(options, observer, CancellationToken.None));
        }

        Assert.Equal(0, await loop.FinishAsync());
        Assert.Empty(observer.Errors);
        Assert.Equal(data, File.ReadAllBytes(Path.Join(_tree.Destination, "f.bin")));
    }
}
