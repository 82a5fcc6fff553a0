namespace PSReplica;

/// <summary>A snapshot of a run's progress.</summary>
public sealed record SyncProgress
{
    public SyncPhase Phase { get; init; }

    /// <summary>Items examined so far while scanning.</summary>
    public long ItemsScanned { get; init; }

    public long ActionsDone { get; init; }

    public long ActionsTotal { get; init; }

    public long BytesDone { get; init; }

    public long BytesTotal { get; init; }

    public string? CurrentPath { get; init; }

    public long CurrentBytesDone { get; init; }

    public long CurrentLength { get; init; }
}
