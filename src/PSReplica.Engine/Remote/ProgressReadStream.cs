using System;
using System.IO;

namespace PSReplica.Engine.Remote;

/// <summary>Counts what a long agent-side read has consumed and reports it now and then (every 4 MiB at most), so that
/// the controller can show progress for work that sends little back: a delta search over an unchanged file, a signature.</summary>
internal sealed class ProgressReadStream(Stream inner, Action<long> report) : Stream
{
    private const long Step = 4 << 20;
    private long _read;
    private long _nextReport = Step;

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
        if (_read >= _nextReport)
        {
            _nextReport = _read + Step;
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
