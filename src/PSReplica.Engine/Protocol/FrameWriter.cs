using System.Buffers;
using System.Buffers.Binary;

namespace PSReplica.Engine.Protocol;

/// <summary>Writes frames to a stream, one at a time (the streams of a session share it), header and payload in one
/// write from a pooled buffer. The stream is flushed only when no other frame is waiting for the writer, so frames
/// queued behind one another leave together when the stream buffers (the agent's stdout is a BufferedStream: one
/// write(2), and one SSH packet, for a burst of small frames instead of one each).</summary>
internal sealed class FrameWriter : IDisposable
{
    private readonly Stream _output;
    private readonly SemaphoreSlim _lock = new(1, 1);

    public FrameWriter(Stream output) => _output = output;

    /// <summary>When the last frame was written (Environment.TickCount64), for keep-alives.</summary>
    public long LastWrite { get; private set; } = Environment.TickCount64;

    /// <summary>Bytes per second this side may send (-BandwidthLimit); 0 for no limit.</summary>
    public long BandwidthLimit { get; set; }

    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private long _sent;
    private int _pending;

    public async Task WriteAsync(FrameKind kind, uint id, ReadOnlyMemory<byte> payload, CancellationToken cancellation)
    {
        if (payload.Length > ProtocolLimits.MaxFramePayload)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), "A frame payload is limited to " + ProtocolLimits.MaxFramePayload + " bytes.");
        }

        int total = Frame.HeaderLength + payload.Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(total);
        bool flush = false;
        try
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)payload.Length);
            buffer[4] = (byte)kind;
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(5), id);
            payload.Span.CopyTo(buffer.AsSpan(Frame.HeaderLength));
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
                if (BandwidthLimit > 0)
                {
                    // Pace every frame of the session, holding the lock: a frame leaves no earlier than the limit allows
                    // for everything sent before it and itself.
                    // Idle time earns at most a tenth of a second of burst.
                    long floor = (long)((_clock.Elapsed.TotalSeconds - 0.1) * BandwidthLimit);
                    _sent = Math.Max(_sent, floor) + total;
                    TimeSpan due = TimeSpan.FromSeconds((double)_sent / BandwidthLimit) - _clock.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, cancellation).ConfigureAwait(false);
                    }
                }

                await _output.WriteAsync(buffer.AsMemory(0, total), cancellation).ConfigureAwait(false);
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
            await Task.Yield();
            await FlushIfIdleAsync(cancellation).ConfigureAwait(false);
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
