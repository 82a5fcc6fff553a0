using PSReplica.Engine.Execution;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Client;

/// <summary>Basis directories on a remote receiver (a push with -LinkDest, -CompareDest or -CopyDest): the agent opens
/// each one (relative ones against the destination, as rsync does) and streams its recursive listing, which the planner
/// reads a directory at a time as it asks for candidates, in the order the listing arrives; no round trip per file.</summary>
internal sealed class RemoteBasisLookup : IBasisLookup
{
    private readonly Dictionary<int, RemoteListing> _listings = [];
    private readonly Dictionary<(int Index, string Directory), Dictionary<string, FileEntry>?> _directories = [];
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
        for (int i = 0; i < given.Count; i++)
        {
            string shown = Path.IsPathRooted(given[i]) ? given[i] : client.Root.TrimEnd('/') + "/" + given[i];
            if (client.OpenTreeAsync(i, given[i], cancellation).GetAwaiter().GetResult() is null)
            {
                observer.OnWarning($"The basis directory '{given[i]}' does not exist on the remote host (resolved to '{shown}'); it is ignored.");
                continue;
            }

            lookup._listings[i] = client.ListTreeAsync(i, shown, cancellation).GetAwaiter().GetResult();
            directories.Add(shown);
            indexes.Add(i);
        }

        return BasisDirectories.Remote(kind, directories, indexes, lookup);
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

    /// <summary>A directory's entries by name, or null when the basis has no such directory (or could not read it). A
    /// directory is taken from the stream only once its parent lists it as a directory, so a directory the basis lacks
    /// never waits for a listing that will not come.</summary>
    private Dictionary<string, FileEntry>? Directory(int index, string relative)
    {
        if (_directories.TryGetValue((index, relative), out Dictionary<string, FileEntry>? known))
        {
            return known;
        }

        Dictionary<string, FileEntry>? result = null;
        int slash = relative.LastIndexOf('/');
        Dictionary<string, FileEntry>? parent = relative.Length == 0 ? null : Directory(index, slash < 0 ? string.Empty : relative[..slash]);
        if (relative.Length == 0 || (parent is not null && parent.TryGetValue(slash < 0 ? relative : relative[(slash + 1)..], out FileEntry? self)
            && self.Kind == EntryKind.Directory))
        {
            try
            {
                List<FileEntry> entries = _listings[index].List(relative);
                result = new Dictionary<string, FileEntry>(entries.Count, StringComparer.Ordinal);
                foreach (FileEntry entry in entries)
                {
                    result[entry.Name] = entry;
                }
            }
            catch (SyncException ex) when (ex.ErrorId is not (ErrorIds.ConnectionLost or ErrorIds.ProtocolViolation or ErrorIds.UnsafePath))
            {
                // An unreadable basis directory only means no candidates there, as a failed stat does locally.
                result = null;
            }
        }

        _directories[(index, relative)] = result;
        return result;
    }
}
