using System.Buffers;
using System.Buffers.Binary;
using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Protocol;

/// <summary>Writes frames to a stream, one at a time (the streams of a session share it), header and payload in one
/// write from a pooled buffer. The stream is flushed only when no other frame is waiting for the writer, so frames
/// queued behind one another leave together when the stream buffers (the agent's stdout is a BufferedStream: one
/// write(2), and one SSH packet, for a burst of small frames instead of one each). A write-behind stream
/// (<see cref="IWriteBehindStream"/>) gathers frames itself and is flushed without that pause.</summary>
internal sealed class FrameWriter : IDisposable
{
    private readonly Stream _output;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly PacingClock _clock;
    private readonly bool _writeBehind;
    private BandwidthThrottle? _throttle;
    private int _pending;

    public FrameWriter(Stream output)
        : this(output, new PacingClock())
    {
    }

    /// <param name="clock">The clock -BandwidthLimit paces by (tests pass one that moves only when it waits).</param>
    internal FrameWriter(Stream output, PacingClock clock)
    {
        _output = output;
        _clock = clock;
        _writeBehind = output is IWriteBehindStream;
    }

    /// <summary>When the last bytes were written (Environment.TickCount64), for keep-alives.</summary>
    public long LastWrite { get; private set; } = Environment.TickCount64;

    /// <summary>Bytes per second this side may send (-BandwidthLimit); 0 for no limit. Every frame is paced, headers
    /// included, by one <see cref="BandwidthThrottle"/> for the session, the same pacing a local run's copies have.</summary>
    public long BandwidthLimit
    {
        get => _throttle?.BytesPerSecond ?? 0;
        set => _throttle = value > 0 ? new BandwidthThrottle(value, _clock) : null;
    }

    public async Task WriteAsync(FrameKind kind, uint id, ReadOnlyMemory<byte> payload, CancellationToken cancellation)
    {
        if (payload.Length > ProtocolLimits.MaxFramePayload)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), "A frame payload is limited to " + ProtocolLimits.MaxFramePayload + " bytes.");
        }

        // A write-behind stream copies what it is given into its own buffer at once: the header and the payload go to it
        // as they are, in two writes under the lock, instead of through a pooled frame buffer (a copy of every data byte
        // sent: 1 GiB of memmove for a 1 GiB file).
        bool direct = _writeBehind && _throttle is null;
        int total = Frame.HeaderLength + payload.Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(direct ? Frame.HeaderLength : total);
        bool flush = false;
        try
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)payload.Length);
            buffer[4] = (byte)kind;
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(5), id);
            if (!direct)
            {
                payload.Span.CopyTo(buffer.AsSpan(Frame.HeaderLength));
            }

            Interlocked.Increment(ref _pending);
            try
            {
                await _lock.WaitAsync(cancellation).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                Interlocked.Decrement(ref _pending);
                throw ProtocolFault.ConnectionLost("the session was closed");
            }
            catch (OperationCanceledException)
            {
                Interlocked.Decrement(ref _pending);
                throw;
            }

            bool counted = true;

            try
            {
                if (direct)
                {
                    await _output.WriteAsync(buffer.AsMemory(0, Frame.HeaderLength), cancellation).ConfigureAwait(false);
                    await _output.WriteAsync(payload, cancellation).ConfigureAwait(false);
                }
                else if (_throttle is { } throttle)
                {
                    await WritePacedAsync(throttle, buffer, total, cancellation).ConfigureAwait(false);
                }
                else
                {
                    await _output.WriteAsync(buffer.AsMemory(0, total), cancellation).ConfigureAwait(false);
                }

                counted = false;
                // Nobody queued behind this frame: it is flushed below, after the frames that other tasks are about to
                // write have had a moment to join it. A frame that queues from now on is flushed after its own write.
                flush = Interlocked.Decrement(ref _pending) == 0;

                LastWrite = Environment.TickCount64;
            }
            catch (IOException ex)
            {
                throw ProtocolFault.ConnectionLost(ex.Message);
            }
            catch (ObjectDisposedException)
            {
                throw ProtocolFault.ConnectionLost("the stream was closed");
            }
            finally
            {
                if (counted)
                {
                    Interlocked.Decrement(ref _pending);
                }

                _lock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (flush)
        {
            if (!_writeBehind)
            {
                await Task.Yield();
            }

            await FlushIfIdleAsync(cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>Writes one frame under -BandwidthLimit, holding the writer: in pieces of at most the throttle's chunk, each
    /// charged before it goes, so that a frame of a megabyte leaves at the limit's pace rather than in one burst after one
    /// long wait. Before a wait, what was written is flushed: it leaves now instead of after the wait, and the peer, whose
    /// idle timeout counts bytes, not frames, hears from this side however tight the limit.</summary>
    private async Task WritePacedAsync(BandwidthThrottle throttle, byte[] buffer, int total, CancellationToken cancellation)
    {
        int chunk = (int)throttle.Chunk;
        for (int offset = 0; offset < total;)
        {
            int piece = Math.Min(chunk, total - offset);
            TimeSpan wait = throttle.Charge(piece);
            if (wait > TimeSpan.Zero)
            {
                await _output.FlushAsync(cancellation).ConfigureAwait(false);
                await throttle.WaitAsync(wait, cancellation).ConfigureAwait(false);
            }

            await _output.WriteAsync(buffer.AsMemory(offset, piece), cancellation).ConfigureAwait(false);
            offset += piece;
            LastWrite = Environment.TickCount64;
        }
    }

    /// <summary>Flushes unless a frame is queued for the writer (its writer flushes after it).</summary>
    private async Task FlushIfIdleAsync(CancellationToken cancellation)
    {
        if (Volatile.Read(ref _pending) != 0)
        {
            return;
        }

        try
        {
            await _lock.WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            throw ProtocolFault.ConnectionLost("the session was closed");
        }

        try
        {
            await _output.FlushAsync(cancellation).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw ProtocolFault.ConnectionLost(ex.Message);
        }
        catch (ObjectDisposedException)
        {
            throw ProtocolFault.ConnectionLost("the stream was closed");
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();
}
