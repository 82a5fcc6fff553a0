using System.Diagnostics;
using PSReplica.Engine.Client;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica.Engine.Execution;

/// <summary>Runs a plan, and only that: the order of the actions, the copy workers, which items are reported, counted,
/// skipped or declined, -MaxDelete and the no-deletion-after-an-I/O-error rule, the -DelayUpdates burst, and the
/// directories' attributes after their contents. Every action is carried out by an <see cref="IDestination"/> (this
/// process's receiver, an agent, SFTP), so this type holds no file-system or wire code. Items are reported in plan
/// order even when copies finish out of order; a plan names each path once (a type change deletes before it creates)
/// and a file's directory is made before the file is queued, so no two concurrent actions touch the same path.</summary>
internal sealed partial class PlanRunner : IDisposable
{

    private readonly SyncPlan _plan;
    private readonly SyncOptions _options;
    private readonly ISyncObserver _observer;
    private readonly CancellationToken _cancellation;
    private readonly SyncSummary _summary;
    private readonly HashSet<string> _touchedDirectories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _createdDirectories = new(StringComparer.Ordinal);
    private readonly List<string> _declined = [];

    /// <summary>Closed destination directories (<see cref="SyncPlan.ClosedDirectories"/>) opened for their owner, with
    /// the mode they had; and those already seen (opened, or left as they are).</summary>
    private readonly Dictionary<string, int> _opened = new(StringComparer.Ordinal);
    private readonly HashSet<string> _openingSeen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deletedDirectories = new(StringComparer.Ordinal);
    private readonly AttributePolicy _attributes;
    private readonly TransferMeter _meter;

    /// <summary>Where the actions are carried out: this process's receiver (a local run, a pull), an agent, or SFTP.</summary>
    private readonly IDestination _destination;
    private readonly object _gate = new();
    private readonly IDestinationTree? _destinationTree;
    private readonly ISourceTree? _sourceTree;

    /// <summary>A local source's files, each opened checked against the scan (null when an agent or SFTP holds the source).</summary>
    private readonly SourceFiles? _sourceFiles;
    private readonly PlanOrderReporter _reporter;
    private readonly CopyWorkers _workers;

    private readonly bool _dryRun;

    /// <summary>Asked once: the skip reasons and totals are built only when -Verbose shows them.</summary>
    private readonly bool _verbose;

    private PlanRunner(SyncPlan plan, ISyncObserver observer, bool dryRun, CancellationToken cancellation,
        IDestinationTree? destinationTree = null, ISourceTree? sourceTree = null)
    {
        _plan = plan;
        _destinationTree = destinationTree;
        _sourceTree = sourceTree;
        _sourceFiles = sourceTree is null ? new SourceFiles(plan.SourceRoots, plan.Options.CopyLinks) : null;
        _dryRun = dryRun;
        _options = plan.Options;
        _observer = observer;
        _verbose = observer.WantsVerbose;
        _attributes = new AttributePolicy(plan, destinationTree is { LimitsNewModes: true } ? AttributePolicy.NewModes.ByReceiver : AttributePolicy.NewModes.Umask);
        _meter = new TransferMeter(plan, observer);
        _destination = destinationTree is null
            ? new LocalDestination(plan, sourceTree, _sourceFiles, observer, _attributes, _meter, cancellation)
            : new RemoteDestination(plan, destinationTree, _sourceFiles, observer, _attributes, _meter, ReportError, cancellation);
        _workers = new CopyWorkers(_options.ThrottleLimit ?? _destination.Workers, Complete, CopyCrashed, cancellation);
        _reporter = new PlanOrderReporter(observer);
        _cancellation = cancellation;
        _summary = new SyncSummary
        {
            Source = string.Join(", ", plan.Sources),
            Destination = plan.DestinationRoot,
            ItemsTotal = plan.ItemsTotal,
            FilesTotal = plan.FilesTotal,
            TotalBytes = plan.TotalBytes,
        };
    }

    private bool Preserves(PreserveOptions flag) => (_options.Preserve & flag) != 0;

    /// <param name="dryRun">Report what would be done (with -MaxDelete and the I/O-error rule applied) and change nothing.</param>
    public static SyncSummary Run(SyncPlan plan, ISyncObserver observer, bool dryRun, CancellationToken cancellation)
    {
        using var executor = new PlanRunner(plan, observer, dryRun, cancellation);
        return executor.Run();
    }

