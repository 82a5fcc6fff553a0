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
        TestTree.SetTime(_tree.Destination, TestTree.BaseTime + 5, 123_456_789);
        FileSystemTraits measured = Measure(_tree.Destination, FileSystemTraits.Full with { Type = "test" })
            ?? throw new InvalidOperationException("no probe");

        Assert.Equal("measured", measured.Source);
        Assert.Equal(1, measured.TimeGranularity);
        Assert.True(measured.Permissions && measured.Owners && measured.SymbolicLinks && measured.HardLinks && measured.CaseSensitive
            && measured.RenameKeepsTimes);
        Assert.Empty(Directory.GetFileSystemEntries(_tree.Destination));
        // The directory's time, which the probe's files changed, is set back: the next run finds nothing to do there.
        StatInfo after = TestTree.Stat(_tree.Destination);
        Assert.Equal((TestTree.BaseTime + 5, 123_456_789u), (after.MtimeSeconds, after.MtimeNanoseconds));
    }

    private static FileSystemTraits? Measure(string directory, FileSystemTraits assumed)
    {
        using Microsoft.Win32.SafeHandles.SafeFileHandle handle = Posix.Open(directory, Posix.ORdOnly | Posix.ODirectory | Posix.ONoFollow, 0, out int errno)
            ?? throw new IOException($"cannot open {directory}: {errno}");
        return FileSystemProbe.Measure(handle, assumed);
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
        using var fat = new FatImage(_tree.Root);
        string mount = fat.Mount;
        FileSystemTraits measured = Measure(mount, FileSystemTraits.Full with { Type = "fuse.fusefat" })
            ?? throw new InvalidOperationException("no probe");
        FileSystemTraits known = FileSystemTraits.Known("fuse.fusefat")!;

        Assert.Equal(known.TimeGranularity, measured.TimeGranularity);
        Assert.Equal((known.Owners, known.Permissions, known.SymbolicLinks, known.HardLinks, known.CaseSensitive, known.RenameKeepsTimes),
            (measured.Owners, measured.Permissions, measured.SymbolicLinks, measured.HardLinks, measured.CaseSensitive, measured.RenameKeepsTimes));
        Assert.Equal("fuse.fusefat", FileSystemProbe.TypeOf(TestTree.Stat(mount).Device));
        Assert.Empty(Directory.GetFileSystemEntries(mount));
    }
}
