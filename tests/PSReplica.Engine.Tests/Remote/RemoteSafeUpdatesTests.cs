using System.Text;
using PSReplica.Engine.Client;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>-DelayUpdates and -Inplace on a push (the "safe-updates" capability): the agent keeps finished files
/// waiting for one burst at the end and removes them when the run ends first; it rewrites files in place, in the same
/// inode, from a delta against themselves.</summary>
public sealed class RemoteSafeUpdatesTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public async Task Delay_updates_puts_every_file_in_place_with_directory_times_and_no_temp_file()
    {
        for (int i = 0; i < 30; i++)
        {
            _tree.Src($"d{i % 3}/f{i}.txt", "new content " + i);
            _tree.Dst($"d{i % 3}/f{i}.txt", "old " + i);
        }

        _tree.Src("d0/new.txt", "brand new");
        _tree.FreezeBoth();
        TestTree.Freeze(_tree.Source, TestTree.BaseTime + 500);

        (SyncSummary _, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, _tree.Options() with { DelayUpdates = true });

        Assert.Empty(observer.Errors);
        Assert.Equal(30, observer.Items.Count(i => i.Action == SyncAction.Update));
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal("new content " + i, File.ReadAllText(Path.Join(_tree.Destination, $"d{i % 3}/f{i}.txt")));
        }

        Assert.Equal(TestTree.Listing(_tree.Source), TestTree.Listing(_tree.Destination));
        foreach (string directory in new[] { "", "d0", "d1", "d2" })
        {
            // Set after the burst, whose renames change the directories.
            Assert.Equal(TestTree.BaseTime + 500, TestTree.Stat(Path.Join(_tree.Destination, directory)).MtimeSeconds);
        }
    }

    [Fact]
    public async Task Delay_updates_leaves_every_file_as_it_was_when_the_connection_is_cut()
    {
        WriteSmallChangesThenBig();
        _tree.Dst("z.bin", "old z", TestTree.BaseTime);

        RecordingObserver observer = await Loopback.CutMidFileAsync(_tree.Options() with { DelayUpdates = true }, "z.bin", BigLength);

        // The small files were written (their items reported) and waited for the burst, which never came.
        Assert.Equal(10, observer.Items.Count(i => i.RelativePath.StartsWith('a')));
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal("old " + i, File.ReadAllText(Path.Join(_tree.Destination, $"a{i}.txt")));
        }

        Assert.Equal("old z", File.ReadAllText(Path.Join(_tree.Destination, "z.bin")));
        Assert.Equal(TestTree.Listing(_tree.Source), TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public async Task Without_delay_updates_a_cut_connection_leaves_the_files_already_written()
    {
        // The control for the test above: the same cut without -DelayUpdates leaves the small files updated.
        WriteSmallChangesThenBig();

        await Loopback.CutMidFileAsync(_tree.Options(), "z.bin", BigLength);

        Assert.Equal("new 0", File.ReadAllText(Path.Join(_tree.Destination, "a0.txt")));
    }

    [Fact]
    public async Task Delay_updates_puts_the_other_files_in_place_when_one_cannot_be_read()
    {
        for (int i = 0; i < 5; i++)
        {
            _tree.Src($"f{i}.txt", "new " + i);
            _tree.Dst($"f{i}.txt", "old " + i, TestTree.BaseTime);
        }

        var observer = new RecordingObserver();
        SyncOptions options = _tree.Options() with { DelayUpdates = true };
        await using var loop = Loopback.WithAgent();
        await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Destination, options.Destination))
        {
            SyncPlan plan = replicator.Plan(options, observer, CancellationToken.None);
            // Gone between the plan and the transfer: that file fails, as an unreadable one does.
            File.Delete(Path.Join(_tree.Source, "f2.txt"));
            await Task.Run(() => replicator.Execute(plan, observer, CancellationToken.None));
        }

        SyncException error = Assert.Single(observer.Errors);
        Assert.EndsWith("f2.txt", error.Target, StringComparison.Ordinal);
        Assert.Equal("old 2", File.ReadAllText(Path.Join(_tree.Destination, "f2.txt")));
        foreach (int i in new[] { 0, 1, 3, 4 })
        {
            Assert.Equal("new " + i, File.ReadAllText(Path.Join(_tree.Destination, $"f{i}.txt")));
        }

        Assert.Equal(5, TestTree.Listing(_tree.Destination).Count);
    }

    [Fact]
    public async Task Delay_updates_links_a_hard_link_group_to_its_waiting_file()
    {
        _tree.Src("a.txt", "new shared");
        Assert.Equal(0, Posix.Link(Path.Join(_tree.Source, "a.txt"), Path.Join(_tree.Source, "b.txt")));
        _tree.Dst("a.txt", "old a", TestTree.BaseTime);
        _tree.Dst("b.txt", "old b", TestTree.BaseTime);

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, _tree.Options() with
        {
            DelayUpdates = true,
            Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks,
        });

        Assert.Empty(observer.Errors);
        StatInfo a = TestTree.Stat(Path.Join(_tree.Destination, "a.txt"));
        StatInfo b = TestTree.Stat(Path.Join(_tree.Destination, "b.txt"));
        Assert.Equal(a.Inode, b.Inode);
        Assert.Equal("new shared", File.ReadAllText(Path.Join(_tree.Destination, "b.txt")));
        Assert.Equal(["a.txt", "b.txt"], TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public async Task Delay_updates_with_backup_keeps_the_old_file_and_replaces_the_target_in_the_burst()
    {
        _tree.Src("f.txt", "new f");
        _tree.Dst("f.txt", "old f", TestTree.BaseTime);

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, _tree.Options() with { DelayUpdates = true, Backup = true });

        Assert.Empty(observer.Errors);
        Assert.Equal("new f", File.ReadAllText(Path.Join(_tree.Destination, "f.txt")));
        Assert.Equal("old f", File.ReadAllText(Path.Join(_tree.Destination, "f.txt~")));
        Assert.Equal(["f.txt", "f.txt~"], TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public async Task Delay_updates_with_partial_keeps_the_finished_file_under_its_partial_name_when_cut()
    {
        for (int i = 0; i < 4; i++)
        {
            _tree.Src($"a{i}.txt", "new " + i);
        }

        byte[] big = _tree.SrcRandom("z.bin", BigLength, seed: 5);
        SyncOptions options = _tree.Options() with { DelayUpdates = true, Partial = true };

        await Loopback.CutMidFileAsync(options, "z.bin", BigLength);

        // Complete, under the partial name: the next run resumes from it; nothing took a target's name.
        Assert.Equal("new 0", File.ReadAllText(Path.Join(_tree.Destination, ".a0.txt.psreplica-partial")));
        Assert.False(File.Exists(Path.Join(_tree.Destination, "a0.txt")));

        (_, RecordingObserver second, _) = await Loopback.RunAsync(RemoteSide.Destination, options);
        Assert.Empty(second.Errors);
        Assert.Equal(TestTree.Listing(_tree.Source), TestTree.Listing(_tree.Destination));
        Assert.Equal(big, File.ReadAllBytes(Path.Join(_tree.Destination, "z.bin")));
    }

    [Theory]
    [InlineData(TransferMode.Delta)]
    [InlineData(TransferMode.WholeFile)]
    public async Task Inplace_rewrites_the_file_in_its_inode_and_a_hard_link_sees_the_change(TransferMode mode)
    {
        byte[] old = TestTree.RandomBytes(64 * 2048, seed: 8);
        // The blocks in reverse order and one changed: the second half of the new file needs blocks the first half has
        // already overwritten.
        byte[] updated = new byte[old.Length - 1000];
        for (int block = 0; block < 64; block++)
        {
            Array.Copy(old, (63 - block) * 2048, updated, block * 2048, Math.Min(2048, updated.Length - (block * 2048)));
        }

        updated[70_000] ^= 0xFF;
        string target = Path.Join(_tree.Destination, "f.bin");
        Directory.CreateDirectory(_tree.Destination);
        File.WriteAllBytes(target, old);
        TestTree.SetTime(target, TestTree.BaseTime);
        string sibling = Path.Join(_tree.Root, "sibling");
        Assert.Equal(0, Posix.Link(target, sibling));
        File.WriteAllBytes(Path.Join(_tree.Source, "f.bin"), updated);
        _tree.Src("new.txt", "new file");
        ulong inode = TestTree.Stat(target).Inode;

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, _tree.Options() with { Inplace = true, TransferMode = mode, BlockSize = 2048 });

        Assert.Empty(observer.Errors);
        Assert.Empty(observer.Warnings);
        Assert.Equal(updated, File.ReadAllBytes(target));
        Assert.Equal(inode, TestTree.Stat(target).Inode);
        Assert.Equal(updated, File.ReadAllBytes(sibling));
        Assert.Equal("new file", File.ReadAllText(Path.Join(_tree.Destination, "new.txt")));
        Assert.Equal(TestTree.Stat(Path.Join(_tree.Source, "f.bin")).MtimeSeconds, TestTree.Stat(target).MtimeSeconds);
        SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == "f.bin");
        if (mode == TransferMode.Delta)
        {
            Assert.True(item.BytesMatched >= 16 * 2048, $"matched {item.BytesMatched}");
        }
        else
        {
            Assert.Equal(0, item.BytesMatched);
        }

        Assert.Equal(["f.bin", "new.txt"], TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public async Task Inplace_makes_a_read_only_file_writable_and_gives_it_the_source_mode()
    {
        _tree.Dst("f.txt", "old content that is longer", TestTree.BaseTime);
        string target = Path.Join(_tree.Destination, "f.txt");
        Assert.Equal(0, Posix.Chmod(target, 0x124));
        _tree.Src("f.txt", "new");
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "f.txt"), 0x1A4));
        ulong inode = TestTree.Stat(target).Inode;

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, _tree.Options() with { Inplace = true, Preserve = SyncOptions.DefaultPreserve });

        Assert.Empty(observer.Errors);
        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal(inode, TestTree.Stat(target).Inode);
        Assert.Equal(0x1A4, TestTree.Stat(target).Permissions);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_agent_without_safe_updates_is_not_asked_for_them(bool inplace)
    {
        _tree.Src("a.txt", "a");
        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync([.. Handshake.Capabilities.Where(c => c != Handshake.SafeUpdates)]);
        RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Destination, _tree.Destination);
        await accept;

        SyncOptions options = _tree.Options() with { Inplace = inplace, DelayUpdates = !inplace };
        var error = Assert.Throws<SyncException>(() => replicator.Plan(options, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.Contains(inplace ? "-Inplace" : "-DelayUpdates", error.Message, StringComparison.Ordinal);
        Assert.Contains("newer agent", error.Message, StringComparison.Ordinal);

        // Nor is a plan with those options that was made elsewhere carried out with ordinary updates.
        var refused = Assert.Throws<SyncException>(() => replicator.Execute(new SyncPlan(options, _tree.Source, _tree.Destination),
            new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, refused.ErrorId);
        Assert.False(Directory.Exists(_tree.Destination));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Inplace_is_refused_with_backup_or_delay_updates_on_a_push(bool backup, bool delay)
    {
        _tree.Src("a.txt", "a");
        await using var loop = Loopback.WithAgent();
        SyncOptions options = _tree.Options() with { Inplace = true, Backup = backup, DelayUpdates = delay };
        await using RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Destination, options.Destination);
        var error = Assert.Throws<SyncException>(() => replicator.Plan(options, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.False(Directory.Exists(_tree.Destination));
    }

    [Theory]
    [InlineData("link")]
    [InlineData("dirlink/f.txt")]
    public async Task Writing_in_place_never_follows_a_link(string path)
    {
        string outside = TestTree.Write(Path.Join(_tree.Root, "outside"), "f.txt", "secret");
        Directory.CreateDirectory(_tree.Destination);
        File.CreateSymbolicLink(Path.Join(_tree.Destination, "link"), outside);
        Directory.CreateSymbolicLink(Path.Join(_tree.Destination, "dirlink"), Path.GetDirectoryName(outside)!);
        await using var loop = Loopback.WithAgent();
        await using AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, _tree.Destination);

        byte[] data = Encoding.UTF8.GetBytes("overwritten");
        await Assert.ThrowsAsync<SyncException>(() => client.WriteInplaceAsync(path, create: false, new MemoryStream(data), data.Length,
            AttributeSet.None, CancellationToken.None));
        await Assert.ThrowsAsync<SyncException>(() => client.WriteInplaceAsync(path, create: true, new MemoryStream(data), data.Length,
            AttributeSet.None, CancellationToken.None));

        Assert.Equal("secret", File.ReadAllText(outside));
    }

    [Fact]
    public async Task A_delay_request_for_anything_but_the_whole_tree_ends_the_session()
    {
        Directory.CreateDirectory(_tree.Destination);
        await using Loopback loop = Loopback.WithAgent();
        FakePeer peer = await loop.ConnectPeerAsync(RemoteSide.Destination, _tree.Destination);
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.CommitUpdates, "sub").Write(w));
        await loop.AssertAgentAbortedAsync(peer, ErrorIds.ProtocolViolation);
    }

    private const int BigLength = 24 << 20;

    /// <summary>Ten small files that change (the destination's copies dated <see cref="TestTree.BaseTime"/>), then a big new
    /// "z.bin" for a cut to fall in.</summary>
    private void WriteSmallChangesThenBig()
    {
        for (int i = 0; i < 10; i++)
        {
            _tree.Src($"a{i}.txt", "new " + i);
            _tree.Dst($"a{i}.txt", "old " + i, TestTree.BaseTime);
        }

        _tree.SrcRandom("z.bin", BigLength, seed: 3);
    }
}
