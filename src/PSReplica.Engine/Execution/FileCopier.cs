using System;
using System.IO;
using System.Threading;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Execution;

/// <summary>Copies a whole file into a new file, in the kernel (copy_file_range: reflinks or in-kernel copies)
/// where the filesystems allow, else through a pooled buffer; chunked so that cancellation and progress stay prompt.</summary>
internal static class FileCopier
{
    private const long ChunkBytes = 8L << 20;
    private const int BufferBytes = 1 << 20;

    /// <summary>Copies <paramref name="source"/> to the new file <paramref name="target"/>; returns the bytes copied.</summary>
    public static long Copy(string source, string target, Action<long>? progress, CancellationToken cancellation)
    {
        using SafeFileHandle input = OpenSource(source);
        using SafeFileHandle output = OpenTarget(target);
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
                    n = Posix.CopyFileRange(fdIn, fdOut, ChunkBytes);
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
                    n = ReadSource(input, buffer, copied);
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

    private static SafeFileHandle OpenSource(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SyncException(ErrorIds.SourceVanished, SyncErrorKind.NotFound, $"The source file '{path}' has vanished.", path, ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied, $"Cannot read '{path}': permission denied.", path, ex);
        }
        catch (IOException ex)
        {
            throw new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, $"Cannot read '{path}': {ex.Message}", path, ex);
        }
    }

    private static SafeFileHandle OpenTarget(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied, $"Cannot write '{path}': permission denied.", path, ex);
        }
        catch (IOException ex)
        {
            throw new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError, $"Cannot write '{path}': {ex.Message}", path, ex);
        }
    }

    private static int ReadSource(SafeFileHandle input, byte[] buffer, long offset)
    {
        try
        {
            return RandomAccess.Read(input, buffer, offset);
        }
        catch (IOException ex)
        {
            throw new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, $"Read failed: {ex.Message}", null, ex);
        }
    }
}
