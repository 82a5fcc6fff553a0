using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Native;

/// <summary>Extended attributes (listxattr, getxattr, setxattr, removexattr). A name is never resolved through a link:
/// paths use the l* calls, which act on a final link itself, and an item the receiver opened is reached by its
/// descriptor (f* calls for a descriptor open for I/O; an O_PATH descriptor, which the f* calls refuse, through
/// <c>/proc/self/fd/N</c>, a magic link that leads to exactly the inode opened, never to a name swapped meanwhile). Linux
/// only: the portable backend has none (EOPNOTSUPP), and runs that ask for them are refused before they start.</summary>
internal static partial class Posix
{
    public const int ENODATA = 61;
    public const int ERANGE = 34;
    public const int E2BIG = 7;

    /// <summary>Linux's bound on one value (XATTR_SIZE_MAX).</summary>
    public const int XattrSizeMax = 64 << 10;

    /// <summary>Linux's bound on a list of names (XATTR_LIST_MAX).</summary>
    public const int XattrListMax = 64 << 10;

    [LibraryImport("libc", EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial nint LlistxattrNative(string path, byte* list, nuint size);

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial nint LgetxattrNative(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "listxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial nint ListxattrNative(string path, byte* list, nuint size);

    [LibraryImport("libc", EntryPoint = "getxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial nint GetxattrNative(string path, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "setxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial int SetxattrNative(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "removexattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int RemovexattrNative(string path, string name);

    [LibraryImport("libc", EntryPoint = "flistxattr", SetLastError = true)]
    private static unsafe partial nint FlistxattrNative(int fd, byte* list, nuint size);

    [LibraryImport("libc", EntryPoint = "fgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial nint FgetxattrNative(int fd, string name, byte* value, nuint size);

    [LibraryImport("libc", EntryPoint = "fsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static unsafe partial int FsetxattrNative(int fd, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "fremovexattr", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int FremovexattrNative(int fd, string name);

    /// <summary>Where extended attributes are read or written: a path whose final link is not followed, a descriptor open
    /// for I/O, or an O_PATH descriptor of a file or directory.</summary>
    internal readonly struct XattrTarget
    {
        private readonly string? _path;
        private readonly int _fd;
        private readonly bool _noFollow;

        private XattrTarget(string? path, int fd, bool noFollow)
        {
            _path = path;
            _fd = fd;
            _noFollow = noFollow;
        }

        /// <summary>A path; a final link is the link itself (l* calls).</summary>
        public static XattrTarget Path(string path) => new(path, -1, noFollow: true);

        /// <summary>A descriptor open for reading or writing (f* calls).</summary>
        public static XattrTarget Open(SafeFileHandle file) => new(null, Descriptor(file), noFollow: false);

        /// <summary>An O_PATH descriptor of a file or directory (never a link): its /proc/self/fd magic link.</summary>
        public static XattrTarget PathHandle(SafeFileHandle handle) => new(DescriptorPath(handle), -1, noFollow: false);

        /// <summary>The names, NUL-separated, or the errno (negative).</summary>
        public unsafe int List(Span<byte> buffer)
        {
            if (!Linux)
            {
                return -EOPNOTSUPP;
            }

            fixed (byte* p = buffer)
            {
                nint n = _path is null ? FlistxattrNative(_fd, p, (nuint)buffer.Length)
                    : _noFollow ? LlistxattrNative(_path, p, (nuint)buffer.Length)
                    : ListxattrNative(_path, p, (nuint)buffer.Length);
                return n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
            }
        }

        /// <summary>One value's length, or the errno (negative).</summary>
        public unsafe int Get(string name, Span<byte> buffer)
        {
            if (!Linux)
            {
                return -EOPNOTSUPP;
            }

            fixed (byte* p = buffer)
            {
                nint n = _path is null ? FgetxattrNative(_fd, name, p, (nuint)buffer.Length)
                    : _noFollow ? LgetxattrNative(_path, name, p, (nuint)buffer.Length)
                    : GetxattrNative(_path, name, p, (nuint)buffer.Length);
                return n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
            }
        }

        /// <summary>Sets one value; 0 or the errno. Paths given by name are never written (the receiver writes through
        /// descriptors only).</summary>
        public unsafe int Set(string name, ReadOnlySpan<byte> value)
        {
            if (!Linux)
            {
                return EOPNOTSUPP;
            }

            if (_noFollow)
            {
                throw new InvalidOperationException("Extended attributes are written through descriptors only.");
            }

            fixed (byte* p = value)
            {
                // A non-null pointer even for an empty value.
                byte empty = 0;
                byte* data = value.Length == 0 ? &empty : p;
                int r = _path is null ? FsetxattrNative(_fd, name, data, (nuint)value.Length, 0) : SetxattrNative(_path, name, data, (nuint)value.Length, 0);
                return r == 0 ? 0 : Marshal.GetLastPInvokeError();
            }
        }

        /// <summary>Removes one value; 0 or the errno.</summary>
        public int Remove(string name)
        {
            if (!Linux)
            {
                return EOPNOTSUPP;
            }

            if (_noFollow)
            {
                throw new InvalidOperationException("Extended attributes are written through descriptors only.");
            }

            int r = _path is null ? FremovexattrNative(_fd, name) : RemovexattrNative(_path, name);
            return r == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }
}
