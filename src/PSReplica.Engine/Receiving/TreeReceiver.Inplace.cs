using System.Buffers;
using System.IO.Hashing;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Receiving;

/// <summary>-Inplace on a push (the "safe-updates" capability), rsync's --inplace: the destination file itself is
/// rewritten, so its inode, and every hard link to it, sees the new content. A delta is applied with the
/// <see cref="InplacePatchWriter"/> the local executor uses, its basis being the file itself; the controller keeps its
/// delta clear of blocks already overwritten (<see cref="InplaceDeltaGuard"/>), and a delta that asks for one anyway is
/// refused as an invalid stream (the controller then sends the file whole). The file is opened through the walk's
/// parent descriptor without following a link, checked to be a regular file on the open descriptor, and gets its
/// attributes through that descriptor after the content. Nothing is removed on failure: as with rsync, the file stays
/// as far as it was written.</summary>
internal static partial class TreeReceiver
{
    private const int OwnerWrite = 0x80;

    public static byte[] ApplyInplaceDelta(SafeTree tree, MuxStream stream, AgentRequest request, CancellationToken cancellation)
    {
        using ParentDirectory parent = tree.OpenParent(request.Path);
        using SafeFileHandle file = OpenInPlace(parent, request.Path, create: false, out long basisLength);
        using var writer = new InplacePatchWriter(file, basisLength, request.BlockLength, source: null);
        try
        {
            using var body = new MuxReadStream(stream, cancellation);
            (long length, byte[] hash) = DeltaStream.Pump(body, writer);
            if (body.ReadTrailerAsync().GetAwaiter().GetResult().Length != 0)
            {
                throw ProtocolFault.Violation("a delta body with a trailer");
            }

            writer.Verify(length, hash);
            if (length != request.Length)
            {
                throw new SyncException(ErrorIds.DeltaVerificationFailed, SyncErrorKind.WriteError,
                    $"'{request.Path}' was rebuilt with {length} bytes where {request.Length} were announced.", request.Path);
            }
        }
        catch (InplaceConflictException ex)
        {
            throw new SyncException(ErrorIds.DeltaStreamInvalid, SyncErrorKind.WriteError, $"'{request.Path}': {ex.Message}", request.Path, ex);
        }

        System.IO.RandomAccess.SetLength(file, writer.Written);
        ApplyAttributes(file, request);
        return Result(writer.Written, writer.LiteralBytes, writer.MatchedBytes);
    }

    /// <summary>The whole file from the body, written over the file from its start and cut to its length; the body's end
    /// carries the XXH3-128 it must match.</summary>
    public static async Task<byte[]> WriteInplaceAsync(SafeTree tree, MuxStream stream, AgentRequest request, CancellationToken cancellation)
    {
        using ParentDirectory parent = tree.OpenParent(request.Path);
        using SafeFileHandle file = OpenInPlace(parent, request.Path, request.Flag, out _);
        long written = await ReceiveWholeFileAsync(stream, file, request, truncate: true, cancellation).ConfigureAwait(false);
        ApplyAttributes(file, request);
        return Result(written, written, 0);
    }

    /// <summary>Opens the file to rewrite for reading and writing without following a link (a new one with O_EXCL, so
    /// nothing that appeared there is taken over). A file its owner may not write is made writable first, through an
    /// O_PATH descriptor of the same inode (its final mode comes with the attributes), as the local -Inplace does.</summary>
    internal static SafeFileHandle OpenInPlace(ParentDirectory parent, string relative, bool create, out long length)
    {
        int flags = Posix.ORdWr | Posix.ONoFollow | Posix.ONonBlock | (create ? Posix.OCreat | Posix.OExcl : 0);
        SafeFileHandle? file = Posix.OpenAt(parent.Handle, parent.Name, flags, 0x180, out int errno);
        if (file is null && !create && errno == Posix.EACCES && MakeWritable(parent))
        {
            file = Posix.OpenAt(parent.Handle, parent.Name, flags, 0x180, out errno);
        }

        if (file is null)
        {
            throw SafeTree.Failure(errno, ErrorIds.FileWriteError, "Cannot write in place", relative);
        }

        if (Posix.StatAt(file, string.Empty, out StatInfo stat) != 0 || stat.FileType != Posix.SIfreg)
        {
            file.Dispose();
            throw new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError, $"Cannot write '{relative}' in place: it is not a regular file.", relative);
        }

        length = stat.Size;
        return file;
    }

    private static bool MakeWritable(ParentDirectory parent)
    {
        using SafeFileHandle? item = Posix.OpenAt(parent.Handle, parent.Name, Posix.OPath | Posix.ONoFollow, 0, out _);
        return item is not null && Posix.StatAt(item, string.Empty, out StatInfo stat) == 0 && stat.FileType == Posix.SIfreg
            && (stat.Mode & OwnerWrite) == 0 && Posix.ChmodHandle(item, stat.Permissions | OwnerWrite) == 0;
    }
}
