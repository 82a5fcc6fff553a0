using System.Buffers;
using System.Runtime.ExceptionServices;

namespace PSReplica.Engine.Delta;

/// <summary>Writes a new file from its start, on a thread of its own, while the caller prepares what follows. A receiver
/// rebuilding a large file from its basis reads and hashes each run of blocks and then writes it; on tmpfs (and wherever
/// new pages are dear, as in a VM whose host takes freed memory back) the write costs as much as the read and the hash
/// together, and its time varies most. With the write behind, the two halves run on two cores and the patch stops being
/// the slow end of a delta push. The caller fills buffers in place (<see cref="GetSpan"/>, <see cref="Advance"/>), so a
/// basis block is read straight into the buffer that is written and small ops share a buffer; a full buffer is queued
/// for the writer. Memory is <see cref="Slots"/> buffers of <see cref="DefaultBufferBytes"/> (by default); the caller waits when every one is
/// queued.</summary>
internal sealed class WriteBehindFile : IDisposable
{
    /// <summary>The size of each buffer: the most one write(2) covers.</summary>
    public const int DefaultBufferBytes = 1 << 20;

    /// <summary>Buffers in the ring: one being filled, one being written, the rest queued between.</summary>
    private const int Slots = 4;

    private readonly SafeFileHandle _output;
    private readonly int _bufferBytes;
    private readonly object _gate = new();
    private readonly byte[]?[] _buffers = new byte[Slots][];
    private readonly int[] _lengths = new int[Slots];
    private readonly Thread _writer;

    // Buffers [_written, _posted) are queued or being written; buffer _posted is the one being filled, _filled bytes so
    // far, once _filling. Buffer n holds the file's bytes from n * _bufferBytes on: every buffer but the last is full.
    private long _posted;
    private long _written;
    private int _filled;
    private bool _filling;
    private bool _stopping;
    private ExceptionDispatchInfo? _failure;

    /// <param name="bufferBytes">The size of each buffer (tests make it small, so that the ring turns often).</param>
    public WriteBehindFile(SafeFileHandle output, int bufferBytes = DefaultBufferBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufferBytes);
        _output = output;
        _bufferBytes = bufferBytes;
        _writer = new Thread(WriteQueued) { IsBackground = true, Name = "PSReplica write-behind" };
        _writer.Start();
    }

    /// <summary>Room for the file's next bytes (at least one), in the buffer being filled; a full buffer is queued first,
    /// and the next one waited for while every buffer is queued.</summary>
    /// <exception cref="IOException">A write failed: the writer's own exception, thrown here.</exception>
    public Span<byte> GetSpan()
    {
        lock (_gate)
        {
            _failure?.Throw();
            ObjectDisposedException.ThrowIf(_stopping, this);
            if (_filling && _filled == _bufferBytes)
            {
                PostFilling();
            }

            if (!_filling)
            {
                while (_posted - _written == Slots && _failure is null)
                {
                    Monitor.Wait(_gate);
                }

                _failure?.Throw();
                int slot = (int)(_posted % Slots);
                _buffers[slot] ??= ArrayPool<byte>.Shared.Rent(_bufferBytes);
                _filling = true;
                _filled = 0;
            }

            return _buffers[(int)(_posted % Slots)].AsSpan(_filled, _bufferBytes - _filled);
        }
    }

    /// <summary>Marks <paramref name="count"/> bytes of the span <see cref="GetSpan"/> returned as the file's next bytes.</summary>
    public void Advance(int count)
    {
        lock (_gate)
        {
            if (!_filling || count < 0 || count > _bufferBytes - _filled)
            {
                throw new ArgumentOutOfRangeException(nameof(count), "More bytes than the span given holds.");
            }

            _filled += count;
        }
    }

    /// <summary>Queues what the buffer being filled holds and waits until everything is written; throws the first write's
    /// failure. The file is then whole and may be judged and renamed.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_filling && _filled > 0 && _failure is null)
            {
                PostFilling();
            }

            while (_written < _posted && _failure is null)
            {
                Monitor.Wait(_gate);
            }

            _failure?.Throw();
        }
    }

    /// <summary>Stops the writer after the write under way (what is still queued is dropped: the file is abandoned unless
    /// <see cref="Complete"/> returned) and returns the buffers.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        // No write is left running on the caller's descriptor once this returns (it may close or remove the file).
        _writer.Join();
        foreach (byte[]? buffer in _buffers)
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Queues the buffer being filled (under the gate).</summary>
    private void PostFilling()
    {
        _lengths[(int)(_posted % Slots)] = _filled;
        _posted++;
        _filling = false;
        _filled = 0;
        Monitor.PulseAll(_gate);
    }

    private void WriteQueued()
    {
        try
        {
            while (true)
            {
                long next;
                lock (_gate)
                {
                    while (_written == _posted && !_stopping)
                    {
                        Monitor.Wait(_gate);
                    }

                    if (_stopping)
                    {
                        return;
                    }

                    next = _written;
                }

                int slot = (int)(next % Slots);
                RandomAccess.Write(_output, _buffers[slot].AsSpan(0, _lengths[slot]), next * _bufferBytes);
                lock (_gate)
                {
                    _written++;
                    Monitor.PulseAll(_gate);
                }
            }
        }
        catch (Exception ex)
        {
            // Handed to the caller, whose next call throws it as the write itself would have.
            lock (_gate)
            {
                _failure = ExceptionDispatchInfo.Capture(ex);
                Monitor.PulseAll(_gate);
            }
        }
    }
}
