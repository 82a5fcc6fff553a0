using PSReplica.Engine.Client;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>A fake agent, driven by hand, sends the controller what a hostile or broken server could: each must end
/// the listing (and, for a violation, the session) with the right ErrorId.</summary>
public sealed class HostileAgentTests
{
    private static readonly StatInfo s_file = new(Posix.SIfreg | 0x1A4, 1, 0, 0, 7, 3, 1_600_000_000, 0, 1);
    private static readonly StatInfo s_directory = new(Posix.SIfdir | 0x1ED, 2, 0, 0, 8, 0, 1_600_000_000, 0, 1);
    private static readonly StatInfo s_link = new(Posix.SIflnk | 0x1FF, 1, 0, 0, 9, 0, 1_600_000_000, 0, 1);

    [Fact]
    public Task A_dot_dot_name_is_UnsafePath() => Expect(ErrorIds.UnsafePath, true, async (peer, id) =>
        await Listing(peer, id, w => Directory(w, string.Empty, new ListingEntry("../x", s_file, null))));

    [Fact]
    public Task An_absolute_directory_is_UnsafePath() => Expect(ErrorIds.UnsafePath, true, async (peer, id) =>
        await Listing(peer, id, w => Directory(w, "/etc", new ListingEntry("passwd", s_file, null))));

    [Fact]
    public Task A_directory_that_was_not_announced_is_UnsafePath() => Expect(ErrorIds.UnsafePath, true, async (peer, id) =>
        await Listing(peer, id, w =>
        {
            Directory(w, string.Empty, new ListingEntry("a", s_file, null));
            Directory(w, "elsewhere", new ListingEntry("x", s_file, null));
        }));

    [Fact]
    public Task A_duplicate_entry_is_a_violation() => Expect(ErrorIds.ProtocolViolation, true, async (peer, id) =>
        await Listing(peer, id, w => Directory(w, string.Empty, new ListingEntry("a", s_file, null), new ListingEntry("a", s_file, null))));

    [Fact]
    public Task A_symlink_followed_by_a_directory_of_the_same_name_is_a_violation() => Expect(ErrorIds.ProtocolViolation, true, async (peer, id) =>
        await Listing(peer, id, w => Directory(w, string.Empty, new ListingEntry("a", s_link, "/etc"), new ListingEntry("a", s_directory, null))));

    [Fact]
    public Task The_contents_of_a_symlink_are_UnsafePath() => Expect(ErrorIds.UnsafePath, true, async (peer, id) =>
        await Listing(peer, id, w =>
        {
            Directory(w, string.Empty, new ListingEntry("a", s_link, "/etc"));
            Directory(w, "a", new ListingEntry("passwd", s_file, null));
        }));

    [Fact]
    public Task A_count_that_would_allocate_gigabytes_is_a_violation() => Expect(ErrorIds.ProtocolViolation, true, async (peer, id) =>
        await Listing(peer, id, w => w.Byte(ListingRecord.DirectoryStart).String(string.Empty).Byte(ListingRecord.Entries).UInt(int.MaxValue)));

    [Fact]
    public Task An_unknown_listing_record_is_a_violation() => Expect(ErrorIds.ProtocolViolation, true, async (peer, id) =>
        await Listing(peer, id, w => w.Byte((byte)'?')));

    [Fact]
    public Task An_oversized_frame_is_FrameTooLarge() => Expect(ErrorIds.FrameTooLarge, false, async (peer, id) =>
        await peer.SendRawFrameAsync((byte)FrameKind.Data, id, [], announcedLength: 0x7FFF_FFFF));

    [Fact]
    public Task An_unknown_frame_kind_is_a_violation() => Expect(ErrorIds.ProtocolViolation, false, async (peer, id) =>
        await peer.SendRawFrameAsync(0x42, id, [1, 2, 3]));

    [Fact]
    public Task A_frame_for_a_stream_that_is_not_open_is_a_violation() => Expect(ErrorIds.ProtocolViolation, false, async (peer, id) =>
        await peer.SendRawFrameAsync((byte)FrameKind.Data, id + 100, [1]));

