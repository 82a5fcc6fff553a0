namespace PSReplica;

/// <summary>A plan a person (or a change-approval step) has reviewed: <c>Get-SyncPlan ... | Sync-Directory</c>. The apply
/// step plans again from the trees as they are then and carries out an action only when the reviewed plan holds the same
/// action for the same path and the item has not changed since (type, length, time, link target, and what the destination
/// held there); everything else is left alone. A reviewed item that no longer matches is stale: it is skipped and
/// reported, never applied blindly. Within a run the checks are made in plan order on one thread.</summary>
public sealed class ReviewedPlan
{
    private readonly Dictionary<(string Path, SyncAction Action), SyncItem> _items = [];
    private readonly HashSet<(string Path, SyncAction Action)> _admitted = [];
    private readonly HashSet<(string Path, SyncAction Action)> _reported = [];
    // Why a reviewed action that is in the current plan too did not run.
    private readonly Dictionary<(string Path, SyncAction Action), string> _why = [];

    // Directories whose creation (or whose replacement of another type) was not admitted: nothing below them may run.
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

    // Directories below which some action was left out: deleting such a directory would take more than was reviewed.
    private readonly HashSet<string> _holdsUnreviewed = new(StringComparer.Ordinal);

    public ReviewedPlan(IEnumerable<SyncItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (SyncItem item in items)
        {
            // Items come in their shown form (SyncNames): a name that is not UTF-8 is read back to the engine's.
            _items[(SyncNames.Parse(item.RelativePath), item.Action)] = item;
        }
    }

    /// <summary>The number of reviewed items.</summary>
    public int Count => _items.Count;

    /// <summary>Decides whether the current plan's <paramref name="current"/> may run. Called once per action, in plan
    /// order (children before the directory that is deleted after them).</summary>
    internal bool Admit(SyncItem current)
    {
        string path = current.RelativePath;
        var key = (path, current.Action);
        if (_items.TryGetValue(key, out SyncItem? reviewed))
        {
            string? why = IsRefused(path) ? "its directory changed since the plan was made"
                : !Matches(reviewed, current) ? $"it changed since the plan was made (now: {Describe(current)})"
                : current.Action == SyncAction.Delete && current.ItemType == SyncItemType.Directory && _holdsUnreviewed.Contains(path)
                    ? "the directory now holds items the plan does not delete"
                    : null;
            if (why is null)
            {
                _admitted.Add(key);
                return true;
            }

            _why[key] = why;
        }

        bool createsDirectory = current.ItemType == SyncItemType.Directory && current.Action == SyncAction.Create;
        if (createsDirectory || (current.Action == SyncAction.Delete && current.Reason == SyncReason.TypeChanged))
        {
            // What goes in it (or what was to replace it) cannot go in either.
            _refused.Add(path);
        }

        for (int slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            if (!_holdsUnreviewed.Add(path[..slash]))
            {
                break;
            }
        }

        return false;
    }

    /// <summary>True when the reviewed action for this path ran (or, in a dry run, would run).</summary>
    internal bool WasAdmitted(string relativePath) =>
        _admitted.Contains((relativePath, SyncAction.Create)) || _admitted.Contains((relativePath, SyncAction.Update))
        || _admitted.Contains((relativePath, SyncAction.Link)) || _admitted.Contains((relativePath, SyncAction.Metadata));

    /// <summary>After the run: each reviewed item that was not carried out, with why, in the reviewed order. A retry
    /// (-RetryCount) runs the same review again; an item reported once is not reported again.</summary>
    internal IEnumerable<string> StaleItems()
    {
        foreach (KeyValuePair<(string Path, SyncAction Action), SyncItem> entry in _items)
        {
            if (_admitted.Contains(entry.Key) || !_reported.Add(entry.Key))
            {
                continue;
            }

            SyncItem reviewed = entry.Value;
            string why = _why.TryGetValue(entry.Key, out string? reason) ? reason
                : IsRefused(entry.Key.Path) ? "its directory changed since the plan was made"
                : "there is nothing to do for it now: it was already done, or it changed since the plan was made";
            // The engine's name (the host shows it once, SyncNames.Show), not the reviewed item's shown form.
            yield return $"'{entry.Key.Path}' ({Describe(reviewed)}) was skipped: {why}.";
        }
    }

    private static bool Matches(SyncItem reviewed, SyncItem current)
    {
        bool same = reviewed.ItemType == current.ItemType && reviewed.Reason == current.Reason
            && string.Equals(reviewed.Itemize, current.Itemize, StringComparison.Ordinal)
            && string.Equals(SyncNames.Parse(reviewed.LinkTarget), current.LinkTarget, StringComparison.Ordinal);
        if (same && current.ItemType != SyncItemType.Directory)
        {
            // A directory's own length and time change whenever its entries do; its action is what was reviewed.
            same = reviewed.Length == current.Length && SameTime(reviewed.LastWriteTimeUtc, current.LastWriteTimeUtc)
                && reviewed.PreviousLength == current.PreviousLength
                && SameTime(reviewed.PreviousLastWriteTimeUtc, current.PreviousLastWriteTimeUtc);
        }

        return same;
    }

    private static bool SameTime(DateTime? reviewed, DateTime? current) =>
        reviewed is null ? current is null : current is not null && ToUtc(reviewed.Value).Ticks == ToUtc(current.Value).Ticks;

    private static DateTime ToUtc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Local => time.ToUniversalTime(),
        DateTimeKind.Unspecified => DateTime.SpecifyKind(time, DateTimeKind.Utc),
        _ => time,
    };

    private bool IsRefused(string path)
    {
        if (_refused.Count == 0)
        {
            return false;
        }

        if (_refused.Contains(".") || _refused.Contains(path))
        {
            return true;
        }

        for (int slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            if (_refused.Contains(path[..slash]))
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(SyncItem item) =>
        $"{item.Action} {item.ItemType} {item.Itemize.TrimEnd()}"
        + (item.ItemType == SyncItemType.File ? $", {item.Length} bytes, {item.LastWriteTimeUtc:u}" : string.Empty);
}
