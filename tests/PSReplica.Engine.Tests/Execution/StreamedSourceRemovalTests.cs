using System.Globalization;
using PSReplica.Engine.Planning;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>Issue 18, item 7: a streamed run settles -RemoveSourceFiles (and -ResetArchive) as it goes, each source file
/// once the actions planned up to it are reported, instead of keeping every source entry until the run ends; the planner
/// never holds more than <see cref="SourceFileQueue.Capacity"/> of them. What is removed, and when a file is kept, is as
/// before: only after its item is reported, never one that changed since it was listed.</summary>
public sealed class StreamedSourceRemovalTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private static string Name(int i) => "f" + i.ToString("D5", CultureInfo.InvariantCulture);

    /// <summary>More source files than the queue may hold, in <paramref name="directory"/>; each holds its own name.</summary>
    private void Crowd(string directory, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _tree.Src(directory + "/" + Name(i), Name(i));
        }
    }

    /// <summary>Plans on a thread of its own and runs the plan while it is made, as Sync-Directory does; returns the plan
    /// so that a test can look at what its queue held.</summary>
    private static (SyncPlan Plan, SyncSummary Summary) RunStreamed(SyncOptions options, RecordingObserver observer)
    {
        SyncPlan plan = LocalReplicator.Plan(options with { MeasureDestination = true }, observer, stream: true, CancellationToken.None);
        Assert.True(plan.Actions.Streams);
        return (plan, LocalReplicator.Execute(plan, observer, CancellationToken.None));
    }

    [Fact]
    public void A_first_copy_removes_its_sources_while_it_runs_holding_a_bounded_queue()
    {
        int count = SourceFileQueue.Capacity + 500;
        Crowd("a", count);
        _tree.Src("z/last", "l");
        var observer = new RecordingObserver
        {
            // Removal follows the report: the source of an item being reported is still there.
            OnItemHook = item => Assert.True(item.ItemType != SyncItemType.File || File.Exists(Path.Join(_tree.Source, item.RelativePath)),
                $"'{item.RelativePath}' was removed from the source before its item was reported"),
        };

        (SyncPlan plan, SyncSummary summary) = RunStreamed(_tree.Options() with { RemoveSourceFiles = true }, observer);

        Assert.Empty(observer.Errors);
        Assert.Empty(observer.Warnings);
        // The root, a, z and every file.
        Assert.Equal(count + 4, summary.Created);
        Assert.Empty(Directory.GetFiles(Path.Join(_tree.Source, "a")));
        Assert.Empty(Directory.GetFiles(Path.Join(_tree.Source, "z")));
        Assert.Equal(Name(17), File.ReadAllText(Path.Join(_tree.Destination, "a", Name(17))));
        Assert.Equal(count, Directory.GetFiles(Path.Join(_tree.Destination, "a")).Length);

        // The planner waited for the settling instead of queueing every file: more files than the bound went through it.
        Assert.InRange(plan.SourceFiles.HeldAtMost, 1, SourceFileQueue.Capacity);
        Assert.Equal(0, plan.SourceFiles.Count);

        // Items keep their plan order.
        Assert.Equal(observer.Items.Select(i => i.RelativePath).Order(StringComparer.Ordinal), observer.Items.Select(i => i.RelativePath));
    }

    [Fact]
    public void A_run_with_nothing_to_copy_removes_the_sources_already_up_to_date_holding_a_bounded_queue()
    {
        int count = SourceFileQueue.Capacity + 500;
        Crowd("a", count);
        LocalReplicator.Run(_tree.Options(), new RecordingObserver(), CancellationToken.None);

        var observer = new RecordingObserver();
        (SyncPlan plan, SyncSummary summary) = RunStreamed(_tree.Options() with { RemoveSourceFiles = true }, observer);

        Assert.Empty(observer.Errors);
        Assert.Empty(observer.Items);
        Assert.Equal(0, summary.Created + summary.Updated);
        Assert.Empty(Directory.GetFiles(Path.Join(_tree.Source, "a")));
        Assert.Equal(count, Directory.GetFiles(Path.Join(_tree.Destination, "a")).Length);
        Assert.InRange(plan.SourceFiles.HeldAtMost, 1, SourceFileQueue.Capacity);
    }

    [Fact]
    public void A_source_changed_after_its_item_was_reported_is_kept()
    {
        Crowd("a", 20);
        string changed = "a/" + Name(7);
        var observer = new RecordingObserver
        {
            OnItemHook = item =>
            {
                if (item.RelativePath == changed)
                {
                    // Copied and reported, not yet removed: a writer appends to the source now.
                    File.AppendAllText(Path.Join(_tree.Source, changed), "more");
                }
            },
        };

        RunStreamed(_tree.Options() with { RemoveSourceFiles = true }, observer);

        Assert.Empty(observer.Errors);
        Assert.Equal(Name(7) + "more", File.ReadAllText(Path.Join(_tree.Source, changed)));
        Assert.Contains(observer.Warnings, w => w.Contains($"Not removing '{changed}'", StringComparison.Ordinal));
        Assert.Equal([Name(7)], Directory.GetFiles(Path.Join(_tree.Source, "a")).Select(Path.GetFileName));
        Assert.Equal(Name(7), File.ReadAllText(Path.Join(_tree.Destination, changed)));
    }

    [Fact]
    public void A_source_replaced_after_its_item_was_reported_is_kept()
    {
        Crowd("a", 20);
        string replaced = "a/" + Name(3);
        var observer = new RecordingObserver
        {
            OnItemHook = item =>
            {
                if (item.RelativePath == replaced)
                {
                    // Same name, same content and time, another file (a new inode): not the file that was copied.
                    string path = Path.Join(_tree.Source, replaced);
                    DateTime time = File.GetLastWriteTimeUtc(path);
                    File.Delete(path);
                    File.WriteAllText(path, Name(3));
                    File.SetLastWriteTimeUtc(path, time);
                }
            },
        };

        RunStreamed(_tree.Options() with { RemoveSourceFiles = true }, observer);

        Assert.True(File.Exists(Path.Join(_tree.Source, replaced)));
        Assert.Contains(observer.Warnings, w => w.Contains($"'{replaced}'", StringComparison.Ordinal));
        Assert.Single(Directory.GetFiles(Path.Join(_tree.Source, "a")));
    }

    [Fact]
    public void A_dry_run_keeps_no_source_file_for_later()
    {
        int count = SourceFileQueue.Capacity + 500;
        Crowd("a", count);
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(_tree.Options() with { RemoveSourceFiles = true }, observer, stream: true, CancellationToken.None);
        Assert.True(plan.Actions.Streams);

        LocalReplicator.Execute(plan, observer, CancellationToken.None, dryRun: true);

        Assert.Equal(count, Directory.GetFiles(Path.Join(_tree.Source, "a")).Length);
        Assert.False(Directory.Exists(_tree.Destination));
        Assert.Equal(count + 2, observer.Items.Count);
        // The planner may have queued those it planned before the runner said it settles none (it waits for the runner
        // once PlanActions.Capacity actions are planned); never the whole tree.
        Assert.InRange(plan.SourceFiles.HeldAtMost, 0, PlanActions.Capacity);
        Assert.Equal(0, plan.SourceFiles.Count);
    }

    [Fact]
    public void With_DelayUpdates_sources_are_removed_only_once_every_copy_is_in_place()
    {
        Crowd("a", 30);
        string first = Path.Join(_tree.Source, "a", Name(0));
        bool sawFirstSource = false;
        var observer = new RecordingObserver
        {
            OnItemHook = item =>
            {
                if (item.RelativePath == "a/" + Name(29))
                {
                    // The last item: nothing is in place yet, so nothing of the source may have gone.
                    sawFirstSource = File.Exists(first);
                }
            },
        };

        (SyncPlan plan, _) = RunStreamed(_tree.Options() with { RemoveSourceFiles = true, DelayUpdates = true }, observer);

        Assert.True(sawFirstSource);
        Assert.Empty(observer.Errors);
        Assert.Empty(Directory.GetFiles(Path.Join(_tree.Source, "a")));
        Assert.Equal(30, Directory.GetFiles(Path.Join(_tree.Destination, "a")).Length);
        Assert.Equal(30, plan.SourceFiles.HeldAtMost);
    }
}
