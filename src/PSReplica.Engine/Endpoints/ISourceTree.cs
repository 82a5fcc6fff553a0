using PSReplica.Engine.Delta;

namespace PSReplica.Engine.Endpoints;

/// <summary>A source tree the executor cannot read by path (an agent as sender). Paths are relative to its root.
/// The local destination hands it the open files to write (<see cref="Receiving.PendingFile"/>).</summary>
internal interface ISourceTree
{
    /// <summary>Copies the source file into the new, empty file <paramref name="target"/> (the destination's pending
    /// file), with <paramref name="sparse"/> (-Sparse) leaving holes for blocks of zeros. Returns the length.</summary>
    long Copy(string relative, SafeFileHandle target, Action<long>? progress, CancellationToken cancellation, bool sparse = false);

    /// <summary>Rebuilds the source file into <paramref name="target"/> from the local <paramref name="basis"/> (open,
    /// <paramref name="basisLength"/> bytes) and the delta the source side computes against its signature; verified.</summary>
    /// <exception cref="SyncException">DeltaVerificationFailed when the rebuilt file does not match.</exception>
    DeltaResult CopyDelta(string relative, SafeFileHandle basis, long basisLength, SafeFileHandle target, int? blockLength, Action<long>? progress,
        CancellationToken cancellation, bool sparse = false);

    /// <summary>Writes the source file's bytes into <paramref name="output"/> from its current position and checks them
    /// against the source's checksum (-Inplace writes the destination file this way). Returns the length.</summary>
    long Read(string relative, System.IO.Stream output, CancellationToken cancellation);

    /// <summary>Has the source side compute the delta of its file against <paramref name="signature"/> and gives the ops to
    /// <paramref name="sink"/>, which verifies (-Inplace patches the destination file itself this way).</summary>
    DeltaResult Delta(string relative, Signature signature, IDeltaSink sink, Action<long>? progress, CancellationToken cancellation);
}
