using PSReplica.Engine.Execution;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Planning;

/// <summary>Several sources and file sources (Scanning/SourceSet.cs, MergedSourceLister.cs): rsync's SRC1/ SRC2/ FILE DEST/,
/// locally and pushed to an agent, with a clash stopping the run before anything is touched.</summary>
public sealed class SeveralSourcesTests : IDisposable
{
    private readonly TestTree _tree = new();

    public SeveralSourcesTests() => Second = Path.Join(_tree.Root, "src2");

    private string Second { get; }

    public void Dispose() => _tree.Dispose();

    private SyncOptions Options(bool delete = false) => _tree.Options(delete) with { AdditionalSources = [Second] };

    private SyncOptions FileOptions(string file, bool delete = false, params string[] more) =>
        new() { Source = file, AdditionalSources = more, Destination = _tree.Destination, Delete = delete };

    /// <summary>One run, local or pushed to an in-process agent.</summary>
    private static async Task<(SyncSummary Summary, RecordingObserver Observer)> RunAsync(bool push, SyncOptions options)
    {
        if (!push)
        {
            var observer = new RecordingObserver();
            return (LocalReplicator.Run(options, observer, CancellationToken.None), observer);
        }

        (SyncSummary summary, RecordingObserver remote, _) = await Loopback.RunAsync(RemoteSide.Destination, options);
        return (summary, remote);
    }

    private static SyncItem Item(RecordingObserver observer, string relative) => Assert.Single(observer.Items, i => i.RelativePath == relative);

