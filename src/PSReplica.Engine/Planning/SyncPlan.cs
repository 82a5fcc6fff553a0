using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica;

/// <summary>What a run would do, in execution order, and what the scan found.</summary>
public sealed class SyncPlan
{
    private readonly PlanActions _actions = new();
    private readonly List<SyncException> _scanErrors = [];

    internal SyncPlan(SyncOptions options, string sourceRoot, string destinationRoot, SourceSet? sources = null)
    {
        Options = options;
        SourceRoot = sourceRoot;
        DestinationRoot = destinationRoot;
        if (sources is null)
        {
            Sources = [sourceRoot];
            SourceRoots = [sourceRoot];
        }
        else
        {
            var named = new string[sources.Members.Count];
            for (int i = 0; i < named.Length; i++)
            {
                named[i] = sources.Members[i].Path;
            }

            Sources = named;
            SourceRoots = sources.Roots;
        }
    }

    public SyncOptions Options { get; }

    /// <summary>The source directory (with several sources, the first directory among them; when only files were named,
    /// the first one's directory).</summary>
    public string SourceRoot { get; }

    /// <summary>Every source as named, in order: directories and files (full paths).</summary>
    public IReadOnlyList<string> Sources { get; }

    public string DestinationRoot { get; }

    /// <summary>Destination directories (relative, "" the root) on a file system that cannot hold everything, and what it
    /// holds; a directory not listed is on its parent's file system.</summary>
    /// (Read by the runner while a streamed plan is still being made.)
    internal System.Collections.Concurrent.ConcurrentDictionary<string, PSReplica.Engine.Endpoints.FileSystemTraits> DestinationTraits { get; } =
        new(StringComparer.Ordinal);

    /// <summary>The file system <paramref name="relative"/> (an item of the destination) is written to.</summary>
    internal PSReplica.Engine.Endpoints.FileSystemTraits TraitsOf(string relative)
    {
        if (DestinationTraits.IsEmpty)
        {
            return PSReplica.Engine.Endpoints.FileSystemTraits.Full;
        }

        for (string path = relative; ; path = path.LastIndexOf('/') is int slash and >= 0 ? path[..slash] : string.Empty)
        {
            if (DestinationTraits.TryGetValue(path, out PSReplica.Engine.Endpoints.FileSystemTraits? traits))
            {
                return traits;
            }

            if (path.Length == 0)
            {
                return PSReplica.Engine.Endpoints.FileSystemTraits.Full;
            }
        }
    }

    /// <summary>The planned items in execution order.</summary>
    public IEnumerable<SyncItem> Items
    {
        get
        {
            foreach (PlannedAction action in _actions)
            {
                yield return action.Item;
            }
        }
    }

    public int Count => _actions.Count;

    /// <summary>Errors met while scanning either tree; when any occurred, extraneous items are not deleted.</summary>
    public IReadOnlyList<SyncException> ScanErrors => _scanErrors;

    /// <summary>Other errors met while planning (an item that cannot be replaced as planned): counted, not blocking deletions.</summary>
    public int PlanErrors { get; internal set; }

    public long ItemsTotal { get; internal set; }

    public long FilesTotal { get; internal set; }

    public long TotalBytes { get; internal set; }

    /// <summary>Bytes the plan will copy.</summary>
    public long BytesToTransfer { get; internal set; }

    internal PlanActions Actions => _actions;

    /// <summary>The planner's thread while a streamed plan is being made (<see cref="PlanActions.Streams"/>), else null.</summary>
    internal Task? Planning { get; set; }

    /// <summary>The runner has stopped: ends a streamed plan's planner and waits for it (what it fails with was its own
    /// to report), so nothing the planner writes is read while it still writes.</summary>
    internal void StopPlanning()
    {
        if (Planning is { } planning)
        {
            _actions.Abandon();
            try
            {
                planning.Wait();
            }
            catch (AggregateException)
            {
                // Its failure is rethrown by the runner (PlanActions.ThrowIfFailed) or superseded by the runner's own.
            }
        }
    }

    internal List<SyncException> MutableScanErrors => _scanErrors;

    /// <summary>With -RemoveSourceFiles: every selected non-directory of the source (transferred or already up to date)
    /// with its destination path, for removal once the copy is verified; with -ResetArchive alone every selected regular
    /// file, whose Archive attribute is cleared once the copy is verified. A streamed plan's runner settles them as the
    /// run goes and the queue holds a window of them.</summary>
    internal SourceFileQueue SourceFiles { get; } = new();

    /// <summary>The directories a local source's files are opened from (<see cref="Sender.SourceFiles"/>): each directory
    /// source, and each file source's directory.</summary>
    internal IReadOnlyList<string> SourceRoots { get; }

    /// <summary>Source directories by relative path ("" is the root): their times are applied after their contents.</summary>
    internal Dictionary<string, FileEntry> SourceDirectories { get; } = new(System.StringComparer.Ordinal);

    /// <summary>Destination directories (relative, "" the root) whose owner lacks write or search permission, with their
    /// mode as listed: the runner makes such a directory writable before it creates, renames or deletes in it, and gives
    /// it its mode back at the end (rsync does the same for a non-root user).</summary>
    /// (Read by the runner while a streamed plan is still being made.)
    internal System.Collections.Concurrent.ConcurrentDictionary<string, int> ClosedDirectories { get; } = new(System.StringComparer.Ordinal);
}
