using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace PSReplica.Engine.Watching;

/// <summary>Gathers a watcher's changes into the batches of -Watch (-SettleTime, -RescanInterval).</summary>
/// <remarks>
/// <para>A path whose last change is final (<see cref="WatchChange.Final"/>: a file closed after writing, an item deleted
/// or renamed, a directory made; and every subtree to plan again) is ready once the notifications pause for
/// <see cref="FinishedPause"/> (or the settle time, if shorter), and at most the settle time after the first such change:
/// a burst of files is replicated while it goes on, in batches a settle time apart, and its last files soon after the
/// last is closed. A rename that follows a close (an editor's save) comes within the pause and joins the batch.</para>
/// <para>Any other path (a file made or written and not yet closed, its attributes changed, notifications lost) waits
/// until the notifications pause for the settle time, and at most <see cref="WatchSettings.MaximumDelay"/> after its
/// first change: until then it is held back, so that a file still being written is not copied torn, while the finished
/// changes around it go on. A batch that is due also takes each such path that has had no change of its own for the
/// settle time.</para>
/// <para>Every time is the watcher's: when a change was seen (<see cref="WatchChange.Seen"/>), not when it was read here,
/// so that changes that came while the previous batch ran, and have paused since, are a batch as soon as it ends.</para>
/// </remarks>
/// <param name="finishedPause">For tests: <see cref="FinishedPause"/> instead.</param>
internal sealed class ChangeBatches(ChannelReader<WatchChange> changes, WatchSettings settings, TimeSpan? finishedPause = null)
{
    /// <summary>How long the notifications must pause before the finished changes are a batch.</summary>
    internal static readonly TimeSpan FinishedPause = TimeSpan.FromMilliseconds(5);

    /// <summary>The paths with changes not yet in a batch, in the order first seen.</summary>
    private readonly List<Pending> _order = [];
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    /// <summary>When the last change was seen (a Stopwatch timestamp).</summary>
    private long _lastChange;

    /// <summary>A wait for the channel that timed out, kept for the next: one wait at a time, whose timeouts are the
    /// waiting thread's own (no timer, no cancellation registration per wait).</summary>
    private Task<bool>? _waiting;

    /// <summary>Changes held back from the last batch: files still being written.</summary>
    public int Held => _pending.Count;

