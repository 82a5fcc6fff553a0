using System.Collections.Concurrent;

namespace PSReplica.Engine.Execution;

/// <summary>The threads that carry out a run's file copies while the plan runner goes on through the plan: started with
/// the first copy, fed through a bounded queue, and joined when the runner must wait for them (a hard link to a file
/// still copying, the end of the run). Threads of their own: a copy blocks on the disk or the wire for its whole length.</summary>
internal sealed class CopyWorkers : IDisposable
{
    /// <summary>The most workers a run may ask for (-ThrottleLimit): as many as an agent session's streams, of which each
    /// remote copy holds one.</summary>
    public const int MaxCount = Protocol.ProtocolLimits.MaxStreams;

    private const int QueueLength = 256;

    private readonly int _count;
    private readonly Action<int> _complete;
    private readonly Action<int, Exception> _crashed;
    private readonly CancellationToken _cancellation;

    /// <summary>Set whenever the workers have taken the queue down to half: a producer that found it full waits for
    /// that, not for one free place, so that it then queues half a queue's worth without waiting (a pull sends the
    /// paths it asks ahead for in groups, and flushes them before it waits: once a file, had it waited per file).</summary>
    private readonly ManualResetEventSlim _roomy = new(initialState: true);
    private BlockingCollection<int>? _queue;
    private Thread[]? _threads;

    /// <param name="complete">Carries out and settles the action of that index.</param>
    /// <param name="crashed">Settles an action whose copy failed in a way <paramref name="complete"/> did not expect.</param>
    public CopyWorkers(int count, Action<int> complete, Action<int, Exception> crashed, CancellationToken cancellation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxCount);
        _count = count;
        _complete = complete;
        _crashed = crashed;
        _cancellation = cancellation;
    }

    /// <summary>How many workers copy at once (-ThrottleLimit, else the destination's own number).</summary>
    public int Count => _count;

    /// <summary>Queues a copy unless the queue is full (the workers are behind).</summary>
    public bool TryAdd(int index)
    {
        BlockingCollection<int> queue = Start();
        if (queue.Count >= QueueLength)
        {
            return false;
        }

        queue.Add(index, _cancellation);
        return true;
    }

    /// <summary>Queues a copy once the workers have taken the queue down to half.</summary>
    public void Add(int index)
    {
        BlockingCollection<int> queue = Start();
        // Reset before each look at the count: a worker that takes the queue below half after the look sets it again.
        _roomy.Reset();
        while (queue.Count > QueueLength / 2)
        {
            _roomy.Wait(_cancellation);
            _roomy.Reset();
        }

        queue.Add(index, _cancellation);
    }

    /// <summary>Waits until every queued copy has finished (or seen the cancellation); later copies start new workers.</summary>
    public void Drain()
    {
        if (_queue is null || _threads is null)
        {
            return;
        }

        if (!_queue.IsAddingCompleted)
        {
            _queue.CompleteAdding();
        }

        foreach (Thread thread in _threads)
        {
            thread.Join();
        }

        _queue.Dispose();
        _queue = null;
        _threads = null;
    }

    public void Dispose()
    {
        _queue?.Dispose();
        _roomy.Dispose();
    }

    private BlockingCollection<int> Start()
    {
        if (_queue is null)
        {
            // Bounded by TryAdd and Add, which wait for half of it to drain rather than for one place.
            _queue = new BlockingCollection<int>();
            _threads = new Thread[_count];
            for (int i = 0; i < _threads.Length; i++)
            {
                _threads[i] = new Thread(Work) { IsBackground = true, Name = "PSReplica copy " + i };
                _threads[i].Start();
            }
        }

        return _queue;
    }

    private void Work()
    {
        try
        {
            BlockingCollection<int> queue = _queue!;
            foreach (int index in queue.GetConsumingEnumerable(_cancellation))
            {
                if (queue.Count <= QueueLength / 2)
                {
                    _roomy.Set();
                }

                try
                {
                    _complete(index);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Never let one file's unexpected failure take the process down from a worker thread.
                    _crashed(index, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the copy in progress has removed its temp file.
        }
    }
}
