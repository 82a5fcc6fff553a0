using PSReplica.Engine.Metadata;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Metadata;

/// <summary>-Preserve Acls and ExtendedAttributes (rsync -A, -X), locally and through the in-process agent both ways:
/// user.* attributes (empty, binary, a few KiB; 64 KiB values on the wire), access and default ACLs, removals that
/// propagate, itemized 'a' and 'x', nothing read or written without the option, and the wire's bounds. The trees are in
/// the temp directory (ext4 here), whose file system holds both; the values are set with setfattr and setfacl.</summary>
public sealed class ExtendedAttributesTests
{
    private const PreserveOptions Both = PreserveOptions.Acls | PreserveOptions.ExtendedAttributes;

    public static TheoryData<string> Wirings => new() { "local", "push", "pull" };

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task Attributes_and_acls_are_copied_and_their_changes_and_removals_follow(string wiring)
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        tree.Src("acl.txt", "acl");
        tree.Src("dir/inner.txt", "inner");
        tree.Src("plain.txt", "plain");
        File.CreateSymbolicLink(Path.Join(tree.Source, "link"), "a.txt");
        tree.Dst("a.txt", "a");
        tree.Dst("plain.txt", "plain");
        SetAttribute(tree.Source, "a.txt", "user.empty", []);
        SetAttribute(tree.Source, "a.txt", "user.binary", [0, 1, 2, 0, 255, 0]);
        // ext4 without ea_inode holds an inode's attributes in one 4 KiB block; the wire test covers 64 KiB values.
        SetAttribute(tree.Source, "a.txt", "user.large", TestTree.RandomBytes(3_000, 1));
        SetAttribute(tree.Source, "dir/inner.txt", "user.inner", "value"u8.ToArray());
        // A new small file: a push sends it in a WriteBatch record, whose header carries the attributes.
        tree.Src("new.txt", "new");
        SetAttribute(tree.Source, "new.txt", "user.large", TestTree.RandomBytes(3_000, 3));
        TestTree.Run("setfacl", "-m", "g:daemon:rwx", Path.Join(tree.Source, "new.txt"));
        SetAttribute(tree.Destination, "a.txt", "user.stale", "old"u8.ToArray());
        SetAttribute(tree.Destination, "plain.txt", "user.stale", "old"u8.ToArray());
        TestTree.Run("setfacl", "-m", "u:nobody:r", Path.Join(tree.Source, "acl.txt"));
        TestTree.Run("setfacl", "-m", "u:nobody:rwx", "-m", "d:u:nobody:rx", Path.Join(tree.Source, "dir"));
        tree.FreezeBoth();

        RecordingObserver first = await RunAsync(wiring, tree);
        Assert.Empty(first.Errors);
        AssertSameAttributes(tree);
        Assert.Equal(".f........x", Item(first, "a.txt").Itemize);
        Assert.Equal(".f........x", Item(first, "plain.txt").Itemize);
        Assert.Equal(SyncAction.Metadata, Item(first, "a.txt").Action);
        Assert.Empty(Read(tree.Destination, "plain.txt").Entries);
        Assert.Contains(Read(tree.Destination, "dir").Entries, e => e.Name == XattrScopes.DefaultAcl);
        Assert.Contains(Read(tree.Destination, "acl.txt").Entries, e => e.Name == XattrScopes.AccessAcl);
        Assert.Contains("user:nobody:r--", TestTree.Run("getfacl", "-c", Path.Join(tree.Destination, "acl.txt")), StringComparison.Ordinal);

        // A value changed, one removed, one added, an ACL removed: the next run makes the destination follow.
        TestTree.Run("setfattr", "-x", "user.binary", Path.Join(tree.Source, "a.txt"));
        SetAttribute(tree.Source, "a.txt", "user.empty", "now set"u8.ToArray());
        SetAttribute(tree.Source, "plain.txt", "user.new", [7]);
        TestTree.Run("setfacl", "-x", "u:nobody", Path.Join(tree.Source, "acl.txt"));
        TestTree.Run("setfacl", "-k", Path.Join(tree.Source, "dir"));
        tree.FreezeBoth();

