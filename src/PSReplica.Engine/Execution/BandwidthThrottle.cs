using System.Diagnostics;

namespace PSReplica.Engine.Execution;

/// <summary>-BandwidthLimit on a local run: one pace for the whole run (all copy workers together), as rsync's
/// --bwlimit paces a local copy's data. Each caller reserves its bytes and waits until the limit allows them;
/// idle time earns at most a tenth of a second of burst.</summary>
internal sealed class BandwidthThrottle
{
    private readonly long _bytesPerSecond;
    private readonly Func<TimeSpan> _elapsed;
    private readonly object _gate = new();
    private long _reserved;

    public BandwidthThrottle(long bytesPerSecond)
        : this(bytesPerSecond, StartClock())
    {
    }

    /// <param name="elapsed">The time since the run began (tests hold it still).</param>
    internal BandwidthThrottle(long bytesPerSecond, Func<TimeSpan> elapsed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        _bytesPerSecond = bytesPerSecond;
        _elapsed = elapsed;
    }

    private static Func<TimeSpan> StartClock()
    {
        var clock = Stopwatch.StartNew();
        return () => clock.Elapsed;
    }

    /// <summary>A chunk size that keeps the pace smooth: about a twentieth of a second of data, 16 KiB at least.</summary>
    public long Chunk => Math.Max(16 << 10, _bytesPerSecond / 20);

    /// <summary>The bytes paced so far, less what idle time forgave (the limit's own account; tests read it).</summary>
    internal long Reserved
    {
        get
        {
            lock (_gate)
            {
                return _reserved;
            }
        }
    }

    /// <summary>Waits until <paramref name="bytes"/> more may go.</summary>
    public void Pace(long bytes, CancellationToken cancellation)
    {
        TimeSpan due;
        lock (_gate)
        {
            TimeSpan now = _elapsed();
            long floor = (long)((now.TotalSeconds - 0.1) * _bytesPerSecond);
            _reserved = Math.Max(_reserved, floor) + bytes;
            due = TimeSpan.FromSeconds((double)_reserved / _bytesPerSecond) - now;
        }

        if (due > TimeSpan.Zero && cancellation.WaitHandle.WaitOne(due))
        {
            cancellation.ThrowIfCancellationRequested();
        }
    }
}
