namespace PSReplica;

[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum SyncPhase
{
    Scanning,
    Transferring,
    Completed,
}
