using System.Collections.Concurrent;
using System.Text;

namespace PSReplica.Engine.Protocol;

/// <summary>Lets many request streams share one connection. One loop reads frames and hands each to its stream
/// without ever blocking (a stream's queue is bounded by the credit its consumer grants, and the number of streams
/// by <see cref="ProtocolLimits.MaxStreams"/>), so neither side can stall the other into a deadlock. Anything the
/// peer sends that breaks the rules ends the session with a stable ErrorId; so does a peer silent for the idle
/// timeout. Keep-alives go out when this side has nothing else to say.</summary>
internal sealed class Multiplexer : IAsyncDisposable
{
    private readonly FrameReader _reader;
    private readonly FrameWriter _writer;
    private readonly TimeSpan _idleTimeout;
    private readonly bool _acceptsRequests;
    private readonly ConcurrentDictionary<uint, MuxStream> _streams = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Timer? _keepAlive;
    private Task? _loop;
    private uint _lastRequestId;
    private uint _lastRegisteredId;
    private int _faulted;
    private bool _fromPeer;
    private int _wideStreams;

    /// <param name="acceptsRequests">True on the agent: the peer opens streams. False on the controller: this side does.</param>
    /// <param name="compressionLevel">Deflate level for data frames this side sends on streams that ask for it; 0 for none.
    /// Compressed frames are accepted only when it is not 0 (both sides agreed).</param>
    /// <param name="wideWindows">Both sides listed <see cref="Handshake.WideWindows"/>: a receiver may widen a stream's window.</param>
    public Multiplexer(FrameReader reader, FrameWriter writer, TimeSpan idleTimeout, bool acceptsRequests, int compressionLevel = 0, bool wideWindows = false)
    {
        CompressionLevel = compressionLevel;
        WideWindows = wideWindows;
        _reader = reader;
        _writer = writer;
        _idleTimeout = idleTimeout;
        _acceptsRequests = acceptsRequests;
    }

    /// <summary>Called (on the read loop; it must not block) for each request the peer opens.</summary>
    public Action<MuxStream, AgentRequest>? OnRequest { get; set; }

    /// <summary>Called with each log line the peer sends.</summary>
    public Action<string>? OnLog { get; set; }

    /// <summary>Completes when the session ends, cleanly or not; <see cref="Fault"/> says which.</summary>
    public Task Completion => _done.Task;

    public SyncException? Fault { get; private set; }

    public int OpenStreams => _streams.Count;

    public int CompressionLevel { get; }

    /// <summary>Whether streams may be widened (<see cref="Handshake.WideWindows"/>, both sides).</summary>
    public bool WideWindows { get; }

    /// <summary>The most credit a stream may hold or be granted at once: two of the widest window the session allows.</summary>
    internal int CreditLimit => 2 * (WideWindows ? ProtocolLimits.WideStreamWindow : ProtocolLimits.StreamWindow);

