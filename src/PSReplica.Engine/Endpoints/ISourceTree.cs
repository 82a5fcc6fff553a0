using System;
using System.Threading;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Delta;

namespace PSReplica.Engine.Endpoints;

/// <summary>A source tree the executor cannot read by path (an agent as sender). Paths are relative to its root.
/// The local destination's temp file and basis are still written and read here, by path.</summary>
internal interface ISourceTree
{
    /// <summary>Copies the source file into the new file <paramref name="target"/>; <paramref name="finish"/> gets the
    /// open target. Returns the length.</summary>
    long Copy(string relative, string target, Action<long>? progress, Action<SafeFileHandle>? finish, CancellationToken cancellation);

    /// <summary>Rebuilds the source file into <paramref name="target"/> from the local <paramref name="basis"/> and the
    /// delta the source side computes against its signature; verified before <paramref name="finish"/>.</summary>
    /// <exception cref="SyncException">DeltaVerificationFailed when the rebuilt file does not match.</exception>
    DeltaResult CopyDelta(string relative, string basis, string target, int? blockLength, Action<long>? progress,
        Action<SafeFileHandle>? finish, CancellationToken cancellation);

    /// <summary>Writes the source file's bytes into <paramref name="output"/> from its current position and checks them
    /// against the source's checksum (-Inplace writes the destination file this way). Returns the length.</summary>
    long Read(string relative, System.IO.Stream output, CancellationToken cancellation);

    /// <summary>Has the source side compute the delta of its file against <paramref name="signature"/> and gives the ops to
    /// <paramref name="sink"/>, which verifies (-Inplace patches the destination file itself this way).</summary>
    DeltaResult Delta(string relative, Signature signature, IDeltaSink sink, Action<long>? progress, CancellationToken cancellation);
}
