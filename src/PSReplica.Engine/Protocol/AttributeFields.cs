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

    /// <summary>With <see cref="Mode"/>: the mode is a new item's source access bits, which the receiver limits by the
    /// default permissions of the directory it makes the item in (<see cref="Receiving.DefaultPermissions"/>: a default
    /// ACL, else its umask), as rsync without -p does. Sent to an agent with capability
    /// <see cref="Handshake.DefaultPermissions"/> only.</summary>
    DefaultPermissions = 64,

    /// <summary>All fields the protocol carries.</summary>
    All = Mode | Uid | Gid | Time | ExtendedAttributes | DefaultPermissions,

    /// <summary>Windows' file attributes (-Preserve Attributes): local runs on the portable backend only. No protocol
    /// carries them (every wiring but the local one refuses the option), so <see cref="All"/> leaves them out and a
    /// peer's request that has the flag is a violation.</summary>
    FileAttributes = 32,
}