    /// <summary>Takes one of the <see cref="ProtocolLimits.MaxWideStreams"/> widenings this side grants at once; false when
    /// the session does not allow them or all are taken.</summary>
    internal bool TryTakeWideSlot()
    {
        if (!WideWindows)
        {
            return false;
        }

        while (true)
        {
            int taken = Volatile.Read(ref _wideStreams);
            if (taken >= ProtocolLimits.MaxWideStreams)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _wideStreams, taken + 1, taken) == taken)
            {
                return true;
            }
        }
    }

    internal void ReturnWideSlot() => Interlocked.Decrement(ref _wideStreams);

    /// <summary>What the peer is, for messages: the agent (seen from the controller) or the controller.</summary>
    public string PeerName => _acceptsRequests ? "controller" : "agent";

    public CancellationToken Stopping => _stop.Token;

    public void Start()
    {
        _loop = Task.Run(ReadLoopAsync);
        if (_idleTimeout != Timeout.InfiniteTimeSpan)
        {
            // A Ping goes after a third of the timeout without a write, looked for every sixth: the peer hears from this
            // side at least every half timeout, and the other half is slack for a busy machine. (Looked for every third,
            // a write just after one look left two thirds of silence, and a loaded test host ran out the rest.)
            TimeSpan interval = _idleTimeout / 3;
            _keepAlive = new Timer(_ => KeepAlive(interval), null, interval / 2, interval / 2);
        }
    }

    /// <summary>Registers a stream that this side is about to open with a request.</summary>
    public MuxStream Register(uint id)
    {
        var stream = new MuxStream(this, id);
        if (id > _lastRegisteredId)
        {
            _lastRegisteredId = id;
        }

        if (Fault is { } fault)
        {
            stream.Fail(fault);
        }
        else if (!_streams.TryAdd(id, stream))
        {
            throw new InvalidOperationException($"Stream {id} is already open.");
        }

        return stream;
    }

    /// <summary>Forgets a finished stream; later frames for it are a violation (controller) or ignored (agent).</summary>
    public void Unregister(MuxStream stream)
    {
        if (_streams.TryRemove(stream.Id, out _))
        {
            stream.Finished();
        }
    }

    public Task SendAsync(FrameKind kind, uint id, ReadOnlyMemory<byte> payload, CancellationToken cancellation)
    {
        if (Fault is { } fault)
        {
            throw fault;
        }

        return _writer.WriteAsync(kind, id, payload, cancellation);
    }

    public async Task LogAsync(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text.Length > 4000 ? text[..4000] : text);
        try
        {
            await SendAsync(FrameKind.Log, 0, bytes, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SyncException)
        {
            // A log line is not worth a second error.
        }
    }

    /// <summary>Ends the session: every open stream fails with <paramref name="error"/>; the peer is told when
    /// <paramref name="tellPeer"/> (best effort: the connection may be what failed).</summary>
    public void Abort(SyncException error, bool tellPeer)
    {
        if (Interlocked.Exchange(ref _faulted, 1) != 0)
        {
            return;
        }

        Fault = error;
        if (tellPeer)
        {
            using var message = new WireWriter();
            WireError.Write(message, error);
            try
            {
                _writer.WriteAsync(FrameKind.Error, 0, message.WrittenMemory, CancellationToken.None).Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
        }

        FailAll(error);
        _stop.Cancel();
        _done.TrySetResult();
    }

    /// <summary>Says goodbye: the peer may close the connection after it.</summary>
    public async Task GoodbyeAsync()
    {
        try
        {
            await SendAsync(FrameKind.Control, 0, new[] { (byte)ControlType.Goodbye }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SyncException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _keepAlive?.Dispose();
        if (Fault is null && Interlocked.Exchange(ref _faulted, 1) == 0)
        {
            Fault = ProtocolFault.ConnectionLost("the session was closed");
            FailAll(Fault);
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _done.TrySetResult();
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
        _writer.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                Frame? frame = await _reader.ReadAsync(_idleTimeout, _stop.Token).ConfigureAwait(false);
                if (frame is null)
                {
                    // The peer closed its side. Streams still waiting for an answer will not get one.
                    if (Interlocked.Exchange(ref _faulted, 1) == 0)
                    {
                        if (!_streams.IsEmpty)
                        {
                            Fault = ProtocolFault.ConnectionLost("the peer closed the connection with requests outstanding");
                        }

                        FailAll(ProtocolFault.ConnectionLost("the peer closed the connection"));
                    }

                    _done.TrySetResult();
                    return;
                }

                if (Dispatch(frame))
                {
                    // The peer said goodbye: the session is over, and nothing more will be read. Requests it left open
                    // cannot complete.
                    if (!_streams.IsEmpty)
                    {
                        FailAll(ProtocolFault.ConnectionLost("the peer said goodbye with requests open"));
                    }

                    _done.TrySetResult();
                    return;
                }
            }
        }
        catch (SyncException ex)
        {
            // The peer is told why, unless it is the one who said so or the connection itself is gone.
            Abort(ex, tellPeer: !_fromPeer && ex.ErrorId != ErrorIds.ConnectionLost);
        }
        catch (OperationCanceledException)
        {
            _done.TrySetResult();
        }
    }

    /// <summary>Handles one frame; true when it was the peer's goodbye.</summary>
    private bool Dispatch(Frame frame)
    {
        switch (frame.Kind)
        {
            case FrameKind.Control:
                using (frame)
                {
                    if (frame.Id != 0 || frame.Length != 1 || frame.Payload[0] is not ((byte)ControlType.Ping or (byte)ControlType.Goodbye))
                    {
                        throw ProtocolFault.Violation("an unexpected control frame");
                    }

                    return frame.Payload[0] == (byte)ControlType.Goodbye;
                }


            case FrameKind.Log:
                using (frame)
                {
                    string text;
                    try
                    {
                        text = new UTF8Encoding(false, true).GetString(frame.Payload);
                    }
                    catch (DecoderFallbackException)
                    {
                        throw ProtocolFault.Violation("a log line that is not UTF-8");
                    }

                    OnLog?.Invoke(ProtocolFault.Printable(text));
                }

                return false;

            case FrameKind.Window:
                using (frame)
                {
                    var reader = new WireReader(frame.Payload);
                    int credit = reader.Int32(WideWindows ? ProtocolLimits.WideStreamWindow : ProtocolLimits.StreamWindow);
                    reader.ExpectEnd();
                    if (_streams.TryGetValue(frame.Id, out MuxStream? target))
                    {
                        target.AddCredit(credit);
                    }
                }

                return false;

            case FrameKind.Error when frame.Id == 0:
                using (frame)
                {
                    _fromPeer = true;
                    throw WireError.Read(frame.Payload, PeerName);
                }

            case FrameKind.Request:
                OpenFromPeer(frame);
                return false;

            case FrameKind.CompressedData:
                Frame inflated;
                using (frame)
                {
                    if (CompressionLevel == 0)
                    {
                        throw ProtocolFault.Violation("a compressed frame in a session without compression");
                    }

                    (byte[] buffer, int length) = FrameCompressor.Decompress(frame.PayloadMemory);
                    inflated = new Frame(FrameKind.Data, frame.Id, buffer, length);
                }

                return Dispatch(inflated);

            default:
                if (_streams.TryGetValue(frame.Id, out MuxStream? stream))
                {
                    stream.Deliver(frame);
                }
                else if (frame.Id != 0 && frame.Id <= (_acceptsRequests ? _lastRequestId : _lastRegisteredId))
                {
                    // A stream this side has finished with: the rest of a body whose request already failed (agent), or
                    // the answer to a request the caller abandoned (controller). Dropped.
                    frame.Dispose();
                }
                else
                {
                    frame.Dispose();
                    throw ProtocolFault.Violation($"a {frame.Kind} frame for stream {frame.Id}, which is not open");
                }

                return false;
        }
    }

    private void OpenFromPeer(Frame frame)
    {
        using (frame)
        {
            if (!_acceptsRequests)
            {
                throw ProtocolFault.Violation("a request from the agent");
            }

            if (frame.Id <= _lastRequestId)
            {
                throw ProtocolFault.Violation($"request id {frame.Id} after {_lastRequestId}");
            }

            if (_streams.Count >= ProtocolLimits.MaxStreams)
            {
                throw ProtocolFault.Violation($"more than {ProtocolLimits.MaxStreams} requests at once");
            }

            _lastRequestId = frame.Id;
            AgentRequest request = AgentRequest.Read(frame.Payload);
            MuxStream stream = Register(frame.Id);
            OnRequest?.Invoke(stream, request);
        }
    }

    private void FailAll(SyncException error)
    {
        foreach (MuxStream stream in _streams.Values)
        {
            stream.Fail(error);
        }

        _streams.Clear();
    }

    private void KeepAlive(TimeSpan interval)
    {
        if (Fault is null && Environment.TickCount64 - _writer.LastWrite >= (long)interval.TotalMilliseconds)
        {
            _ = _writer.WriteAsync(FrameKind.Control, 0, new[] { (byte)ControlType.Ping }, CancellationToken.None)
                .ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }
}
