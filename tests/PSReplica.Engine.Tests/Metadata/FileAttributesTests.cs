using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Metadata;

/// <summary>Windows' file attributes on the portable backend (-Preserve Attributes, -ArchiveOnly, -ResetArchive), run on
/// Linux through the test seam: the real planner, executor and portable backend, with <see cref="FakeAttributeStore"/>
/// standing in for File.GetAttributes/SetAttributes (which these tests do not run).</summary>
public sealed class FileAttributesTests
{
    private const FileAttributes ReadOnly = FileAttributes.ReadOnly;
    private const FileAttributes Hidden = FileAttributes.Hidden;
    private const FileAttributes System = FileAttributes.System;
    private const FileAttributes Archive = FileAttributes.Archive;

    private static SyncOptions Portable(TestTree tree, bool delete = false) => tree.Options(delete) with
    {
        FileSystem = FileSystemBackendKind.Portable,
        Preserve = PreserveOptions.Times | PreserveOptions.Permissions | PreserveOptions.Links | PreserveOptions.Attributes,
    };

    private static RecordingObserver Run(SyncOptions options, RecordingObserver? observer = null)
    {
        observer ??= new RecordingObserver { WantsVerbose = true };
        LocalReplicator.Run(options, observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        return observer;
    }

    private static string[] Described(RecordingObserver observer) =>
        [.. observer.Items.Select(i => $"{i.Itemize} {i.RelativePath}").Order(StringComparer.Ordinal)];

    [Fact]
    public void New_files_and_directories_get_the_sources_attributes_and_a_second_run_changes_nothing()
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha", ReadOnly | Hidden, 1_700_000_000);
        t.Src("sub/b.txt", "bravo", Archive, 1_700_000_000);
        t.Store.Set(Path.Join(t.Tree.Source, "sub"), Hidden | System);
        t.Tree.Src("c.txt", "charlie", 1_700_000_000);

        Run(Portable(t.Tree));

        Assert.Equal(ReadOnly | Hidden, t.InDestination("a.txt"));
        Assert.Equal(Archive, t.InDestination("sub/b.txt"));
        Assert.Equal(Hidden | System, t.InDestination("sub"));
        Assert.Equal(Archive, t.InDestination("c.txt"));
        Assert.Equal("alpha", File.ReadAllText(Path.Join(t.Tree.Destination, "a.txt")));

        int writes = t.Store.Writes;
        RecordingObserver second = Run(Portable(t.Tree));
        Assert.Empty(second.Items);
        Assert.Equal(writes, t.Store.Writes);
    }

    [Fact]
    public void An_updated_file_gets_the_sources_attributes_and_says_so_with_A()
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha, longer", Hidden | Archive, 1_700_000_100);
        t.Tree.Dst("a.txt", "alpha", 1_700_000_000);

        RecordingObserver observer = Run(Portable(t.Tree));

