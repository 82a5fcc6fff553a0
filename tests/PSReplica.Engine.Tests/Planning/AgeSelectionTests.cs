namespace PSReplica.Engine.Tests.Planning;

/// <summary>-MaxAge and -MinAge (rclone's --max-age and --min-age, robocopy's /MAXAGE and /MINAGE) as the planner applies
/// them: transfer rules on regular files, like -MinSize and -MaxSize, so a file they leave out is not deleted from the
/// destination and is not removed from the source; directories and links are never left out by age.</summary>
public sealed class AgeSelectionTests : IDisposable
{
    private const long T = TestTree.BaseTime;
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private static DateTime At(long seconds, long nanoseconds = 0) =>
        DateTime.UnixEpoch.AddTicks((seconds * TimeSpan.TicksPerSecond) + (nanoseconds / 100));

    private SyncPlan Plan(Func<SyncOptions, SyncOptions> configure, bool delete = false) =>
        LocalReplicator.Plan(configure(_tree.Options(delete)), new RecordingObserver(), CancellationToken.None);

    private static string[] Lines(SyncPlan plan) => plan.Items.Select(i => i.Itemize + " " + i.RelativePath).ToArray();

    private void OldAndNew()
    {
        _tree.Src("old.txt", "old", T - 1000);
        _tree.Src("edge.txt", "edge", T);
        _tree.Src("new.txt", "new", T + 1000);
        _tree.Src("dir/old-inner.txt", "o", T - 1000);
        File.CreateSymbolicLink(Path.Join(_tree.Source, "old-link"), "old.txt");
        Assert.Equal(0, Posix.SetModificationTime(Path.Join(_tree.Source, "old-link"), T - 5000, 0));
        TestTree.SetTime(Path.Join(_tree.Source, "dir"), T - 5000);
    }

    [Fact]
    public void MaxAge_transfers_only_files_modified_at_or_after_the_cutoff()
    {
        OldAndNew();
        SyncPlan plan = Plan(o => o with { MaxAgeCutoff = At(T) });
        Assert.Equal(["cd+++++++++ .", "cd+++++++++ dir", ">f+++++++++ edge.txt", ">f+++++++++ new.txt", "cL+++++++++ old-link"], Lines(plan));
    }

    [Fact]
    public void MinAge_transfers_only_files_modified_at_or_before_the_cutoff()
    {
        OldAndNew();
        SyncPlan plan = Plan(o => o with { MinAgeCutoff = At(T) });
        Assert.Equal(["cd+++++++++ .", "cd+++++++++ dir", ">f+++++++++ dir/old-inner.txt", ">f+++++++++ edge.txt", "cL+++++++++ old-link", ">f+++++++++ old.txt"], Lines(plan));
    }

    [Fact]
    public void The_cutoff_is_compared_below_the_second()
    {
        _tree.Src("just-before", "b", T);
        TestTree.SetTime(Path.Join(_tree.Source, "just-before"), T, 499_999_900);
        _tree.Src("just-after", "a", T);
        TestTree.SetTime(Path.Join(_tree.Source, "just-after"), T, 500_000_000);
        Assert.Equal(["cd+++++++++ .", ">f+++++++++ just-after"], Lines(Plan(o => o with { MaxAgeCutoff = At(T, 500_000_000) })));
        Assert.Equal(["cd+++++++++ .", ">f+++++++++ just-before"], Lines(Plan(o => o with { MinAgeCutoff = At(T, 499_999_999) })));
    }

    [Fact]
    public void A_window_between_the_two_selects_files_modified_inside_it()
    {
        OldAndNew();
        SyncPlan plan = Plan(o => o with { MaxAgeCutoff = At(T - 1), MinAgeCutoff = At(T + 1) });
        Assert.Equal(["cd+++++++++ .", "cd+++++++++ dir", ">f+++++++++ edge.txt", "cL+++++++++ old-link"], Lines(plan));
    }

    [Fact]
    public void A_window_that_selects_nothing_is_refused_before_anything_is_planned()
    {
        OldAndNew();
        var error = Assert.Throws<SyncException>(() => Plan(o => o with { MaxAgeCutoff = At(T + 1), MinAgeCutoff = At(T - 1) }));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
    }

    [Fact]
    public void A_file_left_out_by_age_keeps_its_destination_copy_under_Delete_as_one_left_out_by_size_does()
    {
        _tree.Src("old.txt", "the source's", T - 1000);
        _tree.Src("big-new.txt", "a big new file", T + 1000);
        _tree.Src("new.txt", "new", T + 1000);
        _tree.Dst("old.txt", "the destination's old copy", T - 3000);
        _tree.Dst("big-new.txt", "x", T - 3000);
        _tree.Dst("extra.txt", "x", T - 3000);
        TestTree.SetTime(_tree.Source, T);
        TestTree.SetTime(_tree.Destination, T);

        SyncPlan plan = Plan(o => o with { MaxAgeCutoff = At(T), MaxSize = 5 }, delete: true);
        Assert.Equal(["*deleting   extra.txt", ">f+++++++++ new.txt"], Lines(plan));
    }

    [Fact]
    public void RemoveSourceFiles_leaves_a_file_left_out_by_age_in_the_source()
    {
        OldAndNew();
        var observer = new RecordingObserver();
        LocalReplicator.Run(_tree.Options() with { MaxAgeCutoff = At(T), RemoveSourceFiles = true }, observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        Assert.True(File.Exists(Path.Join(_tree.Source, "old.txt")));
        Assert.True(File.Exists(Path.Join(_tree.Source, "dir/old-inner.txt")));
        Assert.False(File.Exists(Path.Join(_tree.Source, "new.txt")));
        Assert.False(File.Exists(Path.Join(_tree.Destination, "old.txt")));
        Assert.Equal("new", File.ReadAllText(Path.Join(_tree.Destination, "new.txt")));
    }
}
