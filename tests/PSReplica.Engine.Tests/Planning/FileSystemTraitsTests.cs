using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Tests.Planning;

/// <summary>The planner against a destination file system that cannot hold everything (FAT, as the lister reports it):
/// times compared at its 2 s granularity unless -ModifyWindow is given, an exact hour apart equal with
/// -IgnoreDaylightSavingShift, owners and permissions neither compared nor said per item but once as a warning, a
/// symbolic link an error of its own (SymbolicLinkUnsupported), and two source names that fold to one (case, Unicode
/// normalisation) an error naming both, with neither planned and the destination's copy of that name never deleted.
/// Where the file system holds everything, nothing changes.</summary>
public sealed class FileSystemTraitsTests : IDisposable
{
    private static readonly FileSystemTraits Fat = FileSystemTraits.Known("vfat")!;

    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private (SyncPlan Plan, RecordingObserver Observer) Plan(SyncOptions options, FileSystemTraits traits)
    {
        var observer = new RecordingObserver { WantsVerbose = true };
        FileEntry? destination = LocalReplicator.ResolveDestination(_tree.Destination);
        SyncPlan plan = SyncPlanner.Build(options, SourceSet.Resolve(options), _tree.Destination, destination, observer, CancellationToken.None,
            null, new TraitsLister(traits));
        return (plan, observer);
    }

    private static string[] Lines(SyncPlan plan) => plan.Items.Select(i => i.Itemize + " " + i.RelativePath).ToArray();

    [Fact]
    public void Times_within_fat_granularity_are_equal_unless_ModifyWindow_is_given()
    {
        _tree.Src("a.jpg", "a");
        _tree.Dst("a.jpg", "a");
        TestTree.SetTime(Path.Join(_tree.Source, "a.jpg"), TestTree.BaseTime + 3, 700_000_000);
        TestTree.SetTime(Path.Join(_tree.Destination, "a.jpg"), TestTree.BaseTime + 2);
        TestTree.SetTime(_tree.Source, TestTree.BaseTime);
        TestTree.SetTime(_tree.Destination, TestTree.BaseTime);

        Assert.Empty(Lines(Plan(_tree.Options(), Fat).Plan));
        Assert.Equal([">f..t...... a.jpg"], Lines(Plan(_tree.Options(), FileSystemTraits.Full).Plan));
        Assert.Equal([">f..t...... a.jpg"], Lines(Plan(_tree.Options() with { ModifyWindow = 0 }, Fat).Plan));

        // Two seconds apart is a change even on FAT.
        TestTree.SetTime(Path.Join(_tree.Destination, "a.jpg"), TestTree.BaseTime + 1, 600_000_000);
        Assert.Equal([">f..t...... a.jpg"], Lines(Plan(_tree.Options(), Fat).Plan));
    }

    [Fact]
    public void An_exact_hour_apart_is_equal_with_IgnoreDaylightSavingShift_only()
    {
        _tree.Src("a.jpg", "a");
        _tree.Dst("a.jpg", "a");
        TestTree.SetTime(Path.Join(_tree.Source, "a.jpg"), TestTree.BaseTime + 3600 + 1);
        TestTree.SetTime(Path.Join(_tree.Destination, "a.jpg"), TestTree.BaseTime);
        TestTree.SetTime(_tree.Source, TestTree.BaseTime);
        TestTree.SetTime(_tree.Destination, TestTree.BaseTime);

        Assert.Equal([">f..t...... a.jpg"], Lines(Plan(_tree.Options(), Fat).Plan));
        Assert.Empty(Lines(Plan(_tree.Options() with { IgnoreDaylightSavingShift = true }, Fat).Plan));

        // Not everything within the hour: 30 minutes apart is still a change.
        TestTree.SetTime(Path.Join(_tree.Source, "a.jpg"), TestTree.BaseTime + 1800);
        Assert.Equal([">f..t...... a.jpg"], Lines(Plan(_tree.Options() with { IgnoreDaylightSavingShift = true }, Fat).Plan));
    }

