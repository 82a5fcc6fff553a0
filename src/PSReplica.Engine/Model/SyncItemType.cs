namespace PSReplica;

/// <summary>The kind of filesystem item a <see cref="SyncItem"/> is about.</summary>
public enum SyncItemType
{
    File,
    Directory,
    SymbolicLink,
    HardLink,
}
