using System.Buffers;

namespace PSReplica.Engine.Protocol;

/// <summary>A write-only <see cref="Stream"/> that gathers bytes into data frames of one stream (flow-controlled), so
/// that the delta engine's writers can stream straight onto the connection.</summary>
internal sealed class MuxWriteStream : Stream
{
    private readonly MuxStream _stream;
    private readonly CancellationToken _cancellation;
    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimits.DataChunk);
    private int _length;

    public MuxWriteStream(MuxStream stream, CancellationToken cancellation)
    {
        _stream = stream;
        _cancellation = cancellation;
    }

    public long BytesWritten { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, ProtocolLimits.DataChunk - _length);
            buffer[..n].CopyTo(_buffer.AsSpan(_length));
            _length += n;
            BytesWritten += n;
            buffer = buffer[n..];
            if (_length == ProtocolLimits.DataChunk)
            {
                FlushAsync(_cancellation).GetAwaiter().GetResult();
            }
        }
    }

    public override void WriteByte(byte value)
    {
        _buffer![_length++] = value;
        BytesWritten++;
        if (_length == ProtocolLimits.DataChunk)
        {
            Flush();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, ProtocolLimits.DataChunk - _length);
            buffer.Span[..n].CopyTo(_buffer.AsSpan(_length));
            _length += n;
            BytesWritten += n;
            buffer = buffer[n..];
            if (_length == ProtocolLimits.DataChunk)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => FlushAsync(_cancellation).GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_length > 0)
        {
            await _stream.SendDataAsync(_buffer.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
            _length = 0;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        base.Dispose(disposing);
    }
}
