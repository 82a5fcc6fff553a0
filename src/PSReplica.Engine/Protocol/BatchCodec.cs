using System.Buffers.Binary;
using System.IO.Hashing;
using PSReplica.Engine.Delta;

namespace PSReplica.Engine.Protocol;

/// <summary>The bodies and answers of the batch requests. Every record starts with a 4-byte little-endian length, checked
/// against its bound before anything is read into memory.
/// WriteBatch: the body is a run of records, one per file: the header (path, length, attributes), the file's bytes and
/// their XXH3-128; the answer carries one result per record, in the same order: 0 and the bytes written, or 1 and the
/// error (as an error frame carries it).
/// ReadBatch: the body is a run of paths; the answer carries one record per path, in the same order: 0 and the length,
/// followed by the file's bytes and their XXH3-128; 1 and the error; or 2 when the file is now larger than a batch
/// carries (the controller reads it on its own).</summary>
internal static class BatchCodec
{
    /// <summary>A header: a path of at most PATH_MAX bytes, the length and the attributes (a few varints, and with
    /// capability xattrs an extended attribute set).</summary>
    public const int MaxHeader = ProtocolLimits.MaxPathBytes + 128 + Metadata.ExtendedAttributeSet.MaxEncodedBytes;

    /// <summary>A result: the status and an error's id, kind, message and target.</summary>
    public const int MaxResult = (2 * ProtocolLimits.MaxMessageBytes) + 256;

    private const byte Succeeded = 0;
    private const byte Failed = 1;
    private const byte TooLarge = 2;

    /// <summary>A ReadBatch answer's header for one file.</summary>
    public enum ReadOutcome
    {
        Read,
        Failed,
        TooLarge,
    }

    /// <summary>One file of the body as read by the agent (its bytes and hash are in the buffer given to <see cref="ReadRecord"/>).</summary>
    public readonly record struct Record(string Path, int Length, AttributeSet Attributes);

