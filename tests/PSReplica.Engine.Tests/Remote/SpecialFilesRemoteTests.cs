using PSReplica.Engine.Endpoints;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>-Preserve Devices and Specials (rsync -D) locally, on a push (the agent makes the nodes: CreateNode) and on a
/// pull (the agent lists each device's number: listing feature DeviceNumbers): every node arrives with its type, number,
/// mode and time, is remade when its type or number differ, is left alone when equal, and is left out, with a warning,
/// without the options. An agent without the "specials" capability is refused before anything is touched.</summary>
public sealed class SpecialFilesRemoteTests : IDisposable
{
    private static readonly PreserveOptions Nodes = SyncOptions.DefaultPreserve | PreserveOptions.Devices | PreserveOptions.Specials;

    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    public static TheoryData<string> Wirings => ["Local", "Push", "Pull"];

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task Devices_fifos_and_sockets_arrive_with_their_types_numbers_modes_and_times(string wiring)
    {
        long t = TestTree.BaseTime;
        SpecialFiles.Fifo(Path.Join(_tree.Source, "pipe"), 0x1A0, t + 1);
        SpecialFiles.Socket(Path.Join(_tree.Source, "sub/sock"), 0x1C0, t + 2);
        SpecialFiles.Device(Path.Join(_tree.Source, "null"), block: false, SpecialFiles.NullDevice, 0x1B6, t + 3);
        SpecialFiles.Device(Path.Join(_tree.Source, "loop"), block: true, SpecialFiles.LoopDevice, 0x180, t + 4);

        RecordingObserver observer = await Loopback.RunOnWiringAsync(wiring, _tree.Options() with { Preserve = Nodes });

        Assert.Empty(observer.Errors);
        Same("pipe", Posix.SIfifo, 0);
        Same("sub/sock", Posix.SIfsock, 0);
        Same("null", Posix.SIfchr, SpecialFiles.NullDevice);
        Same("loop", Posix.SIfblk, SpecialFiles.LoopDevice);
        Assert.Contains(observer.Items, i => i.RelativePath == "pipe" && i.ItemType == SyncItemType.Fifo && i.Action == SyncAction.Create && i.Itemize == "cS+++++++++");
        Assert.Contains(observer.Items, i => i.RelativePath == "sub/sock" && i.ItemType == SyncItemType.Socket);
        Assert.Contains(observer.Items, i => i.RelativePath == "null" && i.ItemType == SyncItemType.CharacterDevice && i.Itemize == "cD+++++++++");
        Assert.Contains(observer.Items, i => i.RelativePath == "loop" && i.ItemType == SyncItemType.BlockDevice);

        // Converged: a second run finds nothing to do.
        RecordingObserver again = await Loopback.RunOnWiringAsync(wiring, _tree.Options() with { Preserve = Nodes });
        Assert.Empty(again.Errors);
        Assert.DoesNotContain(again.Items, i => i.RelativePath != ".");
    }

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task A_node_of_another_type_or_number_is_remade_and_an_extraneous_one_deleted(string wiring)
    {
        long t = TestTree.BaseTime;
        SpecialFiles.Device(Path.Join(_tree.Source, "dev"), block: false, SpecialFiles.NullDevice, 0x1B6, t);
        SpecialFiles.Fifo(Path.Join(_tree.Source, "was-file"), 0x1A4, t);
        SpecialFiles.Socket(Path.Join(_tree.Source, "was-fifo"), 0x1ED, t);
        SpecialFiles.Fifo(Path.Join(_tree.Source, "mode-only"), 0x1A4, t);
        SpecialFiles.Device(Path.Join(_tree.Source, "was-char"), block: true, SpecialFiles.LoopDevice, 0x180, t);
        SpecialFiles.Device(Path.Join(_tree.Destination, "was-char"), block: false, SpecialFiles.LoopDevice, 0x180, t);
        SpecialFiles.Device(Path.Join(_tree.Destination, "dev"), block: false, SpecialFiles.ZeroDevice, 0x1B6, t);
        _tree.Dst("was-file", "a file\n", t);
        SpecialFiles.Fifo(Path.Join(_tree.Destination, "was-fifo"), 0x1A4, t);
        string modeOnly = SpecialFiles.Fifo(Path.Join(_tree.Destination, "mode-only"), 0x180, t);
        ulong inode = TestTree.Stat(modeOnly).Inode;
        SpecialFiles.Fifo(Path.Join(_tree.Destination, "extraneous"), 0x1A4, t);

        RecordingObserver observer = await Loopback.RunOnWiringAsync(wiring, _tree.Options(delete: true) with { Preserve = Nodes });

        Assert.Empty(observer.Errors);
        Same("dev", Posix.SIfchr, SpecialFiles.NullDevice);
        Same("was-file", Posix.SIfifo, 0);
        Same("was-fifo", Posix.SIfsock, 0);
        Same("mode-only", Posix.SIfifo, 0);
        // Of the same number, time and mode: rsync 3.5 leaves the character device there; the source holds a block device.
        Same("was-char", Posix.SIfblk, SpecialFiles.LoopDevice);
        Assert.Equal(inode, TestTree.Stat(modeOnly).Inode);
        Assert.False(Path.Exists(Path.Join(_tree.Destination, "extraneous")));
        Assert.Contains(observer.Items, i => i.RelativePath == "dev" && i.Action == SyncAction.Update && i.Reason == SyncReason.DeviceChanged);
        Assert.Contains(observer.Items, i => i.RelativePath == "was-file" && i.ItemType == SyncItemType.Fifo && i.Reason == SyncReason.TypeChanged);
        Assert.Contains(observer.Items, i => i.RelativePath == "mode-only" && i.Action == SyncAction.Metadata && i.Itemize == ".S...p.....");
        // A socket where a FIFO was is, as to rsync, one item that changed (replaced in one step, no deletion first).
        SyncItem wasFifo = Assert.Single(observer.Items, i => i.RelativePath == "was-fifo");
        Assert.Equal((SyncAction.Update, SyncReason.TypeChanged, "cSc..p....."), (wasFifo.Action, wasFifo.Reason, wasFifo.Itemize));
        Assert.Contains(observer.Items, i => i.RelativePath == "extraneous" && i.Action == SyncAction.Delete && i.ItemType == SyncItemType.Fifo);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_tree.Destination), p => Path.GetFileName(p).StartsWith(".~psr", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task Without_the_options_nodes_are_left_out_and_said_to_be(string wiring)
    {
        SpecialFiles.Fifo(Path.Join(_tree.Source, "pipe"));
        SpecialFiles.Device(Path.Join(_tree.Source, "null"), block: false, SpecialFiles.NullDevice);
        _tree.Src("file.txt", "kept\n");

        RecordingObserver observer = await Loopback.RunOnWiringAsync(wiring, _tree.Options() with { Preserve = SyncOptions.DefaultPreserve | PreserveOptions.Specials });

        Assert.Empty(observer.Errors);
        Same("pipe", Posix.SIfifo, 0);
        Assert.False(Path.Exists(Path.Join(_tree.Destination, "null")));
        Assert.Contains(observer.Warnings, w => w.Contains("character device 'null'", StringComparison.Ordinal) && w.Contains("-Preserve Devices", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Join(_tree.Destination, "file.txt")));
    }

    [Theory]
    [InlineData(RemoteSide.Destination, PreserveOptions.Devices)]
    [InlineData(RemoteSide.Source, PreserveOptions.Devices)]
    [InlineData(RemoteSide.Destination, PreserveOptions.Specials)]
    public async Task An_agent_without_the_specials_capability_is_refused_before_anything_is_touched(RemoteSide side, PreserveOptions wanted)
    {
        SpecialFiles.Fifo(Path.Join(_tree.Source, "pipe"));
        Directory.CreateDirectory(_tree.Destination);
        SyncOptions options = _tree.Options() with { Preserve = SyncOptions.DefaultPreserve | wanted };

        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync([.. Handshake.Capabilities.Where(c => c != Handshake.Specials)]);
        RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, side == RemoteSide.Destination ? _tree.Destination : _tree.Source);
        await accept;

        var error = Assert.Throws<SyncException>(() => replicator.Plan(options, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.StartsWith($"-Preserve {wanted} cannot be used with the agent there", error.Message, StringComparison.Ordinal);
        Assert.Empty(TestTree.Listing(_tree.Destination));
        Assert.True(RemoteReplicator.CapabilitiesOf(Handshake.Capabilities, "1.0", 2, side).Specials);
    }

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task RemoveSourceFiles_removes_nodes_whose_copies_are_verified_as_rsync_does(string wiring)
    {
        long t = TestTree.BaseTime;
        string pipe = SpecialFiles.Fifo(Path.Join(_tree.Source, "pipe"), 0x1A4, t + 1);
        string device = SpecialFiles.Device(Path.Join(_tree.Source, "sub/null"), block: false, SpecialFiles.NullDevice, 0x1B6, t + 2);
        string file = _tree.Src("sub/file.txt", "moved\n", t + 3);

        RecordingObserver observer = await Loopback.RunOnWiringAsync(wiring, _tree.Options() with { Preserve = Nodes, RemoveSourceFiles = true });

        Assert.Empty(observer.Errors);
        Assert.Empty(observer.Warnings);
        Assert.False(Path.Exists(pipe));
        Assert.False(Path.Exists(device));
        Assert.False(Path.Exists(file));
        Assert.True(Directory.Exists(Path.Join(_tree.Source, "sub")));
        Assert.Equal(Posix.SIfifo, TestTree.Stat(Path.Join(_tree.Destination, "pipe")).FileType);
        Assert.Equal(SpecialFiles.NullDevice, TestTree.Stat(Path.Join(_tree.Destination, "sub/null")).Rdev);
    }

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task RemoveSourceFiles_keeps_a_node_whose_copy_is_another_device(string wiring)
    {
        // -IgnoreExisting leaves the destination's device (another number, same type, mode and time) as it is: nothing was
        // transferred, so the source stays, as with rsync (not even offered for removal); the FIFO beside it was copied and goes.
        long t = TestTree.BaseTime;
        string device = SpecialFiles.Device(Path.Join(_tree.Source, "dev"), block: false, SpecialFiles.NullDevice, 0x1B6, t);
        SpecialFiles.Device(Path.Join(_tree.Destination, "dev"), block: false, SpecialFiles.ZeroDevice, 0x1B6, t);
        string pipe = SpecialFiles.Fifo(Path.Join(_tree.Source, "pipe"), 0x1A4, t);

        RecordingObserver observer = await Loopback.RunOnWiringAsync(wiring, _tree.Options() with { Preserve = Nodes, RemoveSourceFiles = true, IgnoreExisting = true });

        Assert.Empty(observer.Errors);
        Assert.True(Path.Exists(device));
        Assert.Equal(SpecialFiles.ZeroDevice, TestTree.Stat(Path.Join(_tree.Destination, "dev")).Rdev);
        Assert.Empty(observer.Warnings);
        Assert.False(Path.Exists(pipe));
    }

    [Fact]
    public async Task The_agent_removes_a_source_node_only_while_it_is_the_node_listed()
    {
        long t = TestTree.BaseTime;
        const uint Nanoseconds = 250_000_000; // SpecialFiles gives the times it sets a quarter second
        string pipe = SpecialFiles.Fifo(Path.Join(_tree.Source, "pipe"), 0x1A4, t);
        string device = SpecialFiles.Device(Path.Join(_tree.Source, "dev"), block: false, SpecialFiles.NullDevice, 0x1B6, t);
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, _tree.Source))
        {
            // Another type, another device number, another time: each kept.
            foreach ((string path, int type, ulong rdev, long seconds) in new[]
            {
                ("pipe", Posix.SIfsock, 0UL, t), ("dev", Posix.SIfchr, SpecialFiles.ZeroDevice, t), ("dev", Posix.SIfblk, SpecialFiles.NullDevice, t), ("pipe", Posix.SIfifo, 0UL, t + 1),
            })
            {
                var kept = await Assert.ThrowsAsync<SyncException>(() => client.RemoveSourceAsync(path, 0, seconds, Nanoseconds, type, rdev, CancellationToken.None));
                Assert.Equal(ErrorIds.SourceChangedSinceListing, kept.ErrorId);
            }

            Assert.True(Path.Exists(pipe) && Path.Exists(device));
            await client.RemoveSourceAsync("pipe", 0, t, Nanoseconds, Posix.SIfifo, 0, CancellationToken.None);
            await client.RemoveSourceAsync("dev", 0, t, Nanoseconds, Posix.SIfchr, SpecialFiles.NullDevice, CancellationToken.None);
        }

        Assert.False(Path.Exists(pipe));
        Assert.False(Path.Exists(device));
    }

