using System.IO.Hashing;
using PSReplica.Engine.Client;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Metadata;
using PSReplica.Engine.Native;
using PSReplica.Engine.Scanning;

namespace PSReplica.Fuzz.Tests.Targets;

/// <summary>The bodies that follow a request: listing records (both entry codecs), the batch records, a signature (and the
/// delta search run over it, as the agent's ComputeDelta does), and the delta ops a receiver applies to its basis.</summary>
internal static class StreamTargets
{
    private const int BlockLength = 700;

    private static readonly byte[] s_batchHeader = new byte[BatchCodec.MaxHeader];
    private static readonly byte[] s_batchData = new byte[ProtocolLimits.MaxBatchFile + StrongHash.FullLength];
    private static readonly byte[] s_batchResult = new byte[BatchCodec.MaxResult];
    private static readonly Lazy<PatchFiles> s_patchFiles = new(() => new PatchFiles());

    /// <summary>The listing records' tags and the entry modes, for the mutator.</summary>
    private static readonly IReadOnlyList<byte[]> s_listingTokens =
    [
        "D"u8.ToArray(), "e"u8.ToArray(), "Z"u8.ToArray(), "X"u8.ToArray(), "F"u8.ToArray(), "A"u8.ToArray(), [0xed, 0x83, 0x01], [0xa4, 0x83, 0x02],
        [0xff, 0xc3, 0x02], [0x01, (byte)'/'], [0x02, (byte)'.', (byte)'.'], [0xff],
    ];

    public static FuzzTarget Listing { get; } = ListingTarget("listing", compact: false);

    public static FuzzTarget CompactListing { get; } = ListingTarget("listing-compact", compact: true);

    /// <summary>The first byte chooses the reader: 0 a WriteBatch body (the agent's side), 1 its results (the controller's),
    /// 2 a ReadBatch body (the agent's), 3 its answers (the controller's). The rest is the stream.</summary>
    public static FuzzTarget Batch { get; } = new()
    {
        Name = "batch",
        Tokens = [[0], [1], [2], [0xff, 0xff, 0xff, 0x7f], [0, 0, 0x10, 0]],
        IsClean = FuzzTarget.SyncErrors(ErrorIds.ProtocolViolation, ErrorIds.UnsafePath),
        Seeds = BatchSeeds,
        Run = input =>
        {
            if (input.Length == 0)
            {
                return;
            }

            var stream = new MemoryStream(input, 1, input.Length - 1, writable: false);
            switch (input[0] & 3)
            {
                case 0:
                    while (BatchCodec.ReadRecord(stream, s_batchHeader, s_batchData, out _))
                    {
                    }

                    break;
                case 1:
                    while (BatchCodec.ReadResult(stream, s_batchResult, out _, out _))
                    {
                    }

                    break;
                case 2:
                    while (BatchCodec.ReadPath(stream, s_batchHeader, out _))
                    {
                    }

                    break;
                default:
                    while (BatchCodec.ReadFileRead(stream, s_batchResult, out _, out _, out _))
                    {
                    }

                    break;
            }
        },
    };

    /// <summary>A ComputeDelta body: the signature is read, then the target file is searched against it.</summary>
    public static FuzzTarget Signature { get; } = new()
    {
        Name = "signature",
        IsClean = FuzzTarget.SyncErrors(ErrorIds.ProtocolViolation),
        Seeds = () =>
        [
            SignatureBytes(Basis(), BlockLength),
            SignatureBytes(Basis(), null),
            SignatureBytes(Basis().AsSpan(0, 100).ToArray(), 64),
            SignatureBytes([], null),
        ],
        Run = input =>
        {
            Signature signature = SignatureCodec.Read(new MemoryStream(input, writable: false));
            _ = new DeltaMatcher(signature).Run(new MemoryStream(Target(), writable: false), NullSink.Instance, CancellationToken.None);
        },
    };

    /// <summary>An ApplyDelta body, applied to a basis of five blocks (the last one short) as the receiver applies it, then
    /// verified against its end op.</summary>
    public static FuzzTarget Delta { get; } = new()
    {
        Name = "delta",
        Tokens = ["L"u8.ToArray(), "C"u8.ToArray(), "E"u8.ToArray(), [0x80, 0x80, 0x40], [0x04, 0x01]],
        IsClean = FuzzTarget.SyncErrors(ErrorIds.DeltaStreamInvalid, ErrorIds.DeltaVerificationFailed),
        Seeds = DeltaSeeds,
        Run = input =>
        {
            PatchFiles files = s_patchFiles.Value;
            using var writer = new PatchWriter(files.Basis, files.BasisLength, BlockLength, files.Output, 1 << 18);
            (long length, byte[] hash) = DeltaStream.Pump(new MemoryStream(input, writable: false), writer);
            writer.Verify(length, hash);
        },
    };

