using System.Threading.Channels;

namespace PSReplica.Engine.Protocol;

/// <summary>One request's stream in a session: frames in (data, then an end or an error) and frames out, with credit-based
/// flow control on data in both directions: a side sends at most <see cref="ProtocolLimits.StreamWindow"/> data bytes
/// beyond what the other side has granted back, so each stream's queue stays bounded.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The SemaphoreSlim and the ManualResetEventSlim never allocate a wait handle; there is nothing to release.")]
internal sealed class MuxStream
{
    private readonly Multiplexer _mux;
    private readonly Channel<Frame> _inbound = Channel.CreateUnbounded<Frame>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly SemaphoreSlim _creditSignal = new(0);
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set whenever a frame is queued or the inbound side completes, for <see cref="Receive"/>. It does not
    /// spin: the reader it wakes is a thread of its own, and on a busy machine spinning takes the CPU the sender needs.</summary>
    private readonly ManualResetEventSlim _arrival = new(false, spinCount: 0);
    private readonly object _gate = new();
    private int _sendCredit = ProtocolLimits.StreamWindow;

    // Set once the peer has granted credit beyond a normal window (it widened the stream): uncompressed data then goes in
    // frames of WideDataChunk.
    private volatile bool _peerWidened;
    private int _receivedUngranted;
    private int _consumedUngranted;

    // The window this side grants the peer on this stream: StreamWindow, or WideStreamWindow once widened (_wide: 1 while
    // it holds one of the session's widenings).
    private int _window = ProtocolLimits.StreamWindow;
    private int _wide;
    private SyncException? _failure;
    private volatile bool _peerEnded;

    public MuxStream(Multiplexer mux, uint id)
    {
        _mux = mux;
        Id = id;
    }

    public uint Id { get; }

    /// <summary>Completes when the stream fails: the peer sent an error frame, or the session ended. A reader that waits for
    /// something else before it reads on (a bounded listing) stops waiting then, whatever is still queued.</summary>
    public Task Failed => _failed.Task;

    /// <summary>Whether the peer has sent its end or error frame on this stream.</summary>
    public bool PeerEnded => _peerEnded;

    public Multiplexer Session => _mux;

    /// <summary>Whether data this side sends on the stream is compressed (when the session compresses at all).</summary>
    public bool Compress { get; set; }

    /// <summary>Whether a frame from the peer is waiting to be received (so a receive would not wait).</summary>
    public bool HasQueuedFrames => _inbound.Reader.TryPeek(out _);

    /// <summary>Called (on the read loop) with the peer's progress reports for this stream.</summary>
    public Action<long>? OnProgress { get; set; }

    /// <summary>Queues a frame from the read loop. Data beyond the granted window is a violation.</summary>
    internal void Deliver(Frame frame)
    {
        if (frame.Kind == FrameKind.Progress)
        {
            using (frame)
            {
                var reader = new WireReader(frame.Payload);
                long done = reader.Int64();
                reader.ExpectEnd();
                OnProgress?.Invoke(done);
            }

            return;
        }

        if (frame.Kind == FrameKind.Data && Interlocked.Add(ref _receivedUngranted, frame.Length) > Volatile.Read(ref _window))
        {
            frame.Dispose();
            throw ProtocolFault.Violation($"more data on stream {Id} than its window allows");
        }

        if (!_inbound.Writer.TryWrite(frame))
        {
            frame.Dispose();
        }

        if (frame.Kind is FrameKind.End or FrameKind.Error)
        {
            _peerEnded = true;
            _inbound.Writer.TryComplete();
        }

        _arrival.Set();

        if (frame.Kind == FrameKind.Error)
        {
            // A body still being sent stops; the error frame itself says why.
            lock (_gate)
            {
                _failure ??= new SyncException(ErrorIds.AgentFailed, SyncErrorKind.InvalidOperation, $"The {_mux.PeerName} ended stream {Id}.");
            }

            _failed.TrySetResult();
            _creditSignal.Release();
        }
    }

    internal void AddCredit(int credit)
    {
        lock (_gate)
        {
            _sendCredit += credit;
            if (_sendCredit > _mux.CreditLimit)
            {
                throw ProtocolFault.Violation($"more credit on stream {Id} than was ever used");
            }

            if (_sendCredit > ProtocolLimits.StreamWindow)
            {
                _peerWidened = true;
            }
        }

        _creditSignal.Release();
    }

    internal void Fail(SyncException error)
    {
        lock (_gate)
        {
            _failure ??= error;
        }

        _inbound.Writer.TryComplete(error);
        _arrival.Set();
        _failed.TrySetResult();
        _creditSignal.Release();
    }

    /// <summary>The next frame from the peer: Data, End or Error. The caller disposes it, and calls <see cref="Consumed"/>
    /// for data it has processed.</summary>
    public async ValueTask<Frame> ReceiveAsync(CancellationToken cancellation)
    {
        try
        {
            return await _inbound.Reader.ReadAsync(cancellation).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw _failure ?? ProtocolFault.Violation($"stream {Id} read past its end");
        }
    }

