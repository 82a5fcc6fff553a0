using PSReplica.Engine.Native;

namespace PSReplica.Engine.Protocol;

/// <summary>The agent's standard input as a stream read in place: poll(2) then read(2) on the calling thread, as rsync reads
/// its socket. Stream's own ReadAsync on a console or pipe stream hands every read to a pool thread and back; an agent
/// receiving a gigabyte does some 30,000 reads, and those hand-offs cost it more CPU than the data did. The idle timeout
/// and cancellation are kept: the wait is polled in slices, so a silent peer still times out and a stopped session still
/// stops. Not for Windows (no poll on its handles).</summary>
internal sealed class DescriptorInput : Stream
{
    /// <summary>How long one poll waits before the cancellation token is looked at again.</summary>
    private const int SliceMilliseconds = 200;

    private readonly int _fd;

    /// <param name="fd">An open descriptor this stream reads and never closes (0 for standard input).</param>
    public DescriptorInput(int fd) => _fd = fd;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Reads what is there (at least one byte, or 0 at the end of the input), waiting at most
    /// <paramref name="timeout"/> for it.</summary>
    /// <exception cref="TimeoutException">Nothing came within the timeout.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled while waiting.</exception>
    /// <exception cref="IOException">The read failed.</exception>
    public int Read(Span<byte> buffer, TimeSpan timeout, CancellationToken cancellation)
    {
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                throw new TimeoutException();
            }

            int ready = Posix.PollInput(_fd, (int)Math.Min(left, SliceMilliseconds));
            if (ready == -Posix.EINTR || ready == 0)
            {
                continue;
            }

            if (ready < 0)
            {
                throw new IOException($"Cannot wait for input: {Posix.Describe(-ready)}");
            }

            int n = Posix.Read(_fd, buffer);
            if (n == -Posix.EINTR || n == -Posix.EAGAIN)
            {
                continue;
            }

            return n >= 0 ? n : throw new IOException($"Cannot read the input: {Posix.Describe(-n)}");
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Read(buffer, Timeout.InfiniteTimeSpan, CancellationToken.None);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span, Timeout.InfiniteTimeSpan, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
