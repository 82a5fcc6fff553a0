using PSReplica.Engine.Watching;

namespace PSReplica.Engine.Tests.Watching;

/// <summary>What every tree watcher does, run once per implementation (<see cref="InotifyWatcherTests"/>,
/// <see cref="PortableWatcherTests"/>): the watched root is the tree's Source, and its Root holds what is outside.</summary>
public abstract class TreeWatcherContract : IDisposable
{
    private protected TreeWatcherContract()
    {
        Tree = new TestTree();
    }

    private protected TestTree Tree { get; }

    private protected string Source => Tree.Source;

    private protected string Outside => Tree.Root;

    private protected abstract ITreeWatcher Start(string root, Func<string, bool>? watchDirectory = null);

    public void Dispose()
    {
        Tree.Dispose();
        GC.SuppressFinalize(this);
    }

    private protected string At(string relative) => Path.Join(Source, relative);

    [Fact]
    public async Task A_file_made_written_renamed_and_deleted_gives_items_with_relative_paths()
    {
        Directory.CreateDirectory(At("sub/deeper"));
        using ITreeWatcher watcher = Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("sub/deeper");

        File.WriteAllText(At("sub/deeper/f.txt"), "one");
        await changes.Item("sub/deeper/f.txt");
        await changes.Settle();

        File.AppendAllText(At("sub/deeper/f.txt"), "two");
        await changes.Item("sub/deeper/f.txt");

        File.Move(At("sub/deeper/f.txt"), At("sub/g.txt"));
        await changes.Item("sub/deeper/f.txt");
        await changes.Item("sub/g.txt");

        File.Delete(At("sub/g.txt"));
        await changes.Item("sub/g.txt");

        File.WriteAllText(At("top.txt"), "root");
        await changes.Item("top.txt");
        Assert.All(changes.Seen, c => Assert.DoesNotContain('\\', c.RelativePath));
        Assert.All(changes.Seen, c => Assert.False(Path.IsPathRooted(c.RelativePath), c.RelativePath));
    }

    [Fact]
    public async Task A_directory_made_with_files_already_inside_gives_its_subtree_and_is_watched()
    {
        using ITreeWatcher watcher = Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle();

        // mkdir -p a/b/c and a file in it, as fast as it goes: the file may come before any watch on a/b/c.
        Directory.CreateDirectory(At("a/b/c"));
        File.WriteAllText(At("a/b/c/early.txt"), "early");
        await changes.Subtree("a");

        // A watcher may have listed a/b before c was made in it, and then sees c made or lists it again, when it reads
        // the event of c (queued before the marker) or adds the watch on a/b (prompted by an event queued before it): once
        // the marker is seen, every directory is watched.
        await changes.Settle();
        File.WriteAllText(At("a/b/c/later.txt"), "later");
        await changes.Item("a/b/c/later.txt");
    }

    [Fact]
    public async Task A_directory_renamed_within_the_tree_reports_later_changes_under_its_new_path()
    {
        Directory.CreateDirectory(At("old/inner/deepest"));
        Directory.CreateDirectory(At("elsewhere"));
        using ITreeWatcher watcher = Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("old/inner/deepest");

        Directory.Move(At("old"), At("elsewhere/new"));
        await changes.Item("old");
        await changes.Subtree("elsewhere/new");
        int after = changes.Seen.Count;

        File.WriteAllText(At("elsewhere/new/inner/deepest/f.txt"), "moved");
        await changes.Item("elsewhere/new/inner/deepest/f.txt");
        Directory.CreateDirectory(At("elsewhere/new/inner/made"));
        await changes.Subtree("elsewhere/new/inner/made");
        await changes.Settle("elsewhere/new/inner/made");
        Assert.Empty(changes.Under("old", after));
    }

    [Fact]
    public async Task A_directory_moved_out_of_the_tree_is_no_longer_reported()
    {
        Directory.CreateDirectory(At("d/e"));
        using ITreeWatcher watcher = Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("d/e");

        Directory.Move(At("d"), Path.Join(Outside, "moved-out"));
        await changes.Item("d");
        int after = changes.Seen.Count;

        File.WriteAllText(Path.Join(Outside, "moved-out/e/f.txt"), "outside");
        File.WriteAllText(Path.Join(Outside, "moved-out/g.txt"), "outside");
        await changes.Settle();
        Assert.Empty(changes.Under("d", after));
    }

