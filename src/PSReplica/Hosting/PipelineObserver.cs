using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace PSReplica.Commands.Hosting;

/// <summary>Receives engine events on worker threads and hands them to the pipeline thread, which is the only
/// thread allowed to call WriteObject, WriteError, WriteProgress and ShouldProcess.</summary>
internal sealed class PipelineObserver : ISyncObserver, IDisposable
{
    private readonly BlockingCollection<object> _events = [];
    private readonly bool _ask;
    private readonly bool _emitItems;

    /// <param name="ask">Route every action through ShouldProcess on the pipeline thread (-WhatIf, -Confirm).</param>
    /// <param name="emitItems">Forward completed items (false with -Summary).</param>
    public PipelineObserver(bool ask, bool emitItems)
    {
        _ask = ask;
        _emitItems = emitItems;
    }

    public bool ConfirmsEachAction => _ask;

    public void OnItem(SyncItem item)
    {
        if (_emitItems)
        {
            _events.Add(item);
        }
    }

    public void OnError(SyncException error) => _events.Add(error);

    public void OnWarning(string message) => _events.Add(new Warning(message));

    public void OnProgress(SyncProgress progress) => _events.Add(progress);

    public bool ShouldProcess(SyncItem item)
    {
        if (!_ask)
        {
            return true;
        }

        var request = new ConfirmRequest(item);
        _events.Add(request);
        return request.Answer.Task.GetAwaiter().GetResult();
    }

    /// <summary>Runs on the pipeline thread until <paramref name="work"/> has finished and every event is handled.</summary>
    public void Drain(Task work, Action<object> handle, CancellationToken cancellation)
    {
        work.ContinueWith(_ => _events.CompleteAdding(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            foreach (object next in _events.GetConsumingEnumerable(cancellation))
            {
                handle(next);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: answer any waiting confirmation so the worker can observe the cancellation and end.
            while (_events.TryTake(out object? pending))
            {
                if (pending is ConfirmRequest request)
                {
                    request.Answer.TrySetResult(false);
                }
            }

            throw;
        }
    }

    public void Dispose() => _events.Dispose();

    internal sealed record Warning(string Message);

    internal sealed class ConfirmRequest(SyncItem item)
    {
        public SyncItem Item { get; } = item;

        public TaskCompletionSource<bool> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
