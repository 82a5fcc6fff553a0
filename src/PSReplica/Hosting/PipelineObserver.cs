using System;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace PSReplica.Commands.Hosting;

/// <summary>Receives engine events on worker threads and hands them to the pipeline thread, which is the only
/// thread allowed to call WriteObject, WriteError, WriteProgress and ShouldProcess.</summary>
internal sealed class PipelineObserver : ISyncObserver, IDisposable
{
    /// <summary>Events the engine may be ahead of the pipeline: a run whose items are consumed slowly (Export-Csv, a
    /// remote session) waits for them instead of holding a million items in memory (issue 18).</summary>
    internal const int Capacity = 4096;

    // One reader (the pipeline thread) that drains whatever is queued before it waits again: no hand-off per item.
    private readonly Channel<object> _events = Channel.CreateBounded<object>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
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

    /// <summary>Whether the cmdlet shows verbose messages (its -Verbose or $VerbosePreference); set before the run starts.</summary>
    public bool WantsVerbose { get; set; }

    /// <summary>Whether the cmdlet shows debug messages (-Debug or $DebugPreference); set before the run starts.</summary>
    public bool WantsDebug { get; set; }

    public void OnItem(SyncItem item)
    {
        if (_emitItems)
        {
            Post(item);
        }
    }

    public void OnError(SyncException error) => Post(error);

    public void OnWarning(string message) => Post(new Warning(message));

    public void OnProgress(SyncProgress progress) => Post(progress);

    public void OnVerbose(string message) => Post(new VerboseMessage(message));

    public void OnDebug(string message) => Post(new DebugMessage(message));

    public bool ShouldProcess(SyncItem item)
    {
        if (!_ask)
        {
            return true;
        }

        var request = new ConfirmRequest(item);
        Post(request);
        return request.Answer.Task.GetAwaiter().GetResult();
    }

    /// <summary>Runs on the pipeline thread until <paramref name="work"/> has finished and every event is handled.</summary>
    public void Drain(Task work, Action<object> handle, CancellationToken cancellation)
    {
        work.ContinueWith(_ => _events.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        ChannelReader<object> reader = _events.Reader;
        try
        {
            while (true)
            {
                while (reader.TryRead(out object? next))
                {
                    handle(next);
                }

                if (!reader.WaitToReadAsync(cancellation).AsTask().GetAwaiter().GetResult())
                {
                    return;
                }
            }
        }
        catch (Exception)
        {
            // Stopping (Ctrl+C, or a downstream command that wants no more): nothing more is taken (an engine thread
            // waiting for room is let go) and any waiting confirmation is answered, so the workers can observe the
            // cancellation and end.
            _events.Writer.TryComplete();
            while (reader.TryRead(out object? pending))
            {
                if (pending is ConfirmRequest request)
                {
                    request.Answer.TrySetResult(false);
                }
            }

            throw;
        }
    }

    public void Dispose() => _events.Writer.TryComplete();

    private void Post(object next)
    {
        if (_events.Writer.TryWrite(next))
        {
            return;
        }

        try
        {
            // Full: wait for the pipeline thread to take some.
            _events.Writer.WriteAsync(next).AsTask().GetAwaiter().GetResult();
        }
        catch (ChannelClosedException)
        {
            if (next is ConfirmRequest request)
            {
                // The run is over (stopped): nobody will ask; decline.
                request.Answer.TrySetResult(false);
            }
        }
    }

    internal sealed record Warning(string Message);

    internal sealed record VerboseMessage(string Message);

    internal sealed record DebugMessage(string Message);

    internal sealed class ConfirmRequest(SyncItem item)
    {
        public SyncItem Item { get; } = item;

        public TaskCompletionSource<bool> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
