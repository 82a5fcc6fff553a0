using PSReplica.Engine.Delta;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Execution;

/// <summary>-Inplace (rsync --inplace): the destination file itself is rewritten, with no temp file. The signature of
/// the old content is complete before the first byte is written (a signature built alongside would read bytes that are
/// already new), and the file is cut to the new length at the end.</summary>
internal static class InplaceCopier
{
    private const int OwnerWrite = 0x80;

    /// <summary>Opens the destination file for rewriting: an existing regular file for reading and writing, never through a
    /// symbolic link (O_NOFOLLOW); a file its owner may not write is made writable first (the final mode is set after
    /// the content). Without <paramref name="exists"/> the file is created, refusing anything that appeared there.</summary>
    public static SafeFileHandle Open(string path, bool exists, string relative)
    {
        int flags = Posix.ORdWr | Posix.ONoFollow | (exists ? 0 : Posix.OCreat | Posix.OExcl);
        SafeFileHandle? handle = Posix.Open(path, flags, 0x180, out int errno);
        if (handle is null && exists && errno is Posix.EACCES
            && Posix.Stat(path, follow: false, out StatInfo info) == 0 && info.FileType == Posix.SIfreg && (info.Mode & OwnerWrite) == 0
            && Posix.Chmod(path, info.Permissions | OwnerWrite) == 0)
        {
            handle = Posix.Open(path, flags, 0x180, out errno);
        }

        return handle ?? throw (errno is Posix.EACCES or Posix.EPERM
            ? new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied, $"Cannot write '{relative}' in place: permission denied.", relative)
            : new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError, $"Cannot write '{relative}' in place: {Posix.Describe(errno)}.", relative));
    }

    /// <summary>Rebuilds <paramref name="file"/> from its own old content and the delta that <paramref name="produce"/>
    /// gets from the source against its signature; verified, then cut to the new length. The result counts the literal
    /// bytes written (including blocks taken from <paramref name="source"/> because their basis bytes were overwritten).</summary>
    /// <exception cref="InplaceConflictException">Without <paramref name="source"/>, a block's basis bytes were overwritten.</exception>
    /// <exception cref="SyncException">DeltaVerificationFailed when the result does not match.</exception>
    public static DeltaResult Delta(SafeFileHandle file, int? blockLength, SafeFileHandle? source,
        Func<Signature, IDeltaSink, DeltaResult> produce, CancellationToken cancellation)
    {
        long length = RandomAccess.GetLength(file);
        Signature signature = SignatureBuilder.Build(file, length, blockLength, cancellation);
        using var writer = new InplacePatchWriter(file, length, signature.BlockLength, source);
        DeltaResult result = produce(signature, writer);
        writer.Verify(result.Length, result.WholeFileHash);
        RandomAccess.SetLength(file, result.Length);
        return result with { LiteralBytes = writer.LiteralBytes, MatchedBytes = writer.MatchedBytes };
    }

    /// <summary>The local producer: searches the source that <paramref name="openSource"/> opens (a local source through
    /// <see cref="Sender.SourceFiles"/>) against the signature, the writer on another thread.</summary>
    public static DeltaResult Search(Func<SafeFileHandle> openSource, Signature signature, IDeltaSink sink, Action<long> progress, BandwidthThrottle? throttle,
        CancellationToken cancellation)
    {
        var matcher = new DeltaMatcher(signature);
        using SafeFileHandle input = openSource();
        using var stream = new ProgressReadStream(new SourceReadStream(input), progress, step: 0);
        DeltaResult result;
        using (var pipeline = new PipelinedSink(sink, cancellation))
        {
            result = matcher.Run(stream, throttle is null ? pipeline : new ThrottledSink(pipeline, throttle, cancellation), cancellation);
            pipeline.Complete();
        }

        return result;
    }
}
