namespace PSReplica.Engine.Tests.Planning;

/// <summary>A reviewed plan applied later: only its unchanged actions run, the rest are reported stale, and nothing it
/// does not hold is touched (the engine's half of Get-SyncPlan ... | Sync-Directory).</summary>
public sealed class ReviewedPlanTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private List<SyncItem> Review(bool delete)
    {
        var observer = new RecordingObserver();
        LocalReplicator.Run(_tree.Options(delete), observer, CancellationToken.None, dryRun: true);
        return observer.Items;
    }

    private (RecordingObserver Observer, SyncSummary Summary) Apply(List<SyncItem> reviewed, bool delete)
    {
        var observer = new RecordingObserver();
        SyncSummary summary = LocalReplicator.Run(_tree.Options(delete) with { Review = new ReviewedPlan(reviewed) }, observer, CancellationToken.None);
        return (observer, summary);
    }

    [Fact]
    public void An_unchanged_plan_runs_as_reviewed()
    {
        _tree.Src("a.txt", "a");
        _tree.Src("d/b.txt", "b");
        _tree.Dst("gone.txt", "gone");
        List<SyncItem> reviewed = Review(delete: true);

        (RecordingObserver observer, SyncSummary summary) = Apply(reviewed, delete: true);

        Assert.Equal(reviewed.Select(i => i.Itemize + i.RelativePath), observer.Items.Select(i => i.Itemize + i.RelativePath));
        Assert.Empty(observer.Warnings);
        Assert.Equal(0, summary.Skipped);
        Assert.Empty(Review(delete: true));
    }

    [Fact]
    public void A_file_changed_in_the_source_since_the_review_is_stale_and_keeps_its_old_copy()
    {
        _tree.Src("a.txt", "new", TestTree.BaseTime);
        _tree.Dst("a.txt", "old", TestTree.BaseTime - 100);
        List<SyncItem> reviewed = Review(delete: false);
        _tree.Src("a.txt", "newer content", TestTree.BaseTime + 50);

        (RecordingObserver observer, SyncSummary summary) = Apply(reviewed, delete: false);

        Assert.DoesNotContain(observer.Items, i => i.RelativePath == "a.txt");
        Assert.Contains(observer.Warnings, w => w.StartsWith("PlanStale: 'a.txt' (Update File", StringComparison.Ordinal) && w.Contains("it changed since", StringComparison.Ordinal));
        Assert.Equal("old", File.ReadAllText(Path.Join(_tree.Destination, "a.txt")));
        Assert.Equal(1, summary.Skipped);
    }

    [Fact]
    public void A_destination_file_changed_since_the_review_is_not_overwritten()
    {
        _tree.Src("a.txt", "source", TestTree.BaseTime);
        _tree.Dst("a.txt", "old", TestTree.BaseTime - 100);
        List<SyncItem> reviewed = Review(delete: false);
        _tree.Dst("a.txt", "someone's edit", TestTree.BaseTime - 10);

        (RecordingObserver observer, _) = Apply(reviewed, delete: false);

        Assert.Empty(observer.Items);
        Assert.Equal("someone's edit", File.ReadAllText(Path.Join(_tree.Destination, "a.txt")));
        Assert.Single(observer.Warnings, w => w.StartsWith("PlanStale: 'a.txt'", StringComparison.Ordinal));
    }

    [Fact]
    public void Nothing_outside_the_plan_is_created_or_deleted()
    {
        _tree.Src("a.txt", "a");
        _tree.Dst("other.txt", "o");
        _tree.Src("other.txt", "o");
        TestTree.Freeze(_tree.Source);
        TestTree.Freeze(_tree.Destination);
        List<SyncItem> reviewed = Review(delete: true);
        _tree.Src("late.txt", "late");
        _tree.Src("latedir/x.txt", "x");
        _tree.Dst("unplanned.txt", "keep me");

        (RecordingObserver observer, SyncSummary summary) = Apply(reviewed, delete: true);

        Assert.Equal(["a.txt"], observer.Items.Select(i => i.RelativePath).Where(p => p != "."));
        Assert.False(File.Exists(Path.Join(_tree.Destination, "late.txt")));
        Assert.False(Directory.Exists(Path.Join(_tree.Destination, "latedir")));
        Assert.True(File.Exists(Path.Join(_tree.Destination, "unplanned.txt")));
        Assert.Empty(observer.Warnings);
        Assert.Equal(0, summary.Skipped);
    }

    [Fact]
    public void A_directory_the_plan_deletes_is_kept_when_it_holds_something_the_plan_never_saw()
    {
        _tree.Src("keep.txt", "k");
        _tree.Dst("keep.txt", "k");
        _tree.Dst("old/a.txt", "a");
        List<SyncItem> reviewed = Review(delete: true);
        _tree.Dst("old/new.txt", "arrived after the review");

        (RecordingObserver observer, _) = Apply(reviewed, delete: true);

        Assert.Contains(observer.Items, i => i.RelativePath == "old/a.txt" && i.Action == SyncAction.Delete);
        Assert.True(File.Exists(Path.Join(_tree.Destination, "old/new.txt")));
        Assert.Contains(observer.Warnings, w => w.StartsWith("PlanStale: 'old' (Delete Directory", StringComparison.Ordinal)
            && w.Contains("holds items the plan does not delete", StringComparison.Ordinal));
        Assert.Empty(observer.Errors);
    }

    [Fact]
    public void The_contents_of_a_directory_whose_action_changed_are_skipped_as_stale()
    {
        _tree.Src("d/x.txt", "x");
        List<SyncItem> reviewed = Review(delete: false);
        _tree.Dst("d", "a file where the plan made a directory");

        (RecordingObserver observer, _) = Apply(reviewed, delete: false);

        Assert.DoesNotContain(observer.Items, i => i.RelativePath.StartsWith('d'));
        Assert.Contains(observer.Warnings, w => w.StartsWith("PlanStale: 'd/x.txt'", StringComparison.Ordinal));
        Assert.Equal("a file where the plan made a directory", File.ReadAllText(Path.Join(_tree.Destination, "d")));
    }

    [Fact]
    public void A_remove_source_files_run_removes_only_the_sources_of_the_reviewed_items()
    {
        _tree.Src("a.txt", "a");
        _tree.Src("same.txt", "same", TestTree.BaseTime);
        _tree.Dst("same.txt", "same", TestTree.BaseTime);
        var observer = new RecordingObserver();
        LocalReplicator.Run(_tree.Options() with { RemoveSourceFiles = true }, observer, CancellationToken.None, dryRun: true);
        List<SyncItem> reviewed = observer.Items;

        LocalReplicator.Run(_tree.Options() with { RemoveSourceFiles = true, Review = new ReviewedPlan(reviewed) }, new RecordingObserver(), CancellationToken.None);

        Assert.False(File.Exists(Path.Join(_tree.Source, "a.txt")));
        Assert.True(File.Exists(Path.Join(_tree.Source, "same.txt")), "up to date, so not in the plan: not touched");
    }

    [Fact]
    public void A_retried_run_reports_each_stale_item_once()
    {
        _tree.Src("a.txt", "new", TestTree.BaseTime);
        _tree.Dst("a.txt", "old", TestTree.BaseTime - 100);
        List<SyncItem> reviewed = Review(delete: false);
        _tree.Src("a.txt", "newer content", TestTree.BaseTime + 50);
        var review = new ReviewedPlan(reviewed);
        var observer = new RecordingObserver();

        LocalReplicator.Run(_tree.Options() with { Review = review }, observer, CancellationToken.None);
        LocalReplicator.Run(_tree.Options() with { Review = review }, observer, CancellationToken.None);

        Assert.Single(observer.Warnings, w => w.StartsWith("PlanStale: 'a.txt'", StringComparison.Ordinal));
    }
}