        Assert.Equal([">f.st.....A a.txt"], Described(observer));
        Assert.Equal(Hidden | Archive, t.InDestination("a.txt"));
        Assert.Equal("alpha, longer", File.ReadAllText(Path.Join(t.Tree.Destination, "a.txt")));
        Assert.Empty(Run(Portable(t.Tree)).Items);
    }

    [Fact]
    public void An_attributes_difference_alone_is_a_metadata_action_that_leaves_the_data_alone()
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha", Hidden | System, 1_700_000_000);
        t.Store.Set(t.Tree.Dst("a.txt", "alpha", 1_700_000_000), Archive);
        Directory.CreateDirectory(Path.Join(t.Tree.Source, "d"));
        Directory.CreateDirectory(Path.Join(t.Tree.Destination, "d"));
        t.Store.Set(Path.Join(t.Tree.Source, "d"), ReadOnly);
        ulong before = Inode(Path.Join(t.Tree.Destination, "a.txt"));

        RecordingObserver observer = Run(Portable(t.Tree));

        Assert.Equal([".d........A d", ".f........A a.txt"], Described(observer));
        Assert.All(observer.Items, item => Assert.Equal((SyncAction.Metadata, SyncReason.MetadataChanged), (item.Action, item.Reason)));
        Assert.Equal(Hidden | System, t.InDestination("a.txt"));
        Assert.Equal(ReadOnly, t.InDestination("d"));
        Assert.Equal(before, Inode(Path.Join(t.Tree.Destination, "a.txt")));

        // Without -Preserve Attributes the difference is not looked at.
        t.Store.Set(Path.Join(t.Tree.Source, "a.txt"), Archive);
        Assert.Empty(Run(Portable(t.Tree) with { Preserve = SyncOptions.DefaultPreserve }).Items);
        Assert.DoesNotContain(Run(Portable(t.Tree) with { Preserve = PreserveOptions.Attributes }).Items, i => i.RelativePath == "d");
    }

    /// <summary>The file system's own inode number (the portable backend's is its path's hash).</summary>
    private static ulong Inode(string path)
    {
        using FileSystemBackend.Scope linux = FileSystemBackend.Use(FileSystemBackendKind.Linux);
        Assert.Equal(0, Posix.Stat(path, follow: false, out StatInfo stat));
        return stat.Inode;
    }

    [Fact]
    public void A_read_only_destination_file_is_replaced_and_deleted_as_a_writable_one_is()
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha, new", ReadOnly | Archive, 1_700_000_100);
        t.Store.Set(t.Tree.Dst("a.txt", "alpha", 1_700_000_000), ReadOnly);
        t.Store.Set(t.Tree.Dst("gone.txt", "extra", 1_700_000_000), ReadOnly | Hidden);

        // The store refuses to replace a ReadOnly item, as Windows does: the receiver must clear it first.
        Assert.Equal(Posix.EACCES, t.Store.MayChange(Path.Join(t.Tree.Destination, "a.txt")));
        RecordingObserver observer = Run(Portable(t.Tree, delete: true));

        Assert.Equal(["*deleting   gone.txt", ">f.st.....A a.txt"], Described(observer));
        Assert.Equal("alpha, new", File.ReadAllText(Path.Join(t.Tree.Destination, "a.txt")));
        Assert.Equal(ReadOnly | Archive, t.InDestination("a.txt"));
        Assert.False(File.Exists(Path.Join(t.Tree.Destination, "gone.txt")));

        // ReadOnly is set last: the file was complete (its time set) before it became read-only.
        Assert.Equal(1_700_000_100, new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Join(t.Tree.Destination, "a.txt"))).ToUnixTimeSeconds());
        Assert.Empty(Run(Portable(t.Tree, delete: true)).Items);
    }

    [Fact]
    public void Inplace_updates_a_read_only_destination_file_and_makes_it_read_only_again()
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha, new", ReadOnly | Archive, 1_700_000_100);
        string target = t.Tree.Dst("a.txt", "alpha", 1_700_000_000);
        t.Store.Set(target, ReadOnly);
        ulong inode = Inode(target);

        RecordingObserver observer = Run(Portable(t.Tree) with { Inplace = true });

        Assert.Equal([">f.st.....A a.txt"], Described(observer));
        Assert.Equal("alpha, new", File.ReadAllText(target));
        Assert.Equal(inode, Inode(target));
        Assert.Equal(ReadOnly | Archive, t.Store.Get(target));

        // Without -Preserve Attributes nothing makes it writable: the update fails, as a mode without write access does on Linux.
        File.WriteAllText(Path.Join(t.Tree.Source, "a.txt"), "alpha, newer");
        var refused = new RecordingObserver();
        LocalReplicator.Run(Portable(t.Tree) with { Inplace = true, Preserve = SyncOptions.DefaultPreserve }, refused, CancellationToken.None);
        Assert.Equal(ErrorIds.PermissionDenied, Assert.Single(refused.Errors).ErrorId);
        Assert.Equal("alpha, new", File.ReadAllText(target));
    }

    [Fact]
    public void ArchiveOnly_copies_only_files_with_the_archive_attribute_and_keeps_the_others_copies_under_Delete()
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha", Archive | Hidden, 1_700_000_100);
        t.Src("b.txt", "bravo, changed", 0, 1_700_000_100);
        t.Src("sub/c.txt", "charlie", ReadOnly, 1_700_000_100);
        t.Tree.Dst("b.txt", "bravo", 1_700_000_000);
        t.Tree.Dst("extra.txt", "extra", 1_700_000_000);

        RecordingObserver observer = Run(Portable(t.Tree, delete: true) with { Preserve = SyncOptions.DefaultPreserve, ArchiveOnly = true });

        Assert.Equal(["*deleting   extra.txt", ">f+++++++++ a.txt", "cd+++++++++ sub"], Described(observer));
        Assert.Equal("bravo", File.ReadAllText(Path.Join(t.Tree.Destination, "b.txt")));
        Assert.False(File.Exists(Path.Join(t.Tree.Destination, "sub/c.txt")));
        Assert.Contains("Archive: only files whose Archive attribute is set are transferred (-ArchiveOnly)", observer.Verbose);
        Assert.Contains("Skipping 'b.txt': its Archive attribute is not set (-ArchiveOnly)", observer.Verbose);
        Assert.Contains("Skipping 'sub/c.txt': its Archive attribute is not set (-ArchiveOnly)", observer.Verbose);

        // The source's attributes are left as they were.
        Assert.Equal(Archive | Hidden, t.InSource("a.txt"));
        Assert.Equal((FileAttributes)0, t.InSource("b.txt"));
    }

    [Fact]
    public void ResetArchive_clears_the_archive_attribute_of_each_verified_copy_and_nothing_else()
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha", Archive | Hidden, 1_700_000_100);
        t.Src("same.txt", "same", Archive, 1_700_000_100);
        t.Src("b.txt", "bravo", ReadOnly, 1_700_000_100);
        t.Tree.Dst("same.txt", "same", 1_700_000_100);

        RecordingObserver observer = Run(Portable(t.Tree) with { Preserve = SyncOptions.DefaultPreserve, ResetArchive = true });

        Assert.Equal([">f+++++++++ a.txt"], Described(observer));
        Assert.Equal(Hidden, t.InSource("a.txt"));
        // Already up to date and verified: backed up, as robocopy /M counts it.
        Assert.Equal((FileAttributes)0, t.InSource("same.txt"));
        Assert.Equal(ReadOnly, t.InSource("b.txt"));
        Assert.False(File.Exists(Path.Join(t.Tree.Destination, "b.txt")));
        Assert.Equal("alpha", File.ReadAllText(Path.Join(t.Tree.Source, "a.txt")));
        Assert.Contains("Reset the Archive attribute of 'a.txt' in the source (-ResetArchive)", observer.Verbose);

        // Nothing is flagged any more: the next run copies nothing.
        Assert.Empty(Run(Portable(t.Tree) with { Preserve = SyncOptions.DefaultPreserve, ResetArchive = true }).Items);
    }

    [Fact]
    public void ResetArchive_keeps_the_flag_of_a_source_that_changed_after_its_copy()
    {
        using var t = new AttributeTrees();
        string changing = t.Tree.Src("a.txt", "alpha", 1_700_000_100);
        t.Store.Set(changing, Archive);
        t.Src("b.txt", "bravo", Archive, 1_700_000_100);

        // Once its copy is in place, the source is written again (Windows sets Archive on a write; here it stays set).
        var observer = new RecordingObserver
        {
            WantsVerbose = true,
            OnItemHook = item =>
            {
                if (item.RelativePath == "a.txt")
                {
                    File.WriteAllText(changing, "alpha, written meanwhile");
                }
            },
        };
        Run(Portable(t.Tree) with { Preserve = SyncOptions.DefaultPreserve, ResetArchive = true, ThrottleLimit = 1 }, observer);

        Assert.Equal(Archive, t.Store.Get(changing));
        Assert.Equal((FileAttributes)0, t.InSource("b.txt"));
        Assert.Contains("Not resetting the Archive attribute of 'a.txt': its destination copy could not be verified.", observer.Warnings);
    }

    [Fact]
    public void With_RemoveSourceFiles_the_verified_sources_are_removed_and_the_unflagged_stay()
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha", Archive, 1_700_000_100);
        t.Src("b.txt", "bravo", 0, 1_700_000_100);

        RecordingObserver observer = Run(Portable(t.Tree) with { Preserve = SyncOptions.DefaultPreserve, ResetArchive = true, RemoveSourceFiles = true });

        Assert.Equal([">f+++++++++ a.txt", "cd+++++++++ ."], Described(observer));
        Assert.Equal(["b.txt"], TestTree.Listing(t.Tree.Source));
        Assert.Contains("Archive: only files whose Archive attribute is set are transferred, and it is cleared once each copy is verified (-ResetArchive)",
            observer.Verbose);
    }

    [Fact]
    public void A_dry_run_resets_nothing()
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha", Archive, 1_700_000_100);

        var observer = new RecordingObserver();
        LocalReplicator.Run(Portable(t.Tree) with { ResetArchive = true }, observer, CancellationToken.None, dryRun: true);

        Assert.Contains(observer.Items, i => i.RelativePath == "a.txt");
        Assert.Equal(Archive, t.InSource("a.txt"));
        Assert.Equal(0, t.Store.Writes);
    }

    [Fact]
    public void No_wire_carries_them_and_a_peer_that_sends_the_flag_violates_the_protocol()
    {
        var set = new AttributeSet(AttributeFields.Time | AttributeFields.FileAttributes, 0, 0, 0, 1, 0) { FileAttributes = (int)Hidden };
        using var writer = new WireWriter();
        Assert.Throws<InvalidOperationException>(() => set.Write(writer));

        byte[] hostile = [(byte)(AttributeFields.Time | AttributeFields.FileAttributes), 2, 0];
        var error = Assert.Throws<SyncException>(() =>
        {
            var reader = new WireReader(hostile);
            _ = AttributeSet.Read(ref reader);
        });
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
        Assert.Contains("unknown attribute flags 0x28", error.Message, StringComparison.Ordinal);

        Assert.Equal(".f..t.....A", Engine.Planning.Itemizer.Changed('.', SyncItemType.File, checksum: false, size: false, 't',
            Engine.Planning.AttributeChanges.Times | Engine.Planning.AttributeChanges.FileAttributes));
    }

    public static TheoryData<string> Options => new() { "-Preserve Attributes", "-ArchiveOnly", "-ResetArchive" };

    private static SyncOptions With(SyncOptions options, string parameter) => parameter switch
    {
        "-Preserve Attributes" => options,
        "-ArchiveOnly" => options with { Preserve = SyncOptions.DefaultPreserve, ArchiveOnly = true },
        _ => options with { Preserve = SyncOptions.DefaultPreserve, ResetArchive = true },
    };

    [Theory]
    [MemberData(nameof(Options))]
    public void The_Linux_backend_and_the_portable_one_off_Windows_refuse_them_before_anything_is_touched(string parameter)
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "alpha");
        SyncOptions options = With(Portable(tree), parameter);

        // No store: the portable backend on Linux holds no such attributes.
        var error = Assert.Throws<SyncException>(() => LocalReplicator.Run(options, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.Equal($"{parameter} cannot be used with the portable file-system backend. {DestinationCapabilities.FileAttributesNote}", error.Message);

        // The Linux backend never holds them, store or not.
        using FileAttributeStore.Scope scope = FileAttributeStore.Use(new FakeAttributeStore());
        error = Assert.Throws<SyncException>(() => LocalReplicator.Run(options with { FileSystem = FileSystemBackendKind.Linux }, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.Equal($"{parameter} cannot be used with the Linux file-system backend. {DestinationCapabilities.FileAttributesNote}", error.Message);
        Assert.False(Directory.Exists(tree.Destination));
    }

    [Fact]
    public void The_agent_carries_no_attributes_and_a_remote_source_tells_no_archive_flag()
    {
        var options = new SyncOptions { Source = "/s", Destination = "/d", Preserve = PreserveOptions.Attributes };
        DestinationCapabilities push = RemoteReplicator.CapabilitiesOf(Handshake.Capabilities, "1.0", 2, RemoteSide.Destination);
        DestinationCapabilities pull = RemoteReplicator.CapabilitiesOf(Handshake.Capabilities, "1.0", 2, RemoteSide.Source);
        Assert.Equal(["-Preserve Attributes"], push.Unsupported(options));
        Assert.Equal(["-Preserve Attributes"], pull.Unsupported(options));

        var archive = new SyncOptions { Source = "/s", Destination = "/d", ArchiveOnly = true, ResetArchive = true };
        Assert.Equal(["-ArchiveOnly", "-ResetArchive"], pull.Unsupported(archive));
        // A push's source is local: its own backend decides (LocalReplicator's check runs as well).
        Assert.Empty(push.Unsupported(archive));
    }

    [Theory]
    [InlineData(RemoteSide.Destination, "-Preserve Attributes")]
    [InlineData(RemoteSide.Source, "-Preserve Attributes")]
    [InlineData(RemoteSide.Source, "-ArchiveOnly")]
    [InlineData(RemoteSide.Source, "-ResetArchive")]
    public async Task An_agent_session_refuses_them_before_anything_is_touched(RemoteSide side, string parameter)
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha", Archive);
        Directory.CreateDirectory(t.Tree.Destination);
        SyncOptions options = With(Portable(t.Tree), parameter);

        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync([.. Handshake.Capabilities]);
        RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, side == RemoteSide.Destination ? t.Tree.Destination : t.Tree.Source);
        await accept;

        var error = Assert.Throws<SyncException>(() => replicator.Plan(options, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.StartsWith(parameter + " cannot be used with the agent there", error.Message, StringComparison.Ordinal);
        Assert.Equal(["a.txt"], TestTree.Listing(t.Tree.Source));
        Assert.Empty(TestTree.Listing(t.Tree.Destination));
        Assert.Equal(Archive, t.InSource("a.txt"));
    }

    [Fact]
    public async Task A_push_selects_and_resets_by_the_local_sources_archive_flag()
    {
        using var t = new AttributeTrees();
        t.Src("a.txt", "alpha", Archive | Hidden, 1_700_000_100);
        t.Src("b.txt", "bravo", 0, 1_700_000_100);
        Directory.CreateDirectory(t.Tree.Destination);
        SyncOptions options = t.Tree.Options() with { FileSystem = FileSystemBackendKind.Portable, ResetArchive = true };

        (_, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(observer.Errors);
        Assert.Equal(["a.txt"], TestTree.Listing(t.Tree.Destination));
        // The agent verified the copy (its checksum), then the local source's flag was cleared.
        Assert.Equal(Hidden, t.InSource("a.txt"));
        Assert.Equal((FileAttributes)0, t.InSource("b.txt"));
    }

    /// <summary>A source and a destination tree with a fake attribute store installed for the test's flow.</summary>
    private sealed class AttributeTrees : IDisposable
    {
        private readonly FileAttributeStore.Scope _scope;

        public AttributeTrees() => _scope = FileAttributeStore.Use(Store);

        public TestTree Tree { get; } = new();

        public FakeAttributeStore Store { get; } = new();

        /// <summary>A source file with <paramref name="attributes"/> (and the time given, seconds since 1970).</summary>
        public string Src(string relative, string content, FileAttributes attributes, long? mtimeSeconds = null)
        {
            string path = Tree.Src(relative, content, mtimeSeconds);
            Store.Set(path, attributes);
            return path;
        }

        public FileAttributes InSource(string relative) => Store.Get(Path.Join(Tree.Source, relative));

        public FileAttributes InDestination(string relative) => Store.Get(Path.Join(Tree.Destination, relative));

        public void Dispose()
        {
            _scope.Dispose();
            Tree.Dispose();
        }
    }
}
