namespace PSReplica.Engine.Planning;

internal enum ActionKind
{
    CreateRoot,
    CreateDirectory,
    CopyFile,
    CreateSymbolicLink,
    Metadata,
    Delete,

    /// <summary>A hard link to an unchanged file in a -LinkDest directory.</summary>
    HardLink,

    /// <summary>A device, FIFO or socket made by mknod (-Preserve Devices, Specials), new or replacing one.</summary>
    CreateNode,
}
