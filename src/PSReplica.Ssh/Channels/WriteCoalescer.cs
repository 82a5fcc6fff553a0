using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace PSReplica.Ssh;

/// <summary>
/// Write-behind for a command's stdin: writes are copied into one of two buffers and a pump thread hands whatever has
/// gathered to the transport in one piece. The protocol writes (and flushes) frame by frame, many of them a few dozen
/// bytes (requests, replies, the end of each small file); given to SSH.NET one by one, each became an SSH packet of its
/// own (encrypted, MAC'd, one send call, one TCP segment), and each write waited for the send. Gathered, a run of
/// small frames leaves as one packet, and the writer goes on preparing the next frames while the pump encrypts and
/// sends. A short write does not wait for more data: the pump sends as soon as there is something, so the latency of a
/// request is that of the transport alone (only the end of a burst of more than a packet may wait, up to
/// <see cref="s_linger"/>). Memory is bounded by the two buffers; a writer that finds both full waits (the peer is
/// not taking data: the idle-timeout watchdog sees that wait).
/// <para>
/// Given a packet size (SSH.NET's channel sends each write as packets of the peer's maximum and a short one for the
/// rest), the pump hands the transport whole packets while more data is waiting and keeps the odd tail for the next
/// round, so a stream leaves in full packets, not in one short packet per round; a tail goes when nothing follows it.
/// Given an <see cref="ISendBatching"/>, the pump holds the network's partial segments back while it knows more data
/// follows, and releases them when it runs out. Given the channel's <see cref="ISendWindow"/>, it hands the transport
/// no more whole packets than the peer's window takes, and waits (briefly) for the window to hold a packet rather than
/// let the transport cut one at the window's edge. A push of 1 GiB to OpenSSH's sshd over the loopback went from about
/// 1,079.5 MB on the wire to 1,078.3 MB (retransmissions left out; rsync -e ssh: about 1,078.9 MB).
/// </para>
/// </summary>
internal sealed class WriteCoalescer
{
    /// <summary>The most handed to the transport in one write: large writes measured fastest through SSH.NET
    /// (tests/Benchmarks/README.md, "SSH transport").</summary>
    public const int BufferSize = 1 << 20;

    /// <summary>The longest the pump waits for the window to hold a whole packet before it lets the transport send what
    /// fits: a peer that opens its window in smaller steps than a packet is slowed by no more than this.</summary>
    private static readonly TimeSpan s_windowWait = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the end of a burst of more than a packet waits for the writer's next piece before it leaves
    /// (<see cref="MoreFollows"/>): the only delay the pump adds, and only to a burst's last partial packet and segment.</summary>
    private static readonly TimeSpan s_linger = TimeSpan.FromMilliseconds(1);

    private readonly Stream _target;
    private readonly bool _flushTarget;
    private readonly int _packetSize;
    private readonly ISendBatching? _batching;
    private readonly ISendWindow? _window;
    private readonly object _gate = new();
    private readonly Thread _pump;

    /// <summary>Both buffers keep <see cref="_packetSize"/> bytes of room before the writer's data, where the tail
    /// held back from the previous round goes, so that it leaves with the data that follows it in one write.</summary>
    private byte[] _filling;
    private byte[] _sending;
    private readonly byte[] _tail;
    private int _filled;
    private bool _completing;
    private bool _stopped;
    private ExceptionDispatchInfo? _failure;
    private long _sendingSince;
    private bool _holding;

    /// <param name="target">The transport's input stream.</param>
    /// <param name="flushTarget">Flush the target after each write (a process pipe's buffered stream).</param>
    /// <param name="name">The pump thread's name.</param>
    /// <param name="packetSize">The transport's packet size, 0 for none: writes are whole packets while more follows.</param>
    /// <param name="batching">Holds the network's partial segments back while more data follows (with a packet size
    /// only: a burst is more than one packet); null for none.</param>
    /// <param name="window">The peer's window for the transport's packets (with a packet size only); null for none.</param>
    public WriteCoalescer(Stream target, bool flushTarget, string name, int packetSize = 0, ISendBatching? batching = null, ISendWindow? window = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(packetSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(packetSize, BufferSize);
        _target = target;
        _flushTarget = flushTarget;
        _packetSize = packetSize;
        _batching = packetSize > 0 ? batching : null;
        _window = packetSize > 0 ? window : null;
        _filling = new byte[packetSize + BufferSize];
        _sending = new byte[packetSize + BufferSize];
        _tail = new byte[packetSize];
        _pump = new Thread(Pump) { IsBackground = true, Name = name };
        _pump.Start();
    }

    /// <summary>When the pump's current write into the transport began (Stopwatch timestamp), or 0 when it is not
    /// writing: a write that blocks because the peer takes nothing counts against the idle timeout.</summary>
    public long SendingSince => Volatile.Read(ref _sendingSince);

    /// <summary>Copies <paramref name="data"/> into the buffer, waiting for room when both buffers are full.</summary>
    /// <exception cref="ObjectDisposedException">After <see cref="Complete"/> or <see cref="Stop"/>.</exception>
    public void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            lock (_gate)
            {
                while (_filled == BufferSize && _failure is null && !_stopped)
                {
                    Monitor.Wait(_gate);
                }

                ThrowIfUnusable();
                int n = Math.Min(data.Length, BufferSize - _filled);
                data[..n].CopyTo(_filling.AsSpan(_packetSize + _filled));
                _filled += n;
                data = data[n..];
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Throws the transport's failure, if the pump met one. Does not wait: the pump sends without being asked.</summary>
    public void ThrowIfFailed()
    {
        lock (_gate)
        {
            _failure?.Throw();
        }
    }

    /// <summary>Sends what is buffered, then stops the pump; the transport's failure, if any, is thrown.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completing = true;
            Monitor.PulseAll(_gate);
        }

        _pump.Join();
        ThrowIfFailed();
    }

