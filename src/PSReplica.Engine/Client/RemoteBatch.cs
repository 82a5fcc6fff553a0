using System.Buffers;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Client;

/// <summary>What both batch requests share on the controller's side: records written on one stream while a reader
/// thread takes the agent's answers, which come in the order the records went. Each record's <typeparamref name="TPending"/>
/// is answered exactly once: by the agent's answer, or by the failure that ends the batch (the connection lost, the
/// agent's error, a cancelled run: null).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "End releases them, and every batch is ended (PlanRunner.DrainWorkers).")]
internal abstract class RemoteBatch<TPending>
{
    private readonly Queue<TPending> _pending = new();
    private readonly object _gate = new();
    private SyncException? _failure;
    private bool _failed;
    private bool _ended;

    protected RemoteBatch(MuxStream stream, CancellationToken cancellation)
    {
        Stream = stream;
        Output = new MuxWriteStream(stream, cancellation);
    }

    /// <summary>Done when every record has been answered and the stream is finished.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    protected MuxStream Stream { get; }

    /// <summary>The body (main thread only).</summary>
    protected MuxWriteStream Output { get; }

    protected WireWriter Message { get; } = new(64);

    /// <summary>The request's name, for messages.</summary>
    protected abstract string Name { get; }

    /// <summary>Sends what is gathered and the body's end; the answers still come after this returns.</summary>
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
            Output.Flush();
            Stream.SendEndAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is SyncException or OperationCanceledException)
        {
            Fail(ex as SyncException);
        }
        finally
        {
            Output.Dispose();
            Message.Dispose();
        }
    }

    /// <summary>Starts the reader (the last step of a derived constructor).</summary>
    protected void StartReading(Action<MuxStream> close, CancellationToken cancellation) =>
        Completion = Task.Factory.StartNew(() => ReadAnswers(close, cancellation), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Takes a record into the batch before it is written; false (with the failure to answer it with, null
    /// when the run was stopped) when the batch has failed or ended.</summary>
    protected bool Enlist(TPending pending, out SyncException? failure)
    {
        lock (_gate)
        {
            failure = _failed ? _failure : _ended ? ProtocolFault.Violation($"a record added to a {Name} after its end") : null;
            if (_failed || _ended)
            {
                return false;
            }

            _pending.Enqueue(pending);
            return true;
        }
    }

    /// <summary>The record the next answer is for.</summary>
    protected TPending Next()
    {
        lock (_gate)
        {
            return _pending.TryDequeue(out TPending? pending) ? pending : throw ProtocolFault.Violation($"more {Name} answers than records");
        }
    }

    /// <summary>Reads one answer and gives it to its record (<see cref="Next"/>); false at the end of the answers.</summary>
    protected abstract bool ReadAnswer(Stream input, byte[] buffer);

    /// <summary>Answers a record with the batch's failure (null: the run was stopped, nothing to report).</summary>
    protected abstract void Abandon(TPending pending, SyncException? error);

    /// <summary>Answers every record not yet answered with <paramref name="error"/> (null: the run was stopped); later
    /// records get the failure too.</summary>
    protected void Fail(SyncException? error)
    {
        List<TPending> unanswered;
        lock (_gate)
        {
            _failed = true;
            _failure ??= error;
            unanswered = [.. _pending];
            _pending.Clear();
        }

        foreach (TPending pending in unanswered)
        {
            Abandon(pending, error);
        }
    }

    private void ReadAnswers(Action<MuxStream> close, CancellationToken cancellation)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BatchCodec.MaxResult);
        try
        {
            using var input = new MuxReadStream(Stream, cancellation);
            while (ReadAnswer(input, buffer))
            {
            }

            if (input.Trailer is not { Length: 0 })
            {
                throw ProtocolFault.Violation($"a {Name} answer whose end carries data");
            }

            lock (_gate)
            {
                if (_pending.Count > 0)
                {
                    throw ProtocolFault.Violation($"fewer {Name} answers than records");
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
            // Never leave a record unanswered: the run waits for every one.
            Fail(new SyncException(ErrorIds.AgentFailed, SyncErrorKind.InvalidOperation, $"The {Name} failed: {ex.Message}", string.Empty, ex));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            close(Stream);
        }
    }
}
