using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>A remote destination that describes the files of its basis directories as it describes its copies
/// (<see cref="ICopyVerification"/>): -CompareDest with -RemoveSourceFiles removes a source file that a basis directory
/// holds once that file is verified, as rsync removes it.</summary>
internal interface IBasisCopyVerification
{
    /// <summary>The item at <paramref name="relative"/> in basis directory <paramref name="index"/> (null when nothing is
    /// there) and, for a regular file, the XXH3-128 of its content.</summary>
    /// <exception cref="SyncException">The item could not be read.</exception>
    (FileEntry Copy, UInt128? Checksum)? DescribeBasisCopy(int index, string relative, CancellationToken cancellation);
}