    /// <summary>Drops what is buffered and stops the pump without waiting (the channel is being torn down).</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            _filled = 0;
            Monitor.PulseAll(_gate);
        }
    }

    private void ThrowIfUnusable()
    {
        _failure?.Throw();
        if (_stopped || _completing)
        {
            throw new ObjectDisposedException(nameof(WriteCoalescer), "The channel's input is closed.");
        }
    }

    private void Pump()
    {
        int tailLength = 0;
        bool lingered = false;
        try
        {
            while (true)
            {
                int count;
                lock (_gate)
                {
                    if (_filled == 0 && _holding)
                    {
                        // Nothing more is known to follow: what the network holds leaves now, before the pump waits.
                        count = -1;
                    }
                    else
                    {
                        while (_filled == 0 && !_completing && !_stopped)
                        {
                            Monitor.Wait(_gate);
                        }

                        // A tail is held back only when more data was waiting, so none is left when this returns.
                        if (_stopped || _filled == 0)
                        {
                            return;
                        }

                        (_filling, _sending) = (_sending, _filling);
                        count = _filled;
                        _filled = 0;
                        Monitor.PulseAll(_gate);
                    }
                }

                if (count < 0)
                {
                    if (!lingered && MoreFollows())
                    {
                        continue;
                    }

                    Release();
                    continue;
                }

                lingered = false;

                int start = _packetSize - tailLength;
                _tail.AsSpan(0, tailLength).CopyTo(_sending.AsSpan(start));
                int total = tailLength + count;
                tailLength = 0;
                int whole = _packetSize == 0 ? total : total - (total % _packetSize);
                if (_packetSize > 0 && total > _packetSize)
                {
                    Hold();
                }

                if (whole == 0 || _packetSize == 0)
                {
                    Send(start, total);
                    continue;
                }

                SendPackets(start, whole);
                if (whole == total)
                {
                    continue;
                }

                int rest = total - whole;
                if (MoreFollows())
                {
                    _sending.AsSpan(start + whole, rest).CopyTo(_tail);
                    tailLength = rest;
                }
                else
                {
                    lingered = _holding;
                    Send(start + whole, rest);
                }
            }
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                _failure ??= ExceptionDispatchInfo.Capture(ex);
                _filled = 0;
                Monitor.PulseAll(_gate);
            }
        }
        finally
        {
            Release();
        }
    }

    /// <summary>Whether more data is waiting. In a burst held for the network, the pump first gives the writer up to
    /// <see cref="s_linger"/> to bring its next piece: a sender that produces frame by frame (file data is read and
    /// framed 128 KiB at a time, slower than the pump sends it) would otherwise have every frame end in a short packet
    /// and a partial segment.</summary>
    private bool MoreFollows()
    {
        lock (_gate)
        {
            if (_holding)
            {
                long began = Stopwatch.GetTimestamp();
                while (_filled == 0 && !_completing && !_stopped)
                {
                    TimeSpan left = s_linger - Stopwatch.GetElapsedTime(began);
                    if (left <= TimeSpan.Zero)
                    {
                        break;
                    }

                    Monitor.Wait(_gate, left);
                }
            }

            return _filled > 0 && !_stopped;
        }
    }

    private void Hold()
    {
        if (!_holding && _batching is not null)
        {
            _holding = true;
            _batching.Hold();
        }
    }

    private void Release()
    {
        if (_holding)
        {
            _holding = false;
            _batching!.Release();
        }
    }

    /// <summary>Sends whole packets, no more at a time than the peer's window takes.</summary>
    private void SendPackets(int offset, int count)
    {
        while (count > 0)
        {
            int n = count;
            if (_window is not null)
            {
                long room = _window.Available;
                if (room < _packetSize)
                {
                    room = WaitForWindow();
                }

                // After the wait ran out: one packet, which the transport sends as the window allows.
                n = room < _packetSize ? _packetSize : (int)Math.Min(count, room - (room % _packetSize));
            }

            Send(offset, n);
            offset += n;
            count -= n;
        }
    }

    /// <summary>Waits for the window to hold a whole packet, at most <see cref="s_windowWait"/>; the wait counts as a
    /// blocked send for the idle timeout. What the network holds is sent first: the peer opens its window as it
    /// consumes, and it should have everything to consume.</summary>
    private long WaitForWindow()
    {
        bool held = _holding;
        Release();
        long began = Stopwatch.GetTimestamp();
        Volatile.Write(ref _sendingSince, began);
        try
        {
            long room;
            while ((room = _window!.Available) < _packetSize && !Volatile.Read(ref _stopped))
            {
                TimeSpan left = s_windowWait - Stopwatch.GetElapsedTime(began);
                if (left <= TimeSpan.Zero || !_window.WaitForGrowth(left))
                {
                    break;
                }
            }

            return room;
        }
        finally
        {
            Volatile.Write(ref _sendingSince, 0);
            if (held)
            {
                Hold();
            }
        }
    }

    private void Send(int offset, int count)
    {
        Volatile.Write(ref _sendingSince, Stopwatch.GetTimestamp());
        try
        {
            _target.Write(_sending, offset, count);
            if (_flushTarget)
            {
                _target.Flush();
            }
        }
        finally
        {
            Volatile.Write(ref _sendingSince, 0);
        }
    }
}
