using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Tests;

/// <summary>A clock for -BandwidthLimit that moves only when the test advances it (the time work takes) or when the
/// throttle waits (instantly, by the time it asked for): what a limit costs is counted, never timed.</summary>
internal sealed class ManualPacingClock : PacingClock
{
    private readonly object _gate = new();
    private TimeSpan _now;
    private TimeSpan _waited;
    private int _waits;

    /// <summary>Called at each wait, before the clock moves (to look at what went before it).</summary>
    public Action<TimeSpan>? OnWait { get; init; }

    public override TimeSpan Elapsed
    {
        get
        {
            lock (_gate)
            {
                return _now;
            }
        }
    }

    /// <summary>The total of every wait.</summary>
    public TimeSpan Waited
    {
        get
        {
            lock (_gate)
            {
                return _waited;
            }
        }
    }

    public int Waits
    {
        get
        {
            lock (_gate)
            {
                return _waits;
            }
        }
    }

    /// <summary>Time passing while work is done.</summary>
    public void Advance(TimeSpan time)
    {
        lock (_gate)
        {
            _now += time;
        }
    }

    public override void Wait(TimeSpan delay, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        Assert.True(delay > TimeSpan.Zero, $"a wait of {delay}");
        OnWait?.Invoke(delay);
        lock (_gate)
        {
            _now += delay;
            _waited += delay;
            _waits++;
        }
    }

    public override Task WaitAsync(TimeSpan delay, CancellationToken cancellation)
    {
        Wait(delay, cancellation);
        return Task.CompletedTask;
    }
}
