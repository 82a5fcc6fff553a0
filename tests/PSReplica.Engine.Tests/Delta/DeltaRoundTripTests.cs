using System.IO.Hashing;
using CsCheck;

namespace PSReplica.Engine.Tests.Delta;

public sealed class DeltaRoundTripTests
{
    private enum EditKind
    {
        Insert,
        Delete,
        Replace,
        AlignedInsert,
        AlignedDelete,
        AlignedReplace,
        Append,
        Prepend,
        Duplicate,
        Truncate,
    }

    private sealed record Edit(EditKind Kind, int Where, int Length, byte[] Payload);

    /// <summary>A basis, a target made from it, and the block length forced on the signature (null: the heuristic).</summary>
    private sealed record Case(byte[] Basis, byte[] Target, int? BlockLength)
    {
        public override string ToString() => $"basis {Basis.Length} bytes, target {Target.Length} bytes, block {BlockLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "auto"}";
    }

    private static readonly Gen<int?> s_blockLength = Gen.Frequency(
        (3, Gen.Const((int?)null)),
        (2, Gen.Const((int?)8)),
        (2, Gen.Const((int?)16)),
        (2, Gen.Const((int?)700)),
        (1, Gen.Int[1, 64].Select(b => (int?)b)));

    /// <summary>0, 1, block-1, block, block+1, several blocks with and without a remainder, or anything up to 20 KB.</summary>
    private static Gen<int> LengthAround(int block) => Gen.Frequency(
        (1, Gen.Const(0)),
        (1, Gen.Const(1)),
        (1, Gen.Const(Math.Max(0, block - 1))),
        (1, Gen.Const(block)),
        (1, Gen.Const(block + 1)),
        (2, Gen.Int[2, Math.Max(2, 20_000 / block)].Select(n => n * block)),
        (2, Gen.Select(Gen.Int[2, Math.Max(2, 20_000 / block)], Gen.Int[1, Math.Max(1, block - 1)], (n, r) => (n * block) + r)),
        (3, Gen.Int[0, 20_000]));

    /// <summary>Random bytes; two symbols (many equal blocks and weak-checksum collisions); or all zeros.</summary>
    private static Gen<byte[]> Content(int length) => Gen.Frequency(
        (4, Gen.Byte.Array[length]),
        (2, Gen.Byte[0, 1].Array[length]),
        (1, Gen.Const(0).Select(_ => new byte[length])));

    private static readonly Gen<Edit> s_edit = Gen.Select(Gen.Enum<EditKind>(), Gen.Int[0, int.MaxValue], Gen.Int[0, 3000], Gen.Byte.Array[0, 800],
        (kind, where, length, payload) => new Edit(kind, where, length, payload));

    private static readonly Gen<Case> s_case =
        s_blockLength.SelectMany(blockLength =>
            LengthAround(blockLength ?? BlockSizing.MinBlockLength).SelectMany(Content).SelectMany(basis =>
                Gen.Frequency(
                    (8, s_edit.Array[0, 6].Select(edits => Apply(basis, edits, blockLength ?? BlockSizing.BlockLength(basis.Length)))),
                    (1, Gen.Const(0).Select(_ => basis)),
                    (1, LengthAround(blockLength ?? BlockSizing.MinBlockLength).SelectMany(Content)))
                .Select(target => new Case(basis, target, blockLength))));

    private static byte[] Sized(byte[] payload, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = payload.Length == 0 ? (byte)(i * 31) : payload[i % payload.Length];
        }

