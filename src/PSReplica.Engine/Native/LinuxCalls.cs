using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static PSReplica.Engine.Native.Posix;

namespace PSReplica.Engine.Native;

/// <summary>The Linux file-system backend: the POSIX calls .NET lacks (statx with nanosecond times and inode data,
/// utimensat without following links, chmod, lchown, copy_file_range), reached through <see cref="Posix"/>, which
/// chooses this backend on Linux unless the portable one was asked for.</summary>
[SupportedOSPlatform("linux")]
internal static partial class LinuxCalls
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const long UtimeNow = (1L << 30) - 1;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial int StatxNative(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial int UtimensatNative(int dirfd, string path, long* times, int flags);

    [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int ChmodNative(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int LchownNative(string path, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int MkdirNative(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int OpenNative(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockNative(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int FchmodNative(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    private static partial int FchownNative(int fd, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
    private static unsafe partial int FutimensNative(int fd, long* times);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int RenameNative(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    private static partial nint CopyFileRangeNative(int fdIn, nint offIn, int fdOut, nint offOut, nuint len, uint flags);

    [LibraryImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    private static unsafe partial nint CopyFileRangeAtNative(int fdIn, long* offIn, int fdOut, long* offOut, nuint len, uint flags);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LseekNative(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial nint RealpathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int LinkNative(string existingPath, string newPath);

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int UnlinkNative(string path);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void FreeNative(nint pointer);

    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial int StatfsNative(string path, long* buffer);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int PollNative(long* fds, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadNative(int fd, byte* buffer, nuint count);

    // fcntl is variadic; its third argument is an int for the pipe-size commands, passed as a fixed one on every
    // Linux ABI .NET runs on.
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlNative(int fd, int command, int argument);

    /// <summary>lstat (or stat when <paramref name="follow"/>) with nanosecond times. Returns 0 or an errno.</summary>
    public static unsafe int Stat(string path, bool follow, out StatInfo info)
    {
        byte* buffer = stackalloc byte[256];
        int rc = StatxNative(AtFdCwd, path, follow ? 0 : AtSymlinkNoFollow, StatxBasicStats, buffer);
        if (rc != 0)
        {
            info = default;
            return Marshal.GetLastPInvokeError();
        }

        info = ReadStatx(buffer);
        return 0;
    }

    /// <summary>The fields PSReplica uses from a filled struct statx (the same layout on every Linux architecture).</summary>
    private static unsafe StatInfo ReadStatx(byte* buffer) => new(
        Mode: *(ushort*)(buffer + 28),
        Nlink: *(uint*)(buffer + 16),
        Uid: *(uint*)(buffer + 20),
        Gid: *(uint*)(buffer + 24),
        Inode: *(ulong*)(buffer + 32),
        Size: *(long*)(buffer + 40),
        MtimeSeconds: *(long*)(buffer + 112),
        MtimeNanoseconds: *(uint*)(buffer + 120),
        Device: ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140),
        Rdev: (*(ushort*)(buffer + 28) & SIfmt) is SIfblk or SIfchr ? ((ulong)*(uint*)(buffer + 128) << 32) | *(uint*)(buffer + 132) : 0);

    /// <summary>Sets the modification time without following a final symlink (the access time to now).</summary>
    public static unsafe int SetModificationTime(string path, long seconds, long nanoseconds)
    {
        long* times = stackalloc long[4];
        ModificationOnly(times, seconds, nanoseconds);
        return UtimensatNative(AtFdCwd, path, times, AtSymlinkNoFollow) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public static int Chmod(string path, int mode) =>
        ChmodNative(path, (uint)(mode & 0xFFF)) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static int Lchown(string path, uint uid, uint gid) =>
        LchownNative(path, uid, gid) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>open(2) without .NET's advisory locks and probes; the handle owns the descriptor. Null with the errno.</summary>
    public static SafeFileHandle? Open(string path, int flags, int mode, out int errno)
    {
        int fd = OpenNative(path, flags | OCloExec, (uint)mode);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>flock(2)'s shared lock without waiting (LOCK_SH | LOCK_NB; the same values on Linux, macOS and the BSDs).</summary>
    public static int LockShared(SafeFileHandle file) =>
        FlockNative(Descriptor(file), 1 | 4) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static int Fchmod(SafeFileHandle file, int mode) =>
        FchmodNative(Descriptor(file), (uint)(mode & 0xFFF)) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static int Fchown(SafeFileHandle file, uint uid, uint gid) =>
        FchownNative(Descriptor(file), uid, gid) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Sets an open file's modification time (the access time to now).</summary>
    public static unsafe int SetModificationTime(SafeFileHandle file, long seconds, long nanoseconds)
    {
        long* times = stackalloc long[4];
        ModificationOnly(times, seconds, nanoseconds);
        return FutimensNative(Descriptor(file), times) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Fills struct timespec[2] (access, modification): the modification time given, the access time now (the
    /// item was just written or checked). Not UTIME_OMIT: fusefat, the FUSE FAT driver USB sticks are mounted with,
    /// ignores a modification time that comes without an access time and stamps the current time instead.</summary>
    private static unsafe void ModificationOnly(long* times, long seconds, long nanoseconds)
    {
        times[0] = 0;
        times[1] = UtimeNow;
        times[2] = seconds;
        times[3] = nanoseconds;
    }

    /// <summary>rename(2): atomic within a directory, never follows a final symlink (File.Move resolves link targets).</summary>
    public static int Rename(string oldPath, string newPath) =>
        RenameNative(oldPath, newPath) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>link(2): a new name for an existing file (a hard link). Returns 0 or an errno.</summary>
    public static int Link(string existingPath, string newPath) =>
        LinkNative(existingPath, newPath) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>unlink(2): removes a file or a symbolic link (never what a link points to). Returns 0 or an errno.</summary>
    public static int Unlink(string path) =>
        UnlinkNative(path) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static int Mkdir(string path, int mode) =>
        MkdirNative(path, (uint)(mode & 0xFFF)) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Copies up to <paramref name="length"/> bytes in the kernel. Returns the count, 0 at end of file, or -errno.</summary>
    public static long CopyFileRange(int fdIn, int fdOut, long length)
    {
        nint rc = CopyFileRangeNative(fdIn, 0, fdOut, 0, (nuint)length, 0);
        return rc >= 0 ? rc : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Copies up to <paramref name="length"/> bytes in the kernel from <paramref name="offsetIn"/> in one file to
    /// <paramref name="offsetOut"/> in another, leaving both descriptors' positions alone.
    /// Returns the count, 0 at end of the input, or -errno.</summary>
    public static unsafe long CopyFileRange(int fdIn, long offsetIn, int fdOut, long offsetOut, long length)
    {
        nint rc = CopyFileRangeAtNative(fdIn, &offsetIn, fdOut, &offsetOut, (nuint)length, 0);
        return rc >= 0 ? rc : -Marshal.GetLastPInvokeError();
    }

    /// <summary>lseek(2) with <paramref name="whence"/> (SEEK_DATA 3, SEEK_HOLE 4 here). Returns the offset or -errno.</summary>
    public static long Seek(SafeFileHandle file, long offset, int whence)
    {
        long rc = LseekNative((int)file.DangerousGetHandle(), offset, whence);
        return rc >= 0 ? rc : -Marshal.GetLastPInvokeError();
    }

    /// <summary>The canonical path with every symlink resolved, or null (errno in <paramref name="errno"/>).</summary>
    public static unsafe string? RealPath(string path, out int errno)
    {
        nint resolved = RealpathNative(path, 0);
        if (resolved == 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        try
        {
            errno = 0;
            return NameCodec.Decode(new ReadOnlySpan<byte>((byte*)resolved, checked((int)StrlenNative(resolved))));
        }
        finally
        {
            FreeNative(resolved);
        }
    }

    /// <summary>statfs(2)'s f_namelen for the file system <paramref name="path"/> is on (on 64-bit Linux every field up to
    /// it is a long: type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen); null when it cannot be read.</summary>
    public static unsafe int? NameMax(string path)
    {
        long* buffer = stackalloc long[16];
        return !OperatingSystem.IsLinux() || !Environment.Is64BitProcess || StatfsNative(path, buffer) != 0 || buffer[8] is <= 0 or > int.MaxValue
            ? null : (int)buffer[8];
    }

    /// <summary>poll(2) for input on one descriptor: 1 when it can be read (data, end of file or an error to read),
    /// 0 when <paramref name="milliseconds"/> passed first, or -errno.</summary>
    public static unsafe int PollInput(int fd, int milliseconds)
    {
        // struct pollfd { int fd; short events; short revents; }: POLLIN is 1 on every Linux architecture.
        long entry = (uint)fd | (1L << 32);
        int rc = PollNative(&entry, 1, milliseconds);
        return rc >= 0 ? rc : -Marshal.GetLastPInvokeError();
    }

    /// <summary>read(2) into <paramref name="buffer"/>: the bytes read (0 at the end), or -errno.</summary>
    public static unsafe int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            nint n = ReadNative(fd, start, (nuint)buffer.Length);
            return n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>fcntl(F_SETPIPE_SZ): asks for a pipe of at least <paramref name="bytes"/>; the size it got, or -errno
    /// (EBADF or EINVAL for a descriptor that is not a pipe, EPERM above /proc/sys/fs/pipe-max-size).</summary>
    public static int SetPipeSize(int fd, int bytes)
    {
        const int SetPipeSizeCommand = 1031;
        int rc = FcntlNative(fd, SetPipeSizeCommand, bytes);
        return rc >= 0 ? rc : -Marshal.GetLastPInvokeError();
    }

    /// <summary>fcntl(F_GETPIPE_SZ): the pipe's size, or -errno.</summary>
    public static int PipeSize(int fd)
    {
        const int GetPipeSizeCommand = 1032;
        int rc = FcntlNative(fd, GetPipeSizeCommand, 0);
        return rc >= 0 ? rc : -Marshal.GetLastPInvokeError();
    }
}