    private string Dst(string relative) => Path.Join(_tree.Destination, relative);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_directories_merge_at_every_depth_with_the_first_sources_directory_attributes(bool push)
    {
        _tree.Src("a.txt", "a");
        _tree.Src("shared/deep/one.txt", "1");
        TestTree.Write(Second, "b.txt", "b");
        TestTree.Write(Second, "shared/deep/two.txt", "22");
        TestTree.Write(Second, "own/three.txt", "333");
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "shared"), 0x1C0)); // 0700
        Assert.Equal(0, Posix.Chmod(Path.Join(Second, "shared"), 0x1ED)); // 0755
        TestTree.Freeze(_tree.Source);
        TestTree.Freeze(Second, TestTree.BaseTime + 1000);

        (SyncSummary summary, RecordingObserver observer) = await RunAsync(push, Options());

        Assert.Empty(observer.Errors);
        Assert.Equal(0, summary.Errors);
        Assert.Equal(
            ["a.txt", "b.txt", "own", "own/three.txt", "shared", "shared/deep", "shared/deep/one.txt", "shared/deep/two.txt"],
            TestTree.Listing(_tree.Destination));
        Assert.Equal("22", File.ReadAllText(Dst("shared/deep/two.txt")));
        // rsync keeps the first of several directories of one name: its mode and time, for the root too.
        Assert.Equal(0x1C0, TestTree.Stat(Dst("shared")).Permissions);
        Assert.Equal(TestTree.BaseTime, TestTree.Stat(Dst("shared")).MtimeSeconds);
        Assert.Equal(TestTree.BaseTime, TestTree.Stat(_tree.Destination).MtimeSeconds);
        Assert.Equal(TestTree.BaseTime + 1000, TestTree.Stat(Dst("own")).MtimeSeconds);
        // Each item names its real path under its own source.
        Assert.Equal(Path.Join(Second, "shared/deep/two.txt"), Item(observer, "shared/deep/two.txt").SourcePath);
        Assert.Equal(Path.Join(_tree.Source, "shared/deep/one.txt"), Item(observer, "shared/deep/one.txt").SourcePath);
        Assert.Equal(Path.Join(_tree.Source, "shared"), Item(observer, "shared").SourcePath);
        Assert.Equal(_tree.Source + ", " + Second, summary.Source);

        (_, RecordingObserver again) = await RunAsync(push, Options(delete: true));
        Assert.Empty(again.Items);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Delete_removes_what_no_source_has(bool push)
    {
        _tree.Src("a.txt", "a");
        _tree.Src("shared/one.txt", "1");
        TestTree.Write(Second, "b.txt", "b");
        TestTree.Write(Second, "shared/two.txt", "2");
        _tree.Dst("a.txt", "old a");
        _tree.Dst("b.txt", "old b");
        _tree.Dst("shared/two.txt", "old 2");
        _tree.Dst("shared/extra.txt", "x");
        _tree.Dst("extra/deep.txt", "x");

        (_, RecordingObserver observer) = await RunAsync(push, Options(delete: true));

        Assert.Empty(observer.Errors);
        Assert.Equal(["a.txt", "b.txt", "shared", "shared/one.txt", "shared/two.txt"], TestTree.Listing(_tree.Destination));
        Assert.Equal("2", File.ReadAllText(Dst("shared/two.txt")));
        Assert.Equal(["extra", "extra/deep.txt", "shared/extra.txt"],
            observer.Items.Where(i => i.Action == SyncAction.Delete).Select(i => i.RelativePath).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_name_two_sources_hold_not_both_as_directories_stops_the_run_before_anything_is_touched(bool push)
    {
        _tree.Src("first.txt", "1");
        _tree.Src("shared/same.txt", "from the first");
        TestTree.Write(Second, "shared/same.txt", "from the second");
        Directory.CreateDirectory(Path.Join(_tree.Source, "kind"));
        TestTree.Write(Second, "kind", "a file here");

        SyncException error = await Assert.ThrowsAsync<SyncException>(() => RunAsync(push, Options(delete: true)));

        Assert.Equal(ErrorIds.SourceNameClash, error.ErrorId);
        Assert.Equal("kind", error.Target);
        Assert.Contains($"'kind' is a directory in the source '{_tree.Source}' and a file in the source '{Second}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'shared/same.txt' is a file in the source '{_tree.Source}' and a file in the source '{Second}'", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_tree.Destination));
    }

    [Fact]
    public void A_clash_in_a_plan_is_thrown_by_the_plan_not_reported_as_items()
    {
        _tree.Src("same.txt", "1");
        TestTree.Write(Second, "same.txt", "2");
        _tree.Dst("extra.txt", "would go with -Delete");
        var observer = new RecordingObserver();

        SyncException error = Assert.Throws<SyncException>(() => LocalReplicator.Plan(Options(delete: true), observer, CancellationToken.None));

        Assert.Equal(ErrorIds.SourceNameClash, error.ErrorId);
        Assert.Empty(observer.Items);
        Assert.True(File.Exists(Dst("extra.txt")));
    }

    [Fact]
    public void An_excluded_name_clashes_with_nothing()
    {
        _tree.Src("same.log", "1");
        _tree.Src("a.txt", "a");
        TestTree.Write(Second, "same.log", "2");
        TestTree.Write(Second, "b.txt", "b");
        var observer = new RecordingObserver();

        LocalReplicator.Run(Options() with { Filter = SyncFilter.FromPatterns(null, ["*.log"]) }, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        Assert.Equal(["a.txt", "b.txt"], TestTree.Listing(_tree.Destination));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_file_source_is_copied_into_a_new_destination_directory(bool push)
    {
        string file = TestTree.Write(_tree.Root, "one.txt", "content", TestTree.BaseTime);

        (_, RecordingObserver observer) = await RunAsync(push, FileOptions(file, delete: true));

        Assert.Empty(observer.Errors);
        Assert.Equal(["one.txt"], TestTree.Listing(_tree.Destination));
        Assert.Equal("content", File.ReadAllText(Dst("one.txt")));
        Assert.Equal(TestTree.BaseTime, TestTree.Stat(Dst("one.txt")).MtimeSeconds);
        Assert.Equal(file, Item(observer, "one.txt").SourcePath);
        Assert.Null(Item(observer, ".").SourcePath);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_file_source_leaves_the_rest_of_an_existing_destination_and_its_attributes_alone_even_with_Delete(bool push)
    {
        string file = TestTree.Write(_tree.Root, "one.txt", "content", TestTree.BaseTime);
        _tree.Dst("other.txt", "stays");
        string leftover = _tree.Dst(TempFileNames.For("other.txt"), "an old temp file");
        Assert.Equal(0, Posix.Chmod(_tree.Destination, 0x1C0)); // 0700
        Assert.Equal(0, Posix.Chmod(_tree.Root, 0x1ED)); // the file's directory: 0755

        (_, RecordingObserver observer) = await RunAsync(push, FileOptions(file, delete: true));

        Assert.Empty(observer.Errors);
        Assert.Equal(["one.txt", "other.txt"], TestTree.Listing(_tree.Destination));
        Assert.DoesNotContain(observer.Items, i => i.RelativePath == "." || i.Reason == SyncReason.Extraneous);
        // A run's own leftovers go as in any run.
        Assert.False(File.Exists(leftover));
        Assert.Equal(0x1C0, TestTree.Stat(_tree.Destination).Permissions);

        (_, RecordingObserver again) = await RunAsync(push, FileOptions(file, delete: true));
        Assert.Empty(again.Items);
    }

    [Fact]
    public void A_directory_and_a_file_replicate_the_directory_with_the_file_beside_its_contents()
    {
        _tree.Src("a.txt", "a");
        TestTree.Freeze(_tree.Source);
        string file = TestTree.Write(_tree.Root, "loose.txt", "new loose");
        _tree.Dst("loose.txt", "old", TestTree.BaseTime);
        _tree.Dst("extraneous.txt", "x");
        var observer = new RecordingObserver();

        LocalReplicator.Run(_tree.Options(delete: true) with { AdditionalSources = [file] }, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        Assert.Equal(["a.txt", "loose.txt"], TestTree.Listing(_tree.Destination));
        Assert.Equal("new loose", File.ReadAllText(Dst("loose.txt")));
        Assert.Equal(TestTree.BaseTime, TestTree.Stat(_tree.Destination).MtimeSeconds);
    }

    [Fact]
    public void A_named_link_is_sent_as_a_link_as_rsync_sends_it_and_as_its_file_with_CopyLinks()
    {
        TestTree.Write(_tree.Root, "target.txt", "target");
        string link = Path.Join(_tree.Root, "link.txt");
        string dangling = Path.Join(_tree.Root, "dangling");
        File.CreateSymbolicLink(link, "target.txt");
        File.CreateSymbolicLink(dangling, "nowhere");
        var observer = new RecordingObserver();

        LocalReplicator.Run(FileOptions(link, delete: false, dangling), observer, CancellationToken.None);
        LocalReplicator.Run(FileOptions(link) with { Destination = Path.Join(_tree.Root, "followed"), CopyLinks = true }, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        Assert.Equal("target.txt", new FileInfo(Dst("link.txt")).LinkTarget);
        Assert.Equal("nowhere", new FileInfo(Dst("dangling")).LinkTarget);
        string followed = Path.Join(_tree.Root, "followed", "link.txt");
        Assert.Null(new FileInfo(followed).LinkTarget);
        Assert.Equal("target", File.ReadAllText(followed));
    }

    [Fact]
    public void Each_source_is_checked_against_the_destination()
    {
        _tree.Src("a.txt", "a");
        string inner = Path.Join(_tree.Destination, "inner");
        string innerFile = _tree.Dst("inner/x.txt", "x");
        TestTree.Write(Second, "b.txt", "b");
        var observer = new RecordingObserver();
        SyncException Refused(SyncOptions options) => Assert.Throws<SyncException>(() => LocalReplicator.Run(options, observer, CancellationToken.None));

        Assert.Equal(ErrorIds.SourceInsideDestination, Refused(_tree.Options() with { AdditionalSources = [inner] }).ErrorId);
        Assert.Equal(ErrorIds.SourceInsideDestination, Refused(_tree.Options() with { AdditionalSources = [innerFile] }).ErrorId);
        Assert.Equal(ErrorIds.DestinationInsideSource, Refused(Options() with { Destination = Path.Join(Second, "backup") }).ErrorId);
        Assert.Equal(ErrorIds.SameSourceAndDestination, Refused(Options() with { Destination = Second }).ErrorId);
        Assert.Equal(ErrorIds.SourceNotFound, Refused(_tree.Options() with { AdditionalSources = [Path.Join(_tree.Root, "missing")] }).ErrorId);
        Assert.Empty(observer.Items);
        Assert.Equal(["inner", "inner/x.txt"], TestTree.Listing(_tree.Destination));
        Assert.False(Directory.Exists(Path.Join(Second, "backup")));
    }

    [Fact]
    public void A_source_named_twice_counts_once()
    {
        _tree.Src("a.txt", "a");
        var observer = new RecordingObserver();

        LocalReplicator.Run(_tree.Options() with { AdditionalSources = [_tree.Source + "/"] }, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        Assert.Equal(["a.txt"], TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public void A_per_directory_filter_file_is_read_where_one_source_holds_the_directory_and_refused_where_several_share_it()
    {
        _tree.Src("own/.rsync-filter", "- *.log");
        _tree.Src("own/x.log", "x");
        _tree.Src("own/y.txt", "y");
        TestTree.Write(Second, "b.txt", "b");
        SyncFilter filter = new SyncFilterBuilder().AddRule("dir-merge .rsync-filter").AddRule("- .rsync-filter").Build();
        var observer = new RecordingObserver();

        LocalReplicator.Run(Options() with { Filter = filter }, observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        Assert.Equal(["b.txt", "own", "own/y.txt"], TestTree.Listing(_tree.Destination));

        TestTree.Write(Second, "own/.rsync-filter", "- *.txt");
        SyncException error = Assert.Throws<SyncException>(() => LocalReplicator.Plan(Options() with { Filter = filter }, observer, CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.Contains("'own', a directory that several sources share", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rule_on_absolute_paths_is_refused_with_several_roots()
    {
        TestTree.Write(Second, "b.txt", "b");
        SyncFilter filter = new SyncFilterBuilder().AddRule("-/ /tmp/*.txt").Build();

        SyncException error = Assert.Throws<SyncException>(() =>
            LocalReplicator.Plan(Options() with { Filter = filter }, new RecordingObserver(), CancellationToken.None));

        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
    }

    [Fact]
    public void RemoveSourceFiles_removes_each_file_from_its_own_source()
    {
        _tree.Src("shared/a.txt", "a");
        TestTree.Write(Second, "shared/b.txt", "b");
        var observer = new RecordingObserver();

        LocalReplicator.Run(Options() with { RemoveSourceFiles = true }, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        Assert.Equal(["shared", "shared/a.txt", "shared/b.txt"], TestTree.Listing(_tree.Destination));
        Assert.Equal(["shared"], TestTree.Listing(_tree.Source));
        Assert.Equal(["shared"], TestTree.Listing(Second));
    }

    [Fact]
    public void A_directory_of_a_later_source_swapped_for_a_link_after_planning_is_not_read_through()
    {
        _tree.Src("a.txt", "a");
        TestTree.Write(Second, "sub/secret.txt", "planned");
        TestTree.Write(_tree.Root, "outside/secret.txt", "outside");
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(Options(), observer, CancellationToken.None);
        Directory.Move(Path.Join(Second, "sub"), Path.Join(_tree.Root, "moved"));
        Directory.CreateSymbolicLink(Path.Join(Second, "sub"), Path.Join(_tree.Root, "outside"));

        LocalReplicator.Execute(plan, observer, CancellationToken.None);

        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.SourceChangedSinceListing, error.ErrorId);
        Assert.Equal("sub/secret.txt", error.Target);
        Assert.False(File.Exists(Dst("sub/secret.txt")));
        Assert.Equal("a", File.ReadAllText(Dst("a.txt")));
    }

    [Fact]
    public async Task A_pull_has_one_source()
    {
        _tree.Src("a.txt", "a");

        SyncException error = await Assert.ThrowsAsync<SyncException>(() => Loopback.RunAsync(RemoteSide.Source, Options()));

        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.False(Directory.Exists(_tree.Destination));
    }
}
