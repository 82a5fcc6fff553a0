using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Native;

/// <summary>Directory listing by readdir(3): names as the bytes the file system holds (<see cref="NameCodec"/>), where
/// System.IO's enumeration decodes them with replacement, so that a name that is not UTF-8 was listed as a look-alike
/// that cannot be opened (issue 18, D3/D4).</summary>
internal static partial class LinuxCalls
{
    /// <summary>DT_DIR of struct dirent's d_type.</summary>
    public const byte DirentDirectory = 4;

    /// <summary>DT_UNKNOWN: the file system does not say; a stat does.</summary>
    public const byte DirentUnknown = 0;

    // struct dirent on 64-bit glibc and musl: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
    private const int DirentTypeOffset = 18;
    private const int DirentNameOffset = 19;

    [LibraryImport("libc", EntryPoint = "opendir", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial nint OpendirNative(string path);

    [LibraryImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
    private static partial nint FdopendirNative(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseNative(int fd);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    private static partial nint ReaddirNative(nint directory);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int ClosedirNative(nint directory);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static unsafe partial int StatxRawNative(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    // syscall(2) is variadic; its arguments here are integers and pointers, passed as fixed ones on the Linux ABIs the
    // numbers below are for. getdents64 has no wrapper in every C library .NET runs on (glibc before 2.30 has none).
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial nint SyscallNative(nint number, nint fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "strlen")]
    private static partial nuint StrlenNative(nint text);

    /// <summary>The names in the directory <paramref name="path"/> (without "." and ".."), each with its d_type, in the
    /// order the file system gives; null with the errno when it cannot be opened or read.</summary>
    public static List<(string Name, byte Type)>? ListDirectory(string path, out int errno)
    {
        if (!Environment.Is64BitProcess)
        {
            errno = Posix.ENOSYS;
            return null;
        }

        nint directory = OpendirNative(path);
        if (directory == 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        return ReadNames(directory, out errno);
    }

    /// <summary>The names in the open directory <paramref name="directory"/>, as <see cref="ListDirectory(string, out int)"/>
    /// gives them: read through a descriptor of its own (openat "."), so that the listing is of exactly the directory the
    /// handle holds, whatever its path names meanwhile, and the handle stays open for the caller's *at calls.</summary>
    public static List<(string Name, byte Type)>? ListDirectory(SafeFileHandle directory, out int errno)
    {
        if (!Environment.Is64BitProcess)
        {
            errno = Posix.ENOSYS;
            return null;
        }

        int fd = OpenatNative(Posix.Descriptor(directory), ".", Posix.ORdOnly | Posix.ODirectory | Posix.OCloExec, 0);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        nint stream = FdopendirNative(fd);
        if (stream == 0)
        {
            errno = Marshal.GetLastPInvokeError();
            _ = CloseNative(fd);
            return null;
        }

        return ReadNames(stream, out errno);
    }

    /// <summary>getdents64's number where <see cref="ReadDirectory"/> knows it (x64; the generic table of arm64, RISC-V and
    /// LoongArch); 0 elsewhere, where directories are read through readdir(3).</summary>
    private static readonly nint s_getdents64 = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 217,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 61,
        _ => 0,
    };

    /// <summary>Reads every record of the open directory <paramref name="directory"/> into <paramref name="names"/>
    /// ("." and ".." left out): getdents64 on the descriptor itself where its number is known, else readdir(3) on a
    /// descriptor of its own. False with the errno when it cannot be read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe bool ReadDirectory(SafeFileHandle directory, DirectoryNames names, out int errno)
    {
        if (s_getdents64 == 0)
        {
            List<(string Name, byte Type)>? listed = ListDirectory(directory, out errno);
            if (listed is null)
            {
                return false;
            }

            foreach ((string name, _) in listed)
            {
                byte[] bytes = new byte[NameCodec.GetByteCount(name)];
                _ = NameCodec.GetBytes(name, bytes);
                names.Add(bytes, inode: 0);
            }

            return true;
        }

        const int BufferSize = 32 * 1024;
        byte* buffer = stackalloc byte[BufferSize];
        int fd = Posix.Descriptor(directory);
        while (true)
        {
            nint read = SyscallNative(s_getdents64, fd, buffer, BufferSize);
            if (read < 0)
            {
                errno = Marshal.GetLastPInvokeError();
                return false;
            }

            if (read == 0)
            {
                errno = 0;
                return true;
            }

            // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated, padded).
            for (nint at = 0; at < read;)
            {
                byte* record = buffer + at;
                int length = *(ushort*)(record + 16);
                var name = new ReadOnlySpan<byte>(record + DirentNameOffset, length - DirentNameOffset);
                name = name[..name.IndexOf((byte)0)];
                if (name is not ([(byte)'.'] or [(byte)'.', (byte)'.']))
                {
                    names.Add(name, *(ulong*)record);
                }

                at += length;
            }
        }
    }

    /// <summary>statx of the NUL-terminated name at <paramref name="name"/> relative to <paramref name="directory"/>,
    /// without following a final link (<see cref="DirectoryNames.StatAt"/>): 0 or the errno.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int StatAtRaw(SafeFileHandle directory, byte* name, out StatInfo info)
    {
        byte* buffer = stackalloc byte[256];
        if (StatxRawNative(Posix.Descriptor(directory), name, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            info = default;
            return Marshal.GetLastPInvokeError();
        }

        info = ReadStatx(buffer);
        return 0;
    }

    /// <summary>Reads an opened directory stream to its end and closes it.</summary>
    private static unsafe List<(string Name, byte Type)>? ReadNames(nint directory, out int errno)
    {
        try
        {
            var names = new List<(string, byte)>();
            while (true)
            {
                nint entry = ReaddirNative(directory);
                if (entry == 0)
                {
                    // The end, or an error: readdir leaves errno alone at the end (the stub cleared it before the call).
                    errno = Marshal.GetLastPInvokeError();
                    return errno == 0 ? names : null;
                }

                byte* name = (byte*)entry + DirentNameOffset;
                var bytes = new ReadOnlySpan<byte>(name, checked((int)StrlenNative((nint)name)));
                if (bytes is [(byte)'.'] or [(byte)'.', (byte)'.'])
                {
                    continue;
                }

                names.Add((NameCodec.Decode(bytes), *((byte*)entry + DirentTypeOffset)));
            }
        }
        finally
        {
            _ = ClosedirNative(directory);
        }
    }
}
