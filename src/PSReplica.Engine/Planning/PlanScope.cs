using PSReplica.Engine.Watching;

namespace PSReplica.Engine.Planning;

/// <summary>What a -Watch batch plans again (SyncOptions.Scope; null plans the whole tree): the names a change was seen at,
/// and the subtrees to plan whole. The planner walks only the directories on the way to them: in such a directory only
/// the names on that way are planned (compared, created, updated, deleted), so that a change costs the listings of its
/// ancestors and its own directory, not a scan of the tree. A directory the destination does not have yet, or one named
/// as a subtree, is planned whole with all below it.</summary>
internal sealed class PlanScope
{
    private static readonly HashSet<string> s_none = [];

    // Directory (relative, "" for the root) -> the names in it that are planned: the changed items and the directories on
    // the way to other changes.
    private readonly Dictionary<string, HashSet<string>> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _whole = new(StringComparer.Ordinal);

    private readonly List<(string From, string To)> _moves = [];

    /// <summary>Directories renamed within the tree as the watcher paired them (<see cref="WatchChange.From"/>), in the
    /// order seen: hints that <see cref="Watching.DirectoryMoves"/> may repeat at the destination before the batch is planned.</summary>
    public IReadOnlyList<(string From, string To)> Moves => _moves;

    /// <summary>True when the whole tree is planned (a change of the root's subtree: a lost notification, a rescan).</summary>
    public bool IsEverything => _whole.Contains(string.Empty);

    /// <summary>The scope of <paramref name="changes"/>; the file names of per-directory filter files
    /// (<paramref name="filterFileNames"/>, -UseFilterFiles and dir-merge rules): a change of one plans its directory
    /// whole, since its rules decide for everything below it.</summary>
    public static PlanScope From(IEnumerable<WatchChange> changes, IReadOnlySet<string>? filterFileNames = null)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var scope = new PlanScope();
        foreach (WatchChange change in changes)
        {
            string path = change.RelativePath.Trim('/');
            if (change.Kind == WatchChangeKind.Item && path.Length > 0)
            {
                (string parent, string name) = Split(path);
                if (filterFileNames is not null && filterFileNames.Contains(name))
                {
                    scope.AddWhole(parent);
                }
                else
                {
                    scope.AddName(parent, name);
                }
            }
            else
            {
                scope.AddWhole(path);
                if (change.Kind == WatchChangeKind.Subtree && change.From?.Trim('/') is { Length: > 0 } from && path.Length > 0)
                {
                    scope._moves.Add((from, path));
                }
            }
        }

        return scope;
    }

    /// <summary>True when everything in <paramref name="directory"/> and below is planned.</summary>
    public bool IsWhole(string directory) => _whole.Contains(directory);

    /// <summary>The names planned in <paramref name="directory"/> when it is not planned whole.</summary>
    public IReadOnlySet<string> NamesIn(string directory) => _names.TryGetValue(directory, out HashSet<string>? names) ? names : s_none;

    private void AddWhole(string directory)
    {
        _whole.Add(directory);
        if (directory.Length > 0)
        {
            (string parent, string name) = Split(directory);
            AddName(parent, name);
        }
    }

    private void AddName(string directory, string name)
    {
        while (true)
        {
            if (!_names.TryGetValue(directory, out HashSet<string>? names))
            {
                names = new HashSet<string>(StringComparer.Ordinal);
                _names[directory] = names;
            }

            if (!names.Add(name) || directory.Length == 0)
            {
                // Already on the way (so are its ancestors), or the root.
                return;
            }

            (directory, name) = Split(directory);
        }
    }

    private static (string Parent, string Name) Split(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? (string.Empty, path) : (path[..slash], path[(slash + 1)..]);
    }
}
