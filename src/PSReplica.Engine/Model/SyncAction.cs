namespace PSReplica;

/// <summary>What a <see cref="SyncItem"/> did (or, from Get-SyncPlan, would do) to the destination.</summary>
public enum SyncAction
{
    Create,
    Update,
    Delete,
    Link,
    Metadata,
}
