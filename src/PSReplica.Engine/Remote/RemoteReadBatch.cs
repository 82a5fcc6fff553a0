using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Remote;

/// <summary>The controller's side of one ReadBatch request (a pull): the executor names the small files it is about to
/// copy as it queues them, the agent sends them back to back, and each copy takes its file's bytes when they are in
/// instead of asking for them (a request, a task and a round trip each). Every file named is answered once: with its
/// bytes, with null (too large now: read it on its own), or with the failure that ends the batch.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "End releases them, and every batch is ended (SyncExecutor.DrainWorkers).")]
internal sealed class RemoteReadBatch
{
    private readonly MuxStream _stream;
    private readonly MuxWriteStream _output;
    private readonly WireWriter _message = new(64);
    private readonly Queue<TaskCompletionSource<byte[]?>> _pending = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<byte[]?>> _files = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private SyncException? _failure;
    private bool _ended;

    public RemoteReadBatch(MuxStream stream, Action<MuxStream> close, CancellationToken cancellation)
    {
        _stream = stream;
        _output = new MuxWriteStream(stream, cancellation);
        Completion = Task.Factory.StartNew(() => ReadAnswers(close, cancellation), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Done when every file named has been answered and the stream is finished.</summary>
    public Task Completion { get; }

    /// <summary>Asks for <paramref name="relative"/> (sent at once, so that a copy waiting for it never waits on this side).</summary>
    public void Request(string relative)
    {
        var file = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_failure is not null || _ended || !_files.TryAdd(relative, file))
            {
                return;
            }

            _pending.Enqueue(file);
        }

        try
        {
            BatchCodec.WritePath(_output, _message, relative);
            _output.Flush();
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

    /// <summary>Sends the body's end; the answers still come after this returns.</summary>
    public void End()
    {
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
        }

        try
        {
            _stream.SendEndAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (SyncException ex)
        {
            Fail(ex);
        }
        finally
        {
            _output.Dispose();
            _message.Dispose();
        }
    }

    private void ReadAnswers(Action<MuxStream> close, CancellationToken cancellation)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BatchCodec.MaxResult);
        try
        {
            using var input = new MuxReadStream(_stream, cancellation);
            while (BatchCodec.ReadFileRead(input, buffer, out BatchCodec.ReadOutcome outcome, out byte[]? data, out SyncException? error))
            {
                TaskCompletionSource<byte[]?>? file;
                lock (_gate)
                {
                    if (!_pending.TryDequeue(out file))
                    {
                        throw ProtocolFault.Violation("more ReadBatch answers than files asked for");
                    }
                }

                if (error is not null)
                {
                    file.TrySetException(error);
                }
                else
                {
                    file.TrySetResult(outcome == BatchCodec.ReadOutcome.Read ? data : null);
                }
            }

            if (input.Trailer is not { Length: 0 })
            {
                throw ProtocolFault.Violation("a ReadBatch answer whose end carries data");
            }

            lock (_gate)
            {
                if (_pending.Count > 0)
                {
                    throw ProtocolFault.Violation("fewer ReadBatch answers than files asked for");
                }
            }
        }
        catch (SyncException ex)
        {
            Fail(ex);
        }
        catch (OperationCanceledException)
        {
            Fail(null);
        }
        catch (Exception ex)
        {
            Fail(new SyncException(ErrorIds.AgentFailed, SyncErrorKind.InvalidOperation, "The batch of small files failed: " + ex.Message, string.Empty, ex));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            close(_stream);
        }
    }

    /// <summary>Answers every file not yet answered with <paramref name="error"/> (null: the run was stopped).</summary>
    private void Fail(SyncException? error)
    {
        List<TaskCompletionSource<byte[]?>> unanswered;
        lock (_gate)
        {
            _failure ??= error ?? ProtocolFault.ConnectionLost("the run was stopped");
            unanswered = [.. _pending];
            _pending.Clear();
        }

        foreach (TaskCompletionSource<byte[]?> file in unanswered)
        {
            if (error is null)
            {
                file.TrySetCanceled();
            }
            else
            {
                file.TrySetException(error);
            }
        }
    }
}
