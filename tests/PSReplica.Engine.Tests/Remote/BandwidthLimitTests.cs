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
}
