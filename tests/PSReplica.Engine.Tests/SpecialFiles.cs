using System.Net.Sockets;

namespace PSReplica.Engine.Tests;

/// <summary>Devices, FIFOs and sockets for tests, made by the system's own tools (mknod, mkfifo) or a bound socket, so that
/// what is checked is never made by the code under test. Devices need root (tests run as root in CI).</summary>
internal static class SpecialFiles
{
    /// <summary>/dev/null's numbers: a character device every Linux has.</summary>
    public const ulong NullDevice = (1UL << 32) | 3;

    /// <summary>A loop device's numbers (block major 7): made, never opened.</summary>
    public const ulong LoopDevice = (7UL << 32) | 200;

    /// <summary>/dev/zero's numbers.</summary>
    public const ulong ZeroDevice = (1UL << 32) | 5;

    public static string Fifo(string path, int mode = 0x1A4, long? seconds = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        TestTree.Run("mkfifo", "-m", Convert.ToString(mode, 8), path);
        return Finish(path, seconds);
    }

    public static string Device(string path, bool block, ulong rdev, int mode = 0x1A0, long? seconds = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        TestTree.Run("mknod", "-m", Convert.ToString(mode, 8), path, block ? "b" : "c", (rdev >> 32).ToString(System.Globalization.CultureInfo.InvariantCulture),
            (rdev & 0xFFFF_FFFF).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Finish(path, seconds);
    }

    /// <summary>A socket's name: a socket is bound to a name beside it, which is hard-linked as <paramref name="path"/>
    /// before the socket is closed (.NET removes the name it bound on close).</summary>
    public static string Socket(string path, int mode = 0x1ED, long? seconds = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string bound = path + ".bound";
        using (var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(bound));
            TestTree.Run("ln", "--", bound, path);
        }

        if (File.Exists(bound) || Posix.Stat(bound, follow: false, out _) == 0)
        {
            File.Delete(bound);
        }

        Assert.Equal(0, Posix.Chmod(path, mode));
        return Finish(path, seconds);
    }

    private static string Finish(string path, long? seconds)
    {
        if (seconds is { } t)
        {
            TestTree.SetTime(path, t, 250_000_000);
        }

        return path;
    }
}
