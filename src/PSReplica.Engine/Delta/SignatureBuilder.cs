using System;
using System.Buffers;
using System.IO;
using System.Threading;

namespace PSReplica.Engine.Delta;

/// <summary>Builds the signature of a basis file by reading it once, block by block.</summary>
internal static class SignatureBuilder
{
    private const int ReadAhead = 1 << 20;

    /// <param name="blockLength">A block length to use instead of the square-root heuristic.</param>
    public static Signature Build(Stream basis, long length, int? blockLength, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(basis);
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
                basis.ReadExactly(buffer, 0, want);
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
