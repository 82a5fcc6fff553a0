using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>The boot sector names the file system of a FUSE mount the kernel calls only "fuseblk" (exfat-fuse, ntfs-3g):
/// images made by the real mkfs tools are told apart, anything else is nothing, and a source that is neither a block device
/// nor a regular file (a FIFO, a daemon's free-form name) is never opened. On a mounted loop device the mount table's
/// type carries the name.</summary>
public sealed class BootSectorTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    /// <summary>The type a run finds (Detect reads the mount table afresh: another test's mount may have had this device
    /// number before).</summary>
    private static string TypeAt(string mount) => FileSystemProbe.Detect(mount, TestTree.Stat(mount).Device, measure: false).Type;

    [Theory]
    [InlineData("mkfs.exfat", "exfat")]
    [InlineData("mkntfs", "ntfs")]
    [InlineData("mkfs.vfat", null)]
    public void An_image_s_boot_sector_names_exfat_and_ntfs_and_nothing_else(string mkfs, string? expected)
    {
        Assert.True(TestTree.HasProgram(mkfs), $"This test needs {mkfs} (.ci/run installs exfatprogs, ntfs-3g and dosfstools).");
        string image = Path.Join(_tree.Root, mkfs + ".img");
        TestTree.Run("truncate", "-s", "8M", image);
        TestTree.Run(mkfs, mkfs == "mkntfs" ? ["-F", "-Q", image] : [image]);

        Assert.Equal(expected, BootSector.FileSystemOf(image));
    }

    [Fact]
    public void A_fifo_a_free_form_source_and_a_missing_path_are_nothing_and_never_block()
    {
        string fifo = Path.Join(_tree.Root, "fifo");
        TestTree.Run("mkfifo", fifo);

        Assert.Null(BootSector.FileSystemOf(fifo));
        Assert.Null(BootSector.FileSystemOf("user@host:/srv"));
        Assert.Null(BootSector.FileSystemOf(Path.Join(_tree.Root, "missing")));
    }

    [Fact]
    public void The_mount_table_names_an_exfat_and_an_ntfs_loop_mount_by_their_boot_sectors()
    {
        using LoopImage exfat = LoopImage.Exfat(_tree.Root);
        using LoopImage ntfs = LoopImage.Ntfs(_tree.Root);

        Assert.Equal("fuseblk.exfat", TypeAt(exfat.Mount));
        Assert.Equal("fuseblk.ntfs", TypeAt(ntfs.Mount));
    }

    [Fact]
    public void Ntfs_3g_on_an_image_file_is_named_by_the_file_s_boot_sector()
    {
        Assert.True(Posix.IsElevated && TestTree.HasProgram("mkntfs") && TestTree.HasProgram("ntfs-3g"), "This test needs root, mkntfs and ntfs-3g.");
        string image = Path.Join(_tree.Root, "ntfs.img");
        string mount = Path.Join(_tree.Root, "ntfs");
        Directory.CreateDirectory(mount);
        TestTree.Run("truncate", "-s", "8M", image);
        TestTree.Run("mkntfs", "-F", "-Q", image);
        // Without a block device ntfs-3g's mount is plain "fuse", its source the image's path.
        TestTree.Run("ntfs-3g", image, mount);
        try
        {
            Assert.Equal("fuse.ntfs", TypeAt(mount));
        }
        finally
        {
            TestTree.Run("umount", mount);
        }
    }

    [Fact]
    public void A_device_that_holds_another_file_system_now_is_detected_afresh()
    {
        using LoopImage disk = LoopImage.Exfat(_tree.Root);
        ulong number = TestTree.Stat(disk.Mount).Device;
        Assert.Equal("fuseblk.exfat", FileSystemProbe.Detect(disk.Mount, number, measure: false).Type);
        Assert.Equal(AttributeFields.Uid | AttributeFields.Gid | AttributeFields.Mode, FileSystemProbe.Unheld(number));

        // The same device with another file system, as /dev/sdb1 is when another disk is plugged in.
        TestTree.Run("umount", disk.Mount);
        TestTree.Run("mkfs.ext4", "-q", "-F", disk.Device);
        TestTree.Run("mount", disk.Device, disk.Mount);
        Assert.Equal(number, TestTree.Stat(disk.Mount).Device);

        Assert.Equal("ext4", FileSystemProbe.Detect(disk.Mount, number, measure: false).Type);
        // And what a receiver leaves out by the device (remembered per device between runs) with it.
        Assert.Equal(AttributeFields.None, FileSystemProbe.Unheld(number));
    }
}
