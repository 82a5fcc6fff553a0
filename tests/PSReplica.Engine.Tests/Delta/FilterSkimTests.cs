namespace PSReplica.Engine.Tests.Delta;

public sealed class FilterSkimTests
{
    /// <summary>A filter with about one bit in <paramref name="oneIn"/> set, of 2^<paramref name="bits"/> bits.</summary>
    private static ulong[] RandomFilter(Random random, int bits, int oneIn)
    {
        var filter = new ulong[Math.Max(1, (1 << bits) / 64)];
        for (int i = 0; i < (1 << bits) / oneIn; i++)
        {
            int bit = random.Next(1 << bits);
            filter[bit >> 6] |= 1UL << (bit & 63);
        }

        return filter;
    }

    private static (uint S1, uint S2) Sums(byte[] data, int position, int window)
    {
        var sum = default(RollingChecksum);
        sum.Reset(data.AsSpan(position, window));
        return (sum.S1, sum.S2);
    }

    [Fact]
    public void The_vector_skim_stops_where_the_scalar_skim_stops_with_the_same_sums()
    {
        var random = new Random(2026);
        int checkedHits = 0;
        for (int round = 0; round < 3000; round++)
        {
            int window = random.Next(5) switch { 0 => 1 + random.Next(20), 1 => 700, 2 => 64 + random.Next(2000), _ => 1 + random.Next(200) };
            int length = window + random.Next(4000);
            var data = new byte[length + 1];
            if (round % 5 == 0)
            {
                // Low-entropy data: long runs of one value and of extreme values, where the sums wrap differently.
                data.AsSpan().Fill((byte)random.Next(256));
                for (int i = 0; i < 20; i++)
                {
                    data[random.Next(data.Length)] = (byte)(random.Next(2) == 0 ? 0x80 : 0x7F);
                }
            }
            else
            {
                random.NextBytes(data);
            }

            int bits = 12 + random.Next(10);
            ulong[] filter = RandomFilter(random, bits, random.Next(3) switch { 0 => 4, 1 => 64, _ => 100_000 });
            int filterShift = 32 - bits;
            int position = random.Next(Math.Max(1, data.Length - window));
            int maxLimit = data.Length - window;
            int limit = position + random.Next(Math.Max(1, maxLimit - position + 1));
            limit = Math.Min(limit, maxLimit);
            (uint s1, uint s2) = Sums(data, position, window);
            uint v1 = s1, v2 = s2, c1 = s1, c2 = s2;
            int scalar = FilterSkim.Scalar(data, filter, filterShift, position, limit, window, ref c1, ref c2);
            int vector = FilterSkim.Vector(data, filter, filterShift, position, limit, window, ref v1, ref v2);
            Assert.True(scalar == vector, $"round {round}: scalar stopped at {scalar}, vector at {vector} (from {position} to {limit}, window {window})");
            Assert.Equal(c1, v1);
            Assert.Equal(c2, v2);

            // The sums it returns are those of the window where it stopped, computed from scratch.
            (uint e1, uint e2) = Sums(data, vector, window);
            Assert.Equal(e1, v1);
            Assert.Equal(e2, v2);
            if (vector < limit)
            {
                checkedHits++;
            }
        }

        Assert.True(checkedHits > 500, $"only {checkedHits} rounds stopped on a set bit");
    }

    [Fact]
    public void A_range_that_does_not_fit_the_buffer_is_refused()
    {
        var data = new byte[100];
        var filter = new ulong[1 << 6];
        uint s1 = 0, s2 = 0;
        Assert.Throws<ArgumentOutOfRangeException>(() => FilterSkim.Vector(data, filter, 20, 0, 60, 41, ref s1, ref s2));
        Assert.Throws<ArgumentOutOfRangeException>(() => FilterSkim.Scalar(data, filter, 19, 0, 10, 10, ref s1, ref s2));
        Assert.Equal(59, FilterSkim.Vector(data, new ulong[1 << 6], 20, 0, 59, 41, ref s1, ref s2));
    }
}
