namespace PSReplica.Engine.Execution;

/// <summary>Counts what a long read has consumed and reports it every <paramref name="step"/> bytes (0: after every
/// read), so that work that writes little (a delta search over an unchanged file, a signature) still shows progress.</summary>
internal sealed class ProgressReadStream(Stream inner, Action<long> report, long step) : Stream
{
    private long _read;
    private readonly long _step = step;
    private long _nextReport = step;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        _read += n;
        if (n > 0 && _read >= _nextReport)
        {
            _nextReport = _read + _step;
            report(_read);
        }

        return n;
    }

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
}
