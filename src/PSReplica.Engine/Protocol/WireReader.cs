using System.Buffers.Binary;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Protocol;

/// <summary>Reads one message; every length and count is checked against what remains and against a limit before
/// it is used, and running off the end is a protocol violation (never an index error).</summary>
internal ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public WireReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly int Remaining => _data.Length - _position;

    public readonly bool AtEnd => _position == _data.Length;

    public byte Byte()
    {
        if (_position >= _data.Length)
        {
            throw ProtocolFault.Violation("a message ended early");
        }

        return _data[_position++];
    }

    /// <summary>An unsigned LEB128 number no greater than <paramref name="max"/>.</summary>
    public ulong UInt(ulong max = ulong.MaxValue)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = Byte();
            if (shift == 63 && b > 1)
            {
                break;
            }

            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value <= max ? value : throw ProtocolFault.Violation($"a value of {value} where at most {max} is allowed");
            }
        }

        throw ProtocolFault.Violation("a number longer than 64 bits");
    }

    public int Int32(int max) => (int)UInt((ulong)max);

    public long Int64(long max = long.MaxValue) => (long)UInt((ulong)max);

    public long Signed()
    {
        ulong raw = UInt();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>A count of items each at least <paramref name="minBytesEach"/> long: checked against the limit and against
    /// the bytes left, so that a forged count cannot make the reader allocate.</summary>
    public int Count(int max, int minBytesEach)
    {
        int count = Int32(max);
        if ((long)count * minBytesEach > Remaining)
        {
            throw ProtocolFault.Violation($"a count of {count} that the message cannot hold");
        }

        return count;
    }

    public uint UInt32Fixed()
    {
        ReadOnlySpan<byte> bytes = Bytes(4);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    public string String(int maxBytes)
    {
        int count = Int32(maxBytes);
        // Names are bytes (as rsync sends them): one that is not UTF-8 is kept exactly (NameCodec), never refused.
        return NameCodec.Decode(Bytes(count));
    }

    public ReadOnlySpan<byte> Bytes(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw ProtocolFault.Violation("a message ended early");
        }

        ReadOnlySpan<byte> bytes = _data.Slice(_position, count);
        _position += count;
        return bytes;
    }

    public readonly void ExpectEnd()
    {
        if (!AtEnd)
        {
            throw ProtocolFault.Violation($"{Remaining} unexpected bytes after a message");
        }
    }
}
