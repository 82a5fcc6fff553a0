namespace PSReplica.Engine.Tests;

/// <summary>A small directory of the test's own on another file system than the test trees (in /dev/shm, a tmpfs): a
/// link to it with -CopyLinks is a mount point to -OneFileSystem, as rsync -xL treats one, with nothing mounted. It holds
/// one file, so a walk that wrongly goes through the link finds that file and nothing else (a test's link to /proc once
/// led a helper, through /proc/PID/cwd, over the whole machine).</summary>
internal sealed class OtherFileSystem : IDisposable
{
    private static readonly Lazy<OtherFileSystem> s_shared = new(() =>
    {
        var shared = new OtherFileSystem("psr-otherfs-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => shared.Dispose();
        return shared;
    });

    public OtherFileSystem()
        : this("psr-otherfs-" + Guid.NewGuid().ToString("N"))
    {
    }

    private OtherFileSystem(string name)
    {
        Path = System.IO.Path.Join("/dev/shm", name);
        Directory.CreateDirectory(Path);
        TestTree.Write(Path, "inside.txt", "on another file system\n", TestTree.BaseTime + 70);
        Assert.Equal(0, Posix.Chmod(Path, 0x1E8));
        TestTree.SetTime(Path, TestTree.BaseTime + 77, 7_000);
        Assert.True(Device(Path) != Device(System.IO.Path.GetTempPath()),
            $"{Path} is on the same file system as {System.IO.Path.GetTempPath()}: the -OneFileSystem tests need /dev/shm to be another one");
    }

    /// <summary>One for the whole test run (the scenario matrix links to it from every copy of its tree); removed at exit.</summary>
    public static OtherFileSystem Shared => s_shared.Value;

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static ulong Device(string path)
    {
        Assert.Equal(0, Posix.Stat(path, follow: true, out StatInfo info));
        return info.Device;
    }
}
