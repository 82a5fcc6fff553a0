using PSReplica.Engine.Endpoints;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>The agent wiring declares what it can honour from the capabilities the agent listed: an option it cannot
/// carry out is refused before anything is touched, naming the option and the agent's version, never left to do
/// nothing or to fail the session half-way.</summary>
public sealed class RemoteCapabilitiesTests
{
    public static TheoryData<RemoteSide, string, string> WithoutTrees => new()
    {
        { RemoteSide.Destination, "hard-links", "-Preserve HardLinks" },
        { RemoteSide.Destination, "backup", "-Backup" },
        { RemoteSide.Destination, "backup-directory", "-BackupDirectory" },
        { RemoteSide.Source, "remove-source-files", "-RemoveSourceFiles" },
    };

    [Theory]
    [MemberData(nameof(WithoutTrees))]
    public async Task An_agent_without_trees_is_not_asked_for_what_needs_them(RemoteSide side, string option, string parameter)
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        Directory.CreateDirectory(tree.Destination);
        SyncOptions options = option switch
        {
            "hard-links" => tree.Options() with { Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks },
            "backup" => tree.Options() with { Backup = true },
            "backup-directory" => tree.Options() with { Backup = true, BackupDirectory = "old" },
            _ => tree.Options() with { RemoveSourceFiles = true },
        };

        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync([.. Handshake.Capabilities.Where(c => c != Handshake.BasisTrees)]);
        RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, side == RemoteSide.Destination ? tree.Destination : tree.Source);
        await accept;

        var error = Assert.Throws<SyncException>(() => replicator.Plan(options, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.StartsWith(parameter + " cannot be used with the agent there (version fake", error.Message, StringComparison.Ordinal);
        Assert.Contains("newer agent", error.Message, StringComparison.Ordinal);

        // Nor is a plan with the option that was made elsewhere carried out without it.
        var refused = Assert.Throws<SyncException>(() => replicator.Execute(new SyncPlan(options, tree.Source, tree.Destination),
            new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, refused.ErrorId);
        Assert.Equal(["a.txt"], TestTree.Listing(tree.Source));
        Assert.Empty(TestTree.Listing(tree.Destination));
    }

    [Fact]
    public void Each_wiring_of_the_agent_declares_what_its_capabilities_allow()
    {
        var options = new SyncOptions { Source = "/s", Destination = "/d", CompareMode = CompareMode.Checksum, CopyLinks = true, Inplace = true, RemoveSourceFiles = true };
        DestinationCapabilities push = RemoteReplicator.CapabilitiesOf(Handshake.Capabilities, "1.0", 2, RemoteSide.Destination);
        DestinationCapabilities pull = RemoteReplicator.CapabilitiesOf(Handshake.Capabilities, "1.0", 2, RemoteSide.Source);
        Assert.Empty(push.Unsupported(options));
        Assert.Empty(pull.Unsupported(options));

        string[] old = ["delta-xxh3", "list-recursive", "owner", Handshake.Deflate];
        Assert.Equal(["-Inplace", "-RemoveSourceFiles", "-Checksum"], RemoteReplicator.CapabilitiesOf(old, "0.9", 1, RemoteSide.Destination).Unsupported(options));
        Assert.Equal(["-RemoveSourceFiles", "-Checksum", "-CopyLinks"], RemoteReplicator.CapabilitiesOf(old, "0.9", 1, RemoteSide.Source).Unsupported(options));

        // A push verifies each copy by its checksum on the agent, a pull each source file by the agent's checksum of it
        // (verify-copies); an agent with trees but not that can do neither.
        string[] trees = [.. Handshake.Capabilities.Where(c => c != Handshake.VerifyCopies)];
        Assert.Equal(["-RemoveSourceFiles"], RemoteReplicator.CapabilitiesOf(trees, "1.0", 2, RemoteSide.Destination).Unsupported(options));
        Assert.Equal(["-RemoveSourceFiles"], RemoteReplicator.CapabilitiesOf(trees, "1.0", 2, RemoteSide.Source).Unsupported(options));

        // -Checksum with a basis directory: a pull's basis is local and hashed there; a push's agent lists its basis without
        // content hashes, so the push refuses it (a local file of the same path was hashed instead).
        SyncOptions basis = options with { LinkDest = ["../prev"] };
        Assert.Equal(["-Checksum with a basis directory"], push.Unsupported(basis));
        Assert.Empty(pull.Unsupported(basis));
        Assert.Empty(LocalReplicator.Capabilities.Unsupported(basis));
        Assert.Empty(push.Unsupported(basis with { CompareMode = CompareMode.QuickCheck }));
    }
}
