using System.Collections.Concurrent;
using CsCheck;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Tests.Endpoints;

/// <summary>The lister that reads directories ahead of the planner (issue 18, item 8): the plan, its order and its errors
/// are the serial walk's; what the planner does not enter is never reported; the window ahead is bounded; a directory
/// swapped for a link around the walk ahead is never followed. The planner tests at large run through it too
/// (<see cref="LocalReplicator.Plan"/> wires it in).</summary>
public sealed class PrefetchingTreeListerTests : IDisposable
{
    private static readonly string[] s_names = ["a", "a-b", "a.b", "a0", "b", "B", "c d", "é"];

    // A tree as a list of paths (one to four components from names chosen to sort around '/') and kinds (file,
    // directory, symbolic link).
    private static readonly Gen<(string Path, int Kind)[]> s_tree =
        Gen.Select(Gen.Int[1, 4], Gen.Int[0, s_names.Length - 1].Array[4], Gen.Int[0, 2],
            (depth, names, kind) => (string.Join('/', names.Take(depth).Select(i => s_names[i])), kind)).Array[1, 40];

    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void The_plan_and_its_order_are_the_serial_walks_for_any_tree()
    {
        Gen.Select(s_tree, s_tree, Gen.Bool, Gen.Int[0, 3], Gen.Bool).Sample((sourceTree, destinationTree, delete, filter, smallWindow) =>
        {
            using var tree = new TestTree();
            Materialize(tree.Source, sourceTree);
            Materialize(tree.Destination, destinationTree);
            if (filter == 3)
            {
                // A per-directory filter file: the static rules do not know what it excludes.
                File.WriteAllText(Path.Join(tree.Source, ".f"), "- a/\n");
            }

            SyncOptions options = tree.Options(delete) with
            {
                Filter = filter switch
                {
                    1 => SyncFilter.Parse("- a-b/"),
                    2 => SyncFilter.Parse("- /b", "+ */", "- *.b"),
                    3 => SyncFilter.Parse(": .f"),
                    _ => SyncFilter.Empty,
                },
            };
            (string[] serial, string[] serialErrors) = Plan(options, null, null, withPaths: true);
            using var source = new PrefetchingTreeLister(LocalTreeLister.Instance, null, false, CancellationToken.None, walkers: 2,
                maxListings: smallWindow ? 2 : PrefetchingTreeLister.MaxListings, maxEntries: smallWindow ? 4 : PrefetchingTreeLister.MaxEntries);
            using var destinationLister = new PrefetchingTreeLister(LocalTreeLister.Instance, null, false, CancellationToken.None, walkers: 2,
                maxListings: smallWindow ? 2 : PrefetchingTreeLister.MaxListings, maxEntries: smallWindow ? 4 : PrefetchingTreeLister.MaxEntries);
            (string[] ahead, string[] aheadErrors) = Plan(options, source, destinationLister, withPaths: true);
            Assert.Equal(serial, ahead);
            Assert.Equal(serialErrors, aheadErrors);
        }, iter: 60, threads: 1);
    }

    [Fact]
    public void A_directory_that_cannot_be_read_is_reported_at_the_same_item_as_before()
    {
        _tree.Src("a/f", "1");
        _tree.Src("b/c/f", "2");
        _tree.Src("b/d/f", "3");
        _tree.Src("e/f", "4");
        _tree.Dst("b/c/f", "2");
        _tree.Dst("b/d/g", "5");
        var failing = new FaultyLister("b/c", "b/d");
        SyncOptions options = _tree.Options(delete: true);
        (string[] serial, string[] serialErrors) = Plan(options, failing, failing);
        using var source = new PrefetchingTreeLister(failing, null, false, CancellationToken.None);
        using var destination = new PrefetchingTreeLister(failing, null, false, CancellationToken.None);
        // The planner lets the walkers go as far as they may before each directory below the root, so that the failed
        // listings are read ahead whatever the machine's load (it once outran them on this small tree).
        (string[] ahead, string[] aheadErrors) = Plan(options, new IdleFirstLister(source), new IdleFirstLister(destination));

        Assert.Equal(serial, ahead);
        Assert.Equal(serialErrors, aheadErrors);
        Assert.Equal(4, aheadErrors.Count(e => e.StartsWith("ScanError ", StringComparison.Ordinal)));
        Assert.Contains(aheadErrors, e => e.StartsWith("ScanError b/c ", StringComparison.Ordinal));
        Assert.True(source.Hits + destination.Hits > 0, "Nothing was listed ahead.");
        // Nothing is deleted in a directory whose listing failed (b/d/g stays).
        Assert.DoesNotContain(ahead, line => line.Contains("b/d/g", StringComparison.Ordinal));
    }

