using PSReplica.Engine.Client;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Faults;

/// <summary>Issue 18: the connection to the agent lost at seeded pseudo-random points, after a number of bytes in one
/// direction or the other, in a push and in a pull that replace, update by delta and create files. Each time the run
/// ends with ConnectionLost, no file is torn, nothing outside the plan changes, only PSReplica's temporary names are
/// left, and a re-run converges (and clears them).</summary>
public sealed class ConnectionCutTests
{
    private const int CutsPerCase = 3;

    [Theory]
    [InlineData(Wiring.Push, true, 101)]
    [InlineData(Wiring.Push, false, 102)]
    [InlineData(Wiring.Pull, true, 103)]
    [InlineData(Wiring.Pull, false, 104)]
    public async Task A_connection_cut_at_random_points_leaves_no_torn_file_and_a_rerun_converges(Wiring wiring, bool toAgent, int seed)
    {
        // How many bytes a whole run sends that way, so that every cut lands inside the run.
        long total;
        using (var measured = new TestTree())
        {
            FaultTree.Create(measured.Source, measured.Destination, seed);
            await using Loopback loop = Loopback.WithAgent();
            await RunAsync(loop, wiring, measured.Options());
            total = toAgent ? loop.BytesToAgent : loop.BytesToController;
            Assert.Equal(0, await loop.FinishAsync());
        }

        var random = new Random(seed);
        for (int i = 0; i < CutsPerCase; i++)
        {
            long at = random.NextInt64(total * 19 / 20);
            using var tree = new TestTree();
            FaultTree.Create(tree.Source, tree.Destination, seed);
            var before = FaultTree.Snapshot(tree.Destination);
            var observer = new RecordingObserver();
            await using (Loopback loop = Loopback.WithAgent())
            {
                loop.CutAfter(toAgent: toAgent ? at : long.MaxValue, toController: toAgent ? long.MaxValue : at);
                var error = await Assert.ThrowsAsync<SyncException>(() => RunAsync(loop, wiring, tree.Options(), observer));
                Assert.True(error.ErrorId == ErrorIds.ConnectionLost, $"cut at byte {at} of {total}: {error.ErrorId}: {error.Message}");
                await loop.Agent.WaitAsync(TimeSpan.FromSeconds(60));
            }

            Assert.DoesNotContain(observer.Errors, e => e.ErrorId == ErrorIds.ConnectionLost);
            FaultTree.AssertNoTornFile(tree.Source, tree.Destination, before, tempAllowed: true);

            RecordingObserver rerun = await FaultTree.RunAsync(wiring, tree.Options());
            Assert.Empty(rerun.Errors);
            RandomTree.AssertSame(tree.Source, tree.Destination);
        }
    }

    private static async Task RunAsync(Loopback loop, Wiring wiring, SyncOptions options, RecordingObserver? observer = null)
    {
        RemoteSide side = wiring == Wiring.Push ? RemoteSide.Destination : RemoteSide.Source;
        await using RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, side == RemoteSide.Destination ? options.Destination : options.Source);
        await Task.Run(() => replicator.Run(options, observer ?? new RecordingObserver(), CancellationToken.None));
    }
}