    private static FuzzTarget ListingTarget(string name, bool compact) => new()
    {
        Name = name,
        Tokens = s_listingTokens,
        IsClean = FuzzTarget.SyncErrors(ErrorIds.ProtocolViolation, ErrorIds.UnsafePath),
        Seeds = () =>
        [
            ListingBytes(compact, checksums: false, xattrs: false),
            ListingBytes(compact, checksums: true, xattrs: false),
            ListingBytes(compact, checksums: false, xattrs: true),
            ListingBytes(compact, checksums: true, xattrs: true),
        ],
        // The first byte holds the listing's options: bit 0 checksums, bit 1 extended attributes (user.*). The rest is one
        // data frame of a recursive listing of the root, which must be complete at its end.
        Run = input =>
        {
            if (input.Length == 0)
            {
                return;
            }

            var listing = new RemoteListing("/srv/data", withChecksums: (input[0] & 1) != 0, compact, (input[0] & 2) != 0 ? XattrScope.User : XattrScope.None);
            var validator = new ListingValidator(string.Empty, recursive: true);
            listing.Parse(input.AsSpan(1), validator, null);
            validator.Complete();
        },
    };

    private static byte[] ListingBytes(bool compact, bool checksums, bool xattrs)
    {
        var attributes = new ExtendedAttributeSet([("user.mime", "text/plain"u8.ToArray())]);
        ListingEntry Entry(string name, int mode, long size, uint nlink = 1, string? target = null, ulong inode = 0) =>
            new(name, new StatInfo(mode, nlink, 1000, 1000, inode == 0 ? (ulong)(100 + name.Length) : inode, size, 1_700_000_000 + size, 250, 2049), target)
            {
                Checksum = checksums && (mode & 0xF000) == 0x8000 ? (UInt128)size * 7919 : null,
                ListsExtendedAttributes = xattrs,
                ExtendedAttributes = xattrs ? attributes : null,
            };

        using var records = new WireWriter();
        if (xattrs)
        {
            records.Byte(ListingRecord.StartAttributes).Byte(1);
            attributes.Write(records);
        }

        var codec = new CompactListingCodec();
        void Directory(string path, params ListingEntry[] entries)
        {
            records.Byte(ListingRecord.DirectoryStart).String(path);
            using var body = new WireWriter();
            codec.Reset();
            foreach (ListingEntry entry in entries)
            {
                if (compact)
                {
                    codec.Write(body, entry);
                }
                else
                {
                    entry.Write(body);
                }
            }

            records.Byte(ListingRecord.Entries).UInt((uint)entries.Length).Bytes(body.Written);
            records.Byte(ListingRecord.DirectoryEnd);
        }

        Directory(string.Empty,
            Entry("a", 0x41ed, 0, 3),
            Entry("b-dir", 0x41ed, 0, 2),
            Entry("c.txt", 0x81a4, 12),
            Entry("d", 0xa1ff, 0, target: "c.txt"),
            Entry("e", 0x81a4, 40, 2, inode: 900),
            Entry("f", 0x81a4, 41, 2, inode: 900));
        records.Byte(ListingRecord.FilterFile).String("a/.rsync-filter").UInt(1).String("- *.o\n");
        Directory("a", Entry("x", 0x81a4, 3), Entry("y", 0x81ed, 0));
        records.Byte(ListingRecord.DirectoryError).String("b-dir");
        WireError.Write(records, new SyncException(ErrorIds.ScanError, SyncErrorKind.ReadError, "Permission denied.", "b-dir"));
        byte options = (byte)((checksums ? 1 : 0) | (xattrs ? 2 : 0));
        return [options, .. records.Written];
    }

