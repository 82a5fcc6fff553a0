using CsCheck;

namespace PSReplica.Engine.Tests.Delta;

public sealed class RollingChecksumTests
{
    /// <summary>Straight from the definition: s1 sums the bytes as signed chars, s2 sums the running s1, both mod 2^32.</summary>
    private static uint Reference(ReadOnlySpan<byte> block)
    {
        uint s1 = 0;
        uint s2 = 0;
        unchecked
        {
            foreach (byte b in block)
            {
                s1 += (uint)(int)(sbyte)b;
                s2 += s1;
            }

            return (s1 & 0xffff) | (s2 << 16);
        }
    }

    private static byte[] Filled(int length, byte value)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill(value);
        return bytes;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void Compute_equals_the_reference_for_every_length_up_to_300()
    {
        var random = new Random(300);
        for (int length = 0; length <= 300; length++)
        {
            byte[] data = RandomBytes(random, length);
            Assert.True(Reference(data) == RollingChecksum.Compute(data), $"random data of length {length}");
            foreach (byte value in new byte[] { 0x00, 0x7F, 0x80, 0xFF })
            {
                byte[] same = Filled(length, value);
                Assert.True(Reference(same) == RollingChecksum.Compute(same), $"{length} bytes of 0x{value:x2}");
            }
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(95)]
    [InlineData(700)]
    [InlineData(4093)]
    [InlineData(32768)]
    [InlineData(131071)]
    [InlineData(131072)]
    [InlineData(1 << 20)]
    [InlineData((1 << 20) + 31)]
    public void Compute_equals_the_reference_on_large_blocks_where_sums_wrap(int length)
    {
        var random = new Random(length);
        byte[] data = RandomBytes(random, length);
        Assert.Equal(Reference(data), RollingChecksum.Compute(data));
        foreach (byte value in new byte[] { 0x7F, 0x80, 0xFF, 0x01 })
        {
            byte[] same = Filled(length, value);
            Assert.Equal(Reference(same), RollingChecksum.Compute(same));
        }
    }

    [Fact]
    public void Compute_equals_the_reference_on_random_blocks_and_offsets()
    {
        // Unaligned slices of a larger buffer, so that the vector loads start anywhere.
        Gen.Select(Gen.Byte.Array[0, 20_000], Gen.Int[0, 31]).Sample((data, skip) =>
        {
            ReadOnlySpan<byte> block = data.AsSpan(Math.Min(skip, data.Length));
            Assert.Equal(Reference(block), RollingChecksum.Compute(block));
        }, iter: 500);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80 }, 0xFB00FE00u)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, 0xFFF6FFFCu)]
    [InlineData(new byte[] { (byte)'a', (byte)'b', (byte)'c', (byte)'d' }, 0x03D4018Au)]
    [InlineData(new byte[] { 0x01 }, 0x00010001u)]
    [InlineData(new byte[0], 0u)]
    public void Known_values_take_bytes_as_signed(byte[] block, uint expected) =>
        Assert.Equal(expected, RollingChecksum.Compute(block));

    /// <summary>Every kernel this machine can run, not only the one it would choose: a Native AOT agent built for an older
    /// baseline, or an arm64 server, takes another.</summary>
    [Theory]
    [InlineData("Avx2")]
    [InlineData("Ssse3")]
    [InlineData("Vector256")]
    [InlineData("Vector128")]
    [InlineData("Scalar")]
    public void Every_kernel_equals_the_reference(string name)
    {
        var kernel = Enum.Parse<RollingChecksum.Kernel>(name);
        // Every x64 CPU here has SSSE3 and 128-bit vectors, and arm64 its AdvSIMD; the 256-bit kernels need AVX2.
        bool x64 = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;
        bool needed = kernel switch
        {
            RollingChecksum.Kernel.Avx2 or RollingChecksum.Kernel.Vector256 => System.Runtime.Intrinsics.X86.Avx2.IsSupported,
            RollingChecksum.Kernel.Ssse3 => x64,
            _ => true,
        };
        if (!needed)
        {
            return;
        }

        Assert.True(RollingChecksum.Runs(kernel), $"{kernel} does not run on this CPU");
        Gen.Select(Gen.Byte.Array[0, 5_000], Gen.Int[0, 31]).Sample((data, skip) =>
        {
            ReadOnlySpan<byte> block = data.AsSpan(Math.Min(skip, data.Length));
            Assert.Equal(Reference(block), RollingChecksum.ComputeWith(block, kernel));
        }, iter: 300);
        foreach (int length in new[] { 64, 65, 1000, 32768, (1 << 20) + 17 })
        {
            foreach (byte value in new byte[] { 0x7F, 0x80, 0xFF, 0x01 })
            {
                byte[] same = Filled(length, value);
                Assert.Equal(Reference(same), RollingChecksum.ComputeWith(same, kernel));
            }
        }
    }

    [Fact]
    public void Known_values_on_the_vector_path_take_bytes_as_signed()
    {
        Assert.Equal(0xF000E000u, RollingChecksum.Compute(Filled(64, 0x80)));
        Assert.Equal(0x5CECFC18u, RollingChecksum.Compute(Filled(1000, 0xFF)));
    }

    [Fact]
    public void Rolling_from_offset_zero_equals_compute_at_every_offset()
    {
        Gen.Byte.Array[1, 3000]
            .SelectMany(data => Gen.Int[1, data.Length].Select(window => (data, window)))
            .Sample(pair =>
            {
                (byte[] data, int window) = pair;
                var sum = default(RollingChecksum);
                sum.Reset(data.AsSpan(0, window));
                for (int offset = 0; ; offset++)
                {
                    Assert.True(RollingChecksum.Compute(data.AsSpan(offset, window)) == sum.Value, $"window {window} at offset {offset}");
                    if (offset + window == data.Length)
                    {
                        break;
                    }

                    sum.Roll(data[offset], data[offset + window], window);
                }
            }, iter: 300);
    }

    [Fact]
    public void Rolling_low_entropy_data_equals_compute_at_every_offset()
    {
        // Long runs of one extreme value make the s2 correction (blockLength * outgoing) large and negative.
        Gen.OneOf(Gen.Const((byte)0x80), Gen.Const((byte)0x7F), Gen.Const((byte)0xFF), Gen.Const((byte)0x00)).Array[1, 2000]
            .SelectMany(data => Gen.Int[1, data.Length].Select(window => (data, window)))
            .Sample(pair =>
            {
                (byte[] data, int window) = pair;
                var sum = default(RollingChecksum);
                sum.Reset(data.AsSpan(0, window));
                for (int offset = 0; offset + window < data.Length; offset++)
                {
                    sum.Roll(data[offset], data[offset + window], window);
                    Assert.Equal(RollingChecksum.Compute(data.AsSpan(offset + 1, window)), sum.Value);
                }
            }, iter: 200);
    }

    [Fact]
    public void Shrinking_at_the_end_of_the_data_equals_compute_of_the_shorter_window()
    {
        Gen.Byte.Array[1, 2000]
            .SelectMany(data => Gen.Int[1, data.Length].Select(window => (data, window)))
            .Sample(pair =>
            {
                (byte[] data, int window) = pair;
                int offset = data.Length - window;
                var sum = default(RollingChecksum);
                sum.Reset(data.AsSpan(offset, window));
                while (window > 0)
                {
                    // As the matcher does: the length passed is the window's length before the byte leaves.
                    sum.Shrink(data[offset], window);
                    offset++;
                    window--;
                    Assert.True(RollingChecksum.Compute(data.AsSpan(offset, window)) == sum.Value, $"window {window} at offset {offset}");
                }

                Assert.Equal(0u, sum.Value);
            }, iter: 300);
    }

    [Fact]
    public void Reset_starts_over_whatever_came_before()
    {
        var random = new Random(7);
        byte[] first = RandomBytes(random, 1000);
        byte[] second = RandomBytes(random, 333);
        var sum = default(RollingChecksum);
        sum.Reset(first);
        sum.Roll(first[0], 0x42, first.Length);
        sum.Reset(second);
        Assert.Equal(Reference(second), sum.Value);
    }
}