    [Fact]
    public Task More_data_than_the_window_is_a_violation() => Expect(ErrorIds.ProtocolViolation, false, async (peer, id) =>
    {
        byte[] chunk = new byte[ProtocolLimits.DataChunk];
        for (int i = 0; i <= ProtocolLimits.StreamWindow / chunk.Length; i++)
        {
            await peer.SendRawFrameAsync((byte)FrameKind.Data, id, chunk);
        }
    });

    [Fact]
    public Task A_truncated_stream_is_ConnectionLost() => Expect(ErrorIds.ConnectionLost, false, async (peer, id) =>
    {
        await peer.SendBytesAsync([10, 0, 0, 0, (byte)FrameKind.Data, 1, 0, 0, 0, 1, 2]);
        peer.Close();
    });

    [Fact]
    public Task An_error_id_the_controller_does_not_know_becomes_AgentFailed() => Expect(ErrorIds.AgentFailed, false, async (peer, id) =>
        await peer.SendAsync(FrameKind.Error, id, w => w.String("MadeUpId").Byte(0).String("\u001b[2Jgotcha").String(string.Empty)));

    [Fact]
    public async Task A_data_stream_that_does_not_match_its_checksum_is_refused()
    {
        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync();
        await using AgentClient client = await loop.ConnectAsync(RemoteSide.Source, "/remote");
        await accept;
        Task<long> read = client.ReadFileAsync("f", System.IO.Stream.Null, CancellationToken.None);
        (await peer.ExpectAsync(FrameKind.Request, 1)).Dispose();
        await peer.SendRawFrameAsync((byte)FrameKind.Data, 1, [1, 2, 3]);
        await peer.SendAsync(FrameKind.End, 1, w => w.UInt(3).Bytes(new byte[16]));
        var error = await Assert.ThrowsAsync<SyncException>(() => read);
        Assert.Equal(ErrorIds.DeltaVerificationFailed, error.ErrorId);
    }

    [Theory]
    [InlineData("another name")]
    [InlineData("no checksum")]
    [InlineData("trailing bytes")]
    public async Task A_description_of_a_copy_that_does_not_describe_it_is_a_violation(string flaw)
    {
        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync();
        await using AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, "/remote");
        await accept;
        Task<ListingEntry?> described = client.DescribeCopyAsync("dir/f", CancellationToken.None);
        (await peer.ExpectAsync(FrameKind.Request, 1)).Dispose();
        await peer.SendAsync(FrameKind.End, 1, w =>
        {
            w.Byte(1);
            new ListingEntry(flaw == "another name" ? "g" : "f", s_file, null) { Checksum = flaw == "no checksum" ? null : 42 }.Write(w);
            if (flaw == "trailing bytes")
            {
                w.Byte(0);
            }
        });
        var error = await Assert.ThrowsAsync<SyncException>(() => described);
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    /// <summary>Starts a listing against the fake agent, runs <paramref name="script"/> as the agent's answer and
    /// expects the listing to fail with <paramref name="errorId"/>; for violations, the session ends too and the
    /// agent is told why.</summary>
    private static async Task Expect(string errorId, bool sessionEnds, Func<FakePeer, uint, Task> script)
    {
        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync();
        AgentClient client = await loop.ConnectAsync(RemoteSide.Source, "/remote/root");
        try
        {
            await accept;
            RemoteListing listing = await client.ListAsync(string.Empty, recursive: true, CancellationToken.None);
            (await peer.ExpectAsync(FrameKind.Request, 1)).Dispose();
            await script(peer, 1);
            var error = await Assert.ThrowsAsync<SyncException>(() => listing.Completion.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(errorId, error.ErrorId);
            if (sessionEnds)
            {
                Assert.Equal(errorId, client.Fault?.ErrorId);
                using Frame told = await peer.ExpectAsync(FrameKind.Error, 0);
                Assert.Equal(errorId, WireError.Read(told.Payload, "controller").ErrorId);
            }
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    private static Task Listing(FakePeer peer, uint id, Action<WireWriter> records) => peer.SendAsync(FrameKind.Data, id, records);

    private static void Directory(WireWriter writer, string path, params ListingEntry[] entries)
    {
        writer.Byte(ListingRecord.DirectoryStart).String(path).Byte(ListingRecord.Entries).UInt((uint)entries.Length);
        foreach (ListingEntry entry in entries)
        {
            entry.Write(writer);
        }

        writer.Byte(ListingRecord.DirectoryEnd);
    }
}