    private static IEnumerable<byte[]> BatchSeeds()
    {
        byte[] data = "hello, world"u8.ToArray();
        using var writer = new WireWriter();
        var writes = new MemoryStream();
        writes.WriteByte(0);
        BatchCodec.WriteRecord(writes, writer, "a/b.txt", data, XxHash128.Hash(data), new AttributeSet(AttributeFields.Mode | AttributeFields.Time, 0x1a4, 0, 0, 1_700_000_000, 3));
        BatchCodec.WriteRecord(writes, writer, "c", [], XxHash128.Hash([]), AttributeSet.None);
        var results = new MemoryStream();
        results.WriteByte(1);
        BatchCodec.WriteSuccess(results, writer, 12);
        BatchCodec.WriteFailure(results, writer, new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError, "No space left on device.", "c"));
        var paths = new MemoryStream();
        paths.WriteByte(2);
        BatchCodec.WritePath(paths, writer, "a/b.txt");
        BatchCodec.WritePath(paths, writer, "c");
        var reads = new MemoryStream();
        reads.WriteByte(3);
        BatchCodec.WriteFileRead(reads, writer, data);
        BatchCodec.WriteTooLarge(reads, writer);
        BatchCodec.WriteFailure(reads, writer, new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, "Gone.", "c"));
        return [writes.ToArray(), results.ToArray(), paths.ToArray(), reads.ToArray()];
    }

    private static byte[] SignatureBytes(byte[] basis, int? blockLength)
    {
        Signature signature = SignatureBuilder.Build(new MemoryStream(basis), basis.Length, blockLength, CancellationToken.None);
        var output = new MemoryStream();
        SignatureCodec.Write(output, signature);
        return output.ToArray();
    }

    private static IEnumerable<byte[]> DeltaSeeds()
    {
        byte[] basis = Basis();
        byte[] target = Target();
        Signature signature = SignatureBuilder.Build(new MemoryStream(basis), basis.Length, BlockLength, CancellationToken.None);
        var matched = new MemoryStream();
        var sink = new DeltaStreamWriter(matched);
        DeltaResult result = new DeltaMatcher(signature).Run(new MemoryStream(target), sink, CancellationToken.None);
        sink.End(result.Length, result.WholeFileHash);

        var literal = new MemoryStream();
        var literalSink = new DeltaStreamWriter(literal);
        literalSink.Literal(target.AsSpan(0, 300));
        literalSink.Copy(4, 1);
        byte[] whole = [.. target.AsSpan(0, 300), .. basis.AsSpan(4 * BlockLength)];
        literalSink.End(whole.Length, XxHash128.Hash(whole));
        return [matched.ToArray(), literal.ToArray()];
    }

    /// <summary>Five blocks, the last one 200 bytes.</summary>
    private static byte[] Basis()
    {
        var bytes = new byte[(4 * BlockLength) + 200];
        new Random(12084).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The basis with a block changed, a few bytes inserted and the tail cut.</summary>
    private static byte[] Target()
    {
        byte[] basis = Basis();
        byte[] target = [.. basis.AsSpan(0, BlockLength), .. "inserted"u8, .. basis.AsSpan(BlockLength, 2 * BlockLength), .. new byte[BlockLength], .. basis.AsSpan(4 * BlockLength, 100)];
        return target;
    }

    private sealed class NullSink : IDeltaSink
    {
        public static NullSink Instance { get; } = new();

        public void Literal(ReadOnlySpan<byte> data)
        {
        }

        public void Copy(int firstBlock, int blockCount)
        {
        }
    }

    /// <summary>The basis and output files of the delta target, made once per process and removed when it ends.</summary>
    private sealed class PatchFiles
    {
        public PatchFiles()
        {
            string directory = Path.Combine(Path.GetTempPath(), "psreplica-fuzz-" + Environment.ProcessId);
            System.IO.Directory.CreateDirectory(directory);
            byte[] basis = Basis();
            string basisPath = Path.Combine(directory, "basis");
            File.WriteAllBytes(basisPath, basis);
            Basis = File.OpenHandle(basisPath);
            BasisLength = basis.Length;
            Output = File.OpenHandle(Path.Combine(directory, "output"), FileMode.Create, FileAccess.ReadWrite);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                Basis.Dispose();
                Output.Dispose();
                System.IO.Directory.Delete(directory, recursive: true);
            };
        }

        public Microsoft.Win32.SafeHandles.SafeFileHandle Basis { get; }

        public long BasisLength { get; }

        public Microsoft.Win32.SafeHandles.SafeFileHandle Output { get; }
    }
}
