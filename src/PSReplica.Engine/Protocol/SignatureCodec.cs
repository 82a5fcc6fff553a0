using System.Buffers;
using System.Buffers.Binary;
using PSReplica.Engine.Delta;

namespace PSReplica.Engine.Protocol;

/// <summary>A signature as a byte stream: file length, block length, strong length and block count (LEB128), then per
/// block the weak checksum (4 bytes, little-endian) and the strong checksum. The reader checks the header against the
/// limits and against itself, and allocates only as entries actually arrive.</summary>
internal static class SignatureCodec
{
    public static void Write(Stream output, Signature signature)
    {
        using (var header = new WireWriter(32))
        {
            header.UInt((ulong)signature.FileLength).UInt((uint)signature.BlockLength).UInt((uint)signature.StrongLength).UInt((uint)signature.Count);
            output.Write(header.Written);
        }

        int entry = 4 + signature.StrongLength;
        int perChunk = Math.Max(1, ProtocolLimits.DataChunk / entry);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(perChunk * entry);
        try
        {
            for (int first = 0; first < signature.Count; first += perChunk)
            {
                int count = Math.Min(perChunk, signature.Count - first);
                for (int i = 0; i < count; i++)
                {
                    Span<byte> slot = buffer.AsSpan(i * entry, entry);
                    BinaryPrimitives.WriteUInt32LittleEndian(slot, signature.Weak[first + i]);
                    signature.StrongOf(first + i).CopyTo(slot[4..]);
                }

                output.Write(buffer, 0, count * entry);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <exception cref="SyncException">ProtocolViolation when the header is inconsistent or out of bounds, or the stream ends early.</exception>
    public static Signature Read(Stream input)
    {
        long fileLength = ReadNumber(input, long.MaxValue);
        int blockLength = (int)ReadNumber(input, BlockSizing.MaxBlockLength);
        int strongLength = (int)ReadNumber(input, BlockSizing.MaxStrongLength);
        long count = ReadNumber(input, ProtocolLimits.MaxSignatureBlocks);
        if (blockLength < 1 || strongLength < 1)
        {
            throw ProtocolFault.Violation($"a signature with blocks of {blockLength} bytes and {strongLength}-byte checksums");
        }

        if (count != (fileLength + blockLength - 1) / blockLength)
        {
            throw ProtocolFault.Violation($"a signature of {count} blocks for {fileLength} bytes in blocks of {blockLength}");
        }

        // Read the entries before allocating the signature: memory follows what the peer actually sent.
        int entry = 4 + strongLength;
        long total = count * entry;
        using var received = new MemoryStream();
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ProtocolLimits.DataChunk);
        try
        {
            while (received.Length < total)
            {
                int want = (int)Math.Min(chunk.Length, total - received.Length);
                int n = input.Read(chunk, 0, want);
                if (n <= 0)
                {
                    throw ProtocolFault.Violation("the signature ended early");
                }

                received.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        if (input.ReadByte() >= 0)
        {
            throw ProtocolFault.Violation("bytes after the signature");
        }

        var signature = new Signature(fileLength, blockLength, strongLength);
        ReadOnlySpan<byte> data = received.GetBuffer().AsSpan(0, (int)total);
        for (int i = 0; i < signature.Count; i++)
        {
            ReadOnlySpan<byte> slot = data.Slice(i * entry, entry);
            signature.Weak[i] = BinaryPrimitives.ReadUInt32LittleEndian(slot);
            slot[4..].CopyTo(signature.Strong.AsSpan(i * strongLength, strongLength));
        }

        return signature;
    }

    private static long ReadNumber(Stream input, long max)
    {
        ulong value = 0;
        for (int shift = 0; shift < 63; shift += 7)
        {
            int b = input.ReadByte();
            if (b < 0)
            {
                throw ProtocolFault.Violation("the signature ended inside its header");
            }

            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value <= (ulong)max ? (long)value : throw ProtocolFault.Violation($"a signature field of {value} (at most {max})");
            }
        }

        throw ProtocolFault.Violation("a number longer than 63 bits in a signature");
    }
}