    [Fact]
    public void An_excluded_directory_is_never_listed_ahead_and_its_errors_never_reported()
    {
        _tree.Src("a/f", "1");
        _tree.Src("secret/inner/f", "2");
        _tree.Src("z/f", "3");
        var failing = new FaultyLister("secret", "secret/inner");
        SyncOptions options = _tree.Options() with { Filter = SyncFilter.Parse("- secret/") };
        using var source = new PrefetchingTreeLister(failing, PrefetchingTreeLister.Descends(options.Filter), false, CancellationToken.None);
        (string[] plan, string[] errors) = Plan(options, source, null);
        source.WaitUntilIdle();

        Assert.Empty(errors);
        Assert.Contains(">f+++++++++ z/f New", plan);
        Assert.DoesNotContain(failing.Listed, path => path.StartsWith("secret", StringComparison.Ordinal));
    }

    [Fact]
    public void A_directory_a_per_directory_file_excludes_may_be_read_ahead_but_nothing_of_it_is_reported()
    {
        _tree.Src("a/f", "1");
        _tree.Src("b/f", "2");
        _tree.Src("c/f", "3");
        File.WriteAllText(Path.Join(_tree.Source, ".f"), "- b/\n");
        var failing = new FaultyLister("b");
        SyncOptions options = _tree.Options() with { Filter = SyncFilter.Parse(": .f") };
        using var source = new PrefetchingTreeLister(failing, null, false, CancellationToken.None, walkers: 0);
        source.List(_tree.Source, string.Empty);
        while (source.ListOneAhead())
        {
        }

        Assert.Contains("b", failing.Listed);
        Assert.True(source.HoldsListing(Path.Join(_tree.Source, "b")));
        (string[] plan, string[] errors) = Plan(options, source, null);

        Assert.Empty(errors);
        Assert.Contains(">f+++++++++ c/f New", plan);
        Assert.DoesNotContain(plan, line => line.Contains(" b ", StringComparison.Ordinal) || line.Contains(" b/", StringComparison.Ordinal));
        // Passed by the planner: let go of.
        Assert.False(source.HoldsListing(Path.Join(_tree.Source, "b")));
    }

    [Fact]
    public void Walkers_take_directories_in_the_planners_order()
    {
        _tree.Src("b/f", "1");
        _tree.Src("a-b/f", "2");
        _tree.Src("a/x/f", "3");
        _tree.Src("a/y/f", "4");
        var recording = new FaultyLister();
        using var lister = new PrefetchingTreeLister(recording, null, false, CancellationToken.None, walkers: 0);
        lister.List(_tree.Source, string.Empty);
        while (lister.ListOneAhead())
        {
        }

        // "a/x" before "a-b": inside "a" comes before what follows "a", though '-' sorts before '/'.
        Assert.Equal(["", "a", "a/x", "a/y", "a-b", "b"], recording.Listed);
    }

    [Fact]
    public void The_window_ahead_is_bounded()
    {
        for (int i = 0; i < 40; i++)
        {
            _tree.Src($"d{i:D2}/e/f", "x");
        }

        var recording = new FaultyLister();
        using var lister = new PrefetchingTreeLister(recording, null, false, CancellationToken.None, walkers: 3, maxListings: 5);
        lister.List(_tree.Source, string.Empty);
        lister.WaitUntilIdle();

        Assert.Equal(5, lister.ListingsAhead);
        Assert.Equal(1 + 5, recording.Listed.Count);
        // Each listing the planner takes makes room for one more.
        List<FileEntry> first = lister.List(Path.Join(_tree.Source, "d00"), "d00");
        Assert.Equal("e", Assert.Single(first).Name);
        lister.WaitUntilIdle();
        Assert.Equal(5, lister.ListingsAhead);
        Assert.Equal(1 + 5 + 1, recording.Listed.Count);
    }