    /// <summary>Runs a plan whose destination (<paramref name="destinationTree"/>) or source (<paramref name="sourceTree"/>)
    /// is reached through an agent instead of by path.</summary>
    public static SyncSummary Run(SyncPlan plan, ISyncObserver observer, bool dryRun, IDestinationTree? destinationTree, ISourceTree? sourceTree,
        CancellationToken cancellation)
    {
        using var executor = new PlanRunner(plan, observer, dryRun, cancellation, destinationTree, sourceTree);
        return executor.Run();
    }

    public void Dispose()
    {
        _workers.Dispose();
        _destination.Dispose();
        _sourceFiles?.Dispose();
    }

    private SyncSummary Run()
    {
        var clock = Stopwatch.StartNew();
        PlanActions actions = _plan.Actions;
        bool streams = actions.Streams;

        // A plan made before the run counts its scan and planning errors now (a streamed plan, once it is done).
        if (!streams)
        {
            _summary.Errors += _plan.ScanErrors.Count + _plan.PlanErrors;
        }

        // Whether the scan met an error, so that nothing extraneous is deleted, is known once the whole tree is scanned:
        // a streamed plan's runner waits for that at its first extraneous deletion.
        bool? deletionsBlocked = streams ? null : BlocksDeletions();
        if (_observer.WantsDebug)
        {
            _observer.OnDebug(streams
                ? $"Running the actions as they are planned{(_dryRun ? " as a dry run" : string.Empty)} with up to {_workers.Count} copy worker(s)"
                : $"Running {_plan.Count} action(s){(_dryRun ? " as a dry run" : string.Empty)} with up to {_workers.Count} copy worker(s)");
        }

        int maxDelete = _options.MaxDelete ?? int.MaxValue;
        long deletions = 0;
        long deletionsOverLimit = 0;
        try
        {
            StartSettlingSources(streams);
            for (int index = 0; Take(actions, index, out PlannedAction action); index++)
            {
                _cancellation.ThrowIfCancellationRequested();
                SyncItem item = action.Item;
                if (item.Reason == SyncReason.Extraneous && deletionsBlocked is null)
                {
                    // Nothing is reported while the planner finishes: the source files it plans meanwhile wait unsettled.
                    _plan.SourceFiles.Unbound();
                    actions.WaitForCompletion();
                    deletionsBlocked = BlocksDeletions();
                }

                if (IsDeclined(item.RelativePath) || (deletionsBlocked == true && item.Reason == SyncReason.Extraneous))
                {
                    if (_verbose)
                    {
                        _observer.OnVerbose(deletionsBlocked == true && item.Reason == SyncReason.Extraneous
                            ? $"Not deleting '{item.RelativePath}': the scan met I/O errors, so nothing extraneous is deleted in this run"
                            : $"Skipping '{item.RelativePath}': a directory above it was declined or could not be made");
                    }

                    _summary.Skipped++;
                    Settle(index, null);
                    continue;
                }

                if (_options.Review is { } review && !review.Admit(item))
                {
                    // Not in the reviewed plan, or changed since: left alone (a stale reviewed item is reported at the end).
                    Settle(index, null);
                    continue;
                }

                // As rsync counts for --max-delete: not the cleanup of temporary files, nor the item a source item of another
                // kind replaces, but what a replaced directory held.
                bool countsAsDeletion = action.Kind == ActionKind.Delete && item.Reason != SyncReason.TemporaryFile && action.Replaces != item.RelativePath;
                if (countsAsDeletion && deletions >= maxDelete)
                {
                    deletionsOverLimit++;
                    if (_verbose)
                    {
                        _observer.OnVerbose($"Not deleting '{item.RelativePath}': the -MaxDelete limit of {maxDelete} is reached");
                    }

                    _summary.Skipped++;
                    if (action.Replaces is { } replaced)
                    {
                        // The directory it is in cannot be emptied: neither it nor what was to replace it goes.
                        Decline(replaced);
                    }

                    Settle(index, null);
                    continue;
                }

                if (!_observer.ShouldProcess(item) && !_dryRun)
                {
                    if (item.ItemType == SyncItemType.Directory && action.Kind is ActionKind.CreateDirectory or ActionKind.CreateRoot)
                    {
                        Decline(item.RelativePath);
                    }

                    if (_verbose)
                    {
                        _observer.OnVerbose($"Skipping '{item.RelativePath}': declined ({item.Action} {item.ItemType})");
                    }

                    _summary.Skipped++;
                    Settle(index, null);
                    continue;
                }

                if (countsAsDeletion)
                {
                    deletions++;
                }

                if (!_dryRun)
                {
                    OpenParentForChanges(action);
                }

                if (_dryRun)
                {
                    _summary.Count(item);
                    Settle(index, item);
                }
                else if (action.Kind == ActionKind.CopyFile && !_observer.ConfirmsEachAction)
                {
                    int started = index;
                    if (!_destination.TryStart(action, error => SettleStarted(started, error)))
                    {
                        Prefetch(action);
                        Enqueue(index);
                    }
                }
                else
                {
                    // Any other change goes after the files batched so far, and may wait: the prefetches gathered so far go
                    // out first.
                    (_sourceTree as RemoteSourceTree)?.FlushPrefetch();
                    _destination.Flush();
                    int started = index;
                    if (_destination.TryStart(action, error => SettleStarted(started, error)))
                    {
                        // Sent without waiting; settled when its answer comes.
                    }
                    else
                    {
                        if (action.LinkTo is not null)
                        {
                            // The group's first name may still be copying on a worker.
                            DrainWorkers();
                        }

                        Complete(index);
                    }
                }
            }

            DrainWorkers();

            // A copy on a worker may have been the one that saw the cancellation.
            _cancellation.ThrowIfCancellationRequested();

            // Every action is reported: the last source files are settled, and what ended their settling ends the run.
            FinishSettlingSources();

            // A streamed plan that could not be finished (its root unreadable, say) fails the run as an unstreamed one
            // would have, after what was planned before is done; what its scan and planning met counts now.
            actions.ThrowIfFailed();
            if (streams)
            {
                _summary.Errors += _plan.ScanErrors.Count + _plan.PlanErrors;
            }

            if (!_dryRun)
            {
                foreach (SyncException failure in _destination.CommitDelayed())
                {
                    ReportError(failure);
                }
            }

            if (_settling is null)
            {
                RemoveSourceFiles();
            }

            if (_options.Review is { } reviewed)
            {
                foreach (string stale in reviewed.StaleItems())
                {
                    _summary.Skipped++;
                    _observer.OnWarning("PlanStale: " + stale);
                }
            }

            if (deletionsOverLimit > 0)
            {
                _summary.Errors++;
                _observer.OnError(new SyncException(ErrorIds.MaxDeleteExceeded, SyncErrorKind.LimitsExceeded,
                    $"Deletions stopped at the -MaxDelete limit of {maxDelete}; {deletionsOverLimit} more item(s) were not deleted.",
                    _plan.DestinationRoot));
            }
        }
        finally
        {
            DrainWorkers();

            // The planner writes what the directories' finishing reads: it ends first, and so does the settling of sources.
            _plan.StopPlanning();
            StopSettlingSources();
            if (streams)
            {
                _summary.ItemsTotal = _plan.ItemsTotal;
                _summary.FilesTotal = _plan.FilesTotal;
                _summary.TotalBytes = _plan.TotalBytes;
            }

            _destination.AbandonDelayed();
            if (!_dryRun)
            {
                FinishDirectories();
            }

            _summary.Duration = SyncSummary.Seconds(clock.Elapsed);
            _meter.Completed();
        }

        if (_verbose)
        {
            _observer.OnVerbose(RunReport.Totals(_summary, _dryRun));
        }

        return _summary;
    }

