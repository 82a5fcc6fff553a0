namespace PSReplica.Engine.Protocol;

/// <summary>Which fields of an <see cref="AttributeSet"/> apply.</summary>
[Flags]
internal enum AttributeFields : byte
{
    None = 0,
    Mode = 1,
    Uid = 2,
    Gid = 4,
    Time = 8,

    /// <summary>The extended attributes and ACLs of a scope (capability <see cref="Handshake.ExtendedAttributes"/>).</summary>
    ExtendedAttributes = 16,

    /// <summary>All fields the protocol carries.</summary>
    All = Mode | Uid | Gid | Time | ExtendedAttributes,

    /// <summary>Windows' file attributes (-Preserve Attributes): local runs on the portable backend only. No protocol
    /// carries them (every wiring but the local one refuses the option), so <see cref="All"/> leaves them out and a
    /// peer's request that has the flag is a violation.</summary>
    FileAttributes = 32,
}
