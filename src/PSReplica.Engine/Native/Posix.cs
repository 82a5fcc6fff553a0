using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace PSReplica.Engine.Native;

/// <summary>Every local file-system call the engine makes, in POSIX's shape (an errno for a result, *at calls relative to
/// an open directory): on Linux the calls themselves (<see cref="LinuxCalls"/>), elsewhere, or where
/// <see cref="FileSystemBackend"/> asks for it, <see cref="PortableCalls"/> on System.IO. Open flags and errno values
/// are Linux's numbers on every platform: they are this interface's vocabulary, and only <see cref="LinuxCalls"/>
/// hands them to a kernel.</summary>
internal static partial class Posix
{
    // Open flags with the same values on every Linux architecture .NET runs on.
    public const int ORdOnly = 0;
    public const int OWrOnly = 1;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int OCloExec = 0x80000;
    public const int ORdWr = 2;
    public const int OPath = 0x200000;
    public const int ONonBlock = 0x800;

    /// <summary>O_DIRECTORY: 0x4000 on ARM, 0x10000 on x86 and x64.</summary>
    public static int ODirectory => IsArm ? 0x4000 : 0x10000;

    /// <summary>O_NOFOLLOW: 0x8000 on ARM, 0x20000 on x86 and x64.</summary>
    public static int ONoFollow => IsArm ? 0x8000 : 0x20000;

    public const int ENOENT = 2;
    public const int EPERM = 1;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int EROFS = 30;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;
    public const int EMLINK = 31;
    public const int EOPNOTSUPP = 95;

    public const int SIfmt = 0xF000;
    public const int SIfdir = 0x4000;
    public const int SIfreg = 0x8000;
    public const int SIfblk = 0x6000;
    public const int SIfchr = 0x2000;
    public const int SIfifo = 0x1000;
    public const int SIfsock = 0xC000;
    public const int SIflnk = 0xA000;

    private static bool IsArm => RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64;

    /// <summary>True where the Linux calls serve this run: on Linux, unless the portable backend was chosen.</summary>
    [SupportedOSPlatformGuard("linux")]
    private static bool Linux => OperatingSystem.IsLinux() && !FileSystemBackend.IsPortable;

    /// <summary>True where <see cref="StatInfo.Inode"/> and <see cref="StatInfo.Device"/> are the file system's own, so
    /// that two names of one file are known as one and a file swapped for another is seen; false on the portable
    /// backend, whose identities are paths (see <see cref="PortableCalls"/>).</summary>
    public static bool TracksIdentity => Linux;

    /// <summary>lstat (or stat when <paramref name="follow"/>) with nanosecond times. Returns 0 or an errno.</summary>
    public static int Stat(string path, bool follow, out StatInfo info) =>
        Linux ? LinuxCalls.Stat(path, follow, out info) : PortableCalls.Stat(path, follow, out info);

    /// <summary>Sets the modification time without following a final symlink (the access time to now).</summary>
    public static int SetModificationTime(string path, long seconds, long nanoseconds) =>
        Linux ? LinuxCalls.SetModificationTime(path, seconds, nanoseconds) : PortableCalls.SetModificationTime(path, seconds, nanoseconds);

    public static int Chmod(string path, int mode) => Linux ? LinuxCalls.Chmod(path, mode) : PortableCalls.Chmod(path, mode);

    public static int Lchown(string path, uint uid, uint gid) => Linux ? LinuxCalls.Lchown(path, uid, gid) : EOPNOTSUPP;

    /// <summary>open(2) without .NET's advisory locks and probes; the handle owns the descriptor. Null with the errno.</summary>
    public static SafeFileHandle? Open(string path, int flags, int mode, out int errno) =>
        Linux ? LinuxCalls.Open(path, flags, mode, out errno) : PortableCalls.Open(path, flags, mode, out errno);

    /// <summary>flock(2)'s shared lock without waiting (LOCK_SH | LOCK_NB); the portable backend has none (ENOSYS).</summary>
    public static int LockShared(SafeFileHandle file) => Linux ? LinuxCalls.LockShared(file) : ENOSYS;

    public static int Fchmod(SafeFileHandle file, int mode) => Linux ? LinuxCalls.Fchmod(file, mode) : PortableCalls.Chmod(file, mode);

