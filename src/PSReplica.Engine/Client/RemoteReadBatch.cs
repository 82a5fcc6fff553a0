using System.Collections.Concurrent;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Client;

/// <summary>The controller's side of one ReadBatch request (a pull): the executor names the small files it is about to
/// copy as it queues them, the agent sends them back to back, and each copy takes its file's bytes when they are in
/// instead of asking for them (a request, a task and a round trip each). Every file named is answered once: with its
/// bytes, with null (too large now: read it on its own), with its error, or with the failure that ends the batch.</summary>
internal sealed class RemoteReadBatch : RemoteBatch<TaskCompletionSource<byte[]?>>
{
    /// <summary>Requests go out in groups of this many (a frame each group instead of each file), and whenever the
    /// executor is about to wait (<see cref="FlushRequests"/>).</summary>
    private const int RequestsPerFlush = 64;

    private readonly ConcurrentDictionary<string, TaskCompletionSource<byte[]?>> _files = new(StringComparer.Ordinal);
    private int _unflushed;

    public RemoteReadBatch(MuxStream stream, Action<MuxStream> close, CancellationToken cancellation)
        : base(stream, cancellation) => StartReading(close, cancellation);

    protected override string Name => "ReadBatch";

    /// <summary>Asks for <paramref name="relative"/> (main thread). The request goes out with the next group, or when
    /// the main thread flushes before it waits: a copy waiting for its file never waits on a request still here.
    /// A path already asked for in this batch, or a batch that has failed, asks nothing: the copy reads on its own.</summary>
    public void Request(string relative)
    {
        var file = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_files.TryAdd(relative, file))
        {
            return;
        }

        if (!Enlist(file, out _))
        {
            _files.TryRemove(relative, out _);
            return;
        }

        try
        {
            BatchCodec.WritePath(Output, Message, relative);
            if (++_unflushed >= RequestsPerFlush)
            {
                FlushRequests();
            }
        }
        catch (Exception ex) when (ex is SyncException or OperationCanceledException)
        {
            Fail(ex as SyncException);
        }
    }

    /// <summary>Sends the requests gathered so far (main thread; before it waits on anything).</summary>
    public void FlushRequests()
    {
        if (_unflushed == 0)
        {
            return;
        }

        _unflushed = 0;
        try
        {
            Output.Flush();
        }
        catch (Exception ex) when (ex is SyncException or OperationCanceledException)
        {
            Fail(ex as SyncException);
        }
    }

    /// <summary>The answer for <paramref name="relative"/> when it was asked for (taken once).</summary>
    public bool TryTake(string relative, out Task<byte[]?> file)
    {
        bool found = _files.TryRemove(relative, out TaskCompletionSource<byte[]?>? source);
        file = found ? source!.Task : Task.FromResult<byte[]?>(null);
        return found;
    }

    protected override bool ReadAnswer(Stream input, byte[] buffer)
    {
        if (!BatchCodec.ReadFileRead(input, buffer, out BatchCodec.ReadOutcome outcome, out byte[]? data, out SyncException? error))
        {
            return false;
        }

        TaskCompletionSource<byte[]?> file = Next();
        if (error is not null)
        {
            file.TrySetException(error);
        }
        else
        {
            file.TrySetResult(outcome == BatchCodec.ReadOutcome.Read ? data : null);
        }

        return true;
    }

    protected override void Abandon(TaskCompletionSource<byte[]?> pending, SyncException? error)
    {
        if (error is null)
        {
            pending.TrySetCanceled();
        }
        else
        {
            pending.TrySetException(error);
        }
    }
}
