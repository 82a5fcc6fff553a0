namespace PSReplica.Engine.Tests.Protocol;

/// <summary>Capability <c>wide-window</c>: a receiver widens the window of a stream it reads in bulk to
/// <see cref="ProtocolLimits.WideStreamWindow"/> with one extra grant, for at most <see cref="ProtocolLimits.MaxWideStreams"/>
/// streams at once; what it queues stays bounded, and a peer that sends or grants beyond the widened bounds ends the session
/// as before. Without the capability (an older peer) nothing changes.</summary>
public sealed class WideWindowTests
{
    private const int Chunk = ProtocolLimits.DataChunk;

    [Fact]
    public void A_widened_stream_takes_the_wide_window_and_not_a_byte_more()
    {
        (Multiplexer mux, MemoryStream sent) = NewMux(wideWindows: true);
        MuxStream stream = mux.Register(1);
        stream.Widen();
        Drain(mux);

        // One grant of the difference went to the peer.
        Assert.Equal([ProtocolLimits.WideStreamWindow - ProtocolLimits.StreamWindow], Grants(sent, 1));

        Deliver(stream, ProtocolLimits.WideStreamWindow);
        SyncException error = Assert.Throws<SyncException>(() => stream.Deliver(Data(1, 1)));
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    [Fact]
    public void Without_the_capability_widening_does_nothing()
    {
        (Multiplexer mux, MemoryStream sent) = NewMux(wideWindows: false);
        MuxStream stream = mux.Register(1);
        stream.Widen();
        Drain(mux);

        Assert.Empty(Grants(sent, 1));
        Deliver(stream, ProtocolLimits.StreamWindow);
        SyncException error = Assert.Throws<SyncException>(() => stream.Deliver(Data(1, 1)));
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    /// <summary>However many streams a peer opens and fills, no more than the limit are widened at once: the rest keep the
    /// normal window (and their excess is a violation); a widening is free again once its stream is done.</summary>
    [Fact]
    public void No_more_than_the_limit_of_streams_are_widened_at_once()
    {
        (Multiplexer mux, MemoryStream sent) = NewMux(wideWindows: true);
        var streams = new List<MuxStream>();
        for (uint id = 1; id <= ProtocolLimits.MaxWideStreams + 2; id++)
        {
            MuxStream stream = mux.Register(id);
            stream.Widen();
            streams.Add(stream);
        }

        Drain(mux);
        for (int i = 0; i < streams.Count; i++)
        {
            bool wide = i < ProtocolLimits.MaxWideStreams;
            Assert.Equal(wide ? 1 : 0, Grants(sent, streams[i].Id).Count);
            Deliver(streams[i], ProtocolLimits.StreamWindow);
            if (wide)
            {
                streams[i].Deliver(Data(streams[i].Id, 1));
            }
            else
            {
                Assert.Throws<SyncException>(() => streams[i].Deliver(Data(streams[i].Id, 1)));
            }
        }

        // The first stream is done: the next one asked gets its widening.
        mux.Unregister(streams[0]);
        MuxStream late = mux.Register(100);
        late.Widen();
        Drain(mux);
        Assert.Single(Grants(sent, 100));
    }

    /// <summary>The sending side: with the capability a peer may leave it up to two wide windows of credit, no more; without
    /// it, two normal windows as before.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Credit_beyond_two_windows_is_a_violation(bool wideWindows)
    {
        (Multiplexer mux, _) = NewMux(wideWindows);
        MuxStream stream = mux.Register(1);
        int window = wideWindows ? ProtocolLimits.WideStreamWindow : ProtocolLimits.StreamWindow;

        // The stream starts with one normal window of credit; this brings it to exactly two of the session's windows.
        stream.AddCredit((2 * window) - ProtocolLimits.StreamWindow);
        SyncException error = Assert.Throws<SyncException>(() => stream.AddCredit(1));
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    /// <summary>The sending side: once the peer has widened a stream, its data goes in frames of
    /// <see cref="ProtocolLimits.WideDataChunk"/> (a quarter as many hand-offs on each side); before that, and compressed,
    /// in frames of <see cref="ProtocolLimits.DataChunk"/>.</summary>
    [Theory]
    [InlineData(false, false, ProtocolLimits.DataChunk)]
    [InlineData(true, false, ProtocolLimits.WideDataChunk)]
    [InlineData(true, true, ProtocolLimits.DataChunk)]
    public async Task A_widened_stream_is_sent_in_wide_frames(bool widened, bool compress, int frameLength)
    {
        (Multiplexer mux, MemoryStream sent) = NewMux(wideWindows: true, compressionLevel: compress ? 1 : 0);
        MuxStream stream = mux.Register(1);
        stream.Compress = compress;
        if (widened)
        {
            stream.AddCredit(ProtocolLimits.WideStreamWindow - ProtocolLimits.StreamWindow);
        }

        // Random bytes: compression keeps nothing, so a compressed stream's frames go as Data of their full length.
        byte[] data = new byte[ProtocolLimits.StreamWindow];
        new Random(7).NextBytes(data);
        await stream.SendDataAsync(data, CancellationToken.None);
        Drain(mux);

        List<int> lengths = DataFrames(sent, 1);
        Assert.Equal(data.Length, lengths.Sum());
        Assert.All(lengths, length => Assert.Equal(frameLength, length));
        Assert.Equal(compress ? ProtocolLimits.DataChunk : ProtocolLimits.WideDataChunk, stream.FrameLimit);
    }

    [Fact]
    public void Both_sides_list_the_capability()
    {
        Assert.Contains(Handshake.WideWindows, Handshake.Capabilities);
    }

    private static (Multiplexer Mux, MemoryStream Sent) NewMux(bool wideWindows, int compressionLevel = 0)
    {
        var sent = new MemoryStream();
        var mux = new Multiplexer(new FrameReader(new MemoryStream()), new FrameWriter(sent), Timeout.InfiniteTimeSpan, acceptsRequests: false,
            compressionLevel, wideWindows);
        return (mux, sent);
    }

    /// <summary>Waits until every frame queued before it is written. A grant is sent without waiting: it queues for the
    /// writer's lock when a flush on another thread holds it, and the lock serves its waiters in order, so a frame sent
    /// after it and awaited has it written.</summary>
    private static void Drain(Multiplexer mux)
    {
        mux.SendAsync(FrameKind.Log, 0, ReadOnlyMemory<byte>.Empty, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>The payload length of every Data frame written for stream <paramref name="id"/>.</summary>
    private static List<int> DataFrames(MemoryStream sent, uint id)
    {
        var lengths = new List<int>();
        var reader = new FrameReader(new MemoryStream(sent.ToArray(), writable: false));
        while (reader.ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).GetAwaiter().GetResult() is { } frame)
        {
            using (frame)
            {
                if (frame.Kind is FrameKind.Data or FrameKind.CompressedData && frame.Id == id)
                {
                    lengths.Add(frame.Length);
                }
            }
        }

        return lengths;
    }

    /// <summary>The credit of every Window frame written for stream <paramref name="id"/>.</summary>
    private static List<int> Grants(MemoryStream sent, uint id)
    {
        var grants = new List<int>();
        var reader = new FrameReader(new MemoryStream(sent.ToArray(), writable: false));
        while (reader.ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).GetAwaiter().GetResult() is { } frame)
        {
            using (frame)
            {
                if (frame.Kind == FrameKind.Window && frame.Id == id)
                {
                    var payload = new WireReader(frame.Payload);
                    grants.Add(payload.Int32(int.MaxValue));
                }
            }
        }

        return grants;
    }

    private static void Deliver(MuxStream stream, int bytes)
    {
        for (int done = 0; done < bytes; done += Chunk)
        {
            stream.Deliver(Data(stream.Id, Math.Min(Chunk, bytes - done)));
        }
    }

    private static Frame Data(uint id, int length)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        return new Frame(FrameKind.Data, id, buffer, length);
    }
}
