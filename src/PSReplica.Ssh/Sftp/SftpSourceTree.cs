using System.Buffers;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;

namespace PSReplica.Ssh;

/// <summary>The source of a pull over SFTP: each file is read whole into the local temp file the executor names.</summary>
internal sealed class SftpSourceTree : ISourceTree
{
    private const int ChunkLength = 256 * 1024;

    private readonly SftpSession _sftp;
    private readonly string _root;

    public SftpSourceTree(SftpSession sftp, string root)
    {
        _sftp = sftp;
        _root = root;
    }

    /// <remarks>Server errors are read errors; local ones (a full disk) stay IOExceptions, which the executor reports
    /// as write errors.</remarks>
    public long Copy(string relative, SafeFileHandle target, Action<long>? progress, CancellationToken cancellation, bool sparse = false)
    {
        if (!sparse)
        {
            return Pump(relative, (buffer, count, offset) => RandomAccess.Write(target, buffer.AsSpan(0, count), offset), progress, cancellation);
        }

        // -Sparse on a pull: the zeros come over the wire (SFTP cannot tell holes), and are written here as holes.
        long length = Pump(relative, (buffer, count, offset) => SparseFiles.Write(target, buffer.AsSpan(0, count), offset), progress, cancellation);
        SparseFiles.End(target, length);
        return length;
    }

    /// <summary>Streams the file into <paramref name="output"/> (an -Inplace pull writes the destination file itself).</summary>
    public long Read(string relative, Stream output, CancellationToken cancellation) =>
        Pump(relative, (buffer, count, _) => output.Write(buffer, 0, count), progress: null, cancellation);

    /// <summary>Reads the file whole, giving each chunk and its offset to <paramref name="write"/>.</summary>
    private long Pump(string relative, Action<byte[], int, long> write, Action<long>? progress, CancellationToken cancellation)
    {
        string path = SftpPaths.Join(_root, relative);
        long length = 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkLength);
        try
        {
            using Stream input = _sftp.OpenRead(path);
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = input.Read(buffer, 0, ChunkLength);
                if (n == 0)
                {
                    break;
                }

                write(buffer, n, length);
                length += n;
                progress?.Invoke(length);
            }
        }
        catch (Exception ex) when (ex is not (IOException or UnauthorizedAccessException or Renci.SshNet.Common.SftpException)
            && SshFailure.Translate(ex, relative) is SyncException broken)
        {
            // File streams talk to SSH.NET directly: a dropped connection ends the session, not just this item.
            throw broken;
        }
        catch (FileNotFoundException ex)
        {
            throw new SyncException(ErrorIds.SourceVanished, SyncErrorKind.NotFound, $"'{relative}' vanished from the source.", relative, ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied, $"Cannot read '{path}': permission denied.", relative, ex);
        }
        catch (Exception ex) when (ex is Renci.SshNet.Common.SftpException || (ex is IOException && ex.InnerException is Renci.SshNet.Common.SftpException))
        {
            throw new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, $"Cannot read '{path}': {ex.Message}", relative, ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return length;
    }

    /// <summary>SFTP cannot compute a delta on the server: the file is copied whole (SftpReplicator plans whole-file
    /// transfers, so the executor does not ask for this).</summary>
    public DeltaResult CopyDelta(string relative, SafeFileHandle basis, long basisLength, SafeFileHandle target, int? blockLength,
        Action<long>? progress, CancellationToken cancellation, bool sparse = false)
    {
        long length = Copy(relative, target, progress, cancellation, sparse);
        return new DeltaResult(length, length, 0, []);
    }

    /// <summary>SFTP cannot compute a delta on the server; SftpReplicator plans whole-file transfers, so the executor
    /// never asks for this.</summary>
    public DeltaResult Delta(string relative, Signature signature, IDeltaSink sink, Action<long>? progress, CancellationToken cancellation) =>
        throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
            "An SFTP server cannot compute a delta; files are transferred whole.", relative);
}
