using PSReplica.Engine.Delta;

namespace PSReplica.Engine.Execution;

/// <summary>-Inplace on a push: stands between the delta search and the wire, and keeps the delta one the agent's
/// <see cref="InplacePatchWriter"/> can apply without the source. It follows the writer's position and the ranges it
/// overwrites; a copy of basis bytes that will be gone by then is sent as data instead, read from the local source at the
/// same offset (the bytes the target must hold there). rsync's sender keeps such matches out for --inplace (match.c
/// with updating_basis_file); here the search stays as it is and its ops are amended.</summary>
internal sealed class InplaceDeltaGuard : IDeltaSink
{
    private const int ChunkLength = 1 << 20;

    private readonly IDeltaSink _inner;
    private readonly SafeFileHandle _source;
    private readonly long _basisLength;
    private readonly int _blockLength;
    private readonly OverwrittenRanges _overwritten = new();
    private byte[]? _buffer;
    private long _written;

    /// <param name="inner">Where the amended ops go (the wire).</param>
    /// <param name="source">The local source file, read for the copies turned into data.</param>
    /// <param name="signature">The signature of the destination file that the delta is searched against.</param>
    public InplaceDeltaGuard(IDeltaSink inner, SafeFileHandle source, Signature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        _inner = inner;
        _source = source;
        _basisLength = signature.FileLength;
        _blockLength = signature.BlockLength;
    }

    /// <summary>The bytes of copies sent as data instead.</summary>
    public long RewrittenBytes { get; private set; }

    public void Literal(ReadOnlySpan<byte> data)
    {
        _inner.Literal(data);
        _overwritten.Add(_written, _written + data.Length);
        _written += data.Length;
    }

    public void Copy(int firstBlock, int blockCount)
    {
        long offset = (long)firstBlock * _blockLength;
        long length = Math.Min((long)blockCount * _blockLength, _basisLength - offset);
        if (length <= 0 || !_overwritten.Clobbers(offset, length, _written))
        {
            // The writer copies it (or, out of range, refuses the stream, as it must).
            _inner.Copy(firstBlock, blockCount);
            if (length > 0)
            {
                if (offset != _written)
                {
                    _overwritten.Add(_written, _written + length);
                }

                _written += length;
            }

            return;
        }

        // Rare (a block moved backwards past what was written), so a plain buffer, made once per file that needs it.
        _buffer ??= new byte[ChunkLength];
        while (length > 0)
        {
            int read = System.IO.RandomAccess.Read(_source, _buffer.AsSpan(0, (int)Math.Min(ChunkLength, length)), _written);
            if (read <= 0)
            {
                throw PatchWriter.Invalid("the source file became shorter during the transfer");
            }

            Literal(_buffer.AsSpan(0, read));
            RewrittenBytes += read;
            length -= read;
        }
    }
}
