using PSReplica.Engine.Planning;

namespace PSReplica.Engine.Execution;

/// <summary>A run's progress: actions finished and bytes moved, counted from any thread (the plan runner's, the copy
/// workers', an agent's answers), and reported to the observer at most every 100 ms, or at once for a large file's start.</summary>
internal sealed class TransferMeter
{
    /// <summary>Files this large get their own progress from the first byte.</summary>
    internal const long LargeFile = 16L << 20;

    private const int IntervalMs = 100;

    private readonly ISyncObserver _observer;
    /// <summary>Read at each report: a streamed plan's totals grow while it runs.</summary>
    private readonly SyncPlan _plan;
    private long _actionsDone;
    private long _bytesDone;
    private long _next;

    public TransferMeter(SyncPlan plan, ISyncObserver observer)
    {
        _observer = observer;
        _plan = plan;
    }

    public long ActionsDone => Interlocked.Read(ref _actionsDone);

    public long BytesDone => Interlocked.Read(ref _bytesDone);

    public void AddBytes(long count) => Interlocked.Add(ref _bytesDone, count);

    /// <summary>Counts one finished action and reports, if it is time to.</summary>
    public void ActionDone(string relative)
    {
        Interlocked.Increment(ref _actionsDone);
        Report(relative, 0, 0, force: false);
    }

    /// <summary>The progress callback for one file's copy: a large file reports every step, others when it is time.</summary>
    public Action<long> For(string relative, long length)
    {
        if (length >= LargeFile)
        {
            Report(relative, 0, length, force: true);
        }

        return done => Report(relative, done, length, force: length >= LargeFile);
    }

    public void Report(string current, long currentDone, long currentLength, bool force)
    {
        long now = Environment.TickCount64;
        long next = Interlocked.Read(ref _next);
        if (!force && (now < next || Interlocked.CompareExchange(ref _next, now + IntervalMs, next) != next))
        {
            return;
        }

        _observer.OnProgress(new SyncProgress
        {
            Phase = SyncPhase.Transferring,
            ActionsDone = ActionsDone,
            ActionsTotal = _plan.Count,
            BytesDone = BytesDone + currentDone,
            BytesTotal = _plan.BytesToTransfer,
            CurrentPath = current,
            CurrentBytesDone = currentDone,
            CurrentLength = currentLength,
        });
    }

    /// <summary>The last report, when the run is over.</summary>
    public void Completed() => _observer.OnProgress(new SyncProgress
    {
        Phase = SyncPhase.Completed,
        ActionsDone = ActionsDone,
        ActionsTotal = _plan.Count,
        BytesDone = BytesDone,
        BytesTotal = _plan.BytesToTransfer,
    });
}