    public static int Fchown(SafeFileHandle file, uint uid, uint gid) => Linux ? LinuxCalls.Fchown(file, uid, gid) : EOPNOTSUPP;

    /// <summary>Sets an open file's modification time (the access time to now).</summary>
    public static int SetModificationTime(SafeFileHandle file, long seconds, long nanoseconds) =>
        Linux ? LinuxCalls.SetModificationTime(file, seconds, nanoseconds) : PortableCalls.SetModificationTime(file, seconds, nanoseconds);

    public static int Descriptor(SafeFileHandle file) => (int)file.DangerousGetHandle();

    /// <summary>rename(2): atomic within a directory, never follows a final symlink.</summary>
    public static int Rename(string oldPath, string newPath) =>
        Linux ? LinuxCalls.Rename(oldPath, newPath) : PortableCalls.Rename(oldPath, newPath);

    /// <summary>link(2): a new name for an existing file (a hard link). Returns 0 or an errno.</summary>
    public static int Link(string existingPath, string newPath) =>
        Linux ? LinuxCalls.Link(existingPath, newPath) : PortableCalls.Link(existingPath, newPath);

    /// <summary>unlink(2): removes a file or a symbolic link (never what a link points to). Returns 0 or an errno.</summary>
    public static int Unlink(string path) => Linux ? LinuxCalls.Unlink(path) : PortableCalls.Unlink(path, isDirectory: false);

    public static int Mkdir(string path, int mode) => Linux ? LinuxCalls.Mkdir(path, mode) : PortableCalls.Mkdir(path, mode);

    /// <summary>Copies up to <paramref name="length"/> bytes in the kernel. Returns the count, 0 at end of file, or -errno
    /// (-ENOSYS from the portable backend: the caller copies through user space).</summary>
    public static long CopyFileRange(int fdIn, int fdOut, long length) =>
        Linux ? LinuxCalls.CopyFileRange(fdIn, fdOut, length) : -ENOSYS;

    /// <summary>copy_file_range(2) at offsets, leaving both positions alone. The count, 0 at the end, or -errno.</summary>
    public static long CopyFileRange(int fdIn, long offsetIn, int fdOut, long offsetOut, long length) =>
        Linux ? LinuxCalls.CopyFileRange(fdIn, offsetIn, fdOut, offsetOut, length) : -ENOSYS;

    /// <summary>lseek(2) SEEK_DATA: the start of the first data at or after <paramref name="offset"/>; -ENXIO when only a
    /// hole follows (or the offset is at the end); -errno, -ENOSYS from the portable backend (the caller then takes the
    /// whole file as data).</summary>
    public static long SeekData(SafeFileHandle file, long offset) => Linux ? LinuxCalls.Seek(file, offset, 3) : -ENOSYS;

    /// <summary>lseek(2) SEEK_HOLE: the start of the first hole at or after <paramref name="offset"/> (the end of the file
    /// counts as one); -errno, -ENOSYS from the portable backend.</summary>
    public static long SeekHole(SafeFileHandle file, long offset) => Linux ? LinuxCalls.Seek(file, offset, 4) : -ENOSYS;

    /// <summary>The canonical path with every symlink resolved, or null (errno in <paramref name="errno"/>).</summary>
    public static string? RealPath(string path, out int errno) =>
        Linux ? LinuxCalls.RealPath(path, out errno) : PortableCalls.RealPath(path, out errno);

    /// <summary>True where directories are listed by their names' exact bytes (<see cref="NameCodec"/>): the Linux backend
    /// in a 64-bit process (readdir's struct dirent is read at its 64-bit offsets). Elsewhere listing goes through
    /// System.IO, which decodes a name that is not UTF-8 with replacement; such a name is then reported
    /// (NameNotRepresentable), never skipped.</summary>
    [SupportedOSPlatformGuard("linux")]
    public static bool KeepsNameBytes => Linux && Environment.Is64BitProcess;

    /// <summary>The target of the symbolic link <paramref name="path"/>, or null (errno set; EINVAL: not a link).</summary>
    public static string? ReadLink(string path, out int errno) =>
        Linux ? LinuxCalls.ReadLink(path, out errno) : PortableCalls.ReadLink(path, out errno);

