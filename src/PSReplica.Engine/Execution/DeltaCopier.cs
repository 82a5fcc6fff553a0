using PSReplica.Engine.Delta;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Execution;

/// <summary>Rebuilds a changed file from the destination's current copy (the basis) and the delta of the source
/// against it: the receiver's signature, the sender's search and the receiver's patch, wired in one process.</summary>
internal static class DeltaCopier
{
    /// <summary>Basis files at least this large are searched while their signature is still being built.</summary>
    internal const long OverlapThreshold = 8L << 20;

    /// <summary>Writes the new file to <paramref name="target"/> (a new temp file) and verifies it against the
    /// source's whole-file checksum; <paramref name="finish"/> gets the open target. For a large basis the signature
    /// is built on another thread while the search and the writer already run (see
    /// <see cref="DeltaMatcher.RunWhileSigning"/>); should that search turn out not to be rsync's, the file is done
    /// again with the complete signature.</summary>
    /// <param name="openSource">Opens the source for one pass over it (a local source through <see cref="Sender.SourceFiles"/>,
    /// so that every pass reads the file the scan saw); each pass closes what it opened.</param>
    /// <exception cref="SyncException">DeltaVerificationFailed when the rebuilt file does not match, even after a second
    /// pass with full-length strong checksums.</exception>
    public static DeltaResult Copy(Func<SafeFileHandle> openSource, string basis, string target, int? blockLength, Action<long>? progress,
        Action<SafeFileHandle>? finish, CancellationToken cancellation, BandwidthThrottle? throttle = null) =>
        Copy(openSource, basis, target, blockLength, progress, finish, OverlapThreshold, SpeculationOptions.Default, cancellation, throttle);

    /// <param name="overlapThreshold">The smallest basis searched while its signature is built (tests lower it).</param>
    /// <param name="speculation">The bounds of that overlap.</param>
    internal static DeltaResult Copy(Func<SafeFileHandle> openSource, string basis, string target, int? blockLength, Action<long>? progress,
        Action<SafeFileHandle>? finish, long overlapThreshold, SpeculationOptions speculation, CancellationToken cancellation,
        BandwidthThrottle? throttle = null)
    {
        using SafeFileHandle basisHandle = FileCopier.OpenSource(basis);
        long length = RandomAccess.GetLength(basisHandle);
        using SafeFileHandle output = FileCopier.OpenTarget(target);
        DeltaResult result = Copy(openSource, basisHandle, length, output, blockLength, progress, overlapThreshold, speculation, throttle, cancellation);
        finish?.Invoke(output);
        return result;
    }

    /// <summary>As <see cref="Copy(Func{SafeFileHandle}, string, string, int?, Action{long}?, Action{SafeFileHandle}?, CancellationToken, BandwidthThrottle?)"/>,
    /// with the basis (<paramref name="length"/> bytes) and the new file already open (the receiver's pending file).</summary>
    /// <param name="sparse">-Sparse: blocks of zeros in the new file, literal or copied from the basis, become holes.</param>
    internal static DeltaResult Copy(Func<SafeFileHandle> openSource, SafeFileHandle basisHandle, long length, SafeFileHandle output, int? blockLength,
        Action<long>? progress, CancellationToken cancellation, BandwidthThrottle? throttle = null, bool sparse = false) =>
        Copy(openSource, basisHandle, length, output, blockLength, progress, OverlapThreshold, SpeculationOptions.Default, throttle, cancellation, sparse);

    private static DeltaResult Copy(Func<SafeFileHandle> openSource, SafeFileHandle basisHandle, long length, SafeFileHandle output, int? blockLength,
        Action<long>? progress, long overlapThreshold, SpeculationOptions speculation, BandwidthThrottle? throttle, CancellationToken cancellation,
        bool sparse = false)
    {
        try
        {
            return CopyOnce(openSource, basisHandle, length, output, blockLength, progress, null, overlapThreshold, speculation, throttle, sparse, cancellation);
        }
        catch (SyncException ex) when (ex.ErrorId == ErrorIds.DeltaVerificationFailed)
        {
            // A block matched on its short strong checksum but was not the same (or the basis changed meanwhile).
            // As rsync's redo pass: the same blocks with all 16 bytes of strong checksum, which no false match
            // survives in practice; should this fail too, the caller sends the file whole.
            RandomAccess.SetLength(output, 0);
            var matcher = new DeltaMatcher(SignatureBuilder.Build(basisHandle, length, blockLength, StrongHash.FullLength, cancellation));
            DeltaResult result = Transfer(openSource, basisHandle, length, matcher.Signature, output, progress,
                (stream, _, sink) => matcher.Run(stream, sink, cancellation), throttle, sparse, cancellation)!;
            return result with { FullStrongSums = true };
        }
    }

    private static DeltaResult CopyOnce(Func<SafeFileHandle> openSource, SafeFileHandle basisHandle, long length, SafeFileHandle output, int? blockLength,
        Action<long>? progress, Action<SafeFileHandle>? finish, long overlapThreshold, SpeculationOptions speculation,
        BandwidthThrottle? throttle, bool sparse, CancellationToken cancellation)
    {
        DeltaMatcher matcher;
        if (length >= overlapThreshold)
        {
            using var signing = new SignatureInProgress(basisHandle, length, blockLength, speculation, cancellation);
            DeltaResult? overlapped = Transfer(openSource, basisHandle, length, signing.Signature, output, progress,
                (stream, input, sink) => DeltaMatcher.RunWhileSigning(signing, stream, input, sink, cancellation), throttle, sparse, cancellation);
            if (overlapped is not null)
            {
                finish?.Invoke(output);
                return overlapped;
            }

            // A stretch taken as literal held a match: start over, as rsync would have searched.
            matcher = signing.Complete(cancellation);
            RandomAccess.SetLength(output, 0);
        }
        else
        {
            matcher = new DeltaMatcher(SignatureBuilder.Build(basisHandle, length, blockLength, cancellation));
        }

        DeltaResult result = Transfer(openSource, basisHandle, length, matcher.Signature, output, progress,
            (stream, _, sink) => matcher.Run(stream, sink, cancellation), throttle, sparse, cancellation)!;
        finish?.Invoke(output);
        return length >= overlapThreshold ? result with { SearchedTwice = true } : result;
    }

    /// <summary>One pass: the search on this thread, the patch writer on another; verifies what it wrote.
    /// Null when the search gave up.</summary>
    private static DeltaResult? Transfer(Func<SafeFileHandle> openSource, SafeFileHandle basis, long basisLength, Signature signature,
        SafeFileHandle output, Action<long>? progress, Func<Stream, SafeFileHandle, IDeltaSink, DeltaResult?> search,
        BandwidthThrottle? throttle, bool sparse, CancellationToken cancellation)
    {
        using SafeFileHandle input = openSource();
        using var writer = new PatchWriter(basis, basisLength, signature.BlockLength, output, long.MaxValue, sparse);
        using var sourceStream = new ProgressReadStream(new SourceReadStream(input), progress ?? (_ => { }), step: 0);
        DeltaResult? result;
        using (var pipeline = new PipelinedSink(writer, cancellation))
        {
            result = search(sourceStream, input, throttle is null ? pipeline : new ThrottledSink(pipeline, throttle, cancellation));
            if (result is null)
            {
                return null;
            }

            pipeline.Complete();
        }

        writer.Verify(result.Length, result.WholeFileHash);
        return result;
    }
}
