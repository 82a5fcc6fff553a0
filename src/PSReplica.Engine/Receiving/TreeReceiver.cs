using System.Buffers;
using System.IO.Hashing;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Receiving;

/// <summary>The agent's requests as the receiver (a push). Every change is made through descriptors from the
/// <see cref="SafeTree"/> walk: new content goes to a temp file created with O_CREAT|O_EXCL|O_NOFOLLOW beside its
/// target, is verified against the sender's XXH3-128, gets its attributes through the descriptor and is renamed into
/// place within the same directory descriptor; links, directories and deletions use symlinkat, mkdirat, unlinkat.</summary>
internal static partial class TreeReceiver
{
    private const int OwnerAccess = 0x1C0;

    public static byte[] BuildSignature(SafeTree tree, MuxStream stream, AgentRequest request, CancellationToken cancellation)
    {
        using SafeFileHandle basis = tree.OpenRegularFile(request.Path, ErrorIds.FileReadError, out StatInfo stat);
        Signature signature = SignatureBuilder.Build(basis, stat.Size, request.BlockLength == 0 ? null : request.BlockLength, cancellation);
        using var output = new MuxWriteStream(stream, cancellation);
        SignatureCodec.Write(output, signature);
        output.Flush();
        return [];
    }

    /// <summary>A whole file from the body; the body's end carries the XXH3-128 it must match.</summary>
    public static async Task<byte[]> WriteFileAsync(SafeTree tree, MuxStream stream, AgentRequest request, CancellationToken cancellation,
        DelayedRenames? delayed = null)
    {
        using PendingFile pending = PendingFile.Beside(tree, request.Path);
        long written = await ReceiveWholeFileAsync(stream, pending.Handle, request, truncate: false, cancellation, tree.Sparse).ConfigureAwait(false);
        Finish(pending, request.Attributes, delayed);
        return Result(written, written, 0);
    }

