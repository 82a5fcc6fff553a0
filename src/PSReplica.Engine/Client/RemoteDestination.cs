using System.Collections.Concurrent;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica.Engine.Client;

/// <summary>A destination reached through a tree of requests (<see cref="IDestinationTree"/>: an agent in the receiver
/// role, or SFTP): the same decisions as the local destination's (<see cref="AttributePolicy"/>), carried out as requests
/// instead of system calls. When the agent keeps the order of small changes (<see cref="RemoteDestinationTree.Pipelines"/>),
/// directories, links, attribute changes and deletions are sent without waiting for their answers, which settle their
/// items as they come: no round trip each.</summary>
internal sealed partial class RemoteDestination : IDestination
{
    private readonly SyncPlan _plan;
    private readonly SyncOptions _options;
    private readonly IDestinationTree _tree;
    private readonly SourceFiles? _sourceFiles;
    private readonly ISyncObserver _observer;
    private readonly AttributePolicy _attributes;
    private readonly TransferMeter _meter;
    private readonly Action<SyncException> _reportError;
    private readonly CancellationToken _cancellation;
    private int _linkFallbackReported;

    /// <param name="sourceFiles">The local source's files (a push reads them checked against the scan).</param>
    /// <param name="reportError">Counts and reports a failure that belongs to no item (a directory's attributes).</param>
    public RemoteDestination(SyncPlan plan, IDestinationTree tree, SourceFiles? sourceFiles, ISyncObserver observer, AttributePolicy attributes,
        TransferMeter meter, Action<SyncException> reportError, CancellationToken cancellation)
    {
        _plan = plan;
        _options = plan.Options;
        _tree = tree;
        _sourceFiles = sourceFiles;
        _observer = observer;
        _attributes = attributes;
        _meter = meter;
        _reportError = reportError;
        _cancellation = cancellation;
    }

    /// <summary>Remote copies wait on the wire, not on a core: more workers keep more requests in flight.</summary>
    public int Workers => 16;

    public void Apply(PlannedAction action) => PerformRemote(action, _tree);

    public bool TryStart(PlannedAction action, Action<SyncException?> settle) =>
        action.Kind == ActionKind.CopyFile ? TryBatch(action, settle) : StartRemote(action, settle);

    public void Flush() => EndBatch();

    public void Drain()
    {
        DrainBatches();
        DrainRemote();
    }

    public bool UnderFailedDirectory(string relative) => UnderFailedRemoteDirectory(relative);

    public void FinishDirectory(string relative, FileEntry source, bool created) => FinishRemoteDirectory(_tree, relative, source, created);

    /// <summary>A SetAttributes request with the mode alone; without <paramref name="wait"/> sent after everything before
    /// it, as a directory's finishing is.</summary>
    public void SetDirectoryMode(string relative, int mode, bool wait) =>
        SetRemoteAttributes(_tree, relative, new AttributeSet(AttributeFields.Mode, mode, 0, 0, 0, 0), wait);

    /// <summary>An agent removes what still waits for a burst that never came when its session ends.</summary>
    public void AbandonDelayed()
    {
    }

    public void Dispose()
    {
    }

    /// <summary>Delta transfer needs a regular file to serve as basis; Auto means delta over a wire.</summary>
    private bool UsesDelta(PlannedAction action) =>
        _options.TransferMode != TransferMode.WholeFile && (action.Basis ?? action.Existing) is { Kind: EntryKind.File, Length: > 0 };

    /// <summary>The answers of the directories created without waiting, by relative path: a failed one declines its
    /// contents, as a failed local mkdir does.</summary>
    private readonly ConcurrentDictionary<string, Task> _remoteDirectories = new(StringComparer.Ordinal);

    /// <summary>The settling of every change sent and not yet drained (main thread only).</summary>
    private readonly List<Task> _remotePending = [];

    /// <summary>How many settlings <see cref="_remotePending"/> may hold before the settled ones are let go: twice those
    /// still in flight at the last pruning, so the pruning costs a constant per change.</summary>
    private int _pendingPruneAt = PendingPruneThreshold;

    private const int PendingPruneThreshold = 4096;

