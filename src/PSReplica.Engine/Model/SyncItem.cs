namespace PSReplica;

/// <summary>One created, updated, linked, deleted or re-attributed item: the module's pipeline contract.</summary>
public sealed class SyncItem
{
    public SyncItem(SyncAction action, SyncItemType itemType, string relativePath, SyncReason reason, string itemize)
    {
        Action = action;
        ItemType = itemType;
        RelativePath = relativePath;
        Reason = reason;
        Itemize = itemize;
    }

    public SyncAction Action { get; }

    public SyncItemType ItemType { get; }

    /// <summary>Path below the replicated roots, '/'-separated; "." is the root itself.</summary>
    public string RelativePath { get; }

    public SyncReason Reason { get; }

    /// <summary>rsync's --itemize-changes string, e.g. <c>&gt;f.st......</c>.</summary>
    public string Itemize { get; }

    /// <summary>The item's length in bytes (source length for transfers, old length for deletions).</summary>
    public long Length { get; init; }

    /// <summary>Literal bytes sent for this item.</summary>
    public long BytesTransferred { get; set; }

    /// <summary>Bytes reused from the basis file.</summary>
    public long BytesMatched { get; set; }

    public DateTime? LastWriteTimeUtc { get; init; }

    /// <summary>For symbolic links, the link's target text.</summary>
    public string? LinkTarget { get; init; }

    /// <summary>The full destination path the action applies to.</summary>
    public string DestinationPath { get; init; } = string.Empty;

    /// <summary>The full source path, when the item comes from the source.</summary>
    public string? SourcePath { get; init; }

    /// <summary>The length of what the destination held at this path before the action (null: nothing was there). With
    /// <see cref="PreviousLastWriteTimeUtc"/> it lets a reviewed plan be checked against the destination as it is later.</summary>
    public long? PreviousLength { get; init; }

    /// <summary>The modification time of what the destination held at this path before the action (null: nothing).</summary>
    public DateTime? PreviousLastWriteTimeUtc { get; init; }

    /// <summary>On Get-SyncPlan's items: the plan they belong to, so that <c>Get-SyncPlan ... | Sync-Directory</c> (or a
    /// plan saved with Export-Clixml or ConvertTo-Json and read back) applies exactly these items. Null otherwise.</summary>
    public SyncPlanInfo? Plan { get; set; }

    public override string ToString() => Itemize + " " + RelativePath;
}
