using System.Runtime.InteropServices;
using System.Text;

namespace PSReplica.Engine.Tests;

/// <summary>Makes and checks items by the exact bytes of their names, beside the engine (its own calls are what the tests
/// check): libc with byte arrays, no string marshalling.</summary>
internal static partial class RawNames
{
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int OpenNative(byte[] path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteNative(int fd, byte[] data, nuint length);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadNative(int fd, byte[] data, nuint length);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseNative(int fd);

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true)]
    private static partial int MkdirNative(byte[] path, uint mode);

    [LibraryImport("libc", EntryPoint = "symlink", SetLastError = true)]
    private static partial int SymlinkNative(byte[] target, byte[] path);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true)]
    private static partial int LinkNative(byte[] existing, byte[] path);

    [LibraryImport("libc", EntryPoint = "readlink", SetLastError = true)]
    private static partial nint ReadlinkNative(byte[] path, byte[] buffer, nuint size);

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true)]
    private static partial int AccessNative(byte[] path, int mode);

    /// <summary>A directory path and a relative name of bytes, NUL-terminated.</summary>
    public static byte[] Path(string directory, byte[] relative) => [.. Encoding.UTF8.GetBytes(directory + "/"), .. relative, 0];

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static void WriteFile(string directory, byte[] relative, string content)
    {
        int fd = OpenNative(Path(directory, relative), 0x41 | 0x200, 0x1A4); // O_WRONLY | O_CREAT | O_TRUNC, 0644
        Assert.True(fd >= 0, $"open: errno {Marshal.GetLastPInvokeError()}");
        byte[] data = Encoding.UTF8.GetBytes(content);
        Assert.Equal(data.Length, (int)WriteNative(fd, data, (nuint)data.Length));
        _ = CloseNative(fd);
    }

    public static string ReadFile(string directory, byte[] relative)
    {
        int fd = OpenNative(Path(directory, relative), 0, 0);
        Assert.True(fd >= 0, $"open {Convert.ToHexString(relative)}: errno {Marshal.GetLastPInvokeError()}");
        byte[] buffer = new byte[4096];
        int n = (int)ReadNative(fd, buffer, (nuint)buffer.Length);
        _ = CloseNative(fd);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    public static void MakeDirectory(string directory, byte[] relative) =>
        Assert.Equal(0, MkdirNative(Path(directory, relative), 0x1ED));

    public static void MakeLink(string directory, byte[] relative, byte[] target) =>
        Assert.Equal(0, SymlinkNative([.. target, 0], Path(directory, relative)));

    public static void MakeHardLink(string directory, byte[] existing, byte[] relative) =>
        Assert.Equal(0, LinkNative(Path(directory, existing), Path(directory, relative)));

    public static byte[] ReadLink(string directory, byte[] relative)
    {
        byte[] buffer = new byte[4096];
        nint n = ReadlinkNative(Path(directory, relative), buffer, (nuint)buffer.Length);
        Assert.True(n >= 0, $"readlink {Convert.ToHexString(relative)}: errno {Marshal.GetLastPInvokeError()}");
        return buffer[..(int)n];
    }

    public static bool Exists(string directory, byte[] relative) => AccessNative(Path(directory, relative), 0) == 0;

    /// <summary>Removes a test tree that holds such names (System.IO's recursive delete cannot open them, and with a
    /// look-alike beside one it would remove the wrong item).</summary>
    public static void Remove(string root) => TestTree.Run("/bin/rm", "-rf", "--", root);
}

/// <summary>Removes a tree that holds names that are not UTF-8 when disposed (<see cref="RawNames.Remove"/>).</summary>
internal sealed class RawTreeCleanup(string root) : IDisposable
{
    public void Dispose() => RawNames.Remove(root);
}
