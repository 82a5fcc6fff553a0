using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Remote;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Execution;

/// <summary>The executor's actions on a destination reached through an agent: the same decisions as the local
/// actions (which attributes, when, and in what order), carried out as requests instead of system calls. When the
/// agent keeps the order of small changes (<see cref="RemoteDestinationTree.Pipelines"/>), directories, links, attribute
/// changes and deletions are sent without waiting for their answers, which are settled as they come: no round trip each.</summary>
internal sealed partial class SyncExecutor
{
    private const int RemoteWorkers = 16;

    /// <summary>The answers of the directories created without waiting, by relative path: a failed one declines its
    /// contents, as a failed local mkdir does.</summary>
    private readonly ConcurrentDictionary<string, Task> _remoteDirectories = new(StringComparer.Ordinal);

    /// <summary>The settling of every change sent and not yet drained (main thread only).</summary>
    private readonly List<Task> _remotePending = [];

    private bool IsRemote => _destinationTree is not null || _sourceTree is not null;

    private void PerformRemote(PlannedAction action, IDestinationTree tree)
    {
        string relative = action.Item.RelativePath;
        string wire = relative == "." ? string.Empty : relative;
        if (PerformNamedTreeAction(action, tree, wire))
        {
            return;
        }

        switch (action.Kind)
        {
            case ActionKind.CreateRoot:
                tree.CreateDirectory(string.Empty, AttributeSet.None, _cancellation);
                lock (_createdDirectories)
                {
                    _createdDirectories.Add(string.Empty);
                }

                Touch(string.Empty, self: true);
                break;

            case ActionKind.CreateDirectory:
                tree.CreateDirectory(wire, AttributeSet.None, _cancellation);
                _createdDirectories.Add(relative);
                Touch(relative);
                break;

            case ActionKind.CopyFile:
                CopyFileRemote(action, tree);
                Touch(relative);
                break;

            case ActionKind.CreateSymbolicLink:
                FileEntry link = action.Source!;
                tree.CreateSymbolicLink(wire, link.LinkTarget!, _attributes.ForLink(link), _cancellation);
                Touch(relative);
                break;

            case ActionKind.Metadata:
                ApplyMetadataRemote(action, tree, wire);
                break;

            case ActionKind.Delete:
                tree.Delete(wire, action.Existing!.IsDirectory, _cancellation);
                Touch(relative);
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

    private void ApplyMetadataRemote(PlannedAction action, IDestinationTree tree, string wire)
    {
        tree.SetAttributes(wire, _attributes.ForMetadata(action), _cancellation);
        if (action.Source!.IsDirectory)
        {
            Touch(wire, self: true);
        }
    }

    private void FinishRemoteDirectory(IDestinationTree tree, string relative, FileEntry source, bool created)
    {
        AttributeSet attributes = _attributes.ForDirectory(source, created);
        if (tree is RemoteDestinationTree { Pipelines: true } remote)
        {
            // Sent after everything inside (the agent keeps the order); an error is reported when the answer comes.
            _remotePending.Add(ReportFailureAsync(Send(remote, new AgentRequest(RequestType.SetAttributes, relative) { Attributes = attributes })));
            return;
        }

        tree.SetAttributes(relative, attributes, _cancellation);
    }

    /// <summary>Sends a small action (a directory, a link, attributes, a deletion) to an agent that keeps their order,
    /// without waiting for the answer, which settles the item when it comes. False when the action is not one of these
    /// or the agent cannot take it so.</summary>
    private bool StartRemote(int index)
    {
        if (_destinationTree is not RemoteDestinationTree { Pipelines: true } tree)
        {
            return false;
        }

        PlannedAction action = _plan.Actions[index];
        if (_options.Backup && (NeedsBackup(action) || action.Kind == ActionKind.Delete))
        {
            // The backup must be in place before the item is replaced or deleted: PerformNamedTreeAction waits for it.
            return false;
        }

        string relative = action.Item.RelativePath;
        string wire = relative == "." ? string.Empty : relative;
        AgentRequest request;
        Action succeeded;
        switch (action.Kind)
        {
            case ActionKind.CreateDirectory:
                request = new AgentRequest(RequestType.CreateDirectory, wire) { Attributes = AttributeSet.None };
                succeeded = () =>
                {
                    lock (_createdDirectories)
                    {
                        _createdDirectories.Add(relative);
                    }

                    Touch(relative);
                };
                break;

            case ActionKind.CreateSymbolicLink:
                FileEntry link = action.Source!;
                request = new AgentRequest(RequestType.CreateSymbolicLink, wire)
                {
                    Other = link.LinkTarget!,
                    Attributes = _attributes.ForLink(link),
                };
                succeeded = () => Touch(relative);
                break;

            case ActionKind.Metadata:
                request = new AgentRequest(RequestType.SetAttributes, wire) { Attributes = _attributes.ForMetadata(action) };
                succeeded = action.Source!.IsDirectory ? () => Touch(wire, self: true) : static () => { };
                break;

            case ActionKind.Delete:
                request = new AgentRequest(RequestType.Delete, wire) { Flag = action.Existing!.IsDirectory };
                succeeded = () => Touch(relative);
                break;

            default:
                return false;
        }

        Task answer = Send(tree, request);
        if (action.Kind == ActionKind.CreateDirectory)
        {
            _remoteDirectories[relative] = answer;
        }

        _remotePending.Add(SettleAsync(index, answer, succeeded));
        return true;
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

    /// <summary>Settles an action sent without waiting, as <see cref="Complete"/> settles one carried out here.</summary>
    private async Task SettleAsync(int index, Task answer, Action succeeded)
    {
        (SyncException? error, bool cancelled) = await FailureOf(answer, _plan.Actions[index].Item.RelativePath).ConfigureAwait(false);
        if (cancelled)
        {
            // The run is ending with the cancellation; nothing more is reported.
            return;
        }

        if (error is null)
        {
            succeeded();
        }

        SettleAnswered(index, error);
    }

    /// <summary>Counts and reports an action whose outcome came back from the agent (off the planning thread): done,
    /// skipped under a directory that could not be made (a local run would not have tried it), or failed.</summary>
    private void SettleAnswered(int index, SyncException? error)
    {
        SyncItem item = _plan.Actions[index].Item;
        if (error is null)
        {
            lock (_gate)
            {
                _summary.Count(item);
            }
        }
        else if (UnderFailedRemoteDirectory(item.RelativePath))
        {
            lock (_gate)
            {
                _summary.Skipped++;
            }
        }
        else
        {
            lock (_gate)
            {
                _summary.Errors++;
                _failedPaths.Add(item.RelativePath);
            }

            _observer.OnError(error);
        }

        Settle(index, error is null ? item : null);
        _meter.ActionDone(item.RelativePath);
    }

    private async Task ReportFailureAsync(Task answer)
    {
        (SyncException? error, _) = await FailureOf(answer, string.Empty).ConfigureAwait(false);
        if (error is not null)
        {
            lock (_gate)
            {
                _summary.Errors++;
            }

            _observer.OnError(error);
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
