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
