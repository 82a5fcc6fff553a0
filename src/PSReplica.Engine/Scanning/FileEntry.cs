using PSReplica.Engine.Native;

namespace PSReplica.Engine.Scanning;

/// <summary>One item of a scanned tree, with the metadata the planner compares.</summary>
internal sealed class FileEntry
{
    public FileEntry(string name, string fullPath, EntryKind kind, in StatInfo stat, string? linkTarget)
    {
        Name = name;
        FullPath = fullPath;
        Kind = kind;
        Length = kind == EntryKind.File ? stat.Size : 0;
        MtimeSeconds = stat.MtimeSeconds;
        MtimeNanoseconds = stat.MtimeNanoseconds;
        Permissions = stat.Permissions;
        Uid = stat.Uid;
        Gid = stat.Gid;
        Inode = stat.Inode;
        Device = stat.Device;
        Attributes = stat.Attributes;
        Rdev = kind.IsDevice() ? stat.Rdev : 0;
        LinkTarget = linkTarget;
    }

    public string Name { get; }

    public string FullPath { get; }

    public EntryKind Kind { get; }

    public long Length { get; }

    public long MtimeSeconds { get; }

    public uint MtimeNanoseconds { get; }

    public int Permissions { get; }

    public uint Uid { get; }

    public uint Gid { get; }

    public ulong Inode { get; }

    public ulong Device { get; }

    public string? LinkTarget { get; }

    /// <summary>A device's number (<see cref="StatInfo.Rdev"/>: major in the high, minor in the low 32 bits); 0 for
    /// anything else, and for a device listed by an agent that was not asked for device numbers.</summary>
    public ulong Rdev { get; }

    /// <summary>Windows' ReadOnly, Hidden, System and Archive attributes (<see cref="System.IO.FileAttributes"/> bits),
    /// where the portable backend holds them (<see cref="FileAttributeStore"/>); 0 elsewhere and in remote listings.</summary>
    public int Attributes { get; }

    /// <summary>True when the Archive attribute is set (-ArchiveOnly, -ResetArchive).</summary>
    public bool IsArchive => (Attributes & (int)FileAttributes.Archive) != 0;

    /// <summary>The extended attributes and ACLs of the run's scope, once read (-Preserve Acls or ExtendedAttributes);
    /// null when not read or unreadable.</summary>
    public Metadata.ExtendedAttributeSet? ExtendedAttributes { get; set; }

    public bool IsDirectory => Kind == EntryKind.Directory;

    public DateTime LastWriteTimeUtc =>
        DateTime.UnixEpoch.AddTicks((MtimeSeconds * TimeSpan.TicksPerSecond) + (MtimeNanoseconds / 100));

    public SyncItemType ItemType => Kind switch
    {
        EntryKind.Directory => SyncItemType.Directory,
        EntryKind.SymbolicLink => SyncItemType.SymbolicLink,
        EntryKind.BlockDevice => SyncItemType.BlockDevice,
        EntryKind.CharacterDevice => SyncItemType.CharacterDevice,
        EntryKind.Fifo => SyncItemType.Fifo,
        EntryKind.Socket => SyncItemType.Socket,
        _ => SyncItemType.File,
    };

    public static EntryKind KindOf(in StatInfo stat) => stat.FileType switch
    {
        Posix.SIfreg => EntryKind.File,
        Posix.SIfdir => EntryKind.Directory,
        Posix.SIflnk => EntryKind.SymbolicLink,
        Posix.SIfblk => EntryKind.BlockDevice,
        Posix.SIfchr => EntryKind.CharacterDevice,
        Posix.SIfifo => EntryKind.Fifo,
        Posix.SIfsock => EntryKind.Socket,
        _ => EntryKind.Special,
    };
}
