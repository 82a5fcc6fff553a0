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
}
