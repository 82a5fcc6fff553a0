using System.IO.Hashing;

namespace PSReplica.Engine.Delta;

/// <summary>The strong checksum of a block: XXH3-128, truncated to the signature's strong length.</summary>
internal static class StrongHash
{
    public const int FullLength = 16;

    public static void Compute(ReadOnlySpan<byte> block, Span<byte> destination)
    {
        Span<byte> full = stackalloc byte[FullLength];
        XxHash128.Hash(block, full);
        full[..destination.Length].CopyTo(destination);
    }
}
