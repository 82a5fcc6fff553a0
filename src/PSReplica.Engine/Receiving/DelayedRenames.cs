using PSReplica.Engine.Native;

namespace PSReplica.Engine.Receiving;

/// <summary>-DelayUpdates on a push: the agent's list of finished files waiting under their temp (or partial) names, kept
/// for one session. The controller's CommitUpdates renames them into place one after the other, in the order they
/// finished, as the local executor's burst does; a session that ends first (the run failed, the connection died)
/// removes those under temp names and keeps those under partial names (complete, for -Partial's next run), so the
/// destination's files stay as they were. Paths are relative to the tree's root; every one is reached again by a
/// <see cref="SafeTree"/> walk, never followed through a link.</summary>
internal sealed class DelayedRenames
{
    private readonly object _gate = new();
    private readonly List<Waiting> _waiting = [];
    private readonly Dictionary<string, string> _byTarget = new(StringComparer.Ordinal);

    /// <summary>Notes that <paramref name="output"/> holds <paramref name="target"/>'s new content.</summary>
    /// <param name="obsoletePartial">The partial file the content was resumed from, removed once it is in place.</param>
    /// <param name="partialDirectory">The partial directory that holds <paramref name="output"/>, removed once empty.</param>
    /// <param name="isPartial">The content waits under its partial name: kept when the session ends first.</param>
    public void Add(string output, string target, string? obsoletePartial = null, string? partialDirectory = null, bool isPartial = false)
    {
        lock (_gate)
        {
            _waiting.Add(new Waiting(output, target, obsoletePartial, partialDirectory, isPartial));
            _byTarget[target] = output;
        }
    }

    /// <summary>Where <paramref name="target"/>'s new content waits, if it does (a hard link to it links to that).</summary>
    public string? WaitingPathOf(string target)
    {
        lock (_gate)
        {
            return _byTarget.GetValueOrDefault(target);
        }
    }

    /// <summary>Whether any path this list holds (a waiting file, its target, a partial file or directory to remove) is
    /// <paramref name="relative"/> or below it.</summary>
    public bool HoldsAtOrBelow(string relative)
    {
        lock (_gate)
        {
            foreach (Waiting item in _waiting)
            {
                if (IsAtOrBelow(item.Output, relative) || IsAtOrBelow(item.Target, relative)
                    || (item.ObsoletePartial is { } partial && IsAtOrBelow(partial, relative))
                    || (item.PartialDirectory is { } directory && IsAtOrBelow(directory, relative)))
                {
                    return true;
                }
            }

            return false;
        }
    }

    private static bool IsAtOrBelow(string path, string relative) =>
        path.StartsWith(relative, StringComparison.Ordinal) && (path.Length == relative.Length || path[relative.Length] == '/');

    /// <summary>Renames every waiting file into place; returns those that could not be (each left under its temp name
    /// removed, under its partial name kept) with the reason.</summary>
    public List<(string Path, string Message)> Commit(SafeTree tree)
    {
        Waiting[] waiting = Take();
        var failures = new List<(string, string)>();
        foreach (Waiting item in waiting)
        {
            try
            {
                int errno;
                using (ParentDirectory from = tree.OpenParent(item.Output))
                using (ParentDirectory to = tree.OpenParent(item.Target))
                {
                    errno = Posix.RenameAt(from.Handle, from.Name, to.Handle, to.Name);
                }

                if (errno != 0)
                {
                    throw SafeTree.Failure(errno, ErrorIds.DelayedUpdateFailed, "Cannot move into place", item.Target);
                }

                if (item.ObsoletePartial is not null)
                {
                    Unlink(tree, item.ObsoletePartial, isDirectory: false);
                }

                if (item.PartialDirectory is not null)
                {
                    Unlink(tree, item.PartialDirectory, isDirectory: true);
                }
            }
            catch (SyncException ex)
            {
                if (!item.IsPartial)
                {
                    Unlink(tree, item.Output, isDirectory: false);
                }

                failures.Add((item.Target, ex.Message));
            }
        }

        return failures;
    }

    /// <summary>The session ended before the burst: the files waiting under temp names go.</summary>
    public void Abandon(SafeTree tree)
    {
        foreach (Waiting item in Take())
        {
            if (!item.IsPartial)
            {
                Unlink(tree, item.Output, isDirectory: false);
            }
        }
    }

    /// <summary>The relative path of <paramref name="name"/> in the directory of <paramref name="relative"/>.</summary>
    public static string Beside(string relative, string name)
    {
        int slash = relative.LastIndexOf('/');
        return slash < 0 ? name : string.Concat(relative.AsSpan(0, slash + 1), name);
    }

    private Waiting[] Take()
    {
        lock (_gate)
        {
            Waiting[] waiting = [.. _waiting];
            _waiting.Clear();
            _byTarget.Clear();
            return waiting;
        }
    }

    /// <summary>Removes what this session made; a directory only when empty, anything already gone is fine.</summary>
    private static void Unlink(SafeTree tree, string relative, bool isDirectory)
    {
        try
        {
            using ParentDirectory parent = tree.OpenParent(relative);
            Posix.UnlinkAt(parent.Handle, parent.Name, isDirectory);
        }
        catch (SyncException)
        {
            // Its directory is gone or is no longer a directory: nothing of ours to remove there.
        }
    }

    private sealed record Waiting(string Output, string Target, string? ObsoletePartial, string? PartialDirectory, bool IsPartial);
}
