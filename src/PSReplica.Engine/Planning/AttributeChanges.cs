namespace PSReplica.Engine.Planning;

[Flags]
internal enum AttributeChanges
{
    None = 0,
    Times = 1,
    Permissions = 2,
    Owner = 4,
    Group = 8,

    /// <summary>The POSIX ACLs differ (itemized 'a').</summary>
    Acls = 16,

    /// <summary>Other extended attributes differ (itemized 'x').</summary>
    ExtendedAttributes = 32,

    /// <summary>Windows' file attributes differ (-Preserve Attributes; itemized 'A' in the extended attributes' place,
    /// which a run that holds Windows' attributes never uses).</summary>
    FileAttributes = 64,
}
