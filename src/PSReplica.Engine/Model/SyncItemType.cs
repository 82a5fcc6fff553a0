namespace PSReplica;

/// <summary>The kind of filesystem item a <see cref="SyncItem"/> is about.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum SyncItemType
{
    File,
    Directory,
    SymbolicLink,
    HardLink,

    /// <summary>A block device (-Preserve Devices).</summary>
    BlockDevice,

    /// <summary>A character device (-Preserve Devices).</summary>
    CharacterDevice,

    /// <summary>A named pipe (-Preserve Specials).</summary>
    Fifo,

    /// <summary>A Unix domain socket (-Preserve Specials).</summary>
    Socket,
}
