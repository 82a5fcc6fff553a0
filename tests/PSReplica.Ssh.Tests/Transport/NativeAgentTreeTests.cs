using PSReplica.Engine.Tests;

namespace PSReplica.Ssh.Tests;

/// <summary>Random trees pushed to and pulled from a server without .NET, through the native agent deployed there: each
/// replica is exact (types, contents, modes, owners, nanosecond times of files, links and directories, link targets,
/// hard links), and a changed tree goes over as deltas, with -Delete removing what the source lost. The seed is in every
/// failure message.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NativeAgentTreeTests(NativeAgentModule module) : IClassFixture<NativeAgentModule>, IDisposable
{
    private readonly NativeAgentModule _module = module;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(11)]
    [InlineData(2024)]
    [InlineData(777_777)]
    public void A_random_tree_pushed_changed_pushed_again_and_pulled_is_replicated_exactly(int seed)
    {
        string source = _dir.Combine("source", "tree");
        string remote = _dir.Combine("remote", "tree");
        SeededTree tree = SeededTree.Create(source, seed);
        string about = $"seed {seed} ({tree})";

        // The first push: everything is new on the server.
        Push(source, remote, about + ", first push", out _);

        // The source changes; the second push sends the large files as deltas and deletes what went from the source.
        tree.Change();
        Push(source, remote, about + ", second push", out RecordingObserver second);
        AssertSentAsDeltas(second, tree.LargeFiles, about + ", second push");
        Assert.Contains(second.Items, item => item.Action == SyncAction.Delete);

        // A pull into a fresh folder, and one into a copy of the tree as it was before the change: deltas again.
        string fresh = _dir.Combine("fresh", "tree");
        Pull(remote, fresh, about + ", pull into a fresh folder", out _);
        string stale = _dir.Combine("stale", "tree");
        SeededTree.Create(stale, seed);
        Pull(remote, stale, about + ", pull into the tree as it was", out RecordingObserver stalePull);
        AssertSentAsDeltas(stalePull, tree.LargeFiles, about + ", pull into the tree as it was");
        Assert.Contains(stalePull.Items, item => item.Action == SyncAction.Delete);
    }

    private void Push(string source, string remote, string what, out RecordingObserver observer) =>
        RunAndCompare(RemoteSide.Destination, source, remote, what, out observer);

    private void Pull(string remote, string local, string what, out RecordingObserver observer) =>
        RunAndCompare(RemoteSide.Source, remote, local, what, out observer);

    private void RunAndCompare(RemoteSide side, string source, string destination, string what, out RecordingObserver observer)
    {
        observer = new RecordingObserver { WantsVerbose = true };
        var options = new SyncOptions
        {
            Source = source,
            Destination = destination,
            Delete = true,
            Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks,
        };
        NativeAgentRuns.Run(_module, side, options, observer);
        Assert.True(observer.Errors.Count == 0, $"{what}: {string.Join("; ", observer.Errors.Select(e => e.ErrorId + " " + e.Message))}");
        Assert.True(observer.Warnings.Count == 0, $"{what}: {string.Join("; ", observer.Warnings)}");
        NativeAgentRuns.AssertSameTree(source, destination, what);
    }

    /// <summary>Each large file the change patched went over as a delta: most of its bytes matched the older copy.</summary>
    private static void AssertSentAsDeltas(RecordingObserver observer, List<string> largeFiles, string what)
    {
        Assert.NotEmpty(largeFiles);
        foreach (string large in largeFiles)
        {
            SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == large);
            Assert.True(item.BytesMatched > item.Length / 2 && item.BytesTransferred < item.Length / 2,
                $"{what}: '{large}' ({item.Length} bytes) matched {item.BytesMatched} and sent {item.BytesTransferred}: not a delta");
        }
    }
}
