namespace PSReplica;

/// <summary>Which side of a run is remote, and so which of rsync's roles the agent there serves; the handshake's Open
/// carries it as one byte.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum RemoteSide : byte
{
    /// <summary>A pull: the remote side holds the source (the agent is rsync's sender).</summary>
    Source = 1,

    /// <summary>A push: the remote side holds the destination (the agent is rsync's receiver).</summary>
    Destination = 2,
}
