namespace PSReplica;

/// <summary>What a <see cref="SyncItem"/> did (or, from Get-SyncPlan, would do) to the destination.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum SyncAction
{
    Create,
    Update,
    Delete,
    Link,
    Metadata,
}