    [Fact]
    public void A_directory_swapped_for_a_link_after_it_was_listed_ahead_is_not_followed()
    {
        _tree.Src("a/mine", "1");
        TestTree.Write(_tree.Root, "outside/theirs", "secret");
        using var lister = new PrefetchingTreeLister(LocalTreeLister.Instance, null, false, CancellationToken.None, walkers: 0);
        lister.List(_tree.Source, string.Empty);
        Assert.True(lister.ListOneAhead());

        string a = _tree.SwapForLinkToOutside(_tree.Source, "a");
        List<FileEntry> entries = lister.List(a, "a");

        Assert.Equal("mine", Assert.Single(entries).Name);
    }

    [Fact]
    public void A_directory_swapped_for_a_link_before_it_is_listed_ahead_is_not_followed()
    {
        _tree.Src("a/mine", "1");
        TestTree.Write(_tree.Root, "outside/theirs", "secret");
        using var lister = new PrefetchingTreeLister(LocalTreeLister.Instance, null, false, CancellationToken.None, walkers: 0);
        lister.List(_tree.Source, string.Empty);

        string a = _tree.SwapForLinkToOutside(_tree.Source, "a");
        Assert.True(lister.ListOneAhead());
        SyncException error = Assert.Throws<SyncException>(() => lister.List(a, "a"));

        Assert.Equal(ErrorIds.ScanError, error.ErrorId);
        Assert.Contains("replaced", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The planner reaches a directory no walker has begun and lists it itself: as a walker would, only while it
    /// is the directory its parent's listing named (the path-based listing follows a link: a root may be one).</summary>
    [Fact]
    public void A_directory_swapped_for_a_link_that_the_planner_lists_itself_is_not_followed()
    {
        _tree.Src("a/mine", "1");
        TestTree.Write(_tree.Root, "outside/theirs", "secret");
        using var lister = new PrefetchingTreeLister(LocalTreeLister.Instance, null, false, CancellationToken.None, walkers: 0);
        lister.List(_tree.Source, string.Empty);

        string a = _tree.SwapForLinkToOutside(_tree.Source, "a");
        SyncException error = Assert.Throws<SyncException>(() => lister.List(a, "a"));

        Assert.Equal(ErrorIds.ScanError, error.ErrorId);
        Assert.Contains("replaced", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_swapped_for_another_before_it_is_listed_ahead_is_not_listed_in_its_place()
    {
        _tree.Src("a/mine", "1");
        using var lister = new PrefetchingTreeLister(LocalTreeLister.Instance, null, false, CancellationToken.None, walkers: 0);
        lister.List(_tree.Source, string.Empty);

        string a = Path.Join(_tree.Source, "a");
        Directory.Move(a, Path.Join(_tree.Source, "moved"));
        _tree.Src("a/other", "2");
        Assert.True(lister.ListOneAhead());

        Assert.Equal(ErrorIds.ScanError, Assert.Throws<SyncException>(() => lister.List(a, "a")).ErrorId);
    }

    [Fact]
    public void Under_OneFileSystem_a_directory_on_another_device_is_not_listed_ahead()
    {
        using var other = new OtherFileSystem();
        _tree.Src("a/f", "1");
        Directory.CreateSymbolicLink(Path.Join(_tree.Source, "m"), other.Path);
        var recording = new FaultyLister();
        // A lister that reports the link's target as a directory (as -CopyLinks sees it) on its own device.
        var resolving = new ResolvingLister(recording, "m");
        using var lister = new PrefetchingTreeLister(resolving, null, oneFileSystem: true, CancellationToken.None, walkers: 0);
        lister.List(_tree.Source, string.Empty);
        while (lister.ListOneAhead())
        {
        }

        Assert.Equal(["", "a"], recording.Listed);
    }

    [Fact]
    public void After_cancellation_nothing_more_is_listed_ahead_and_the_planner_still_gets_every_listing()
    {
        _tree.Src("a/b/f", "1");
        using var cancellation = new CancellationTokenSource();
        var recording = new FaultyLister();
        using var lister = new PrefetchingTreeLister(recording, null, false, cancellation.Token, walkers: 2);
        cancellation.Cancel();
        lister.List(_tree.Source, string.Empty);
        lister.WaitUntilIdle();

        Assert.Equal([""], recording.Listed);
        Assert.Equal("b", Assert.Single(lister.List(Path.Join(_tree.Source, "a"), "a")).Name);
        Assert.Equal(0, lister.Hits);
    }

    [Fact]
    public void A_listing_ahead_names_its_entries_as_the_planners_own_listing_does()
    {
        _tree.Src("d/b", "1");
        _tree.Src("d/a/f", "2");
        _tree.Src("d/c", "3");
        string directory = Path.Join(_tree.Source, "d");
        FileEntry entry = DirectoryLister.Stat(directory, "d", follow: false, out int errno)!;
        Assert.Equal(0, errno);

        List<FileEntry> listed = DirectoryLister.List(directory, "d");
        List<FileEntry> verified = DirectoryLister.ListVerified(directory, "d", entry);

        Assert.Equal(["a", "b", "c"], verified.Select(e => e.Name));
        Assert.Equal(listed.Select(e => e.FullPath), verified.Select(e => e.FullPath));
        Assert.Equal(Path.Join(directory, "a"), verified[0].FullPath);
        Assert.Same(verified[0].FullPath, verified[0].FullPath);
    }

    [Fact]
    public void A_walker_is_added_when_the_planner_reaches_a_directory_no_walker_has_begun()
    {
        _tree.Src("a/f", "1");
        _tree.Src("b/f", "2");
        _tree.Src("c/f", "3");
        using var blocking = new BlockingLister();
        using var lister = new PrefetchingTreeLister(blocking, null, false, CancellationToken.None, walkers: 1, maxWalkers: 2);
        lister.List(_tree.Source, string.Empty);
        // The one walker is held in "a" (as on a disk that has not answered yet); "b" waits in the queue.
        blocking.Entered.Wait();

        Assert.Equal("f", Assert.Single(lister.List(Path.Join(_tree.Source, "b"), "b")).Name);
        Assert.Equal(2, lister.Walkers);
        // The added walker lists ahead: "c" is read while the first walker is still held.
        lister.WaitUntilIdle(stillListing: 1);
        Assert.True(lister.HoldsListing(Path.Join(_tree.Source, "c")));
        // At the bound no more are added.
        blocking.Release.Set();
        Assert.Equal("f", Assert.Single(lister.List(Path.Join(_tree.Source, "c"), "c")).Name);
        Assert.Equal(2, lister.Walkers);
    }

    [Fact]
    public void No_walker_is_added_while_the_walkers_stay_ahead()
    {
        for (int i = 0; i < 10; i++)
        {
            _tree.Src($"d{i}/f", "x");
        }

        using var lister = new PrefetchingTreeLister(LocalTreeLister.Instance, null, false, CancellationToken.None, walkers: 1, maxWalkers: 4);
        lister.List(_tree.Source, string.Empty);
        for (int i = 0; i < 10; i++)
        {
            lister.WaitUntilIdle();
            Assert.Single(lister.List(Path.Join(_tree.Source, $"d{i}"), $"d{i}"));
        }

        Assert.Equal(1, lister.Walkers);
        Assert.Equal(10, lister.Hits);
    }

    [Fact]
    public void Only_a_lister_with_walkers_says_it_lists_ahead()
    {
        using var walking = new PrefetchingTreeLister(LocalTreeLister.Instance, null, false, CancellationToken.None, walkers: 1);
        using var still = new PrefetchingTreeLister(LocalTreeLister.Instance, null, false, CancellationToken.None, walkers: 0);

        Assert.True(walking.ListsAhead);
        Assert.True(new MeasuredTreeLister(walking).ListsAhead);
        Assert.False(still.ListsAhead);
        Assert.False(((ITreeLister)LocalTreeLister.Instance).ListsAhead);
    }

    private static (string[] Lines, string[] Errors) Plan(SyncOptions options, ITreeLister? source, ITreeLister? destination, bool withPaths = false)
    {
        var observer = new RecordingObserver();
        SyncPlan plan = SyncPlanner.Build(options, SourceSet.Resolve(options), options.Destination,
            LocalReplicator.ResolveDestination(options.Destination), observer, CancellationToken.None, source, destination);
        // With the paths, where asked: a listed entry joins its full path only when asked (FileEntry.InDirectory).
        string[] lines = plan.Items.Select(i => withPaths ? $"{i.Itemize} {i.RelativePath} {i.Reason} {i.SourcePath} {i.DestinationPath}"
            : $"{i.Itemize} {i.RelativePath} {i.Reason}").ToArray();
        string[] errors = observer.Errors.Select(e => $"{e.ErrorId} {e.Target} {e.Message}")
            .Concat(observer.Warnings).Concat(plan.ScanErrors.Select(e => "scan " + e.Message)).ToArray();
        return (lines, errors);
    }

    private static void Materialize(string root, (string Path, int Kind)[] spec)
    {
        Directory.CreateDirectory(root);
        foreach ((string path, int kind) in spec)
        {
            string full = Path.Join(root, path);
            string parent = Path.GetDirectoryName(full)!;
            if (Path.Exists(full) || new FileInfo(full).LinkTarget is not null || !EnsureDirectory(root, parent))
            {
                continue;
            }

            switch (kind)
            {
                case 0:
                    File.WriteAllText(full, path);
                    break;
                case 1:
                    Directory.CreateDirectory(full);
                    break;
                default:
                    File.CreateSymbolicLink(full, "a");
                    break;
            }
        }
    }

    /// <summary>Makes the directories down to <paramref name="directory"/>; false where a file or link stands on the way.</summary>
    private static bool EnsureDirectory(string root, string directory)
    {
        if (directory.Length <= root.Length)
        {
            return true;
        }

        if (!EnsureDirectory(root, Path.GetDirectoryName(directory)!))
        {
            return false;
        }

        if (File.Exists(directory) || new FileInfo(directory).LinkTarget is not null)
        {
            return false;
        }

        Directory.CreateDirectory(directory);
        return true;
    }

    /// <summary>The local lister, recording what it lists (relative paths, in order) and failing as a directory that
    /// cannot be read does for the relative paths it is given.</summary>
    private sealed class FaultyLister(params string[] failing) : ITreeLister
    {
        private readonly ConcurrentQueue<string> _listed = new();

        public List<string> Listed => [.. _listed];

        public List<FileEntry> List(string fullPath, string relative)
        {
            Record(relative, fullPath);
            return LocalTreeLister.Instance.List(fullPath, relative);
        }

        public List<FileEntry> ListVerified(FileEntry directory, string relative)
        {
            Record(relative, directory.FullPath);
            return LocalTreeLister.Instance.ListVerified(directory, relative);
        }

        private void Record(string relative, string fullPath)
        {
            _listed.Enqueue(relative);
            if (Array.IndexOf(failing, relative) >= 0)
            {
                throw new SyncException(ErrorIds.ScanError, SyncErrorKind.PermissionDenied, $"Cannot read directory '{fullPath}': permission denied.", relative);
            }
        }
    }

    /// <summary>The local lister, holding the first listing ahead (by a walker) until released.</summary>
    private sealed class BlockingLister : ITreeLister, IDisposable
    {
        private int _held;

        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public List<FileEntry> List(string fullPath, string relative) => LocalTreeLister.Instance.List(fullPath, relative);

        public List<FileEntry> ListVerified(FileEntry directory, string relative)
        {
            if (Interlocked.Exchange(ref _held, 1) == 0)
            {
                Entered.Set();
                Release.Wait();
            }

            return LocalTreeLister.Instance.ListVerified(directory, relative);
        }

        public void Dispose()
        {
            Release.Set();
            Entered.Dispose();
            Release.Dispose();
        }
    }

    /// <summary>Lets a lister's walkers finish what they may list ahead before each listing below the root is taken.</summary>
    private sealed class IdleFirstLister(PrefetchingTreeLister inner) : ITreeLister
    {
        public bool ListsAhead => inner.ListsAhead;

        public List<FileEntry> List(string fullPath, string relative)
        {
            if (relative.Length > 0)
            {
                inner.WaitUntilIdle();
            }

            return inner.List(fullPath, relative);
        }
    }

    /// <summary>Lists through another lister, reporting the named links as the directories they lead to.</summary>
    private sealed class ResolvingLister(ITreeLister inner, string link) : ITreeLister
    {
        public List<FileEntry> List(string fullPath, string relative) => Resolve(inner.List(fullPath, relative));

        public List<FileEntry> ListVerified(FileEntry directory, string relative) => Resolve(inner.ListVerified(directory, relative));

        private List<FileEntry> Resolve(List<FileEntry> entries)
        {
            for (int i = 0; i < entries.Count; i++)
            {
                if (entries[i].Name == link)
                {
                    entries[i] = DirectoryLister.Stat(entries[i].FullPath, entries[i].Name, follow: true, out _)!;
                }
            }

            return entries;
        }
    }
}
