namespace PSReplica.Engine.Scanning;

/// <summary>What the kinds of <see cref="EntryKind"/> have in common for the planner and the receivers.</summary>
internal static class EntryKinds
{
    /// <summary>A device (<see cref="EntryKind.BlockDevice"/>, <see cref="EntryKind.CharacterDevice"/>): -Preserve Devices.</summary>
    public static bool IsDevice(this EntryKind kind) => kind is EntryKind.BlockDevice or EntryKind.CharacterDevice;

    /// <summary>A FIFO or socket: -Preserve Specials.</summary>
    public static bool IsFifoOrSocket(this EntryKind kind) => kind is EntryKind.Fifo or EntryKind.Socket;

    /// <summary>An item made by mknod, with no content: a device, FIFO or socket.</summary>
    public static bool IsNode(this EntryKind kind) => kind.IsDevice() || kind.IsFifoOrSocket();

    /// <summary>The -Preserve flag that replicates <paramref name="kind"/> (None: it needs none, or nothing does).</summary>
    public static PreserveOptions PreserveFlag(this EntryKind kind) =>
        kind.IsDevice() ? PreserveOptions.Devices : kind.IsFifoOrSocket() ? PreserveOptions.Specials : PreserveOptions.None;

    /// <summary>The file-type bits (S_IFMT) mknod makes <paramref name="kind"/> with; 0 for what it does not make.</summary>
    public static int FileType(this EntryKind kind) => kind switch
    {
        EntryKind.BlockDevice => Native.Posix.SIfblk,
        EntryKind.CharacterDevice => Native.Posix.SIfchr,
        EntryKind.Fifo => Native.Posix.SIfifo,
        EntryKind.Socket => Native.Posix.SIfsock,
        _ => 0,
    };

    /// <summary>How messages name <paramref name="kind"/>.</summary>
    public static string Describe(this EntryKind kind) => kind switch
    {
        EntryKind.BlockDevice => "block device",
        EntryKind.CharacterDevice => "character device",
        EntryKind.Fifo => "FIFO",
        EntryKind.Socket => "socket",
        EntryKind.SymbolicLink => "symbolic link",
        EntryKind.Directory => "directory",
        EntryKind.File => "file",
        _ => "special file",
    };
}
