using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PSReplica.Engine.Delta;

/// <summary>rsync's weak checksum ("checksum1"): s1 is the sum of the bytes taken as signed chars, s2 the sum of
/// the running s1 values; the value is (s1 &amp; 0xffff) | (s2 &lt;&lt; 16). Not Adler-32: no modulus, signed bytes.
/// Follows rsync checksum.c:get_checksum1 and the rolling update of match.c:hash_search.</summary>
internal struct RollingChecksum
{
    private uint _s1;
    private uint _s2;

    public RollingChecksum(uint s1, uint s2)
    {
        _s1 = s1;
        _s2 = s2;
    }

    public readonly uint Value => (_s1 & 0xffff) | (_s2 << 16);

    internal readonly uint S1 => _s1;

    internal readonly uint S2 => _s2;

    /// <summary>The checksum of a whole block, computed from scratch.</summary>
    public static uint Compute(ReadOnlySpan<byte> block)
    {
        var sum = default(RollingChecksum);
        sum.Reset(block);
        return sum.Value;
    }

    /// <summary>The vector kernels <see cref="Reset"/> chooses from, best first, and the scalar loop that finishes (or does)
    /// every block.</summary>
    internal enum Kernel
    {
        Avx2,
        Ssse3,
        Vector256,
        Vector128,
        Scalar,
    }

