namespace PSReplica.Engine.Tests.Remote;

/// <summary>-OneFileSystem through an agent. A pull asks the agent's walk (listing option one-file-system) not to go into
/// a directory on another device than the root, and the controller's listing check expects no listing of one; an agent
/// that lacks the capability would end the session on the unknown bit, so the option is refused with it instead. A push's
/// deletions stop at the agent's mount points from the devices every listing carries. A link with -CopyLinks to a directory
/// on another file system is a boundary any user can make (<see cref="OtherFileSystem"/>), so these mount nothing.</summary>
public sealed class OneFileSystemRemoteTests
{
    [Fact]
    public void Each_wiring_of_the_agent_declares_whether_it_can_stay_on_one_file_system()
    {
        var options = new SyncOptions { Source = "/s", Destination = "/d", OneFileSystem = true, Delete = true };
        Assert.Empty(RemoteReplicator.CapabilitiesOf(Handshake.Capabilities, "1.0", 2, RemoteSide.Destination).Unsupported(options));
        Assert.Empty(RemoteReplicator.CapabilitiesOf(Handshake.Capabilities, "1.0", 2, RemoteSide.Source).Unsupported(options));

        string[] older = [.. Handshake.Capabilities.Where(c => c != Handshake.OneFileSystem)];
        Assert.Empty(RemoteReplicator.CapabilitiesOf(older, "1.0", 2, RemoteSide.Destination).Unsupported(options));
        Assert.Equal(["-OneFileSystem"], RemoteReplicator.CapabilitiesOf(older, "1.0", 2, RemoteSide.Source).Unsupported(options));
        Assert.Empty(LocalReplicator.Capabilities.Unsupported(options));
    }

    [Fact]
    public async Task An_agent_without_the_capability_is_not_asked_to_stay_on_its_file_system()
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        SyncOptions options = tree.Options() with { OneFileSystem = true };

        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync([.. Handshake.Capabilities.Where(c => c != Handshake.OneFileSystem)]);
        RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Source, tree.Source);
        await accept;

        var error = Assert.Throws<SyncException>(() => replicator.Plan(options, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.StartsWith("-OneFileSystem cannot be used with the agent there (version fake", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tree.Destination));
    }

    [Theory]
    [InlineData(RemoteSide.Source)]
    [InlineData(RemoteSide.Destination)]
    public async Task A_link_to_another_file_system_is_a_mount_point_through_an_agent_as_locally(RemoteSide side)
    {
        using var other = new OtherFileSystem();
        using var local = new TestTree();
        using var remote = new TestTree();
        foreach (TestTree tree in new[] { local, remote })
        {
            tree.Src("f", "f");
            tree.Src("sub/g", "g");
            File.CreateSymbolicLink(Path.Join(tree.Source, "other"), other.Path);
            tree.Dst("sub/stale", "s");
            tree.FreezeBoth();
        }

        Func<TestTree, SyncOptions> options = tree => tree.Options(delete: true) with { OneFileSystem = true, CopyLinks = true };
        var localObserver = new RecordingObserver();
        LocalReplicator.Run(options(local), localObserver, CancellationToken.None);
        (_, RecordingObserver remoteObserver, long fromAgent) = await Loopback.RunAsync(side, options(remote));

        Assert.Empty(localObserver.Errors);
        Assert.Empty(remoteObserver.Errors);
        Assert.Equal(Describe(localObserver.Items), Describe(remoteObserver.Items));
        Assert.Contains("Create Directory other", Describe(remoteObserver.Items));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Join(remote.Destination, "other")));
        RandomTree.AssertSame(local.Destination, remote.Destination);
        Assert.True(fromAgent < 20_000, $"{fromAgent} bytes from the agent");
    }

    /// <summary>On the portable backend (Windows, macOS) the local side sees no devices: a pull may still ask the agent's
    /// walk to stay on one file system, but not stop deletions at the local destination's mount points, and a push cannot
    /// keep its own walk on one.</summary>
    [Fact]
    public async Task The_portable_backend_refuses_only_what_its_own_side_would_do()
    {
        using var other = new OtherFileSystem();
        using var tree = new TestTree();
        tree.Src("f", "f");
        tree.Src("sub/g", "g");
        File.CreateSymbolicLink(Path.Join(tree.Source, "other"), other.Path);
        File.WriteAllText(Path.Join(other.Path, "beyond.txt"), "on another file system");
        SyncOptions portable = tree.Options() with { OneFileSystem = true, CopyLinks = true, FileSystem = FileSystemBackendKind.Portable, Preserve = PreserveOptions.Times | PreserveOptions.Permissions };

        (_, RecordingObserver pulled, _) = await Loopback.RunAsync(RemoteSide.Source, portable);
        Assert.Empty(pulled.Errors);
        Assert.Equal(["f", "other", "sub", "sub/g"], TestTree.Listing(tree.Destination));

        Directory.Delete(tree.Destination, recursive: true);
        foreach ((RemoteSide side, SyncOptions options, string refused) in new[]
        {
            (RemoteSide.Source, portable with { Delete = true }, "-OneFileSystem with -Delete"),
            (RemoteSide.Destination, portable, "-OneFileSystem"),
        })
        {
            var error = await Assert.ThrowsAsync<SyncException>(() => Loopback.RunAsync(side, options));
            Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
            Assert.StartsWith(refused + " cannot be used with the portable file-system backend", error.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(tree.Destination));
        }
    }

    [Fact]
    public void The_listing_check_expects_no_listing_of_a_directory_on_another_device()
    {
        var validator = new ListingValidator(string.Empty, recursive: true) { WalkedDevice = 7 };
        validator.StartDirectory(string.Empty);
        validator.Entry(DirectoryEntry("here", device: 7));
        validator.Entry(DirectoryEntry("mount", device: 8));
        _ = validator.EndDirectory();
        validator.StartDirectory("here");
        _ = validator.EndDirectory();
        validator.Complete();

        var strict = new ListingValidator(string.Empty, recursive: true) { WalkedDevice = 7 };
        strict.StartDirectory(string.Empty);
        strict.Entry(DirectoryEntry("mount", device: 8));
        _ = strict.EndDirectory();
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => strict.StartDirectory("mount")).ErrorId);

        var unchanged = new ListingValidator(string.Empty, recursive: true);
        unchanged.StartDirectory(string.Empty);
        unchanged.Entry(DirectoryEntry("mount", device: 8));
        _ = unchanged.EndDirectory();
        Assert.Equal(ErrorIds.ProtocolViolation, Assert.Throws<SyncException>(unchanged.Complete).ErrorId);
    }

    private static ListingEntry DirectoryEntry(string name, ulong device) =>
        new(name, new StatInfo(0x41ED, 2, 0, 0, 100 + device, 0, TestTree.BaseTime, 0, device), null);

    private static List<string> Describe(List<SyncItem> items) =>
        items.ConvertAll(i => $"{i.Action} {i.ItemType} {i.RelativePath}");
}
