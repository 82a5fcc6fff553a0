using System.Diagnostics;

namespace PSReplica.Engine.Tests;

/// <summary>A file-system image on a loop device mounted through a FUSE driver, as a USB disk is (exfat-fuse takes only a
/// block device): root only. Dispose unmounts it and detaches the loop, whatever the test did.</summary>
internal sealed class LoopImage : IDisposable
{
    private LoopImage(string directory, string name, string driver, params string[] format)
    {
        if (!Native.Posix.IsElevated || !TestTree.HasProgram(format[0]) || !TestTree.HasProgram(driver) || !File.Exists("/dev/fuse"))
        {
            Assert.Fail($"This test needs root, /dev/fuse, {format[0]} and {driver} (.ci/run installs Debian's exfatprogs, exfat-fuse and ntfs-3g).");
        }

        string image = Path.Join(directory, name + ".img");
        Mount = Path.Join(directory, name);
        Directory.CreateDirectory(Mount);
        TestTree.Run("truncate", "-s", "16M", image);
        TestTree.Run(format[0], [.. format[1..], image]);
        Device = TestTree.Run("losetup", "--find", "--show", image).Trim();
        try
        {
            TestTree.Run(driver, Device, Mount);
        }
        catch
        {
            Quietly("losetup", "-d", Device);
            throw;
        }
    }

    /// <summary>An exFAT image through exfat-fuse (mount.exfat-fuse).</summary>
    public static LoopImage Exfat(string directory) => new(directory, "exfat", "mount.exfat-fuse", "mkfs.exfat");

    /// <summary>An NTFS image through ntfs-3g (mkntfs: -F for a file, -Q not to zero it).</summary>
    public static LoopImage Ntfs(string directory) => new(directory, "ntfs", "ntfs-3g", "mkntfs", "-F", "-Q");

    public string Mount { get; }

    /// <summary>The loop device, e.g. /dev/loop0.</summary>
    public string Device { get; }

    public void Dispose()
    {
        Quietly("umount", Mount);
        // A loop its FUSE daemon still holds is detached when it lets go (losetup -d sets autoclear).
        Quietly("losetup", "-d", Device);
    }

    private static void Quietly(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        process.WaitForExit();
    }
}
