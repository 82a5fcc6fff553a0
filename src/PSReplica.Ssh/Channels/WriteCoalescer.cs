using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace PSReplica.Ssh;

/// <summary>
/// Write-behind for a command's stdin: writes are copied into one of two buffers and a pump thread hands whatever has
/// gathered to the transport in one piece. The protocol writes (and flushes) frame by frame, many of them a few dozen
/// bytes (requests, replies, the end of each small file); given to SSH.NET one by one, each became an SSH packet of its
/// own (encrypted, MAC'd, one send call, one TCP segment), and each write waited for the send. Gathered, a run of
/// small frames leaves as one packet, and the writer goes on preparing the next frames while the pump encrypts and
/// sends. Nothing waits for more data: the pump sends as soon as there is something, so latency is that of the
/// transport alone. Memory is bounded by the two buffers; a writer that finds both full waits (the peer is not
/// taking data: the idle-timeout watchdog sees that wait).
/// </summary>
internal sealed class WriteCoalescer
{
    /// <summary>The most handed to the transport in one write: large writes measured fastest through SSH.NET
    /// (tests/Benchmarks/README.md, "SSH transport").</summary>
    public const int BufferSize = 1 << 20;

    private readonly Stream _target;
    private readonly bool _flushTarget;
    private readonly object _gate = new();
    private readonly Thread _pump;
    private byte[] _filling = new byte[BufferSize];
    private byte[] _sending = new byte[BufferSize];
    private int _filled;
    private bool _completing;
    private bool _stopped;
    private ExceptionDispatchInfo? _failure;
    private long _sendingSince;

    /// <param name="target">The transport's input stream.</param>
    /// <param name="flushTarget">Flush the target after each write (a process pipe's buffered stream).</param>
    /// <param name="name">The pump thread's name.</param>
    public WriteCoalescer(Stream target, bool flushTarget, string name)
    {
        _target = target;
        _flushTarget = flushTarget;
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
                data[..n].CopyTo(_filling.AsSpan(_filled));
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
        while (true)
        {
            int count;
            lock (_gate)
            {
                while (_filled == 0 && !_completing && !_stopped)
                {
                    Monitor.Wait(_gate);
                }

                if (_stopped || _filled == 0)
                {
                    return;
                }

                (_filling, _sending) = (_sending, _filling);
                count = _filled;
                _filled = 0;
                Monitor.PulseAll(_gate);
            }

            Volatile.Write(ref _sendingSince, Stopwatch.GetTimestamp());
            try
            {
                _target.Write(_sending, 0, count);
                if (_flushTarget)
                {
                    _target.Flush();
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

                return;
            }
            finally
            {
                Volatile.Write(ref _sendingSince, 0);
            }
        }
    }
}
