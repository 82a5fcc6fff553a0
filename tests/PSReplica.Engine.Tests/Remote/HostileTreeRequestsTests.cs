using PSReplica.Engine.Protocol;
using PSReplica.Engine.Remote;
using PSReplica.Engine.Tests.Protocol;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>A fake controller sends the "trees" requests (basis directories, backups, links) with hostile fields: each
/// ends the session, and nothing outside the destination changes.</summary>
public sealed class HostileTreeRequestsTests : IDisposable
{
    private readonly TestTree _tree = new();
    private readonly string _secret;

    public HostileTreeRequestsTests()
    {
        Directory.CreateDirectory(_tree.Destination);
        _secret = TestTree.Write(Path.Join(_tree.Root, "outside"), "secret", "secret");
        TestTree.Write(_tree.Destination, "existing", "existing");
        TestTree.Write(Path.Join(_tree.Root, "basis"), "file", "basis file");
    }

    public void Dispose() => _tree.Dispose();

    [Fact]
    public Task A_basis_path_outside_the_basis_tree_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, async peer =>
    {
        await OpenBasis(peer);
        await peer.SendAsync(FrameKind.Request, 2, w => new AgentRequest(RequestType.ApplyTreeDelta, "copy")
        {
            Index = 0,
            Other = "../outside/secret",
            BlockLength = 700,
            Length = 6,
        }.Write(w));
    });

    [Fact]
    public Task A_link_to_a_path_outside_the_tree_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, async peer =>
    {
        await OpenBasis(peer);
        await peer.SendAsync(FrameKind.Request, 2, w => new AgentRequest(RequestType.LinkFromTree, "../outside/new") { Index = 0 }.Write(w));
    });

    [Fact]
    public Task A_link_within_from_outside_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.LinkWithin, "stolen") { Other = _secret }.Write(w)));

    [Theory]
    [InlineData("/../../outside/x")]
    [InlineData("")]
    public Task A_backup_suffix_that_is_not_a_name_tail_aborts_with_UnsafePath(string suffix) => ExpectAbort(ErrorIds.UnsafePath, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.Backup, "existing") { Index = AgentRequest.NoTree, Other = suffix }.Write(w)));

    [Fact]
    public Task A_tree_number_out_of_range_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.OpenTree, "../basis") { Index = AgentRequest.MaxTrees }.Write(w)));

    [Fact]
    public Task A_tree_opened_twice_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, async peer =>
    {
        await OpenBasis(peer);
        await peer.SendAsync(FrameKind.Request, 2, w => new AgentRequest(RequestType.OpenTree, "../outside") { Index = 0 }.Write(w));
    });

    [Fact]
    public Task Removing_a_source_file_from_a_receiver_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.RemoveSource, "existing")
        {
            Length = 8,
            Attributes = new AttributeSet(AttributeFields.Time, 0, 0, 0, 0, 0),
        }.Write(w)));

    private static async Task OpenBasis(FakePeer peer)
    {
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.OpenTree, "../basis") { Index = 0 }.Write(w));
        using Frame opened = await peer.ExpectAsync(FrameKind.End, 1);
        Assert.Equal(1, opened.Payload[0]);
    }

    private async Task ExpectAbort(string errorId, Func<FakePeer, Task> script)
    {
        string before = File.ReadAllText(_secret);
        await using Loopback loop = Loopback.WithAgent();
        var peer = new FakePeer(loop.ControllerIn, loop.ControllerOut);
        await peer.ConnectAsAgentPeerAsync(AgentRole.Receiver, _tree.Destination, Timeout.InfiniteTimeSpan);
        await script(peer);
        using (Frame told = await peer.ExpectAsync(FrameKind.Error, 0))
        {
            Assert.Equal(errorId, WireError.Read(told.Payload, "agent").ErrorId);
        }

        Assert.Equal(1, await loop.Agent.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(["existing"], TestTree.Listing(_tree.Destination));
        Assert.Equal(["secret"], TestTree.Listing(Path.GetDirectoryName(_secret)!));
        Assert.Equal(before, File.ReadAllText(_secret));
        Assert.Equal(["file"], TestTree.Listing(Path.Join(_tree.Root, "basis")));
    }
}
