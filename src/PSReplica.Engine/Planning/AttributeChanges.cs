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
}
