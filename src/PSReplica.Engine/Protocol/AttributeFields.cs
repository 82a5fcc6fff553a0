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
    All = Mode | Uid | Gid | Time | ExtendedAttributes,
}
