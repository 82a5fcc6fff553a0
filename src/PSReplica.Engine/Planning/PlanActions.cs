using System.Collections;
using System.Runtime.ExceptionServices;

namespace PSReplica.Engine.Planning;

/// <summary>A plan's actions in execution order. A plan made before it runs (Get-SyncPlan, a reviewed plan, a remote run)
/// is filled by the planner and then read. A local Sync-Directory runs the plan while it is made, as rsync's incremental
/// recursion does (issue 18): the planner appends on its own thread and waits while <see cref="Capacity"/> actions are
/// ahead of the runner; the runner takes each action as soon as it is there (<see cref="TryTake"/>) and lets go of those
/// it has reported (<see cref="Release"/>), so a run over a million files holds a window of its plan, not all of it.
/// Actions are kept in chunks, so letting go frees whole chunks and appending never copies what is held.</summary>
internal sealed class PlanActions : IReadOnlyList<PlannedAction>
{
    private const int ChunkBits = 10;
    private const int ChunkSize = 1 << ChunkBits;

    private readonly object _gate = new();
    private readonly List<PlannedAction[]?> _chunks = [];
    private readonly int[] _counts = new int[Enum.GetValues<SyncAction>().Length];
    private int _count;
    private int _released;
    private bool _streaming;
    private bool _completed = true;
    private bool _abandoned;
    private bool _unbounded;
    private ExceptionDispatchInfo? _failure;

    /// <summary>How many actions the planner may be ahead of the runner's reports while the plan streams: enough that the
    /// copy workers and an agent's pipeline never run dry, few enough to be small beside a large tree (some hundreds of
    /// bytes each, with their entries and items).</summary>
    public const int Capacity = 2 * ChunkSize;

    /// <summary>Actions appended so far (those let go included: indexes never move).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Whether the runner takes the actions while the planner makes them.</summary>
    public bool Streams
    {
        get
        {
            lock (_gate)
            {
                return _streaming;
            }
        }
    }

    /// <summary>Whether the planner has finished (always, for a plan made before it runs).</summary>
    public bool IsComplete
    {
        get
        {
            lock (_gate)
            {
                return _completed;
            }
        }
    }

    public PlannedAction this[int index]
    {
        get
        {
            lock (_gate)
            {
                return At(index);
            }
        }
    }

    /// <summary>Appended actions of each kind (indexed by <see cref="SyncAction"/>), for the plan's -Verbose line.</summary>
    public int CountOf(SyncAction action)
    {
        lock (_gate)
        {
            return _counts[(int)action];
        }
    }

    /// <summary>Before planning starts: the runner will take the actions while they are made.</summary>
    public void BeginStreaming()
    {
        lock (_gate)
        {
            _streaming = true;
            _completed = false;
        }
    }

    /// <summary>Appends an action; while the plan streams, waits as long as <see cref="Capacity"/> actions are unreported.</summary>
    /// <exception cref="OperationCanceledException">The runner stopped (<see cref="Abandon"/>): planning ends.</exception>
    public void Add(PlannedAction action)
    {
        lock (_gate)
        {
            while (_streaming && !_unbounded && !_abandoned && _count - _released >= Capacity)
            {
                Monitor.Wait(_gate);
            }

            if (_abandoned)
            {
                throw new OperationCanceledException("The run stopped while it was being planned.");
            }

            int chunk = _count >> ChunkBits;
            if (chunk == _chunks.Count)
            {
                _chunks.Add(new PlannedAction[ChunkSize]);
            }

            _chunks[chunk]![_count & (ChunkSize - 1)] = action;
            _count++;
            _counts[(int)action.Item.Action]++;
            if (_streaming)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Takes back the actions from <paramref name="start"/> on (-PruneEmptyDirectories); only in a plan that is
    /// not run while it is made, where no action has been let go.</summary>
    public void RemoveFrom(int start)
    {
        lock (_gate)
        {
            if (_streaming)
            {
                throw new InvalidOperationException("A streamed plan's actions cannot be taken back.");
            }

            for (int i = start; i < _count; i++)
            {
                PlannedAction[] chunk = _chunks[i >> ChunkBits]!;
                _counts[(int)chunk[i & (ChunkSize - 1)].Item.Action]--;
                chunk[i & (ChunkSize - 1)] = null!;
            }

            _count = start;
            _chunks.RemoveRange((start + ChunkSize - 1) >> ChunkBits, _chunks.Count - ((start + ChunkSize - 1) >> ChunkBits));
        }
    }

    /// <summary>The runner: action <paramref name="index"/> (the next one it has not taken), waiting for the planner to
    /// make it. False when the plan is complete and has no such action; a planner that failed leaves its exception to
    /// <see cref="ThrowIfFailed"/>.</summary>
    public bool TryTake(int index, out PlannedAction action)
    {
        lock (_gate)
        {
            while (index >= _count && !_completed)
            {
                Monitor.Wait(_gate);
            }

            if (index < _count)
            {
                action = At(index);
                return true;
            }

            action = null!;
            return false;
        }
    }

    /// <summary>The runner: whether <see cref="TryTake"/> for <paramref name="index"/> would answer at once (the action is
    /// there, or the plan is complete). A runner that gathers work into batches sends them before it waits for the planner,
    /// whose room depends on the reports those batches' answers bring.</summary>
    public bool CanTakeNow(int index)
    {
        lock (_gate)
        {
            return index < _count || _completed;
        }
    }

    /// <summary>The runner: lets go of the actions below <paramref name="reported"/> (all reported), chunk by chunk, and
    /// lets the planner go on.</summary>
    public void Release(int reported)
    {
        lock (_gate)
        {
            if (!_streaming || reported <= _released)
            {
                return;
            }

            for (int chunk = _released >> ChunkBits; chunk < reported >> ChunkBits; chunk++)
            {
                _chunks[chunk] = null;
            }

            _released = reported;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The runner needs the whole plan before it goes on (an extraneous deletion waits to know that the whole
    /// scan met no error): the planner no longer waits for it, and this returns once planning is over.</summary>
    public void WaitForCompletion()
    {
        lock (_gate)
        {
            _unbounded = true;
            Monitor.PulseAll(_gate);
            while (!_completed)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>The planner has finished, or failed with <paramref name="failure"/>.</summary>
    public void Complete(Exception? failure = null)
    {
        lock (_gate)
        {
            _completed = true;
            _failure = failure is null ? null : ExceptionDispatchInfo.Capture(failure);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The runner has stopped: a planner waiting for room, or appending later, ends with an
    /// OperationCanceledException.</summary>
    public void Abandon()
    {
        lock (_gate)
        {
            _abandoned = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Rethrows what ended the planner early, once the runner has taken every action it made.</summary>
    public void ThrowIfFailed()
    {
        ExceptionDispatchInfo? failure;
        lock (_gate)
        {
            failure = _failure;
        }

        failure?.Throw();
    }

    public IEnumerator<PlannedAction> GetEnumerator()
    {
        for (int index = 0; ; index++)
        {
            PlannedAction action;
            lock (_gate)
            {
                if (index >= _count)
                {
                    yield break;
                }

                action = At(index);
            }

            yield return action;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private PlannedAction At(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);
        if (index < _released)
        {
            throw new InvalidOperationException($"Action {index} was reported and let go.");
        }

        return _chunks[index >> ChunkBits]![index & (ChunkSize - 1)];
    }
}
