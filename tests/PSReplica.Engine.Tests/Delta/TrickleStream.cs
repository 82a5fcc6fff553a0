namespace PSReplica.Engine.Tests.Delta;

/// <summary>A read-only, non-seekable stream that hands out at most a few bytes per read, as a pipe or socket may.</summary>
internal sealed class TrickleStream : Stream
{
    private readonly byte[] _data;
    private readonly Random _random;
    private readonly int _maxRead;
    private int _position;

    public TrickleStream(byte[] data, int maxRead, int seed)
    {
        _data = data;
        _maxRead = maxRead;
        _random = new Random(seed);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, _data.Length - _position), _random.Next(1, _maxRead + 1));
        _data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
