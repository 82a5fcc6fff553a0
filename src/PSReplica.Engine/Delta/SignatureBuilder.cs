using System.Buffers;

namespace PSReplica.Engine.Delta;

/// <summary>Builds the signature of a basis file by reading it once, block by block.</summary>
internal static class SignatureBuilder
{
    private const int ReadAhead = 1 << 20;
    private const long ParallelThreshold = 16L << 20;

    /// <summary>Builds the signature of an open file, reading it by offset (the handle's position is not used).
    /// Large files are cut into block-aligned stretches that the cores hash side by side.</summary>
    public static Signature Build(SafeFileHandle basis, long length, int? blockLength, CancellationToken cancellation) =>
        Build(basis, length, blockLength, null, cancellation);

    /// <param name="strongLength">Bytes of strong checksum per block instead of rsync's choice (the redo pass uses all 16).</param>
    public static Signature Build(SafeFileHandle basis, long length, int? blockLength, int? strongLength, CancellationToken cancellation)
    {
        int block = blockLength ?? BlockSizing.BlockLength(length);
        var signature = new Signature(length, block, strongLength ?? BlockSizing.StrongLength(length, block));
        int perRead = Math.Max(1, ReadAhead / block) * block;
        long stretches = (length + perRead - 1) / perRead;
        var options = new System.Threading.Tasks.ParallelOptions
        {
            CancellationToken = cancellation,
            MaxDegreeOfParallelism = length >= ParallelThreshold ? Environment.ProcessorCount : 1,
        };
        try
        {
            HashStretches(basis, length, signature, perRead, stretches, options);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
        }

        return signature;
    }

    private static void HashStretches(SafeFileHandle basis, long length, Signature signature, int perRead, long stretches,
        System.Threading.Tasks.ParallelOptions options)
    {
        int block = signature.BlockLength;
        System.Threading.Tasks.Parallel.For(0L, stretches, options, () => ArrayPool<byte>.Shared.Rent(perRead), (stretch, _, buffer) =>
        {
            long offset = stretch * perRead;
            int count = (int)Math.Min(perRead, length - offset);
            for (int done = 0; done < count;)
            {
                int n = RandomAccess.Read(basis, buffer.AsSpan(done, count - done), offset + done);
                if (n <= 0)
                {
                    throw PatchWriter.Invalid("the basis file became shorter while its signature was built");
                }

                done += n;
            }

            HashBlocks(signature, buffer.AsSpan(0, count), (int)(offset / block));
            return buffer;
        }, buffer => ArrayPool<byte>.Shared.Return(buffer));
    }

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
            for (long remaining = length; remaining > 0;)
            {
                cancellation.ThrowIfCancellationRequested();
                int want = (int)Math.Min(perRead, remaining);
                basis.ReadExactly(buffer, 0, want);
                remaining -= want;
                HashBlocks(signature, buffer.AsSpan(0, want), index);
                index += (want + block - 1) / block;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return signature;
    }

    /// <summary>Fills the signature's entries for the blocks in <paramref name="data"/>, the first being block <paramref name="first"/>.</summary>
    internal static void HashBlocks(Signature signature, ReadOnlySpan<byte> data, int first)
    {
        int block = signature.BlockLength;
        int strong = signature.StrongLength;
        for (int offset = 0, index = first; offset < data.Length; offset += block, index++)
        {
            ReadOnlySpan<byte> bytes = data.Slice(offset, Math.Min(block, data.Length - offset));
            signature.Weak[index] = RollingChecksum.Compute(bytes);
            StrongHash.Compute(bytes, signature.Strong.AsSpan(index * strong, strong));
        }
    }
}