    [Fact]
    public void The_portable_backend_makes_nodes_on_linux_and_sftp_never_does()
    {
        var options = new SyncOptions { Source = _tree.Source, Destination = _tree.Destination, Preserve = Nodes };
        Assert.Empty(LocalReplicator.PortableCapabilities.Unsupported(options));
        Assert.Empty(LocalReplicator.Capabilities.Unsupported(options));
        Assert.Equal(["-Preserve Devices", "-Preserve Specials"], new DestinationCapabilities { Wiring = "w", Owners = true }.Unsupported(options));
    }

    private void Same(string relative, int type, ulong rdev)
    {
        StatInfo source = TestTree.Stat(Path.Join(_tree.Source, relative));
        StatInfo copy = TestTree.Stat(Path.Join(_tree.Destination, relative));
        Assert.Equal(type, copy.FileType);
        Assert.Equal(rdev, copy.Rdev);
        Assert.Equal(source.Permissions, copy.Permissions);
        Assert.Equal((source.MtimeSeconds, source.MtimeNanoseconds), (copy.MtimeSeconds, copy.MtimeNanoseconds));
        Assert.Equal((source.Uid, source.Gid), (copy.Uid, copy.Gid));
    }

    /// <summary>-CompareDest leaves out a FIFO or socket a basis directory holds unchanged (rsync's try_dests_non) on every
    /// wiring alike, and makes one that differs; a device it holds is made (an agent's basis listing has no numbers).</summary>
    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task CompareDest_leaves_out_the_fifos_and_sockets_a_basis_holds_unchanged(string wiring)
    {
        long t = TestTree.BaseTime;
        string basis = Path.Join(_tree.Root, "basis");
        foreach (string root in new[] { _tree.Source, basis })
        {
            SpecialFiles.Fifo(Path.Join(root, "pipe"), 0x1A0, t + 1);
            SpecialFiles.Socket(Path.Join(root, "sock"), 0x1C0, t + 2);
            SpecialFiles.Device(Path.Join(root, "null"), block: false, SpecialFiles.NullDevice, 0x1B6, t + 3);
        }

        SpecialFiles.Fifo(Path.Join(_tree.Source, "other-time"), 0x1A0, t + 4);
        SpecialFiles.Fifo(Path.Join(basis, "other-time"), 0x1A0, t + 5);

        RecordingObserver observer = await Loopback.RunOnWiringAsync(wiring, _tree.Options() with { Preserve = Nodes, CompareDest = ["../basis"] });

        Assert.Empty(observer.Errors);
        Assert.Equal(["null", "other-time"], observer.Items.Where(i => i.ItemType != SyncItemType.Directory).Select(i => i.RelativePath).Order(StringComparer.Ordinal));
        Assert.Equal(Posix.ENOENT, Posix.Stat(Path.Join(_tree.Destination, "pipe"), follow: false, out _));
        Assert.Equal(Posix.ENOENT, Posix.Stat(Path.Join(_tree.Destination, "sock"), follow: false, out _));
    }
}
