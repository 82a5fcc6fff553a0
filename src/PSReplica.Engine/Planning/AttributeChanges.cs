namespace PSReplica.Engine.Planning;

[Flags]
internal enum AttributeChanges
{
    None = 0,
    Times = 1,
    Permissions = 2,
    Owner = 4,
    Group = 8,
}
