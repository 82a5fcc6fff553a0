using System;
using System.Buffers;
using System.IO;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Delta;

/// <summary>Builds the signature of a basis file by reading it once, block by block.</summary>
internal static class SignatureBuilder
{
    private const int ReadAhead = 1 << 20;

    /// <summary>Builds the signature of an open file, reading it by offset (the handle's position is not used).</summary>
    public static Signature Build(SafeFileHandle basis, long length, int? blockLength, CancellationToken cancellation)
    {
        long offset = 0;
        return Build((buffer, count) =>
        {
            int done = 0;
            while (done < count)
            {
                int n = RandomAccess.Read(basis, buffer.AsSpan(done, count - done), offset + done);
                if (n <= 0)
                {
                    throw new EndOfStreamException("The basis file became shorter while its signature was built.");
                }

                done += n;
            }

            offset += count;
        }, length, blockLength, cancellation);
    }

    /// <param name="blockLength">A block length to use instead of the square-root heuristic.</param>
    public static Signature Build(Stream basis, long length, int? blockLength, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(basis);
        return Build((buffer, count) => basis.ReadExactly(buffer, 0, count), length, blockLength, cancellation);
    }

    private static Signature Build(Action<byte[], int> readExactly, long length, int? blockLength, CancellationToken cancellation)
    {
        int block = blockLength ?? BlockSizing.BlockLength(length);
        var signature = new Signature(length, block, BlockSizing.StrongLength(length, block));
        int perRead = Math.Max(1, ReadAhead / block) * block;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(perRead);
        try
        {
            int index = 0;
            long remaining = length;
            while (remaining > 0)
            {
                cancellation.ThrowIfCancellationRequested();
                int want = (int)Math.Min(perRead, remaining);
                readExactly(buffer, want);
                remaining -= want;
                for (int offset = 0; offset < want; offset += block, index++)
                {
                    ReadOnlySpan<byte> data = buffer.AsSpan(offset, Math.Min(block, want - offset));
                    signature.Weak[index] = RollingChecksum.Compute(data);
                    StrongHash.Compute(data, signature.Strong.AsSpan(index * signature.StrongLength, signature.StrongLength));
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return signature;
    }
}