    /// <summary>The next batch: waits for a change (or, with a rescan interval, at most that long: then the whole tree is
    /// the batch), then until some of what came is ready (see the remarks of the class).</summary>
    /// <param name="soon">Files wait to be copied again: a batch comes after the settle time even without a change
    /// (then it may be empty).</param>
    public List<WatchChange> Next(CancellationToken cancellation, bool soon = false)
    {
        if (_pending.Count == 0 && !Wait(soon ? settings.SettleTime : settings.RescanInterval, cancellation))
        {
            return soon ? [] : [new WatchChange(WatchChangeKind.Subtree, string.Empty)];
        }

        long settle = Timestamps(settings.SettleTime);
        long pause = Math.Min(Timestamps(finishedPause ?? FinishedPause), settle);
        long longest = Timestamps(settings.MaximumDelay);
        while (true)
        {
            Read();
            long now = Stopwatch.GetTimestamp();
            long firstFinished = long.MaxValue;
            long firstOpen = long.MaxValue;
            foreach (Pending path in _order)
            {
                if (path.Final)
                {
                    firstFinished = Math.Min(firstFinished, path.First);
                }
                else
                {
                    firstOpen = Math.Min(firstOpen, path.First);
                }
            }

            long quiet = now - _lastChange;
            bool finishedReady = firstFinished != long.MaxValue && (quiet >= pause || now - firstFinished >= settle);
            bool openReady = firstOpen != long.MaxValue && (quiet >= settle || now - firstOpen >= longest);
            if (finishedReady || openReady)
            {
                if (changes.Completion.IsCompleted)
                {
                    // Everything was read and the watcher has ended since (its root lost: the removal of a tree's last
                    // file and of the root itself are one rm -r): its end, not a batch that cannot find the root. A batch
                    // taken at once, its changes having paused before they were read, does not pass through Wait.
                    Ended();
                }

                return Take(now, finishedReady, settle, longest);
            }

            long wake = long.MaxValue;
            if (firstFinished != long.MaxValue)
            {
                wake = Math.Min(_lastChange + pause, firstFinished + settle);
            }

            if (firstOpen != long.MaxValue)
            {
                wake = Math.Min(wake, Math.Min(_lastChange + settle, firstOpen + longest));
            }

            _ = Wait(TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling((wake - now) * 1000.0 / Stopwatch.Frequency))), cancellation);
        }
    }

    /// <summary>Reads every change there is now into the pending paths.</summary>
    private void Read()
    {
        long now = Stopwatch.GetTimestamp();
        while (changes.TryRead(out WatchChange change))
        {
            // A change made without a time (default) counts from now; none counts from the future.
            long seen = change.Seen != 0 && change.Seen < now ? change.Seen : now;
            _lastChange = Math.Max(_lastChange, seen);
            // Subtrees are planned from what is there when the batch runs; notifications lost may come with many more.
            bool final = change.Kind == WatchChangeKind.Subtree || (change.Kind == WatchChangeKind.Item && change.Final);
            if (!_pending.TryGetValue(change.RelativePath, out Pending? path))
            {
                path = new Pending(seen);
                _pending.Add(change.RelativePath, path);
                _order.Add(path);
            }

            path.Changes.Add(change);
            path.Last = Math.Max(path.Last, seen);
            path.Final = final;
        }
    }

    /// <summary>The ready paths' changes, in the order the paths were first seen; the rest stay pending.</summary>
    private List<WatchChange> Take(long now, bool finishedReady, long settle, long longest)
    {
        var batch = new List<WatchChange>();
        _pending.Clear();
        int kept = 0;
        for (int i = 0; i < _order.Count; i++)
        {
            Pending path = _order[i];
            bool ready = path.Final ? finishedReady : now - path.Last >= settle || now - path.First >= longest;
            if (ready)
            {
                batch.AddRange(path.Changes);
                continue;
            }

            _order[kept++] = path;
            _pending.Add(path.Changes[0].RelativePath, path);
        }

        _order.RemoveRange(kept, _order.Count - kept);
        return batch;
    }

    /// <summary>Waits until a change can be read: true; false when <paramref name="timeout"/> passed first. The watcher's
    /// end is thrown: its error (the root lost), or OperationCanceledException when it was stopped.</summary>
    private bool Wait(TimeSpan? timeout, CancellationToken cancellation)
    {
        Task<bool> waiting = _waiting ??= changes.WaitToReadAsync(CancellationToken.None).AsTask();
        long deadline = timeout is { } span ? Stopwatch.GetTimestamp() + Timestamps(span) : long.MaxValue;
        try
        {
            // Task.Wait takes at most int.MaxValue milliseconds (about 25 days); a longer -RescanInterval waits in steps.
            while (!waiting.Wait(timeout is null ? Timeout.InfiniteTimeSpan
                : TimeSpan.FromMilliseconds(Math.Clamp(Math.Ceiling((deadline - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency), 0, int.MaxValue)), cancellation))
            {
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    return false;
                }
            }
        }
        catch (AggregateException)
        {
            // The channel's end, thrown unwrapped below.
        }

        _waiting = null;
        bool more;
        try
        {
            more = waiting.GetAwaiter().GetResult();
        }
        catch (ChannelClosedException closed) when (closed.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(closed.InnerException).Throw();
            throw;
        }

        if (!more)
        {
            Ended();
        }

        return true;
    }

    /// <summary>Throws the watcher's end, which has come: its error, or OperationCanceledException when it was stopped.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Ended()
    {
        changes.Completion.GetAwaiter().GetResult();
        throw new OperationCanceledException("The watcher stopped.");
    }

    /// <summary>A span in Stopwatch ticks (bounded, so that sums of them cannot overflow).</summary>
    private static long Timestamps(TimeSpan span) => (long)Math.Min(long.MaxValue / 4, Math.Ceiling(span.TotalSeconds * Stopwatch.Frequency));

    /// <summary>One path's changes not yet in a batch.</summary>
    private sealed class Pending(long first)
    {
        public List<WatchChange> Changes { get; } = [];

        /// <summary>When its first change was seen.</summary>
        public long First { get; } = first;

        /// <summary>When its last change was seen.</summary>
        public long Last { get; set; }

        /// <summary>Its last change is final (see <see cref="WatchChange.Final"/>).</summary>
        public bool Final { get; set; }
    }
}
