using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>Basis directories, backups, hard-link groups and source removal with the agent on one side, over pipes:
/// each run must give what the same local run gives (trees, items, inode sharing).</summary>
public sealed class RemoteNamedTreesTests
{
    /// <summary>Yesterday's snapshot beside today's: "same" unchanged, "changed" rewritten (a delta basis), "gone" only
    /// in the snapshot, "new" only in the source.</summary>
    private static (string Day1, byte[] Big) Snapshot(TestTree tree)
    {
        string day1 = Path.Join(tree.Root, "day1");
        var random = new Random(3);
        byte[] big = new byte[300_000];
        random.NextBytes(big);
        foreach (string root in new[] { day1, tree.Source })
        {
            TestTree.Write(root, "same.txt", "unchanged", TestTree.BaseTime);
            TestTree.Write(root, "dir/deep.txt", "deep and unchanged", TestTree.BaseTime);
            Directory.CreateDirectory(Path.Join(root, "dir"));
            File.WriteAllBytes(Path.Join(root, "big.bin"), big);
            TestTree.SetTime(Path.Join(root, "big.bin"), TestTree.BaseTime);
        }

        TestTree.Write(day1, "gone.txt", "only yesterday", TestTree.BaseTime);
        big[150_000] ^= 0x5A;
        File.WriteAllBytes(Path.Join(tree.Source, "big.bin"), big);
        TestTree.SetTime(Path.Join(tree.Source, "big.bin"), TestTree.BaseTime + 100);
        TestTree.Write(tree.Source, "new.txt", "new today", TestTree.BaseTime);
        return (day1, big);
    }

    private static ulong Inode(string path) => TestTree.Stat(path).Inode;

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task LinkDest_links_unchanged_files_to_the_basis_and_uses_it_as_the_delta_basis(RemoteSide side)
    {
        using var tree = new TestTree();
        (string day1, byte[] big) = Snapshot(tree);
        string day2 = Path.Join(tree.Root, "day2");
        SyncOptions options = tree.Options() with { Destination = day2, LinkDest = ["../day1"] };

        (_, RecordingObserver observer) = await RemoteRun.RunAsync(side, options);

        Assert.Empty(observer.Errors);
        Assert.Equal(Inode(Path.Join(day1, "same.txt")), Inode(Path.Join(day2, "same.txt")));
        Assert.Equal(Inode(Path.Join(day1, "dir/deep.txt")), Inode(Path.Join(day2, "dir/deep.txt")));
        Assert.NotEqual(Inode(Path.Join(day1, "big.bin")), Inode(Path.Join(day2, "big.bin")));
        Assert.Equal(big, File.ReadAllBytes(Path.Join(day2, "big.bin")));
        Assert.False(File.Exists(Path.Join(day2, "gone.txt")));
        RandomTree.AssertSame(tree.Source, day2);
        SyncItem changed = Assert.Single(observer.Items, i => i.RelativePath == "big.bin");
        Assert.True(changed.BytesMatched > 250_000, $"matched {changed.BytesMatched}");
        Assert.Contains(observer.Items, i => i.RelativePath == "same.txt" && i.Action == SyncAction.Link && i.ItemType == SyncItemType.HardLink);

        // The same items as a local run makes.
        string local = Path.Join(tree.Root, "day2-local");
        var localObserver = new RecordingObserver();
        LocalReplicator.Run(options with { Destination = local }, localObserver, CancellationToken.None);
        Assert.Equal(Describe(localObserver.Items), Describe(observer.Items));
        Assert.Equal(Inode(Path.Join(day1, "same.txt")), Inode(Path.Join(local, "same.txt")));
    }

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task CompareDest_skips_files_identical_in_the_basis(RemoteSide side)
    {
        using var tree = new TestTree();
        (string _, byte[] big) = Snapshot(tree);
        string day2 = Path.Join(tree.Root, "day2");
        SyncOptions options = tree.Options() with { Destination = day2, CompareDest = [Path.Join(tree.Root, "day1")] };

        (_, RecordingObserver observer) = await RemoteRun.RunAsync(side, options);

        Assert.Empty(observer.Errors);
        Assert.False(File.Exists(Path.Join(day2, "same.txt")));
        Assert.False(File.Exists(Path.Join(day2, "dir/deep.txt")));
        Assert.Equal(big, File.ReadAllBytes(Path.Join(day2, "big.bin")));
        Assert.Equal("new today", File.ReadAllText(Path.Join(day2, "new.txt")));
    }

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task CopyDest_copies_identical_files_from_the_basis_on_the_receiver(RemoteSide side)
    {
        using var tree = new TestTree();
        (string day1, _) = Snapshot(tree);
        string day2 = Path.Join(tree.Root, "day2");
        SyncOptions options = tree.Options() with { Destination = day2, CopyDest = ["../day1"] };

        (_, RecordingObserver observer) = await RemoteRun.RunAsync(side, options);

        Assert.Empty(observer.Errors);
        RandomTree.AssertSame(tree.Source, day2);
        Assert.NotEqual(Inode(Path.Join(day1, "same.txt")), Inode(Path.Join(day2, "same.txt")));
        SyncItem same = Assert.Single(observer.Items, i => i.RelativePath == "same.txt");
        Assert.Equal(0, same.BytesTransferred);
        Assert.Equal(9, same.BytesMatched);
    }

