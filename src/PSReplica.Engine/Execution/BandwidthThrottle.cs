namespace PSReplica.Engine.Execution;

/// <summary>-BandwidthLimit: holds the bytes that share one limit to a rate, as rsync's --bwlimit does. One instance paces
/// a local run's copies on all its workers together, another every frame one side of a session sends
/// (<see cref="Protocol.FrameWriter"/>). Callers charge the bytes they move, at most <see cref="Chunk"/> at a time, and
/// wait what the charge says. The charges keep to a schedule at the limit, not to the gaps between them: a wait that
/// oversleeps is made up by the next, a wait too short to sleep is carried to the next, and nothing costs a fixed time
/// per charge or per file. Idle time earns at most <see cref="Credit"/> of burst.</summary>
internal sealed class BandwidthThrottle
{
    /// <summary>The most idle time counts for: after a pause, this much of the limit may go at once.</summary>
    internal static readonly TimeSpan Credit = TimeSpan.FromSeconds(0.1);

    /// <summary>Less than this owed is carried to a later charge rather than slept (as rsync sleeps only once it owes a
    /// tenth of a second): timers are not finer than a millisecond or so, and each wait may cost its caller a flush.</summary>
    internal static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(10);

    private readonly PacingClock _clock;
    private readonly object _gate = new();

    /// <summary>Where the schedule stands: the time on the clock (in seconds) by which everything charged may have gone.
    /// Idle time beyond the credit is not kept: the schedule never stands earlier than the credit allows. A new limit
    /// starts with its credit, as if it had been idle.</summary>
    private double _due = -Credit.TotalSeconds;
    private long _charged;

    public BandwidthThrottle(long bytesPerSecond)
        : this(bytesPerSecond, new PacingClock())
    {
    }

    /// <param name="clock">Tests pass a clock that moves only when they or a wait move it.</param>
    internal BandwidthThrottle(long bytesPerSecond, PacingClock clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        BytesPerSecond = bytesPerSecond;
        _clock = clock;
        Chunk = Math.Clamp(bytesPerSecond / 20, 512, 8L << 20);
    }

    public long BytesPerSecond { get; }

    /// <summary>The most one charge should carry, so that the bytes leave smoothly and a burst stays small: a twentieth of a
    /// second's worth (512 bytes at least, as rsync's smallest write under a limit, and 8 MiB at most).</summary>
    public long Chunk { get; }

    /// <summary>Every byte charged so far (tests read it: a run charges the bytes it moved, nothing per file).</summary>
    internal long Charged
    {
        get
        {
            lock (_gate)
            {
                return _charged;
            }
        }
    }

    /// <summary>Puts <paramref name="bytes"/> on the schedule and returns how long the caller must wait before it moves
    /// more (or, charging before it moves them, before it moves these); zero when what is owed is under
    /// <see cref="MinimumWait"/>, which stays owed.</summary>
    public TimeSpan Charge(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        TimeSpan owed;
        lock (_gate)
        {
            double now = _clock.Elapsed.TotalSeconds;
            _due = Math.Max(_due, now - Credit.TotalSeconds) + ((double)bytes / BytesPerSecond);
            _charged += bytes;
            owed = TimeSpan.FromSeconds(_due - now);
        }

        return owed >= MinimumWait ? owed : TimeSpan.Zero;
    }

    /// <summary>Charges <paramref name="bytes"/> and blocks for as long as the charge says (a copy worker).</summary>
    public void Pace(long bytes, CancellationToken cancellation)
    {
        TimeSpan wait = Charge(bytes);
        if (wait > TimeSpan.Zero)
        {
            _clock.Wait(wait, cancellation);
        }
    }

    /// <summary>Waits what <see cref="Charge"/> returned, without a thread.</summary>
    public Task WaitAsync(TimeSpan wait, CancellationToken cancellation) =>
        wait > TimeSpan.Zero ? _clock.WaitAsync(wait, cancellation) : Task.CompletedTask;
}
