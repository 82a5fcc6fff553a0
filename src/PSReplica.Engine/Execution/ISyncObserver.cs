namespace PSReplica;

/// <summary>Receives a run's events. The engine calls it from worker threads; a PowerShell host marshals
/// each call to its pipeline thread.</summary>
public interface ISyncObserver
{
    void OnItem(SyncItem item);

    /// <summary>A per-item failure; the run goes on.</summary>
    void OnError(SyncException error);

    void OnWarning(string message);

    void OnProgress(SyncProgress progress);

    /// <summary>Asks whether an action may run (-WhatIf / -Confirm). Declining skips it.</summary>
    bool ShouldProcess(SyncItem item);

    /// <summary>True when <see cref="ShouldProcess"/> asks a person: actions then run one at a time, each finished
    /// and reported before the next question.</summary>
    bool ConfirmsEachAction => false;

    /// <summary>True when <see cref="OnVerbose"/> is shown (-Verbose). When false the engine builds no verbose message at
    /// all: every call site asks first, so an unrequested account of the run costs nothing.</summary>
    bool WantsVerbose => false;

    /// <summary>One line of the account a person needs to follow a run: the roots, the transport and how it was chosen,
    /// the filter, scan counts and times, the plan's counts, why an item was skipped, the totals.</summary>
    void OnVerbose(string message)
    {
    }

    /// <summary>True when <see cref="OnDebug"/> is shown (-Debug); as for <see cref="WantsVerbose"/>, false means no debug
    /// message is built.</summary>
    bool WantsDebug => false;

    /// <summary>More than a user needs to follow a run: each item's decision, the agent's capabilities, the copy workers.</summary>
    void OnDebug(string message)
    {
    }
}
