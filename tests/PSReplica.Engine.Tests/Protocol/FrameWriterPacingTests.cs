using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Tests.Protocol;

/// <summary>-BandwidthLimit on a remote run paces every frame a side sends (a push's file data from the controller, a
/// pull's from the agent): the same throttle as a local run's copies, on a <see cref="ManualPacingClock"/> that moves
/// by the link's time for each write and by the throttle's waits. The workload is a session's mix: thousands of small
/// frames (requests, answers, batched small files), file data in 128 KiB frames, and two frames of the 1 MiB maximum.</summary>
public sealed class FrameWriterPacingTests
{
    /// <summary>How fast the pretend link takes bytes.</summary>
    private const double LinkBytesPerSecond = 64 << 20;

    [Fact]
    public async Task A_generous_limit_never_waits()
    {
        var clock = new ManualPacingClock();
        var link = new Link(clock);

        long total = await WriteMixedAsync(link, clock, limit: 128L << 20);

        Assert.Equal(0, clock.Waits);
        Assert.Equal(total, link.Written);
    }

    [Fact]
    public async Task A_tight_limit_holds_the_session_to_the_limit_within_5_percent_in_bounded_flushed_bursts()
    {
        const long Limit = 1 << 20;
        Link? link = null;
        long before = 0;
        long burst = 0;
        int unflushed = 0;
        var clock = new ManualPacingClock
        {
            OnWait = _ =>
            {
                burst = Math.Max(burst, link!.Written - before);
                before = link.Written;
                // What was written before a wait leaves before it: never held in a buffer through the wait.
                if (link.Flushed != link.Written)
                {
                    unflushed++;
                }
            },
        };
        link = new Link(clock);

        long total = await WriteMixedAsync(link, clock, Limit);

        double seconds = clock.Elapsed.TotalSeconds;
        double rate = total / seconds;
        Assert.True(Math.Abs(rate - Limit) <= 0.05 * Limit, $"{total} bytes in {seconds:0.000} s is {rate:0} B/s against a limit of {Limit}");
        Assert.True(clock.Waited.TotalSeconds <= (double)total / Limit, $"waited {clock.Waited} for {total} bytes");
        Assert.Equal(0, unflushed);
        long bound = new BandwidthThrottle(Limit).Chunk + (long)(Limit * (BandwidthThrottle.Credit + BandwidthThrottle.MinimumWait).TotalSeconds);
        Assert.True(burst <= bound, $"{burst} bytes went between two waits (at most {bound})");
    }

    /// <summary>Writes the mixed session through a writer limited to <paramref name="limit"/>, checks that every frame
    /// arrives whole (a frame goes in pieces under a limit), and returns the bytes written.</summary>
    private static async Task<long> WriteMixedAsync(Link link, ManualPacingClock clock, long limit)
    {
        var random = new Random(14);
        var sent = new List<(FrameKind Kind, uint Id, byte[] Payload)>();
        long total = 0;
        using (var writer = new FrameWriter(link, clock) { BandwidthLimit = limit })
        {
            for (int i = 0; i < 3000; i++)
            {
                int length = i is 1000 or 2000 ? ProtocolLimits.MaxFramePayload
                    : i % 300 == 150 ? ProtocolLimits.DataChunk
                    : random.Next(0, 301);
                byte[] payload = new byte[length];
                random.NextBytes(payload);
                FrameKind kind = i % 7 == 0 ? FrameKind.Control : FrameKind.Data;
                await writer.WriteAsync(kind, (uint)i, payload, CancellationToken.None);
                sent.Add((kind, (uint)i, payload));
                total += Frame.HeaderLength + length;
            }
        }

        Assert.Equal(total, link.Written);
        var reader = new FrameReader(new MemoryStream(link.Content.ToArray()));
        foreach ((FrameKind kind, uint id, byte[] payload) in sent)
        {
            using Frame? frame = await reader.ReadAsync(Timeout.InfiniteTimeSpan, CancellationToken.None);
            Assert.NotNull(frame);
            Assert.Equal((kind, id), (frame.Kind, frame.Id));
            Assert.True(payload.AsSpan().SequenceEqual(frame.Payload), $"frame {id} arrived changed");
        }

        return total;
    }

    /// <summary>A link that keeps what is written, counts what was flushed, and takes time for each write.</summary>
    private sealed class Link(ManualPacingClock clock) : Stream
    {
        public MemoryStream Content { get; } = new();

        public long Written => Content.Length;

        public long Flushed { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Content.Write(buffer);
            clock.Advance(TimeSpan.FromSeconds(buffer.Length / LinkBytesPerSecond));
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush() => Flushed = Written;

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flush();
            return Task.CompletedTask;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
