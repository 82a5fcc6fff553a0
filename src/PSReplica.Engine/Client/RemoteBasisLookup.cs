using PSReplica.Engine.Execution;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Client;

/// <summary>Basis directories on a remote receiver (a push with -LinkDest, -CompareDest or -CopyDest): the agent opens
/// each one (relative ones against the destination, as rsync does) and streams its recursive listing, which the planner
/// reads a directory at a time as it asks for candidates, in the order the listing arrives; no round trip per file.
/// The planner asks for the files of the directory it is planning, and walks the tree in <see cref="PlanOrder"/>, so
/// only the directories from the basis's root down to that one are kept (it comes back to them after a subdirectory);
/// and each listing holds at most <see cref="RemoteListing.EntriesAhead"/> entries ahead of the planner, dropping the
/// directories it has passed (<see cref="RemoteListing.DropsPassed"/>): a million-file basis is never held whole.</summary>
internal sealed class RemoteBasisLookup : IBasisLookup
{
    private readonly Dictionary<int, RemoteListing> _listings = [];

    /// <summary>For each basis: the directories from its root down to the one asked for last, each with its entries by
    /// name (null where the basis has no such directory, or could not read it).</summary>
    private readonly Dictionary<int, List<(string Path, Dictionary<string, FileEntry>? Entries)>> _chains = [];
    private readonly object _gate = new();

    /// <summary>Opens the options' basis directories on the agent; null when the run has none.</summary>
    /// <exception cref="SyncException">InvalidBasisDirectories (mixed kinds, too many), InvalidParameterCombination (an
    /// agent without the "trees" capability).</exception>
    public static BasisDirectories? Open(AgentClient client, SyncOptions options, ISyncObserver observer, CancellationToken cancellation)
    {
        (BasisKind kind, IReadOnlyList<string> given) = BasisDirectories.Given(options, client.Root);
        if (kind == BasisKind.None)
        {
            return null;
        }

        if (!client.HasBasisTrees)
        {
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                $"The agent (version {client.AgentVersion}) does not serve basis directories; update it to use -LinkDest, -CompareDest or -CopyDest remotely.",
                client.Root);
        }

        var lookup = new RemoteBasisLookup();
        var directories = new List<string>();
        var indexes = new List<int>();
        try
        {
            for (int i = 0; i < given.Count; i++)
            {
                string shown = Path.IsPathRooted(given[i]) ? given[i] : client.Root.TrimEnd('/') + "/" + given[i];
                if (client.OpenTreeAsync(i, given[i], cancellation).GetAwaiter().GetResult() is null)
                {
                    observer.OnWarning($"The basis directory '{given[i]}' does not exist on the remote host (resolved to '{shown}'); it is ignored.");
                    continue;
                }

                lookup._listings[i] = client.ListTreeAsync(i, shown, cancellation, RemoteListing.EntriesAhead).GetAwaiter().GetResult();
                directories.Add(shown);
                indexes.Add(i);
            }
        }
        catch
        {
            lookup.StopHolding();
            throw;
        }

        return BasisDirectories.Remote(kind, directories, indexes, lookup, client.LinksSymbolicLinks, client.VerifiesBasisCopies);
    }

    /// <summary>Nobody will look anything up again (the planner is done): each listing's rest is read and dropped, so the
    /// agent's walks end.</summary>
    public void StopHolding()
    {
        foreach (RemoteListing listing in _listings.Values)
        {
            listing.StopHolding();
        }
    }

    public FileEntry? Find(int index, string relative)
    {
        int slash = relative.LastIndexOf('/');
        lock (_gate)
        {
            Dictionary<string, FileEntry>? directory = Directory(index, slash < 0 ? string.Empty : relative[..slash]);
            return directory is not null && directory.TryGetValue(slash < 0 ? relative : relative[(slash + 1)..], out FileEntry? entry) ? entry : null;
        }
    }

    /// <summary>A directory's entries by name, or null when the basis has no such directory (or could not read it). The
    /// directories kept are those above it; the rest, which the planner has passed, are let go. A directory is taken from
    /// the stream only once its parent lists it as a directory, so a directory the basis lacks never waits for a listing
    /// that will not come.</summary>
    private Dictionary<string, FileEntry>? Directory(int index, string relative)
    {
        if (!_chains.TryGetValue(index, out List<(string Path, Dictionary<string, FileEntry>? Entries)>? chain))
        {
            chain = [];
            _chains[index] = chain;
        }

        int kept = 0;
        while (kept < chain.Count && PlanOrder.Contains(chain[kept].Path, relative))
        {
            kept++;
        }

        if (kept > 0 && chain[kept - 1].Path == relative)
        {
            // Kept: the planner is back from a subdirectory (or still there).
            chain.RemoveRange(kept, chain.Count - kept);
            return chain[^1].Entries;
        }

        if (kept < chain.Count && PlanOrder.Compare(relative, chain[kept].Path) < 0)
        {
            // Behind the planner's walk: never asked for in its order. Taking it from the stream again would wait for a
            // directory already handed out; no candidates is what an unlisted directory means.
            return null;
        }

        chain.RemoveRange(kept, chain.Count - kept);
        if (chain.Count == 0)
        {
            chain.Add((string.Empty, Take(index, string.Empty)));
        }

        while (chain[^1].Path.Length < relative.Length)
        {
            (string parentPath, Dictionary<string, FileEntry>? parent) = chain[^1];
            int start = parentPath.Length == 0 ? 0 : parentPath.Length + 1;
            int end = relative.IndexOf('/', start);
            string path = end < 0 ? relative : relative[..end];
            string name = path[start..];
            Dictionary<string, FileEntry>? entries = parent is not null && parent.TryGetValue(name, out FileEntry? self) && self.Kind == EntryKind.Directory
                ? Take(index, path)
                : null;
            chain.Add((path, entries));
        }

        return chain[^1].Entries;
    }

    /// <summary>One directory of a basis's listing by name, or null when it could not be read.</summary>
    private Dictionary<string, FileEntry>? Take(int index, string relative)
    {
        try
        {
            List<FileEntry> entries = _listings[index].List(relative);
            var result = new Dictionary<string, FileEntry>(entries.Count, StringComparer.Ordinal);
            foreach (FileEntry entry in entries)
            {
                result[entry.Name] = entry;
            }

            return result;
        }
        catch (SyncException ex) when (ex.ErrorId is not (ErrorIds.ConnectionLost or ErrorIds.ProtocolViolation or ErrorIds.UnsafePath))
        {
            // An unreadable basis directory only means no candidates there, as a failed stat does locally.
            return null;
        }
    }
}
