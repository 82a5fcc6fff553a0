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

    /// <summary>A snapshot against yesterday's (-LinkDest): each unchanged file is a LinkFromTree request, and they must
    /// be in flight together, as the other small changes are; one at a time they cost a round trip per file (the push of a
    /// 300,000-file snapshot took 25-60 times rsync's time so).</summary>
    [Fact]
    public async Task Thousands_of_LinkDest_links_cost_a_few_round_trips_not_one_each()
    {
        using var tree = new TestTree();
        string day1 = Path.Join(tree.Root, "day1");
        List<string> files = LinkDestSnapshot(tree, day1, directories: 20, perDirectory: 75);
        string day2 = Path.Join(tree.Root, "day2");

        (SyncSummary summary, RecordingObserver observer, long requests, long idleStarts) = await Loopback.PlanThenExecuteAsync(RemoteSide.Destination,
            tree.Options() with { Destination = day2, LinkDest = ["../day1"] }, latency: s_latency);

        Assert.Empty(observer.Errors);
        Assert.Equal(files.Count, observer.Items.Count(i => i.Action == SyncAction.Link));
        foreach (string file in files)
        {
            Assert.True(TestTree.Stat(Path.Join(day1, file)).Inode == TestTree.Stat(Path.Join(day2, file)).Inode, $"'{file}' was not linked to the basis");
        }

        RandomTree.AssertSame(tree.Source, day2);
        Assert.Equal(0, summary.Errors);
        AssertPipelined(requests, idleStarts);
    }

    /// <summary>Links sent without waiting still settle one by one: a link the agent cannot make (its basis file gone, or
    /// swapped for a symbolic link, after the plan) fails on its own item, is not reported as made, and the others are.</summary>
    [Fact]
    public async Task A_LinkDest_link_that_fails_is_that_items_error_and_the_others_are_made()
    {
        using var tree = new TestTree();
        string day1 = Path.Join(tree.Root, "day1");
        List<string> files = LinkDestSnapshot(tree, day1, directories: 4, perDirectory: 50);
        string day2 = Path.Join(tree.Root, "day2");
        string gone = files[37];
        string swapped = files[151];

        (SyncSummary summary, RecordingObserver observer, _, _) = await Loopback.PlanThenExecuteAsync(RemoteSide.Destination,
            tree.Options() with { Destination = day2, LinkDest = ["../day1"] }, () =>
            {
                File.Delete(Path.Join(day1, gone));
                string basis = Path.Join(day1, swapped);
                File.Move(basis, basis + ".moved");
                File.CreateSymbolicLink(basis, Path.GetFileName(basis) + ".moved");
            }, s_latency);

        Assert.Equal([gone, swapped], observer.Errors.Select(e => e.Target).Order(StringComparer.Ordinal));
        Assert.Equal(2, summary.Errors);
        Assert.DoesNotContain(observer.Items, i => i.RelativePath == gone || i.RelativePath == swapped);
        Assert.False(Path.Exists(Path.Join(day2, gone)));
        Assert.False(Path.Exists(Path.Join(day2, swapped)));
        foreach (string file in files.Where(f => f != gone && f != swapped))
        {
            Assert.True(TestTree.Stat(Path.Join(day1, file)).Inode == TestTree.Stat(Path.Join(day2, file)).Inode, $"'{file}' was not linked to the basis");
        }

        Assert.Equal(files.Count - 2, observer.Items.Count(i => i.Action == SyncAction.Link));
    }

    /// <summary>The same files in the source and in yesterday's snapshot <paramref name="day1"/>, with the same times.</summary>
    private static List<string> LinkDestSnapshot(TestTree tree, string day1, int directories, int perDirectory)
    {
        var files = new List<string>();
        for (int d = 0; d < directories; d++)
        {
            for (int f = 0; f < perDirectory; f++)
            {
                string file = $"d{d:D2}/f{f:D3}.txt";
                TestTree.Write(day1, file, "same " + file, TestTree.BaseTime);
                TestTree.Write(tree.Source, file, "same " + file, TestTree.BaseTime);
                files.Add(file);
            }
        }

        TestTree.Freeze(tree.Source);
        return files;
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
