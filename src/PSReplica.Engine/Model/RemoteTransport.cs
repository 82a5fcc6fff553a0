namespace PSReplica;

/// <summary>How a remote run reaches the server's tree (the cmdlets' -Transport).</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum RemoteTransport
{
    /// <summary>The PSReplica agent when one can run on the server, else SFTP (with a warning).</summary>
    Auto,

    /// <summary>The PSReplica agent only: delta transfer, compression; fails when no agent can run.</summary>
    Agent,

    /// <summary>SFTP only: whole-file transfers, no agent and no .NET needed on the server.</summary>
    Sftp,
}
