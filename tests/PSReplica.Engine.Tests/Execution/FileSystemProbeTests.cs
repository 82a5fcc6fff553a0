using System.Diagnostics;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>The probe that measures a destination file system of a type the table does not know: on this machine's own
/// file system it finds everything held, on a FAT image (fusefat, root only) exactly what the table says of FAT, and it
/// leaves nothing behind either way. The type of a mount is read from the mount table by device.</summary>
public sealed class FileSystemProbeTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void A_native_file_system_measures_as_holding_everything_and_keeps_nothing_of_the_probe()
    {
        Directory.CreateDirectory(_tree.Destination);
        FileSystemTraits measured = FileSystemProbe.Measure(_tree.Destination, FileSystemTraits.Full with { Type = "test" })
            ?? throw new InvalidOperationException("no probe");

        Assert.Equal("measured", measured.Source);
        Assert.Equal(1, measured.TimeGranularity);
        Assert.True(measured.Permissions && measured.Owners && measured.SymbolicLinks && measured.HardLinks && measured.CaseSensitive);
        Assert.Empty(Directory.GetFileSystemEntries(_tree.Destination));
    }

    [Fact]
    public void The_mount_table_names_the_type_of_a_directory_s_device()
    {
        Directory.CreateDirectory(_tree.Destination);
        StatInfo stat = TestTree.Stat(_tree.Destination);
        // findmnt (util-linux) finds the mount by the path; the probe by the device the directory is on.
        string expected = TestTree.Run("findmnt", "-n", "-o", "FSTYPE", "-T", _tree.Destination).Trim();

        Assert.Equal(expected, FileSystemProbe.TypeOf(stat.Device));
    }

    [Fact]
    public void A_fat_image_measures_as_the_table_says()
    {
        if (!Posix.IsElevated || !TestTree.HasProgram("fusefat") || !TestTree.HasProgram("mkfs.vfat"))
        {
            Assert.Fail("This test needs root, fusefat and mkfs.vfat (.ci/run installs Debian's fusefat and dosfstools).");
        }

        string image = Path.Join(_tree.Root, "fat.img");
        string mount = Path.Join(_tree.Root, "fat");
        Directory.CreateDirectory(mount);
        TestTree.Run("truncate", "-s", "32M", image);
        TestTree.Run("mkfs.vfat", image);
        TestTree.Run("fusefat", "-o", "rw+", image, mount);
        try
        {
            FileSystemTraits measured = FileSystemProbe.Measure(mount, FileSystemTraits.Full with { Type = "fuse.fusefat" })
                ?? throw new InvalidOperationException("no probe");
            FileSystemTraits known = FileSystemTraits.Known("fuse.fusefat")!;

            Assert.Equal(known.TimeGranularity, measured.TimeGranularity);
            Assert.Equal((known.Owners, known.Permissions, known.SymbolicLinks, known.HardLinks, known.CaseSensitive),
                (measured.Owners, measured.Permissions, measured.SymbolicLinks, measured.HardLinks, measured.CaseSensitive));
            Assert.Equal("fuse.fusefat", FileSystemProbe.TypeOf(TestTree.Stat(mount).Device));
            Assert.Empty(Directory.GetFileSystemEntries(mount));
        }
        finally
        {
            using Process unmount = Process.Start("fusermount", ["-u", mount]);
            unmount.WaitForExit();
        }
    }
}