    private void PerformRemote(PlannedAction action, IDestinationTree tree)
    {
        string relative = action.Item.RelativePath;
        string wire = relative == "." ? string.Empty : relative;
        if (PerformBasisAction(action, tree, wire))
        {
            return;
        }

        switch (action.Kind)
        {
            case ActionKind.CreateRoot:
                tree.CreateDirectory(string.Empty, AttributeSet.None, _cancellation);
                break;

            case ActionKind.CreateDirectory:
                tree.CreateDirectory(wire, AttributeSet.None, _cancellation);
                break;

            case ActionKind.CopyFile:
                CopyFileRemote(action, tree);
                break;

            case ActionKind.CreateSymbolicLink:
                FileEntry link = action.Source!;
                tree.CreateSymbolicLink(wire, link.LinkTarget!, _attributes.ForLink(link, action.Item.RelativePath), _cancellation);
                break;

            case ActionKind.CreateNode:
                FileEntry node = action.Source!;
                if (tree is not INodeDestination nodes)
                {
                    // Refused before the run (DestinationCapabilities.Specials); never skipped here.
                    throw new InvalidOperationException("This destination cannot make devices, FIFOs or sockets.");
                }

                nodes.CreateNode(wire, node.Kind.FileType(), node.Rdev, _attributes.ForNode(action), _cancellation);
                break;

            case ActionKind.Metadata:
                tree.SetAttributes(wire, _attributes.ForMetadata(action), _cancellation);
                break;

            case ActionKind.Delete:
                tree.Delete(wire, action.Existing!.IsDirectory, _cancellation);
                break;
        }
    }

    private void CopyFileRemote(PlannedAction action, IDestinationTree tree)
    {
        FileEntry source = action.Source!;
        string relative = action.Item.RelativePath;
        AttributeSet attributes = _attributes.ForFile(action);
        Action<long> Progress = _meter.For(relative, source.Length);

        if (_options.Inplace && tree is RemoteDestinationTree inPlace)
        {
            CopyInPlaceRemote(action, inPlace, attributes, Progress);
            return;
        }

        TransferResult result;
        if (UsesDelta(action))
        {
            try
            {
                result = tree.WriteFile(relative, source, delta: true, _options.BlockSize, attributes, Progress, _cancellation);
                Record(action, result);
                return;
            }
            catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
            {
                // As rsync does: one more try, sending the whole file (the basis may also have changed meanwhile).
                _observer.OnWarning($"'{relative}' did not verify after a delta transfer; sending it whole.");
            }
        }

        result = tree.WriteFile(relative, source, delta: false, _options.BlockSize, attributes, Progress, _cancellation);
        Record(action, result);
    }

    private void Record(PlannedAction action, TransferResult result)
    {
        action.Item.BytesTransferred = result.LiteralBytes;
        action.Item.BytesMatched = result.MatchedBytes;
        _meter.AddBytes(result.Length);
    }

    private void FinishRemoteDirectory(IDestinationTree tree, string relative, FileEntry source, bool created) =>
        SetRemoteAttributes(tree, relative, _attributes.ForDirectory(source, created, relative), wait: false);

    /// <summary>Sets attributes at <paramref name="relative"/>: to an agent that keeps the order of requests, without
    /// <paramref name="wait"/>, sent after everything before it and reported when the answer comes; otherwise done when
    /// this returns.</summary>
    private void SetRemoteAttributes(IDestinationTree tree, string relative, AttributeSet attributes, bool wait)
    {
        if (!wait && tree is RemoteDestinationTree { Pipelines: true } remote)
        {
            Track(ReportFailureAsync(Send(remote, new AgentRequest(RequestType.SetAttributes, relative) { Attributes = attributes })));
            return;
        }

        tree.SetAttributes(relative, attributes, _cancellation);
    }

