using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Protocol;

/// <summary>Builds one message in a pooled, growing buffer: bytes, LEB128 numbers (zigzag for signed ones),
/// length-prefixed UTF-8 strings.</summary>
internal sealed class WireWriter : IDisposable
{
    private byte[] _buffer;
    private int _length;

    public WireWriter(int capacity = 256) => _buffer = ArrayPool<byte>.Shared.Rent(capacity);

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    public void Reset() => _length = 0;

    public WireWriter Byte(byte value)
    {
        Reserve(1)[0] = value;
        _length++;
        return this;
    }

    public WireWriter UInt(ulong value)
    {
        Span<byte> span = Reserve(10);
        int n = 0;
        do
        {
            byte b = (byte)(value & 0x7f);
            value >>= 7;
            span[n++] = value != 0 ? (byte)(b | 0x80) : b;
        }
        while (value != 0);
        _length += n;
        return this;
    }

    public WireWriter Int(long value) => UInt((ulong)((value << 1) ^ (value >> 63)));

    public WireWriter UInt32Fixed(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);
        _length += 4;
        return this;
    }

    /// <summary>A string as its bytes (<see cref="NameCodec"/>): a name that is not UTF-8 travels as the bytes it is.</summary>
    public WireWriter String(string value)
    {
        int count = NameCodec.GetByteCount(value);
        UInt((ulong)count);
        NameCodec.GetBytes(value, Reserve(count));
        _length += count;
        return this;
    }

    public WireWriter Bytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(Reserve(value.Length));
        _length += value.Length;
        return this;
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        return _buffer.AsSpan(_length, count);
    }
}
