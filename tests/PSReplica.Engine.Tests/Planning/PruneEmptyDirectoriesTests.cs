namespace PSReplica.Engine.Tests.Planning;

/// <summary>-PruneEmptyDirectories (rsync -m) in the planner: a source directory with no file or link below it after
/// the filter is out of the run, as rsync takes it out of its file list (so -Delete deletes its copy, unless the
/// receiver's rules protect something in it); one whose files the transfer rules all leave out is not created, but an
/// existing copy of it is kept (rsync would keep such a directory in its list). The expected plans are what rsync 3 does
/// on the same trees (the Pester differential runs rsync itself on random trees).</summary>
public sealed class PruneEmptyDirectoriesTests : IDisposable
{
    private const long T = TestTree.BaseTime;
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private (SyncPlan Plan, RecordingObserver Observer) Plan(Func<SyncOptions, SyncOptions> configure, bool delete = false)
    {
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(configure(_tree.Options(delete) with { PruneEmptyDirectories = true }), observer, CancellationToken.None);
        return (plan, observer);
    }

    private static string[] Lines(SyncPlan plan) => plan.Items.Select(i => i.Itemize + " " + i.RelativePath).ToArray();

    private static SyncFilter ExcludeLogs => SyncFilter.FromPatterns(null, ["*.log"]);

