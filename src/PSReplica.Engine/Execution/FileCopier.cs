using PSReplica.Engine.Native;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica.Engine.Execution;

/// <summary>Copies a whole file into a new file, in the kernel (copy_file_range: reflinks or in-kernel copies)
/// where the filesystems allow, else through a pooled buffer; chunked so that cancellation and progress stay prompt.</summary>
internal static class FileCopier
{
    private const long ChunkBytes = 8L << 20;
    private const int BufferBytes = 1 << 20;

    /// <summary>Copies the file at <paramref name="source"/> (a file of the destination side: a basis) to the new file
    /// <paramref name="target"/> and hands the still-open target to <paramref name="finish"/> (attributes are set through
    /// the descriptor, never through a path that could have been swapped for a link); returns the bytes copied.</summary>
    public static long Copy(string source, string target, Action<long>? progress, Action<SafeFileHandle>? finish, CancellationToken cancellation,
        BandwidthThrottle? throttle = null)
    {
        using SafeFileHandle input = OpenSource(source);
        return CopyFrom(input, target, progress, finish, cancellation, throttle);
    }

    /// <summary>As <see cref="Copy(string, string, Action{long}?, Action{SafeFileHandle}?, CancellationToken, BandwidthThrottle?)"/>
    /// for a local source file, opened through <paramref name="sources"/> and checked to be the file the scan saw as
    /// <paramref name="scanned"/> before anything is created.</summary>
    public static long Copy(SourceFiles sources, string relative, FileEntry scanned, string target, Action<long>? progress,
        Action<SafeFileHandle>? finish, CancellationToken cancellation, BandwidthThrottle? throttle = null)
    {
        using SafeFileHandle input = sources.Open(relative, scanned);
        return CopyFrom(input, target, progress, finish, cancellation, throttle);
    }

    private static long CopyFrom(SafeFileHandle input, string target, Action<long>? progress, Action<SafeFileHandle>? finish, CancellationToken cancellation,
        BandwidthThrottle? throttle = null)
    {
        using SafeFileHandle output = OpenTarget(target);
        long copied = CopyContent(input, output, progress, cancellation, throttle);
        finish?.Invoke(output);
        return copied;
    }

    /// <summary>Copies from the start of <paramref name="input"/> to the start of <paramref name="output"/> (an open file
    /// whose position is 0); paced by <paramref name="throttle"/> when given. With <paramref name="sparse"/> (-Sparse), as
    /// <see cref="CopySparse"/>.</summary>
    internal static long CopyContent(SafeFileHandle input, SafeFileHandle output, Action<long>? progress, CancellationToken cancellation,
        BandwidthThrottle? throttle = null, bool sparse = false)
    {
        if (sparse)
        {
            return CopySparse(input, output, progress, throttle, cancellation);
        }

        long chunk = throttle?.Chunk ?? ChunkBytes;
        int fdIn = (int)input.DangerousGetHandle();
        int fdOut = (int)output.DangerousGetHandle();
        long copied = 0;
        bool kernel = true;
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                long n;
                if (kernel)
                {
                    n = Posix.CopyFileRange(fdIn, fdOut, chunk);
                    if (n < 0)
                    {
                        int errno = (int)-n;
                        if (copied == 0 && errno is Posix.EXDEV or Posix.ENOSYS or Posix.EINVAL or Posix.EOPNOTSUPP or Posix.EPERM)
                        {
                            kernel = false;
                            continue;
                        }

                        throw new IOException($"Copy failed: {Posix.Describe(errno)}.", errno);
                    }
                }
                else
                {
                    buffer ??= System.Buffers.ArrayPool<byte>.Shared.Rent(BufferBytes);
                    n = SourceReadStream.Read(input, buffer.AsSpan(0, (int)Math.Min(buffer.Length, chunk)), copied);
                    if (n > 0)
                    {
                        RandomAccess.Write(output, buffer.AsSpan(0, (int)n), copied);
                    }
                }

                if (n == 0)
                {
                    break;
                }

                copied += n;
                progress?.Invoke(copied);

                // Paced by what was copied, after it went (as rsync sleeps after each write): a small file costs its own
                // bytes, not a chunk, and the read that finds the end costs nothing.
                throttle?.Pace(n, cancellation);
            }
        }
        finally
        {
            if (buffer is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return copied;
    }

    /// <summary>-Sparse: reads only the source's data extents (SEEK_DATA/SEEK_HOLE; the whole file where the file system
    /// cannot tell), writes them leaving holes for blocks of zeros (<see cref="SparseFiles"/>), and gives
    /// <paramref name="output"/> (new and empty) the source's length, so that a hole at the end stays one. Holes are not
    /// read, so they cost neither time nor -BandwidthLimit. Progress and the result count the file's length, holes
    /// included, as a whole-file copy counts it.</summary>
    private static long CopySparse(SafeFileHandle input, SafeFileHandle output, Action<long>? progress, BandwidthThrottle? throttle,
        CancellationToken cancellation)
    {
        long length = RandomAccess.GetLength(input);
        int chunk = (int)Math.Min(BufferBytes, throttle?.Chunk ?? BufferBytes);
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            long position = 0;
            while (SparseFiles.NextData(input, position, length) is (long start, long end))
            {
                position = start;
                while (position < end)
                {
                    cancellation.ThrowIfCancellationRequested();
                    int n = SourceReadStream.Read(input, buffer.AsSpan(0, (int)Math.Min(chunk, end - position)), position);
                    if (n == 0)
                    {
                        // The file became shorter while it was copied: it is copied as far as it goes.
                        length = position;
                        break;
                    }

                    SparseFiles.Write(output, buffer.AsSpan(0, n), position);
                    position += n;
                    progress?.Invoke(position);
                    throttle?.Pace(n, cancellation);
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        SparseFiles.End(output, length);
        progress?.Invoke(length);
        return length;
    }

    /// <summary>Opens a file by its full path, following links: for files of the destination side (a basis) only. A local
    /// source file is opened through <see cref="SourceFiles"/>, which checks it against the scan.</summary>
    internal static SafeFileHandle OpenSource(string path)
    {
        SafeFileHandle? handle = Posix.Open(path, Posix.ORdOnly, 0, out int errno);
        return handle ?? throw errno switch
        {
            Posix.ENOENT or Posix.ENOTDIR => new SyncException(ErrorIds.SourceVanished, SyncErrorKind.NotFound, $"The source file '{path}' has vanished.", path),
            Posix.EACCES or Posix.EPERM => new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied, $"Cannot read '{path}': permission denied.", path),
            _ => new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, $"Cannot read '{path}': {Posix.Describe(errno)}.", path),
        };
    }

    /// <summary>Creates the file; O_EXCL also refuses to follow a symlink planted under the name.</summary>
    internal static SafeFileHandle OpenTarget(string path)
    {
        SafeFileHandle? handle = Posix.Open(path, Posix.OWrOnly | Posix.OCreat | Posix.OExcl, 0x180, out int errno);
        return handle ?? throw (errno is Posix.EACCES or Posix.EPERM
            ? new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied, $"Cannot write '{path}': permission denied.", path)
            : new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError, $"Cannot write '{path}': {Posix.Describe(errno)}.", path));
    }
}
