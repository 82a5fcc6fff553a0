using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Remote;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Execution;

/// <summary>Small whole-file copies to an agent, sent back to back on one WriteBatch stream instead of a request each
/// (as rsync streams its files): a first copy of many small files then costs the agent and the controller a record
/// each, not a request, a task and a round trip each. A batch is ended before any other change is sent from the plan
/// (a directory made, a link, a deletion), so that everything its files need was sent before it, and the agent, which
/// starts a batch only after the ordered changes that came before it, finds their directories made.</summary>
internal sealed partial class SyncExecutor
{
    /// <summary>Files up to this size are batched; larger ones gain nothing from it and go to the workers.</summary>
    private const int BatchFileLimit = 256 << 10;

    private RemoteWriteBatch? _batch;
    private byte[]? _batchBuffer;

    /// <summary>The batches ended and not yet known to be settled (main thread only).</summary>
    private readonly List<Task> _batches = [];

    /// <summary>Sends a copy in the current batch, when it is a small whole file to an agent that takes batches.
    /// False when the copy must go its own way (a worker).</summary>
    private bool TryBatch(int index)
    {
        if (_destinationTree is not RemoteDestinationTree { BatchesWrites: true } tree)
        {
            return false;
        }

        PlannedAction action = _plan.Actions[index];
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
        }
        catch (SyncException ex)
        {
            SettleBatched(index, 0, ex);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            SettleBatched(index, 0, Classify(ex, action.Item));
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

        _batch.Add(index, relative, _batchBuffer.AsSpan(0, length), _attributes.ForFile(action));
        return true;
    }

    /// <summary>Pulls: files up to this size are asked for ahead, in a read batch, as their copies are queued.</summary>
    private const int PrefetchFileLimit = 64 << 10;

    /// <summary>Pulls: asks the agent for a small file's bytes as its copy is queued, so that the copy does not have to.</summary>
    private void Prefetch(int index)
    {
        if (_sourceTree is not RemoteSourceTree { Prefetches: true } tree)
        {
            return;
        }

        PlannedAction action = _plan.Actions[index];
        string relative = action.Item.RelativePath;
        if (action.Source!.Length > PrefetchFileLimit || action.Basis is not null || action.LinkTo is not null || UsesDelta(action)
            || _options.Inplace || _partials is not null || !tree.Batches(relative))
        {
            return;
        }

        tree.Prefetch(relative, _cancellation);
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

    /// <summary>Settles a batched copy as <see cref="Complete"/> settles one done here (called on the batch's reader).</summary>
    private void SettleBatched(int index, long written, SyncException? error)
    {
        SyncItem item = _plan.Actions[index].Item;
        if (ReferenceEquals(error, RemoteWriteBatch.Stopped))
        {
            // The run is ending with the cancellation; nothing more is reported.
            return;
        }

        if (error is null)
        {
            item.BytesTransferred = written;
            item.BytesMatched = 0;
            _meter.AddBytes(written);
            Touch(item.RelativePath);
        }

        SettleAnswered(index, error);
    }
}
