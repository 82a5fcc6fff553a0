namespace PSReplica.Engine.Tests.Remote;

/// <summary>Small changes (directories, links, attributes, deletions) go to the agent without a round trip each: over a
/// link with 5 ms of latency each way, thousands of them must not cost thousands of round trips.</summary>
public sealed class PipelineTests
{
    private static readonly TimeSpan s_latency = TimeSpan.FromMilliseconds(5);

    [Fact]
    public async Task Thousands_of_directories_and_links_cost_a_few_round_trips_not_one_each()
    {
        using var tree = new TestTree();
        for (int i = 0; i < 2000; i++)
        {
            string directory = Path.Join(tree.Source, $"d{i:D4}");
            Directory.CreateDirectory(directory);
            File.CreateSymbolicLink(Path.Join(directory, "link"), $"../target{i}");
        }

        TestTree.Freeze(tree.Source);

        (SyncSummary summary, RecordingObserver observer, long requests, long idleStarts) = await Loopback.PlanThenExecuteAsync(RemoteSide.Destination,
            tree.Options(), latency: s_latency);

        Assert.Empty(observer.Errors);
        Assert.Equal(4001, summary.Created);
        Assert.Equal(4001, observer.Items.Count);
        RandomTree.AssertSame(tree.Source, tree.Destination);

        // One round trip each would start every one of the 6,000 requests (mkdir, link, directory time) on an idle link.
        // Pipelined, a request starts on an idle link only where the controller itself stalled for a round trip (10 ms
        // here): a handful on a quiet machine, a few dozen on a loaded one; never a tenth of them. (Not a bound in time:
        // how long a run takes depends on the machine, what it waits on does not.)
        AssertPipelined(requests, idleStarts);
    }

    private static void AssertPipelined(long requests, long idleStarts)
    {
        Assert.True(requests > 1000, $"only {requests} requests");
        Assert.True(idleStarts * 10 < requests, $"{idleStarts} of {requests} requests started with nothing else in flight");
    }

    [Fact]
    public async Task Thousands_of_deletions_go_children_first_without_a_round_trip_each()
    {
        using var tree = new TestTree();
        tree.Src("keep.txt", "keep");
        for (int i = 0; i < 500; i++)
        {
            tree.Dst($"old{i:D3}/deeper/a.txt", "a");
            tree.Dst($"old{i:D3}/b.txt", "b");
        }

        tree.Dst("keep.txt", "keep");
        tree.FreezeBoth();

        (SyncSummary summary, RecordingObserver observer, long requests, long idleStarts) = await Loopback.PlanThenExecuteAsync(RemoteSide.Destination,
            tree.Options(delete: true), latency: s_latency);

        Assert.Empty(observer.Errors);
        Assert.Equal(2000, summary.Deleted);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(tree.Destination).Select(Path.GetFileName));
        AssertPipelined(requests, idleStarts);
    }

    [Fact]
    public async Task A_directory_that_cannot_be_made_declines_its_contents_as_a_local_run_does()
    {
        using var tree = new TestTree();
        for (int i = 0; i < 20; i++)
        {
            tree.Src($"d{i:D2}/a.txt", "a");
            File.CreateSymbolicLink(Path.Join(tree.Source, $"d{i:D2}", "link"), "a.txt");
            tree.Src($"d{i:D2}/sub/b.txt", "b");
        }

        tree.FreezeBoth();
        Directory.CreateDirectory(tree.Destination);

        // Planned against an empty destination; then something that is not a directory takes one directory's name.
        var local = new RecordingObserver();
        SyncPlan localPlan = LocalReplicator.Plan(tree.Options(), local, CancellationToken.None);
        File.WriteAllText(Path.Join(tree.Destination, "d07"), "in the way");
        SyncSummary localSummary = LocalReplicator.Execute(localPlan, local, CancellationToken.None);
        Directory.Delete(tree.Destination, recursive: true);
        Directory.CreateDirectory(tree.Destination);

        (SyncSummary remoteSummary, RecordingObserver remote, _, _) = await Loopback.PlanThenExecuteAsync(RemoteSide.Destination, tree.Options(),
            () => File.WriteAllText(Path.Join(tree.Destination, "d07"), "in the way"), s_latency);
        Assert.Single(local.Errors);
        Assert.Equal(local.Errors.Select(e => (e.ErrorId, e.Target)), remote.Errors.Select(e => (e.ErrorId, e.Target)));
        Assert.Equal(Describe(local.Items), Describe(remote.Items));
        Assert.Equal((localSummary.Created, localSummary.Skipped, localSummary.Errors), (remoteSummary.Created, remoteSummary.Skipped, remoteSummary.Errors));
    }

    private static List<string> Describe(List<SyncItem> items) => items.ConvertAll(i => $"{i.Action} {i.ItemType} {i.RelativePath} {i.Reason}");
}
