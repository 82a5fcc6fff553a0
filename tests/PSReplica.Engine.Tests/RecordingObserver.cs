namespace PSReplica.Engine.Tests;

/// <summary>Records every event; optional hooks let a test act on progress or decline actions. Verbose and debug messages
/// are asked for with <see cref="WantsVerbose"/> and <see cref="WantsDebug"/>; asked for or not, each that arrives is
/// recorded, so a test sees one the engine built without being asked.</summary>
internal sealed class RecordingObserver : ISyncObserver
{
    private readonly object _gate = new();

    public List<SyncItem> Items { get; } = [];

    public List<SyncException> Errors { get; } = [];

    public List<string> Warnings { get; } = [];

    public List<SyncProgress> Progress { get; } = [];

    /// <summary>Asked before each action; null approves everything.</summary>
    public Func<SyncItem, bool>? Approve { get; init; }

    public Action<SyncProgress>? OnProgressHook { get; init; }

    /// <summary>Called after each reported item, on the thread that reported it.</summary>
    public Action<SyncItem>? OnItemHook { get; init; }

    public List<SyncItem> Asked { get; } = [];

    public bool WantsVerbose { get; init; }

    public bool WantsDebug { get; init; }

    public List<string> Verbose { get; } = [];

    public List<string> Debug { get; } = [];

    public void OnItem(SyncItem item)
    {
        lock (_gate)
        {
            Items.Add(item);
        }

        OnItemHook?.Invoke(item);
    }

    public void OnError(SyncException error)
    {
        lock (_gate)
        {
            Errors.Add(error);
        }
    }

    public void OnWarning(string message)
    {
        lock (_gate)
        {
            Warnings.Add(message);
        }
    }

    public void OnProgress(SyncProgress progress)
    {
        lock (_gate)
        {
            Progress.Add(progress);
        }

        OnProgressHook?.Invoke(progress);
    }

    public bool ShouldProcess(SyncItem item)
    {
        lock (_gate)
        {
            Asked.Add(item);
        }

        return Approve?.Invoke(item) ?? true;
    }

    public void OnVerbose(string message)
    {
        lock (_gate)
        {
            Verbose.Add(message);
        }
    }

    public void OnDebug(string message)
    {
        lock (_gate)
        {
            Debug.Add(message);
        }
    }
}
