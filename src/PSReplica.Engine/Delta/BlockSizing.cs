namespace PSReplica.Engine.Delta;

/// <summary>Block length and strong-checksum length for a basis file, chosen as rsync chooses them.
/// Follows rsync generator.c:sum_sizes_sqroot (protocol 30 and later).</summary>
internal static class BlockSizing
{
    /// <summary>rsync's BLOCK_SIZE: the smallest block, used for files up to 700*700 bytes.</summary>
    public const int MinBlockLength = 700;

    /// <summary>rsync's MAX_BLOCK_SIZE for protocol 30+: 128 KiB.</summary>
    public const int MaxBlockLength = 1 << 17;

    /// <summary>The smallest block length a user may force (-BlockSize): smaller blocks only bloat the signature.</summary>
    public const int MinimumForcedBlockLength = 64;

    /// <summary>The full strong-checksum length (rsync's SUM_LENGTH).</summary>
    public const int MaxStrongLength = 16;

    /// <summary>The shortest strong checksum rsync sends on the first pass (SHORT_SUM_LENGTH).</summary>
    public const int MinStrongLength = 2;

    private const int BlockSumBias = 10;

    /// <summary>The block length: about the square root of the file length, a multiple of 8, between 700 bytes and 128 KiB.</summary>
    public static int BlockLength(long fileLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fileLength);
        if (fileLength <= (long)MinBlockLength * MinBlockLength)
        {
            return MinBlockLength;
        }

        // The highest power of two whose square does not exceed the length, then bits below it down to 8.
        int c = 1;
        for (long l = fileLength; (l >>= 2) != 0;)
        {
            c <<= 1;
            if (c >= MaxBlockLength)
            {
                return MaxBlockLength;
            }
        }

        int length = 0;
        do
        {
            length |= c;
            if (fileLength < (long)length * length)
            {
                length &= ~c;
            }

            c >>= 1;
        }
        while (c >= 8);
        return Math.Max(length, MinBlockLength);
    }

    /// <summary>Bytes of the strong checksum kept per block: enough bits that a false match over the whole file
    /// stays unlikely, given the weak checksum's 32 bits.</summary>
    public static int StrongLength(long fileLength, int blockLength)
    {
        int bits = BlockSumBias;
        for (long l = fileLength; (l >>= 1) != 0;)
        {
            bits += 2;
        }

        for (int c = blockLength; (c >>= 1) != 0 && bits != 0;)
        {
            bits--;
        }

        int length = (bits + 1 - 32 + 7) / 8;
        return Math.Clamp(length, MinStrongLength, MaxStrongLength);
    }
}
