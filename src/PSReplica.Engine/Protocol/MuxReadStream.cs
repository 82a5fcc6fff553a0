namespace PSReplica.Engine.Protocol;

/// <summary>The data frames of one direction of a stream as a read-only <see cref="Stream"/>: it ends at the end frame
/// (whose payload becomes <see cref="Trailer"/>) and throws the peer's error at an error frame.</summary>
internal sealed class MuxReadStream : Stream
{
    private readonly MuxStream _stream;
    private readonly CancellationToken _cancellation;
    private Frame? _current;
    private int _offset;
    private bool _ended;

    public MuxReadStream(MuxStream stream, CancellationToken cancellation)
    {
        _stream = stream;
        _cancellation = cancellation;
    }

    /// <summary>The end frame's payload, once the stream has been read to its end.</summary>
    public byte[]? Trailer { get; private set; }

    public long BytesRead { get; private set; }

    /// <summary>Whether a read would return without waiting for the peer.</summary>
    public bool DataReady => _current is not null || _stream.HasQueuedFrames;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (_current is null)
        {
            if (_ended)
            {
                return 0;
            }

            Accept(_stream.Receive(_cancellation));
        }

        return Take(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!await EnsureData().ConfigureAwait(false))
        {
            return 0;
        }

        return Take(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads the end frame after the last expected byte: more data is a violation.</summary>
    public async Task<byte[]> ReadTrailerAsync()
    {
        if (await EnsureData().ConfigureAwait(false))
        {
            throw ProtocolFault.Violation($"data after the end of what stream {_stream.Id} should carry");
        }

        return Trailer!;
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
            _current?.Dispose();
            _current = null;
        }

        base.Dispose(disposing);
    }

    private int Take(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, _current!.Length - _offset);
        _current.Payload.Slice(_offset, n).CopyTo(buffer);
        _offset += n;
        BytesRead += n;
        if (_offset == _current.Length)
        {
            Release();
        }

        return n;
    }

    private void Release()
    {
        int length = _current!.Length;
        _current.Dispose();
        _current = null;
        _stream.Consumed(length);
    }

    private async ValueTask<bool> EnsureData()
    {
        while (_current is null)
        {
            if (_ended)
            {
                return false;
            }

            Accept(await _stream.ReceiveAsync(_cancellation).ConfigureAwait(false));
        }

        return true;
    }

    /// <summary>Takes a frame from the peer: data becomes the current frame, the end frame the trailer; an error frame is
    /// thrown.</summary>
    private void Accept(Frame frame)
    {
        switch (frame.Kind)
        {
            case FrameKind.Data when frame.Length > 0:
                _current = frame;
                _offset = 0;
                break;
            case FrameKind.Data:
                frame.Dispose();
                break;
            case FrameKind.End:
                Trailer = frame.Payload.ToArray();
                frame.Dispose();
                _ended = true;
                break;
            case FrameKind.Error:
                using (frame)
                {
                    throw WireError.Read(frame.Payload, _stream.Session.PeerName);
                }

            default:
                frame.Dispose();
                throw ProtocolFault.Violation($"a {frame.Kind} frame inside stream {_stream.Id}");
        }
    }
}