    /// <summary>Writes a whole-file body into <paramref name="output"/> from its start and checks it: no more than the
    /// announced length (more is a violation), then the length and the XXH3-128 the body's end carries. With
    /// <paramref name="truncate"/> the file is cut to what arrived first (it may have held more); with
    /// <paramref name="sparse"/> (-Sparse, a new file) blocks of zeros are left as holes and the file is given its length.
    /// Returns the length.</summary>
    internal static async Task<long> ReceiveWholeFileAsync(MuxStream stream, SafeFileHandle output, AgentRequest request, bool truncate,
        CancellationToken cancellation, bool sparse = false)
    {
        var hash = new XxHash128();
        long written = 0;
        // A frame of a widened stream is read in one piece (one write of the file).
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimits.WideDataChunk);
        try
        {
            // A file larger than a window comes through a widened one, if the session allows it.
            if (request.Length > ProtocolLimits.StreamWindow)
            {
                stream.Widen();
            }

            using var body = new MuxReadStream(stream, cancellation);
            while (true)
            {
                int n = await body.ReadAsync(buffer.AsMemory(0, ProtocolLimits.WideDataChunk), cancellation).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                if (written + n > request.Length)
                {
                    throw ProtocolFault.Violation($"more than the announced {request.Length} bytes for '{request.Path}'");
                }

                if (sparse)
                {
                    SparseFiles.Write(output, buffer.AsSpan(0, n), written);
                }
                else
                {
                    System.IO.RandomAccess.Write(output, buffer.AsSpan(0, n), written);
                }

                hash.Append(buffer.AsSpan(0, n));
                written += n;
            }

            byte[] trailer = body.Trailer!;
            if (trailer.Length != StrongHash.FullLength)
            {
                throw ProtocolFault.Violation("a file body whose end does not carry a 16-byte checksum");
            }

            if (truncate || sparse)
            {
                System.IO.RandomAccess.SetLength(output, written);
            }

            if (written != request.Length || !hash.GetCurrentHash().AsSpan().SequenceEqual(trailer))
            {
                throw new SyncException(ErrorIds.DeltaVerificationFailed, SyncErrorKind.WriteError,
                    $"'{request.Path}' does not match the sender's checksum ({written} of {request.Length} bytes).", request.Path);
            }

            return written;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Rebuilds a file from its basis (a regular file inside the tree) and the delta ops in the body.</summary>
    public static byte[] ApplyDelta(SafeTree tree, MuxStream stream, AgentRequest request, CancellationToken cancellation,
        DelayedRenames? delayed = null) =>
        ApplyDelta(tree, tree, stream, request, cancellation, delayed);

    /// <summary>As <see cref="ApplyDelta(SafeTree, MuxStream, AgentRequest, CancellationToken)"/>, the basis being in
    /// <paramref name="basisTree"/> (a basis directory the user named).</summary>
    public static byte[] ApplyDelta(SafeTree tree, SafeTree basisTree, MuxStream stream, AgentRequest request, CancellationToken cancellation,
        DelayedRenames? delayed = null)
    {
        using SafeFileHandle basis = basisTree.OpenRegularFile(request.Other, ErrorIds.FileReadError, out StatInfo basisStat);
        using PendingFile pending = PendingFile.Beside(tree, request.Path);
        using var writer = new PatchWriter(basis, basisStat.Size, request.BlockLength, pending.Handle, request.Length, tree.Sparse);
        using (var body = new MuxReadStream(stream, cancellation))
        {
            (long length, byte[] hash) = DeltaStream.Pump(body, writer);
            if (body.ReadTrailerAsync().GetAwaiter().GetResult().Length != 0)
            {
                throw ProtocolFault.Violation("a delta body with a trailer");
            }

            writer.Verify(length, hash);
        }

        Finish(pending, request.Attributes, delayed);
        return Result(writer.Written, writer.LiteralBytes, writer.MatchedBytes);
    }

    public static byte[] CreateDirectory(SafeTree tree, AgentRequest request)
    {
        if (request.Path.Length == 0)
        {
            tree.CreateRoot();
        }
        else
        {
            MakeDirectory(tree, request.Path);
        }

        SetAttributes(tree, request);
        return [];
    }

    /// <summary>mkdirat in the parent's descriptor, with write access for the owner while the directory is filled (its
    /// own mode follows its contents).</summary>
    public static void MakeDirectory(SafeTree tree, string relative)
    {
        using ParentDirectory parent = tree.OpenParent(relative);
        int errno = Posix.MkdirAt(parent.Handle, parent.Name, OwnerAccess);
        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.FileWriteError, "Cannot create directory", relative);
        }
    }

    public static byte[] CreateSymbolicLink(SafeTree tree, AgentRequest request)
    {
        CreateSymbolicLink(tree, request.Path, request.Other, request.Attributes);
        return [];
    }

    /// <summary>A link made under a temp name beside its target, given its owner and time (never following it), then
    /// renamed over the target in one step.</summary>
    public static void CreateSymbolicLink(SafeTree tree, string relative, string target, AttributeSet attributes) =>
        MakeUnderTempName(tree, relative, ErrorIds.SymbolicLinkFailed, "Cannot create symbolic link",
            (directory, temp) => Posix.SymlinkAt(target, directory, temp),
            errno => SafeTree.Failure(errno, ErrorIds.SymbolicLinkFailed, "Cannot create symbolic link", relative),
            (parent, temp) =>
            {
                if (Owner(attributes) is (uint uid, uint gid))
                {
                    Check(Posix.LchownAt(parent.Handle, temp, uid, gid), "Cannot set the owner of", relative);
                }

                if (attributes.Has(AttributeFields.Time))
                {
                    Check(Posix.SetModificationTimeAt(parent.Handle, temp, attributes.MtimeSeconds, attributes.MtimeNanoseconds), "Cannot set the time of", relative);
                }
            });

    /// <summary>The shape every item without content (a link, a node) is made in: its parent opened without following
    /// links, the item made there under a temp name by <paramref name="make"/> (an errno, 0 on success), given its
    /// attributes by <paramref name="finish"/>, then renamed over <paramref name="relative"/> in one step; the temp
    /// name is removed if anything after its making fails. A parent that cannot be opened is reported as the item's
    /// own failure (<paramref name="errorId"/>): it is the item that could not be made.</summary>
    private static void MakeUnderTempName(
        SafeTree tree,
        string relative,
        string errorId,
        string failure,
        Func<SafeFileHandle, string, int> make,
        Func<int, SyncException> makeFailure,
        Action<ParentDirectory, string> finish)
    {
        ParentDirectory opened;
        try
        {
            opened = tree.OpenParent(relative);
        }
        catch (SyncException ex) when (ex.ErrorId == ErrorIds.FileWriteError)
        {
            throw new SyncException(errorId, ex.Kind, $"{failure} '{relative}': {ex.Message}", relative, ex);
        }

        using ParentDirectory parent = opened;
        string temp = PendingFile.TempName(parent.Name);
        int errno = make(parent.Handle, temp);
        if (errno != 0)
        {
            throw makeFailure(errno);
        }

        try
        {
            finish(parent, temp);
            Rename(parent, temp, relative);
        }
        catch
        {
            Posix.UnlinkAt(parent.Handle, temp, isDirectory: false);
            throw;
        }
    }

    /// <summary>Applies attributes to an existing item without following a final link: files and directories through
    /// an O_PATH descriptor of exactly the inode found, links through the *at calls with AT_SYMLINK_NOFOLLOW.</summary>
    public static byte[] SetAttributes(SafeTree tree, AgentRequest request)
    {
        SetAttributes(tree, request.Path, request.Attributes);
        return [];
    }

    /// <summary>As <see cref="SetAttributes(SafeTree, AgentRequest)"/>, for the item at <paramref name="relative"/> ("" is the root).</summary>
    public static void SetAttributes(SafeTree tree, string relative, AttributeSet attributes)
    {
        if (attributes.Fields == AttributeFields.None)
        {
            return;
        }

        using ParentDirectory parent = relative.Length == 0 ? tree.OpenDirectory(string.Empty) : tree.OpenParent(relative);
        SetAttributes(parent, attributes, relative);
    }

    /// <summary>As <see cref="SetAttributes(SafeTree, string, AttributeSet)"/>, for <paramref name="parent"/>'s name in its
    /// directory (an empty name: the directory itself).</summary>
    private static void SetAttributes(ParentDirectory parent, AttributeSet attributes, string relative)
    {
        SafeFileHandle? item = parent.Name.Length == 0
            ? null
            : Posix.OpenAt(parent.Handle, parent.Name, Posix.OPath | Posix.ONoFollow, 0, out int errno2) is { } opened ? opened
            : throw SafeTree.Failure(errno2, ErrorIds.MetadataFailed, "Cannot open", relative);
        using (item)
        {
            SafeFileHandle target = item ?? parent.Handle;
            Check(Posix.StatAt(target, string.Empty, out StatInfo stat), "Cannot read", relative);
            attributes = attributes with { Fields = attributes.Fields & ~FileSystemProbe.Unheld(stat.Device) };
            if (stat.FileType == Posix.SIflnk)
            {
                if (Owner(attributes) is (uint uid, uint gid))
                {
                    Check(Posix.LchownAt(parent.Handle, parent.Name, uid, gid), "Cannot set the owner of", relative);
                }

                if (attributes.Has(AttributeFields.Time))
                {
                    Check(Posix.SetModificationTimeAt(parent.Handle, parent.Name, attributes.MtimeSeconds, attributes.MtimeNanoseconds), "Cannot set the time of", relative);
                }

                return;
            }

            // chown clears set-user-ID and set-group-ID bits, so ownership comes before the mode.
            if (Owner(attributes) is (uint u, uint g))
            {
                Check(Posix.ChownHandle(target, u, g), "Cannot set the owner of", relative);
            }

            // Not a link (checked above): the descriptor's /proc/self/fd path reaches exactly the inode opened.
            Metadata.XattrApplier.Apply(Posix.XattrTarget.PathHandle(target), attributes, relative);

            if (attributes.Has(AttributeFields.Mode))
            {
                Check(Posix.ChmodHandle(target, attributes.Mode), "Cannot set permissions of", relative);
            }

            if (attributes.Has(AttributeFields.Time))
            {
                Check(Posix.SetModificationTimeHandle(target, attributes.MtimeSeconds, attributes.MtimeNanoseconds), "Cannot set the time of", relative);
            }

            if (attributes.Has(AttributeFields.FileAttributes))
            {
                Check(Posix.SetFileAttributes(target, attributes.FileAttributes), "Cannot set the attributes of", relative);
            }
        }
    }

    public static byte[] Delete(SafeTree tree, AgentRequest request)
    {
        int errno = Delete(tree, request.Path, request.Flag);
        if (errno is not (0 or Posix.ENOENT))
        {
            throw SafeTree.Failure(errno, ErrorIds.DeleteFailed, "Cannot delete", request.Path);
        }

        return [];
    }

    /// <summary>unlinkat in the parent's descriptor; 0 or the errno.</summary>
    public static int Delete(SafeTree tree, string relative, bool isDirectory)
    {
        int errno;
        using (ParentDirectory parent = tree.OpenParent(relative))
        {
            errno = Posix.UnlinkAt(parent.Handle, parent.Name, isDirectory);
        }

        if (isDirectory && errno == 0)
        {
            tree.Forget(relative);
        }

        return errno;
    }

    /// <summary>Attributes through the open descriptor, then the rename over the target beside it; with
    /// <paramref name="delayed"/> (-DelayUpdates) the file waits under its temp name for the session's burst instead.</summary>
    internal static void Finish(PendingFile pending, AttributeSet attributes, DelayedRenames? delayed = null)
    {
        pending.SetAttributes(attributes);
        if (delayed is not null)
        {
            delayed.Add(DelayedRenames.Beside(pending.Relative, pending.Name), pending.Relative);
            pending.Keep();
            return;
        }

        int slash = pending.Relative.LastIndexOf('/');
        pending.Commit(pending.Relative[(slash + 1)..]);
    }

    /// <summary>Owner, mode and time of a written file, through its open descriptor.</summary>
    internal static void ApplyAttributes(SafeFileHandle output, AgentRequest request) => PendingFile.Apply(output, request.Attributes, request.Path);

    /// <summary>Renames <paramref name="temp"/> over the item's own name in the same directory.</summary>
    internal static void Rename(ParentDirectory parent, string temp, string relative)
    {
        int errno = Posix.RenameAt(parent.Handle, temp, parent.Name);
        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.FileWriteError, "Cannot move into place", relative);
        }
    }

    private static (uint Uid, uint Gid)? Owner(AttributeSet attributes)
    {
        bool uid = attributes.Has(AttributeFields.Uid);
        bool gid = attributes.Has(AttributeFields.Gid);
        return uid || gid ? (uid ? attributes.Uid : uint.MaxValue, gid ? attributes.Gid : uint.MaxValue) : null;
    }

    private static void Check(int errno, string what, string relative)
    {
        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.MetadataFailed, what, relative);
        }
    }

    internal static byte[] Result(long length, long literal, long matched)
    {
        using var end = new WireWriter(32);
        end.UInt((ulong)length).UInt((ulong)literal).UInt((ulong)matched);
        return end.Written.ToArray();
    }
}
