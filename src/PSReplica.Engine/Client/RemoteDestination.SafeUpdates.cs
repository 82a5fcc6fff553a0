using PSReplica.Engine.Execution;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Client;

/// <summary>-DelayUpdates and -Inplace on a push: the same decisions as the local destination makes
/// (<see cref="Receiving.LocalDestination.CommitDelayed"/>), carried out by the agent.</summary>
internal sealed partial class RemoteDestination
{
    /// <summary>-Inplace: the agent rewrites the file itself, by a delta against its own content where a delta is used,
    /// else whole; a delta that does not verify is sent again whole, as locally.</summary>
    private void CopyInPlaceRemote(PlannedAction action, RemoteDestinationTree tree, AttributeSet attributes, Action<long> progress)
    {
        FileEntry source = action.Source!;
        string relative = action.Item.RelativePath;
        bool exists = action.Existing is { Kind: EntryKind.File };
        TransferResult result;
        if (exists && UsesDelta(action))
        {
            try
            {
                result = tree.WriteInPlace(relative, source, exists, delta: true, _options.BlockSize, attributes, progress, _cancellation);
                Record(action, result);
                return;
            }
            catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
            {
                _observer.OnWarning($"'{relative}' did not verify after a delta transfer in place; sending it whole.");
            }
        }

        result = tree.WriteInPlace(relative, source, exists, delta: false, _options.BlockSize, attributes, progress, _cancellation);
        Record(action, result);
    }

    /// <summary>-DelayUpdates on a push: once every transfer is done, the agent renames the files that wait into place in
    /// one burst; each it could not put in place is an error, as locally.</summary>
    public List<SyncException> CommitDelayed()
    {
        var failures = new List<SyncException>();
        if (_tree is not RemoteDestinationTree { DelaysUpdates: true } tree)
        {
            return failures;
        }

        // Changes sent without waiting (directories, links, deletions) are answered before the burst.
        DrainRemote();
        _cancellation.ThrowIfCancellationRequested();
        (long failed, List<(string Path, string Message)> listed) = tree.CommitUpdates(_cancellation);
        foreach ((string path, string message) in listed)
        {
            failures.Add(new SyncException(ErrorIds.DelayedUpdateFailed, SyncErrorKind.WriteError,
                $"Cannot put '{path}' in place at the end of the run: {message}", path));
        }

        if (failed > listed.Count)
        {
            failures.Add(new SyncException(ErrorIds.DelayedUpdateFailed, SyncErrorKind.WriteError,
                $"{failed - listed.Count} more file(s) could not be put in place at the end of the run.", _plan.DestinationRoot));
        }

        return failures;
    }
}
