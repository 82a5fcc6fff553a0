namespace PSReplica.Engine.Tests.Remote;

/// <summary>A fake controller, driven by hand, asks a real agent (serving a destination inside a sandbox that also
/// holds an "outside" directory) for what a hostile client could. Nothing may change outside the destination.</summary>
public sealed class HostileControllerTests : IDisposable
{
    private readonly AgentSandbox _sandbox = new("existing");

    public void Dispose() => _sandbox.Dispose();

    [Theory]
    [InlineData("../x")]
    [InlineData("../outside/secret")]
    [InlineData("a/../../x")]
    [InlineData("./x")]
    [InlineData("a//x")]
    public Task A_relative_escape_aborts_with_UnsafePath(string name) => ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Destination, async peer =>
        await WriteFile(peer, 1, name, "pwned"));

    [Fact]
    public Task An_absolute_path_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Destination, async peer =>
        await WriteFile(peer, 1, Path.Join(_sandbox.Outside, "x"), "pwned"));

    [Fact]
    public Task A_basis_outside_the_tree_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Destination, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ApplyDelta, "copy")
        {
            Other = "../outside/secret",
            BlockLength = 700,
            Length = 6,
        }.Write(w)));

    [Fact]
    public Task An_absolute_basis_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Destination, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ApplyDelta, "copy")
        {
            Other = _sandbox.Secret,
            BlockLength = 700,
            Length = 6,
        }.Write(w)));

    [Fact]
    public Task An_oversized_frame_aborts_with_FrameTooLarge() => ExpectAbort(ErrorIds.FrameTooLarge, RemoteSide.Destination, async peer =>
        await peer.SendRawFrameAsync((byte)FrameKind.Request, 1, [], announcedLength: uint.MaxValue));

    [Fact]
    public Task An_unknown_request_type_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Destination, async peer =>
        await peer.SendRawFrameAsync((byte)FrameKind.Request, 1, [0x63, 1, (byte)'x']));

    [Fact]
    public Task A_sparse_files_request_naming_a_path_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Destination, async peer =>
        await peer.SendRawFrameAsync((byte)FrameKind.Request, 1, [(byte)RequestType.SparseFiles, 1, (byte)'x']));

    [Fact]
    public Task A_sparse_files_request_to_a_sender_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Source, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.SparseFiles, string.Empty).Write(w)));

    [Fact]
    public Task A_CreateNode_of_a_regular_file_aborts_with_a_violation_and_makes_nothing() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Destination, async peer =>
    {
        using var writer = new WireWriter();
        writer.Byte((byte)RequestType.CreateNode).String("made").Byte(8).UInt(0).UInt(0);
        AttributeSet.None.Write(writer);
        await peer.SendRawFrameAsync((byte)FrameKind.Request, 1, writer.Written.ToArray());
    });

    [Fact]
    public Task A_CreateNode_outside_the_tree_aborts_with_UnsafePath() => ExpectAbort(ErrorIds.UnsafePath, RemoteSide.Destination, async peer =>
    {
        using var writer = new WireWriter();
        writer.Byte((byte)RequestType.CreateNode).String("../outside/fifo").Byte(1).UInt(0).UInt(0);
        AttributeSet.None.Write(writer);
        await peer.SendRawFrameAsync((byte)FrameKind.Request, 1, writer.Written.ToArray());
    });

    [Fact]
    public Task A_CreateNode_to_a_sender_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Source, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => AgentClient.NodeRequest("fifo", Posix.SIfifo, 0, AttributeSet.None).Write(w)));

    [Fact]
    public Task A_request_the_role_does_not_allow_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Destination, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ReadFile, "existing").Write(w)));

    [Fact]
    public Task A_signature_claiming_gigabytes_of_blocks_aborts_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Source, async peer =>
    {
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ComputeDelta, "existing").Write(w));
        await peer.SendAsync(FrameKind.Data, 1, w => w.UInt(1UL << 50).UInt(64).UInt(16).UInt(1UL << 44));
        await peer.SendAsync(FrameKind.End, 1, _ => { });
    }, root: _sandbox.Tree.Destination);

    [Theory]
    [InlineData("merge /etc/passwd")]
    [InlineData(". /etc/passwd")]
    [InlineData("no such rule")]
    public Task Listing_rules_that_would_read_a_file_by_name_or_do_not_parse_abort_with_a_violation(string rule) =>
        ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Source, async peer =>
            await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.List, string.Empty)
            {
                Flag = true,
                Listing = new ListingOptions(ListingFeatures.Filter, rule + "\n"),
            }.Write(w)), root: _sandbox.Tree.Destination);

    [Fact]
    public Task Unknown_listing_features_abort_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Source, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => w.Byte((byte)RequestType.List).String(string.Empty).Byte(3).UInt(0x100).String(string.Empty)),
        root: _sandbox.Tree.Destination);

    [Fact]
    public Task Request_ids_that_go_backwards_abort_with_a_violation() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Destination, async peer =>
    {
        await peer.SendAsync(FrameKind.Request, 5, w => new AgentRequest(RequestType.List, string.Empty).Write(w));
        await peer.SendAsync(FrameKind.Request, 3, w => new AgentRequest(RequestType.List, string.Empty).Write(w));
    });

    [Fact]
    public async Task A_node_through_a_planted_symlink_is_refused_and_one_over_a_link_replaces_the_link_only()
    {
        await using Loopback loop = Loopback.WithAgent();
        FakePeer peer = await loop.ConnectPeerAsync(RemoteSide.Destination, _sandbox.Tree.Destination);

        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.CreateSymbolicLink, "d") { Other = _sandbox.Outside }.Write(w));
        (await peer.ExpectAsync(FrameKind.End, 1)).Dispose();
        await peer.SendAsync(FrameKind.Request, 2, w => AgentClient.NodeRequest("d/fifo", Posix.SIfifo, 0, AttributeSet.None).Write(w));
        await ExpectStreamError(peer, 2, ErrorIds.UnsafePath);

        await peer.SendAsync(FrameKind.Request, 3, w => new AgentRequest(RequestType.CreateSymbolicLink, "f") { Other = _sandbox.Secret }.Write(w));
        (await peer.ExpectAsync(FrameKind.End, 3)).Dispose();
        await peer.SendAsync(FrameKind.Request, 4, w => AgentClient.NodeRequest("f", Posix.SIfifo, 0,
            new AttributeSet(AttributeFields.Mode, 0x1FF, 0, 0, 0, 0)).Write(w));
        (await peer.ExpectAsync(FrameKind.End, 4)).Dispose();

        Assert.Equal(Posix.SIfifo, TestTree.Stat(Path.Join(_sandbox.Tree.Destination, "f")).FileType);
        Assert.Equal(0x1FF, TestTree.Stat(Path.Join(_sandbox.Tree.Destination, "f")).Permissions);
        _sandbox.AssertOutsideUntouched();
        Assert.Equal(Posix.SIfreg, TestTree.Stat(_sandbox.Secret).FileType);
        Assert.False(Path.Exists(Path.Join(_sandbox.Outside, "fifo")));
    }

    [Fact]
    public async Task A_write_through_a_planted_symlink_is_refused_and_the_link_target_is_untouched()
    {
        await using Loopback loop = Loopback.WithAgent();
        FakePeer peer = await loop.ConnectPeerAsync(RemoteSide.Destination, _sandbox.Tree.Destination);

        // A link to the outside directory, then a file "inside" it.
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.CreateSymbolicLink, "d") { Other = _sandbox.Outside }.Write(w));
        (await peer.ExpectAsync(FrameKind.End, 1)).Dispose();
        await WriteFile(peer, 2, "d/planted", "pwned");
        await ExpectStreamError(peer, 2, ErrorIds.UnsafePath);

        // Directories, attributes and deletions through it are refused too.
        await peer.SendAsync(FrameKind.Request, 3, w => new AgentRequest(RequestType.CreateDirectory, "d/newdir").Write(w));
        await ExpectStreamError(peer, 3, ErrorIds.UnsafePath);
        await peer.SendAsync(FrameKind.Request, 4, w => new AgentRequest(RequestType.Delete, "d/secret").Write(w));
        await ExpectStreamError(peer, 4, ErrorIds.UnsafePath);
        await peer.SendAsync(FrameKind.Request, 5, w => new AgentRequest(RequestType.SetAttributes, "d/secret")
        {
            Attributes = new AttributeSet(AttributeFields.Mode, 0x1FF, 0, 0, 0, 0),
        }.Write(w));
        await ExpectStreamError(peer, 5, ErrorIds.UnsafePath);

        // A link to the secret file itself: its signature is not read through it, and a write replaces the link, not the file.
        await peer.SendAsync(FrameKind.Request, 6, w => new AgentRequest(RequestType.CreateSymbolicLink, "f") { Other = _sandbox.Secret }.Write(w));
        (await peer.ExpectAsync(FrameKind.End, 6)).Dispose();
        await peer.SendAsync(FrameKind.Request, 7, w => new AgentRequest(RequestType.BuildSignature, "f").Write(w));
        await ExpectStreamError(peer, 7, ErrorIds.UnsafePath);
        await WriteFile(peer, 8, "f", "replaced");
        (await peer.ExpectAsync(FrameKind.End, 8)).Dispose();
        await peer.SendAsync(FrameKind.Request, 9, w => new AgentRequest(RequestType.SetAttributes, "d")
        {
            Attributes = new AttributeSet(AttributeFields.Mode | AttributeFields.Time, 0x1C0, 0, 0, 1_000_000_000, 0),
        }.Write(w));
        (await peer.ExpectAsync(FrameKind.End, 9)).Dispose();

        Assert.Equal(0, await loop.FinishAsync());
        Assert.Equal("replaced", File.ReadAllText(Path.Join(_sandbox.Tree.Destination, "f")));
        Assert.Null(new FileInfo(Path.Join(_sandbox.Tree.Destination, "f")).LinkTarget);
        Assert.Equal(_sandbox.Outside, new FileInfo(Path.Join(_sandbox.Tree.Destination, "d")).LinkTarget);
        _sandbox.AssertOutsideUntouched();
    }

    [Fact]
    public async Task A_stream_truncated_inside_a_body_leaves_no_temp_file_and_nothing_outside()
    {
        await using Loopback loop = Loopback.WithAgent();
        FakePeer peer = await loop.ConnectPeerAsync(RemoteSide.Destination, _sandbox.Tree.Destination);
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.WriteFile, "partial") { Length = 1000 }.Write(w));
        await peer.SendRawFrameAsync((byte)FrameKind.Data, 1, new byte[100]);
        await peer.SendBytesAsync([200, 0, 0, 0, (byte)FrameKind.Data, 1, 0, 0, 0, 1, 2, 3]);
        peer.Close();
        Assert.Equal(1, await loop.Agent.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(ErrorIds.ConnectionLost, loop.Diagnostics, StringComparison.Ordinal);
        Assert.Equal(["existing"], TestTree.Listing(_sandbox.Tree.Destination));
        _sandbox.AssertOutsideUntouched();
    }

    /// <summary>Wide windows: the agent widens the stream of a file larger than a window by one grant of the difference,
    /// before it reads the body, and only for a controller that listed the capability; an older controller's streams keep
    /// the 1 MiB window (the bounds a hostile one runs into are in <see cref="Protocol.WideWindowTests"/>). The short body
    /// ends the file with an error and leaves nothing behind.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_large_file_stream_is_widened_only_for_a_controller_that_listed_wide_windows(bool listed)
    {
        await using Loopback loop = Loopback.WithAgent();
        FakePeer peer = await loop.ConnectPeerAsync(RemoteSide.Destination, _sandbox.Tree.Destination, listed ? [Handshake.WideWindows] : []);
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.WriteFile, "large") { Length = 64L << 20 }.Write(w));
        await peer.SendRawFrameAsync((byte)FrameKind.Data, 1, new byte[100]);
        await peer.SendRawFrameAsync((byte)FrameKind.End, 1, System.IO.Hashing.XxHash128.Hash(new byte[100]));
        var grants = new List<int>();
        while (true)
        {
            using Frame frame = await peer.ReadAsync() ?? throw new EndOfStreamException();
            if (frame.Id != 1)
            {
                continue;
            }

            if (frame.Kind == FrameKind.Window)
            {
                var payload = new WireReader(frame.Payload);
                grants.Add(payload.Int32(int.MaxValue));
                continue;
            }

            Assert.Equal(FrameKind.Error, frame.Kind);
            break;
        }

        Assert.Equal(listed ? [ProtocolLimits.WideStreamWindow - ProtocolLimits.StreamWindow] : [], grants);
        Assert.Equal(["existing"], TestTree.Listing(_sandbox.Tree.Destination));
        _sandbox.AssertOutsideUntouched();
    }

    [Fact]
    public Task A_body_longer_than_announced_aborts_and_leaves_no_temp_file() => ExpectAbort(ErrorIds.ProtocolViolation, RemoteSide.Destination, async peer =>
    {
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.WriteFile, "long") { Length = 10 }.Write(w));
        await peer.SendRawFrameAsync((byte)FrameKind.Data, 1, new byte[11]);
    });

    /// <summary>Runs <paramref name="script"/> against a real agent and expects it to end the session with
    /// <paramref name="errorId"/>, with nothing changed in the destination or outside it.</summary>
    private async Task ExpectAbort(string errorId, RemoteSide role, Func<FakePeer, Task> script, string? root = null)
    {
        await _sandbox.ExpectAbortAsync(errorId, role, script, root);
        Assert.Equal(["existing"], TestTree.Listing(_sandbox.Tree.Destination));
    }

    private static async Task WriteFile(FakePeer peer, uint id, string name, string content)
    {
        byte[] data = System.Text.Encoding.UTF8.GetBytes(content);
        await peer.SendAsync(FrameKind.Request, id, w => new AgentRequest(RequestType.WriteFile, name) { Length = data.Length }.Write(w));
        await peer.SendRawFrameAsync((byte)FrameKind.Data, id, data);
        await peer.SendRawFrameAsync((byte)FrameKind.End, id, System.IO.Hashing.XxHash128.Hash(data));
    }

    private static async Task ExpectStreamError(FakePeer peer, uint id, string errorId)
    {
        while (true)
        {
            Frame frame = await peer.ReadAsync() ?? throw new EndOfStreamException();
            using (frame)
            {
                if (frame.Id == id && frame.Kind is FrameKind.Error or FrameKind.End)
                {
                    Assert.Equal(FrameKind.Error, frame.Kind);
                    Assert.Equal(errorId, WireError.Read(frame.Payload, "agent").ErrorId);
                    return;
                }
            }
        }
    }
}
