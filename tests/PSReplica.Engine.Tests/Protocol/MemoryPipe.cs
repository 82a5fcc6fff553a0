using System.Threading.Channels;

namespace PSReplica.Engine.Tests.Protocol;

/// <summary>A one-way in-memory pipe with a bounded queue (so a writer that outruns its reader waits, as on a real
/// pipe) and cancellable reads. Disposing the writer is end of stream for the reader. With a latency, each write
/// reaches the reader that long after it was made (a slow link, not a narrow one: writes do not wait for it).</summary>
internal sealed class MemoryPipe
{
    private readonly Channel<(byte[] Data, long Due)> _chunks;
    private readonly TimeSpan _latency;
    private long _cutAt = long.MaxValue;
    private Action? _cut;

    public MemoryPipe(TimeSpan latency = default)
    {
        _latency = latency;
        _chunks = Channel.CreateBounded<(byte[], long)>(latency > TimeSpan.Zero ? 1 << 16 : 64);
        Reader = new ReadEnd(this);
        Writer = new WriteEnd(this);
    }

    public Stream Reader { get; }

    public Stream Writer { get; }

    /// <summary>Every byte written so far, in order (for tests that inspect what crossed the wire).</summary>
    public long BytesWritten;

    /// <summary>How many writes carried them (each a packet on a real link).</summary>
    public long Writes;

    /// <summary>Lets through the first <paramref name="bytes"/> bytes written from now on, counted from the start of the
    /// pipe, then calls <paramref name="cut"/> (which closes the connection) and fails that write, as a link that drops
    /// in the middle of a packet.</summary>
    public void CutAfter(long bytes, Action cut)
    {
        _cutAt = bytes;
        _cut = cut;
    }

    private sealed class ReadEnd(MemoryPipe pipe) : Stream
    {
        private byte[]? _current;
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_current is null || _offset == _current.Length)
            {
                if (!await pipe._chunks.Reader.WaitToReadAsync(cancellationToken))
                {
                    return 0;
                }

                (_current, long due) = await pipe._chunks.Reader.ReadAsync(cancellationToken);
                _offset = 0;
                long wait = due - Environment.TickCount64;
                if (wait > 0)
                {
                    await Task.Delay((int)wait, cancellationToken);
                }
            }

            int n = Math.Min(buffer.Length, _current.Length - _offset);
            _current.AsMemory(_offset, n).CopyTo(buffer);
            _offset += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class WriteEnd(MemoryPipe pipe) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty)
            {
                return;
            }

            long room = pipe._cutAt - Interlocked.Read(ref pipe.BytesWritten);
            if (room < buffer.Length && Interlocked.Exchange(ref pipe._cut, null) is { } cut)
            {
                if (room > 0)
                {
                    await WriteAsync(buffer[..(int)room], cancellationToken);
                }

                cut();
                throw new IOException("The test cut the connection.");
            }

            try
            {
                await pipe._chunks.Writer.WriteAsync((buffer.ToArray(), Environment.TickCount64 + (long)pipe._latency.TotalMilliseconds), cancellationToken);
            }
            catch (ChannelClosedException)
            {
                throw new IOException("The pipe is closed.");
            }

            Interlocked.Add(ref pipe.BytesWritten, buffer.Length);
            Interlocked.Increment(ref pipe.Writes);
        }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            pipe._chunks.Writer.TryComplete();
            base.Dispose(disposing);
        }
    }
}
