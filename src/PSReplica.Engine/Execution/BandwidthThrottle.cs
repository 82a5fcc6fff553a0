using System.Diagnostics;

namespace PSReplica.Engine.Execution;

/// <summary>-BandwidthLimit on a local run: one pace for the whole run (all copy workers together), as rsync's
/// --bwlimit paces a local copy's data. Each caller reserves its bytes and waits until the limit allows them;
/// idle time earns at most a tenth of a second of burst.</summary>
internal sealed class BandwidthThrottle
{
    private readonly long _bytesPerSecond;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private long _reserved;

    public BandwidthThrottle(long bytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        _bytesPerSecond = bytesPerSecond;
    }

    /// <summary>A chunk size that keeps the pace smooth: about a twentieth of a second of data, 16 KiB at least.</summary>
    public long Chunk => Math.Max(16 << 10, _bytesPerSecond / 20);

    /// <summary>Waits until <paramref name="bytes"/> more may go.</summary>
    public void Pace(long bytes, CancellationToken cancellation)
    {
        TimeSpan due;
        lock (_gate)
        {
            long floor = (long)((_clock.Elapsed.TotalSeconds - 0.1) * _bytesPerSecond);
            _reserved = Math.Max(_reserved, floor) + bytes;
            due = TimeSpan.FromSeconds((double)_reserved / _bytesPerSecond) - _clock.Elapsed;
        }

        if (due > TimeSpan.Zero && cancellation.WaitHandle.WaitOne(due))
        {
            cancellation.ThrowIfCancellationRequested();
        }
    }
}
