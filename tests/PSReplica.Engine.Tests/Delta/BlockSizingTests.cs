using CsCheck;

namespace PSReplica.Engine.Tests.Delta;

public sealed class BlockSizingTests
{
    [Theory]
    [InlineData(0L, 700)]
    [InlineData(1L, 700)]
    [InlineData(700L * 700, 700)]
    [InlineData(700L * 700 + 1, 700)]
    [InlineData(704L * 704 - 1, 700)] // the square root's multiple of 8 (696) is below the minimum
    [InlineData(704L * 704, 704)]
    [InlineData(1L << 20, 1024)]
    [InlineData((1L << 20) - 1, 1016)]
    [InlineData(1L << 30, 32768)]
    [InlineData((1L << 34) - 1, 131064)]
    [InlineData(1L << 34, 131072)]
    [InlineData(1L << 40, 131072)]
    [InlineData(long.MaxValue, 131072)]
    public void Block_length_follows_rsync(long fileLength, int expected) =>
        Assert.Equal(expected, BlockSizing.BlockLength(fileLength));

    [Fact]
    public void Block_length_rejects_a_negative_length() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockSizing.BlockLength(-1));

    /// <summary>The rule stated independently: the largest multiple of 8 whose square fits, at least 700, at most 128 KiB.</summary>
    private static int ReferenceBlockLength(long fileLength)
    {
        if (fileLength <= 700L * 700)
        {
            return 700;
        }

        long root = (long)Math.Sqrt(fileLength);
        while (root * root > fileLength)
        {
            root--;
        }

        while ((root + 1) * (root + 1) <= fileLength)
        {
            root++;
        }

        return (int)Math.Clamp(root / 8 * 8, 700, 131072);
    }

    // Log-uniform lengths up to 2^50, and lengths next to the squares of multiples of 8.
    private static readonly Gen<long> s_lengths = Gen.Frequency(
        (3, Gen.Int[0, 50].SelectMany(bits => Gen.Long[0, 1L << bits])),
        (2, Gen.Select(Gen.Int[87, 16400], Gen.Int[-2, 2], (r, d) => (8L * r * 8 * r) + d)));

    [Fact]
    public void Block_length_is_the_largest_fitting_multiple_of_8_within_bounds()
    {
        s_lengths.Sample(length =>
        {
            int r = BlockSizing.BlockLength(length);
            Assert.Equal(ReferenceBlockLength(length), r);
            Assert.InRange(r, 700, 131072);
            if (length <= 700L * 700)
            {
                Assert.Equal(700, r);
                return;
            }

            Assert.True((long)r * r <= length, $"{r}^2 > {length}");
            if (r == 700)
            {
                Assert.True(704L * 704 > length, $"700 for {length}");
            }
            else
            {
                Assert.Equal(0, r % 8);
                if (r != 131072)
                {
                    Assert.True((long)(r + 8) * (r + 8) > length, $"{r + 8}^2 <= {length}");
                }
            }
        }, iter: 20_000);
    }

    [Theory]
    [InlineData(0L, 700, 2)]
    [InlineData(1L << 20, 1024, 2)]
    [InlineData(1L << 30, 32768, 3)]
    [InlineData(1L << 34, 131072, 4)]
    [InlineData(1_000_000_000_000L, 131072, 5)]
    [InlineData(long.MaxValue, 131072, 11)]
    [InlineData(long.MaxValue, 1, 13)]
    public void Strong_length_follows_rsync(long fileLength, int blockLength, int expected) =>
        Assert.Equal(expected, BlockSizing.StrongLength(fileLength, blockLength));

    [Fact]
    public void Strong_length_is_between_2_and_16_and_grows_with_the_file()
    {
        Gen.Select(s_lengths, s_lengths, Gen.Frequency((1, Gen.Int[1, 131072]), (1, Gen.OneOf(Gen.Const(8), Gen.Const(700)))))
            .Sample((a, b, blockLength) =>
            {
                long small = Math.Min(a, b);
                long large = Math.Max(a, b);
                int shortSum = BlockSizing.StrongLength(small, blockLength);
                int longSum = BlockSizing.StrongLength(large, blockLength);
                Assert.InRange(shortSum, BlockSizing.MinStrongLength, BlockSizing.MaxStrongLength);
                Assert.InRange(longSum, BlockSizing.MinStrongLength, BlockSizing.MaxStrongLength);
                Assert.True(shortSum <= longSum, $"{small} -> {shortSum}, {large} -> {longSum} with blocks of {blockLength}");
                int heuristic = BlockSizing.StrongLength(large, BlockSizing.BlockLength(large));
                Assert.InRange(heuristic, BlockSizing.MinStrongLength, BlockSizing.MaxStrongLength);
            }, iter: 20_000);
    }
}
