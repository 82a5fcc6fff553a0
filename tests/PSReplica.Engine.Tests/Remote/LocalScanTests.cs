using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>The local side of a remote run is listed while the connection is made: the planner must take those
/// listings (not read the tree again) and plan exactly what it would have planned from its own scan.</summary>
public sealed class LocalScanTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    public async Task A_push_planned_from_the_scan_equals_one_planned_from_the_tree(int seed)
    {
        RandomTree.Create(_tree.Source, seed, files: 120);
        RandomTree.Create(_tree.Destination, seed + 100, files: 60);
        SyncOptions options = _tree.Options(delete: true);

        List<string> plain = await PlanAsync(options, RemoteSide.Destination, _tree.Destination, scan: null);
        using LocalScan scan = RemoteReplicator.StartLocalScan(options, RemoteSide.Destination)!;
        Assert.True(scan.WaitUntilListed(TimeSpan.FromSeconds(30)));
        List<string> scanned = await PlanAsync(options, RemoteSide.Destination, _tree.Destination, scan);

        Assert.Equal(plain, scanned);
        Assert.True(scan.DirectoriesListed > 1);
    }

    [Fact]
    public void A_directory_the_scan_did_not_list_is_listed_only_while_it_is_the_one_its_parent_named()
    {
        _tree.Src("a/one.txt", "1");
        TestTree.Write(_tree.Root, "outside/theirs", "secret");
        using LocalScan scan = RemoteReplicator.StartLocalScan(_tree.Options(), RemoteSide.Destination)!;
        Assert.True(scan.WaitUntilListed(TimeSpan.FromSeconds(30)));

        // Made after the scan (so the planner lists it itself), named by its parent's listing, then swapped for a link.
        string late = Path.Join(_tree.Source, "late");
        Directory.CreateDirectory(late);
        FileEntry named = Assert.Single(DirectoryLister.List(_tree.Source, "."), entry => entry.Name == "late");
        Directory.Delete(late);
        File.CreateSymbolicLink(late, Path.Join(_tree.Root, "outside"));

        SyncException error = Assert.Throws<SyncException>(() => scan.Lister.ListVerified(named, "late"));
        Assert.Equal(ErrorIds.ScanError, error.ErrorId);
        Assert.Contains("replaced", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_planner_takes_the_scan_instead_of_reading_the_tree_again()
    {
        _tree.Src("a/one.txt", "1");
        _tree.Src("b/two.txt", "2");
        SyncOptions options = _tree.Options();
        using LocalScan scan = RemoteReplicator.StartLocalScan(options, RemoteSide.Destination)!;
        Assert.True(scan.WaitUntilListed(TimeSpan.FromSeconds(30)));

        // Added after the scan: a plan made from the scan cannot know of it (one made from the tree would).
        _tree.Src("b/three.txt", "3");
        List<string> planned = await PlanAsync(options, RemoteSide.Destination, _tree.Destination, scan);

        Assert.Contains("Create File b/two.txt", planned);
        Assert.DoesNotContain("Create File b/three.txt", planned);
    }

    [Fact]
    public async Task A_pull_takes_the_scan_of_the_existing_destination()
    {
        _tree.Src("same.txt", "same", mtimeSeconds: TestTree.BaseTime);
        _tree.Dst("same.txt", "same", mtimeSeconds: TestTree.BaseTime);
        _tree.Dst("extra/old.txt", "old");
        SyncOptions options = _tree.Options(delete: true);
        using LocalScan scan = RemoteReplicator.StartLocalScan(options, RemoteSide.Source)!;
        Assert.True(scan.WaitUntilListed(TimeSpan.FromSeconds(30)));
        File.Delete(Path.Join(_tree.Destination, "extra", "old.txt"));

        List<string> planned = await PlanAsync(options, RemoteSide.Source, _tree.Source, scan);

        // The scan saw extra/old.txt; a fresh read would not have.
        Assert.Contains("Delete File extra/old.txt", planned);
        Assert.Equal(_tree.Destination, scan.Root);
    }

    [Fact]
    public void Nothing_is_scanned_for_a_missing_source_or_destination()
    {
        Assert.Null(RemoteReplicator.StartLocalScan(_tree.Options() with { Source = Path.Join(_tree.Root, "missing") }, RemoteSide.Destination));
        Assert.Null(RemoteReplicator.StartLocalScan(_tree.Options() with { Destination = Path.Join(_tree.Root, "missing") }, RemoteSide.Source));
    }

    private static async Task<List<string>> PlanAsync(SyncOptions options, RemoteSide side, string remoteRoot, LocalScan? scan)
    {
        var observer = new RecordingObserver();
        await using var loop = Loopback.WithAgent();
        List<string> planned;
        await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, remoteRoot))
        {
            SyncPlan plan = replicator.Plan(options, observer, CancellationToken.None, scan);
            planned = plan.Actions.Select(a => $"{a.Item.Action} {a.Item.ItemType} {a.Item.RelativePath}").ToList();
        }

        Assert.Equal(0, await loop.FinishAsync());
        Assert.Empty(observer.Errors);
        return planned;
    }
}
