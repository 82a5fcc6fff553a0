using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PSReplica.Engine.Delta;

/// <summary>The search's inner loop over changed data: rolls rsync's weak checksum one byte at a time and stops at the
/// first window whose value has its bit set in the matcher's filter (one bit per hash value, a superset of the basis's
/// weak sums). On unrelated data nearly every window misses, so this loop is where such a search spends its time.
/// The bit of a weak sum w is ((w * 2654435761) &gt;&gt; shift) in a bit array of 64-bit words, little-endian.</summary>
internal static class FilterSkim
{
    /// <summary>Windows checked per vector step.</summary>
    internal const int Lanes = 16;

    /// <summary>True when <see cref="Skim"/> checks 16 windows per step (AVX-512 with AVX2 gathers).</summary>
    internal static bool IsVectorised => Avx512F.IsSupported && Avx2.IsSupported;

    /// <summary>Rolls the window (<paramref name="window"/> bytes at <paramref name="position"/>, whose sums are
    /// <paramref name="s1"/> and <paramref name="s2"/>) forward while its filter bit is clear, up to
    /// <paramref name="limit"/> (exclusive; <c>limit - 1 + window</c> must be inside <paramref name="data"/>).
    /// Returns where it stopped, with the sums of that window; at <paramref name="limit"/> the bit is not checked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Skim(byte[] data, ulong[] filter, int filterShift, int position, int limit, int window, ref uint s1, ref uint s2)
    {
        if (IsVectorised && limit - position > Lanes)
        {
            return Vector(data, filter, filterShift, position, limit, window, ref s1, ref s2);
        }

        return Scalar(data, filter, filterShift, position, limit, window, ref s1, ref s2);
    }

    /// <summary>One window at a time. No bounds checks: every index is below limit + window, inside the buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int Scalar(byte[] data, ulong[] filter, int filterShift, int position, int limit, int window, ref uint s1, ref uint s2)
    {
        CheckRange(data, filter, filterShift, position, limit, window);
        unchecked
        {
            ref byte bytes = ref MemoryMarshal.GetArrayDataReference(data);
            ref ulong bits = ref MemoryMarshal.GetArrayDataReference(filter);
            uint a = s1;
            uint b = s2;
            uint length = (uint)window;
            while (position < limit)
            {
                uint bit = (((a & 0xffff) | (b << 16)) * 2654435761u) >> filterShift;
                if ((Unsafe.Add(ref bits, (int)(bit >> 6)) & (1UL << (int)bit)) != 0)
                {
                    break;
                }

                uint outgoing = (uint)(sbyte)Unsafe.Add(ref bytes, position);
                uint incoming = (uint)(sbyte)Unsafe.Add(ref bytes, position + window);
                a = a - outgoing + incoming;
                b = b - (length * outgoing) + a;
                position++;
            }

            s1 = a;
            s2 = b;
            return position;
        }
    }

    /// <summary>Sixteen windows per step. For the windows at p+1 .. p+16 (lane j is p+1+j), with d_k = in_k - out_k:
    /// s1 = s1(p) + prefix(d)_j and s2 = s2(p) + prefix(s1 - window*out)_j (inclusive prefix sums over the lanes, all
    /// mod 2^32), so only two scalar adds carry from one step to the next. Their filter words come from two
    /// AVX2 gathers. Falls back to the scalar loop for the last few windows before the limit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe int Vector(byte[] data, ulong[] filter, int filterShift, int position, int limit, int window, ref uint s1, ref uint s2)
    {
        CheckRange(data, filter, filterShift, position, limit, window);
        if (!IsVectorised)
        {
            return Scalar(data, filter, filterShift, position, limit, window, ref s1, ref s2);
        }

        unchecked
        {
            uint a = s1;
            uint b = s2;
            uint first = (((a & 0xffff) | (b << 16)) * 2654435761u) >> filterShift;
            if (position >= limit || (filter[(int)(first >> 6)] & (1UL << (int)first)) != 0)
            {
                return position;
            }

            fixed (byte* bytes = data)
            fixed (ulong* words = filter)
            {
                Vector512<int> zero = Vector512<int>.Zero;
                Vector512<int> length = Vector512.Create(window);
                Vector512<uint> golden = Vector512.Create(2654435761u);
                Vector512<uint> low16 = Vector512.Create(0xffffu);
                Vector512<uint> five = Vector512.Create(5u);
                Vector512<uint> thirtyOne = Vector512.Create(31u);
                Vector128<uint> shift = Vector128.CreateScalar((uint)filterShift);
                while (position + Lanes <= limit)
                {
                    Vector512<int> outgoing = Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)bytes + position));
                    Vector512<int> incoming = Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)bytes + position + window));
                    Vector512<int> ones = PrefixSum(incoming - outgoing, zero);
                    Vector512<int> carried = Vector512.Create((int)a);
                    Vector512<uint> sum1 = (carried + ones).AsUInt32();

                    // Lane j of twos is (j+1)*s1(p) + prefix(prefix(d) - window*out)_j: the carried s1 rides in the sum.
                    Vector512<int> twos = PrefixSum(sum1.AsInt32() - Avx512F.MultiplyLow(outgoing, length), zero);
                    Vector512<uint> sum2 = (Vector512.Create((int)b) + twos).AsUInt32();
                    Vector512<uint> weak = (sum1 & low16) | Avx512F.ShiftLeftLogical(sum2, 16);
                    Vector512<uint> bit = Avx512F.ShiftRightLogical(Avx512F.MultiplyLow(weak, golden), shift);
                    Vector512<int> word = Avx512F.ShiftRightLogicalVariable(bit, five).AsInt32();
                    Vector512<uint> loaded = Vector512.Create(
                        Avx2.GatherVector256((uint*)words, word.GetLower(), 4),
                        Avx2.GatherVector256((uint*)words, word.GetUpper(), 4));

                    // Move each window's bit to the top of its lane, where ExtractMostSignificantBits finds it.
                    Vector512<uint> top = Avx512F.ShiftLeftLogicalVariable(loaded, thirtyOne - (bit & thirtyOne));
                    uint hits = (uint)top.ExtractMostSignificantBits();
                    if (hits != 0)
                    {
                        int lane = BitOperations.TrailingZeroCount(hits);
                        s1 = sum1.GetElement(lane);
                        s2 = sum2.GetElement(lane);
                        return position + lane + 1;
                    }

                    b += (uint)twos.GetElement(Lanes - 1);
                    a += (uint)ones.GetElement(Lanes - 1);
                    position += Lanes;
                }
            }

            s1 = a;
            s2 = b;
        }

        return Scalar(data, filter, filterShift, position, limit, window, ref s1, ref s2);
    }

    /// <summary>Inclusive prefix sum across the 16 lanes: four shift-and-add steps (valignd brings in zeros).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> PrefixSum(Vector512<int> x, Vector512<int> zero)
    {
        x += Avx512F.AlignRight32(x, zero, 15);
        x += Avx512F.AlignRight32(x, zero, 14);
        x += Avx512F.AlignRight32(x, zero, 12);
        x += Avx512F.AlignRight32(x, zero, 8);
        return x;
    }

    /// <summary>Checks the caller's promises once per call, so that the loops can index without bounds checks.</summary>
    private static void CheckRange(byte[] data, ulong[] filter, int filterShift, int position, int limit, int window)
    {
        if (position < 0 || window < 1 || (limit > position && (long)limit - 1 + window >= data.Length)
            || filterShift < 1 || filterShift > 31 || (1L << (32 - filterShift)) > (long)filter.Length * 64)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), "The skim's range or filter does not fit its buffers.");
        }
    }
}
