using PSReplica.Engine.Client;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>Basis directories, backups, hard-link groups and source removal with the agent on one side, over pipes:
/// each run must give what the same local run gives (trees, items, inode sharing).</summary>
public sealed class RemoteBasisTreesTests
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

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(side, options);

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

    /// <summary>Issue 18, item 7: a push keeps only the basis directories above the one being planned and drops what the
    /// planner has passed. Every lookup still finds what the local run finds: a file after a subdirectory (its directory
    /// is asked for again), names that sort differently whole and by component ("a/…" before "a-c"), directories only
    /// the basis has (never asked for), before and after the source's, and directories only the source has.</summary>
    [Fact]
    public async Task LinkDest_over_a_wide_tree_finds_in_the_basis_what_a_local_run_finds()
    {
        using var tree = new TestTree();
        string day1 = Path.Join(tree.Root, "day1");
        string[] shared =
        [
            "0.txt", "a/a.txt", "a/b/x.txt", "a/b/deeper/y.txt", "a/c.txt", "a/d/e.txt", "a/z.txt", "a-c/y.txt", "a.b/w.txt",
            "m/n/o/p.txt", "m/q.txt", "zz.txt",
        ];
        foreach (string file in shared)
        {
            TestTree.Write(day1, file, "same " + file, TestTree.BaseTime);
            TestTree.Write(tree.Source, file, "same " + file, TestTree.BaseTime);
        }

        for (int d = 0; d < 40; d++)
        {
            // Directories only the basis has, between and around the shared ones; and some only the source has.
            TestTree.Write(day1, $"a/b{d:D2}/only-basis.txt", "b", TestTree.BaseTime);
            TestTree.Write(day1, $"k{d:D2}/only-basis.txt", "b", TestTree.BaseTime);
            TestTree.Write(tree.Source, $"s{d:D2}/only-source.txt", "s", TestTree.BaseTime);
        }

        // Same name, another content: only a delta basis.
        TestTree.Write(day1, "m/changed.txt", "yesterday's", TestTree.BaseTime);
        TestTree.Write(tree.Source, "m/changed.txt", "today's content", TestTree.BaseTime + 5);
        TestTree.Freeze(tree.Source);
        string day2 = Path.Join(tree.Root, "day2");
        SyncOptions options = tree.Options() with { Destination = day2, LinkDest = ["../day1"] };

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(observer.Errors);
        foreach (string file in shared)
        {
            Assert.True(Inode(Path.Join(day1, file)) == Inode(Path.Join(day2, file)), $"'{file}' was not linked to the basis");
        }

        RandomTree.AssertSame(tree.Source, day2);
        string local = Path.Join(tree.Root, "day2-local");
        var localObserver = new RecordingObserver();
        LocalReplicator.Run(options with { Destination = local }, localObserver, CancellationToken.None);
        Assert.Equal(Describe(localObserver.Items), Describe(observer.Items));
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

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(side, options);

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

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(side, options);

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

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(observer.Errors);
        Assert.Contains(observer.Warnings, w => w.Contains("nowhere", StringComparison.Ordinal) && w.Contains("does not exist", StringComparison.Ordinal));
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }

    /// <summary>-LinkDest hard-links a symbolic link the basis holds unchanged (rsync's try_dests_non), through the agent on
    /// either side as locally; one whose target changed is made anew. rsync sends no linked link, so -RemoveSourceFiles
    /// keeps its source (and removes the one it sent).</summary>
    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task LinkDest_hard_links_the_basis_symbolic_links_that_are_unchanged(RemoteSide side)
    {
        using var tree = new TestTree();
        string day1 = Path.Join(tree.Root, "day1");
        Directory.CreateDirectory(day1);
        foreach ((string root, string retargeted) in new[] { (day1, "old"), (tree.Source, "new") })
        {
            File.CreateSymbolicLink(Path.Join(root, "same"), "target");
            File.CreateSymbolicLink(Path.Join(root, "retargeted"), retargeted);
            Assert.Equal(0, Posix.SetModificationTime(Path.Join(root, "same"), TestTree.BaseTime, 0));
            Assert.Equal(0, Posix.SetModificationTime(Path.Join(root, "retargeted"), TestTree.BaseTime, 0));
        }

        string day2 = Path.Join(tree.Root, "day2");
        SyncOptions options = tree.Options() with { Destination = day2, LinkDest = ["../day1"], RemoveSourceFiles = true };

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(side, options);

        Assert.Empty(observer.Errors);
        StatInfo linked = TestTree.Stat(Path.Join(day2, "same"));
        Assert.Equal((Inode(Path.Join(day1, "same")), 2u, Posix.SIflnk), (linked.Inode, linked.Nlink, linked.FileType));
        Assert.Equal("target", new FileInfo(Path.Join(day2, "same")).LinkTarget);
        Assert.NotEqual(Inode(Path.Join(day1, "retargeted")), Inode(Path.Join(day2, "retargeted")));
        Assert.Equal("new", new FileInfo(Path.Join(day2, "retargeted")).LinkTarget);
        SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == "same");
        Assert.Equal((SyncAction.Link, SyncItemType.HardLink, "hL.........", "target"), (item.Action, item.ItemType, item.Itemize, item.LinkTarget));
        Assert.Equal(0, Posix.Stat(Path.Join(tree.Source, "same"), follow: false, out _));
        Assert.Equal(Posix.ENOENT, Posix.Stat(Path.Join(tree.Source, "retargeted"), follow: false, out _));
    }

    /// <summary>The agent links a basis's symbolic link only while it points where the controller saw it point: one
    /// swapped since the listing is not linked (an error), and nothing is left in the destination.</summary>
    [Fact]
    public async Task The_agent_links_a_basis_symbolic_link_only_while_it_points_where_it_was_listed()
    {
        using var tree = new TestTree();
        string day1 = Path.Join(tree.Root, "day1");
        Directory.CreateDirectory(day1);
        File.CreateSymbolicLink(Path.Join(day1, "same"), "swapped in");
        File.CreateSymbolicLink(Path.Join(day1, "kept"), "target");
        Directory.CreateDirectory(tree.Destination);
        tree.Dst("kept", "an older file in its place");
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, tree.Destination))
        {
            Assert.NotNull(await client.OpenTreeAsync(0, "../day1", CancellationToken.None));
            var changed = await Assert.ThrowsAsync<SyncException>(() => client.LinkFromTreeAsync("same", 0, default, "target", CancellationToken.None));
            Assert.Equal(ErrorIds.FileReadError, changed.ErrorId);
            (bool done, int errno, _) = await client.LinkFromTreeAsync("kept", 0, default, "target", CancellationToken.None);
            Assert.Equal((true, 0), (done, errno));
        }

        Assert.Equal(["kept"], Directory.GetFileSystemEntries(tree.Destination).Select(Path.GetFileName));
        Assert.Equal(Inode(Path.Join(day1, "kept")), Inode(Path.Join(tree.Destination, "kept")));
    }

    /// <summary>DescribeTreeCopy (-CompareDest with -RemoveSourceFiles on a push) describes a basis file with its checksum,
    /// and never through a link in the basis.</summary>
    [Fact]
    public async Task The_agent_describes_a_basis_file_with_its_checksum_and_never_through_a_link()
    {
        using var tree = new TestTree();
        string day1 = Path.Join(tree.Root, "day1");
        string outside = Path.Join(tree.Root, "outside");
        TestTree.Write(day1, "f.txt", "12345", TestTree.BaseTime);
        TestTree.Write(outside, "victim.txt", "secret", TestTree.BaseTime);
        File.CreateSymbolicLink(Path.Join(day1, "via"), outside);
        Directory.CreateDirectory(tree.Destination);
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, tree.Destination))
        {
            Assert.True(client.VerifiesBasisCopies);
            Assert.NotNull(await client.OpenTreeAsync(0, "../day1", CancellationToken.None));
            ListingEntry file = Assert.NotNull(await client.DescribeTreeCopyAsync(0, "f.txt", CancellationToken.None));
            Assert.Equal((5L, TestTree.BaseTime), (file.Stat.Size, file.Stat.MtimeSeconds));
            Assert.Equal(System.IO.Hashing.XxHash128.HashToUInt128("12345"u8), file.Checksum);
            Assert.Null(await client.DescribeTreeCopyAsync(0, "missing.txt", CancellationToken.None));
            var through = await Assert.ThrowsAsync<SyncException>(() => client.DescribeTreeCopyAsync(0, "via/victim.txt", CancellationToken.None));
            Assert.Equal(ErrorIds.UnsafePath, through.ErrorId);
        }
    }

    /// <summary>A directory of the basis that is a link is not followed, through an agent on either side or locally: the
    /// file below it is sent instead (a pull planned a link through it that its receiver then refused, every run).</summary>
    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    [InlineData((RemoteSide)0)]
    public async Task A_link_inside_a_basis_directory_is_not_followed(RemoteSide side)
    {
        using var tree = new TestTree();
        string day1 = Path.Join(tree.Root, "day1");
        string outside = Path.Join(tree.Root, "outside");
        TestTree.Write(outside, "secret.txt", "same", TestTree.BaseTime);
        Directory.CreateDirectory(day1);
        File.CreateSymbolicLink(Path.Join(day1, "dir"), outside);
        tree.Src("dir/secret.txt", "same", TestTree.BaseTime);
        SyncOptions options = tree.Options() with { LinkDest = ["../day1"] };

        RecordingObserver observer;
        if (side == 0)
        {
            observer = new RecordingObserver();
            LocalReplicator.Run(options, observer, CancellationToken.None);
        }
        else
        {
            (_, observer, _) = await Loopback.RunAsync(side, options);
        }

        Assert.Empty(observer.Errors);
        Assert.NotEqual(Inode(Path.Join(outside, "secret.txt")), Inode(Path.Join(tree.Destination, "dir/secret.txt")));
        Assert.Equal("same", File.ReadAllText(Path.Join(tree.Destination, "dir/secret.txt")));
        Assert.Equal(SyncAction.Create, Assert.Single(observer.Items, i => i.RelativePath == "dir/secret.txt").Action);
    }

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task Backups_go_to_the_backup_directory_before_files_are_replaced_or_deleted(RemoteSide side)
    {
        using var tree = new TestTree();
        tree.Src("x.txt", "new x", TestTree.BaseTime + 10);
        tree.Src("sub/z.txt", "new z", TestTree.BaseTime + 10);
        tree.Src("same.txt", "same", TestTree.BaseTime);
        tree.Dst("x.txt", "old x", TestTree.BaseTime);
        tree.Dst("sub/z.txt", "old z", TestTree.BaseTime);
        tree.Dst("y.txt", "deleted y", TestTree.BaseTime);
        tree.Dst("same.txt", "same", TestTree.BaseTime);
        SyncOptions options = tree.Options(delete: true) with { Backup = true, BackupDirectory = "../bak" };

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(side, options);

        Assert.Empty(observer.Errors);
        RandomTree.AssertSame(tree.Source, tree.Destination, directoryTimes: false);
        string bak = Path.Join(tree.Root, "bak");
        Assert.Equal(["sub", "sub/z.txt", "x.txt", "y.txt"], TestTree.Listing(bak));
        Assert.Equal("old x", File.ReadAllText(Path.Join(bak, "x.txt")));
        Assert.Equal("old z", File.ReadAllText(Path.Join(bak, "sub/z.txt")));
        Assert.Equal("deleted y", File.ReadAllText(Path.Join(bak, "y.txt")));
        Assert.Equal(TestTree.BaseTime, TestTree.Stat(Path.Join(bak, "x.txt")).MtimeSeconds);

        // A second backup of the same name replaces the first, as locally.
        tree.Src("x.txt", "newer x", TestTree.BaseTime + 20);
        (_, RecordingObserver again, _) = await Loopback.RunAsync(side, options);
        Assert.Empty(again.Errors);
        Assert.Equal("new x", File.ReadAllText(Path.Join(bak, "x.txt")));
    }

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task Backups_stay_beside_their_files_with_the_suffix(RemoteSide side)
    {
        using var tree = new TestTree();
        tree.Src("x.txt", "new x", TestTree.BaseTime + 10);
        tree.Src("link", "placeholder");
        File.Delete(Path.Join(tree.Source, "link"));
        File.CreateSymbolicLink(Path.Join(tree.Source, "link"), "x.txt");
        tree.Dst("x.txt", "old x", TestTree.BaseTime);
        File.CreateSymbolicLink(Path.Join(tree.Destination, "link"), "elsewhere");
        SyncOptions options = tree.Options() with { Backup = true, BackupSuffix = ".bak" };

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(side, options);

        Assert.Empty(observer.Errors);
        Assert.Equal("new x", File.ReadAllText(Path.Join(tree.Destination, "x.txt")));
        Assert.Equal("old x", File.ReadAllText(Path.Join(tree.Destination, "x.txt.bak")));
        Assert.Equal("elsewhere", new FileInfo(Path.Join(tree.Destination, "link.bak")).LinkTarget);
        Assert.Equal("x.txt", new FileInfo(Path.Join(tree.Destination, "link")).LinkTarget);
    }

    /// <summary>Either side remote: the sent and up-to-date files go from the source, links too; a file changed on the
    /// source after the scan stays (warned); "lookalike.txt" passes the quick check, and the agent's checksum (of its copy
    /// on a push, of its source file on a pull) tells it apart, so it stays too (warned).</summary>
    [Theory]
    [InlineData(RemoteSide.Source)]
    [InlineData(RemoteSide.Destination)]
    public async Task RemoveSourceFiles_removes_verified_sources_and_keeps_changed_and_lookalike_ones(RemoteSide side)
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a", TestTree.BaseTime);
        tree.Src("sub/b.txt", "bb", TestTree.BaseTime);
        tree.Src("up-to-date.txt", "same", TestTree.BaseTime);
        tree.Src("touched.txt", "same", TestTree.BaseTime);
        tree.Src("lookalike.txt", "AAAA", TestTree.BaseTime);
        File.CreateSymbolicLink(Path.Join(tree.Source, "link"), "a.txt");
        tree.Dst("up-to-date.txt", "same", TestTree.BaseTime);
        tree.Dst("touched.txt", "same", TestTree.BaseTime);
        tree.Dst("lookalike.txt", "BBBB", TestTree.BaseTime);
        SyncOptions options = tree.Options() with { RemoveSourceFiles = true };

        // "touched.txt" is up to date, so nothing is sent for it; it changes on the source after the scan.
        var observer = new RecordingObserver
        {
            Approve = item =>
            {
                if (item.RelativePath == "a.txt")
                {
                    TestTree.SetTime(Path.Join(tree.Source, "touched.txt"), TestTree.BaseTime + 5);
                }

                return true;
            },
        };
        await using (var loop = Loopback.WithAgent())
        {
            string remoteRoot = side == RemoteSide.Source ? tree.Source : tree.Destination;
            await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, remoteRoot))
            {
                await Task.Run(() => replicator.Run(options, observer, CancellationToken.None));
            }

            Assert.Equal(0, await loop.FinishAsync());
        }

        Assert.Empty(observer.Errors);
        Assert.Equal(["lookalike.txt", "sub", "touched.txt"], TestTree.Listing(tree.Source));
        Assert.Contains(observer.Warnings, w => w.Contains("touched.txt", StringComparison.Ordinal));
        Assert.Contains(observer.Warnings, w => w.Contains("lookalike.txt", StringComparison.Ordinal) && w.Contains("verified", StringComparison.Ordinal));
        Assert.Equal("a", File.ReadAllText(Path.Join(tree.Destination, "a.txt")));
        Assert.Equal("bb", File.ReadAllText(Path.Join(tree.Destination, "sub/b.txt")));
        Assert.Equal("BBBB", File.ReadAllText(Path.Join(tree.Destination, "lookalike.txt")));
        Assert.Equal("a.txt", new FileInfo(Path.Join(tree.Destination, "link")).LinkTarget);
    }

    [Fact]
    public async Task The_agent_describes_a_copy_with_its_checksum_and_never_through_a_link()
    {
        using var tree = new TestTree();
        tree.Dst("f.txt", "12345", TestTree.BaseTime);
        string outside = Path.Join(tree.Root, "outside");
        TestTree.Write(outside, "victim.txt", "secret", TestTree.BaseTime);
        File.CreateSymbolicLink(Path.Join(tree.Destination, "via"), outside);
        File.CreateSymbolicLink(Path.Join(tree.Destination, "final"), Path.Join(outside, "victim.txt"));
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, tree.Destination))
        {
            ListingEntry file = Assert.NotNull(await client.DescribeCopyAsync("f.txt", CancellationToken.None));
            Assert.Equal(5, file.Stat.Size);
            Assert.Equal(TestTree.BaseTime, file.Stat.MtimeSeconds);
            Assert.Equal(System.IO.Hashing.XxHash128.HashToUInt128("12345"u8), file.Checksum);

            ListingEntry link = Assert.NotNull(await client.DescribeCopyAsync("final", CancellationToken.None));
            Assert.Equal(Path.Join(outside, "victim.txt"), link.LinkTarget);
            Assert.Null(link.Checksum);

            Assert.Null(await client.DescribeCopyAsync("missing.txt", CancellationToken.None));
            var through = await Assert.ThrowsAsync<SyncException>(() => client.DescribeCopyAsync("via/victim.txt", CancellationToken.None));
            Assert.Equal(ErrorIds.UnsafePath, through.ErrorId);
        }
    }

    [Fact]
    public async Task The_agent_removes_only_a_source_file_or_link_that_is_as_listed()
    {
        using var tree = new TestTree();
        string file = tree.Src("f.txt", "12345", TestTree.BaseTime);
        Directory.CreateDirectory(Path.Join(tree.Source, "dir"));
        string outside = Path.Join(tree.Root, "outside");
        TestTree.Write(outside, "victim.txt", "12345", TestTree.BaseTime);
        File.CreateSymbolicLink(Path.Join(tree.Source, "via"), outside);
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, tree.Source))
        {
            var changed = await Assert.ThrowsAsync<SyncException>(() => client.RemoveSourceAsync("f.txt", 4, TestTree.BaseTime, 0, 0, 0, CancellationToken.None));
            Assert.Equal(ErrorIds.SourceChangedSinceListing, changed.ErrorId);
            var directory = await Assert.ThrowsAsync<SyncException>(() => client.RemoveSourceAsync("dir", 0, TestTree.Stat(Path.Join(tree.Source, "dir")).MtimeSeconds,
                TestTree.Stat(Path.Join(tree.Source, "dir")).MtimeNanoseconds, 0, 0, CancellationToken.None));
            Assert.Equal(ErrorIds.SourceChangedSinceListing, directory.ErrorId);
            var through = await Assert.ThrowsAsync<SyncException>(() => client.RemoveSourceAsync("via/victim.txt", 5, TestTree.BaseTime, 0, 0, 0, CancellationToken.None));
            Assert.Equal(ErrorIds.UnsafePath, through.ErrorId);
            Assert.True(File.Exists(file));
            await client.RemoveSourceAsync("f.txt", 5, TestTree.BaseTime, 0, 0, 0, CancellationToken.None);
            Assert.False(File.Exists(file));
        }

        Assert.True(File.Exists(Path.Join(outside, "victim.txt")));
        Assert.True(Directory.Exists(Path.Join(tree.Source, "dir")));
    }

    [Fact]
    public async Task Requests_for_trees_that_were_not_opened_end_the_session()
    {
        using var tree = new TestTree();
        tree.Dst("a.txt", "a");
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, tree.Destination))
        {
            var error = await Assert.ThrowsAsync<SyncException>(() => client.CopyFromTreeAsync("a.txt", 3, default, CancellationToken.None));
            Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
        }

        Assert.Equal(1, await loop.Agent.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task Preserve_HardLinks_recreates_link_groups(RemoteSide side)
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "group one", TestTree.BaseTime);
        Assert.Equal(0, Native.Posix.Link(Path.Join(tree.Source, "a.txt"), Path.Join(tree.Source, "b.txt")));
        tree.Src("d/c.txt", "group two", TestTree.BaseTime);
        Assert.Equal(0, Native.Posix.Link(Path.Join(tree.Source, "d/c.txt"), Path.Join(tree.Source, "e.txt")));
        Assert.Equal(0, Native.Posix.Link(Path.Join(tree.Source, "d/c.txt"), Path.Join(tree.Source, "d/f.txt")));
        tree.Src("single.txt", "alone", TestTree.BaseTime);
        tree.Dst("b.txt", "stands in the way", TestTree.BaseTime);
        SyncOptions options = tree.Options() with { Preserve = tree.Options().Preserve | PreserveOptions.HardLinks };

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(side, options);

        Assert.Empty(observer.Errors);
        RandomTree.AssertSame(tree.Source, tree.Destination, directoryTimes: false);
        string Dst(string relative) => Path.Join(tree.Destination, relative);
        Assert.Equal(Inode(Dst("a.txt")), Inode(Dst("b.txt")));
        Assert.Equal(Inode(Dst("d/c.txt")), Inode(Dst("e.txt")));
        Assert.Equal(Inode(Dst("d/c.txt")), Inode(Dst("d/f.txt")));
        Assert.NotEqual(Inode(Dst("a.txt")), Inode(Dst("d/c.txt")));
        Assert.Equal(1u, TestTree.Stat(Dst("single.txt")).Nlink);

        // A second run finds the groups in place and does nothing.
        (_, RecordingObserver again, _) = await Loopback.RunAsync(side, options);
        Assert.Empty(again.Errors);
        Assert.Empty(again.Items);
    }

    /// <summary>/dev/shm is a tmpfs, another filesystem than the temp directory: links there fail with EXDEV.</summary>
    [Fact]
    public async Task Across_filesystems_LinkDest_copies_with_one_warning_and_backups_are_copied()
    {
        using var tree = new TestTree();
        string other = Path.Join("/dev/shm", "psr-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(other);
            Assert.NotEqual(TestTree.Stat(other).Device, TestTree.Stat(tree.Root).Device);
            TestTree.Write(Path.Join(other, "day1"), "one.txt", "one", TestTree.BaseTime);
            TestTree.Write(Path.Join(other, "day1"), "two.txt", "two", TestTree.BaseTime);
            tree.Src("one.txt", "one", TestTree.BaseTime);
            tree.Src("two.txt", "two", TestTree.BaseTime);
            SyncOptions options = tree.Options() with { LinkDest = [Path.Join(other, "day1")] };

            (_, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

            Assert.Empty(observer.Errors);
            Assert.Single(observer.Warnings, w => w.Contains("copied it on the remote host instead", StringComparison.Ordinal));
            Assert.Equal(2, observer.Items.Count(i => i.Action == SyncAction.Link));
            RandomTree.AssertSame(tree.Source, tree.Destination);
            Assert.NotEqual(Inode(Path.Join(other, "day1/one.txt")), Inode(Path.Join(tree.Destination, "one.txt")));

            tree.Src("one.txt", "one, edited", TestTree.BaseTime + 10);
            SyncOptions backups = tree.Options() with { Backup = true, BackupDirectory = Path.Join(other, "bak") };
            (_, RecordingObserver second, _) = await Loopback.RunAsync(RemoteSide.Destination, backups);
            Assert.Empty(second.Errors);
            Assert.Equal("one", File.ReadAllText(Path.Join(other, "bak/one.txt")));
            Assert.Equal(TestTree.BaseTime, TestTree.Stat(Path.Join(other, "bak/one.txt")).MtimeSeconds);
            Assert.Equal("one, edited", File.ReadAllText(Path.Join(tree.Destination, "one.txt")));
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    [Fact]
    public void Local_RemoveSourceFiles_keeps_a_source_whose_copy_passes_the_quick_check_but_differs_in_content()
    {
        using var tree = new TestTree();
        tree.Src("moved.txt", "moved", TestTree.BaseTime);
        tree.Src("lookalike.txt", "AAAA", TestTree.BaseTime);
        tree.Dst("lookalike.txt", "BBBB", TestTree.BaseTime);
        var observer = new RecordingObserver();

        LocalReplicator.Run(tree.Options() with { RemoveSourceFiles = true }, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        Assert.Equal(["lookalike.txt"], TestTree.Listing(tree.Source));
        Assert.Contains(observer.Warnings, w => w.Contains("lookalike.txt", StringComparison.Ordinal) && w.Contains("verified", StringComparison.Ordinal));
        Assert.Equal("moved", File.ReadAllText(Path.Join(tree.Destination, "moved.txt")));
    }

    internal static List<string> Describe(IEnumerable<SyncItem> items) =>
        items.Select(i => $"{i.Action} {i.ItemType} {i.RelativePath} {i.Reason}").OrderBy(s => s, StringComparer.Ordinal).ToList();
}
