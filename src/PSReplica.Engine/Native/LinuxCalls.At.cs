using System.Runtime.InteropServices;
using static PSReplica.Engine.Native.Posix;

namespace PSReplica.Engine.Native;

/// <summary>The *at(2) family: every call names an item relative to an open directory descriptor, so a tree can be
/// walked one component at a time without following links (the agent's receiver never writes through a symlink).</summary>
internal static partial class LinuxCalls
{
    private const int ATRemoveDir = 0x200;
    private const int ATEmptyPath = 0x1000;

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int OpenatNative(int dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int MkdiratNative(int dirfd, string path, uint mode);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int UnlinkatNative(int dirfd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int RenameatNative(int oldDirfd, string oldPath, int newDirfd, string newPath);

    [LibraryImport("libc", EntryPoint = "symlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int SymlinkatNative(string target, int newDirfd, string linkPath);

    [LibraryImport("libc", EntryPoint = "mknodat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int MknodatNative(int dirfd, string path, uint mode, ulong dev);

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial nint ReadlinkatNative(int dirfd, string path, byte* buffer, nuint size);

    [LibraryImport("libc", EntryPoint = "fchownat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int FchownatNative(int dirfd, string path, uint uid, uint gid, int flags);

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int ChownNative(string path, uint uid, uint gid);

    /// <summary>openat(2) with O_CLOEXEC; the handle owns the descriptor. Null with the errno.</summary>
    public static SafeFileHandle? OpenAt(SafeFileHandle directory, string name, int flags, int mode, out int errno)
    {
        int fd = OpenatNative(Descriptor(directory), name, flags | OCloExec, (uint)mode);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public static int MkdirAt(SafeFileHandle directory, string name, int mode) =>
        MkdiratNative(Descriptor(directory), name, (uint)(mode & 0xFFF)) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static int UnlinkAt(SafeFileHandle directory, string name, bool isDirectory) =>
        UnlinkatNative(Descriptor(directory), name, isDirectory ? ATRemoveDir : 0) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>renameat(2) within one directory: atomic, and never follows a final symlink.</summary>
    public static int RenameAt(SafeFileHandle directory, string oldName, string newName) =>
        RenameatNative(Descriptor(directory), oldName, Descriptor(directory), newName) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>mknodat(2) of a device, FIFO or socket; <paramref name="rdev"/> as <see cref="StatInfo.Rdev"/> holds it.</summary>
    public static int MknodAt(SafeFileHandle directory, string name, int mode, ulong rdev) =>
        MknodatNative(Descriptor(directory), name, (uint)(mode & 0xFFFF), MakeDev(rdev)) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>mknod(2) by path (the portable backend on Linux).</summary>
    public static int Mknod(string path, int mode, ulong rdev) =>
        MknodatNative(AtFdCwd, path, (uint)(mode & 0xFFFF), MakeDev(rdev)) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>glibc's dev_t from a major and minor (its makedev: 12 bits of major and 8 of minor low, the rest high), the
    /// encoding the C library's mknodat hands the kernel.</summary>
    private static ulong MakeDev(ulong rdev)
    {
        ulong major = rdev >> 32;
        ulong minor = rdev & 0xFFFF_FFFF;
        return ((major & 0xFFFF_F000) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFF_FF00) << 12) | (minor & 0xFF);
    }

    public static int SymlinkAt(string target, SafeFileHandle directory, string name) =>
        SymlinkatNative(target, Descriptor(directory), name) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>The target of the link <paramref name="name"/> in <paramref name="directory"/>, or null (errno set).</summary>
    public static string? ReadLinkAt(SafeFileHandle directory, string name, out int errno) =>
        ReadLinkAt(Descriptor(directory), name, out errno);

    /// <summary>The target of the link at <paramref name="path"/> (relative to the working directory), or null (errno set).</summary>
    public static string? ReadLink(string path, out int errno) => ReadLinkAt(AtFdCwd, path, out errno);

    private static unsafe string? ReadLinkAt(int directory, string name, out int errno)
    {
        const int Max = 4096;
        byte* buffer = stackalloc byte[Max];
        nint n = ReadlinkatNative(directory, name, buffer, Max);
        if (n < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return NameCodec.Decode(new ReadOnlySpan<byte>(buffer, (int)n));
    }

    /// <summary>lchown relative to a directory: never follows a final link.</summary>
    public static int LchownAt(SafeFileHandle directory, string name, uint uid, uint gid) =>
        FchownatNative(Descriptor(directory), name, uid, gid, AtSymlinkNoFollow) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Sets a link's own modification time, relative to a directory.</summary>
    public static unsafe int SetModificationTimeAt(SafeFileHandle directory, string name, long seconds, long nanoseconds)
    {
        long* times = stackalloc long[4];
        ModificationOnly(times, seconds, nanoseconds);
        return UtimensatNative(Descriptor(directory), name, times, AtSymlinkNoFollow) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>statx of <paramref name="name"/> in <paramref name="directory"/> without following a final link;
    /// an empty name stats the descriptor itself (AT_EMPTY_PATH).</summary>
    public static int StatAt(SafeFileHandle directory, string name, out StatInfo info) => StatAt(directory, name, follow: false, out info);

    /// <summary>statx of <paramref name="name"/> in <paramref name="directory"/>, following a final link when
    /// <paramref name="follow"/> (-CopyLinks on a remote sender).</summary>
    public static unsafe int StatAt(SafeFileHandle directory, string name, bool follow, out StatInfo info)
    {
        byte* buffer = stackalloc byte[256];
        int flags = (follow ? 0 : AtSymlinkNoFollow) | (name.Length == 0 ? ATEmptyPath : 0);
        if (StatxNative(Descriptor(directory), name, flags, StatxBasicStats, buffer) != 0)
        {
            info = default;
            return Marshal.GetLastPInvokeError();
        }

        info = ReadStatx(buffer);
        return 0;
    }

    /// <summary>The path through which an O_PATH descriptor's own inode is reached (chmod and chown follow the magic
    /// link to exactly the inode that was opened, never to a name that was swapped meanwhile).</summary>
    public static string DescriptorPath(SafeFileHandle handle) => "/proc/self/fd/" + Descriptor(handle).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>chmod of the inode an O_PATH descriptor holds.</summary>
    public static int ChmodHandle(SafeFileHandle handle, int mode) => Chmod(DescriptorPath(handle), mode);

    /// <summary>chown of the inode an O_PATH descriptor holds.</summary>
    public static int ChownHandle(SafeFileHandle handle, uint uid, uint gid) =>
        ChownNative(DescriptorPath(handle), uid, gid) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Sets the modification time of the inode an O_PATH descriptor holds.</summary>
    public static unsafe int SetModificationTimeHandle(SafeFileHandle handle, long seconds, long nanoseconds)
    {
        long* times = stackalloc long[4];
        ModificationOnly(times, seconds, nanoseconds);
        return UtimensatNative(AtFdCwd, DescriptorPath(handle), times, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
