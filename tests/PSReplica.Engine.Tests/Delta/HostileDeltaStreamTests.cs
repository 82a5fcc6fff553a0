using System.IO.Hashing;

namespace PSReplica.Engine.Tests.Delta;

/// <summary>A receiver fed a hand-made or damaged delta: every bad number is refused before use (DESIGN.md, security invariant 4).</summary>
public sealed class HostileDeltaStreamTests : IDisposable
{
    private const int BlockLength = 700;

    // Five blocks, the last one 200 bytes.
    private static readonly byte[] s_basis = MakeBasis();

    private readonly PatchFiles _files = new(s_basis);

    public void Dispose() => _files.Dispose();

    private static byte[] MakeBasis()
    {
        var bytes = new byte[(4 * BlockLength) + 200];
        new Random(12084).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Builds a stream by hand: tags and bytes as given, numbers as LEB128.</summary>
    private sealed class Ops
    {
        private readonly List<byte> _bytes = [];

        public Ops Tag(byte tag)
        {
            _bytes.Add(tag);
            return this;
        }

        /// <summary>Unsigned LEB128, written here rather than with the engine's writer.</summary>
        public Ops Number(long value)
        {
            ulong v = (ulong)value;
            while (v >= 0x80)
            {
                _bytes.Add((byte)(v | 0x80));
                v >>= 7;
            }

            _bytes.Add((byte)v);
            return this;
        }

        public Ops Raw(params byte[] bytes)
        {
            _bytes.AddRange(bytes);
            return this;
        }

        public Ops Copy(long first, long count) => Tag(DeltaStream.CopyTag).Number(first).Number(count);

        public Ops Literal(byte[] data) => Tag(DeltaStream.LiteralTag).Number(data.Length).Raw(data);

        public Ops End(long length, byte[] hash) => Tag(DeltaStream.EndTag).Number(length).Raw(hash);

        public byte[] ToArray() => _bytes.ToArray();
    }

    private PatchWriter Writer(long maxLength = 1 << 24) => new(_files.Basis, s_basis.Length, BlockLength, _files.Output, maxLength);

    private (long Length, byte[] Hash) Pump(byte[] stream, long maxLength = 1 << 24)
    {
        using PatchWriter writer = Writer(maxLength);
        using var input = new MemoryStream(stream, writable: false);
        return DeltaStream.Pump(input, writer);
    }

    private void AssertInvalid(byte[] stream, long maxLength = 1 << 24)
    {
        SyncException e = Assert.Throws<SyncException>(() => Pump(stream, maxLength));
        Assert.Equal(ErrorIds.DeltaStreamInvalid, e.ErrorId);
    }

    private static byte[] Bytes(int length, byte value)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill(value);
        return bytes;
    }

    [Fact]
    public void A_well_formed_stream_is_accepted_and_verified()
    {
        byte[] literal = Bytes(30, 0x5A);
        byte[] expected = [.. s_basis.AsSpan(0, BlockLength), .. literal, .. s_basis.AsSpan(4 * BlockLength), .. s_basis.AsSpan(BlockLength, 3 * BlockLength)];
        byte[] stream = new Ops().Copy(0, 1).Literal(literal).Copy(4, 1).Copy(1, 3).End(expected.Length, XxHash128.Hash(expected)).ToArray();
        using PatchWriter writer = Writer(expected.Length);
        using var input = new MemoryStream(stream, writable: false);
        (long length, byte[] hash) = DeltaStream.Pump(input, writer);
        writer.Verify(length, hash);
        Assert.Equal(expected.Length, writer.Written);
        Assert.Equal(expected, _files.ReadOutput(expected.Length));
    }