    /// <summary>rsync's own example: a tree whose only files the filter excludes, and a destination holding an older copy.</summary>
    private void FilteredTree()
    {
        Directory.CreateDirectory(Path.Join(_tree.Source, "a/b/c"));
        _tree.Src("d/x.txt", "x");
        _tree.Src("e/f/y.log", "y");
        _tree.Src("e/z.log", "z");
        _tree.Dst("a/b/keep.txt", "old");
        Directory.CreateDirectory(Path.Join(_tree.Destination, "e/f"));
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Destination, "a"), T - 100);
        TestTree.SetTime(Path.Join(_tree.Destination, "e"), T - 100);
    }

    public static TheoryData<string> Wirings => ["Local", "Push", "Pull"];

    /// <summary>A pruned directory's copy, holding a directory of its own, is deleted with it, and the run's other
    /// deletions go on: on a push the planner asks the agent's listing for that copy twice (once to plan it, once to
    /// delete it), which the listing had handed out already, so the run reported a ScanError and deleted nothing.</summary>
    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task A_pruned_directory_s_copy_is_deleted_with_what_it_holds_on_every_wiring(string wiring)
    {
        Directory.CreateDirectory(Path.Join(_tree.Source, "d"));
        _tree.Src("file", "keep");
        Directory.CreateDirectory(Path.Join(_tree.Destination, "d/sub/deeper"));
        _tree.Dst("d/sub/old.txt", "old");
        _tree.Dst("extraneous", "stale");
        SyncOptions options = _tree.Options(delete: true) with { PruneEmptyDirectories = true };
        RecordingObserver observer = await Remote.Loopback.RunOnWiringAsync(wiring, options);
        Assert.Empty(observer.Errors);
        Assert.Equal(["file"], TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public void Directories_with_nothing_to_transfer_are_neither_created_nor_touched()
    {
        FilteredTree();
        (SyncPlan plan, _) = Plan(o => o with { Filter = ExcludeLogs });
        Assert.Equal(["cd+++++++++ d", ">f+++++++++ d/x.txt"], Lines(plan));
        Assert.Equal(["", "d"], plan.SourceDirectories.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2, plan.ItemsTotal);
        Assert.Equal(1, plan.FilesTotal);
    }

    [Fact]
    public void With_Delete_a_pruned_directory_is_extraneous_as_rsync_deletes_it()
    {
        FilteredTree();
        (SyncPlan plan, _) = Plan(o => o with { Filter = ExcludeLogs }, delete: true);
        Assert.Equal(
            ["*deleting   a/b/keep.txt", "*deleting   a/b", "*deleting   a", "cd+++++++++ d", ">f+++++++++ d/x.txt", "*deleting   e/f", "*deleting   e"],
            Lines(plan));
        Assert.All(plan.Items.Where(i => i.Action == SyncAction.Delete), i => Assert.Equal(SyncReason.Extraneous, i.Reason));
    }

    [Fact]
    public void Without_the_option_the_same_tree_keeps_every_directory()
    {
        FilteredTree();
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(_tree.Options() with { Filter = ExcludeLogs }, observer, CancellationToken.None);
        Assert.Equal([".d..t...... a", "cd+++++++++ a/b/c", "cd+++++++++ d", ">f+++++++++ d/x.txt", ".d..t...... e"], Lines(plan));
    }

    [Fact]
    public void A_destination_item_the_filter_protects_keeps_its_pruned_directory()
    {
        Directory.CreateDirectory(Path.Join(_tree.Source, "p/q"));
        _tree.Dst("p/q/mine.log", "protected");
        _tree.Dst("p/q/junk", "extraneous");
        _tree.FreezeBoth();
        (SyncPlan plan, RecordingObserver observer) = Plan(o => o with { Filter = ExcludeLogs }, delete: true);
        Assert.Equal(["*deleting   p/q/junk"], Lines(plan));
        Assert.Contains(observer.Warnings, w => w.Contains("'p/q'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_link_is_something_to_transfer()
    {
        Directory.CreateDirectory(Path.Join(_tree.Source, "only-link"));
        File.CreateSymbolicLink(Path.Join(_tree.Source, "only-link/l"), "nowhere");
        Directory.CreateDirectory(Path.Join(_tree.Source, "empty"));
        _tree.FreezeBoth();
        (SyncPlan plan, _) = Plan(o => o);
        Assert.Equal(["cd+++++++++ .", "cd+++++++++ only-link", "cL+++++++++ only-link/l"], Lines(plan));
    }

    [Fact]
    public void The_root_is_created_even_when_empty()
    {
        Directory.CreateDirectory(Path.Join(_tree.Source, "a/b"));
        (SyncPlan plan, _) = Plan(o => o);
        Assert.Equal(["cd+++++++++ ."], Lines(plan));
    }

    [Fact]
    public void A_directory_whose_files_the_transfer_rules_all_leave_out_is_not_created_but_its_existing_copy_stays()
    {
        _tree.Src("big/only.bin", new string('b', 100));
        _tree.Src("big/deeper/also.bin", new string('b', 100));
        _tree.Src("old/file.txt", "o", T - 10_000);
        _tree.Src("mixed/small.txt", "s");
        _tree.Src("mixed/big.bin", new string('b', 100));
        _tree.Src("kept/big.bin", new string('b', 100));
        _tree.Dst("kept/big.bin", "an older copy that -MaxSize leaves alone");
        _tree.Dst("kept/extra", "x");
        TestTree.Freeze(_tree.Source);
        TestTree.SetTime(Path.Join(_tree.Source, "old/file.txt"), T - 10_000);
        TestTree.Freeze(_tree.Destination, T - 100);

        (SyncPlan plan, _) = Plan(o => o with { MaxSize = 10, MaxAgeCutoff = DateTime.UnixEpoch.AddSeconds(T - 1) }, delete: true);
        Assert.Equal([".d..t...... .", ".d..t...... kept", "*deleting   kept/extra", "cd+++++++++ mixed", ">f+++++++++ mixed/small.txt"], Lines(plan));
    }

    [Fact]
    public void A_pruned_directory_standing_where_a_file_is_keeps_the_file_without_Delete_and_deletes_it_with()
    {
        Directory.CreateDirectory(Path.Join(_tree.Source, "was-file/empty"));
        _tree.Dst("was-file", "a file in the destination");
        _tree.FreezeBoth();
        Assert.Empty(Lines(Plan(o => o).Plan));
        Assert.Equal(["*deleting   was-file"], Lines(Plan(o => o, delete: true).Plan));
    }

    [Fact]
    public void A_pruned_run_converges()
    {
        FilteredTree();
        _tree.Src("d/sub/empty-chain/x/y/.keep.log", "k");
        var observer = new RecordingObserver();
        SyncOptions options = _tree.Options(delete: true) with { PruneEmptyDirectories = true, Filter = ExcludeLogs };
        LocalReplicator.Run(options, observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        Assert.Equal(["d", "d/x.txt"], TestTree.Listing(_tree.Destination));
        Assert.Empty(LocalReplicator.Plan(options, new RecordingObserver(), CancellationToken.None).Items);
    }
}
