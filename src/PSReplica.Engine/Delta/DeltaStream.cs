using System.Buffers;

namespace PSReplica.Engine.Delta;

/// <summary>The delta's byte format, used between sender and receiver: a sequence of ops, each a tag byte then
/// unsigned LEB128 numbers — 'L' length + bytes (literal), 'C' first block + block count (copy), and 'E' length +
/// 16-byte XXH3-128 of the whole target (end).</summary>
internal static class DeltaStream
{
    public const byte LiteralTag = (byte)'L';
    public const byte CopyTag = (byte)'C';
    public const byte EndTag = (byte)'E';

    /// <summary>The largest literal op accepted; the sender never writes more in one op.</summary>
    public const int MaxLiteral = 1 << 20;

    /// <summary>Reads ops from <paramref name="input"/> into <paramref name="sink"/> until the end op; returns the
    /// announced length and whole-file hash. Every number is checked before it is used.</summary>
    public static (long Length, byte[] Hash) Pump(Stream input, IDeltaSink sink)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(sink);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxLiteral);
        try
        {
            while (true)
            {
                int tag = input.ReadByte();
                switch (tag)
                {
                    case LiteralTag:
                        long length = ReadNumber(input);
                        if (length < 1 || length > MaxLiteral)
                        {
                            throw PatchWriter.Invalid($"a literal of {length} bytes");
                        }

                        ReadFully(input, buffer.AsSpan(0, (int)length));
                        sink.Literal(buffer.AsSpan(0, (int)length));
                        break;

                    case CopyTag:
                        long first = ReadNumber(input);
                        long count = ReadNumber(input);
                        if (first > int.MaxValue || count > int.MaxValue)
                        {
                            throw PatchWriter.Invalid($"a copy of {count} blocks from block {first}");
                        }

                        sink.Copy((int)first, (int)count);
                        break;

                    case EndTag:
                        long total = ReadNumber(input);
                        byte[] hash = new byte[StrongHash.FullLength];
                        ReadFully(input, hash);
                        return (total, hash);

                    case -1:
                        throw PatchWriter.Invalid("the stream ended before its end marker");

                    default:
                        throw PatchWriter.Invalid($"unknown op 0x{tag:x2}");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static void WriteNumber(Stream output, long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        Span<byte> bytes = stackalloc byte[10];
        int n = 0;
        ulong v = (ulong)value;
        do
        {
            byte b = (byte)(v & 0x7f);
            v >>= 7;
            bytes[n++] = v != 0 ? (byte)(b | 0x80) : b;
        }
        while (v != 0);
        output.Write(bytes[..n]);
    }

    private static long ReadNumber(Stream input)
    {
        ulong value = 0;
        for (int shift = 0; shift < 63; shift += 7)
        {
            int b = input.ReadByte();
            if (b < 0)
            {
                throw PatchWriter.Invalid("the stream ended inside a number");
            }

            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return (long)value;
            }
        }

        throw PatchWriter.Invalid("a number longer than 63 bits");
    }

    private static void ReadFully(Stream input, Span<byte> destination)
    {
        try
        {
            input.ReadExactly(destination);
        }
        catch (EndOfStreamException)
        {
            throw PatchWriter.Invalid("the stream ended inside an op");
        }
    }
}

/// <summary>Writes a delta in <see cref="DeltaStream"/>'s format.</summary>
internal sealed class DeltaStreamWriter : IDeltaSink
{
    private readonly Stream _output;

    public DeltaStreamWriter(Stream output) => _output = output;

    public void Literal(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, DeltaStream.MaxLiteral);
            _output.WriteByte(DeltaStream.LiteralTag);
            DeltaStream.WriteNumber(_output, n);
            _output.Write(data[..n]);
            data = data[n..];
        }
    }

    public void Copy(int firstBlock, int blockCount)
    {
        _output.WriteByte(DeltaStream.CopyTag);
        DeltaStream.WriteNumber(_output, firstBlock);
        DeltaStream.WriteNumber(_output, blockCount);
    }

    public void End(long length, ReadOnlySpan<byte> hash)
    {
        _output.WriteByte(DeltaStream.EndTag);
        DeltaStream.WriteNumber(_output, length);
        _output.Write(hash);
    }
}