    [Theory]
    [InlineData(5L, 1L)]
    [InlineData(6L, 1L)]
    [InlineData(int.MaxValue, 1L)]
    [InlineData((long)int.MaxValue + 1, 1L)]
    [InlineData(long.MaxValue, 1L)]
    public void A_copy_index_outside_the_basis_is_refused(long first, long count) =>
        AssertInvalid(new Ops().Copy(first, count).End(0, new byte[16]).ToArray());

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(4L, 0L)]
    public void A_copy_of_no_blocks_is_refused(long first, long count) =>
        AssertInvalid(new Ops().Copy(first, count).End(0, new byte[16]).ToArray());

    [Theory]
    [InlineData(0L, 6L)]
    [InlineData(3L, 3L)]
    [InlineData(4L, 2L)]
    [InlineData(1L, int.MaxValue)]
    [InlineData(int.MaxValue, int.MaxValue)]
    [InlineData(1L, (long)int.MaxValue + 1)]
    [InlineData(0L, long.MaxValue)]
    public void A_copy_running_past_the_end_of_the_basis_is_refused(long first, long count) =>
        AssertInvalid(new Ops().Copy(first, count).End(0, new byte[16]).ToArray());

    [Fact]
    public void A_copy_without_a_basis_is_refused()
    {
        using var writer = new PatchWriter(null, s_basis.Length, BlockLength, _files.Output, 1 << 20);
        using var input = new MemoryStream(new Ops().Copy(0, 1).End(0, new byte[16]).ToArray(), writable: false);
        SyncException e = Assert.Throws<SyncException>(() => DeltaStream.Pump(input, writer));
        Assert.Equal(ErrorIds.DeltaStreamInvalid, e.ErrorId);
    }

    // Ten LEB128 bytes: 70 bits, of which ulong.MaxValue (a negative long) is one reading.
    private static readonly byte[] s_tooLong = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];

    // Nine bytes whose last one still continues.
    private static readonly byte[] s_nineContinuing = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];

    [Fact]
    public void A_number_longer_than_63_bits_is_refused_wherever_it_is()
    {
        foreach (byte[] number in new[] { s_tooLong, s_nineContinuing })
        {
            AssertInvalid(new Ops().Tag(DeltaStream.CopyTag).Raw(number).Number(1).End(0, new byte[16]).ToArray());
            AssertInvalid(new Ops().Tag(DeltaStream.CopyTag).Number(0).Raw(number).End(0, new byte[16]).ToArray());
            AssertInvalid(new Ops().Tag(DeltaStream.LiteralTag).Raw(number).Raw(Bytes(16, 1)).End(0, new byte[16]).ToArray());
            AssertInvalid(new Ops().Tag(DeltaStream.EndTag).Raw(number).Raw(new byte[16]).ToArray());
        }
    }

    [Fact]
    public void The_largest_63_bit_number_is_read_but_refused_as_a_count()
    {
        byte[] max = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F];
        AssertInvalid(new Ops().Tag(DeltaStream.CopyTag).Raw(max).Number(1).End(0, new byte[16]).ToArray());
        AssertInvalid(new Ops().Tag(DeltaStream.CopyTag).Number(0).Raw(max).End(0, new byte[16]).ToArray());
        AssertInvalid(new Ops().Tag(DeltaStream.LiteralTag).Raw(max).Raw(Bytes(16, 1)).End(0, new byte[16]).ToArray());

        // As the end op's length it is only a claim: verification refuses it.
        (long length, byte[] hash) = Pump(new Ops().Tag(DeltaStream.EndTag).Raw(max).Raw(new byte[16]).ToArray());
        Assert.Equal(long.MaxValue, length);
        using PatchWriter writer = Writer();
        SyncException e = Assert.Throws<SyncException>(() => writer.Verify(length, hash));
        Assert.Equal(ErrorIds.DeltaVerificationFailed, e.ErrorId);
    }

    [Fact]
    public void Writing_a_negative_number_is_refused_by_the_sender() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DeltaStream.WriteNumber(Stream.Null, -1));

    [Theory]
    [InlineData(0L)]
    [InlineData(127L)]
    [InlineData(128L)]
    [InlineData(300L)]
    [InlineData(int.MaxValue)]
    [InlineData(long.MaxValue)]
    public void The_senders_numbers_are_unsigned_leb128(long value)
    {
        using var written = new MemoryStream();
        DeltaStream.WriteNumber(written, value);
        Assert.Equal(new Ops().Number(value).ToArray(), written.ToArray());
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(DeltaStream.MaxLiteral + 1L)]
    [InlineData(int.MaxValue)]
    [InlineData(long.MaxValue)]
    public void A_literal_of_no_bytes_or_more_than_the_maximum_is_refused(long length) =>
        AssertInvalid(new Ops().Tag(DeltaStream.LiteralTag).Number(length).Raw(Bytes(64, 7)).End(0, new byte[16]).ToArray());

    [Fact]
    public void A_literal_of_exactly_the_maximum_is_accepted()
    {
        byte[] literal = Bytes(DeltaStream.MaxLiteral, 0x33);
        (long length, _) = Pump(new Ops().Literal(literal).End(literal.Length, XxHash128.Hash(literal)).ToArray(), literal.Length);
        Assert.Equal(literal.Length, length);
    }

    [Fact]
    public void A_literal_past_the_announced_length_is_refused()
    {
        AssertInvalid(new Ops().Literal(Bytes(100, 1)).End(100, new byte[16]).ToArray(), maxLength: 99);
        AssertInvalid(new Ops().Literal(Bytes(60, 1)).Literal(Bytes(60, 2)).End(120, new byte[16]).ToArray(), maxLength: 100);
        AssertInvalid(new Ops().Literal(Bytes(1, 1)).End(1, new byte[16]).ToArray(), maxLength: 0);
    }

    [Fact]
    public void A_copy_past_the_announced_length_is_refused()
    {
        AssertInvalid(new Ops().Copy(0, 1).End(BlockLength, new byte[16]).ToArray(), maxLength: BlockLength - 1);
        AssertInvalid(new Ops().Copy(0, 5).End(s_basis.Length, new byte[16]).ToArray(), maxLength: s_basis.Length - 1);
        AssertInvalid(new Ops().Literal(Bytes(10, 1)).Copy(4, 1).End(210, new byte[16]).ToArray(), maxLength: 209);

        // The short last block counts with its real length.
        (long length, _) = Pump(new Ops().Literal(Bytes(10, 1)).Copy(4, 1).End(210, new byte[16]).ToArray(), maxLength: 210);
        Assert.Equal(210, length);
    }

    [Theory]
    [InlineData((byte)0x00)]
    [InlineData((byte)'l')]
    [InlineData((byte)'c')]
    [InlineData((byte)'X')]
    [InlineData((byte)0xFF)]
    public void An_unknown_op_is_refused(byte tag)
    {
        AssertInvalid(new Ops().Tag(tag).End(0, new byte[16]).ToArray());
        AssertInvalid(new Ops().Copy(0, 1).Tag(tag).Number(0).End(BlockLength, new byte[16]).ToArray());
    }

    [Fact]
    public void A_stream_without_an_end_op_is_refused()
    {
        AssertInvalid([]);
        AssertInvalid(new Ops().Copy(0, 5).ToArray());
        AssertInvalid(new Ops().Literal(Bytes(10, 1)).Copy(1, 2).ToArray());
    }

    [Fact]
    public void Every_truncation_of_a_valid_stream_is_refused()
    {
        // A real delta with copies, literals and an end op: the target is the basis with blocks reordered and edited.
        byte[] target = [.. s_basis.AsSpan(2 * BlockLength, BlockLength), .. Bytes(300, 9), .. s_basis.AsSpan(0, 2 * BlockLength), .. Bytes(5, 1), .. s_basis.AsSpan(4 * BlockLength)];
        Signature signature = DeltaHarness.Sign(s_basis, BlockLength);
        byte[] stream = DeltaHarness.Encode(signature, target, out DeltaResult result);
        Assert.Equal(target.Length - 305, result.MatchedBytes);

        (long length, byte[] hash) = Pump(stream, target.Length);
        Assert.Equal(target.Length, length);
        Assert.Equal(XxHash128.Hash(target), hash);

        for (int cut = 0; cut < stream.Length; cut++)
        {
            SyncException e = Assert.Throws<SyncException>(() => Pump(stream[..cut], target.Length));
            Assert.True(e.ErrorId == ErrorIds.DeltaStreamInvalid, $"cut at {cut} of {stream.Length}: {e.ErrorId}");
        }
    }

    [Fact]
    public void Verify_refuses_a_wrong_hash_or_a_wrong_length()
    {
        byte[] literal = Bytes(1000, 0x42);
        byte[] right = XxHash128.Hash(literal);
        byte[] wrong = (byte[])right.Clone();
        wrong[15] ^= 1;

        foreach ((long length, byte[] hash) in new[] { (1000L, wrong), (999L, right), (1001L, right), (0L, right), (1000L, new byte[16]) })
        {
            using PatchWriter writer = Writer();
            writer.Literal(literal);
            SyncException e = Assert.Throws<SyncException>(() => writer.Verify(length, hash));
            Assert.Equal(ErrorIds.DeltaVerificationFailed, e.ErrorId);
        }

        using PatchWriter good = Writer();
        good.Literal(literal);
        good.Verify(1000, right);
    }

    [Fact]
    public void A_basis_shorter_than_announced_is_refused()
    {
        // The basis changed under the receiver: the last block's bytes are gone.
        using var writer = new PatchWriter(_files.Basis, s_basis.Length + BlockLength, BlockLength, _files.Output, 1 << 20);
        using var input = new MemoryStream(new Ops().Copy(5, 1).End(BlockLength, new byte[16]).ToArray(), writable: false);
        SyncException e = Assert.Throws<SyncException>(() => DeltaStream.Pump(input, writer));
        Assert.Equal(ErrorIds.DeltaStreamInvalid, e.ErrorId);
    }
}
