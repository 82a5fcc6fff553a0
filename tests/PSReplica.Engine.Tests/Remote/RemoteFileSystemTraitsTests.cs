using PSReplica.Engine.Native;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>A push to an agent whose destination is a FAT image (fusefat, root only): the agent says what its file system
/// holds (DescribeFileSystem), so the controller plans as it does for a local FAT destination: no error per file, each
/// limit said once, a second run with nothing to do, two names that fold to one refused, and so are names Windows forbids
/// (the agent sends the type; the controller knows from it that names follow Windows' rules). The agent's receiver also
/// leaves out what the file system cannot hold by itself. The same push to exFAT (exfat-fuse on a loop device), which
/// the agent knows by its device's boot sector.</summary>
public sealed class RemoteFileSystemTraitsTests : IDisposable
{
    private readonly TestTree _tree = new();
    private readonly FatImage _fat;
    private readonly string _mount;

    public RemoteFileSystemTraitsTests()
    {
        _fat = new FatImage(_tree.Root);
        _mount = _fat.Mount;
    }

    public void Dispose()
    {
        _fat.Dispose();
        _tree.Dispose();
    }

    /// <summary>A camera card's tree in the source (a picture at an odd second with a fraction, two names that fold to
    /// one) and the options that ask for everything the file system cannot hold.</summary>
    private SyncOptions CardTree(string destination)
    {
        _tree.Src("DCIM/100CANON/IMG_0001.JPG", new string('a', 5000));
        _tree.Src("DCIM/100CANON/IMG_0002.JPG", new string('b', 7000));
        _tree.Src("MISC/README.TXT", "upper");
        _tree.Src("MISC/Readme.txt", "mixed");
        TestTree.SetTime(Path.Join(_tree.Source, "DCIM/100CANON/IMG_0001.JPG"), TestTree.BaseTime + 3, 700_000_000);
        return _tree.Options() with
        {
            Destination = destination,
            Preserve = PreserveOptions.Times | PreserveOptions.Permissions | PreserveOptions.Owner | PreserveOptions.Group | PreserveOptions.Links,
        };
    }

    [Fact]
    public async Task A_push_to_fat_through_the_agent_converges_with_one_warning_per_limit()
    {
        SyncOptions options = CardTree(Path.Join(_mount, "backup"));

        (_, RecordingObserver first, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        SyncException collision = Assert.Single(first.Errors);
        Assert.Equal(ErrorIds.CaseCollision, collision.ErrorId);
        Assert.Equal(2, first.Warnings.Count);
        Assert.Contains(first.Warnings, w => w.Contains("(fuse.fusefat) cannot hold owners", StringComparison.Ordinal));
        Assert.Contains(first.Warnings, w => w.Contains("(fuse.fusefat) cannot hold permissions", StringComparison.Ordinal));
        Assert.Equal(new string('a', 5000), File.ReadAllText(Path.Join(_mount, "backup/DCIM/100CANON/IMG_0001.JPG")));
        Assert.False(File.Exists(Path.Join(_mount, "backup/MISC/README.TXT")));

        (_, RecordingObserver second, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(second.Items);
        Assert.Equal(ErrorIds.CaseCollision, Assert.Single(second.Errors).ErrorId);
    }

    [Fact]
    public async Task A_push_to_fat_through_the_agent_refuses_names_windows_forbids_and_converges()
    {
        _tree.Src("ok.txt", "ok");
        _tree.Src("a:b.txt", "colon");
        _tree.Src("trailing.", "dot");
        _tree.Src("nul.txt", "device");
        SyncOptions options = _tree.Options() with { Destination = Path.Join(_mount, "names") };

        (_, RecordingObserver first, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        Assert.Equal(["a:b.txt", "nul.txt", "trailing."], first.Errors.Select(e => e.Target).Order(StringComparer.Ordinal));
        Assert.All(first.Errors, e => Assert.Equal(ErrorIds.ForbiddenName, e.ErrorId));
        Assert.Contains("(fuse.fusefat) takes only names Windows allows", first.Errors[0].Message, StringComparison.Ordinal);
        // fusefat itself would store "trailing." and "nul.txt" as given: the planner kept them out, not the driver.
        Assert.Equal(["ok.txt"], Directory.GetFileSystemEntries(options.Destination).Select(Path.GetFileName));
        Assert.Equal("ok", File.ReadAllText(Path.Join(options.Destination, "ok.txt")));

        (_, RecordingObserver second, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(second.Items);
        Assert.Equal(["a:b.txt", "nul.txt", "trailing."], second.Errors.Select(e => e.Target).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_push_to_exfat_through_the_agent_keeps_whole_seconds_and_converges()
    {
        using LoopImage disk = LoopImage.Exfat(_tree.Root);
        SyncOptions options = CardTree(Path.Join(disk.Mount, "backup"));

        (_, RecordingObserver first, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        // The agent's mount table says only "fuseblk"; the device's boot sector says exFAT.
        Assert.Equal(ErrorIds.CaseCollision, Assert.Single(first.Errors).ErrorId);
        Assert.Equal(2, first.Warnings.Count);
        Assert.Contains(first.Warnings, w => w.Contains("(fuseblk.exfat) cannot hold owners", StringComparison.Ordinal));
        Assert.Contains(first.Warnings, w => w.Contains("(fuseblk.exfat) cannot hold permissions", StringComparison.Ordinal));
        string picture = Path.Join(disk.Mount, "backup/DCIM/100CANON/IMG_0001.JPG");
        Assert.Equal(new string('a', 5000), File.ReadAllText(picture));
        // exfat-fuse keeps the odd second and drops the fraction.
        StatInfo kept = TestTree.Stat(picture);
        Assert.Equal((TestTree.BaseTime + 3, 0u), (kept.MtimeSeconds, kept.MtimeNanoseconds));

        (_, RecordingObserver second, _) = await Loopback.RunAsync(RemoteSide.Destination, options);

        Assert.Empty(second.Items);
        Assert.Equal(ErrorIds.CaseCollision, Assert.Single(second.Errors).ErrorId);
    }

    [Fact]
    public void The_agent_s_receiver_leaves_out_what_fat_cannot_hold()
    {
        Assert.Equal(PSReplica.Engine.Protocol.AttributeFields.Uid | PSReplica.Engine.Protocol.AttributeFields.Gid | PSReplica.Engine.Protocol.AttributeFields.Mode,
            FileSystemProbe.Unheld(TestTree.Stat(_mount).Device));
        Assert.Equal(PSReplica.Engine.Protocol.AttributeFields.None, FileSystemProbe.Unheld(TestTree.Stat(_tree.Root).Device));
    }
}
