using CsCheck;

namespace PSReplica.Engine.Tests.Protocol;

public sealed class FrameTests
{
    [Fact]
    public void Frames_round_trip_through_writer_and_reader()
    {
        Gen.Select(Gen.Int[1, 8], Gen.UInt, Gen.Byte.Array[0, 3000]).Sample((kind, id, payload) =>
        {
            using var buffer = new MemoryStream();
            using (var writer = new FrameWriter(buffer))
            {
                writer.WriteAsync((FrameKind)kind, id, payload, CancellationToken.None).GetAwaiter().GetResult();
            }

            buffer.Position = 0;
            using Frame? frame = new FrameReader(buffer).ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).GetAwaiter().GetResult();
            Assert.NotNull(frame);
            Assert.Equal((FrameKind)kind, frame.Kind);
            Assert.Equal(id, frame.Id);
            Assert.Equal(payload, frame.Payload.ToArray());
            Assert.Null(new FrameReader(buffer).ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).GetAwaiter().GetResult());
        }, iter: 200);
    }

    /// <summary>A write-behind stream gets a frame's header and payload as two writes (no copy of the payload into a frame
    /// buffer first); frames written from many tasks at once still arrive whole, never interleaved.</summary>
    [Fact]
    public void Frames_written_at_once_reach_a_write_behind_stream_whole()
    {
        Gen.Int[1, 40].Select(Gen.Byte.Array[0, 5000].Array[1, 12]).Sample((_, payloads) =>
        {
            using var output = new WriteBehind();
            using (var writer = new FrameWriter(output))
            {
                Task[] writes = new Task[payloads.Length];
                for (int i = 0; i < payloads.Length; i++)
                {
                    uint id = (uint)i + 1;
                    byte[] payload = payloads[i];
                    writes[i] = Task.Run(() => writer.WriteAsync(FrameKind.Data, id, payload, CancellationToken.None));
                }

                Task.WaitAll(writes);
            }

            output.Position = 0;
            var reader = new FrameReader(output);
            var seen = new bool[payloads.Length];
            for (int i = 0; i < payloads.Length; i++)
            {
                using Frame? frame = reader.ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).GetAwaiter().GetResult();
                Assert.NotNull(frame);
                int index = (int)frame.Id - 1;
                Assert.False(seen[index]);
                seen[index] = true;
                Assert.Equal(payloads[index], frame.Payload.ToArray());
            }

            Assert.Null(reader.ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).GetAwaiter().GetResult());
        }, iter: 100);
    }

    [Fact]
    public void A_write_behind_stream_gets_each_frame_and_its_flush_before_the_write_returns()
    {
        using var output = new WriteBehind();
        using var writer = new FrameWriter(output);

        Task write = writer.WriteAsync(FrameKind.Data, 7, new byte[100], CancellationToken.None);

        // Nothing was left to the thread pool: the frame is in the stream and the transport was asked for its failure.
        Assert.True(write.IsCompletedSuccessfully);
        Assert.Equal(Frame.HeaderLength + 100, output.Length);
        Assert.Equal(1, output.Flushes);
    }

    [Fact]
    public async Task A_write_behind_stream_whose_transport_failed_fails_the_write()
    {
        using var output = new WriteBehind { Failure = new IOException("broken pipe") };
        using var writer = new FrameWriter(output);

        SyncException error = await Assert.ThrowsAsync<SyncException>(() => writer.WriteAsync(FrameKind.Data, 7, new byte[100], CancellationToken.None));

        Assert.Equal(ErrorIds.ConnectionLost, error.ErrorId);
    }

    [Theory]
    [InlineData(ProtocolLimits.MaxFramePayload + 1L)]
    [InlineData(uint.MaxValue)]
    public async Task An_oversized_length_is_refused_from_the_header_alone(long length)
    {
        // Only the 9 header bytes exist: the reader must refuse before it tries to allocate or read the payload.
        byte[] header = new byte[Frame.HeaderLength];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)length);
        header[4] = (byte)FrameKind.Data;
        var error = await Assert.ThrowsAsync<SyncException>(() => new FrameReader(new MemoryStream(header)).ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None));
        Assert.Equal(ErrorIds.FrameTooLarge, error.ErrorId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(0xFF)]
    public async Task An_unknown_frame_kind_is_a_violation(byte kind)
    {
        byte[] header = new byte[Frame.HeaderLength];
        header[4] = kind;
        var error = await Assert.ThrowsAsync<SyncException>(() => new FrameReader(new MemoryStream(header)).ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None));
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(12)]
    public async Task A_truncated_frame_is_a_lost_connection(int keep)
    {
        byte[] frame = new byte[Frame.HeaderLength + 10];
        frame[0] = 10;
        frame[4] = (byte)FrameKind.Data;
        var error = await Assert.ThrowsAsync<SyncException>(() =>
            new FrameReader(new MemoryStream(frame[..keep])).ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None));
        Assert.Equal(ErrorIds.ConnectionLost, error.ErrorId);
    }

    [Fact]
    public async Task A_silent_peer_times_out()
    {
        var pipe = new MemoryPipe();
        var error = await Assert.ThrowsAsync<SyncException>(() => new FrameReader(pipe.Reader).ReadAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Equal(ErrorIds.PeerTimeout, error.ErrorId);
    }

    /// <summary>A stream that sends by itself (as the SSH channel's write-behind buffer does): Flush only reports the
    /// transport's failure.</summary>
    private sealed class WriteBehind : MemoryStream, IWriteBehindStream
    {
        private readonly object _gate = new();

        public int Flushes { get; private set; }

        // As the channel's buffer: each write taken whole, whatever thread it comes from.
        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_gate)
            {
                base.Write(buffer, offset, count);
            }
        }

        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public IOException? Failure { get; init; }

        public override void Flush()
        {
            Flushes++;
            if (Failure is not null)
            {
                throw Failure;
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flush();
            return Task.CompletedTask;
        }
    }
}
