using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>A remote destination that describes its copy of an item as it is now, with a regular file's content checksum:
/// -RemoveSourceFiles with a push removes a source only once its copy is verified by it.</summary>
internal interface ICopyVerification
{
    /// <summary>The item at <paramref name="relative"/> (null when nothing is there) and, for a regular file, the
    /// XXH3-128 of its content.</summary>
    /// <exception cref="SyncException">The item could not be read.</exception>
    (FileEntry Copy, UInt128? Checksum)? DescribeCopy(string relative, CancellationToken cancellation);
}
