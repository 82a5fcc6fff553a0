namespace PSReplica.Engine.Tests.Delta;

/// <summary>A smoke run over files larger than any buffer: counts only, no timing.</summary>
public sealed class DeltaThroughputTests
{
    private const int Length = 64 << 20;

    private sealed class CountingSink : IDeltaSink
    {
        public long Literal { get; private set; }

        public int Copies { get; private set; }

        void IDeltaSink.Literal(ReadOnlySpan<byte> data) => Literal += data.Length;

        void IDeltaSink.Copy(int firstBlock, int blockCount) => Copies++;
    }

    [Fact]
    public void Sixty_four_MiB_identical_and_unrelated()
    {
        var random = new Random(64);
        var basis = new byte[Length];
        random.NextBytes(basis);
        Signature signature = DeltaHarness.Sign(basis, blockLength: null);

        var same = new CountingSink();
        DeltaResult identical = DeltaHarness.Match(signature, basis, same);
        Assert.Equal(0, identical.LiteralBytes);
        Assert.Equal(0, same.Literal);
        Assert.Equal(Length, identical.MatchedBytes);

        // One run of blocks, sent in pieces of at most RunBytes so that the writer need not wait for the end.
        Assert.Equal((Length + DeltaMatcher.RunBytes - 1) / DeltaMatcher.RunBytes, same.Copies);

        var target = new byte[Length];
        random.NextBytes(target);
        var other = new CountingSink();
        DeltaResult unrelated = DeltaHarness.Match(signature, target, other);
        Assert.Equal(Length, unrelated.LiteralBytes);
        Assert.Equal(Length, other.Literal);
        Assert.Equal(0, other.Copies);
    }
}
