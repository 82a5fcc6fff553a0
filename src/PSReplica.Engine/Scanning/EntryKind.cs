namespace PSReplica.Engine.Scanning;

internal enum EntryKind
{
    File,
    Directory,
    SymbolicLink,

    /// <summary>Anything else the file system holds (a whiteout, a door): never replicated.</summary>
    Special,

    /// <summary>A block device: replicated with -Preserve Devices (rsync --devices).</summary>
    BlockDevice,

    /// <summary>A character device: replicated with -Preserve Devices.</summary>
    CharacterDevice,

    /// <summary>A named pipe: replicated with -Preserve Specials (rsync --specials); never opened for its content.</summary>
    Fifo,

    /// <summary>A Unix domain socket's name: replicated with -Preserve Specials (a new, unbound one is made).</summary>
    Socket,
}