    /// <summary>Sends a small action (a directory, a link, attributes, a deletion) to an agent that keeps their order,
    /// without waiting for the answer, which settles the item when it comes. False when the action is not one of these
    /// or the agent cannot take it so.</summary>
    private bool StartRemote(PlannedAction action, Action<SyncException?> settle)
    {
        if (_tree is not RemoteDestinationTree { Pipelines: true } tree)
        {
            return false;
        }

        if (_options.Backup && (NeedsBackup(action) || action.Kind == ActionKind.Delete))
        {
            // The backup must be in place before the item is replaced or deleted: PerformBasisAction waits for it.
            return false;
        }

        string relative = action.Item.RelativePath;
        string wire = relative == "." ? string.Empty : relative;
        if (action.Kind == ActionKind.HardLink)
        {
            return StartLink(action, tree, wire, settle);
        }

        AgentRequest request;
        switch (action.Kind)
        {
            case ActionKind.CreateDirectory:
                request = new AgentRequest(RequestType.CreateDirectory, wire) { Attributes = AttributeSet.None };
                break;

            case ActionKind.CreateSymbolicLink:
                FileEntry link = action.Source!;
                request = new AgentRequest(RequestType.CreateSymbolicLink, wire)
                {
                    Other = link.LinkTarget!,
                    Attributes = _attributes.ForLink(link, action.Item.RelativePath),
                };
                break;

            case ActionKind.CreateNode:
                FileEntry node = action.Source!;
                request = AgentClient.NodeRequest(wire, node.Kind.FileType(), node.Rdev, _attributes.ForNode(action));
                break;

            case ActionKind.Metadata:
                request = new AgentRequest(RequestType.SetAttributes, wire) { Attributes = _attributes.ForMetadata(action) };
                break;

            case ActionKind.Delete:
                request = new AgentRequest(RequestType.Delete, wire) { Flag = action.Existing!.IsDirectory };
                break;

            default:
                return false;
        }

        Task answer = Send(tree, request);
        if (action.Kind == ActionKind.CreateDirectory)
        {
            _remoteDirectories[relative] = answer;
        }

        Track(SettleAsync(relative, answer, settle));
        return true;
    }

    /// <summary>Keeps the settling of a change sent without waiting until it is drained. Those already settled are let go
    /// now and then, so a run of a million links holds only the ones in flight, not one task per file.</summary>
    private void Track(Task settling)
    {
        if (_remotePending.Count >= _pendingPruneAt)
        {
            _remotePending.RemoveAll(static task => task.IsCompleted);
            _pendingPruneAt = Math.Max(PendingPruneThreshold, _remotePending.Count * 2);
        }

        _remotePending.Add(settling);
    }

    /// <summary>Sends a request (waiting only for a free stream); a session already gone is the request's failure.</summary>
    private Task Send(RemoteDestinationTree tree, AgentRequest request)
    {
        try
        {
            return tree.Start(request, _cancellation);
        }
        catch (SyncException ex)
        {
            return Task.FromException(ex);
        }
    }

    /// <summary>Settles an action sent without waiting, once its answer comes.</summary>
    private static async Task SettleAsync(string relative, Task answer, Action<SyncException?> settle)
    {
        (SyncException? error, bool cancelled) = await FailureOf(answer, relative).ConfigureAwait(false);
        if (cancelled)
        {
            // The run is ending with the cancellation; nothing more is reported.
            return;
        }

        settle(error);
    }

    private async Task ReportFailureAsync(Task answer)
    {
        (SyncException? error, _) = await FailureOf(answer, string.Empty).ConfigureAwait(false);
        if (error is not null)
        {
            _reportError(error);
        }
    }

    private static async Task<(SyncException? Error, bool Cancelled)> FailureOf(Task answer, string relative)
    {
        try
        {
            await answer.ConfigureAwait(false);
            return (null, false);
        }
        catch (SyncException ex)
        {
            return (ex, false);
        }
        catch (OperationCanceledException)
        {
            return (null, true);
        }
        catch (Exception ex)
        {
            // Never let one answer's unexpected failure go unreported.
            return (new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError, $"Cannot change '{relative}': {ex.Message}", relative, ex), false);
        }
    }

    /// <summary>Waits for every change sent without waiting to be answered and settled.</summary>
    private void DrainRemote()
    {
        if (_remotePending.Count == 0)
        {
            return;
        }

        // The settling tasks catch every failure themselves.
        Task.WaitAll(_remotePending.ToArray(), CancellationToken.None);
        _remotePending.Clear();
        _pendingPruneAt = PendingPruneThreshold;
    }

    /// <summary>Whether a directory above <paramref name="relative"/> was sent without waiting and failed: its contents
    /// count as skipped, as they do locally once the directory could not be made.</summary>
    private bool UnderFailedRemoteDirectory(string relative)
    {
        if (_remoteDirectories.IsEmpty)
        {
            return false;
        }

        for (int slash = relative.LastIndexOf('/'); slash > 0; slash = relative.LastIndexOf('/', slash - 1))
        {
            if (_remoteDirectories.TryGetValue(relative[..slash], out Task? made))
            {
                // Only on an error path, and the agent answered the directory before anything inside it: this is quick.
                try
                {
                    made.GetAwaiter().GetResult();
                }
                catch (SyncException)
                {
                    return true;
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
        }

        return false;
    }
}
