using System.Buffers;
using System.IO.Hashing;

namespace PSReplica.Engine.Delta;

/// <summary>The receiver's side of a delta: writes the new file from literal data and copies of basis blocks,
/// checking every block index and length against the basis before use, and the whole-file checksum at the end.</summary>
internal sealed class PatchWriter : IDeltaSink, IDisposable
{
    private const int CopyBuffer = 1 << 20;

    private readonly SafeFileHandle? _basis;
    private readonly long _basisLength;
    private readonly int _blockLength;
    private readonly int _blockCount;
    private readonly SafeFileHandle _output;
    private readonly long _maxLength;
    private readonly bool _sparse;
    private readonly XxHash128 _hash = new();
    private readonly WriteBehindFile? _behind;
    private byte[]? _buffer;

    /// <param name="maxLength">The length the sender announced; writing past it is a protocol violation.</param>
    /// <param name="sparse">-Sparse: blocks of zeros, literal or copied, become holes (<paramref name="output"/> is new and
    /// empty) and <see cref="Verify"/> gives the file its length.</param>
    /// <param name="writeBehind">Write on a thread of its own (<see cref="WriteBehindFile"/>) while this one reads and
    /// hashes the next ops' data: for a large new file on a receiver that has a core to spare. Not with
    /// <paramref name="sparse"/>, whose writes look at the data.</param>
    /// <param name="writeBehindBuffer">The write-behind's buffer size (tests make it small).</param>
    public PatchWriter(SafeFileHandle? basis, long basisLength, int blockLength, SafeFileHandle output, long maxLength, bool sparse = false,
        bool writeBehind = false, int writeBehindBuffer = WriteBehindFile.DefaultBufferBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockLength, 1);
        _basis = basis;
        _basisLength = basis is null ? 0 : basisLength;
        _blockLength = blockLength;
        _blockCount = (int)Math.Min(int.MaxValue, (_basisLength + blockLength - 1) / blockLength);
        _output = output;
        _maxLength = maxLength;
        _sparse = sparse;
        _behind = writeBehind && !sparse ? new WriteBehindFile(output, writeBehindBuffer) : null;
    }

    /// <summary>Whether a file of <paramref name="length"/> bytes is worth a writer thread: several of its buffers.</summary>
    public static bool WorthWritingBehind(long length) => length >= 4L * WriteBehindFile.DefaultBufferBytes;

    public long Written { get; private set; }

    public long LiteralBytes { get; private set; }

    public long MatchedBytes { get; private set; }

    public void Literal(ReadOnlySpan<byte> data)
    {
        Reserve(data.Length);
        if (_behind is { } behind)
        {
            for (ReadOnlySpan<byte> rest = data; !rest.IsEmpty;)
            {
                Span<byte> room = behind.GetSpan();
                int n = Math.Min(rest.Length, room.Length);
                rest[..n].CopyTo(room);
                behind.Advance(n);
                rest = rest[n..];
            }
        }
        else
        {
            Write(data);
        }

        _hash.Append(data);
        Written += data.Length;
        LiteralBytes += data.Length;
    }

    public void Copy(int firstBlock, int blockCount)
    {
        if (firstBlock < 0 || blockCount < 1 || (long)firstBlock + blockCount > _blockCount)
        {
            throw Invalid($"copy of blocks {firstBlock}..{(long)firstBlock + blockCount - 1} is outside the basis's {_blockCount} blocks");
        }

        long offset = (long)firstBlock * _blockLength;
        long length = Math.Min((long)blockCount * _blockLength, _basisLength - offset);
        Reserve(length);
        while (length > 0)
        {
            // Behind, a basis block is read straight into the buffer that is written, while the one before is written.
            Span<byte> room = _behind is { } behind ? behind.GetSpan() : (_buffer ??= ArrayPool<byte>.Shared.Rent(CopyBuffer));
            int chunk = (int)Math.Min(Math.Min(room.Length, CopyBuffer), length);
            int read = RandomAccess.Read(_basis!, room[..chunk], offset);
            if (read <= 0)
            {
                throw Invalid("the basis file became shorter during the transfer");
            }

            ReadOnlySpan<byte> data = room[..read];
            _hash.Append(data);
            if (_behind is not null)
            {
                _behind.Advance(read);
            }
            else
            {
                Write(data);
            }

            Written += read;
            MatchedBytes += read;
            offset += read;
            length -= read;
        }
    }

    /// <summary>Checks the result against the sender's length and whole-file checksum.</summary>
    public void Verify(long expectedLength, ReadOnlySpan<byte> expectedHash)
    {
        // Every write done (or its failure thrown) before the file is judged, and so before it is renamed into place.
        _behind?.Complete();
        if (_sparse)
        {
            Execution.SparseFiles.End(_output, Written);
        }

        Span<byte> actual = stackalloc byte[StrongHash.FullLength];
        _hash.GetCurrentHash(actual);
        if (Written != expectedLength || !actual.SequenceEqual(expectedHash))
        {
            throw new SyncException(ErrorIds.DeltaVerificationFailed, SyncErrorKind.WriteError,
                $"The rebuilt file does not match the sender's checksum ({Written} of {expectedLength} bytes).");
        }
    }

    public void Dispose()
    {
        _behind?.Dispose();
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private void Write(ReadOnlySpan<byte> data)
    {
        if (_sparse)
        {
            Execution.SparseFiles.Write(_output, data, Written);
        }
        else
        {
            RandomAccess.Write(_output, data, Written);
        }
    }

    private void Reserve(long length)
    {
        if (Written + length > _maxLength)
        {
            throw Invalid($"the delta writes past the announced length of {_maxLength} bytes");
        }
    }

    internal static SyncException Invalid(string what) =>
        new(ErrorIds.DeltaStreamInvalid, SyncErrorKind.InvalidOperation, "Invalid delta stream: " + what + ".");
}