    /// <summary>Whether <paramref name="kernel"/> runs on this CPU as this code was compiled (a Native AOT agent has only
    /// the instruction sets of its build's baseline).</summary>
    internal static bool Runs(Kernel kernel) => kernel switch
    {
        Kernel.Avx2 => Avx2.IsSupported,
        Kernel.Ssse3 => Ssse3.IsSupported,
        Kernel.Vector256 => Vector256.IsHardwareAccelerated,
        Kernel.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>The checksum of <paramref name="block"/> by <paramref name="kernel"/> (which must run here): for tests that
    /// hold every kernel to the definition, whichever one this machine would choose.</summary>
    internal static uint ComputeWith(ReadOnlySpan<byte> block, Kernel kernel)
    {
        var sum = default(RollingChecksum);
        sum.Reset(block, kernel);
        return sum.Value;
    }

    /// <summary>Starts over on <paramref name="block"/>.</summary>
    public void Reset(ReadOnlySpan<byte> block) => Reset(block,
        Avx2.IsSupported ? Kernel.Avx2
        : Ssse3.IsSupported ? Kernel.Ssse3 // x86 without AVX2: a Native AOT agent built for the x86-64-v2 baseline, an older CPU
        : Vector256.IsHardwareAccelerated ? Kernel.Vector256
        : Vector128.IsHardwareAccelerated ? Kernel.Vector128 // arm64's AdvSIMD
        : Kernel.Scalar);

    private void Reset(ReadOnlySpan<byte> block, Kernel kernel)
    {
        unchecked
        {
            // s1 = sum b[i]; s2 = sum (n - i) * b[i], over signed bytes, all modulo 2^32.
            int n = block.Length;
            uint s1 = 0;
            uint s2 = 0;
            int i = 0;
            if (n >= 64)
            {
                (s1, s2, i) = kernel switch
                {
                    Kernel.Avx2 => ResetAvx2(block),
                    Kernel.Ssse3 => ResetSsse3(block),
                    Kernel.Vector256 => ResetVector(block),
                    Kernel.Vector128 => ResetVector128(block),
                    _ => (0u, 0u, 0),
                };
            }

            for (; i < n; i++)
            {
                uint b = (uint)(sbyte)block[i];
                s1 += b;
                s2 += (uint)(n - i) * b;
            }

            _s1 = s1;
            _s2 = s2;
        }
    }

    /// <summary>Slides the window one byte: <paramref name="outgoing"/> leaves, <paramref name="incoming"/> enters;
    /// <paramref name="blockLength"/> is the window's length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Roll(byte outgoing, byte incoming, int blockLength)
    {
        unchecked
        {
            uint o = (uint)(sbyte)outgoing;
            _s1 = _s1 - o + (uint)(sbyte)incoming;
            _s2 = _s2 - ((uint)blockLength * o) + _s1;
        }
    }

    /// <summary>Removes the first byte of the window without adding one (the window shrinks at the end of the file).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Shrink(byte outgoing, int blockLength)
    {
        unchecked
        {
            uint o = (uint)(sbyte)outgoing;
            _s1 -= o;
            _s2 -= (uint)blockLength * o;
        }
    }

    /// <summary>As <see cref="ResetVector"/>, with the byte sums done by multiply-add instructions (vpmaddubsw, vpmaddwd)
    /// instead of widening: per 32-byte chunk c, S_c = sum b_k and W_c = sum k*b_k (k = 0..31 in the chunk), and
    /// sum over chunks of c*S_c from the running sums P_c = S_0 + ... + S_(c-1): sum c*S_c = (C-1)*sum S - sum P_c.</summary>
    private static (uint S1, uint S2, int Done) ResetAvx2(ReadOnlySpan<byte> block)
    {
        unchecked
        {
            int n = block.Length;
            int chunks = n / 32;
            ref byte start = ref MemoryMarshal.GetReference(block);
            Vector256<byte> ones8 = Vector256.Create((byte)1);
            Vector256<short> ones16 = Vector256.Create((short)1);
            Vector256<byte> weights = Vector256.Create(
                (byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
            Vector256<int> sums = Vector256<int>.Zero, weighted = sums, running = sums;
            for (int c = 0; c < chunks; c++)
            {
                Vector256<sbyte> bytes = Vector256.LoadUnsafe(ref Unsafe.Add(ref start, c * 32)).AsSByte();

                // At most 31*128 + 30*128 in a 16-bit pair sum: no saturation.
                Vector256<int> chunk = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(ones8, bytes), ones16);
                weighted += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(weights, bytes), ones16);
                running += sums;
                sums += chunk;
            }

            uint s1 = (uint)Vector256.Sum(sums);
            uint chunkWeighted = ((uint)(chunks - 1) * s1) - (uint)Vector256.Sum(running);
            uint positional = (32u * chunkWeighted) + (uint)Vector256.Sum(weighted);
            return (s1, ((uint)n * s1) - positional, chunks * 32);
        }
    }

    /// <summary>Vectorised prefix of <see cref="Reset"/>: processes 32-byte chunks and returns where it stopped.</summary>
    private static (uint S1, uint S2, int Done) ResetVector(ReadOnlySpan<byte> block)
    {
        unchecked
        {
            // s2 = n*s1 - sum(k*b_k). With k = 32j + l (chunk j, lane l): sum(k*b_k) = 32*sum_j(j*S_j) + sum_l(l*A_l),
            // where S_j is chunk j's byte sum and A_l the per-lane byte sums; lanes stay in vectors until the end.
            int n = block.Length;
            int chunks = n / 32;
            ref byte start = ref MemoryMarshal.GetReference(block);
            Vector256<int> a0 = Vector256<int>.Zero, a1 = a0, a2 = a0, a3 = a0, weightedChunks = a0;
            for (int c = 0; c < chunks; c++)
            {
                Vector256<sbyte> bytes = Vector256.LoadUnsafe(ref Unsafe.Add(ref start, c * 32)).AsSByte();
                (Vector256<short> lo16, Vector256<short> hi16) = Vector256.Widen(bytes);
                (Vector256<int> v0, Vector256<int> v1) = Vector256.Widen(lo16);
                (Vector256<int> v2, Vector256<int> v3) = Vector256.Widen(hi16);
                a0 += v0;
                a1 += v1;
                a2 += v2;
                a3 += v3;
                weightedChunks += ((v0 + v1) + (v2 + v3)) * c;
            }

            Vector256<int> w0 = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            Vector256<int> eight = Vector256.Create(8);
            Vector256<int> w1 = w0 + eight;
            Vector256<int> w2 = w1 + eight;
            Vector256<int> w3 = w2 + eight;
            uint s1 = (uint)Vector256.Sum((a0 + a1) + (a2 + a3));
            uint positional = (32u * (uint)Vector256.Sum(weightedChunks)) + (uint)Vector256.Sum((a0 * w0) + (a1 * w1) + (a2 * w2) + (a3 * w3));
            return (s1, ((uint)n * s1) - positional, chunks * 32);
        }
    }

    /// <summary><see cref="ResetAvx2"/> on 16-byte chunks with SSSE3's pmaddubsw and SSE2's pmaddwd.</summary>
    private static (uint S1, uint S2, int Done) ResetSsse3(ReadOnlySpan<byte> block)
    {
        unchecked
        {
            int n = block.Length;
            int chunks = n / 16;
            ref byte start = ref MemoryMarshal.GetReference(block);
            Vector128<byte> ones8 = Vector128.Create((byte)1);
            Vector128<short> ones16 = Vector128.Create((short)1);
            Vector128<byte> weights = Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            Vector128<int> sums = Vector128<int>.Zero, weighted = sums, running = sums;
            for (int c = 0; c < chunks; c++)
            {
                Vector128<sbyte> bytes = Vector128.LoadUnsafe(ref Unsafe.Add(ref start, c * 16)).AsSByte();

                // At most 15*128 + 14*128 in a 16-bit pair sum: no saturation.
                Vector128<int> chunk = Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(ones8, bytes), ones16);
                weighted += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(weights, bytes), ones16);
                running += sums;
                sums += chunk;
            }

            uint s1 = (uint)Vector128.Sum(sums);
            uint chunkWeighted = ((uint)(chunks - 1) * s1) - (uint)Vector128.Sum(running);
            uint positional = (16u * chunkWeighted) + (uint)Vector128.Sum(weighted);
            return (s1, ((uint)n * s1) - positional, chunks * 16);
        }
    }

    /// <summary><see cref="ResetVector"/> on 16-byte chunks, for 128-bit vector units (arm64).</summary>
    private static (uint S1, uint S2, int Done) ResetVector128(ReadOnlySpan<byte> block)
    {
        unchecked
        {
            int n = block.Length;
            int chunks = n / 16;
            ref byte start = ref MemoryMarshal.GetReference(block);
            Vector128<int> a0 = Vector128<int>.Zero, a1 = a0, a2 = a0, a3 = a0, weightedChunks = a0;
            for (int c = 0; c < chunks; c++)
            {
                Vector128<sbyte> bytes = Vector128.LoadUnsafe(ref Unsafe.Add(ref start, c * 16)).AsSByte();
                (Vector128<short> lo16, Vector128<short> hi16) = Vector128.Widen(bytes);
                (Vector128<int> v0, Vector128<int> v1) = Vector128.Widen(lo16);
                (Vector128<int> v2, Vector128<int> v3) = Vector128.Widen(hi16);
                a0 += v0;
                a1 += v1;
                a2 += v2;
                a3 += v3;
                weightedChunks += ((v0 + v1) + (v2 + v3)) * c;
            }

            Vector128<int> w0 = Vector128.Create(0, 1, 2, 3);
            Vector128<int> four = Vector128.Create(4);
            Vector128<int> w1 = w0 + four;
            Vector128<int> w2 = w1 + four;
            Vector128<int> w3 = w2 + four;
            uint s1 = (uint)Vector128.Sum((a0 + a1) + (a2 + a3));
            uint positional = (16u * (uint)Vector128.Sum(weightedChunks)) + (uint)Vector128.Sum((a0 * w0) + (a1 * w1) + (a2 * w2) + (a3 * w3));
            return (s1, ((uint)n * s1) - positional, chunks * 16);
        }
    }
}
