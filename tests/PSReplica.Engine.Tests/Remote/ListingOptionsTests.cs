namespace PSReplica.Engine.Tests.Remote;

/// <summary>Filters, -Checksum, -CopyLinks and per-directory filter files through an agent: a remote run must give the
/// same items, errors and tree as a local run of the same options, and what the filter excludes is not listed.</summary>
public sealed class ListingOptionsTests
{
    [Theory]
    [InlineData(RemoteSide.Source)]
    [InlineData(RemoteSide.Destination)]
    public async Task An_excluded_directory_is_not_listed_over_the_wire(RemoteSide side)
    {
        using var tree = new TestTree();
        tree.Src("keep/a.txt", "a");
        for (int i = 0; i < 3000; i++)
        {
            string path = side == RemoteSide.Source ? tree.Src($"huge/f{i:D4}.bin", "x") : tree.Dst($"huge/f{i:D4}.bin", "x");
        }

        tree.FreezeBoth();
        // With -Delete the planner reads the whole remote listing without the filter (every extraneous file is a
        // deletion), so the baseline does not depend on how much of the listing arrived before planning ended.
        SyncOptions options = tree.Options() with { Delete = true, Filter = SyncFilter.Parse("- /huge/") };

        (_, RecordingObserver unfilteredObserver, long unfiltered) = await Loopback.RunAsync(side, tree.Options() with { Delete = true }, dryRun: true);
        (_, RecordingObserver observer, long filtered) = await Loopback.RunAsync(side, options);

        Assert.Empty(observer.Errors);
        Assert.Empty(unfilteredObserver.Errors);
        Assert.True(unfiltered > 20_000, $"{unfiltered} bytes without the filter");
        Assert.True(filtered < 10_000, $"{filtered} bytes from the agent with the directory excluded");
        Assert.Contains(observer.Items, i => i.RelativePath == "keep/a.txt");
        Assert.DoesNotContain(observer.Items, i => i.RelativePath.StartsWith("huge", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(RemoteSide.Source)]
    [InlineData(RemoteSide.Destination)]
    public Task Filters_with_delete_protect_and_perishable_rules_match_a_local_run(RemoteSide side) => CompareAsync(side, tree =>
    {
        tree.Src("a.txt", "a");
        tree.Src("logs/x.log", "x");
        tree.Src("src/code.c", "c");
        tree.Src("src/skip/deep.c", "d");
        tree.Dst("logs/old.log", "old");
        tree.Dst("extra/y.txt", "y");
        tree.Dst("kept/z.txt", "z");
        tree.Dst("src/skip/remote-only.c", "r");
        tree.Dst("gone/core", "core");
        tree.Dst("gone/inner/f", "f");
    }, options => options with
    {
        Delete = true,
        Filter = SyncFilter.Parse("P /kept/", "- skip/", "- *.log", "-p core"),
    });

    /// <summary>A destination directory that holds an excluded (so protected) directory is kept, as rsync keeps it ("cannot
    /// delete non-empty directory"): the agent lists the excluded directory without walking into it, so the planner sees
    /// it is there (it once left it out, and a push planned the parent's deletion, which the agent refused). Found by the
    /// filter differential over SSH (seed 81010).</summary>
    [Theory]
    [InlineData(RemoteSide.Source)]
    [InlineData(RemoteSide.Destination)]
    public Task A_directory_holding_an_excluded_directory_is_kept_as_locally(RemoteSide side) => CompareAsync(side, tree =>
    {
        // (Nothing else in build: what a deletion there did to its time would differ between the two runs.)
        tree.Src("a.txt", "a");
        tree.Dst("build/src/sp ace/-dash.tar.gz", "t");
        tree.Dst("gone/inner/f", "f");
    }, options => options with { Delete = true, Filter = SyncFilter.Parse("exclude src*") });

    [Theory]
    [InlineData(RemoteSide.Source)]
    [InlineData(RemoteSide.Destination)]
    public Task Delete_excluded_matches_a_local_run(RemoteSide side) => CompareAsync(side, tree =>
    {
        tree.Src("a.txt", "a");
        tree.Src("cache/c.bin", "c");
        tree.Dst("cache/old.bin", "old");
        tree.Dst("b/cache/x", "x");
    }, options => options with { Delete = true, DeleteExcluded = true, Filter = SyncFilter.Parse("- cache/") });

    [Theory]
    [InlineData(RemoteSide.Source)]
    [InlineData(RemoteSide.Destination)]
    public Task Checksum_mode_matches_a_local_run(RemoteSide side) => CompareAsync(side, tree =>
    {
        // Same size and time, different bytes: only a checksum tells them apart.
        tree.Src("same.txt", "identical");
        tree.Dst("same.txt", "identical");
        tree.Src("differs.txt", "content A");
        tree.Dst("differs.txt", "content B");
        tree.Src("size.txt", "longer content");
        tree.Dst("size.txt", "short");
        tree.Src("dir/new.txt", "new");
    }, options => options with { CompareMode = CompareMode.Checksum });

    [Fact]
    public Task Copy_links_from_a_remote_source_matches_a_local_run() => CompareAsync(RemoteSide.Source, tree =>
    {
        tree.Src("target/file.txt", "through a link");
        tree.Src("plain.txt", "plain");
        File.CreateSymbolicLink(Path.Join(tree.Source, "to-file"), "plain.txt");
        File.CreateSymbolicLink(Path.Join(tree.Source, "to-dir"), "target");
        File.CreateSymbolicLink(Path.Join(tree.Source, "dangling"), "nowhere");
    }, options => options with { CopyLinks = true });

    [Theory]
    [InlineData(RemoteSide.Source)]
    [InlineData(RemoteSide.Destination)]
    public Task Per_directory_filter_files_match_a_local_run(RemoteSide side) => CompareAsync(side, tree =>
    {
        tree.Src(".rsync-filter", "- *.tmp\n: .more\n");
        tree.Src("a.txt", "a");
        tree.Src("a.tmp", "tmp");
        tree.Src("sub/.rsync-filter", "- secret/\n+ keep.tmp\n");
        tree.Src("sub/keep.tmp", "kept");
        tree.Src("sub/drop.tmp", "dropped");
        tree.Src("sub/secret/s.txt", "s");
        tree.Src("sub/deeper/.more", "- b.txt\n");
        tree.Src("sub/deeper/b.txt", "b");
        tree.Src("sub/deeper/c.txt", "c");
        tree.Dst(".rsync-filter", "P protected/\n");
        tree.Dst("protected/p.txt", "p");
        tree.Dst("extraneous.txt", "e");
        tree.Dst("sub/.rsync-filter", "- secret/\n+ keep.tmp\n");
        tree.Dst("sub/secret/old.txt", "old");
    }, options => options with { Delete = true, Filter = SyncFilter.Parse(": .rsync-filter") });

    /// <summary>Runs the same options locally and through an agent on two identical trees and compares everything seen.</summary>
    private static async Task CompareAsync(RemoteSide side, Action<TestTree> build, Func<SyncOptions, SyncOptions> configure)
    {
        using var local = new TestTree();
        using var remote = new TestTree();
        foreach (TestTree tree in new[] { local, remote })
        {
            build(tree);
            tree.FreezeBoth();
        }

        var localObserver = new RecordingObserver();
        SyncSummary localSummary = LocalReplicator.Run(configure(local.Options()), localObserver, CancellationToken.None);
        (SyncSummary remoteSummary, RecordingObserver remoteObserver, _) = await Loopback.RunAsync(side, configure(remote.Options()));

        // A push itemizes a file it sends '<' where the local run, receiving, says '>' (as rsync's client does).
        Assert.Equal(Describe(localObserver.Items, sent: side == RemoteSide.Destination), Describe(remoteObserver.Items, sent: false));
        Assert.Equal(localObserver.Errors.Select(e => $"{e.ErrorId} {e.Target}"), remoteObserver.Errors.Select(e => $"{e.ErrorId} {e.Target}"));
        Assert.Equal((localSummary.Created, localSummary.Updated, localSummary.Deleted, localSummary.Errors),
            (remoteSummary.Created, remoteSummary.Updated, remoteSummary.Deleted, remoteSummary.Errors));
        RandomTree.AssertSame(local.Destination, remote.Destination);
        Assert.True(localObserver.Items.Count > 0);
    }

    private static List<string> Describe(List<SyncItem> items, bool sent) =>
        items.ConvertAll(i => $"{i.Action} {i.ItemType} {i.RelativePath} {i.Reason} {(sent && i.Itemize.StartsWith('>') ? "<" + i.Itemize[1..] : i.Itemize)}");
}