        return bytes;
    }

    private static byte[] Apply(byte[] basis, Edit[] edits, int block)
    {
        var data = new List<byte>(basis);
        foreach (Edit edit in edits)
        {
            int length = data.Count;
            int at = edit.Where % (length + 1);
            int aligned = edit.Where % ((length / block) + 1) * block;
            int blocks = block * (1 + (edit.Length % 3));
            switch (edit.Kind)
            {
                case EditKind.Insert:
                    data.InsertRange(at, edit.Payload);
                    break;
                case EditKind.Delete:
                    data.RemoveRange(at, Math.Min(edit.Length, length - at));
                    break;
                case EditKind.Replace:
                    for (int i = 0; i < edit.Payload.Length && at + i < length; i++)
                    {
                        data[at + i] = edit.Payload[i];
                    }

                    break;
                case EditKind.AlignedInsert:
                    data.InsertRange(aligned, Sized(edit.Payload, blocks));
                    break;
                case EditKind.AlignedDelete:
                    data.RemoveRange(aligned, Math.Min(blocks, length - aligned));
                    break;
                case EditKind.AlignedReplace:
                    byte[] replacement = Sized(edit.Payload, blocks);
                    for (int i = 0; i < replacement.Length && aligned + i < length; i++)
                    {
                        data[aligned + i] = replacement[i];
                    }

                    break;
                case EditKind.Append:
                    data.AddRange(edit.Payload);
                    break;
                case EditKind.Prepend:
                    data.InsertRange(0, edit.Payload);
                    break;
                case EditKind.Duplicate:
                    // Copies a range elsewhere: matches out of order and more than once.
                    int count = Math.Min(edit.Length, length - at);
                    byte[] range = data.GetRange(at, count).ToArray();
                    data.InsertRange(edit.Where / 7 % (length + 1), range);
                    break;
                case EditKind.Truncate:
                    data.RemoveRange(length - (edit.Length % (length + 1)), edit.Length % (length + 1));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(edits), edit.Kind, null);
            }
        }

        return data.ToArray();
    }

    /// <summary>What holds for every delta: the target comes back, the counts add up, the ops are well formed.
    /// With the short strong sums of small files (2 bytes, as rsync's first pass) a changed block can pass for a
    /// basis block; then the whole-file check must refuse the result, the ops must show such a false match, and a
    /// second pass with full strong sums (rsync's redo) must succeed.</summary>
    private static RoundTrip AssertRoundTrip(byte[] basis, byte[] target, int? blockLength, bool throughStream)
    {
        RoundTrip trip = DeltaHarness.Run(basis, target, blockLength, throughStream);
        if (!trip.Verified)
        {
            Assert.True(trip.Signature.StrongLength < StrongHash.FullLength);
            Assert.False(target.AsSpan().SequenceEqual(trip.Output), "a correct result was refused");
            AssertWellFormed(trip, target.Length);
            Assert.True(HasFalseMatch(basis, target, trip), "refused without a false block match: " + string.Join(' ', trip.Ops));
            trip = DeltaHarness.Run(basis, target, blockLength, throughStream, fullStrongSums: true);
            Assert.True(trip.Verified, "refused with full strong sums");
        }

        Assert.True(target.AsSpan().SequenceEqual(trip.Output), "the patched file differs from the target");
        Assert.Equal(target.Length, trip.Result.Length);
        Assert.Equal(XxHash128.Hash(target), trip.Result.WholeFileHash);
        Assert.Equal(target.Length, trip.Result.LiteralBytes + trip.Result.MatchedBytes);
        Assert.Equal(trip.Result.LiteralBytes, trip.WriterLiteralBytes);
        Assert.Equal(trip.Result.MatchedBytes, trip.WriterMatchedBytes);
        AssertWellFormed(trip, target.Length);
        return trip;
    }

    private static void AssertWellFormed(RoundTrip trip, long targetLength)
    {
        Assert.Equal(targetLength, trip.Result.LiteralBytes + trip.Result.MatchedBytes);
        Signature signature = trip.Signature;
        long literal = 0;
        long matched = 0;
        DeltaOp? previous = null;
        foreach (DeltaOp op in trip.Ops)
        {
            if (op.IsCopy)
            {
                Assert.True(op.BlockCount >= 1 && op.FirstBlock >= 0 && op.FirstBlock + op.BlockCount <= signature.Count, op.ToString());
                for (int i = op.FirstBlock; i < op.FirstBlock + op.BlockCount; i++)
                {
                    matched += signature.LengthOf(i);
                }

                // Runs are coalesced: two copies in a row never continue one another.
                Assert.False(previous is { IsCopy: true } p && p.FirstBlock + p.BlockCount == op.FirstBlock, $"{previous} then {op} not coalesced");
            }
            else
            {
                Assert.NotEmpty(op.Data!);
                literal += op.Data!.Length;
            }

            previous = op;
        }

        Assert.Equal(trip.Result.LiteralBytes, literal);
        Assert.Equal(trip.Result.MatchedBytes, matched);
    }

    /// <summary>Whether some copy op put basis bytes where the target has other bytes.</summary>
    private static bool HasFalseMatch(byte[] basis, byte[] target, RoundTrip trip)
    {
        long at = 0;
        foreach (DeltaOp op in trip.Ops)
        {
            if (!op.IsCopy)
            {
                at += op.Data!.Length;
                continue;
            }

            for (int i = op.FirstBlock; i < op.FirstBlock + op.BlockCount; i++)
            {
                int length = trip.Signature.LengthOf(i);
                if (!basis.AsSpan((int)trip.Signature.OffsetOf(i), length).SequenceEqual(target.AsSpan((int)at, length)))
                {
                    return true;
                }

                at += length;
            }
        }

        return false;
    }

    [Fact]
    public void Patching_with_the_matchers_ops_rebuilds_the_target()
    {
        int mixed = 0;
        s_case.Sample(c =>
        {
            RoundTrip trip = AssertRoundTrip(c.Basis, c.Target, c.BlockLength, throughStream: false);
            if (trip.Result.LiteralBytes > 0 && trip.Result.MatchedBytes > 0)
            {
                Interlocked.Increment(ref mixed);
            }
        }, iter: 400);

        // The generator is worth something only if most targets mix copies and literals.
        Assert.True(mixed >= 100, $"only {mixed} of 400 deltas mixed copies and literals");
    }

    [Fact]
    public void Patching_through_the_delta_stream_rebuilds_the_target()
    {
        s_case.Sample(c => AssertRoundTrip(c.Basis, c.Target, c.BlockLength, throughStream: true), iter: 400);
    }

    [Fact]
    public void Identical_files_are_one_copy_and_no_literal()
    {
        s_blockLength.SelectMany(blockLength =>
                LengthAround(blockLength ?? BlockSizing.MinBlockLength).SelectMany(Content).Select(basis => (basis, blockLength)))
            .Sample(pair =>
            {
                (byte[] basis, int? blockLength) = pair;
                foreach (bool throughStream in new[] { false, true })
                {
                    RoundTrip trip = AssertRoundTrip(basis, basis, blockLength, throughStream);
                    Assert.Equal(0, trip.Result.LiteralBytes);
                    if (basis.Length == 0)
                    {
                        Assert.Empty(trip.Ops);
                    }
                    else
                    {
                        DeltaOp op = Assert.Single(trip.Ops);
                        Assert.Equal(DeltaOp.Copy(0, trip.Signature.Count), op);
                    }
                }
            }, iter: 150);
    }

    [Fact]
    public void Inserting_100_bytes_at_the_front_costs_at_most_100_bytes_and_a_block()
    {
        Gen.Select(s_blockLength, Gen.Int[1, 30_000], Gen.Byte.Array[100]).SelectMany((blockLength, length, prefix) =>
                Gen.Byte.Array[length].Select(basis => (basis, prefix, blockLength)))
            .Sample(triple =>
            {
                (byte[] basis, byte[] prefix, int? blockLength) = triple;
                byte[] target = [.. prefix, .. basis];
                RoundTrip trip = AssertRoundTrip(basis, target, blockLength, throughStream: false);
                Assert.True(trip.Result.LiteralBytes <= 100 + trip.Signature.BlockLength,
                    $"{trip.Result.LiteralBytes} literal bytes with blocks of {trip.Signature.BlockLength}");
            }, iter: 100);
    }

    [Fact]
    public void Inserting_100_bytes_at_the_front_of_a_large_file_sends_only_them()
    {
        var random = new Random(100);
        var basis = new byte[3 << 20];
        random.NextBytes(basis);
        var prefix = new byte[100];
        random.NextBytes(prefix);
        RoundTrip trip = AssertRoundTrip(basis, [.. prefix, .. basis], blockLength: null, throughStream: true);
        Assert.Equal(100, trip.Result.LiteralBytes);
        Assert.Equal(2, trip.Ops.Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(700)]
    [InlineData(4096)]
    public void An_unrelated_target_is_all_literal(int? blockLength)
    {
        var random = new Random(blockLength ?? 1);
        var basis = new byte[200_000];
        var target = new byte[150_001];
        random.NextBytes(basis);
        random.NextBytes(target);
        foreach (bool throughStream in new[] { false, true })
        {
            RoundTrip trip = AssertRoundTrip(basis, target, blockLength, throughStream);
            Assert.Equal(target.Length, trip.Result.LiteralBytes);
            Assert.Equal(0, trip.Result.MatchedBytes);
            Assert.DoesNotContain(trip.Ops, op => op.IsCopy);
        }
    }

    [Fact]
    public void An_empty_basis_sends_everything_as_literal()
    {
        Gen.Select(s_blockLength, Gen.Byte.Array[0, 20_000]).Sample((blockLength, target) =>
        {
            RoundTrip trip = AssertRoundTrip([], target, blockLength, throughStream: true);
            Assert.Equal(target.Length, trip.Result.LiteralBytes);
        }, iter: 50);
    }

    [Fact]
    public void An_empty_target_is_no_ops()
    {
        Gen.Select(s_blockLength, Gen.Byte.Array[0, 20_000]).Sample((blockLength, basis) =>
        {
            RoundTrip trip = AssertRoundTrip(basis, [], blockLength, throughStream: true);
            Assert.Empty(trip.Ops);
        }, iter: 50);
    }

    [Fact]
    public void Files_of_equal_blocks_round_trip_in_a_few_copies()
    {
        Gen.Select(Gen.OneOf(Gen.Const((int?)null), Gen.Const((int?)8), Gen.Const((int?)16), Gen.Const((int?)700)), Gen.Int[0, 40_000], Gen.Int[0, 40_000])
            .Sample((blockLength, basisExtra, targetLength) =>
            {
                int block = blockLength ?? BlockSizing.MinBlockLength;
                var basis = new byte[block + basisExtra];
                var target = new byte[targetLength];
                RoundTrip trip = AssertRoundTrip(basis, target, blockLength, throughStream: true);

                // Every full block of the target matches; only a tail shorter than a block can be literal.
                int fullBlocks = basis.Length / block;
                Assert.True(trip.Result.LiteralBytes < block, $"{trip.Result.LiteralBytes} literal bytes");
                int copies = 0;
                foreach (DeltaOp op in trip.Ops)
                {
                    copies += op.IsCopy ? 1 : 0;
                }

                Assert.True(copies <= (targetLength / (fullBlocks * block)) + 2, $"{copies} copies: {string.Join(' ', trip.Ops)}");
            }, iter: 150);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(8)]
    [InlineData(700)]
    [InlineData(1000)]
    [InlineData(3 << 19)]
    public void Round_trips_across_the_matchers_read_buffer(int? blockLength)
    {
        // The matcher reads 4 MiB at a time: edits near and across those boundaries, in a 10 MiB file.
        var random = new Random(blockLength ?? 0);
        var basis = new byte[10 << 20];
        random.NextBytes(basis);
        var edits = new List<Edit>();
        foreach (int near in new[] { 4 << 20, 8 << 20, (4 << 20) + 4321 })
        {
            var payload = new byte[random.Next(1, 3000)];
            random.NextBytes(payload);
            edits.Add(new Edit((EditKind)random.Next(0, 3), near - random.Next(0, 2000), random.Next(1, 5000), payload));
        }

        byte[] target = Apply(basis, [.. edits], blockLength ?? BlockSizing.BlockLength(basis.Length));
        RoundTrip trip = AssertRoundTrip(basis, target, blockLength, throughStream: true);
        Assert.True(trip.Result.LiteralBytes < 3 * (3000 + (2 * trip.Signature.BlockLength)), $"{trip.Result.LiteralBytes} literal bytes");
    }

    [Fact]
    public void A_target_read_a_few_bytes_at_a_time_gives_the_same_delta()
    {
        Gen.Select(s_case, Gen.Int[1, 4096], Gen.Int).Sample((c, maxRead, seed) =>
        {
            Signature signature = DeltaHarness.Sign(c.Basis, c.BlockLength);
            var whole = new RecordingSink();
            DeltaResult expected = DeltaHarness.Match(signature, c.Target, whole);
            var trickled = new RecordingSink();
            using var input = new TrickleStream(c.Target, maxRead, seed);
            DeltaResult actual = new DeltaMatcher(signature).Run(input, trickled, default);
            Assert.Equal(expected.Length, actual.Length);
            Assert.Equal(expected.LiteralBytes, actual.LiteralBytes);
            Assert.Equal(expected.WholeFileHash, actual.WholeFileHash);
            Assert.Equal(whole.Ops.Count, trickled.Ops.Count);
            for (int i = 0; i < whole.Ops.Count; i++)
            {
                DeltaOp a = whole.Ops[i];
                DeltaOp b = trickled.Ops[i];
                Assert.True(a.IsCopy == b.IsCopy && a.FirstBlock == b.FirstBlock && a.BlockCount == b.BlockCount
                    && (a.Data ?? []).AsSpan().SequenceEqual(b.Data ?? []), $"op {i}: {a} against {b}");
            }
        }, iter: 100);
    }

    [Fact]
    public void A_large_target_against_an_empty_basis_is_split_into_literals_the_receiver_accepts()
    {
        var target = new byte[(5 << 20) + 3];
        new Random(5).NextBytes(target);
        RoundTrip trip = AssertRoundTrip([], target, blockLength: null, throughStream: true);
        Assert.Equal(target.Length, trip.Result.LiteralBytes);
        Assert.All(trip.Ops, op => Assert.InRange(op.Data!.Length, 1, DeltaStream.MaxLiteral));
    }

    [Fact]
    public void A_false_block_match_is_caught_by_the_whole_file_check()
    {
        // A small file gets a 2-byte strong checksum, so a changed block with the same weak checksum and the same
        // first 16 bits of XXH3-128 is copied from the basis; only the whole-file hash can tell.
        const int Block = 700;
        var random = new Random(16);
        var basis = new byte[10 * Block];
        for (int i = 0; i < basis.Length; i++)
        {
            basis[i] = (byte)random.Next(0x20, 0x60);
        }

        Signature signature = DeltaHarness.Sign(basis, Block);
        Assert.Equal(2, signature.StrongLength);
        byte[] target = (byte[])basis.Clone();
        Span<byte> block = target.AsSpan(3 * Block, Block);
        Span<byte> strong = stackalloc byte[2];
        bool found = false;
        for (int i = 0; i < Block - 3 && !found; i++)
        {
            for (int j = i + 3; j < Block - 3 && !found; j++)
            {
                // +1, -2, +1 at i and at j keeps both s1 and s2 (a zero second difference).
                Perturb(block, i, 1);
                Perturb(block, j, 1);
                Assert.Equal(signature.Weak[3], RollingChecksum.Compute(block));
                StrongHash.Compute(block, strong);
                found = strong.SequenceEqual(signature.StrongOf(3));
                if (!found)
                {
                    Perturb(block, i, -1);
                    Perturb(block, j, -1);
                }
            }
        }

        Assert.True(found, "no collision found");
        Assert.False(target.AsSpan().SequenceEqual(basis));

        using var files = new PatchFiles(basis);
        using var patch = new PatchWriter(files.Basis, basis.Length, Block, files.Output, target.Length);
        DeltaResult result = DeltaHarness.Match(signature, target, patch);
        Assert.Equal(0, result.LiteralBytes);
        SyncException e = Assert.Throws<SyncException>(() => patch.Verify(result.Length, result.WholeFileHash));
        Assert.Equal(ErrorIds.DeltaVerificationFailed, e.ErrorId);
    }

    private static void Perturb(Span<byte> block, int at, int sign)
    {
        block[at] = (byte)(block[at] + sign);
        block[at + 1] = (byte)(block[at + 1] - (2 * sign));
        block[at + 2] = (byte)(block[at + 2] + sign);
    }

    [Fact]
    public void Short_strong_sums_on_low_entropy_data_give_false_matches_that_only_full_sums_avoid()
    {
        // Random(19): 2 KiB and 4 KiB of 0/1 bytes, 16-byte blocks, 2-byte strong sums. The matcher copies a block
        // that is not the target's, the whole-file check refuses the result every time (the search is deterministic),
        // and only a second pass with full strong sums rebuilds the file (DeltaCopier's redo pass).
        (byte[] basis, byte[] target) = DeltaHarness.FalseMatchPair();

        foreach (bool throughStream in new[] { false, true })
        {
            RoundTrip first = DeltaHarness.Run(basis, target, 16, throughStream);
            Assert.Equal(2, first.Signature.StrongLength);
            Assert.False(first.Verified);
            Assert.True(HasFalseMatch(basis, target, first));
            RoundTrip again = DeltaHarness.Run(basis, target, 16, throughStream);
            Assert.False(again.Verified);

            RoundTrip redo = DeltaHarness.Run(basis, target, 16, throughStream, fullStrongSums: true);
            Assert.True(redo.Verified);
            Assert.Equal(target, redo.Output);
        }
    }
}