    [Fact]
    public async Task A_directory_deleted_and_made_again_is_watched_afresh()
    {
        Directory.CreateDirectory(At("d/e"));
        using ITreeWatcher watcher = Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("d/e");

        Directory.Delete(At("d"), recursive: true);
        await changes.Item("d");
        Directory.CreateDirectory(At("d/e"));
        await changes.Subtree("d");
        await changes.Settle();
        await changes.Settle("d/e");
    }

    [Fact]
    public async Task A_link_to_a_directory_outside_the_tree_is_not_watched_through()
    {
        string target = Path.Join(Outside, "target");
        Directory.CreateDirectory(Path.Join(target, "inner"));
        File.CreateSymbolicLink(At("at-start"), target);
        using ITreeWatcher watcher = Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle();

        File.CreateSymbolicLink(At("made-later"), target);
        await changes.Item("made-later");
        await changes.Settle();
        int after = changes.Seen.Count;

        File.WriteAllText(Path.Join(target, "f.txt"), "outside");
        File.WriteAllText(Path.Join(target, "inner/g.txt"), "outside");
        await changes.Settle();
        Assert.Empty(changes.Under("at-start", after));
        Assert.Empty(changes.Under("made-later", after));
        Assert.DoesNotContain(changes.Seen, c => c.Kind == WatchChangeKind.Subtree && c.RelativePath == "made-later");
    }

    [Fact]
    public async Task Changes_below_a_directory_the_predicate_declines_are_not_reported()
    {
        Directory.CreateDirectory(At("skip/inner"));
        Directory.CreateDirectory(At("keep"));
        using ITreeWatcher watcher = Start(Source, relative => relative != "skip");
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("keep");

        File.WriteAllText(At("skip/f.txt"), "x");
        File.WriteAllText(At("skip/inner/g.txt"), "x");
        Directory.CreateDirectory(At("skip/inner/new"));
        await changes.Settle("keep");
        Assert.DoesNotContain(changes.Under("skip"), c => c.RelativePath != "skip");

        Directory.Delete(At("skip"), recursive: true);
        await changes.Item("skip");
    }

    [Fact]
    public async Task The_root_deleted_ends_the_watch_with_WatchRootLost()
    {
        Directory.CreateDirectory(At("d"));
        File.WriteAllText(At("d/f.txt"), "x");
        using ITreeWatcher watcher = Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("d");

        Directory.Delete(Source, recursive: true);
        SyncException lost = await RootLost(watcher);
        Assert.Equal(ErrorIds.WatchRootLost, lost.ErrorId);
    }

    [Fact]
    public async Task The_root_moved_ends_the_watch_with_WatchRootLost()
    {
        using ITreeWatcher watcher = Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle();

        Directory.Move(Source, Path.Join(Outside, "moved-root"));
        SyncException lost = await RootLost(watcher);
        Assert.Equal(ErrorIds.WatchRootLost, lost.ErrorId);
        Assert.Contains("moved", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_ends_the_watch_and_completes_the_changes()
    {
        ITreeWatcher watcher = Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle();

        await Task.Run(watcher.Dispose).WaitAsync(TimeSpan.FromSeconds(30));
        await Drain(watcher);
        Assert.True(watcher.Changes.Completion.IsCompletedSuccessfully);
        watcher.Dispose();
    }

    [Fact]
    public void A_missing_root_is_refused()
    {
        SyncException e = Assert.Throws<SyncException>(() => Start(Path.Join(Outside, "missing")));
        Assert.Equal(ErrorIds.SourceNotFound, e.ErrorId);
    }

    /// <summary>Reads what is left until the channel ends (its Completion completes only once it is empty).</summary>
    private protected static async Task Drain(ITreeWatcher watcher)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (WatchChange _ in watcher.Changes.ReadAllAsync(timeout.Token))
        {
        }
    }

    private protected static async Task<SyncException> RootLost(ITreeWatcher watcher)
    {
        // The changes before the end are drained first; the failure bound is the only timeout.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (await watcher.Changes.WaitToReadAsync(timeout.Token))
            {
                while (watcher.Changes.TryRead(out _))
                {
                }
            }
        }
        catch (SyncException)
        {
            // WaitToReadAsync throws what the channel was completed with; Completion says the same below.
        }

        return await Assert.ThrowsAsync<SyncException>(() => watcher.Changes.Completion);
    }
}