    [Fact]
    public void Owners_and_permissions_are_said_once_and_never_planned()
    {
        _tree.Src("a", "a");
        _tree.Src("b", "b");
        _tree.Dst("a", "a");
        _tree.Dst("b", "b");
        Assert.Equal(0, Native.Posix.Chmod(Path.Join(_tree.Destination, "a"), 0x1C0));
        Assert.Equal(0, Native.Posix.Chmod(Path.Join(_tree.Destination, "b"), 0x1C0));
        TestTree.Freeze(_tree.Source);
        TestTree.Freeze(_tree.Destination);
        SyncOptions options = _tree.Options() with { Preserve = PreserveOptions.Times | PreserveOptions.Permissions | PreserveOptions.Owner | PreserveOptions.Group | PreserveOptions.Links };

        (SyncPlan plan, RecordingObserver observer) = Plan(options, Fat);

        Assert.Empty(Lines(plan));
        Assert.Empty(observer.Errors);
        Assert.Equal(2, observer.Warnings.Count);
        Assert.Contains(observer.Warnings, w => w.Contains("(vfat) cannot hold owners", StringComparison.Ordinal));
        Assert.Contains(observer.Warnings, w => w.Contains("(vfat) cannot hold permissions", StringComparison.Ordinal));
        Assert.Contains(observer.Verbose, v => v.StartsWith("Destination file system at ", StringComparison.Ordinal) && v.Contains("times kept to 2 s, no owners", StringComparison.Ordinal));
        Assert.Equal([".f...p..... a", ".f...p..... b"], Lines(Plan(options, FileSystemTraits.Full).Plan));
    }

