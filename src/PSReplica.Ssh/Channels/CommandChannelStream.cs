using System.Diagnostics;
using PSReplica.Engine.Protocol;

namespace PSReplica.Ssh;

/// <summary>
/// Joins a command's stdout (read side) and stdin (write side) into one stream, and applies the idle timeout:
/// a watchdog aborts the channel when a read or write has waited longer than allowed, because neither SSH.NET's
/// pipe nor a process pipe can time out a blocked call by itself. Writes go through a <see cref="WriteCoalescer"/>:
/// small frames written one by one leave in large pieces, and Flush does not wait for the transport. Small reads are
/// served from a buffer filled by one transport read.
/// </summary>
internal sealed class CommandChannelStream : Stream, IWriteBehindStream
{
    private readonly Stream _output;
    private const int ReadBufferSize = 64 * 1024;

    private readonly WriteCoalescer _writer;
    private readonly byte[] _readBuffer = new byte[ReadBufferSize];
    private int _readStart;
    private int _readEnd;
    private readonly TimeSpan _idleTimeout;
    private readonly Action _abort;
    private readonly Func<Exception, SyncException?> _translate;
    private readonly Func<SyncException?> _endCheck;
    private readonly string _description;
    private readonly Timer? _watchdog;
    private long _readSince;
    private long _writeSince;
    private volatile bool _timedOut;
    private volatile bool _aborted;
    private bool _disposed;

    /// <param name="output">The command's stdout.</param>
    /// <param name="input">The command's stdin.</param>
    /// <param name="idleTimeout">The longest a read or write may wait; infinite for none.</param>
    /// <param name="abort">Tears the channel down so that blocked calls return.</param>
    /// <param name="translate">Maps a transport exception to the error to throw (or null to rethrow it).</param>
    /// <param name="description">Names the channel in messages.</param>
    /// <param name="endCheck">At end-of-stream: the error if the channel ended because the connection broke.</param>
    /// <param name="packetSize">The transport's packet size (see <see cref="WriteCoalescer"/>), 0 for none.</param>
    /// <param name="batching">The network's segment batching under the transport, if any.</param>
    /// <param name="window">The peer's window for the transport's packets, if known.</param>
    public CommandChannelStream(Stream output, Stream input, TimeSpan idleTimeout, Action abort, Func<Exception, SyncException?> translate, string description, Func<SyncException?> endCheck,
        int packetSize = 0, ISendBatching? batching = null, ISendWindow? window = null)
    {
        _endCheck = endCheck;
        _output = output;
        _writer = new WriteCoalescer(input, flushTarget: true, "PSReplica channel writer " + description, packetSize, batching, window);
        _idleTimeout = idleTimeout;
        _abort = abort;
        _translate = translate;
        _description = description;
        if (idleTimeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(idleTimeout, TimeSpan.Zero);
            TimeSpan period = TimeSpan.FromTicks(Math.Clamp(idleTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
            _watchdog = new Timer(static state => ((CommandChannelStream)state!).Watch(), this, period, period);
        }
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_readStart == _readEnd)
        {
            if (buffer.Length >= ReadBufferSize)
            {
                return ReadTransport(buffer);
            }

            _readStart = 0;
            _readEnd = ReadTransport(_readBuffer);
            if (_readEnd == 0)
            {
                return 0;
            }
        }

        return FromBuffer(buffer);
    }

    /// <summary>Small reads (the protocol reads each frame's header, then its payload) are served from a buffer that one
    /// read of the transport fills with whatever has arrived: SSH.NET's pipe has no asynchronous read, so each read of it
    /// from an async caller is a blocking call on a thread-pool thread, and a pipe read is a system call.</summary>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_readStart == _readEnd)
        {
            if (buffer.Length >= ReadBufferSize)
            {
                return await ReadTransportAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            _readStart = 0;
            _readEnd = await ReadTransportAsync(_readBuffer, cancellationToken).ConfigureAwait(false);
            if (_readEnd == 0)
            {
                return 0;
            }
        }

        return FromBuffer(buffer.Span);
    }

    private int FromBuffer(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, _readEnd - _readStart);
        _readBuffer.AsSpan(_readStart, n).CopyTo(destination);
        _readStart += n;
        return n;
    }

