using System.Buffers;
using System.IO.Hashing;
using PSReplica.Engine.Delta;

namespace PSReplica.Engine.Execution;

/// <summary>-Inplace: applies a delta to the basis file itself. Everything at or after the write position still holds
/// the basis, so a matched block found there is safe to copy (a block already at its place is not written at all, as
/// rsync's --inplace skips it). A block whose basis bytes were already overwritten cannot be copied: rsync's sender
/// avoids such matches (match.c with updating_basis_file); here the writer notices them instead, so that any sender's
/// delta can be applied. A local run then takes those bytes from the source file (they are the target's bytes at the
/// same offset); on a push the controller's <see cref="InplaceDeltaGuard"/> has already turned such copies into data.</summary>
internal sealed class InplacePatchWriter : IDeltaSink, IDisposable
{
    private const int CopyBuffer = 1 << 20;

    private readonly SafeFileHandle _file;
    private readonly long _basisLength;
    private readonly int _blockLength;
    private readonly int _blockCount;
    private readonly SafeFileHandle? _source;
    private readonly XxHash128 _hash = new();

    private readonly OverwrittenRanges _dirty = new();
    private byte[]? _buffer;

    /// <param name="file">The destination file, open for reading and writing; it is also the basis.</param>
    /// <param name="source">The source file of a local run, read for the blocks that cannot be copied; null to refuse them.</param>
    public InplacePatchWriter(SafeFileHandle file, long basisLength, int blockLength, SafeFileHandle? source)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockLength, 1);
        _file = file;
        _basisLength = basisLength;
        _blockLength = blockLength;
        _blockCount = (int)Math.Min(int.MaxValue, (basisLength + blockLength - 1) / blockLength);
        _source = source;
    }

    public long Written { get; private set; }

    public long LiteralBytes { get; private set; }

    public long MatchedBytes { get; private set; }

    /// <summary>Bytes of matched blocks that were already at their place and so were not written.</summary>
    public long UnwrittenBytes { get; private set; }

    public void Literal(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        System.IO.RandomAccess.Write(_file, data, Written);
        _hash.Append(data);
        MarkDirty(Written, Written + data.Length);
        Written += data.Length;
        LiteralBytes += data.Length;
    }

    public void Copy(int firstBlock, int blockCount)
    {
        if (firstBlock < 0 || blockCount < 1 || (long)firstBlock + blockCount > _blockCount)
        {
            throw PatchWriter.Invalid($"copy of blocks {firstBlock}..{(long)firstBlock + blockCount - 1} is outside the basis's {_blockCount} blocks");
        }

        long offset = (long)firstBlock * _blockLength;
        long length = Math.Min((long)blockCount * _blockLength, _basisLength - offset);
        _buffer ??= ArrayPool<byte>.Shared.Rent(CopyBuffer);
        if (_dirty.Clobbers(offset, length, Written))
        {
            // The basis bytes are gone: overwritten by this file's earlier ops.
            if (_source is null)
            {
                throw new InplaceConflictException();
            }

            CopyFromSource(length);
            return;
        }

        bool inPlace = offset == Written;
        long start = Written;
        while (length > 0)
        {
            int chunk = (int)Math.Min(_buffer.Length, length);
            int read = System.IO.RandomAccess.Read(_file, _buffer.AsSpan(0, chunk), offset);
            if (read <= 0)
            {
                throw PatchWriter.Invalid("the basis file became shorter during the transfer");
            }

            ReadOnlySpan<byte> data = _buffer.AsSpan(0, read);
            if (!inPlace)
            {
                // Reading ahead of the write position (offset > Written) before writing keeps this a forward move.
                System.IO.RandomAccess.Write(_file, data, Written);
            }

            _hash.Append(data);
            Written += read;
            MatchedBytes += read;
            offset += read;
            length -= read;
        }

        if (inPlace)
        {
            UnwrittenBytes += Written - start;
        }
        else
        {
            MarkDirty(start, Written);
        }
    }

    /// <summary>Checks the result against the sender's length and whole-file checksum.</summary>
    public void Verify(long expectedLength, ReadOnlySpan<byte> expectedHash)
    {
        Span<byte> actual = stackalloc byte[StrongHash.FullLength];
        _hash.GetCurrentHash(actual);
        if (Written != expectedLength || !actual.SequenceEqual(expectedHash))
        {
            throw new SyncException(ErrorIds.DeltaVerificationFailed, SyncErrorKind.WriteError,
                $"The file rebuilt in place does not match the sender's checksum ({Written} of {expectedLength} bytes).");
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

    private void CopyFromSource(long length)
    {
        while (length > 0)
        {
            int chunk = (int)Math.Min(_buffer!.Length, length);
            int read = System.IO.RandomAccess.Read(_source!, _buffer.AsSpan(0, chunk), Written);
            if (read <= 0)
            {
                throw PatchWriter.Invalid("the source file became shorter during the transfer");
            }

            Literal(_buffer.AsSpan(0, read));
            length -= read;
        }
    }

    private void MarkDirty(long start, long end) => _dirty.Add(start, end);
}
