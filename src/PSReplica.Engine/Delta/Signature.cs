namespace PSReplica.Engine.Delta;

/// <summary>The block signatures of a basis file: per block a weak (rolling) checksum and a truncated strong checksum.</summary>
internal sealed class Signature
{
    public Signature(long fileLength, int blockLength, int strongLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fileLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(strongLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(strongLength, BlockSizing.MaxStrongLength);
        long count = (fileLength + blockLength - 1) / blockLength;
        if (count > int.MaxValue / strongLength)
        {
            throw new ArgumentOutOfRangeException(nameof(fileLength), "The file has too many blocks for one signature.");
        }

        FileLength = fileLength;
        BlockLength = blockLength;
        StrongLength = strongLength;
        Count = (int)count;
        Remainder = (int)(fileLength % blockLength);
        Weak = new uint[Count];
        Strong = new byte[Count * strongLength];
    }

    public long FileLength { get; }

    public int BlockLength { get; }

    public int StrongLength { get; }

    public int Count { get; }

    /// <summary>The length of the last, short block; 0 when the last block is whole.</summary>
    public int Remainder { get; }

    public uint[] Weak { get; }

    /// <summary><see cref="Count"/> strong checksums of <see cref="StrongLength"/> bytes each.</summary>
    public byte[] Strong { get; }

    public int LengthOf(int index) => index == Count - 1 && Remainder != 0 ? Remainder : BlockLength;

    public long OffsetOf(int index) => (long)index * BlockLength;

    public ReadOnlySpan<byte> StrongOf(int index) => Strong.AsSpan(index * StrongLength, StrongLength);
}