    /// <summary>The next action, waiting for the planner when a streamed plan has not made it yet. Before it waits, the
    /// copies and prefetches gathered into batches go out: the planner waits for room that only their reports make (an
    /// agent's batch is otherwise sent when it is full or a change of another kind comes, which a waiting planner never
    /// brings).</summary>
    private bool Take(PlanActions actions, int index, out PlannedAction action)
    {
        if (!actions.CanTakeNow(index))
        {
            (_sourceTree as RemoteSourceTree)?.FlushPrefetch();
            _destination.Flush();
        }

        return actions.TryTake(index, out action);
    }

    /// <summary>Performs one action and reports it; failures are per item and do not stop the run.</summary>
    private void Complete(int index)
    {
        PlannedAction action = _plan.Actions[index];
        SyncItem item = action.Item;
        bool done = false;
        try
        {
            Perform(action);
            lock (_gate)
            {
                _summary.Count(item);
            }

            done = true;
        }
        catch (SyncException) when (_destination.UnderFailedDirectory(item.RelativePath))
        {
            SkipUnderFailedDirectory(item);
        }
        catch (SyncException ex)
        {
            Fail(action, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Fail(action, Classify(ex, item));
        }

        Settle(index, done ? item : null);
        _meter.ActionDone(item.RelativePath);
    }

    /// <summary>Reports the action's item in plan order; a streamed plan lets go of what is reported, and the source
    /// files planned up to it can be settled.</summary>
    private void Settle(int index, SyncItem? item)
    {
        int reported = _reporter.Settle(index, item);
        _plan.Actions.Release(reported);
        _plan.SourceFiles.Reported(reported);
    }

    private void Enqueue(int index)
    {
        if (!_workers.TryAdd(index))
        {
            // The workers are behind: the files they will wait for must be asked for before this thread waits too.
            (_sourceTree as RemoteSourceTree)?.FlushPrefetch();
            _workers.Add(index);
        }
    }

    /// <summary>Settles a copy whose failure no one expected, as a write error of that item.</summary>
    private void CopyCrashed(int index, Exception ex)
    {
        PlannedAction action = _plan.Actions[index];
        Fail(action, new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError,
            $"Cannot copy '{action.Item.RelativePath}': {ex.Message}", action.Item.RelativePath, ex));
        Settle(index, null);
    }

