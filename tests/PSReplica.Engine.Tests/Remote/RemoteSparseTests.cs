using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Tests.Execution;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>-Sparse through the agent: on a push the agent's receiver writes the holes (capability "sparse"), on a pull
/// the local receiver does; whole files and delta updates alike keep them, and an agent without the capability is never
/// asked: the option is refused before anything is touched.</summary>
public sealed class RemoteSparseTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task A_new_sparse_file_arrives_with_its_holes(RemoteSide side)
    {
        string source = SparseFile.Create(Path.Join(_tree.Source, "disk.img"), SparseCopyTests.Apparent, SparseCopyTests.Data);

        (SyncSummary _, RecordingObserver observer, _) = await Loopback.RunAsync(side, _tree.Options() with { Sparse = true });

        Assert.Empty(observer.Errors);
        string copy = Path.Join(_tree.Destination, "disk.img");
        Assert.True(SparseFile.SameContent(source, copy));
        Assert.True(SparseFile.Allocated(copy) < SparseCopyTests.AllocationBound, $"{SparseFile.Allocated(copy)} bytes allocated");
    }

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task A_delta_update_keeps_the_holes(RemoteSide side)
    {
        string source = SparseFile.Create(Path.Join(_tree.Source, "disk.img"), SparseCopyTests.Apparent, SparseCopyTests.Data);
        string old = SparseFile.Create(Path.Join(_tree.Destination, "disk.img"), SparseCopyTests.Apparent, SparseCopyTests.OldCopy);
        TestTree.SetTime(old, TestTree.BaseTime);

        (SyncSummary _, RecordingObserver observer, _) = await Loopback.RunAsync(side, _tree.Options() with { Sparse = true, TransferMode = TransferMode.Delta });

        Assert.Empty(observer.Errors);
        SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == "disk.img");
        Assert.True(item.BytesMatched > SparseCopyTests.Apparent / 2, $"only {item.BytesMatched} bytes matched: not a delta update");
        Assert.True(SparseFile.SameContent(source, old));
        Assert.True(SparseFile.Allocated(old) < SparseCopyTests.AllocationBound, $"{SparseFile.Allocated(old)} bytes allocated");
    }

    [Fact]
    public async Task Small_files_of_a_write_batch_are_written_sparse_too()
    {
        // 64 KiB of zeros with one byte in its middle: small enough to travel in a WriteBatch.
        string source = SparseFile.Create(Path.Join(_tree.Source, "small.bin"), 64 << 10, (32 << 10, 1, 5));

        (SyncSummary _, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Destination, _tree.Options() with { Sparse = true });

        Assert.Empty(observer.Errors);
        string copy = Path.Join(_tree.Destination, "small.bin");
        Assert.True(SparseFile.SameContent(source, copy));
        Assert.True(SparseFile.Allocated(copy) <= 8 << 10, $"{SparseFile.Allocated(copy)} bytes allocated for one block of data");
    }

    [Fact]
    public async Task An_agent_without_the_sparse_capability_is_refused_on_a_push_and_not_needed_on_a_pull()
    {
        _tree.Src("a.txt", "a");
        Directory.CreateDirectory(_tree.Destination);
        SyncOptions options = _tree.Options() with { Sparse = true };

        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync([.. Handshake.Capabilities.Where(c => c != Handshake.Sparse)]);
        RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Destination, _tree.Destination);
        await accept;

        var error = Assert.Throws<SyncException>(() => replicator.Plan(options, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.StartsWith("-Sparse cannot be used with the agent there (version fake", error.Message, StringComparison.Ordinal);
        Assert.Empty(TestTree.Listing(_tree.Destination));

        DestinationCapabilities pull = RemoteReplicator.CapabilitiesOf([.. Handshake.Capabilities.Where(c => c != Handshake.Sparse)], "1.0", 2, RemoteSide.Source);
        Assert.Empty(pull.Unsupported(options));
    }
}
