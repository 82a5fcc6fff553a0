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
    private byte[]? _buffer;

    /// <param name="maxLength">The length the sender announced; writing past it is a protocol violation.</param>
    /// <param name="sparse">-Sparse: blocks of zeros, literal or copied, become holes (<paramref name="output"/> is new and
    /// empty) and <see cref="Verify"/> gives the file its length.</param>
    public PatchWriter(SafeFileHandle? basis, long basisLength, int blockLength, SafeFileHandle output, long maxLength, bool sparse = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockLength, 1);
        _basis = basis;
        _basisLength = basis is null ? 0 : basisLength;
        _blockLength = blockLength;
        _blockCount = (int)Math.Min(int.MaxValue, (_basisLength + blockLength - 1) / blockLength);
        _output = output;
        _maxLength = maxLength;
        _sparse = sparse;
    }

    public long Written { get; private set; }

    public long LiteralBytes { get; private set; }

    public long MatchedBytes { get; private set; }

    public void Literal(ReadOnlySpan<byte> data)
    {
        Reserve(data.Length);
        Write(data);
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
        _buffer ??= ArrayPool<byte>.Shared.Rent(CopyBuffer);
        while (length > 0)
        {
            int chunk = (int)Math.Min(_buffer.Length, length);
            int read = RandomAccess.Read(_basis!, _buffer.AsSpan(0, chunk), offset);
            if (read <= 0)
            {
                throw Invalid("the basis file became shorter during the transfer");
            }

            ReadOnlySpan<byte> data = _buffer.AsSpan(0, read);
            Write(data);
            _hash.Append(data);
            Written += read;
            MatchedBytes += read;
            offset += read;
            length -= read;
        }
    }

    /// <summary>Checks the result against the sender's length and whole-file checksum.</summary>
    public void Verify(long expectedLength, ReadOnlySpan<byte> expectedHash)
    {
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
