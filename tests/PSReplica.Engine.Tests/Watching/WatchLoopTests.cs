using System.Threading.Channels;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Tests.Remote;
using PSReplica.Engine.Watching;

namespace PSReplica.Engine.Tests.Watching;

/// <summary>-Watch's loop over a watcher the test drives (a channel of changes): the first full sync, one scoped sync per
/// settled batch, lost notifications as a whole-tree sync with a warning, the watcher's error as the run's end, and what
/// -Watch refuses.</summary>
[Collection(nameof(InotifyReaders))]
public sealed class WatchLoopTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>A watcher the test drives: each <see cref="Send"/> is a group of changes the loop sees all at once (never
    /// the first without the rest), so that what the test means as one batch is one batch however the machine schedules
    /// the test's thread.</summary>
    private sealed class FakeWatcher : ITreeWatcher
    {
        private readonly GroupReader _reader;

        public FakeWatcher() => _reader = new GroupReader(Groups.Reader);

        /// <summary>The groups sent; completing its writer (with an error) ends the watcher's changes (with that error).</summary>
        public Channel<WatchChange[]> Groups { get; } = Channel.CreateUnbounded<WatchChange[]>();

        public string? Root { get; set; }

        public bool Disposed { get; private set; }

        public ChannelReader<WatchChange> Changes => _reader;

        public void Send(params WatchChange[] changes) => Assert.True(Groups.Writer.TryWrite(changes));

        public void Dispose()
        {
            Disposed = true;
            Groups.Writer.TryComplete();
        }
    }

    /// <summary>Reads the changes of groups written as arrays: a group's changes become readable in the same instant.</summary>
    private sealed class GroupReader(ChannelReader<WatchChange[]> groups) : ChannelReader<WatchChange>
    {
        private readonly Queue<WatchChange> _pending = new();

        public override Task Completion => groups.Completion;

        public override bool TryRead(out WatchChange item)
        {
            lock (_pending)
            {
                while (_pending.Count == 0 && groups.TryRead(out WatchChange[]? group))
                {
                    foreach (WatchChange change in group)
                    {
                        _pending.Enqueue(change);
                    }
                }

                return _pending.TryDequeue(out item);
            }
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            lock (_pending)
            {
                if (_pending.Count > 0)
                {
                    return new ValueTask<bool>(true);
                }
            }

            return groups.WaitToReadAsync(cancellationToken);
        }
    }

    /// <summary>Runs the loop on a thread of its own; each finished sync's options arrive in <see cref="Syncs"/>.</summary>
    private sealed class Running : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();

        public Running(SyncOptions options, FakeWatcher watcher, RecordingObserver observer, WatchSettings? settings = null)
        {
            Task = System.Threading.Tasks.Task.Factory.StartNew(() => WatchLoop.Run(options, settings ?? new WatchSettings(TimeSpan.FromMilliseconds(20), null), observer,
                (o, batchObserver) =>
                {
                    SyncSummary summary = LocalReplicator.Run(o, batchObserver, _stop.Token);
                    Syncs.Writer.TryWrite(o);
                    return summary;
                },
                root =>
                {
                    watcher.Root = root;
                    return watcher;
                }, _stop.Token), TaskCreationOptions.LongRunning);
        }

        public Channel<SyncOptions> Syncs { get; } = Channel.CreateUnbounded<SyncOptions>();

        public Task Task { get; }

        public async Task<SyncOptions> NextSyncAsync()
        {
            using var bound = new CancellationTokenSource(Bound);
            Task<SyncOptions> next = Syncs.Reader.ReadAsync(bound.Token).AsTask();
            Task done = await System.Threading.Tasks.Task.WhenAny(next, Task);
            if (done == Task)
            {
                await Task;
                throw new InvalidOperationException("The loop ended.");
            }

            return await next;
        }

        public void Stop() => _stop.Cancel();

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task The_first_sync_is_whole_then_each_batch_plans_what_changed_until_stopped()
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        tree.Src("d/b.txt", "b");
        var watcher = new FakeWatcher();
        var observer = new RecordingObserver { WantsVerbose = true };
        using var running = new Running(tree.Options(delete: true), watcher, observer);

        Assert.Null((await running.NextSyncAsync()).Scope);
        Assert.Equal(tree.Source, watcher.Root);
        RandomTree.AssertSame(tree.Source, tree.Destination);

        tree.Src("d/c.txt", "c");
        File.Delete(Path.Join(tree.Source, "a.txt"));
        watcher.Send(new WatchChange(WatchChangeKind.Item, "d/c.txt"), new WatchChange(WatchChangeKind.Item, "a.txt"));
        SyncOptions batch = await running.NextSyncAsync();
        Assert.NotNull(batch.Scope);
        Assert.False(batch.Scope.IsEverything);
        Assert.Equal(["c.txt"], batch.Scope.NamesIn("d"));
        RandomTree.AssertSame(tree.Source, tree.Destination);
        Assert.Contains(observer.Items, i => i.RelativePath == "a.txt" && i.Action == SyncAction.Delete);
        Assert.Contains(observer.Items, i => i.RelativePath == "d/c.txt" && i.Action == SyncAction.Create);

        // Lost notifications: the whole tree, with one warning per reason.
        tree.Src("unseen.txt", "made while notifications were lost");
        watcher.Send(new WatchChange(WatchChangeKind.Lost, string.Empty, "the queue overflowed"), new WatchChange(WatchChangeKind.Lost, string.Empty, "the queue overflowed"));
        Assert.True((await running.NextSyncAsync()).Scope!.IsEverything);
        Assert.Single(observer.Warnings, w => w.Contains("the queue overflowed", StringComparison.Ordinal));
        RandomTree.AssertSame(tree.Source, tree.Destination);

        running.Stop();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.Task);
        Assert.True(watcher.Disposed);
        Assert.Contains("Watch: waiting for changes", observer.Verbose);
        // The roots, backend and filter are said by the first sync only, not again by each batch.
        Assert.Single(observer.Verbose, line => line.StartsWith("Source: ", StringComparison.Ordinal));
    }

    /// <summary>A file written while it was copied (here: after the plan, before the copy) is not put in place and is no
    /// error: the loop copies it again after the settle time, even when no notification comes.</summary>
    [Fact]
    public async Task A_file_written_while_it_was_copied_is_copied_again_once_it_rests_and_is_no_error()
    {
        using var tree = new TestTree();
        tree.Src("busy.log", "first line\n");
        var watcher = new FakeWatcher();
        var observer = new RecordingObserver { WantsVerbose = true };
        var syncs = Channel.CreateUnbounded<SyncOptions>();
        int calls = 0;
        using var stop = new CancellationTokenSource();
        Task loop = Task.Factory.StartNew(() => WatchLoop.Run(tree.Options(), new WatchSettings(TimeSpan.FromMilliseconds(20), null), observer,
            (options, batchObserver) =>
            {
                SyncPlan plan = LocalReplicator.Plan(options, batchObserver, stop.Token);
                if (Interlocked.Increment(ref calls) == 1)
                {
                    File.AppendAllText(Path.Join(tree.Source, "busy.log"), "second line\n");
                }

                SyncSummary summary = LocalReplicator.Execute(plan, batchObserver, stop.Token);
                syncs.Writer.TryWrite(options);
                return summary;
            },
            _ => watcher, stop.Token), TaskCreationOptions.LongRunning);

        using var bound = new CancellationTokenSource(Bound);
        SyncOptions first = await syncs.Reader.ReadAsync(bound.Token);
        Assert.True(first.SourceMustRest);
        Assert.False(File.Exists(Path.Join(tree.Destination, "busy.log")));
        Assert.Empty(TestTree.Listing(tree.Destination));

        SyncOptions again = await syncs.Reader.ReadAsync(bound.Token);
        Assert.Equal(["busy.log"], again.Scope!.NamesIn(string.Empty));
        Assert.Equal("first line\nsecond line\n", File.ReadAllText(Path.Join(tree.Destination, "busy.log")));
        Assert.Empty(observer.Errors);
        Assert.Contains("Watch: 'busy.log' changed while it was copied; it is copied again once it rests", observer.Verbose);

        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop);
    }

    [Fact]
    public void Without_the_watch_a_file_written_after_the_plan_is_copied_as_it_is_then_and_with_it_never_put_in_place()
    {
        using var tree = new TestTree();
        tree.Src("busy.log", "first line\n");
        foreach (bool watch in new[] { false, true })
        {
            // A time of its own per round: an append within the clock's tick keeps the time, and the size tells the change.
            TestTree.SetTime(Path.Join(tree.Source, "busy.log"), watch ? 1_700_000_200 : 1_700_000_100);
            SyncOptions options = tree.Options() with { SourceMustRest = watch };
            var observer = new RecordingObserver();
            SyncPlan plan = LocalReplicator.Plan(options, observer, CancellationToken.None);
            File.AppendAllText(Path.Join(tree.Source, "busy.log"), watch ? "third\n" : "second\n");
            LocalReplicator.Execute(plan, observer, CancellationToken.None);
            if (!watch)
            {
                Assert.Empty(observer.Errors);
                Assert.Equal("first line\nsecond\n", File.ReadAllText(Path.Join(tree.Destination, "busy.log")));
            }
            else
            {
                SyncException error = Assert.Single(observer.Errors);
                Assert.Equal(ErrorIds.SourceChangedSinceListing, error.ErrorId);
                Assert.Equal("busy.log", error.Target);
                Assert.Equal("first line\nsecond\n", File.ReadAllText(Path.Join(tree.Destination, "busy.log")));
                Assert.Equal(["busy.log"], TestTree.Listing(tree.Destination));
            }
        }
    }

    /// <summary>-MaxDelete counts per batch, as each batch is a run of its own: batches under the limit delete, one over
    /// it stops at the limit and says so, and the watch goes on.</summary>
    [Fact]
    public async Task MaxDelete_applies_per_batch_and_a_batch_over_it_does_not_end_the_watch()
    {
        using var tree = new TestTree();
        foreach (string name in new[] { "a", "b", "c", "d", "e", "f", "g" })
        {
            tree.Src(name, name);
        }

        var watcher = new FakeWatcher();
        var observer = new RecordingObserver();
        // Each step's changes are one batch: they are sent as one group.
        using var running = new Running(tree.Options(delete: true) with { MaxDelete = 2 }, watcher, observer);
        _ = await running.NextSyncAsync();

        async Task DeleteAsync(params string[] names)
        {
            foreach (string name in names)
            {
                File.Delete(Path.Join(tree.Source, name));
            }

            watcher.Send([.. names.Select(name => new WatchChange(WatchChangeKind.Item, name))]);

            _ = await running.NextSyncAsync();
        }

        await DeleteAsync("a", "b");
        await DeleteAsync("c", "d");
        Assert.Empty(observer.Errors);
        Assert.Equal(["e", "f", "g"], TestTree.Listing(tree.Destination));

        // As rsync --max-delete: the batch deletes up to the limit, then stops with the error. What it left stays (a
        // limit is a safety net: the watch does not try again by itself; a rescan or the next run would).
        await DeleteAsync("e", "f", "g");
        Assert.Equal(ErrorIds.MaxDeleteExceeded, Assert.Single(observer.Errors).ErrorId);
        string left = Assert.Single(TestTree.Listing(tree.Destination));

        tree.Src("h", "h");
        watcher.Send(new WatchChange(WatchChangeKind.Item, "h"));
        _ = await running.NextSyncAsync();
        Assert.Equal([left, "h"], TestTree.Listing(tree.Destination));
        running.Stop();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.Task);
    }

    /// <summary>A batch whose scan met an error deletes nothing (rsync's --ignore-errors is not the default): here a link
    /// with no referent under -CopyLinks, named by the same batch as a deletion.</summary>
    [Fact]
    public async Task A_batch_whose_scan_met_an_error_skips_its_deletions()
    {
        using var tree = new TestTree();
        tree.Src("keep", "k");
        tree.Src("gone", "g");
        var watcher = new FakeWatcher();
        var observer = new RecordingObserver();
        using var running = new Running(tree.Options(delete: true) with { CopyLinks = true }, watcher, observer);
        _ = await running.NextSyncAsync();

        File.Delete(Path.Join(tree.Source, "gone"));
        File.CreateSymbolicLink(Path.Join(tree.Source, "dangling"), "nowhere");
        watcher.Send(new WatchChange(WatchChangeKind.Item, "gone"), new WatchChange(WatchChangeKind.Item, "dangling"));
        _ = await running.NextSyncAsync();

        Assert.True(File.Exists(Path.Join(tree.Destination, "gone")));
        Assert.Contains(observer.Errors, e => e.ErrorId == ErrorIds.DeletionSkippedAfterIoError);
        Assert.Contains(observer.Errors, e => e.ErrorId == ErrorIds.SymbolicLinkNoReferent);
        running.Stop();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.Task);
    }

    /// <summary>A burst under the platform's real watcher: a directory made and a thousand files renamed into it at once
    /// (each whole as it appears), many of them before the directory's own watch exists. Every one arrives, and the
    /// replica equals the source.</summary>
    [Fact]
    public async Task A_burst_of_a_thousand_files_under_the_real_watcher_all_arrive()
    {
        using var tree = new TestTree();
        tree.Src("seed.txt", "seed");
        string staging = Path.Join(tree.Root, "staging");
        Directory.CreateDirectory(staging);
        const int Count = 1000;
        var created = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var seeded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver
        {
            OnItemHook = item =>
            {
                if (item.RelativePath == "seed.txt")
                {
                    seeded.TrySetResult();
                }
                else if (item.RelativePath.StartsWith("burst/", StringComparison.Ordinal) && created.TryAdd(item.RelativePath, true) && created.Count == Count)
                {
                    all.TrySetResult();
                }
            },
        };
        using var stop = new CancellationTokenSource();
        Task watch = Task.Factory.StartNew(() => LocalReplicator.Watch(tree.Options(delete: true), new WatchSettings(TimeSpan.FromMilliseconds(20), null), observer, 0,
            TimeSpan.Zero, stop.Token), TaskCreationOptions.LongRunning);
        await seeded.Task.WaitAsync(Bound);

        for (int i = 0; i < Count; i++)
        {
            File.WriteAllText(Path.Join(staging, $"f{i:D4}.txt"), new string((char)('a' + (i % 26)), 1 + (i % 300)));
        }

        Directory.CreateDirectory(Path.Join(tree.Source, "burst"));
        for (int i = 0; i < Count; i++)
        {
            File.Move(Path.Join(staging, $"f{i:D4}.txt"), Path.Join(tree.Source, "burst", $"f{i:D4}.txt"));
        }

        Task first = await Task.WhenAny(all.Task, watch).WaitAsync(Bound);
        await first;
        // Every file arrived whole (each was complete when it appeared; the items say they were put in place). The
        // directories' times are set when the batch ends, which the test does not wait for.
        string[] names = TestTree.Listing(Path.Join(tree.Source, "burst")).ToArray();
        Assert.Equal(Count, names.Length);
        Assert.Equal(names, TestTree.Listing(Path.Join(tree.Destination, "burst")));
        foreach (string name in names)
        {
            Assert.Equal(File.ReadAllText(Path.Join(tree.Source, "burst", name)), File.ReadAllText(Path.Join(tree.Destination, "burst", name)));
        }

        Assert.Empty(observer.Errors);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watch);
    }

    /// <summary>A directory renamed in the source is renamed at the destination (its files keep their inodes: nothing is
    /// copied again), reported as the old name's Delete and the new name's Create; without -Delete, whose mirror would keep
    /// the old name, it is copied as before.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_directory_renamed_in_the_source_is_renamed_at_the_destination_in_a_mirror(bool delete)
    {
        using var tree = new TestTree();
        for (int i = 0; i < 20; i++)
        {
            tree.Src($"big/sub/f{i:D2}.txt", new string('x', 100 + i));
        }

        var items = Channel.CreateUnbounded<SyncItem>();
        var observer = new RecordingObserver { WantsVerbose = true, OnItemHook = item => items.Writer.TryWrite(item) };
        using var stop = new CancellationTokenSource();
        Task watch = Task.Factory.StartNew(() => LocalReplicator.Watch(tree.Options(delete), new WatchSettings(TimeSpan.FromMilliseconds(20), null), observer, 0,
            TimeSpan.Zero, stop.Token), TaskCreationOptions.LongRunning);
        async Task<SyncItem> NextAsync(Func<SyncItem, bool> wanted)
        {
            using var bound = new CancellationTokenSource(Bound);
            while (true)
            {
                SyncItem item = await items.Reader.ReadAsync(bound.Token);
                if (wanted(item))
                {
                    return item;
                }
            }
        }

        _ = await NextAsync(item => item.RelativePath == "big/sub/f19.txt");
        long inode = Inode(Path.Join(tree.Destination, "big/sub/f07.txt"));

        Directory.Move(Path.Join(tree.Source, "big"), Path.Join(tree.Source, "renamed"));
        if (delete)
        {
            SyncItem gone = await NextAsync(item => item.RelativePath == "big");
            SyncItem made = await NextAsync(item => item.RelativePath == "renamed");
            Assert.Equal((SyncAction.Delete, SyncAction.Create), (gone.Action, made.Action));
            Assert.Equal(inode, Inode(Path.Join(tree.Destination, "renamed/sub/f07.txt")));
            Assert.False(Directory.Exists(Path.Join(tree.Destination, "big")));
            Assert.Contains("Watch: 'big' was renamed 'renamed' in the source, and at the destination too (not copied again)", observer.Verbose);
        }
        else
        {
            _ = await NextAsync(item => item.RelativePath == "renamed/sub/f19.txt" && item.Action == SyncAction.Create);
            Assert.NotEqual(inode, Inode(Path.Join(tree.Destination, "renamed/sub/f07.txt")));
            Assert.True(Directory.Exists(Path.Join(tree.Destination, "big")));
        }

        Assert.Equal(TestTree.Listing(Path.Join(tree.Source, "renamed")), TestTree.Listing(Path.Join(tree.Destination, "renamed")));
        Assert.Empty(observer.Errors);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watch);
    }

    [Theory]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "- *.tmp", "- build/", "+ *.cs" }, true)]
    [InlineData(new[] { "- /top" }, false)]
    [InlineData(new[] { "- docs/*.md" }, false)]
    [InlineData(new[] { "- **/x" }, false)]
    [InlineData(new[] { ": .rsync-filter" }, false)]
    public void Renames_are_repeated_only_under_a_filter_that_decides_by_names(string[] rules, bool byNames) =>
        Assert.Equal(byNames, DirectoryMoves.DecidesByNames(SyncFilter.Parse(rules)));

    [Fact]
    public void Renames_are_repeated_only_where_the_mirror_would_hold_the_same()
    {
        var mirror = new SyncOptions { Source = "/s", Destination = "/d", Delete = true };
        Assert.Null(DirectoryMoves.Refusal(mirror));
        Assert.Null(DirectoryMoves.Refusal(mirror with { Filter = SyncFilter.Parse("- *.tmp"), DeleteExcluded = true }));
        Assert.Null(DirectoryMoves.Refusal(mirror with { CompareMode = CompareMode.Checksum, Inplace = true }));
        Assert.NotNull(DirectoryMoves.Refusal(mirror with { Delete = false }));
        Assert.NotNull(DirectoryMoves.Refusal(mirror with { Backup = true }));
        Assert.NotNull(DirectoryMoves.Refusal(mirror with { MaxDelete = 100 }));
        Assert.NotNull(DirectoryMoves.Refusal(mirror with { MaxSize = 1 << 20 }));
        Assert.NotNull(DirectoryMoves.Refusal(mirror with { Update = true }));
        // An excluded item at the destination stays there without -DeleteExcluded, under the old name: rsync's result.
        Assert.NotNull(DirectoryMoves.Refusal(mirror with { Filter = SyncFilter.Parse("- *.tmp") }));
        Assert.NotNull(DirectoryMoves.Refusal(mirror with { Filter = SyncFilter.Parse("- docs/*.md"), DeleteExcluded = true }));
        Assert.NotNull(DirectoryMoves.Refusal(mirror with { Filter = SyncFilter.Parse("P keep"), DeleteExcluded = true }));
    }

    [Fact]
    public void A_scope_keeps_the_renames_the_watcher_paired()
    {
        PlanScope scope = PlanScope.From([
            new WatchChange(WatchChangeKind.Item, "a"),
            new WatchChange(WatchChangeKind.Item, "b"),
            new WatchChange(WatchChangeKind.Subtree, "b") { From = "a" },
            new WatchChange(WatchChangeKind.Subtree, "c"),
        ]);
        Assert.Equal([("a", "b")], scope.Moves);
        Assert.True(scope.IsWhole("b"));
    }

    private static long Inode(string path)
    {
        Assert.Equal(0, Native.Posix.Stat(path, follow: false, out Native.StatInfo info));
        return (long)info.Inode;
    }

    [Fact]
    public async Task The_watchers_error_ends_the_run_with_it()
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        var watcher = new FakeWatcher();
        using var running = new Running(tree.Options(), watcher, new RecordingObserver());
        _ = await running.NextSyncAsync();

        watcher.Groups.Writer.TryComplete(new SyncException("WatchRootLost", SyncErrorKind.NotFound, "The watched source root was removed.", tree.Source));
        var error = await Assert.ThrowsAsync<SyncException>(() => running.Task);
        Assert.Equal("WatchRootLost", error.ErrorId);
    }

    [Fact]
    public void Changes_that_arrive_together_are_one_batch_and_a_rescan_interval_plans_the_whole_tree_when_nothing_came()
    {
        var channel = Channel.CreateUnbounded<WatchChange>();
        foreach (string path in new[] { "a", "b/c", "b/d" })
        {
            channel.Writer.TryWrite(new WatchChange(WatchChangeKind.Item, path));
        }

        List<WatchChange> batch = new ChangeBatches(channel.Reader, new WatchSettings(TimeSpan.FromMilliseconds(10), null)).Next(CancellationToken.None);
        Assert.Equal(["a", "b/c", "b/d"], batch.Select(c => c.RelativePath));

        List<WatchChange> rescan = new ChangeBatches(channel.Reader, new WatchSettings(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10))).Next(CancellationToken.None);
        Assert.Equal([new WatchChange(WatchChangeKind.Subtree, string.Empty)], rescan);

        using var stop = new CancellationTokenSource();
        stop.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new ChangeBatches(channel.Reader, new WatchSettings(TimeSpan.FromMilliseconds(10), null)).Next(stop.Token));
    }

    [Fact]
    public void What_watch_cannot_do_is_refused_before_anything_is_touched()
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        SyncOptions options = tree.Options(delete: true);
        foreach ((SyncOptions refused, string why) in new[]
        {
            (options with { LinkDest = ["../snap"] }, "-LinkDest"),
            (options with { RemoveSourceFiles = true }, "-RemoveSourceFiles together with -Delete"),
            (options with { AdditionalSources = [tree.Source] }, "several sources"),
        })
        {
            var watcher = new FakeWatcher();
            var error = Assert.Throws<SyncException>(() => WatchLoop.Run(refused, new WatchSettings(TimeSpan.FromMilliseconds(10), null), new RecordingObserver(),
                (o, _) => LocalReplicator.Run(o, new RecordingObserver(), CancellationToken.None), _ => watcher, CancellationToken.None));
            Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
            Assert.Contains(why, error.Message, StringComparison.Ordinal);
            Assert.Null(watcher.Root);
            Assert.False(Directory.Exists(tree.Destination));
        }
    }
}
