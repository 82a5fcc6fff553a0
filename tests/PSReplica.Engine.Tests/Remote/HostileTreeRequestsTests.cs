namespace PSReplica.Engine.Tests.Remote;

/// <summary>A fake controller sends the "trees" requests (basis directories, backups, links) with hostile fields: each
/// ends the session, and nothing outside the destination changes.</summary>
public sealed class HostileTreeRequestsTests : IDisposable
{
    private readonly AgentSandbox _sandbox = new("existing");

    public HostileTreeRequestsTests() => _sandbox.WriteOutside("basis", "file", "basis file");

    public void Dispose() => _sandbox.Dispose();

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
    public Task A_symbolic_link_linked_to_a_path_outside_the_tree_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, async peer =>
    {
        await OpenBasis(peer);
        await peer.SendAsync(FrameKind.Request, 2, w => new AgentRequest(RequestType.LinkSymlinkFromTree, "../outside/new") { Index = 0, Other = "file" }.Write(w));
    });

    [Fact]
    public Task Describing_a_basis_file_outside_the_tree_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, async peer =>
    {
        await OpenBasis(peer);
        await peer.SendAsync(FrameKind.Request, 2, w => new AgentRequest(RequestType.DescribeTreeCopy, "../outside/secret") { Index = 0 }.Write(w));
    });

    [Fact]
    public Task Describing_a_file_of_a_tree_not_opened_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.DescribeTreeCopy, "file") { Index = 3 }.Write(w)));

    [Fact]
    public Task A_link_within_from_outside_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.LinkWithin, "stolen") { Other = _sandbox.Secret }.Write(w)));

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

    [Fact]
    public Task A_MoveWithin_to_a_sender_aborts_with_a_violation() => _sandbox.ExpectAbortAsync(ErrorIds.ProtocolViolation, RemoteSide.Source, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.MoveWithin, "existing") { Other = "moved" }.Write(w)));

    [Theory]
    [InlineData("../outside/victim", "stolen")]
    [InlineData("existing", "../outside/planted")]
    [InlineData("existing", "/tmp/planted")]
    [InlineData("existing", "")]
    [InlineData("", "moved")]
    public Task A_MoveWithin_naming_a_place_outside_the_tree_aborts_with_UnsafePath(string from, string to) => ExpectAbort(ErrorIds.UnsafePath, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.MoveWithin, from) { Other = to }.Write(w)));

    [Fact]
    public Task Describing_a_copy_outside_the_destination_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.DescribeCopy, "../outside/secret").Write(w)));

    [Fact]
    public Task Describing_a_copy_with_fields_it_does_not_have_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w =>
        {
            new AgentRequest(RequestType.DescribeCopy, "existing").Write(w);
            w.UInt(7);
        }));

    // A sender describes its own files (a pull's -RemoveSourceFiles compares checksums), and only names under its root.
    [Fact]
    public Task Describing_a_file_outside_a_senders_tree_aborts_with_UnsafePath() => _sandbox.ExpectAbortAsync(ErrorIds.UnsafePath, RemoteSide.Source, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.DescribeCopy, "../outside/secret").Write(w)));

    private static async Task OpenBasis(FakePeer peer)
    {
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.OpenTree, "../basis") { Index = 0 }.Write(w));
        using Frame opened = await peer.ExpectAsync(FrameKind.End, 1);
        Assert.Equal(1, opened.Payload[0]);
    }

    private async Task ExpectAbort(string errorId, Func<FakePeer, Task> script)
    {
        await _sandbox.ExpectAbortAsync(errorId, RemoteSide.Destination, script);
        Assert.Equal(["existing"], TestTree.Listing(_sandbox.Tree.Destination));
    }
}
