using System.IO.Hashing;
using System.Text;
using PSReplica.Ssh.Tests.Scenarios;

namespace PSReplica.Ssh.Tests;

/// <summary>A fake controller, over SSH, asks the native agent on a server without .NET for what a hostile client could
/// (DESIGN.md's security invariants; the engine's Hostile*Tests ask the same of the agent in process). The agent serves
/// "dst" in a sandbox that also holds "outside", with a secret file, and links planted in dst that point there. Each
/// request is refused, by ending the session or by an error on its own stream, and nothing outside dst changes, nor
/// anything in it.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NativeAgentHostileTests : IClassFixture<NativeAgentModule>, IDisposable
{
    private readonly NativeAgentModule _module;
    private readonly TempDirectory _dir = new();
    private readonly string _destination;
    private readonly string _outside;
    private readonly string _secret;
    private readonly List<string> _before;

    public NativeAgentHostileTests(NativeAgentModule module)
    {
        _module = module;
        _destination = _dir.Combine("dst");
        _outside = _dir.Combine("outside");
        _secret = Path.Join(_outside, "secret");
        Directory.CreateDirectory(_destination);
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Join(_destination, "existing"), "existing");
        File.WriteAllText(_secret, "secret");
        // Planted before the session, as a user of the server (or an earlier run) could have: a directory link and a file
        // link that lead outside.
        File.CreateSymbolicLink(Path.Join(_destination, "d"), _outside);
        File.CreateSymbolicLink(Path.Join(_destination, "f"), _secret);
        _before = Snapshot();
    }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("../x")]
    [InlineData("../outside/secret")]
    [InlineData("a/../../x")]
    [InlineData("./x")]
    [InlineData("a//x")]
    public Task A_relative_escape_aborts_with_UnsafePath(string name) => ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Destination, peer =>
        WriteFile(peer, 1, name, "pwned"));

    [Fact]
    public Task An_absolute_path_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Destination, peer =>
        WriteFile(peer, 1, Path.Join(_outside, "x"), "pwned"));

    [Theory]
    [InlineData("../outside/secret")]
    [InlineData("absolute")]
    public Task A_delta_basis_outside_the_tree_aborts_with_UnsafePath(string basis) => ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Destination, peer =>
        peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ApplyDelta, "copy")
        {
            Other = basis == "absolute" ? _secret : basis,
            BlockLength = 700,
            Length = 6,
        }.Write(w)));

    [Fact]
    public Task An_oversized_frame_aborts_with_FrameTooLarge() => ExpectAbort(ErrorIds.FrameTooLarge, RemoteSide.Destination, peer =>
        peer.SendRawFrameAsync((byte)FrameKind.Request, 1, [], announcedLength: uint.MaxValue));

    [Fact]
    public Task An_unknown_request_type_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Destination, peer =>
        peer.SendRawFrameAsync((byte)FrameKind.Request, 1, [0x63, 1, (byte)'x']));

    [Theory]
    [InlineData("../outside/secret", false)]
    [InlineData("d/secret", false)]
    [InlineData("sub/.existing.psreplica-partial", false)]
    [InlineData("existing", false)]
    [InlineData(".existing.psreplica-partial", true)]
    public Task A_partial_file_that_is_not_the_targets_aborts_with_UnsafePath(string partial, bool inPartialDirectory) =>
        ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Destination, peer =>
            peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ApplyPartialDelta, "existing")
            {
                Other = partial,
                Flag = inPartialDirectory,
                BlockLength = 700,
                Length = 6,
            }.Write(w)));

    [Fact]
    public Task The_signature_of_a_partial_file_outside_the_tree_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Destination, peer =>
        peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.PartialSignature, "existing") { Other = "../outside/secret", BlockLength = 700 }.Write(w)));

    [Fact]
    public Task A_signature_claiming_petabytes_of_blocks_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Source, async peer =>
    {
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ComputeDelta, "existing").Write(w));
        await peer.SendAsync(FrameKind.Data, 1, w => w.UInt(1UL << 50).UInt(64).UInt(16).UInt(1UL << 44));
    });

    [Fact]
    public Task Reading_a_file_outside_the_tree_of_a_sender_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Source, peer =>
        peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ReadFile, "../outside/secret").Write(w)));

    [Fact]
    public Task A_listing_rule_that_would_read_a_file_by_name_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Source, peer =>
        peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.List, string.Empty)
        {
            Flag = true,
            Listing = new ListingOptions(ListingFeatures.Filter, "merge " + _secret + "\n"),
        }.Write(w)));

    [Fact]
    public async Task Requests_through_a_planted_link_to_a_directory_outside_are_refused_one_by_one()
    {
        using NativeAgentPeer agent = await NativeAgentPeer.ConnectAsync(_module, RemoteSide.Destination, _destination);
        FakePeer peer = agent.Peer;

        await WriteFile(peer, 1, "d/planted", "pwned");
        await agent.AssertRefusedAsync(1, ErrorIds.UnsafePath);
        await peer.SendAsync(FrameKind.Request, 2, w => new AgentRequest(RequestType.CreateDirectory, "d/newdir").Write(w));
        await agent.AssertRefusedAsync(2, ErrorIds.UnsafePath);
        await peer.SendAsync(FrameKind.Request, 3, w => new AgentRequest(RequestType.Delete, "d/secret").Write(w));
        await agent.AssertRefusedAsync(3, ErrorIds.UnsafePath);
        await peer.SendAsync(FrameKind.Request, 4, w => new AgentRequest(RequestType.SetAttributes, "d/secret")
        {
            Attributes = new AttributeSet(AttributeFields.Mode | AttributeFields.Time, 0x1FF, 0, 0, 1_000_000_000, 0),
        }.Write(w));
        await agent.AssertRefusedAsync(4, ErrorIds.UnsafePath);
        // The file link: its target's signature is not read through it.
        await peer.SendAsync(FrameKind.Request, 5, w => new AgentRequest(RequestType.BuildSignature, "f").Write(w));
        await agent.AssertRefusedAsync(5, ErrorIds.UnsafePath);

        Assert.Equal(0, await agent.FinishAsync());
        AssertNothingChanged();
    }

    [Fact]
    public async Task Reading_through_a_planted_link_to_a_directory_outside_is_refused_and_sends_nothing_of_it()
    {
        using NativeAgentPeer agent = await NativeAgentPeer.ConnectAsync(_module, RemoteSide.Source, _destination);
        FakePeer peer = agent.Peer;

        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ReadFile, "d/secret").Write(w));
        await agent.AssertRefusedAsync(1, ErrorIds.UnsafePath);
        await peer.SendAsync(FrameKind.Request, 2, w => new AgentRequest(RequestType.ReadFile, "f").Write(w));
        await agent.AssertRefusedAsync(2, ErrorIds.UnsafePath);

        Assert.Equal(0, await agent.FinishAsync());
        AssertNothingChanged();
    }

    [Fact]
    public async Task A_write_that_replaces_a_planted_file_link_replaces_the_link_and_not_the_file_it_points_to()
    {
        using NativeAgentPeer agent = await NativeAgentPeer.ConnectAsync(_module, RemoteSide.Destination, _destination);

        await WriteFile(agent.Peer, 1, "f", "replaced");
        (await agent.Peer.ExpectAsync(FrameKind.End, 1)).Dispose();

        Assert.Equal(0, await agent.FinishAsync());
        Assert.Equal("replaced", File.ReadAllText(Path.Join(_destination, "f")));
        Assert.Null(new FileInfo(Path.Join(_destination, "f")).LinkTarget);
        Assert.Equal(_before.Where(IsOutside), Snapshot().Where(IsOutside));
    }

    /// <summary>Runs <paramref name="script"/> against the native agent serving dst as <paramref name="role"/> and expects
    /// the session to end with <paramref name="errorId"/>, with nothing changed in the sandbox.</summary>
    private async Task ExpectAbort(string errorId, RemoteSide role, Func<FakePeer, Task> script)
    {
        using (NativeAgentPeer agent = await NativeAgentPeer.ConnectAsync(_module, role, _destination))
        {
            await script(agent.Peer);
            await agent.AssertAbortedAsync(errorId);
        }

        AssertNothingChanged();
    }

    private static async Task WriteFile(FakePeer peer, uint id, string name, string content)
    {
        byte[] data = Encoding.UTF8.GetBytes(content);
        await peer.SendAsync(FrameKind.Request, id, w => new AgentRequest(RequestType.WriteFile, name) { Length = data.Length }.Write(w));
        await peer.SendRawFrameAsync((byte)FrameKind.Data, id, data);
        await peer.SendRawFrameAsync((byte)FrameKind.End, id, XxHash128.Hash(data));
    }

    private void AssertNothingChanged()
    {
        List<string> after = Snapshot();
        Assert.True(_before.SequenceEqual(after), TreeSnapshot.Difference(_before, after));
    }

    /// <summary>The whole sandbox: every item's type, mode, owner, nanosecond time, content hash or link target.</summary>
    private List<string> Snapshot() => TreeSnapshot.Describe(_dir.Path, ["dst", "outside"], TimeGranularity.Nanoseconds, long.MaxValue);

    /// <summary>A snapshot line about "outside" or an item in it ("F outside/secret 644 ...").</summary>
    private static bool IsOutside(string line) => line.AsSpan(2).StartsWith("outside", StringComparison.Ordinal);
}