    /// <summary>The names in a directory with their d_type (Linux backend only: <see cref="KeepsNameBytes"/>); null with
    /// the errno when it cannot be read.</summary>
    public static List<(string Name, byte Type)>? ListDirectory(string path, out int errno)
    {
        if (!KeepsNameBytes)
        {
            throw new PlatformNotSupportedException("Raw directory listing is the 64-bit Linux backend's.");
        }

        return LinuxCalls.ListDirectory(path, out errno);
    }

    /// <summary>The names in the directory <paramref name="directory"/> holds open, as <see cref="ListDirectory(string, out int)"/>
    /// gives them (Linux backend only).</summary>
    public static List<(string Name, byte Type)>? ListDirectory(SafeFileHandle directory, out int errno)
    {
        if (!KeepsNameBytes)
        {
            throw new PlatformNotSupportedException("Raw directory listing is the 64-bit Linux backend's.");
        }

        return LinuxCalls.ListDirectory(directory, out errno);
    }

    /// <summary>The process umask, read without changing it (022 where it cannot be read).</summary>
    public static int Umask
    {
        get
        {
            try
            {
                foreach (string line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("Umask:", StringComparison.Ordinal))
                    {
                        return Convert.ToInt32(line[6..].Trim(), 8);
                    }
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }

            return 0x12; // 022
        }
    }

    /// <summary>Root on Unix (owners are kept by default then, as rsync does for root); never on Windows, which has no
    /// owner ids to keep.</summary>
    public static bool IsElevated => !OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess;

    /// <summary>The longest name the file system <paramref name="path"/> is on holds, or null when it cannot be read.</summary>
    public static int? NameMax(string path) => Linux ? LinuxCalls.NameMax(path) : null;

    /// <summary>poll(2) for input on one descriptor (the agent's standard input): 1, 0 on time-out, or -errno.</summary>
    public static int PollInput(int fd, int milliseconds) => OperatingSystem.IsLinux() ? LinuxCalls.PollInput(fd, milliseconds) : -ENOSYS;

    /// <summary>Grows the pipe <paramref name="fd"/> is an end of to at least <paramref name="bytes"/> (Linux's
    /// F_SETPIPE_SZ): the size it has then, or -errno (a descriptor that is not a pipe, a size above the system's limit,
    /// another system).</summary>
    public static int SetPipeSize(int fd, int bytes) => OperatingSystem.IsLinux() ? LinuxCalls.SetPipeSize(fd, bytes) : -ENOSYS;

    /// <summary>The size of the pipe <paramref name="fd"/> is an end of, or -errno.</summary>
    public static int PipeSize(int fd) => OperatingSystem.IsLinux() ? LinuxCalls.PipeSize(fd) : -ENOSYS;

    /// <summary>read(2) into <paramref name="buffer"/>: the bytes read (0 at the end), or -errno.</summary>
    public static int Read(int fd, Span<byte> buffer) => OperatingSystem.IsLinux() ? LinuxCalls.Read(fd, buffer) : -ENOSYS;

    /// <summary>The text of an errno (Linux's numbers on every platform).</summary>
    public static string Describe(int errno) => OperatingSystem.IsWindows() ? PortableCalls.Describe(errno) : Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>openat(2) with O_CLOEXEC; the handle owns the descriptor. Null with the errno.</summary>
    public static SafeFileHandle? OpenAt(SafeFileHandle directory, string name, int flags, int mode, out int errno) =>
        Linux ? LinuxCalls.OpenAt(directory, name, flags, mode, out errno) : PortableCalls.Open(PortableCalls.Combine(directory, name), flags, mode, out errno);

    public static int MkdirAt(SafeFileHandle directory, string name, int mode) =>
        Linux ? LinuxCalls.MkdirAt(directory, name, mode) : PortableCalls.Mkdir(PortableCalls.Combine(directory, name), mode);

    public static int UnlinkAt(SafeFileHandle directory, string name, bool isDirectory) =>
        Linux ? LinuxCalls.UnlinkAt(directory, name, isDirectory) : PortableCalls.Unlink(PortableCalls.Combine(directory, name), isDirectory);

