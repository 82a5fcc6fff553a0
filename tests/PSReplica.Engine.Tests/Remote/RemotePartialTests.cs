namespace PSReplica.Engine.Tests.Remote;

/// <summary>-Partial and -PartialDirectory on a push: the agent writes through the target's partial file, a connection
/// cut mid-file leaves it there, and the next run resumes by a delta against it.</summary>
public sealed class RemotePartialTests
{
    private const int Length = 24 << 20;

    [Theory]
    [InlineData(null, ".big.bin.psreplica-partial")]
    [InlineData("part", "part/big.bin")]
    public async Task An_interrupted_push_keeps_the_partial_file_and_the_next_run_resumes_from_it(string? partialDirectory, string partialName)
    {
        using var tree = new TestTree();
        byte[] data = tree.SrcRandom("big.bin", Length, seed: 7);
        SyncOptions options = tree.Options() with { Partial = partialDirectory is null, PartialDirectory = partialDirectory };

        await Loopback.CutMidFileAsync(options, "big.bin", Length);

        string partial = Path.Join(tree.Destination, partialName);
        Assert.True(File.Exists(partial), "the partial file stays");
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, Length / 4, Length - 1);
        Assert.True(data.AsSpan(0, (int)kept).SequenceEqual(File.ReadAllBytes(partial)), "the partial file is a prefix of the new file");
        Assert.False(File.Exists(Path.Join(tree.Destination, "big.bin")), "an incomplete file never takes the target's name");
        Assert.Empty(Directory.GetFiles(tree.Destination, ".~psr*", SearchOption.AllDirectories));

        (_, RecordingObserver resumed, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(resumed.Errors);
        SyncItem item = Assert.Single(resumed.Items, i => i.RelativePath == "big.bin");
        Assert.True(item.BytesMatched >= kept - (1 << 20), $"matched {item.BytesMatched} of the {kept} kept");
        Assert.True(item.BytesTransferred <= Length - kept + (1 << 20), $"sent {item.BytesTransferred} with {kept} kept");
        Assert.True(data.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Join(tree.Destination, "big.bin"))));
        Assert.False(File.Exists(partial), "the partial file goes once the file is complete");
        Assert.False(Directory.Exists(Path.Join(tree.Destination, "part")), "the partial directory goes once empty");
        Assert.Equal(["big.bin"], Directory.GetFileSystemEntries(tree.Destination).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Without_partial_an_interrupted_push_leaves_nothing()
    {
        using var tree = new TestTree();
        tree.SrcRandom("big.bin", Length, seed: 7);

        await Loopback.CutMidFileAsync(tree.Options(), "big.bin", Length);

        Assert.Empty(Directory.GetFileSystemEntries(tree.Destination));
    }

    [Fact]
    public async Task A_partial_update_of_an_existing_file_resumes_and_replaces_it_only_when_complete()
    {
        using var tree = new TestTree();
        byte[] data = tree.SrcRandom("big.bin", Length, seed: 7);
        byte[] old = TestTree.RandomBytes(Length, seed: 9);
        Directory.CreateDirectory(tree.Destination);
        File.WriteAllBytes(Path.Join(tree.Destination, "big.bin"), old);
        TestTree.SetTime(Path.Join(tree.Destination, "big.bin"), TestTree.BaseTime, 0);
        SyncOptions options = tree.Options() with { Partial = true };

        await Loopback.CutMidFileAsync(options, "big.bin", Length);

        Assert.True(old.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Join(tree.Destination, "big.bin"))), "the target stays as it was");
        Assert.True(File.Exists(Path.Join(tree.Destination, ".big.bin.psreplica-partial")));

        (_, RecordingObserver resumed, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(resumed.Errors);
        SyncItem item = Assert.Single(resumed.Items, i => i.RelativePath == "big.bin");
        Assert.True(item.BytesTransferred < Length * 3L / 4, $"sent {item.BytesTransferred}");
        Assert.True(data.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Join(tree.Destination, "big.bin"))));
        Assert.Equal(["big.bin"], Directory.GetFileSystemEntries(tree.Destination).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Small_files_go_through_partial_names_and_arrive_exact()
    {
        using var tree = new TestTree();
        RandomTree.Create(tree.Source, 21, files: 60);
        SyncOptions options = tree.Options() with { PartialDirectory = ".part" };

        (_, RecordingObserver first, _) = await Loopback.RunAsync(RemoteSide.Destination, options);
        Assert.Empty(first.Errors);
        RandomTree.AssertSame(tree.Source, tree.Destination);
        Assert.Empty(Directory.GetDirectories(tree.Destination, ".part", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task An_absolute_partial_directory_is_refused_with_a_remote_destination()
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        SyncOptions options = tree.Options() with { PartialDirectory = Path.Join(tree.Root, "parts") };

        var error = await Assert.ThrowsAsync<SyncException>(() => Loopback.RunAsync(RemoteSide.Destination, options));
        Assert.Equal(ErrorIds.InvalidPartialDirectory, error.ErrorId);
    }

    [Fact]
    public async Task An_agent_without_the_partial_capability_is_not_asked_to_keep_partial_files()
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync([.. Handshake.Capabilities.Where(c => c != Handshake.PartialFiles)]);
        RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Destination, tree.Destination);
        await accept;

        var error = Assert.Throws<SyncException>(() => replicator.Plan(tree.Options() with { Partial = true }, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.Contains("fake", error.Message, StringComparison.Ordinal);
    }
}
