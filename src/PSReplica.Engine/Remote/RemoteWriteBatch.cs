using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Threading;
using System.Threading.Tasks;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Remote;

/// <summary>The controller's side of one WriteBatch request: small files are added back to back on one stream (no
/// request, no answer to wait for each), and a reader settles each file as the agent's result for it comes back. Every
/// file added is settled exactly once: by its result, or by the failure that ends the batch (the connection lost, the
/// agent's error, a cancelled run).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "End releases them, and every batch is ended (SyncExecutor.DrainBatches).")]
internal sealed class RemoteWriteBatch
{
    private readonly MuxStream _stream;
    private readonly MuxWriteStream _output;
    private readonly Action<int, long, SyncException?> _settle;
    private readonly WireWriter _header = new(64);
    private readonly Queue<int> _pending = new();
    private readonly object _gate = new();
    private SyncException? _failure;
    private bool _ended;

    /// <summary>The failure files are settled with when the run was cancelled: not an error to report.</summary>
    public static SyncException Stopped { get; } = ProtocolFault.ConnectionLost("the run was stopped");

    /// <param name="settle">Called once per file added, with its token and either the bytes written or the error.</param>
    /// <param name="close">Finishes the stream once the answer has been read (or abandons it).</param>
    public RemoteWriteBatch(MuxStream stream, Action<int, long, SyncException?> settle, Action<MuxStream> close, CancellationToken cancellation)
    {
        _stream = stream;
        _settle = settle;
        _output = new MuxWriteStream(stream, cancellation);
        Completion = Task.Factory.StartNew(() => ReadResults(close, cancellation), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Done when every file added has been settled and the stream is finished.</summary>
    public Task Completion { get; }

    /// <summary>Sends one file (waiting only for flow-control credit). A batch already failed settles it with that failure.</summary>
    public void Add(int token, string path, ReadOnlySpan<byte> data, AttributeSet attributes)
    {
        SyncException? failure;
        lock (_gate)
        {
            failure = _failure ?? (_ended ? ProtocolFault.Violation("a file added to a WriteBatch after its end") : null);
            if (failure is null)
            {
                _pending.Enqueue(token);
            }
        }

        if (failure is not null)
        {
            _settle(token, 0, failure);
            return;
        }

        try
        {
            Span<byte> hash = stackalloc byte[16];
            XxHash128.Hash(data, hash);
            BatchCodec.WriteRecord(_output, _header, path, data, hash, attributes);
        }
        catch (Exception ex) when (ex is SyncException or OperationCanceledException)
        {
            Fail(ex as SyncException ?? Stopped);
        }
    }

    /// <summary>Sends what is gathered and the body's end; the results still come after this returns.</summary>
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
            _output.Flush();
            _stream.SendEndAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is SyncException or OperationCanceledException)
        {
            Fail(ex as SyncException ?? Stopped);
        }
        finally
        {
            _output.Dispose();
            _header.Dispose();
        }
    }

    private void ReadResults(Action<MuxStream> close, CancellationToken cancellation)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BatchCodec.MaxResult);
        try
        {
            using var input = new MuxReadStream(_stream, cancellation);
            while (BatchCodec.ReadResult(input, buffer, out long written, out SyncException? error))
            {
                int token;
                lock (_gate)
                {
                    if (!_pending.TryDequeue(out token))
                    {
                        throw ProtocolFault.Violation("more WriteBatch results than files");
                    }
                }

                _settle(token, written, error);
            }

            if (input.Trailer is not { Length: 0 })
            {
                throw ProtocolFault.Violation("a WriteBatch answer whose end carries data");
            }

            lock (_gate)
            {
                if (_pending.Count > 0)
                {
                    throw ProtocolFault.Violation("fewer WriteBatch results than files");
                }
            }
        }
        catch (SyncException ex)
        {
            Fail(ex);
        }
        catch (OperationCanceledException)
        {
            Fail(Stopped);
        }
        catch (Exception ex)
        {
            // Never leave a file unsettled: the run waits for every one.
            Fail(new SyncException(ErrorIds.AgentFailed, SyncErrorKind.InvalidOperation, "The batch of small files failed: " + ex.Message, string.Empty, ex));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            close(_stream);
        }
    }

    /// <summary>Settles every file not yet answered with <paramref name="error"/>; later additions get it too.</summary>
    private void Fail(SyncException error)
    {
        List<int> unanswered;
        lock (_gate)
        {
            _failure ??= error;
            unanswered = [.. _pending];
            _pending.Clear();
        }

        foreach (int token in unanswered)
        {
            _settle(token, 0, _failure);
        }
    }
}