    public static void WriteRecord(Stream output, WireWriter header, string path, ReadOnlySpan<byte> data, ReadOnlySpan<byte> hash, AttributeSet attributes)
    {
        header.Reset();
        header.String(path).UInt((ulong)data.Length);
        attributes.Write(header);
        Span<byte> prefix = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, header.Length);
        output.Write(prefix);
        output.Write(header.Written);
        output.Write(data);
        output.Write(hash);
    }

    /// <summary>Reads the next record into <paramref name="data"/> (at least <see cref="ProtocolLimits.MaxBatchFile"/>
    /// + 16 bytes: the file, then its hash); false at the end of the body.</summary>
    /// <exception cref="SyncException">ProtocolViolation: a record cut short, a length over its bound, an unsafe path.</exception>
    public static bool ReadRecord(Stream input, byte[] header, byte[] data, out Record record)
    {
        record = default;
        if (!TryReadPrefixed(input, header, MaxHeader, "a WriteBatch header", out WireReader reader))
        {
            return false;
        }

        string path = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false);
        int fileLength = reader.Int32(ProtocolLimits.MaxBatchFile);
        AttributeSet attributes = AttributeSet.Read(ref reader);
        reader.ExpectEnd();
        ReadExactly(input, data.AsSpan(0, fileLength + StrongHash.FullLength));
        record = new Record(path, fileLength, attributes);
        return true;
    }

    public static void WriteSuccess(Stream output, WireWriter result, long written)
    {
        result.Reset();
        result.Byte(Succeeded).UInt((ulong)written);
        WritePrefixed(output, result);
    }

    public static void WriteFailure(Stream output, WireWriter result, SyncException error)
    {
        result.Reset();
        result.Byte(Failed);
        WireError.Write(result, error);
        WritePrefixed(output, result);
    }

    /// <summary>Reads the next result: the bytes written, or the agent's error; false at the end of the answer.</summary>
    public static bool ReadResult(Stream input, byte[] buffer, out long written, out SyncException? error)
    {
        written = 0;
        error = null;
        if (!TryReadPrefixed(input, buffer, MaxResult, "a WriteBatch result", out WireReader reader))
        {
            return false;
        }

        switch (reader.Byte())
        {
            case Succeeded:
                written = reader.Int64(ProtocolLimits.MaxBatchFile);
                break;
            case Failed:
                error = WireError.Read(ref reader, "agent");
                break;
            default:
                throw ProtocolFault.Violation("a WriteBatch result of an unknown kind");
        }

        reader.ExpectEnd();
        return true;
    }

    public static void WritePath(Stream output, WireWriter message, string path)
    {
        message.Reset();
        message.String(path);
        WritePrefixed(output, message);
    }

    /// <summary>Reads the next path of a ReadBatch body; false at its end.</summary>
    /// <exception cref="SyncException">ProtocolViolation or UnsafePath.</exception>
    public static bool ReadPath(Stream input, byte[] buffer, out string path)
    {
        path = string.Empty;
        if (!TryReadPrefixed(input, buffer, MaxHeader, "a ReadBatch path", out WireReader reader))
        {
            return false;
        }

        path = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false);
        reader.ExpectEnd();
        return true;
    }

    /// <summary>A file read for a ReadBatch: its length, bytes and XXH3-128.</summary>
    public static void WriteFileRead(Stream output, WireWriter message, ReadOnlySpan<byte> data)
    {
        message.Reset();
        message.Byte(Succeeded).UInt((ulong)data.Length);
        WritePrefixed(output, message);
        output.Write(data);
        Span<byte> hash = stackalloc byte[StrongHash.FullLength];
        XxHash128.Hash(data, hash);
        output.Write(hash);
    }

    public static void WriteTooLarge(Stream output, WireWriter message)
    {
        message.Reset();
        message.Byte(TooLarge);
        WritePrefixed(output, message);
    }

    /// <summary>Reads the answer for the next file of a ReadBatch: its bytes (verified against their XXH3-128), the
    /// agent's error, or word that it is too large now; false at the end of the answer.</summary>
    public static bool ReadFileRead(Stream input, byte[] buffer, out ReadOutcome outcome, out byte[]? data, out SyncException? error)
    {
        outcome = ReadOutcome.Failed;
        data = null;
        error = null;
        if (!TryReadPrefixed(input, buffer, MaxResult, "a ReadBatch answer", out WireReader reader))
        {
            return false;
        }

        switch (reader.Byte())
        {
            case Succeeded:
                int fileLength = reader.Int32(ProtocolLimits.MaxBatchFile);
                reader.ExpectEnd();
                data = new byte[fileLength];
                ReadExactly(input, data);
                Span<byte> hash = stackalloc byte[StrongHash.FullLength];
                ReadExactly(input, hash);
                outcome = ReadOutcome.Read;
                if (!XxHash128.Hash(data).AsSpan().SequenceEqual(hash))
                {
                    // The stream stays in step: this file alone failed.
                    (outcome, data, error) = (ReadOutcome.Failed, null, new SyncException(ErrorIds.DeltaVerificationFailed, SyncErrorKind.ReadError,
                        "A file did not arrive as the agent sent it (checksum mismatch)."));
                }

                return true;
            case Failed:
                error = WireError.Read(ref reader, "agent");
                break;
            case TooLarge:
                outcome = ReadOutcome.TooLarge;
                break;
            default:
                throw ProtocolFault.Violation("a ReadBatch answer of an unknown kind");
        }

        reader.ExpectEnd();
        return true;
    }

    /// <summary>Reads <paramref name="handle"/> from its start into <paramref name="buffer"/> until the end of the file
    /// or of the buffer; a file that fills the buffer may hold more.</summary>
    public static int ReadWhole(SafeFileHandle handle, byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer.AsSpan(total), total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private static void WritePrefixed(Stream output, WireWriter message)
    {
        Span<byte> prefix = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, message.Length);
        output.Write(prefix);
        output.Write(message.Written);
    }

    /// <summary>A record's length prefix; -1 when the stream ends cleanly before it.</summary>
    /// <summary>Reads the next length-prefixed record (at most <paramref name="max"/> bytes) into <paramref name="buffer"/>
    /// and opens a reader on it; false at the end of the body.</summary>
    private static bool TryReadPrefixed(Stream input, byte[] buffer, int max, string what, out WireReader reader)
    {
        reader = default;
        int length = ReadPrefix(input, max, what);
        if (length < 0)
        {
            return false;
        }

        ReadExactly(input, buffer.AsSpan(0, length));
        reader = new WireReader(buffer.AsSpan(0, length));
        return true;
    }

    private static int ReadPrefix(Stream input, int max, string what)
    {
        Span<byte> prefix = stackalloc byte[4];
        int first = input.Read(prefix);
        if (first == 0)
        {
            return -1;
        }

        ReadExactly(input, prefix[first..]);
        int length = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        return length is > 0 && length <= max ? length : throw ProtocolFault.Violation($"{what} of {length} bytes");
    }

    private static void ReadExactly(Stream input, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = input.Read(buffer);
            if (n == 0)
            {
                throw ProtocolFault.Violation("a WriteBatch stream that ends inside a record");
            }

            buffer = buffer[n..];
        }
    }
}
