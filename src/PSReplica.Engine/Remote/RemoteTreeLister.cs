using System.Collections.Generic;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Remote;

/// <summary>Serves the planner's per-directory listings from one recursive listing streaming in from the agent. The
/// stream hands each directory out once; the planner lists a directory twice only when it replaces a directory by a
/// non-directory (the check for contents, then the deletion), one call after the other, so the last directory taken
/// is kept for a repeat.</summary>
internal sealed class RemoteTreeLister : ITreeLister
{
    private readonly RemoteListing _listing;
    private readonly object _gate = new();
    private string? _lastPath;
    private List<FileEntry>? _lastEntries;

    public RemoteTreeLister(RemoteListing listing) => _listing = listing;

    public List<FileEntry> List(string fullPath, string relative)
    {
        lock (_gate)
        {
            if (_lastPath == relative && _lastEntries is not null)
            {
                return _lastEntries;
            }
        }

        List<FileEntry> entries = _listing.List(relative);
        lock (_gate)
        {
            _lastPath = relative;
            _lastEntries = entries;
        }

        return entries;
    }
}