    /// <summary>One read of the transport; 0 only at a clean end (a broken connection throws).</summary>
    private int ReadTransport(Span<byte> buffer)
    {
        Volatile.Write(ref _readSince, Stopwatch.GetTimestamp());
        try
        {
            int read = _output.Read(buffer);
            ThrowIfTimedOut();
            return read > 0 ? read : End();
        }
        catch (Exception ex) when (Translate(ex) is Exception translated)
        {
            throw translated;
        }
        finally
        {
            Volatile.Write(ref _readSince, 0);
        }
    }

    private async ValueTask<int> ReadTransportAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // A cancelled read cannot be taken back from the pipe: cancelling aborts the channel.
        using CancellationTokenRegistration registration = cancellationToken.Register(static state => ((CommandChannelStream)state!).Abort(), this);
        Volatile.Write(ref _readSince, Stopwatch.GetTimestamp());
        try
        {
            int read = await _output.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfTimedOut();
            return read > 0 ? read : End();
        }
        catch (Exception ex) when (ex is not OperationCanceledException && Translate(ex) is Exception translated)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw translated;
        }
        finally
        {
            Volatile.Write(ref _readSince, 0);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfTimedOut();
        if (_aborted)
        {
            throw Closed();
        }

        Volatile.Write(ref _writeSince, Stopwatch.GetTimestamp());
        try
        {
            _writer.Write(buffer);
            ThrowIfTimedOut();
        }
        catch (Exception ex) when (Translate(ex) is Exception translated)
        {
            throw translated;
        }
        finally
        {
            Volatile.Write(ref _writeSince, 0);
        }
    }

    /// <summary>Copies into the write-behind buffer; it waits (synchronously) only when the peer takes nothing and
    /// both buffers are full, as a write into the transport itself would.</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reports a failure of the transport; the pump sends buffered data without being asked, so nothing
    /// waits here.</summary>
    public override void Flush()
    {
        try
        {
            _writer.ThrowIfFailed();
        }
        catch (Exception ex) when (Translate(ex) is Exception translated)
        {
            throw translated;
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flush();
        return Task.CompletedTask;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Sends everything written so far and stops the writer: the caller then closes the command's stdin.</summary>
    /// <exception cref="SyncException">The transport failed (SshConnectionFailed and the like).</exception>
    public void CompleteWrites()
    {
        try
        {
            _writer.Complete();
        }
        catch (Exception ex) when (Translate(ex) is Exception translated)
        {
            throw translated;
        }
    }

    /// <summary>Aborts the channel (Kill, cancellation, timeout): blocked calls return.</summary>
    public void Abort()
    {
        if (_aborted)
        {
            return;
        }

        _aborted = true;
        _writer.Stop();
        try
        {
            _abort();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The channel is going away anyway.
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _watchdog?.Dispose();
            _writer.Stop();
        }

        base.Dispose(disposing);
    }

    private void Watch()
    {
        long now = Stopwatch.GetTimestamp();
        long read = Volatile.Read(ref _readSince);
        long write = Volatile.Read(ref _writeSince);
        long sending = _writer.SendingSince;
        bool stalled = (read != 0 && Stopwatch.GetElapsedTime(read, now) > _idleTimeout)
            || (write != 0 && Stopwatch.GetElapsedTime(write, now) > _idleTimeout)
            || (sending != 0 && Stopwatch.GetElapsedTime(sending, now) > _idleTimeout);
        if (stalled && !_timedOut)
        {
            _timedOut = true;
            Abort();
        }
    }

    /// <summary>End-of-stream is a clean end unless the connection broke (a protocol could mistake that for one).</summary>
    private int End()
    {
        if (!_aborted && _endCheck() is SyncException broken)
        {
            throw broken;
        }

        return 0;
    }

    private void ThrowIfTimedOut()
    {
        if (_timedOut)
        {
            throw new SyncException(ErrorIds.SshConnectionTimeout, SyncErrorKind.ReadError,
                $"{_description}: the peer sent nothing for {_idleTimeout.TotalSeconds:0.###} s (the idle timeout); the connection was closed.", _description);
        }
    }

    private SyncException Closed() =>
        new(ErrorIds.SshConnectionFailed, SyncErrorKind.WriteError, $"{_description}: the channel is closed.", _description);

    private SyncException? Translate(Exception ex)
    {
        if (ex is SyncException)
        {
            return null;
        }

        if (_timedOut)
        {
            return new SyncException(ErrorIds.SshConnectionTimeout, SyncErrorKind.ReadError,
                $"{_description}: the peer sent nothing for {_idleTimeout.TotalSeconds:0.###} s (the idle timeout); the connection was closed.", _description, ex);
        }

        return _translate(ex);
    }
}
