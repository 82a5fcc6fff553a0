using PSReplica.Engine.Execution;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica.Engine.Client;

/// <summary>Small whole-file copies to an agent, sent back to back on one WriteBatch stream instead of a request each
/// (as rsync streams its files): a first copy of many small files then costs the agent and the controller a record
/// each, not a request, a task and a round trip each. A batch is ended before any other change is sent from the plan
/// (a directory made, a link, a deletion), so that everything its files need was sent before it, and the agent, which
/// starts a batch only after the ordered changes that came before it, finds their directories made.</summary>
internal sealed partial class RemoteDestination
{
    /// <summary>Files up to this size are batched; larger ones gain nothing from it and go to the workers.</summary>
    private const int BatchFileLimit = 256 << 10;

    private RemoteWriteBatch? _batch;
    private byte[]? _batchBuffer;

    /// <summary>The batches ended and not yet known to be settled (main thread only).</summary>
    private readonly List<Task> _batches = [];

    /// <summary>The copies in the batches by the number each was sent with, until settled.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (PlannedAction Action, Action<SyncException?> Settle)> _batched = new();
    private int _nextBatched;

    /// <summary>Sends a copy in the current batch, when it is a small whole file to an agent that takes batches.
    /// False when the copy must go its own way (a worker).</summary>
    private bool TryBatch(PlannedAction action, Action<SyncException?> settle)
    {
        if (_tree is not RemoteDestinationTree { BatchesWrites: true } tree)
        {
            return false;
        }

        FileEntry source = action.Source!;
        string relative = action.Item.RelativePath;
        if (source.Length > BatchFileLimit || action.Basis is not null || action.LinkTo is not null || UsesDelta(action)
            || (_options.Backup && NeedsBackup(action)) || !tree.Batches(relative))
        {
            return false;
        }

        _batchBuffer ??= new byte[BatchFileLimit + 1];
        int length;
        try
        {
            using SafeFileHandle handle = _sourceFiles!.Open(relative, source);
            length = BatchCodec.ReadWhole(handle, _batchBuffer);
            if (_options.SourceMustRest)
            {
                // -Watch: a file written while it was read is not sent (its write is a change the watch copies later).
                _sourceFiles.CheckRested(relative, source);
            }
        }
        catch (SyncException ex)
        {
            settle(ex);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            settle(new SyncException(ex is UnauthorizedAccessException ? ErrorIds.PermissionDenied : ErrorIds.FileReadError,
                ex is UnauthorizedAccessException ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
                $"Cannot read '{relative}': {ex.Message}", relative, ex));
            return true;
        }

        if (length > BatchFileLimit)
        {
            // It grew since it was listed: too large for a batch now.
            return false;
        }

        if (_batch is null)
        {
            try
            {
                _batch = tree.StartWriteBatch(SettleBatched, _cancellation);
            }
            catch (SyncException)
            {
                // The session is failing: the copy on its own reports the error.
                return false;
            }

            _batches.Add(_batch.Completion);
        }

        int number = Interlocked.Increment(ref _nextBatched);
        _batched[number] = (action, settle);
        _batch.Add(number, relative, _batchBuffer.AsSpan(0, length), _attributes.ForFile(action));
        return true;
    }

    /// <summary>Ends the current batch (its results still come in); a no-op without one.</summary>
    private void EndBatch()
    {
        _batch?.End();
        _batch = null;
    }

    /// <summary>Ends the current batch and waits until every file of every batch is settled.</summary>
    private void DrainBatches()
    {
        EndBatch();
        if (_batches.Count > 0)
        {
            // The completions catch every failure themselves.
            Task.WaitAll(_batches.ToArray(), CancellationToken.None);
            _batches.Clear();
        }
    }

    /// <summary>Settles a batched copy (called on the batch's reader).</summary>
    private void SettleBatched(int number, long written, SyncException? error)
    {
        if (!_batched.TryRemove(number, out (PlannedAction Action, Action<SyncException?> Settle) copy)
            || ReferenceEquals(error, RemoteWriteBatch.Stopped))
        {
            // The run is ending with the cancellation; nothing more is reported.
            return;
        }

        if (error is null)
        {
            copy.Action.Item.BytesTransferred = written;
            copy.Action.Item.BytesMatched = 0;
            _meter.AddBytes(written);
        }

        copy.Settle(error);
    }
}