    /// <summary>renameat(2) within one directory: atomic, and never follows a final symlink.</summary>
    public static int RenameAt(SafeFileHandle directory, string oldName, string newName) =>
        Linux ? LinuxCalls.RenameAt(directory, oldName, newName)
            : PortableCalls.Rename(PortableCalls.Combine(directory, oldName), PortableCalls.Combine(directory, newName));

    /// <summary>mknodat(2): a device, FIFO or socket <paramref name="name"/> in <paramref name="directory"/> (a final name
    /// that exists is EEXIST, never followed). <paramref name="mode"/> holds the type and permission bits;
    /// <paramref name="rdev"/> is the device number as <see cref="StatInfo.Rdev"/> holds it (major in the high, minor in the
    /// low 32 bits). The portable backend makes them only on Linux, by path (EOPNOTSUPP elsewhere).</summary>
    public static int MknodAt(SafeFileHandle directory, string name, int mode, ulong rdev) =>
        Linux ? LinuxCalls.MknodAt(directory, name, mode, rdev)
            : OperatingSystem.IsLinux() ? LinuxCalls.Mknod(PortableCalls.Combine(directory, name), mode, rdev) : EOPNOTSUPP;

    public static int SymlinkAt(string target, SafeFileHandle directory, string name) =>
        Linux ? LinuxCalls.SymlinkAt(target, directory, name) : PortableCalls.Symlink(target, PortableCalls.Combine(directory, name));

    /// <summary>The target of the link <paramref name="name"/> in <paramref name="directory"/>, or null (errno set).</summary>
    public static string? ReadLinkAt(SafeFileHandle directory, string name, out int errno) =>
        Linux ? LinuxCalls.ReadLinkAt(directory, name, out errno) : PortableCalls.ReadLink(PortableCalls.Combine(directory, name), out errno);

    /// <summary>lchown relative to a directory: never follows a final link.</summary>
    public static int LchownAt(SafeFileHandle directory, string name, uint uid, uint gid) =>
        Linux ? LinuxCalls.LchownAt(directory, name, uid, gid) : EOPNOTSUPP;

    /// <summary>Sets a link's own modification time, relative to a directory.</summary>
    public static int SetModificationTimeAt(SafeFileHandle directory, string name, long seconds, long nanoseconds) =>
        Linux ? LinuxCalls.SetModificationTimeAt(directory, name, seconds, nanoseconds)
            : PortableCalls.SetModificationTime(PortableCalls.Combine(directory, name), seconds, nanoseconds);

    /// <summary>statx of <paramref name="name"/> in <paramref name="directory"/> without following a final link;
    /// an empty name stats the descriptor itself (AT_EMPTY_PATH).</summary>
    public static int StatAt(SafeFileHandle directory, string name, out StatInfo info) => StatAt(directory, name, follow: false, out info);

    /// <summary>statx of <paramref name="name"/> in <paramref name="directory"/>, following a final link when
    /// <paramref name="follow"/> (-CopyLinks on a remote sender).</summary>
    public static int StatAt(SafeFileHandle directory, string name, bool follow, out StatInfo info) =>
        Linux ? LinuxCalls.StatAt(directory, name, follow, out info) : PortableCalls.StatAt(directory, name, follow, out info);

    /// <summary>A path that reaches exactly what <paramref name="handle"/> holds: the descriptor's /proc/self/fd magic link
    /// on Linux; the path it was opened by in the portable backend.</summary>
    public static string DescriptorPath(SafeFileHandle handle) => Linux ? LinuxCalls.DescriptorPath(handle) : PortableCalls.PathOf(handle);

    /// <summary>chmod of the inode an O_PATH descriptor holds.</summary>
    public static int ChmodHandle(SafeFileHandle handle, int mode) =>
        Linux ? LinuxCalls.ChmodHandle(handle, mode) : PortableCalls.Chmod(handle, mode);

    /// <summary>chown of the inode an O_PATH descriptor holds.</summary>
    public static int ChownHandle(SafeFileHandle handle, uint uid, uint gid) => Linux ? LinuxCalls.ChownHandle(handle, uid, gid) : EOPNOTSUPP;

