using System.Diagnostics;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Scanning;

/// <summary>One item of a scanned tree, with the metadata the planner compares.</summary>
internal sealed class FileEntry
{
    // The directory listed, shared by its entries, when the full path is joined on first use (see InDirectory).
    private readonly string? _directory;
    private string? _fullPath;

    public FileEntry(string name, string fullPath, EntryKind kind, in StatInfo stat, string? linkTarget)
        : this(name, kind, stat, linkTarget)
    {
        _fullPath = fullPath;
    }

    private FileEntry(string directory, string name, EntryKind kind, in StatInfo stat, string? linkTarget, bool joinLater)
        : this(name, kind, stat, linkTarget)
    {
        Debug.Assert(joinLater, "Only InDirectory joins later.");
        _directory = directory;
    }

    private FileEntry(string name, EntryKind kind, in StatInfo stat, string? linkTarget)
    {
        Name = name;
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

    /// <summary>An entry of a directory listing whose full path is joined only when asked for: a no-change run never
    /// asks for most files' paths, and the string would be most of what a listing allocates (issue 18: at a million
    /// files the collector's work, not the system calls, made the scan slower than rsync per file).</summary>
    public static FileEntry InDirectory(string directory, string name, EntryKind kind, in StatInfo stat, string? linkTarget) =>
        new(directory, name, kind, stat, linkTarget, joinLater: true);

    public string Name { get; }

    /// <summary>The item's path as its side names it (its directory's path joined with <see cref="Name"/>). Joined at
    /// most once in practice: two threads that race here join equal strings.</summary>
    public string FullPath => _fullPath ??= Path.Join(_directory, Name);

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
