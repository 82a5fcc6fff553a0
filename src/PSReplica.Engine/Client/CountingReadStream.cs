namespace PSReplica.Engine.Client;

/// <summary>Reports how much of a local source file has been read, for progress while it goes to the agent. With
/// <paramref name="whenRead"/>, that runs once, when the reads first reach <paramref name="length"/> (the file's listed
/// length) or end of file, whichever comes first: after the last byte the transfer sends is read and before the agent
/// is told the body is whole, so what it throws fails the transfer and the agent keeps nothing of it.</summary>
/// <param name="inner">The source file's content.</param>
/// <param name="progress">Called with the bytes read so far.</param>
/// <param name="length">The length the file was listed with (only with <paramref name="whenRead"/>).</param>
/// <param name="whenRead">Runs once when the file has been read; null for none.</param>
internal sealed class CountingReadStream(Stream inner, Action<long>? progress, long length = 0, Action? whenRead = null) : Stream
{
    private long _read;
    private Action? _whenRead = whenRead;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count), count);

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer), buffer.Length);

    /// <summary>A local file opened for synchronous access is read in place: on Unix its asynchronous read is the same
    /// read queued to another thread-pool thread, a hand-off per 128 KiB chunk sent (some 8,000 for 1 GiB) that left the
    /// workers spinning between chunks; a regular file's read does not wait for a peer, and the transfers that read this
    /// stream are waited for synchronously. Any other stream is read asynchronously.</summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (inner is FileStream { IsAsync: false })
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Count(inner.Read(buffer.Span), buffer.Length));
        }

        return ReadCountedAsync(buffer, cancellationToken);
    }

    private async ValueTask<int> ReadCountedAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.Length);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Counts <paramref name="n"/> bytes read of <paramref name="asked"/> (0 of more than 0 is end of file).</summary>
    private int Count(int n, int asked)
    {
        if (n > 0)
        {
            _read += n;
            progress?.Invoke(_read);
        }

        if (_whenRead is { } whenRead && ((n == 0 && asked > 0) || _read >= length))
        {
            _whenRead = null;
            whenRead();
        }

        return n;
    }
}