    /// <summary>Sets the modification time of the inode an O_PATH descriptor holds.</summary>
    public static int SetModificationTimeHandle(SafeFileHandle handle, long seconds, long nanoseconds) =>
        Linux ? LinuxCalls.SetModificationTimeHandle(handle, seconds, nanoseconds)
            : PortableCalls.SetModificationTime(handle, seconds, nanoseconds);

    /// <summary>Windows' file attributes (-Preserve Attributes): makes the kept ones of the item <paramref name="handle"/>
    /// holds exactly <paramref name="attributes"/>. EOPNOTSUPP where there are none: on the Linux backend, and on the
    /// portable one unless <see cref="FileAttributeStore.Available"/>.</summary>
    public static int SetFileAttributes(SafeFileHandle handle, int attributes) =>
        Linux ? EOPNOTSUPP : PortableCalls.SetFileAttributes(handle, attributes);

    /// <summary>As <see cref="SetFileAttributes(SafeFileHandle, int)"/>, for the item at <paramref name="path"/>.</summary>
    public static int SetFileAttributes(string path, int attributes) =>
        Linux ? EOPNOTSUPP : PortableCalls.SetFileAttributes(path, attributes);

    /// <summary>As <see cref="SetFileAttributes(SafeFileHandle, int)"/>, for <paramref name="name"/> in
    /// <paramref name="directory"/> (a final link is never followed: the link's own attributes).</summary>
    public static int SetFileAttributesAt(SafeFileHandle directory, string name, int attributes) =>
        Linux ? EOPNOTSUPP : PortableCalls.SetFileAttributes(PortableCalls.Combine(directory, name), attributes);

    /// <summary>True where this run's items carry Windows' attributes: the portable backend on Windows (or with a test's
    /// store, <see cref="FileAttributeStore"/>).</summary>
    public static bool HoldsFileAttributes => !Linux && FileAttributeStore.Available;

    /// <summary>linkat(2) without AT_SYMLINK_FOLLOW: a final link is linked itself, never its referent. 0 or an errno.</summary>
    public static int LinkAt(SafeFileHandle oldDirectory, string oldName, SafeFileHandle newDirectory, string newName) =>
        Linux ? LinuxCalls.LinkAt(oldDirectory, oldName, newDirectory, newName)
            : PortableCalls.Link(PortableCalls.Combine(oldDirectory, oldName), PortableCalls.Combine(newDirectory, newName));

    /// <summary>A rename between two directories that never replaces what holds the new name (EEXIST).</summary>
    public static int RenameAtNoReplace(SafeFileHandle oldDirectory, string oldName, SafeFileHandle newDirectory, string newName) =>
        Linux ? LinuxCalls.RenameAtNoReplace(oldDirectory, oldName, newDirectory, newName)
            : PortableCalls.RenameNoReplace(PortableCalls.Combine(oldDirectory, oldName), PortableCalls.Combine(newDirectory, newName));

    /// <summary>renameat(2) between two directories (EXDEV across filesystems). 0 or an errno.</summary>
    public static int RenameAt(SafeFileHandle oldDirectory, string oldName, SafeFileHandle newDirectory, string newName) =>
        Linux ? LinuxCalls.RenameAt(oldDirectory, oldName, newDirectory, newName)
            : PortableCalls.Rename(PortableCalls.Combine(oldDirectory, oldName), PortableCalls.Combine(newDirectory, newName));
}

/// <summary>What statx tells about one item; <see cref="Attributes"/> are Windows' ReadOnly, Hidden, System and Archive
/// (<see cref="FileAttributeStore.Kept"/>), told by the portable backend where it holds them and 0 elsewhere;
/// <see cref="Rdev"/> is the device number of a block or character device (statx's rdev major in the high and minor in the
/// low 32 bits, as <see cref="Device"/> holds the containing device), 0 for anything else.</summary>
internal readonly record struct StatInfo(
    int Mode, uint Nlink, uint Uid, uint Gid, ulong Inode, long Size, long MtimeSeconds, uint MtimeNanoseconds, ulong Device, int Attributes = 0,
    ulong Rdev = 0)
{
    public int FileType => Mode & Posix.SIfmt;

    /// <summary>A block or character device: the only items whose <see cref="Rdev"/> means something.</summary>
    public bool IsDevice => FileType is Posix.SIfblk or Posix.SIfchr;

    public int Permissions => Mode & 0xFFF;
}
