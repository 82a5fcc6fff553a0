using PSReplica.Engine.Delta;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Receiving;

/// <summary>-Partial on a push (the "partial" capability). The new content is written under the target's partial name
/// (the name <see cref="PartialFiles"/> gives a local run), so that a connection that dies, or an agent that is killed,
/// leaves the bytes received so far there; the next run resumes by a delta against that partial file. Only a complete
/// file that verified is renamed over the target. When the partial file itself is the basis, the new content goes to a
/// temp name beside it, and the longer of the two is kept on a failure (as the local executor does).</summary>
internal static partial class TreeReceiver
{
    /// <summary>Serialises making, using and removing partial directories among the requests of this agent: a request
    /// must not remove the directory between another's mkdir and its open.</summary>
    private static readonly object s_partialDirectories = new();

    public static byte[] PartialSignature(SafeTree tree, MuxStream stream, AgentRequest request, CancellationToken cancellation)
    {
        using SafeFileHandle? basis = OpenPartialBasis(tree, request, out long length, out _);
        int? blockLength = request.BlockLength == 0 ? null : request.BlockLength;
        Signature signature = basis is null
            ? SignatureBuilder.Build(Stream.Null, 0, blockLength, cancellation)
            : SignatureBuilder.Build(basis, length, blockLength, cancellation);
        using var output = new MuxWriteStream(stream, cancellation);
        SignatureCodec.Write(output, signature);
        output.Flush();
        return [];
    }

    public static byte[] ApplyPartialDelta(SafeTree tree, MuxStream stream, AgentRequest request, CancellationToken cancellation,
        DelayedRenames? delayed = null)
    {
        using SafeFileHandle? basis = OpenPartialBasis(tree, request, out long basisLength, out bool fromPartial);
        using ParentDirectory target = tree.OpenParent(request.Path);
        string? partialDirectory = request.Flag ? Path.GetFileName(Path.GetDirectoryName(request.Other)) : null;
        try
        {
            PendingFile pending;
            ParentDirectory partial;
            lock (s_partialDirectories)
            {
                partial = OpenPartialParent(tree, target, partialDirectory, request);
                if (!fromPartial)
                {
                    // Not a usable basis (a stale link, say): the new partial file takes its place.
                    Posix.UnlinkAt(partial.Handle, partial.Name, isDirectory: false);
                }

                try
                {
                    // Resuming, the new content goes to a temp name beside the partial file; else to the partial name itself.
                    pending = PendingFile.In(new ParentDirectory(partial.Handle, partial.Name, owned: false),
                        fromPartial ? PendingFile.TempName(partial.Name) : partial.Name, request.Path);
                }
                catch
                {
                    partial.Dispose();
                    throw;
                }
            }

            using (partial)
            using (pending)
            {
                try
                {
                    using var writer = new PatchWriter(basis, basisLength, request.BlockLength, pending.Handle, request.Length, tree.Sparse);
                    using (var body = new MuxReadStream(stream, cancellation))
                    {
                        (long length, byte[] hash) = DeltaStream.Pump(body, writer);
                        if (body.ReadTrailerAsync().GetAwaiter().GetResult().Length != 0)
                        {
                            throw ProtocolFault.Violation("a delta body with a trailer");
                        }

                        writer.Verify(length, hash);
                    }

                    pending.SetAttributes(request.Attributes);
                    if (delayed is not null)
                    {
                        // -DelayUpdates: the complete file waits where it was written; under the partial name it is kept
                        // when the run ends before the burst, so the next run resumes from it.
                        delayed.Add(DelayedRenames.Beside(request.Other, pending.Name), request.Path, fromPartial ? request.Other : null,
                            partialDirectory is null ? null : DelayedRenames.Beside(request.Path, partialDirectory), isPartial: !fromPartial);
                        pending.Keep();
                        return Result(writer.Written, writer.LiteralBytes, writer.MatchedBytes);
                    }

                    pending.Commit(target);
                    if (fromPartial)
                    {
                        Posix.UnlinkAt(partial.Handle, partial.Name, isDirectory: false);
                    }

                    return Result(writer.Written, writer.LiteralBytes, writer.MatchedBytes);
                }
                catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
                {
                    // What was written does not make the sender's file: it is no prefix worth keeping (the pending file
                    // goes with it), nor is its basis.
                    Posix.UnlinkAt(partial.Handle, partial.Name, isDirectory: false);
                    throw;
                }
                catch
                {
                    KeepPartial(partial, pending, fromPartial, basisLength);
                    throw;
                }
            }
        }
        finally
        {
            if (partialDirectory is not null)
            {
                lock (s_partialDirectories)
                {
                    // Removed once empty, as rsync does; one still holding partial files stays.
                    Posix.UnlinkAt(target.Handle, partialDirectory, isDirectory: true);
                }
            }
        }
    }

    /// <summary>The basis both requests use: the partial file when it is a regular file, else the target when it is
    /// one, else none (an empty signature; the delta is then all literal data).</summary>
    private static SafeFileHandle? OpenPartialBasis(SafeTree tree, AgentRequest request, out long length, out bool fromPartial)
    {
        foreach ((string path, bool partial) in new[] { (request.Other, true), (request.Path, false) })
        {
            try
            {
                SafeFileHandle handle = tree.OpenRegularFile(path, ErrorIds.FileReadError, out StatInfo stat);
                length = stat.Size;
                fromPartial = partial;
                return handle;
            }
            catch (SyncException)
            {
                // Missing, not a regular file, or in a partial directory not there: not a basis.
            }
        }

        length = 0;
        fromPartial = false;
        return null;
    }

    /// <summary>The directory the partial file goes into; a partial directory is made when missing and must be a real
    /// directory (the walk does not follow links).</summary>
    private static ParentDirectory OpenPartialParent(SafeTree tree, ParentDirectory target, string? partialDirectory, AgentRequest request)
    {
        if (partialDirectory is not null)
        {
            int errno = Posix.MkdirAt(target.Handle, partialDirectory, 0x1C0);
            if (errno is not (0 or Posix.EEXIST))
            {
                throw SafeTree.Failure(errno, ErrorIds.PartialDirectoryUnusable, "Cannot create the partial directory for", request.Path);
            }
        }

        return tree.OpenParent(request.Other);
    }

    /// <summary>After a failure the bytes written so far are a prefix of the new file and stay as the partial file (an
    /// empty one goes). Written to a temp name beside an older partial file, the longer of the two stays.</summary>
    private static void KeepPartial(ParentDirectory partial, PendingFile pending, bool fromPartial, long basisLength)
    {
        long written = Posix.StatAt(pending.Handle, string.Empty, out StatInfo stat) == 0 ? stat.Size : 0;
        if (!fromPartial)
        {
            if (written > 0)
            {
                pending.Keep();
            }
        }
        else if (written > basisLength && Posix.RenameAt(partial.Handle, pending.Name, partial.Name) == 0)
        {
            pending.Keep();
        }
    }
}
