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
    All = Mode | Uid | Gid | Time,
}
