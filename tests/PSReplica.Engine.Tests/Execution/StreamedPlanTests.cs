using PSReplica.Engine.Execution;
using PSReplica.Engine.Planning;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>Issue 18, item 7: a local Sync-Directory runs its plan while the rest of the tree is planned (rsync's
/// incremental recursion), the planner never more than <see cref="PlanActions.Capacity"/> actions ahead of the items
/// reported, so a large tree is never held whole; and what needs the whole scan (no extraneous deletion after a scan
/// error) still waits for it.</summary>
public sealed class StreamedPlanTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    /// <summary>More files than the planner may be ahead: the directories after it are listed only once the run has
    /// reported most of it.</summary>
    private void Crowd(string directory)
    {
        string path = Path.Join(_tree.Source, directory);
        Directory.CreateDirectory(path);
        for (int i = 0; i < PlanActions.Capacity + 100; i++)
        {
            File.WriteAllBytes(Path.Join(path, "f" + i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)), []);
        }
    }

    [Fact]
    public void Files_are_replicated_while_the_rest_of_the_tree_is_still_to_be_listed()
    {
        Crowd("a");
        _tree.Src("z/early", "e");

        // The late file's directory lies deeper than the walkers that list ahead of the planner may go
        // (PrefetchingTreeLister holds at most 96 listings ahead), so it is listed only once the planner nears it.
        string deep = string.Join('/', Enumerable.Range(0, 200).Select(i => "d" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Directory.CreateDirectory(Path.Join(_tree.Source, "z", deep));
        bool first = true;
        var observer = new RecordingObserver
        {
            OnItemHook = _ =>
            {
                if (first)
                {
                    // Written after the first item's report: z is listed only after a's files (depth first), and the
                    // planner cannot be that far ahead of the reports, so this run sees it.
                    first = false;
                    _tree.Src("z/" + deep + "/late", "l");
                }
            },
        };

        SyncSummary summary = LocalReplicator.Run(_tree.Options(), observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        Assert.Equal("l", File.ReadAllText(Path.Join(_tree.Destination, "z", deep, "late")));
        Assert.Equal(PlanActions.Capacity + 100, Directory.GetFiles(Path.Join(_tree.Destination, "a")).Length);
        // Every item is reported once, in plan order, and the totals count the whole tree (known only at the end).
        Assert.Equal(TestTree.Listing(_tree.Destination).Count + 1, observer.Items.Count);
        Assert.Equal(observer.Items.Count, summary.Created);
        Assert.Equal(TestTree.Listing(_tree.Source).Count, summary.ItemsTotal);
        Assert.Equal(observer.Items.Select(i => i.RelativePath).Order(StringComparer.Ordinal), observer.Items.Select(i => i.RelativePath));
    }

    [Fact]
    public void An_extraneous_deletion_waits_for_the_whole_scan_and_is_skipped_after_a_later_scan_error()
    {
        // The deletion in a is met long before z is listed; z's dangling link under -CopyLinks is an I/O error (rsync -L).
        _tree.Dst("a/extra", "x");
        Crowd("a");
        Crowd("m");
        Directory.CreateDirectory(Path.Join(_tree.Source, "z"));
        File.CreateSymbolicLink(Path.Join(_tree.Source, "z/dangling"), "nowhere");

        var observer = new RecordingObserver();
        SyncSummary summary = LocalReplicator.Run(_tree.Options(delete: true) with { CopyLinks = true }, observer, CancellationToken.None);

        Assert.True(File.Exists(Path.Join(_tree.Destination, "a/extra")));
        Assert.Equal(new[] { ErrorIds.SymbolicLinkNoReferent, ErrorIds.DeletionSkippedAfterIoError }.Order(StringComparer.Ordinal),
            observer.Errors.Select(e => e.ErrorId).Order(StringComparer.Ordinal));
        Assert.True(summary.DeletionsSkipped);
        Assert.Equal(2, summary.Errors);
        Assert.Equal(PlanActions.Capacity + 101, Directory.GetFiles(Path.Join(_tree.Destination, "a")).Length);
        Assert.Equal(PlanActions.Capacity + 100, Directory.GetFiles(Path.Join(_tree.Destination, "m")).Length);

        // Without the error the same deletion goes ahead.
        File.Delete(Path.Join(_tree.Source, "z/dangling"));
        var again = new RecordingObserver();
        LocalReplicator.Run(_tree.Options(delete: true) with { CopyLinks = true }, again, CancellationToken.None);
        Assert.Empty(again.Errors);
        Assert.False(File.Exists(Path.Join(_tree.Destination, "a/extra")));
    }

    [Fact]
    public void A_stopped_run_ends_its_planner_too()
    {
        Crowd("a");
        Crowd("b");
        using var stop = new CancellationTokenSource();
        var observer = new RecordingObserver { OnItemHook = item => stop.Cancel() };

        Assert.ThrowsAny<OperationCanceledException>(() => LocalReplicator.Run(_tree.Options(), observer, stop.Token));

        // Nothing runs on after the call returned: a second run finds the tree as the first left it and finishes it.
        var again = new RecordingObserver();
        LocalReplicator.Run(_tree.Options(), again, CancellationToken.None);
        Assert.Empty(again.Errors);
        Assert.Equal(PlanActions.Capacity + 100, Directory.GetFiles(Path.Join(_tree.Destination, "b")).Length);
        Assert.DoesNotContain(TestTree.Listing(_tree.Destination), p => TempFileNames.IsTemporary(p));
    }
}
