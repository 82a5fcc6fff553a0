namespace PSReplica;

/// <summary>The kind of filesystem item a <see cref="SyncItem"/> is about.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum SyncItemType
{
    File,
    Directory,
    SymbolicLink,
    HardLink,
}
