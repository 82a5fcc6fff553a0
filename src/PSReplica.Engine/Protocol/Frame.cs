using System.Buffers;

namespace PSReplica.Engine.Protocol;

/// <summary>One received frame: its kind, its stream id and a payload in a pooled buffer that <see cref="Dispose"/> returns.</summary>
internal sealed class Frame : IDisposable
{
    /// <summary>Length (4 bytes, little-endian, payload only), kind (1 byte), stream id (4 bytes, little-endian).</summary>
    public const int HeaderLength = 9;

    private byte[]? _buffer;

    public Frame(FrameKind kind, uint id, byte[]? buffer, int length)
    {
        Kind = kind;
        Id = id;
        _buffer = buffer;
        Length = length;
    }

    public FrameKind Kind { get; }

    public uint Id { get; }

    public int Length { get; }

    public ReadOnlySpan<byte> Payload => _buffer is null ? [] : _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> PayloadMemory => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, Length);

    public void Dispose()
    {
        byte[]? buffer = _buffer;
        _buffer = null;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
