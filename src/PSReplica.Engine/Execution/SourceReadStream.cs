namespace PSReplica.Engine.Execution;

/// <summary>A local source file read by a delta search: a read that fails (EIO from a failing disk, issue 18) is the
/// source's FileReadError, not an I/O error that the run would take for a failed write of the destination.</summary>
internal sealed class SourceReadStream(SafeFileHandle source) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => RandomAccess.GetLength(source);

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Read(source, buffer, _position);
        _position += n;
        return n;
    }

    /// <summary>One positional read of a source file, failing with FileReadError (the caller's item names the file).</summary>
    public static int Read(SafeFileHandle source, Span<byte> buffer, long offset)
    {
        try
        {
            return RandomAccess.Read(source, buffer, offset);
        }
        catch (IOException ex)
        {
            throw new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, $"Cannot read the source: {ex.Message}", null, ex);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
