namespace PSReplica.Engine.Tests.Remote;

/// <summary>Push and pull through an agent served in process over pipes: the local planner and executor with the
/// agent on one side must give exactly what a local run gives.</summary>
public sealed class RemoteReplicatorTests
{
    [Theory]
    [InlineData(RemoteSide.Destination, 11)]
    [InlineData(RemoteSide.Source, 12)]
    public async Task A_random_tree_is_replicated_exactly_and_a_rerun_does_nothing(RemoteSide side, int seed)
    {
        using var tree = new TestTree();
        RandomTree.Create(tree.Source, seed, files: 150);

        (SyncSummary first, RecordingObserver firstObserver, _) = await Loopback.RunAsync(side, tree.Options());
        Assert.Empty(firstObserver.Errors);
        Assert.True(first.Created > 0);
        RandomTree.AssertSame(tree.Source, tree.Destination);

        (_, RecordingObserver second, _) = await Loopback.RunAsync(side, tree.Options());
        Assert.Empty(second.Errors);
        Assert.Empty(second.Items);
    }

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task A_changed_file_goes_by_delta(RemoteSide side)
    {
        using var tree = new TestTree();
        var random = new Random(5);
        byte[] data = new byte[600_000];
        random.NextBytes(data);
        File.WriteAllBytes(Path.Join(tree.Source, "big.bin"), data);
        TestTree.SetTime(Path.Join(tree.Source, "big.bin"), TestTree.BaseTime, 5);
        await Loopback.RunAsync(side, tree.Options());

        data[300_000] ^= 0xFF;
        File.WriteAllBytes(Path.Join(tree.Source, "big.bin"), data);
        TestTree.SetTime(Path.Join(tree.Source, "big.bin"), TestTree.BaseTime + 60, 7);
        (_, RecordingObserver observer, _) = await Loopback.RunAsync(side, tree.Options());

        Assert.Empty(observer.Errors);
        SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == "big.bin");
        Assert.Equal(SyncAction.Update, item.Action);
        Assert.True(item.BytesMatched > 500_000, $"matched {item.BytesMatched}");
        Assert.True(item.BytesTransferred < 100_000, $"literal {item.BytesTransferred}");
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task Delete_removes_extraneous_items_and_replaces_types(RemoteSide side)
    {
        using var tree = new TestTree();
        tree.Src("keep.txt", "keep");
        tree.Src("dir/a.txt", "a");
        tree.Src("was-dir", "now a file");
        tree.Dst("extra.txt", "extra");
        tree.Dst("old/deep/x.txt", "x");
        tree.Dst("was-dir/inner.txt", "inner");
        tree.FreezeBoth();

        (SyncSummary summary, RecordingObserver observer, _) = await Loopback.RunAsync(side, tree.Options(delete: true));

        Assert.Empty(observer.Errors);
        Assert.Equal(6, summary.Deleted);
        Assert.Contains(observer.Items, i => i.Action == SyncAction.Delete && i.RelativePath == "old/deep/x.txt");
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task A_dry_run_reports_and_changes_nothing(RemoteSide side)
    {
        using var tree = new TestTree();
        RandomTree.Create(tree.Source, 21, files: 40);
        tree.Dst("extra.txt", "extra");
        var before = TestTree.Listing(tree.Destination);

        (SyncSummary summary, RecordingObserver observer, _) = await Loopback.RunAsync(side, tree.Options(delete: true), dryRun: true);

        Assert.Empty(observer.Errors);
        Assert.True(summary.Created > 0);
        Assert.Contains(observer.Items, i => i.Action == SyncAction.Delete && i.RelativePath == "extra.txt");
        Assert.Equal(before, TestTree.Listing(tree.Destination));
    }

    [Fact]
    public async Task A_push_to_a_missing_destination_creates_it()
    {
        using var tree = new TestTree();
        RandomTree.Create(tree.Source, 31, files: 30);
        string destination = Path.Join(tree.Root, "new-destination");
        SyncOptions options = tree.Options() with { Destination = destination };

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(observer.Errors);
        Assert.Equal(".", observer.Items.First().RelativePath);
        RandomTree.AssertSame(tree.Source, destination);
    }

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task A_connection_lost_mid_transfer_fails_cleanly_leaves_no_torn_file_and_a_rerun_converges(RemoteSide side)
    {
        using var tree = new TestTree();
        var random = new Random(9);
        for (int i = 0; i < 40; i++)
        {
            byte[] data = new byte[200_000];
            random.NextBytes(data);
            File.WriteAllBytes(Path.Join(tree.Source, $"file{i:D2}.bin"), data);
        }

        TestTree.Freeze(tree.Source);
        SyncOptions options = tree.Options();
        string remoteRoot = side == RemoteSide.Destination ? options.Destination : options.Source;
        await using var loop = Loopback.WithAgent();
        var cut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver
        {
            // The connection goes away halfway through the plan, with copies in flight.
            Approve = item =>
            {
                if (item.RelativePath == "file20.bin" && cut.TrySetResult())
                {
                    loop.Cut();
                }

                return true;
            },
        };

        RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, remoteRoot);
        var error = await Assert.ThrowsAsync<SyncException>(() => Task.Run(() => replicator.Run(options, observer, CancellationToken.None)));
        await replicator.DisposeAsync();
        Assert.True(cut.Task.IsCompleted);
        Assert.Equal(ErrorIds.ConnectionLost, error.ErrorId);
        Assert.DoesNotContain(observer.Errors, e => e.ErrorId == ErrorIds.ConnectionLost);

        // Whatever arrived is whole: every file under its final name equals the source's.
        foreach (string file in Directory.GetFiles(tree.Destination))
        {
            string name = Path.GetFileName(file);
            if (!name.StartsWith(".~psr", StringComparison.Ordinal))
            {
                Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Join(tree.Source, name))), name);
            }
        }

        (_, RecordingObserver rerun, _) = await Loopback.RunAsync(side, options);
        Assert.Empty(rerun.Errors);
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }
}