    /// <summary>Waits until every queued or batched copy has finished (or seen the cancellation).</summary>
    private void DrainWorkers()
    {
        _destination.Drain();
        var prefetching = _sourceTree as RemoteSourceTree;
        prefetching?.EndPrefetch();
        _workers.Drain();
        prefetching?.FinishPrefetch();
    }

    /// <summary>With the whole plan made: whether the scan met an I/O error and the plan deletes something extraneous, in
    /// which case nothing extraneous is deleted (rsync's rule without --ignore-errors), said once as an error.</summary>
    private bool BlocksDeletions()
    {
        if (_plan.ScanErrors.Count == 0 || !HasExtraneousDeletions())
        {
            return false;
        }

        _summary.DeletionsSkipped = true;
        _summary.Errors++;
        _observer.OnError(new SyncException(ErrorIds.DeletionSkippedAfterIoError, SyncErrorKind.ReadError,
            "I/O errors occurred while scanning; no extraneous item is deleted in this run.", _plan.DestinationRoot));
        return true;
    }

    /// <summary>Whether the plan deletes anything extraneous (a streamed plan's runner asks on meeting one).</summary>
    private bool HasExtraneousDeletions()
    {
        if (_plan.Actions.Streams)
        {
            return true;
        }

        foreach (PlannedAction action in _plan.Actions)
        {
            if (action.Item.Reason == SyncReason.Extraneous)
            {
                return true;
            }
        }

        return false;
    }

    private void Fail(PlannedAction action, SyncException error)
    {
        lock (_gate)
        {
            _summary.Errors++;
            _failedPaths.Add(action.Item.RelativePath);
        }

        if (action.Kind is ActionKind.CreateDirectory or ActionKind.CreateRoot)
        {
            // Its contents cannot be written; one error is enough. (Directories are made on the planning-order thread.)
            Decline(action.Item.RelativePath);
        }

        _observer.OnError(AboutItem(error, action.Item));
    }

    /// <summary>An item's error always names the item: a failure raised where only a handle or a stream was known (a
    /// read that failed part way through a source file, issue 18) gets the item's path as its target and in its message.</summary>
    private static SyncException AboutItem(SyncException error, SyncItem item) => error.Target is not null
        ? error
        : new SyncException(error.ErrorId, error.Kind, $"'{item.RelativePath}': {error.Message}", item.RelativePath, error.InnerException ?? error);

