using System.Diagnostics;

namespace PSReplica.Engine.Execution;

/// <summary>The time a <see cref="BandwidthThrottle"/> keeps its schedule by, and its waits: the monotonic clock and real
/// waits here; a test's clock moves only when the test or a wait moves it, so that what a limit costs is counted, not
/// timed.</summary>
internal class PacingClock
{
    private readonly long _start = Stopwatch.GetTimestamp();

    /// <summary>The time since the clock was made.</summary>
    public virtual TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);

    /// <summary>Blocks for <paramref name="delay"/> (a copy worker's wait).</summary>
    /// <exception cref="OperationCanceledException">The cancellation came first.</exception>
    public virtual void Wait(TimeSpan delay, CancellationToken cancellation)
    {
        if (cancellation.WaitHandle.WaitOne(delay))
        {
            cancellation.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Waits for <paramref name="delay"/> without a thread (a session's frame writer).</summary>
    public virtual Task WaitAsync(TimeSpan delay, CancellationToken cancellation) => Task.Delay(delay, cancellation);
}
