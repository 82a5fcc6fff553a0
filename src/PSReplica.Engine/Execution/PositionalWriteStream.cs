namespace PSReplica.Engine.Execution;

/// <summary>A write-only stream over an open file that writes at its own running offset from 0 and leaves the handle
/// open (a FileStream would close it, and -Inplace still sets the file's length and attributes through it). A sparse one
/// (-Sparse, into a new file) leaves blocks of zeros unwritten; its writer then gives the file its length
/// (<see cref="SparseFiles.End"/>).</summary>
internal sealed class PositionalWriteStream : Stream
{
    private readonly SafeFileHandle _file;
    private readonly bool _sparse;
    private long _position;

    public PositionalWriteStream(SafeFileHandle file, bool sparse = false)
    {
        _file = file;
        _sparse = sparse;
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_sparse)
        {
            SparseFiles.Write(_file, buffer, _position);
        }
        else
        {
            RandomAccess.Write(_file, buffer, _position);
        }

        _position += buffer.Length;
    }

    public override System.Threading.Tasks.ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, System.Threading.CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return default;
    }

    public override System.Threading.Tasks.Task WriteAsync(byte[] buffer, int offset, int count, System.Threading.CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return System.Threading.Tasks.Task.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
