using PSReplica.Engine.Planning;

namespace PSReplica.Engine.Execution;

/// <summary>Writes a run's items in plan order although its actions finish out of order (copies on workers, answers
/// from an agent): each finished action is marked with its item (or null when it was skipped or failed), and every
/// finished item up to the first unfinished action is written. A copy holds back only the items planned after it.</summary>
internal sealed class PlanOrderReporter
{
    private readonly ISyncObserver _observer;
    private readonly Dictionary<int, SyncItem?> _finished = [];
    private int _next;

    public PlanOrderReporter(ISyncObserver observer) => _observer = observer;

    /// <summary>Marks action <paramref name="index"/> finished; called from any thread. Returns how many actions are
    /// reported (all those below the first unfinished one).</summary>
    public int Settle(int index, SyncItem? item)
    {
        lock (_finished)
        {
            if (index != _next)
            {
                _finished[index] = item;
                return _next;
            }

            if (item is not null)
            {
                _observer.OnItem(item);
            }

            _next++;
            while (_finished.Remove(_next, out SyncItem? next))
            {
                if (next is not null)
                {
                    _observer.OnItem(next);
                }

                _next++;
            }

            return _next;
        }
    }
}