        RecordingObserver second = await RunAsync(wiring, tree);
        Assert.Empty(second.Errors);
        AssertSameAttributes(tree);
        Assert.Equal(".f........x", Item(second, "a.txt").Itemize);
        Assert.Equal(".f........x", Item(second, "plain.txt").Itemize);
        Assert.Equal('a', Item(second, "acl.txt").Itemize[9]);
        Assert.Equal('a', Item(second, "dir").Itemize[9]);
        Assert.DoesNotContain(Read(tree.Destination, "a.txt").Entries, e => e.Name == "user.binary");
        Assert.DoesNotContain(Read(tree.Destination, "dir").Entries, e => e.Name == XattrScopes.DefaultAcl);

        RecordingObserver third = await RunAsync(wiring, tree);
        Assert.Empty(third.Errors);
        Assert.Empty(third.Items);
    }

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task Values_near_the_64_KiB_limit_cross_every_wiring(string wiring)
    {
        // tmpfs holds large user.* values (ext4 holds one 4 KiB block of them per inode).
        string root = Path.Join("/dev/shm", "psr-xattrs-" + Guid.NewGuid().ToString("N"));
        try
        {
            string source = Path.Join(root, "src");
            string destination = Path.Join(root, "dst");
            TestTree.Write(source, "new.txt", "new");
            TestTree.Write(source, "existing.txt", "existing", TestTree.BaseTime);
            TestTree.Write(destination, "existing.txt", "existing", TestTree.BaseTime);
            SetAttribute(source, "new.txt", "user.big", TestTree.RandomBytes(Posix.XattrSizeMax - 1, 4));
            SetAttribute(source, "new.txt", "user.big2", TestTree.RandomBytes(40_000, 5));
            SetAttribute(source, "existing.txt", "user.big", TestTree.RandomBytes(60_000, 6));
            var options = new SyncOptions { Source = source, Destination = destination, Preserve = SyncOptions.DefaultPreserve | Both | PreserveOptions.Permissions };
            RecordingObserver observer;
            if (wiring == "local")
            {
                observer = new RecordingObserver();
                LocalReplicator.Run(options, observer, CancellationToken.None);
            }
            else
            {
                (_, observer, _) = await Loopback.RunAsync(wiring == "push" ? RemoteSide.Destination : RemoteSide.Source, options);
            }

            Assert.Empty(observer.Errors);
            Assert.Equal(".f........x", Item(observer, "existing.txt").Itemize);
            foreach (string name in new[] { "new.txt", "existing.txt" })
            {
                Assert.Equal(Dump(Path.Join(source, name), source), Dump(Path.Join(destination, name), destination));
                Assert.NotEmpty(Read(destination, name).Entries);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task The_roots_own_attributes_are_compared_and_copied(string wiring)
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        tree.Dst("a.txt", "a");
        SetAttribute(tree.Source, string.Empty, "user.root", [1, 2, 3]);
        SetAttribute(tree.Destination, string.Empty, "user.stale", [4]);
        TestTree.Run("setfacl", "-d", "-m", "u:nobody:rx", tree.Source);
        tree.FreezeBoth();

        RecordingObserver first = await RunAsync(wiring, tree);
        Assert.Empty(first.Errors);
        Assert.Equal(".d.......ax", Item(first, ".").Itemize);
        Assert.Equal(Dump(tree.Source, tree.Source), Dump(tree.Destination, tree.Destination));

        RecordingObserver second = await RunAsync(wiring, tree);
        Assert.Empty(second.Items);
    }

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task Without_the_option_no_attribute_is_copied_compared_or_removed(string wiring)
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        tree.Src("new.txt", "new");
        tree.Dst("a.txt", "a");
        SetAttribute(tree.Source, "a.txt", "user.x", [1]);
        SetAttribute(tree.Source, "new.txt", "user.x", [1]);
        SetAttribute(tree.Destination, "a.txt", "user.kept", [2]);
        tree.FreezeBoth();

        RecordingObserver observer = await RunAsync(wiring, tree, SyncOptions.DefaultPreserve);

        Assert.Empty(observer.Errors);
        Assert.Equal(["new.txt"], observer.Items.Select(i => i.RelativePath));
        Assert.Empty(Read(tree.Destination, "new.txt").Entries);
        Assert.Equal(["user.kept"], Read(tree.Destination, "a.txt").Entries.Select(e => e.Name));
    }

    [Fact]
    public async Task Only_extended_attributes_leave_acls_alone_and_only_acls_leave_attributes_alone()
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        tree.Dst("a.txt", "a");
        SetAttribute(tree.Source, "a.txt", "user.x", [1]);
        TestTree.Run("setfacl", "-m", "u:nobody:r", Path.Join(tree.Source, "a.txt"));
        tree.FreezeBoth();

        RecordingObserver xattrs = await RunAsync("local", tree, SyncOptions.DefaultPreserve | PreserveOptions.ExtendedAttributes);
        Assert.Equal(".f........x", Item(xattrs, "a.txt").Itemize);
        Assert.Equal(["user.x"], Read(tree.Destination, "a.txt").Entries.Select(e => e.Name));

        RecordingObserver acls = await RunAsync("local", tree, SyncOptions.DefaultPreserve | PreserveOptions.Acls);
        Assert.Equal(".f.......a.", Item(acls, "a.txt").Itemize);
        Assert.Equal([XattrScopes.AccessAcl, "user.x"], Read(tree.Destination, "a.txt").Entries.Select(e => e.Name));
    }

    [Fact]
    public void Only_the_namespaces_of_the_scope_are_included()
    {
        XattrScope user = XattrScopes.For(PreserveOptions.ExtendedAttributes, elevated: false);
        XattrScope root = XattrScopes.For(PreserveOptions.ExtendedAttributes, elevated: true);
        XattrScope acls = XattrScopes.For(PreserveOptions.Acls, elevated: true);
        Assert.True(user.Includes("user.a"));
        Assert.False(user.Includes("trusted.a"));
        Assert.False(user.Includes("security.selinux"));
        Assert.True(root.Includes("trusted.a") && root.Includes("security.selinux"));
        Assert.False(root.Includes(XattrScopes.AccessAcl));
        Assert.True(acls.Includes(XattrScopes.AccessAcl) && acls.Includes(XattrScopes.DefaultAcl));
        Assert.False(acls.Includes("user.a"));
        Assert.False(XattrScope.All.Includes("system.nfs4_acl"));
        Assert.False(XattrScope.All.Includes("system.data"));
        Assert.Equal(XattrScope.None, XattrScopes.For(SyncOptions.DefaultPreserve, elevated: true));
    }

    [Fact]
    public void Itemize_marks_acls_and_extended_attributes_where_rsync_does()
    {
        Assert.Equal(".f.......a.", Itemizer.Changed('.', SyncItemType.File, checksum: false, size: false, '.', AttributeChanges.Acls));
        Assert.Equal(".d........x", Itemizer.Changed('.', SyncItemType.Directory, checksum: false, size: false, '.', AttributeChanges.ExtendedAttributes));
        Assert.Equal(">f.st....ax", Itemizer.Changed('>', SyncItemType.File, checksum: false, size: true, 't',
            AttributeChanges.Acls | AttributeChanges.ExtendedAttributes));
    }

    [Fact]
    public void A_set_crosses_the_wire_intact_and_a_hostile_one_is_refused_before_allocation()
    {
        var set = new ExtendedAttributeSet([("user.b", [0, 0, 1]), ("user.a", []), (XattrScopes.AccessAcl, [2, 0, 0, 0]), ("user.large", TestTree.RandomBytes(65_536, 2))]);
        using var writer = new WireWriter();
        set.Write(writer);
        var reader = new WireReader(writer.Written);
        ExtendedAttributeSet read = ExtendedAttributeSet.Read(ref reader, XattrScope.User | XattrScope.Acls);
        reader.ExpectEnd();
        Assert.Equal(AttributeChanges.None, read.Compare(set));
        Assert.Equal(["system.posix_acl_access", "user.a", "user.b", "user.large"], read.Entries.Select(e => e.Name));

        // Out of the scope the run asked for: a system.* name, a privileged one to a user scope, an ACL without -Preserve Acls.
        AssertRefused(w => w.UInt(1).String("system.data").UInt(0), XattrScope.All, "which the run does not copy");
        AssertRefused(w => w.UInt(1).String("trusted.x").UInt(0), XattrScope.User, "which the run does not copy");
        AssertRefused(w => w.UInt(1).String(XattrScopes.AccessAcl).UInt(0), XattrScope.User, "which the run does not copy");
        AssertRefused(w => w.UInt(2).String("user.b").UInt(0).String("user.a").UInt(0), XattrScope.User, "out of order");
        AssertRefused(w => w.UInt(2).String("user.a").UInt(0).String("user.a").UInt(0), XattrScope.User, "out of order");
        AssertRefused(w => w.UInt(ExtendedAttributeSet.MaxCount + 1), XattrScope.User, "a value o");
        // A count the message cannot hold, and a value longer than Linux allows, are refused before anything is allocated.
        AssertRefused(w => w.UInt(1000).String("user.a").UInt(0), XattrScope.User, "count");
        AssertRefused(w => w.UInt(1).String("user.a").UInt(Posix.XattrSizeMax + 1), XattrScope.User, "");
        AssertRefused(w => w.UInt(1).String("user.a").UInt(Posix.XattrSizeMax), XattrScope.User, "ended early");
        AssertRefused(w =>
        {
            w.UInt(5);
            for (int i = 0; i < 5; i++)
            {
                w.String($"user.{i:D3}").UInt(Posix.XattrSizeMax).Bytes(new byte[Posix.XattrSizeMax]);
            }
        }, XattrScope.User, "larger than allowed");
    }

    [Fact]
    public void Requests_and_listing_entries_carry_the_attributes_in_both_encodings()
    {
        var set = new ExtendedAttributeSet([("user.a", [1, 2]), (XattrScopes.DefaultAcl, [2, 0, 0, 0])]);
        var attributes = new AttributeSet(AttributeFields.Mode | AttributeFields.ExtendedAttributes, 0x1ED, 0, 0, 0, 0)
        {
            ExtendedAttributes = set,
            XattrScope = XattrScope.User | XattrScope.Acls,
        };
        using (var writer = new WireWriter())
        {
            attributes.Write(writer);
            var reader = new WireReader(writer.Written);
            Assert.Equal(attributes, AttributeSet.Read(ref reader));
            reader.ExpectEnd();
        }

        var stat = new StatInfo(Posix.SIfdir | 0x1ED, 2, 0, 0, 5, 0, 1, 2, 3);
        var file = new StatInfo(Posix.SIfreg | 0x1A4, 1, 0, 0, 6, 10, 1, 2, 3);
        ListingEntry[] entries =
        [
            new ListingEntry("d", stat, null) { ExtendedAttributes = set, ListsExtendedAttributes = true },
            new ListingEntry("e", file, null) { ExtendedAttributes = null, ListsExtendedAttributes = true },
            new ListingEntry("f", file, null) { ExtendedAttributes = ExtendedAttributeSet.Empty, ListsExtendedAttributes = true },
        ];
        foreach (bool compact in new[] { false, true })
        {
            using var writer = new WireWriter();
            var codec = new CompactListingCodec();
            foreach (ListingEntry entry in entries)
            {
                if (compact)
                {
                    codec.Write(writer, entry);
                }
                else
                {
                    entry.Write(writer);
                }
            }

            var reader = new WireReader(writer.Written);
            var decoder = new CompactListingCodec();
            var read = new ListingEntry[entries.Length];
            for (int i = 0; i < read.Length; i++)
            {
                read[i] = compact ? decoder.Read(ref reader, false, XattrScope.User | XattrScope.Acls)
                    : ListingEntry.Read(ref reader, xattrs: XattrScope.User | XattrScope.Acls);
            }

            reader.ExpectEnd();
            Assert.Equal(set, read[0].ExtendedAttributes);
            Assert.Null(read[1].ExtendedAttributes);
            Assert.Equal(ExtendedAttributeSet.Empty, read[2].ExtendedAttributes);
        }
    }

    [Fact]
    public void An_attribute_set_with_an_unknown_scope_is_a_violation()
    {
        using var writer = new WireWriter();
        writer.Byte((byte)AttributeFields.ExtendedAttributes).Byte(8).UInt(0);
        var error = Assert.Throws<SyncException>(() =>
        {
            var reader = new WireReader(writer.Written);
            _ = AttributeSet.Read(ref reader);
        });
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    [Fact]
    public void A_file_system_without_extended_attributes_is_named_once_up_front()
    {
        // procfs has no extended attributes of any namespace: getxattr answers EOPNOTSUPP, as FAT's does.
        Assert.Equal(XattrScope.User | XattrScope.Acls, XattrSupport.Unsupported("/proc", XattrScope.User | XattrScope.Acls));
        Assert.Equal(XattrScope.None, XattrSupport.Unsupported(Path.GetTempPath(), XattrScope.User | XattrScope.Acls));

        // The run goes on without what the file system cannot hold, said once, so that it converges there.
        var observer = new RecordingObserver();
        var options = new SyncOptions { Source = "/s", Destination = "/proc/x", Preserve = PreserveOptions.Times | Both };
        SyncOptions narrowed = XattrSupport.Narrow(options, "/proc", observer);
        Assert.Equal(PreserveOptions.Times, narrowed.Preserve);
        Assert.Equal(["The destination's file system ('/proc') cannot hold extended attributes or ACLs: files are copied without them."], observer.Warnings);
        Assert.Same(options, XattrSupport.Narrow(options, Path.GetTempPath(), observer));
        Assert.Single(observer.Warnings);
    }

    [Fact]
    public void The_agent_refuses_to_be_asked_without_the_capability_and_sftp_is_refused()
    {
        var options = new SyncOptions { Source = "/s", Destination = "/d", Preserve = SyncOptions.DefaultPreserve | Both };
        string[] older = [.. Handshake.Capabilities.Where(c => c != Handshake.ExtendedAttributes)];
        foreach (RemoteSide side in new[] { RemoteSide.Source, RemoteSide.Destination })
        {
            Assert.Empty(RemoteReplicator.CapabilitiesOf(Handshake.Capabilities, "1.0", 2, side).Unsupported(options));
            Assert.Equal(["-Preserve Acls", "-Preserve ExtendedAttributes"], RemoteReplicator.CapabilitiesOf(older, "1.0", 2, side).Unsupported(options));
        }

        Assert.Empty(LocalReplicator.Capabilities.Unsupported(options));
    }

    [Fact]
    public async Task An_older_agent_is_refused_up_front_before_anything_is_touched()
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        SyncOptions options = tree.Options() with { Preserve = SyncOptions.DefaultPreserve | PreserveOptions.ExtendedAttributes };

        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync([.. Handshake.Capabilities.Where(c => c != Handshake.ExtendedAttributes)]);
        RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Destination, tree.Destination);
        await accept;

        var error = Assert.Throws<SyncException>(() => replicator.Plan(options, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.StartsWith("-Preserve ExtendedAttributes cannot be used with the agent there", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tree.Destination));
    }

    public static TheoryData<string> HostileListings => new() { "no start record", "start record twice", "name out of scope", "bad marker" };

    [Theory]
    [MemberData(nameof(HostileListings))]
    public async Task A_hostile_agents_listing_of_attributes_ends_the_session(string flaw)
    {
        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync();
        AgentClient client = await loop.ConnectAsync(RemoteSide.Source, "/remote/root");
        try
        {
            await accept;
            var options = new ListingOptions(ListingFeatures.ExtendedAttributes, string.Empty) { XattrScope = XattrScope.User };
            RemoteListing listing = await client.ListAsync(string.Empty, recursive: true, CancellationToken.None, options);
            (await peer.ExpectAsync(FrameKind.Request, 1)).Dispose();
            var file = new StatInfo(Posix.SIfreg | 0x1A4, 1, 0, 0, 7, 3, 1_600_000_000, 0, 1);
            await peer.SendAsync(FrameKind.Data, 1, w =>
            {
                if (flaw != "no start record")
                {
                    w.Byte(ListingRecord.StartAttributes).Byte(1);
                    (flaw == "name out of scope" ? new ExtendedAttributeSet([("trusted.x", [1])]) : ExtendedAttributeSet.Empty).Write(w);
                }

                if (flaw == "start record twice")
                {
                    w.Byte(ListingRecord.StartAttributes).Byte(0);
                }

                w.Byte(ListingRecord.DirectoryStart).String(string.Empty).Byte(ListingRecord.Entries).UInt(1);
                new ListingEntry("a", file, null).Write(w);
                w.Byte(flaw == "bad marker" ? (byte)2 : (byte)0).Byte(ListingRecord.DirectoryEnd);
            });
            var error = await Assert.ThrowsAsync<SyncException>(() => listing.Completion.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
            Assert.Equal(ErrorIds.ProtocolViolation, client.Fault?.ErrorId);
            // Nothing waits for a start record that never came or was refused: the planner gets none.
            if (flaw is "no start record" or "name out of scope")
            {
                Assert.Null(listing.StartAttributes);
            }
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    private static void AssertRefused(Action<WireWriter> write, XattrScope scope, string what)
    {
        using var writer = new WireWriter();
        write(writer);
        byte[] bytes = writer.Written.ToArray();
        var error = Assert.Throws<SyncException>(() =>
        {
            var reader = new WireReader(bytes);
            _ = ExtendedAttributeSet.Read(ref reader, scope);
        });
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
        Assert.Contains(what, error.Message, StringComparison.Ordinal);
    }

    private static async Task<RecordingObserver> RunAsync(string wiring, TestTree tree, PreserveOptions? preserve = null)
    {
        SyncOptions options = tree.Options() with { Preserve = preserve ?? (SyncOptions.DefaultPreserve | Both | PreserveOptions.Permissions) };
        if (wiring == "local")
        {
            var observer = new RecordingObserver();
            LocalReplicator.Run(options, observer, CancellationToken.None);
            return observer;
        }

        (_, RecordingObserver remote, _) = await Loopback.RunAsync(wiring == "push" ? RemoteSide.Destination : RemoteSide.Source, options);
        return remote;
    }

    private static SyncItem Item(RecordingObserver observer, string relative) => Assert.Single(observer.Items, i => i.RelativePath == relative);

    /// <summary>setfattr --restore from a dump (a 64 KiB value in hex is longer than one command-line argument may be).</summary>
    private static void SetAttribute(string root, string relative, string name, byte[] value)
    {
        string dump = Path.GetTempFileName();
        try
        {
            File.WriteAllText(dump, $"# file: {Path.Join(root, relative)}\n{name}=0x{Convert.ToHexString(value)}\n\n");
            TestTree.Run("setfattr", "--restore=" + dump);
        }
        finally
        {
            File.Delete(dump);
        }
    }

    private static ExtendedAttributeSet Read(string root, string relative) =>
        ExtendedAttributeSet.Read(Posix.XattrTarget.Path(Path.Join(root, relative)), XattrScope.User | XattrScope.Acls, out _)
        ?? throw new InvalidOperationException("unreadable: " + relative);

    /// <summary>Every item's user.* attributes and ACLs alike on both sides (as getfattr dumps them, hex values).</summary>
    private static void AssertSameAttributes(TestTree tree)
    {
        foreach (string relative in TestTree.Listing(tree.Source))
        {
            string source = Path.Join(tree.Source, relative);
            if (new FileInfo(source).LinkTarget is not null)
            {
                continue;
            }

            Assert.Equal(Dump(source, tree.Source), Dump(Path.Join(tree.Destination, relative), tree.Destination));
        }
    }

    private static string Dump(string path, string root) =>
        TestTree.Run("getfattr", "-h", "-d", "-m", "^(user\\.|system\\.posix_acl_)", "-e", "hex", "--absolute-names", path).Replace(root, "ROOT", StringComparison.Ordinal);
}
