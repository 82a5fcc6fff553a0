using PSReplica.Engine.Tests.Remote;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Watching;

namespace PSReplica.Engine.Tests.Watching;

/// <summary>-Watch's scoped planning: a batch plans only the changed names and the directories on the way to them, and
/// the replica converges as a full run would make it.</summary>
public sealed class PlanScopeTests
{
    private static WatchChange Item(string path) => new(WatchChangeKind.Item, path);

    private static WatchChange Subtree(string path) => new(WatchChangeKind.Subtree, path);

    private static List<string> Plan(SyncOptions options) =>
        [.. LocalReplicator.Plan(options with { MeasureDestination = true }, new RecordingObserver(), CancellationToken.None).Actions
            .Select(a => $"{a.Item.Action} {a.Item.RelativePath}").Order(StringComparer.Ordinal)];

    [Fact]
    public void A_batch_plans_only_the_changed_names_and_a_full_run_finds_nothing_left()
    {
        using var tree = new TestTree();
        tree.Src("a/one.txt", "one");
        tree.Src("a/two.txt", "two");
        tree.Src("b/three.txt", "three");
        tree.Src("top.txt", "top");
        LocalReplicator.Run(tree.Options(delete: true), new RecordingObserver(), CancellationToken.None);

        // Changes the batch is told of, and one it is not (b/three.txt): that one is left for a later batch.
        File.WriteAllText(Path.Join(tree.Source, "a/one.txt"), "one, changed");
        File.Delete(Path.Join(tree.Source, "a/two.txt"));
        tree.Src("a/new/deep/file.txt", "new");
        File.WriteAllText(Path.Join(tree.Source, "b/three.txt"), "three, unseen");

        SyncOptions options = tree.Options(delete: true);
        PlanScope scope = PlanScope.From([Item("a/one.txt"), Item("a/two.txt"), Subtree("a/new")]);
        List<string> scoped = Plan(options with { Scope = scope });
        Assert.Contains("Update a/one.txt", scoped);
        Assert.Contains("Delete a/two.txt", scoped);
        Assert.Contains("Create a/new/deep/file.txt", scoped);
        Assert.DoesNotContain(scoped, line => line.Contains("three", StringComparison.Ordinal) || line.Contains("top", StringComparison.Ordinal));

        var observer = new RecordingObserver();
        LocalReplicator.Run(options with { Scope = scope }, observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        Assert.Equal("three", File.ReadAllText(Path.Join(tree.Destination, "b/three.txt")));

        // The one change no batch named is all a full run still finds.
        Assert.Equal(["Update b/three.txt"], Plan(options).Where(l => !l.EndsWith(" b", StringComparison.Ordinal) && !l.EndsWith(" .", StringComparison.Ordinal)));
        LocalReplicator.Run(options with { Scope = PlanScope.From([Item("b/three.txt")]) }, new RecordingObserver(), CancellationToken.None);
        Assert.Empty(Plan(options));
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }

    [Fact]
    public void A_directory_the_destination_lacks_is_planned_whole_even_when_only_its_name_changed()
    {
        using var tree = new TestTree();
        tree.Src("keep.txt", "keep");
        LocalReplicator.Run(tree.Options(), new RecordingObserver(), CancellationToken.None);
        tree.Src("moved-in/x/y.txt", "y");
        tree.Src("moved-in/z.txt", "z");

        LocalReplicator.Run(tree.Options() with { Scope = PlanScope.From([Item("moved-in")]) }, new RecordingObserver(), CancellationToken.None);
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }

    [Fact]
    public void A_changed_filter_file_plans_its_directory_whole()
    {
        using var tree = new TestTree();
        tree.Src("d/.rsync-filter", "- *.log\n");
        tree.Src("d/a.log", "log");
        tree.Src("d/a.txt", "txt");
        tree.Src("d/sub/b.log", "log");
        SyncOptions options = tree.Options(delete: true) with { Filter = SyncFilter.Parse([": .rsync-filter"]) };
        LocalReplicator.Run(options, new RecordingObserver(), CancellationToken.None);
        Assert.False(File.Exists(Path.Join(tree.Destination, "d/a.log")));

        File.WriteAllText(Path.Join(tree.Source, "d/.rsync-filter"), "- *.txt\n");
        IReadOnlySet<string> filterFiles = new HashSet<string>(StringComparer.Ordinal) { ".rsync-filter" };
        LocalReplicator.Run(options with { Scope = PlanScope.From([Item("d/.rsync-filter")], filterFiles) }, new RecordingObserver(), CancellationToken.None);

        Assert.True(File.Exists(Path.Join(tree.Destination, "d/a.log")));
        Assert.True(File.Exists(Path.Join(tree.Destination, "d/sub/b.log")));
        Assert.False(File.Exists(Path.Join(tree.Destination, "d/a.txt")));
    }

    [Fact]
    public void A_partly_planned_directory_is_never_pruned_as_empty()
    {
        using var tree = new TestTree();
        tree.Src("d/sub/file.txt", "file");
        tree.Src("d/other.txt", "other");
        SyncOptions options = tree.Options(delete: true) with { PruneEmptyDirectories = true };
        LocalReplicator.Run(options, new RecordingObserver(), CancellationToken.None);

        File.WriteAllText(Path.Join(tree.Source, "d/other.txt"), "other, changed");
        var observer = new RecordingObserver();
        LocalReplicator.Run(options with { Scope = PlanScope.From([Item("d/other.txt")]) }, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        Assert.DoesNotContain(observer.Items, i => i.Action == SyncAction.Delete);
        Assert.True(File.Exists(Path.Join(tree.Destination, "d/sub/file.txt")));
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }

    [Fact]
    public void A_batch_reads_its_names_in_a_large_directory_not_the_directory()
    {
        using var tree = new TestTree();
        for (int i = 0; i < 200; i++)
        {
            tree.Src($"big/f{i}.txt", "old");
        }

        SyncOptions options = tree.Options(delete: true);
        LocalReplicator.Run(options, new RecordingObserver(), CancellationToken.None);
        File.WriteAllText(Path.Join(tree.Source, "big/f7.txt"), "new, longer");
        File.Delete(Path.Join(tree.Source, "big/f8.txt"));
        tree.Src("big/added.txt", "added");

        var observer = new RecordingObserver { WantsVerbose = true };
        LocalReplicator.Run(options with { Scope = PlanScope.From([Item("big/f7.txt"), Item("big/f8.txt"), Item("big/added.txt"), Item("big/never-there")]) },
            observer, CancellationToken.None);

        // Each side: "big" in the root, then the names that exist of the four in "big" (not its 200 entries).
        Assert.Contains(observer.Verbose, v => v.StartsWith("Scanned the source: 3 item(s) in 2 directories,", StringComparison.Ordinal));
        Assert.Contains(observer.Verbose, v => v.StartsWith("Scanned the destination: 3 item(s) in 2 directories,", StringComparison.Ordinal));
        Assert.Empty(observer.Errors);
        Assert.Empty(Plan(options));
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }

    [Fact]
    public void Names_read_one_by_one_are_those_a_listing_holds_and_a_directory_that_cannot_be_read_is_an_error()
    {
        using var tree = new TestTree();
        tree.Src("d/b.txt", "b");
        tree.Src("d/a.txt", "a");
        tree.Src("d/sub/c.txt", "c");
        string directory = Path.Join(tree.Source, "d");

        List<Scanning.FileEntry> listed = Scanning.DirectoryLister.ListNames(directory,
            new HashSet<string>(StringComparer.Ordinal) { "sub", "b.txt", "a.txt", "gone", ".", "..", "sub/c.txt", "" }, "d");

        Assert.Equal(["a.txt", "b.txt", "sub"], listed.Select(e => e.Name));
        Assert.Equal(Scanning.DirectoryLister.List(directory, "d").Select(e => (e.Name, e.Kind, e.Length, e.Inode)), listed.Select(e => (e.Name, e.Kind, e.Length, e.Inode)));
        // A directory gone (or a file where it was) fails as a listing would: it never looks empty, which would plan the
        // deletion of every name asked for at the destination.
        SyncException missing = Assert.Throws<SyncException>(() => Scanning.DirectoryLister.ListNames(Path.Join(tree.Source, "nope"),
            new HashSet<string>(StringComparer.Ordinal) { "a.txt" }, "nope"));
        Assert.Equal(ErrorIds.ScanError, missing.ErrorId);
        SyncException file = Assert.Throws<SyncException>(() => Scanning.DirectoryLister.ListNames(Path.Join(directory, "a.txt"),
            new HashSet<string>(StringComparer.Ordinal) { "a.txt" }, "d/a.txt"));
        Assert.Equal(ErrorIds.ScanError, file.ErrorId);
    }

    /// <summary>Random changes to a random tree, each told to the batch as a watcher tells it (a name changed; a new
    /// directory as a subtree): the scoped run leaves the replica equal to the source, and a full plan finds nothing.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    public void Random_changes_told_as_a_watcher_tells_them_converge(int seed)
    {
        using var tree = new TestTree();
        RandomTree.Create(tree.Source, seed, files: 60);
        SyncOptions options = tree.Options(delete: true);
        LocalReplicator.Run(options, new RecordingObserver(), CancellationToken.None);

        var random = new Random(seed);
        var changes = new List<WatchChange>();
        // Regular files and real directories: a change made through a link is a change of its target, told by the target's name.
        List<string> files = Listing(tree.Source, directories: false);
        List<string> directories = Listing(tree.Source, directories: true);
        for (int i = 0; i < 12; i++)
        {
            string file = files[random.Next(files.Count)];
            string full = Path.Join(tree.Source, file);
            switch (random.Next(5))
            {
                case 0 when File.Exists(full):
                    File.AppendAllText(full, "more " + i);
                    changes.Add(Item(file));
                    break;
                case 1 when File.Exists(full):
                    File.Delete(full);
                    changes.Add(Item(file));
                    break;
                case 2:
                    string parent = directories.Count == 0 ? string.Empty : directories[random.Next(directories.Count)];
                    string made = (parent.Length == 0 ? string.Empty : parent + "/") + "new-" + i;
                    // A watcher tells the first directory that appears (a deleted parent may be made again on the way).
                    string first = made;
                    for (string up = made; up.Length > 0 && !Directory.Exists(Path.Join(tree.Source, up)); up = up.Contains('/', StringComparison.Ordinal) ? up[..up.LastIndexOf('/')] : string.Empty)
                    {
                        first = up;
                    }

                    TestTree.Write(tree.Source, made + "/inner/f.txt", "new " + i);
                    TestTree.Write(tree.Source, made + "/g.txt", "new " + i);
                    changes.Add(Item(first));
                    changes.Add(Subtree(first));
                    break;
                case 3 when directories.Count > 0:
                    string gone = directories[random.Next(directories.Count)];
                    if (Directory.Exists(Path.Join(tree.Source, gone)))
                    {
                        // inotify tells every name a recursive delete removes, and the directory last.
                        foreach (string inside in Directory.EnumerateFileSystemEntries(Path.Join(tree.Source, gone), "*", SearchOption.AllDirectories))
                        {
                            changes.Add(Item(Path.GetRelativePath(tree.Source, inside).Replace('\\', '/')));
                        }

                        Directory.Delete(Path.Join(tree.Source, gone), recursive: true);
                        changes.Add(Item(gone));
                    }

                    break;
                case 4 when File.Exists(full):
                    string renamed = file + ".renamed";
                    File.Move(full, Path.Join(tree.Source, renamed));
                    changes.Add(Item(file));
                    changes.Add(Item(renamed));
                    break;
            }
        }

        var observer = new RecordingObserver();
        LocalReplicator.Run(options with { Scope = PlanScope.From(changes) }, observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        Assert.Empty(Plan(options));
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }

    private static List<string> Listing(string root, bool directories) =>
        [.. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Where(p => new FileInfo(p).LinkTarget is null && Directory.Exists(p) == directories)
            .Select(p => Path.GetRelativePath(root, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];
}
