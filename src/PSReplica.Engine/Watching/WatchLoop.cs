using System.Threading.Channels;
using PSReplica.Engine.Filtering;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Watching;

/// <summary>-Watch's timing: how long a file's changes must rest before it is planned while it may still be written
/// (-SettleTime; <see cref="ChangeBatches"/>), and how often the
/// whole tree is planned again whatever the notifications said (-RescanInterval; null: never).</summary>
public sealed record WatchSettings(TimeSpan SettleTime, TimeSpan? RescanInterval)
{
    /// <summary>The default -SettleTime.</summary>
    public static readonly TimeSpan DefaultSettleTime = TimeSpan.FromMilliseconds(50);

    /// <summary>A file's changes wait at most this long to rest (a file written without a pause): then it is planned as it
    /// is, and what changes after goes into a later batch.</summary>
    public TimeSpan MaximumDelay => TimeSpan.FromTicks(Math.Max(SettleTime.Ticks * 10, TimeSpan.FromSeconds(2).Ticks));
}

/// <summary>Sync-Directory -Watch (issue 17): a first full sync, then, for each batch of changes the watcher saw (as
/// <see cref="ChangeBatches"/> gathers them), a sync that plans only what changed (<see cref="PlanScope"/>), until the
/// run is cancelled. The watcher starts before the first sync, so a change made while it runs is in the first batch.
/// Lost notifications (a queue overflow, a watch limit) plan the subtree they concern whole, with a warning.</summary>
internal static class WatchLoop
{
    /// <summary>Runs until <paramref name="cancellation"/> is cancelled (OperationCanceledException) or the watcher ends
    /// with an error (the source root vanished: that SyncException).</summary>
    /// <param name="sync">One sync (plan and execution) of these options, reporting to the observer it is given.</param>
    /// <param name="startWatcher">Starts the watcher of the source root's full path.</param>
    public static void Run(SyncOptions options, WatchSettings settings, ISyncObserver observer, Func<SyncOptions, ISyncObserver, SyncSummary> sync,
        Func<string, ITreeWatcher> startWatcher, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentNullException.ThrowIfNull(sync);
        ArgumentNullException.ThrowIfNull(startWatcher);
        Check(options);
        string root = SourceSet.Resolve(options).ScanRoot
            ?? throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                "-Watch needs a directory as the source: a file is synced once.", options.Source);
        // A file written while it was copied is not put in place (SourceMustRest): not an error here, but a change to
        // copy again once it rests.
        options = options with { SourceMustRest = true };
        var restless = new RestlessFiles(observer);
        using ITreeWatcher watcher = startWatcher(root);
        observer.OnVerbose($"Watch: watching '{root}' (settle time {Describe(settings.SettleTime)}, "
            + (settings.RescanInterval is { } interval ? $"a full rescan every {Describe(interval)})" : "no periodic rescan)"));
        observer.OnVerbose("Watch: the first sync, of the whole tree");
        sync(options, restless);
        IReadOnlySet<string> filterFiles = FilterFileNames(options.Filter);
        var batcher = new ChangeBatches(watcher.Changes, settings);
        long batches = 0;
        while (true)
        {
            observer.OnVerbose("Watch: waiting for changes");
            List<string> again = restless.Take();
            List<WatchChange> changes = batcher.Next(cancellation, again.Count > 0);
            foreach (string path in again)
            {
                changes.Add(new WatchChange(WatchChangeKind.Item, path));
            }

            var said = new HashSet<string>(StringComparer.Ordinal);
            foreach (WatchChange change in changes)
            {
                if (change.Kind == WatchChangeKind.Lost && said.Add(change.Reason ?? string.Empty))
                {
                    observer.OnWarning($"Change notifications were lost ({change.Reason ?? "no reason given"}): "
                        + (change.RelativePath.Length == 0 ? "the whole tree is planned again." : $"'{change.RelativePath}' is planned again whole."));
                }
            }

            PlanScope scope = PlanScope.From(changes, filterFiles);
            batches++;
            observer.OnVerbose($"Watch: batch {batches}: {changes.Count} change(s) settled; "
                + (scope.IsEverything ? "planning the whole tree" : "planning what changed")
                + (batcher.Held > 0 ? $"; {batcher.Held} path(s) still being written wait for the settle time" : ""));
            sync(options with { Scope = scope }, restless);
        }
    }

    /// <summary>What -Watch cannot do, refused before anything is touched.</summary>
    internal static void Check(SyncOptions options)
    {
        string? refused = options.Review is not null ? "a reviewed plan (-Plan): a plan is applied once"
            : options.AdditionalSources.Count > 0 ? "several sources: one source directory is watched"
            : options.LinkDest.Count + options.CompareDest.Count + options.CopyDest.Count > 0 ? "-LinkDest, -CompareDest or -CopyDest: a snapshot per change makes no sense"
            : options.RemoveSourceFiles && options.Delete ? "-RemoveSourceFiles together with -Delete: each source file removed would be deleted from the destination at once"
            : null;
        if (refused is not null)
        {
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument, "-Watch cannot be used with " + refused + ".", "Watch");
        }
    }

    /// <summary>The run's observer, except that a source file written while it was copied (SourceChangedSinceListing) is
    /// said by -Verbose and kept for the next batch instead of reported as an error.</summary>
    private sealed class RestlessFiles(ISyncObserver inner) : ISyncObserver
    {
        private readonly object _gate = new();
        private List<string> _paths = [];

        public bool WantsVerbose => inner.WantsVerbose;

        public bool WantsDebug => inner.WantsDebug;

        public bool ConfirmsEachAction => inner.ConfirmsEachAction;

        /// <summary>The files to copy again, and forgets them.</summary>
        public List<string> Take()
        {
            lock (_gate)
            {
                List<string> taken = _paths;
                _paths = [];
                return taken;
            }
        }

        public void OnError(SyncException error)
        {
            if (error.ErrorId != ErrorIds.SourceChangedSinceListing || error.Target is null)
            {
                inner.OnError(error);
                return;
            }

            lock (_gate)
            {
                _paths.Add(error.Target);
            }

            inner.OnVerbose($"Watch: '{error.Target}' changed while it was copied; it is copied again once it rests");
        }

        public void OnItem(SyncItem item) => inner.OnItem(item);

        public void OnWarning(string message) => inner.OnWarning(message);

        public void OnVerbose(string message) => inner.OnVerbose(message);

        public void OnDebug(string message) => inner.OnDebug(message);

        public void OnProgress(SyncProgress progress) => inner.OnProgress(progress);

        public bool ShouldProcess(SyncItem item) => inner.ShouldProcess(item);
    }

    /// <summary>The file names the filter's dir-merge rules read in each directory.</summary>
    private static HashSet<string> FilterFileNames(SyncFilter filter)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (FilterRule rule in filter.Rules)
        {
            if (rule.Type == FilterRuleType.DirMerge)
            {
                names.Add(rule.Pattern[(rule.Pattern.LastIndexOf('/') + 1)..]);
            }
        }

        return names;
    }

    private static string Describe(TimeSpan span) => span.TotalSeconds < 1
        ? $"{span.TotalMilliseconds:0} ms"
        : $"{span.TotalSeconds:0.###} s";
}