    [Fact]
    public void A_symbolic_link_is_an_error_of_its_own_and_nothing_is_tried()
    {
        _tree.Src("target", "t");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "link"), "target");
        TestTree.Freeze(_tree.Source);

        (SyncPlan plan, RecordingObserver observer) = Plan(_tree.Options(), Fat);

        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.SymbolicLinkUnsupported, error.ErrorId);
        Assert.Equal("link", error.Target);
        Assert.DoesNotContain(plan.Items, i => i.RelativePath == "link");
        Assert.Contains(plan.Items, i => i.RelativePath == "target");
    }

    [Theory]
    [InlineData("README.TXT", "Readme.txt")]
    [InlineData("caf\u00e9", "CAFE\u0301")]
    public void Names_that_fold_to_one_are_an_error_naming_both_and_neither_is_written(string first, string second)
    {
        _tree.Src("dir/" + first, "one");
        _tree.Src("dir/" + second, "two");
        _tree.Src("dir/other", "o");
        _tree.Dst("dir/" + first.ToLowerInvariant(), "older");
        TestTree.Freeze(_tree.Source);
        TestTree.Freeze(_tree.Destination);

        (SyncPlan plan, RecordingObserver observer) = Plan(_tree.Options(delete: true), Fat);

        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.CaseCollision, error.ErrorId);
        Assert.Contains($"'dir/{first}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'dir/{second}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'dir'", error.Message, StringComparison.Ordinal);
        // Neither name is written, and the destination's file of that name is not deleted as extraneous.
        Assert.Equal([">f+++++++++ dir/other"], Lines(plan));

        // A case-sensitive destination takes both.
        (SyncPlan full, RecordingObserver fine) = Plan(_tree.Options(delete: true), FileSystemTraits.Full);
        Assert.Empty(fine.Errors);
        Assert.Contains(full.Items, i => i.RelativePath == "dir/" + first);
        Assert.Contains(full.Items, i => i.RelativePath == "dir/" + second && i.Action == SyncAction.Create);
    }

    [Fact]
    public void A_name_windows_forbids_is_an_error_of_its_own_and_a_directory_s_subtree_is_not_planned()
    {
        _tree.Src("ok.txt", "ok");
        _tree.Src("a:b.txt", "colon");
        _tree.Src("nul.txt", "device");
        _tree.Src("trailing./inside.txt", "below a dot");
        _tree.Src("sub/fine.txt", "fine");
        _tree.Src("sub/LPT1", "device");
        TestTree.Freeze(_tree.Source);

        (SyncPlan plan, RecordingObserver observer) = Plan(_tree.Options(), Fat);

        Assert.Equal(["a:b.txt", "nul.txt", "sub/LPT1", "trailing."], observer.Errors.Select(e => e.Target).Order(StringComparer.Ordinal));
        Assert.All(observer.Errors, e => Assert.Equal(ErrorIds.ForbiddenName, e.ErrorId));
        SyncException directory = Assert.Single(observer.Errors, e => e.Target == "trailing.");
        Assert.Equal("The destination's file system (vfat) takes only names Windows allows, and 'trailing.' is not one (it ends in a dot): "
            + "it and all it holds are not written. Rename it in the source.", directory.Message);
        Assert.Contains("(it holds the character ':'): it is not written", Assert.Single(observer.Errors, e => e.Target == "a:b.txt").Message, StringComparison.Ordinal);
        Assert.Equal(["cd+++++++++ .", ">f+++++++++ ok.txt", "cd+++++++++ sub", ">f+++++++++ sub/fine.txt"], Lines(plan));

        // A destination that holds any name takes them all.
        (SyncPlan full, RecordingObserver fine) = Plan(_tree.Options(), FileSystemTraits.Full);
        Assert.Empty(fine.Errors);
        Assert.Contains(full.Items, i => i.RelativePath == "trailing./inside.txt");
        Assert.Contains(full.Items, i => i.RelativePath == "a:b.txt");
    }

    [Fact]
    public void A_forbidden_name_the_destination_already_holds_is_neither_deleted_nor_updated()
    {
        // fusefat and ntfs-3g store such names, so an earlier run (or another tool) may have written one.
        _tree.Src("nul.txt", "new");
        _tree.Src("keep.", "new");
        _tree.Dst("nul.txt", "old");
        _tree.Dst("keep.", "old");
        _tree.Dst("gone:now", "extraneous");
        _tree.FreezeBoth();

        foreach (FileSystemTraits traits in new[] { Fat, FileSystemTraits.Known("ntfs3")! })
        {
            (SyncPlan plan, RecordingObserver observer) = Plan(_tree.Options(delete: true), traits);

            Assert.Equal(["keep.", "nul.txt"], observer.Errors.Select(e => e.Target).Order(StringComparer.Ordinal));
            Assert.Equal(["*deleting   gone:now"], Lines(plan));
        }
    }

    [Fact]
    public void A_name_in_another_case_is_the_same_file_on_a_case_insensitive_destination()
    {
        _tree.Src("IMG_0001.JPG", "new content");
        _tree.Dst("img_0001.jpg", "old");
        TestTree.Freeze(_tree.Source);
        TestTree.Freeze(_tree.Destination);

        (SyncPlan plan, RecordingObserver observer) = Plan(_tree.Options(delete: true), Fat);

        Assert.Empty(observer.Errors);
        Assert.Equal([">f.s....... IMG_0001.JPG"], Lines(plan));
    }

    [Fact]
    public void The_granularity_comes_from_a_probe_time_read_back()
    {
        long set = (1_234_567_891L * 1_000_000_000) + 123_456_789;
        Assert.Equal(1, FileSystemTraits.GranularityOf(set, set));
        Assert.Equal(100, FileSystemTraits.GranularityOf(set, set - 89));
        Assert.Equal(1_000, FileSystemTraits.GranularityOf(set, set - 789));
        Assert.Equal(10_000_000, FileSystemTraits.GranularityOf(set, set - 3_456_789));
        Assert.Equal(1_000_000_000, FileSystemTraits.GranularityOf(set, set - 123_456_789));
        Assert.Equal(2_000_000_000, FileSystemTraits.GranularityOf(set, set - 1_123_456_789));
    }

    /// <summary>Lists the local destination, and says its file system has <paramref name="traits"/>.</summary>
    private sealed class TraitsLister(FileSystemTraits traits) : ITreeLister
    {
        public List<FileEntry> List(string fullPath, string relative) => LocalTreeLister.Instance.List(fullPath, relative);

        public FileSystemTraits Traits(string fullPath, ulong? device, bool measure) => traits;
    }
}
