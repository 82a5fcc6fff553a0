using System.IO.Hashing;
using CsCheck;

namespace PSReplica.Engine.Tests.Delta;

public sealed class SignatureBuilderTests
{
    private static void AssertSignatureOf(byte[] basis, Signature signature, int blockLength)
    {
        Assert.Equal(basis.Length, signature.FileLength);
        Assert.Equal(blockLength, signature.BlockLength);
        Assert.Equal(BlockSizing.StrongLength(basis.Length, blockLength), signature.StrongLength);
        Assert.Equal((basis.Length + blockLength - 1) / blockLength, signature.Count);
        Assert.Equal(basis.Length % blockLength, signature.Remainder);
        Span<byte> full = stackalloc byte[16];
        long covered = 0;
        for (int i = 0; i < signature.Count; i++)
        {
            ReadOnlySpan<byte> block = basis.AsSpan((int)signature.OffsetOf(i), signature.LengthOf(i));
            Assert.True(RollingChecksum.Compute(block) == signature.Weak[i], $"weak checksum of block {i}");
            XxHash128.Hash(block, full);
            Assert.True(full[..signature.StrongLength].SequenceEqual(signature.StrongOf(i)), $"strong checksum of block {i}");
            covered += block.Length;
        }

        Assert.Equal(basis.Length, covered);
    }

    [Fact]
    public void Each_block_has_its_weak_and_truncated_strong_checksum()
    {
        Gen.Select(Gen.Byte.Array[0, 20_000], Gen.Frequency((1, Gen.Const(0)), (3, Gen.Int[1, 3000]))).Sample((basis, forced) =>
        {
            int? blockLength = forced == 0 ? null : forced;
            Signature signature = DeltaHarness.Sign(basis, blockLength);
            AssertSignatureOf(basis, signature, blockLength ?? BlockSizing.BlockLength(basis.Length));
        }, iter: 200);
    }

    [Theory]
    [InlineData(1000)] // does not divide the builder's 1 MiB reads
    [InlineData(3 << 19)] // a block longer than one read
    public void Blocks_across_the_builders_reads_are_whole(int blockLength)
    {
        var basis = new byte[(3 << 20) + 777];
        new Random(blockLength).NextBytes(basis);
        AssertSignatureOf(basis, DeltaHarness.Sign(basis, blockLength), blockLength);
    }

    [Fact]
    public void A_basis_shorter_than_its_announced_length_throws()
    {
        using var stream = new MemoryStream(new byte[100]);
        Assert.Throws<EndOfStreamException>(() => SignatureBuilder.Build(stream, 101, null, default));
    }
}
