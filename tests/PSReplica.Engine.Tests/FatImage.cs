using System.Diagnostics;

namespace PSReplica.Engine.Tests;

/// <summary>A FAT image mounted through fusefat, as a USB stick or a camera card is (root only). Dispose unmounts it,
/// whatever the test did.</summary>
internal sealed class FatImage : IDisposable
{
    public FatImage(string directory)
    {
        if (!Native.Posix.IsElevated || !TestTree.HasProgram("fusefat") || !TestTree.HasProgram("mkfs.vfat"))
        {
            Assert.Fail("This test needs root, fusefat and mkfs.vfat (.ci/run installs Debian's fusefat and dosfstools).");
        }

        string image = Path.Join(directory, "fat.img");
        Mount = Path.Join(directory, "fat");
        Directory.CreateDirectory(Mount);
        TestTree.Run("truncate", "-s", "32M", image);
        TestTree.Run("mkfs.vfat", image);
        TestTree.Run("fusefat", "-o", "rw+", image, Mount);
    }

    public string Mount { get; }

    public void Dispose()
    {
        using Process unmount = Process.Start("fusermount", ["-u", Mount])!;
        unmount.WaitForExit();
    }
}
