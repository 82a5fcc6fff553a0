using System;
using System.Buffers;
using System.IO.Hashing;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Remote;

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
        using ParentDirectory parent = tree.OpenParent(request.Path);
        string temp = TempFileNames.For(parent.Name);
        using SafeFileHandle output = CreateTemp(parent, temp, request.Path);
        try
        {
            long written = await ReceiveWholeFileAsync(stream, output, request, truncate: false, cancellation).ConfigureAwait(false);
            Finish(parent, temp, output, request, delayed);
            return Result(written, written, 0);
        }
        catch
        {
            Posix.UnlinkAt(parent.Handle, temp, isDirectory: false);
            throw;
        }
    }

    /// <summary>Writes a whole-file body into <paramref name="output"/> from its start and checks it: no more than the
    /// announced length (more is a violation), then the length and the XXH3-128 the body's end carries. With
    /// <paramref name="truncate"/> the file is cut to what arrived first (it may have held more). Returns the length.</summary>
    internal static async Task<long> ReceiveWholeFileAsync(MuxStream stream, SafeFileHandle output, AgentRequest request, bool truncate,
        CancellationToken cancellation)
    {
        var hash = new XxHash128();
        long written = 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimits.DataChunk);
        try
        {
            using var body = new MuxReadStream(stream, cancellation);
            while (true)
            {
                int n = await body.ReadAsync(buffer.AsMemory(0, ProtocolLimits.DataChunk), cancellation).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                if (written + n > request.Length)
                {
                    throw ProtocolFault.Violation($"more than the announced {request.Length} bytes for '{request.Path}'");
                }

                System.IO.RandomAccess.Write(output, buffer.AsSpan(0, n), written);
                hash.Append(buffer.AsSpan(0, n));
                written += n;
            }

            byte[] trailer = body.Trailer!;
            if (trailer.Length != StrongHash.FullLength)
            {
                throw ProtocolFault.Violation("a file body whose end does not carry a 16-byte checksum");
            }

            if (truncate)
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
        using ParentDirectory parent = tree.OpenParent(request.Path);
        string temp = TempFileNames.For(parent.Name);
        using SafeFileHandle output = CreateTemp(parent, temp, request.Path);
        try
        {
            using var writer = new PatchWriter(basis, basisStat.Size, request.BlockLength, output, request.Length);
            using (var body = new MuxReadStream(stream, cancellation))
            {
                (long length, byte[] hash) = DeltaStream.Pump(body, writer);
                if (body.ReadTrailerAsync().GetAwaiter().GetResult().Length != 0)
                {
                    throw ProtocolFault.Violation("a delta body with a trailer");
                }

                writer.Verify(length, hash);
            }

            Finish(parent, temp, output, request, delayed);
            return Result(writer.Written, writer.LiteralBytes, writer.MatchedBytes);
        }
        catch
        {
            Posix.UnlinkAt(parent.Handle, temp, isDirectory: false);
            throw;
        }
    }

    public static byte[] CreateDirectory(SafeTree tree, AgentRequest request)
    {
        if (request.Path.Length == 0)
        {
            tree.CreateRoot();
        }
        else
        {
            using ParentDirectory parent = tree.OpenParent(request.Path);
            int errno = Posix.MkdirAt(parent.Handle, parent.Name, OwnerAccess);
            if (errno != 0)
            {
                throw SafeTree.Failure(errno, ErrorIds.FileWriteError, "Cannot create directory", request.Path);
            }
        }

        SetAttributes(tree, request);
        return [];
    }

    public static byte[] CreateSymbolicLink(SafeTree tree, AgentRequest request)
    {
        using ParentDirectory parent = tree.OpenParent(request.Path);
        string temp = TempFileNames.For(parent.Name);
        int errno = Posix.SymlinkAt(request.Other, parent.Handle, temp);
        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.SymbolicLinkFailed, "Cannot create symbolic link", request.Path);
        }

        try
        {
            AttributeSet attributes = request.Attributes;
            if (Owner(attributes) is (uint uid, uint gid))
            {
                Check(Posix.LchownAt(parent.Handle, temp, uid, gid), "Cannot set the owner of", request.Path);
            }

            if (attributes.Has(AttributeFields.Time))
            {
                Check(Posix.SetModificationTimeAt(parent.Handle, temp, attributes.MtimeSeconds, attributes.MtimeNanoseconds), "Cannot set the time of", request.Path);
            }

            Rename(parent, temp, request.Path);
        }
        catch
        {
            Posix.UnlinkAt(parent.Handle, temp, isDirectory: false);
            throw;
        }

        return [];
    }

    /// <summary>Applies attributes to an existing item without following a final link: files and directories through
    /// an O_PATH descriptor of exactly the inode found, links through the *at calls with AT_SYMLINK_NOFOLLOW.</summary>
    public static byte[] SetAttributes(SafeTree tree, AgentRequest request)
    {
        AttributeSet attributes = request.Attributes;
        if (attributes.Fields == AttributeFields.None)
        {
            return [];
        }

        using ParentDirectory parent = request.Path.Length == 0 ? tree.OpenDirectory(string.Empty) : tree.OpenParent(request.Path);
        SafeFileHandle? item = parent.Name.Length == 0
            ? null
            : Posix.OpenAt(parent.Handle, parent.Name, Posix.OPath | Posix.ONoFollow, 0, out int errno2) is { } opened ? opened
            : throw SafeTree.Failure(errno2, ErrorIds.MetadataFailed, "Cannot open", request.Path);
        using (item)
        {
            SafeFileHandle target = item ?? parent.Handle;
            Check(Posix.StatAt(target, string.Empty, out StatInfo stat), "Cannot read", request.Path);
            if (stat.FileType == Posix.SIflnk)
            {
                if (Owner(attributes) is (uint uid, uint gid))
                {
                    Check(Posix.LchownAt(parent.Handle, parent.Name, uid, gid), "Cannot set the owner of", request.Path);
                }

                if (attributes.Has(AttributeFields.Time))
                {
                    Check(Posix.SetModificationTimeAt(parent.Handle, parent.Name, attributes.MtimeSeconds, attributes.MtimeNanoseconds), "Cannot set the time of", request.Path);
                }

                return [];
            }

            // chown clears set-user-ID and set-group-ID bits, so ownership comes before the mode.
            if (Owner(attributes) is (uint u, uint g))
            {
                Check(Posix.ChownHandle(target, u, g), "Cannot set the owner of", request.Path);
            }

            if (attributes.Has(AttributeFields.Mode))
            {
                Check(Posix.ChmodHandle(target, attributes.Mode), "Cannot set permissions of", request.Path);
            }

            if (attributes.Has(AttributeFields.Time))
            {
                Check(Posix.SetModificationTimeHandle(target, attributes.MtimeSeconds, attributes.MtimeNanoseconds), "Cannot set the time of", request.Path);
            }
        }

        return [];
    }

    public static byte[] Delete(SafeTree tree, AgentRequest request)
    {
        using ParentDirectory parent = tree.OpenParent(request.Path);
        int errno = Posix.UnlinkAt(parent.Handle, parent.Name, request.Flag);
        if (errno is not (0 or Posix.ENOENT))
        {
            throw SafeTree.Failure(errno, ErrorIds.DeleteFailed, "Cannot delete", request.Path);
        }

        return [];
    }

    internal static SafeFileHandle CreateTemp(ParentDirectory parent, string temp, string relative)
    {
        SafeFileHandle? output = Posix.OpenAt(parent.Handle, temp, Posix.OWrOnly | Posix.OCreat | Posix.OExcl | Posix.ONoFollow, 0x180, out int errno);
        return output ?? throw SafeTree.Failure(errno, ErrorIds.FileWriteError, "Cannot write", relative);
    }

    /// <summary>Attributes through the open descriptor, then the rename into place; with <paramref name="delayed"/>
    /// (-DelayUpdates) the file waits under its temp name for the session's burst instead.</summary>
    internal static void Finish(ParentDirectory parent, string temp, SafeFileHandle output, AgentRequest request, DelayedRenames? delayed = null)
    {
        ApplyAttributes(output, request);
        if (delayed is not null)
        {
            delayed.Add(DelayedRenames.Beside(request.Path, temp), request.Path);
            return;
        }

        Rename(parent, temp, request.Path);
    }

    /// <summary>Owner, mode and time of a written file, through its open descriptor.</summary>
    internal static void ApplyAttributes(SafeFileHandle output, AgentRequest request)
    {
        AttributeSet attributes = request.Attributes;
        if (Owner(attributes) is (uint uid, uint gid))
        {
            Check(Posix.Fchown(output, uid, gid), "Cannot set the owner of", request.Path);
        }

        if (attributes.Has(AttributeFields.Mode))
        {
            Check(Posix.Fchmod(output, attributes.Mode), "Cannot set permissions of", request.Path);
        }

        if (attributes.Has(AttributeFields.Time))
        {
            Check(Posix.SetModificationTime(output, attributes.MtimeSeconds, attributes.MtimeNanoseconds), "Cannot set the time of", request.Path);
        }
    }

    private static void Rename(ParentDirectory parent, string temp, string relative)
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