    [Fact]
    public async Task A_missing_remote_basis_directory_is_a_warning()
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        SyncOptions options = tree.Options() with { LinkDest = ["../nowhere"] };

        (_, RecordingObserver observer) = await RemoteRun.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(observer.Errors);
        Assert.Contains(observer.Warnings, w => w.Contains("nowhere", StringComparison.Ordinal) && w.Contains("does not exist", StringComparison.Ordinal));
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }

    [Fact]
    public async Task A_link_inside_a_remote_basis_directory_is_not_followed()
    {
        using var tree = new TestTree();
        string day1 = Path.Join(tree.Root, "day1");
        string outside = Path.Join(tree.Root, "outside");
        TestTree.Write(outside, "secret.txt", "same", TestTree.BaseTime);
        Directory.CreateDirectory(day1);
        File.CreateSymbolicLink(Path.Join(day1, "dir"), outside);
        tree.Src("dir/secret.txt", "same", TestTree.BaseTime);
        SyncOptions options = tree.Options() with { LinkDest = ["../day1"] };

        (_, RecordingObserver observer) = await RemoteRun.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(observer.Errors);
        Assert.NotEqual(Inode(Path.Join(outside, "secret.txt")), Inode(Path.Join(tree.Destination, "dir/secret.txt")));
        Assert.Equal("same", File.ReadAllText(Path.Join(tree.Destination, "dir/secret.txt")));
    }

    internal static List<string> Describe(IEnumerable<SyncItem> items) =>
        items.Select(i => $"{i.Action} {i.ItemType} {i.RelativePath} {i.Reason}").OrderBy(s => s, StringComparer.Ordinal).ToList();
}

/// <summary>One run with the agent serving the remote side (the destination of a push or the source of a pull).</summary>
internal static class RemoteRun
{
    public static async Task<(SyncSummary Summary, RecordingObserver Observer)> RunAsync(RemoteSide side, SyncOptions options, bool dryRun = false)
    {
        var observer = new RecordingObserver();
        await using var loop = Loopback.WithAgent();
        SyncSummary summary;
        string remoteRoot = side == RemoteSide.Destination ? options.Destination : options.Source;
        await using (RemoteReplicator replicator = await RemoteReplicator.ConnectAsync(loop.ControllerIn, loop.ControllerOut, side, remoteRoot,
            new RemoteSessionOptions(), CancellationToken.None))
        {
            summary = await Task.Run(() => replicator.Run(options, observer, CancellationToken.None, dryRun));
        }

        Assert.Equal(0, await loop.FinishAsync());
        return (summary, observer);
    }
}
