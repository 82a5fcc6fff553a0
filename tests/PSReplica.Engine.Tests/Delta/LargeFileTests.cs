using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Tests.Delta;

/// <summary>Files over 4 GiB: block indexes, offsets and lengths must not wrap at 32 bits anywhere between the
/// signature, the search and the patch writer. The data is generated on the fly (and a basis on disk is sparse),
/// so the test reads gigabytes but writes almost nothing.</summary>
public sealed class LargeFileTests
{
    private const long FiveGiB = 5L << 30;

    [Fact]
    public void A_five_GiB_file_with_an_edit_past_4_GiB_sends_only_the_edit()
    {
        long editAt = (9L << 29) + 12_345; // 4.5 GiB and a bit, inside a block
        const int EditLength = 1000;
        const int Appended = 100;
        Signature signature = SignatureBuilder.Build(new GeneratedStream(FiveGiB), FiveGiB, null, default);
        int block = signature.BlockLength;
        Assert.Equal(FiveGiB, signature.FileLength);
        Assert.True((long)signature.Count * block >= FiveGiB);

        var target = new GeneratedStream(FiveGiB + Appended, editAt, EditLength);
        var sink = new PositionCheckingSink(block);
        DeltaResult result = new DeltaMatcher(signature).Run(target, sink, default);

        Assert.Equal(FiveGiB + Appended, result.Length);
        Assert.Equal(result.Length, sink.Position);
        // The edit touches at most two blocks; everything else is a copy of the block at the same offset.
        Assert.InRange(result.LiteralBytes, EditLength + Appended, (2L * block) + Appended);
        Assert.Equal(result.Length - result.LiteralBytes, result.MatchedBytes);
        Assert.True(sink.HighestCopiedOffset > uint.MaxValue, "no block beyond 4 GiB was copied");
        Assert.Equal(0, sink.MisplacedCopies);
    }

    [Fact]
    public void The_patch_writer_copies_a_block_that_lies_beyond_4_GiB_of_its_basis()
    {
        string directory = Path.Combine(Path.GetTempPath(), "psreplica-large-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            const int Block = 65536;
            long blockIndex = (9L << 29) / Block; // the block at 4.5 GiB
            var payload = new byte[Block];
            new Random(5).NextBytes(payload);
            string basisPath = Path.Combine(directory, "basis");
            using (SafeFileHandle basis = File.OpenHandle(basisPath, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                RandomAccess.SetLength(basis, FiveGiB); // sparse: nothing but the payload is written
                RandomAccess.Write(basis, payload, blockIndex * Block);
            }

            string outputPath = Path.Combine(directory, "output");
            using (SafeFileHandle basis = File.OpenHandle(basisPath))
            using (SafeFileHandle output = File.OpenHandle(outputPath, FileMode.CreateNew, FileAccess.ReadWrite))
            using (var writer = new PatchWriter(basis, FiveGiB, Block, output, Block + 3))
            {
                writer.Literal("abc"u8);
                writer.Copy(checked((int)blockIndex), 1);
                Assert.Equal(Block, writer.MatchedBytes);
                Assert.Throws<SyncException>(() => writer.Copy(checked((int)(FiveGiB / Block)), 1)); // one past the last block
            }

            byte[] written = File.ReadAllBytes(outputPath);
            Assert.Equal([.. "abc"u8.ToArray(), .. payload], written);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Checks that every copied run sits at the same offset in the target as in the basis (true of this
    /// target, which only has bytes edited in place and some appended), without storing any data.</summary>
    private sealed class PositionCheckingSink(int blockLength) : IDeltaSink
    {
        public long Position { get; private set; }

        public long HighestCopiedOffset { get; private set; }

        public int MisplacedCopies { get; private set; }

        public void Literal(ReadOnlySpan<byte> data) => Position += data.Length;

        public void Copy(int firstBlock, int blockCount)
        {
            long offset = (long)firstBlock * blockLength;
            if (offset != Position)
            {
                MisplacedCopies++;
            }

            long length = Math.Min((long)blockCount * blockLength, FiveGiB - offset);
            HighestCopiedOffset = Math.Max(HighestCopiedOffset, offset + length - 1);
            Position += length;
        }
    }

    /// <summary>A read-only stream of <c>length</c> bytes: zeros, except that every 4 KiB starts with its own offset
    /// (so every block differs from every other), an optional stretch of 0xA5 bytes standing for an edit, and
    /// 0x5A bytes past 5 GiB standing for appended data.</summary>
    private sealed class GeneratedStream(long length, long editAt = -1, int editLength = 0) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _position);
            Span<byte> span = buffer[..n];
            span.Clear();
            // Headers may straddle two reads: each read writes the part of a header that falls inside it.
            Span<byte> header = stackalloc byte[8];
            for (long at = _position & ~4095L; at < _position + n && at < FiveGiB; at += 4096)
            {
                BinaryPrimitives.WriteInt64LittleEndian(header, at + 1);
                long start = Math.Max(at, _position);
                long end = Math.Min(at + 8, _position + n);
                if (start < end)
                {
                    header[(int)(start - at)..(int)(end - at)].CopyTo(span[(int)(start - _position)..]);
                }
            }

            Fill(span, editAt, editAt + editLength, 0xA5);
            Fill(span, FiveGiB, length, 0x5A);
            _position += n;
            return n;
        }

        private void Fill(Span<byte> span, long from, long to, byte value)
        {
            long start = Math.Max(from, _position);
            long end = Math.Min(to, _position + span.Length);
            if (from >= 0 && start < end)
            {
                span[(int)(start - _position)..(int)(end - _position)].Fill(value);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
