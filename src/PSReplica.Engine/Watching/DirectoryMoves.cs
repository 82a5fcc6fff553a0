using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Filtering;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Watching;

/// <summary>-Watch (issue 17): a directory renamed in the source is renamed at the destination too, before the batch is
/// planned, instead of copied again under its new name and deleted under its old one; the batch's plan then finds it up
/// to date but for what changed inside. Only where the result is what the sync would have made (<see cref="Refusal"/>):
/// a mirror (-Delete would delete the old name anyway) that keeps nothing it deletes and selects by names alone, a
/// filter that selects both names, the source's directory at the new
/// name and nothing at the old one, the destination's directory at the old name and nothing at the new one (checked by
/// the move itself, which never replaces). Anything else is left to the sync, which copies as it always did.</summary>
internal static class DirectoryMoves
{
    /// <summary>A local destination's moves, through its rooted tree (<see cref="Receiving.SafeTree.MoveDirectory"/>).</summary>
    public sealed class Local(string root) : IDirectoryMoves
    {
        public int MoveDirectory(string from, string to, CancellationToken cancellation)
        {
            using var tree = new Receiving.SafeTree(root);
            return tree.MoveDirectory(from, to);
        }
    }

    /// <summary>Repeats the renames of <paramref name="batch"/>'s scope through <paramref name="destination"/>, reporting a
    /// Delete of the old name and a Create of the new one for each (what the destination went through).</summary>
    /// <param name="destinationRoot">The destination's root as the items name it.</param>
    public static void Apply(SyncOptions batch, IDirectoryMoves destination, string destinationRoot, ISyncObserver observer, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(observer);
        if (batch.Scope is not { Moves.Count: > 0 } scope)
        {
            return;
        }

        string? refused = Refusal(batch);
        string? sourceRoot = SourceSet.Resolve(batch).ScanRoot;
        foreach ((string from, string to) in scope.Moves)
        {
            cancellation.ThrowIfCancellationRequested();
            string? why = refused
                ?? (sourceRoot is null ? "the source is not a directory"
                    : !IsDirectory(Path.Join(sourceRoot, to)) ? "the source's new name is no longer a directory"
                    : Posix.Stat(Path.Join(sourceRoot, from), follow: false, out _) != Posix.ENOENT ? "the source holds the old name again"
                    : !Selected(batch.Filter, from) || !Selected(batch.Filter, to) ? "the filter does not select both names"
                    : null);
            if (why is null)
            {
                int errno;
                try
                {
                    errno = destination.MoveDirectory(from, to, cancellation);
                }
                catch (SyncException ex) when (ex.ErrorId is not (ErrorIds.ConnectionLost or ErrorIds.PeerTimeout))
                {
                    // A link on the way (UnsafePath) or a directory that cannot be reached: the sync meets it as usual.
                    errno = -1;
                    why = ex.Message.TrimEnd('.');
                }

                if (errno == 0)
                {
                    observer.OnVerbose($"Watch: '{from}' was renamed '{to}' in the source, and at the destination too (not copied again)");
                    observer.OnItem(Item(SyncAction.Delete, from, Itemizer.Deleting, SyncReason.Extraneous, destinationRoot));
                    observer.OnItem(Item(SyncAction.Create, to, Itemizer.New('c', SyncItemType.Directory), SyncReason.New, destinationRoot, Path.Join(sourceRoot, to)));
                    continue;
                }

                why ??= "the destination could not: " + Posix.Describe(errno);
            }

            if (observer.WantsVerbose)
            {
                observer.OnVerbose($"Watch: '{from}' was renamed '{to}' in the source; not repeated at the destination ({why}): it is synced as usual");
            }
        }
    }

    /// <summary>Why a rename is not repeated under <paramref name="options"/>, or null when the mirror would hold the same
    /// after it: -Delete, nothing that keeps what a sync deletes (-Backup, -MaxDelete, excluded or protected items at the
    /// destination, which rsync leaves under the old name), and no selection by anything but names.</summary>
    internal static string? Refusal(SyncOptions options) =>
        !options.Delete ? "without -Delete the old name stays at the destination"
        : options.Backup ? "-Backup keeps a copy of what a sync deletes"
        : options.MaxDelete is not null ? "-MaxDelete limits what a sync deletes"
        : options.Update || options.IgnoreExisting || options.ExistingOnly || options.ArchiveOnly || options.MinSize is not null
            || options.MaxSize is not null || options.MaxAgeCutoff is not null || options.MinAgeCutoff is not null || options.OneFileSystem
            || options.PruneEmptyDirectories || options.RemoveSourceFiles
            ? "an option selects items by more than their names"
        : options.Filter.Rules.Count > 0 && !(options.DeleteExcluded && DecidesByNames(options.Filter) && !Protects(options.Filter))
            ? "filter rules keep excluded items at the destination (without -DeleteExcluded), or may select otherwise under the new name"
        : null;

    private static bool Protects(SyncFilter filter)
    {
        foreach (FilterRule rule in filter.Rules)
        {
            if (rule.Type == FilterRuleType.Protect)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether every rule matches by an item's name alone (no '/' inside its pattern, no per-directory files):
    /// then a rename moves nothing in or out of the selection but through the renamed directory's own name.</summary>
    internal static bool DecidesByNames(SyncFilter filter)
    {
        if (filter.HasDirMerge)
        {
            return false;
        }

        foreach (FilterRule rule in filter.Rules)
        {
            if (rule.Type is FilterRuleType.Merge or FilterRuleType.DirMerge || rule.Anchored || rule.MatchesFullPath
                || rule.Pattern.TrimEnd('/').Contains('/', StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether the directory and each directory above it are selected on both sides (sent, and not protected).</summary>
    private static bool Selected(SyncFilter filter, string relative)
    {
        for (int end = relative.IndexOf('/'); ; end = relative.IndexOf('/', end + 1))
        {
            string path = end < 0 ? relative : relative[..end];
            if (!filter.Test(path, isDirectory: true, FilterSide.Sender) || !filter.Test(path, isDirectory: true, FilterSide.Receiver))
            {
                return false;
            }

            if (end < 0)
            {
                return true;
            }
        }
    }

    private static bool IsDirectory(string path) => Posix.Stat(path, follow: false, out StatInfo info) == 0 && info.FileType == Posix.SIfdir;

    private static SyncItem Item(SyncAction action, string relative, string itemize, SyncReason reason, string destinationRoot, string? sourcePath = null) =>
        new(action, SyncItemType.Directory, relative, reason, itemize)
        {
            DestinationPath = destinationRoot.EndsWith('/') ? destinationRoot + relative : destinationRoot + "/" + relative,
            SourcePath = sourcePath,
        };
}
