using System.Collections.Generic;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>How the planner reads one side's tree, a directory at a time: the local file system, or an agent's
/// streamed listing.</summary>
internal interface ITreeLister
{
    /// <summary>The entries of one directory in ordinal name order.</summary>
    /// <param name="fullPath">The directory's path as the side names it (the root joined with <paramref name="relative"/>).</param>
    /// <param name="relative">The directory relative to the side's root ("" is the root).</param>
    /// <exception cref="SyncException">The directory could not be read.</exception>
    List<FileEntry> List(string fullPath, string relative);
}
