namespace PSReplica.Engine.Tests.Remote;

/// <summary>A fake controller sends the "partial" requests with a partial path that does not belong to its target:
/// each ends the session with UnsafePath, and nothing changes.</summary>
public sealed class HostilePartialRequestsTests : IDisposable
{
    private readonly AgentSandbox _sandbox = new("existing");

    public void Dispose() => _sandbox.Dispose();

    [Theory]
    [InlineData("../outside/secret", false)]
    [InlineData("sub/.existing.psreplica-partial", false)]
    [InlineData("existing", false)]
    [InlineData(".existing.psreplica-partial", true)]
    [InlineData("a/b/existing", true)]
    public Task A_partial_path_that_is_not_the_targets_aborts_with_UnsafePath(string partial, bool directory) => ExpectAbort(async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ApplyPartialDelta, "existing")
        {
            Other = partial,
            Flag = directory,
            BlockLength = 700,
            Length = 6,
        }.Write(w)));

    [Fact]
    public Task A_signature_of_a_partial_file_outside_the_tree_aborts_with_UnsafePath() => ExpectAbort(async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.PartialSignature, "existing") { Other = "../outside/secret", BlockLength = 700 }.Write(w)));

    private async Task ExpectAbort(Func<FakePeer, Task> script)
    {
        await _sandbox.ExpectAbortAsync(ErrorIds.UnsafePath, RemoteSide.Destination, script);
        Assert.Equal(["existing"], TestTree.Listing(_sandbox.Tree.Destination));
        Assert.Equal("existing", File.ReadAllText(Path.Join(_sandbox.Tree.Destination, "existing")));
    }
}