    /// <summary>The next frame from the peer, waiting on this thread (the synchronous readers: batch answers, signatures,
    /// delta ops, each on a thread of its own). As <see cref="ReceiveAsync"/>, without a thread-pool hop per frame: a
    /// frame queued while the reader waits wakes it directly.</summary>
    public Frame Receive(CancellationToken cancellation)
    {
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();

            // Reset before looking: a frame queued after the look sets the event again, so the wait cannot miss it.
            _arrival.Reset();
            if (_inbound.Reader.TryRead(out Frame? frame))
            {
                return frame;
            }

            if (_inbound.Reader.Completion.IsCompleted)
            {
                // Ended or failed with nothing left: the asynchronous read says how, as it does for its own callers.
                return ReceiveAsync(cancellation).AsTask().GetAwaiter().GetResult();
            }

            _arrival.Wait(cancellation);
        }
    }

    /// <summary>For a body this side reads in bulk (a file's data): when the session allows it
    /// (<see cref="Handshake.WideWindows"/>) and fewer than <see cref="ProtocolLimits.MaxWideStreams"/> streams are widened,
    /// grants the peer the difference to <see cref="ProtocolLimits.WideStreamWindow"/> at once, so that the sender does not
    /// stop for each grant's round trip. The widening ends with the stream (<see cref="Multiplexer.Unregister"/>).</summary>
    public void Widen()
    {
        if (Volatile.Read(ref _wide) != 0 || !_mux.TryTakeWideSlot())
        {
            return;
        }

        if (Interlocked.Exchange(ref _wide, 1) != 0)
        {
            _mux.ReturnWideSlot();
            return;
        }

        // The window grows before the grant leaves, so data sent on the grant always fits.
        Volatile.Write(ref _window, ProtocolLimits.WideStreamWindow);
        using var message = new WireWriter(8);
        message.UInt((uint)(ProtocolLimits.WideStreamWindow - ProtocolLimits.StreamWindow));
        _ = SendQuietlyAsync(FrameKind.Window, message.WrittenMemory.ToArray());
    }

    /// <summary>The stream is done (unregistered): a widening it held goes back to the session.</summary>
    internal void Finished()
    {
        if (Interlocked.Exchange(ref _wide, 0) != 0)
        {
            _mux.ReturnWideSlot();
        }
    }

    /// <summary>Grants the peer credit for data this side has processed, in batches of a quarter window.</summary>
    public void Consumed(int bytes)
    {
        int grant;
        lock (_gate)
        {
            _consumedUngranted += bytes;
            if (_consumedUngranted < Volatile.Read(ref _window) / 4)
            {
                return;
            }

            grant = _consumedUngranted;
            _consumedUngranted = 0;
        }

        Interlocked.Add(ref _receivedUngranted, -grant);
        using var message = new WireWriter(8);
        message.UInt((uint)grant);
        _ = SendQuietlyAsync(FrameKind.Window, message.WrittenMemory.ToArray());
    }

    /// <summary>The most data worth handing to <see cref="SendDataAsync"/> at once: what fits one frame.</summary>
    public int FrameLimit => Compresses ? ProtocolLimits.DataChunk : ProtocolLimits.WideDataChunk;

    /// <summary>Whether data sent on the stream goes compressed (it asks, and the session compresses).</summary>
    private bool Compresses => Compress && _mux.CompressionLevel > 0;

    /// <summary>Sends data, waiting for credit, in frames of at most <see cref="ProtocolLimits.DataChunk"/> bytes, or
    /// <see cref="ProtocolLimits.WideDataChunk"/> uncompressed once the peer has widened the stream.</summary>
    public async Task SendDataAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation)
    {
        bool compress = Compresses;
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, !compress && _peerWidened ? ProtocolLimits.WideDataChunk : ProtocolLimits.DataChunk);
            await TakeCreditAsync(n, cancellation).ConfigureAwait(false);
            if (compress && FrameCompressor.Compress(data.Span[..n], _mux.CompressionLevel) is (byte[] packed, int length))
            {
                try
                {
                    await _mux.SendAsync(FrameKind.CompressedData, Id, packed.AsMemory(0, length), cancellation).ConfigureAwait(false);
                }
                finally
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(packed);
                }
            }
            else
            {
                await _mux.SendAsync(FrameKind.Data, Id, data[..n], cancellation).ConfigureAwait(false);
            }

            data = data[n..];
        }
    }

    public Task SendEndAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellation) =>
        _mux.SendAsync(FrameKind.End, Id, payload, cancellation);

    public Task SendRequestAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellation) =>
        _mux.SendAsync(FrameKind.Request, Id, payload, cancellation);

    public Task SendProgressAsync(long done)
    {
        using var message = new WireWriter(12);
        message.UInt((ulong)done);
        return SendQuietlyAsync(FrameKind.Progress, message.WrittenMemory.ToArray());
    }

    public async Task SendErrorAsync(SyncException error, CancellationToken cancellation)
    {
        using var message = new WireWriter();
        WireError.Write(message, error);
        await _mux.SendAsync(FrameKind.Error, Id, message.WrittenMemory, cancellation).ConfigureAwait(false);
    }

    private async Task TakeCreditAsync(int n, CancellationToken cancellation)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_failure is not null)
                {
                    throw _failure;
                }

                if (_sendCredit >= n)
                {
                    _sendCredit -= n;
                    return;
                }
            }

            await _creditSignal.WaitAsync(cancellation).ConfigureAwait(false);
        }
    }

    private async Task SendQuietlyAsync(FrameKind kind, byte[] payload)
    {
        try
        {
            await _mux.SendAsync(kind, Id, payload, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SyncException)
        {
            // The session is ending; its own error is what gets reported.
        }
    }
}
