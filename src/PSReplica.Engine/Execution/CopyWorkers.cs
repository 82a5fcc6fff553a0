using System.Collections.Concurrent;

namespace PSReplica.Engine.Execution;

/// <summary>The threads that carry out a run's file copies while the plan runner goes on through the plan: started with
/// the first copy, fed through a bounded queue, and joined when the runner must wait for them (a hard link to a file
/// still copying, the end of the run). Threads of their own: a copy blocks on the disk or the wire for its whole length.</summary>
internal sealed class CopyWorkers : IDisposable
{
    private const int QueueLength = 256;

    private readonly int _count;
    private readonly Action<int> _complete;
    private readonly Action<int, Exception> _crashed;
    private readonly CancellationToken _cancellation;
    private BlockingCollection<int>? _queue;
    private Thread[]? _threads;

    /// <param name="complete">Carries out and settles the action of that index.</param>
    /// <param name="crashed">Settles an action whose copy failed in a way <paramref name="complete"/> did not expect.</param>
    public CopyWorkers(int count, Action<int> complete, Action<int, Exception> crashed, CancellationToken cancellation)
    {
        _count = count;
        _complete = complete;
        _crashed = crashed;
        _cancellation = cancellation;
    }

    /// <summary>Queues a copy unless the queue is full (the workers are behind).</summary>
    public bool TryAdd(int index) => Start().TryAdd(index);

    /// <summary>Queues a copy, waiting for room.</summary>
    public void Add(int index) => Start().Add(index, _cancellation);

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

    public void Dispose() => _queue?.Dispose();

    private BlockingCollection<int> Start()
    {
        if (_queue is null)
        {
            _queue = new BlockingCollection<int>(boundedCapacity: QueueLength);
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
            foreach (int index in _queue!.GetConsumingEnumerable(_cancellation))
            {
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