    /// <summary>Whether a directory above <paramref name="relative"/> (or it) was declined or could not be made (asked
    /// by the thread that settles source files too).</summary>
    private bool IsDeclined(string relative)
    {
        lock (_declined)
        {
            foreach (string declined in _declined)
            {
                if (declined == "." || relative == declined
                    || (relative.Length > declined.Length && relative[declined.Length] == '/' && relative.StartsWith(declined, StringComparison.Ordinal)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private void Decline(string relative)
    {
        lock (_declined)
        {
            _declined.Add(relative);
        }
    }

    private void Perform(PlannedAction action)
    {
        _destination.Apply(action);
        RecordDone(action);
    }

    /// <summary>Notes what a finished action means for the directories: one made, or one whose contents changed (its
    /// time and permissions are set again at the end).</summary>
    private void RecordDone(PlannedAction action)
    {
        string relative = action.Item.RelativePath;
        switch (action.Kind)
        {
            case ActionKind.CreateRoot:
                lock (_createdDirectories)
                {
                    _createdDirectories.Add(string.Empty);
                }

                Touch(string.Empty, self: true);
                break;

            case ActionKind.CreateDirectory:
                lock (_createdDirectories)
                {
                    _createdDirectories.Add(relative);
                }

                Touch(relative);
                break;

            case ActionKind.Metadata:
                if (action.Source!.IsDirectory)
                {
                    Touch(relative == "." ? string.Empty : relative, self: true);
                }

                break;

            case ActionKind.Delete when action.Existing!.IsDirectory:
                lock (_deletedDirectories)
                {
                    _deletedDirectories.Add(relative);
                }

                Touch(relative);
                break;

            default:
                Touch(relative);
                break;
        }
    }

    /// <summary>Settles an action the destination carried out without this thread waiting (off the planning thread):
    /// done, skipped under a directory that could not be made (a local run would not have tried it), or failed.</summary>
    private void SettleStarted(int index, SyncException? error)
    {
        PlannedAction action = _plan.Actions[index];
        SyncItem item = action.Item;
        if (error is null)
        {
            RecordDone(action);
            lock (_gate)
            {
                _summary.Count(item);
            }
        }
        else if (_destination.UnderFailedDirectory(item.RelativePath))
        {
            SkipUnderFailedDirectory(item);
        }
        else
        {
            lock (_gate)
            {
                _summary.Errors++;
                _failedPaths.Add(item.RelativePath);
            }

            _observer.OnError(AboutItem(error, item));
        }

        Settle(index, error is null ? item : null);
        _meter.ActionDone(item.RelativePath);
    }

    private void SkipUnderFailedDirectory(SyncItem item)
    {
        lock (_gate)
        {
            _summary.Skipped++;
        }

        if (_verbose)
        {
            _observer.OnVerbose($"Skipping '{item.RelativePath}': a directory above it could not be made");
        }
    }

    /// <summary>Counts and reports a failure that belongs to no single item.</summary>
    private void ReportError(SyncException error)
    {
        lock (_gate)
        {
            _summary.Errors++;
        }

        _observer.OnError(error);
    }

    /// <summary>Pulls: files up to this size are asked for ahead, in a read batch, as their copies are queued.</summary>
    private const int PrefetchFileLimit = 64 << 10;

    /// <summary>Pulls: asks the agent for a small file's bytes as its copy is queued, so that the copy does not have to.</summary>
    private void Prefetch(PlannedAction action)
    {
        if (_sourceTree is not RemoteSourceTree { Prefetches: true } tree)
        {
            return;
        }

        string relative = action.Item.RelativePath;
        if (action.Source!.Length > PrefetchFileLimit || action.Basis is not null || action.LinkTo is not null || UsesDelta(action)
            || _options.Inplace || _options.KeepsPartial || !tree.Batches(relative))
        {
            return;
        }

        tree.Prefetch(relative, _cancellation);
    }

    /// <summary>Delta transfer needs a regular file to serve as basis; Auto means whole files for local copies and delta
    /// for remote ones (where the wire, not the disk, is the limit).</summary>
    private bool UsesDelta(PlannedAction action) =>
        (_options.TransferMode == TransferMode.Delta || (_options.TransferMode == TransferMode.Auto && (_destinationTree is not null || _sourceTree is not null)))
        && (action.Basis ?? action.Existing) is { Kind: EntryKind.File, Length: > 0 };

    /// <summary>Records that a directory's contents changed, so its time is restored at the end.</summary>
    private void Touch(string relative, bool self = false)
    {
        int slash = relative.LastIndexOf('/');
        string directory = self ? relative : slash < 0 ? string.Empty : relative[..slash];
        lock (_touchedDirectories)
        {
            _touchedDirectories.Add(directory);
        }
    }

    /// <summary>Before the first action that creates, renames or deletes a name in a destination directory its owner
    /// cannot write (a 0555 directory, as a non-root user), opens it for the owner (u+rwx), as rsync does; the mode
    /// comes back in <see cref="FinishDirectories"/>, also when the run fails part-way. Runs on the planning thread
    /// before the action is queued, so nothing in the directory is in flight.</summary>
    private void OpenParentForChanges(PlannedAction action)
    {
        if (_plan.ClosedDirectories.IsEmpty)
        {
            return;
        }

        string relative = action.Item.RelativePath;
        if (action.Kind == ActionKind.Metadata && action.Source!.IsDirectory
            && (action.Changes & (AttributeChanges.Permissions | AttributeChanges.Acls)) != 0)
        {
            // Its new mode leaves it open for the owner until its contents are written (AttributePolicy.ForMetadata).
            _openingSeen.Add(relative == "." ? string.Empty : relative);
            return;
        }

        if (action.Kind is not (ActionKind.CopyFile or ActionKind.CreateDirectory or ActionKind.CreateSymbolicLink or ActionKind.Delete
            or ActionKind.HardLink or ActionKind.CreateNode) || relative == ".")
        {
            return;
        }

        int slash = relative.LastIndexOf('/');
        string parent = slash < 0 ? string.Empty : relative[..slash];
        if (!_plan.ClosedDirectories.TryGetValue(parent, out int mode) || !_openingSeen.Add(parent))
        {
            return;
        }

        // What was sent before goes first: a change to this directory's mode among it must not come after ours.
        (_sourceTree as RemoteSourceTree)?.FlushPrefetch();
        _destination.Flush();
        _destination.Drain();
        try
        {
            _destination.SetDirectoryMode(parent, mode | AttributePolicy.OwnerAccess, wait: true);
            _opened[parent] = mode;
            if (_verbose)
            {
                _observer.OnVerbose($"Opening '{(parent.Length == 0 ? "." : parent)}' for its owner while the run works in it (mode {Convert.ToString(mode, 8)})");
            }
        }
        catch (SyncException ex)
        {
            // Not its owner, say: the changes inside fail on their own, each with its error.
            if (_verbose)
            {
                _observer.OnVerbose($"Cannot open '{(parent.Length == 0 ? "." : parent)}' for its owner: {ex.Message}");
            }
        }
    }

    /// <summary>Applies directory permissions and times deepest first, after everything inside was written, and gives a
    /// directory opened for its owner the mode the plan leaves it with: the source's, or the one it had.</summary>
    private void FinishDirectories()
    {
        // Changes sent to an agent without waiting are answered first: only then is it known which directories were made.
        _destination.Drain();
        foreach (string relative in _createdDirectories)
        {
            _touchedDirectories.Add(relative);
        }

        foreach (string relative in _opened.Keys)
        {
            _touchedDirectories.Add(relative);
        }

        var ordered = new List<string>(_touchedDirectories);
        ordered.Sort(static (a, b) => Depth(b).CompareTo(Depth(a)));
        foreach (string relative in ordered)
        {
            bool modeSet = false;
            if (_plan.SourceDirectories.TryGetValue(relative, out FileEntry? source))
            {
                bool created = _createdDirectories.Contains(relative);
                modeSet = _attributes.ForDirectory(source, created, relative).Has(AttributeFields.Mode);
                try
                {
                    _destination.FinishDirectory(relative, source, created);
                }
                catch (SyncException ex)
                {
                    _summary.Errors++;
                    _observer.OnError(ex);
                }
            }

            if (!modeSet && _opened.TryGetValue(relative, out int mode) && !_deletedDirectories.Contains(relative))
            {
                try
                {
                    _destination.SetDirectoryMode(relative, mode, wait: false);
                }
                catch (SyncException ex)
                {
                    _summary.Errors++;
                    _observer.OnError(ex);
                }
            }
        }

        _destination.Drain();
    }

    private static int Depth(string relative)
    {
        if (relative.Length == 0)
        {
            return 0;
        }

        int depth = 1;
        foreach (char c in relative)
        {
            if (c == '/')
            {
                depth++;
            }
        }

        return depth;
    }

    private static SyncException Classify(Exception ex, SyncItem item) => ex switch
    {
        UnauthorizedAccessException => new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied,
            $"Cannot write '{item.RelativePath}': permission denied.", item.RelativePath, ex),
        _ => new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError,
            $"Cannot write '{item.RelativePath}': {ex.Message}", item.RelativePath, ex),
    };
}
