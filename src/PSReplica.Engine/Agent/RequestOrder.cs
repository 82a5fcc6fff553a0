namespace PSReplica.Engine.Agent;

/// <summary>The agent's promise that lets the controller send small changes without waiting for their answers: the
/// requests that change the tree's structure or attributes (create a directory or a link, set attributes, delete) are
/// carried out one at a time in the order they arrived, and any other request starts only after every such request that
/// arrived before it is done and answered. So a directory exists before a file written into it, deletions happen in the
/// order sent (children before parents), and directory times set last stay last.</summary>
internal sealed class RequestOrder
{
    private readonly object _gate = new();
    private Task _ordered = Task.CompletedTask;

    /// <summary>Schedules <paramref name="run"/> (called on the read loop, in arrival order). <paramref name="ordered"/>:
    /// a request of the serial kind. The tasks given must not fault (the session answers every error itself).</summary>
    public void Schedule(bool ordered, Func<Task> run)
    {
        lock (_gate)
        {
            Task previous = _ordered;
            Task task = previous.IsCompleted ? run() : After(previous, run);
            if (ordered)
            {
                _ordered = task;
            }
        }
    }

    // Continued on the pool, never inline: a long chain of small requests must not grow the stack.
    private static Task After(Task previous, Func<Task> run) =>
        previous.ContinueWith(_ => run(), CancellationToken.None, TaskContinuationOptions.DenyChildAttach, TaskScheduler.Default).Unwrap();
}
