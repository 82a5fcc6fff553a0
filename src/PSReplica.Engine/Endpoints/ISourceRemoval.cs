using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>A remote source that can remove a sent file (-RemoveSourceFiles with a pull).</summary>
internal interface ISourceRemoval
{
    /// <summary>Removes the source's file or link at <paramref name="relative"/> if it still has the length and time of
    /// <paramref name="listed"/>; throws <see cref="SyncException"/> (SourceChangedSinceListing) when it does not.</summary>
    void RemoveSource(string relative, FileEntry listed, CancellationToken cancellation);
}
