using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Tests.Planning;

/// <summary>-OneFileSystem (rsync -x) in the planner. Mount points are simulated by a lister that reports another device
/// for chosen directories (and everything below them), so the planner's rules are tested without mounting anything:
/// a source mount point is created empty with its own attributes and not listed; under -Delete nothing is deleted inside
/// a destination directory on another device than the destination root, and such a directory is never deleted (it keeps
/// its parents too). What rsync 3 does with a tmpfs mounted in the trees, checked by the Pester differential. A link to a
/// directory in /dev/shm with -CopyLinks is a real boundary any user can make (<see cref="OtherFileSystem"/>).</summary>
public sealed class OneFileSystemTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private (SyncPlan Plan, RecordingObserver Observer) Plan(SyncOptions options, string[] sourceMounts, string[] destinationMounts)
    {
        var observer = new RecordingObserver();
        FileEntry? destination = LocalReplicator.ResolveDestination(_tree.Destination);
        SyncPlan plan = SyncPlanner.Build(options, SourceSet.Resolve(options), _tree.Destination, destination, observer, CancellationToken.None,
            new MountingLister(sourceMounts), new MountingLister(destinationMounts));
        return (plan, observer);
    }

    private static string[] Lines(SyncPlan plan) => plan.Items.Select(i => i.Itemize + " " + i.RelativePath).ToArray();

    private void SourceWithMount()
    {
        _tree.Src("a/f", "a");
        _tree.Src("mnt/top", "t");
        _tree.Src("mnt/inner/g", "g");
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "mnt"), 0x1C0));
        TestTree.Freeze(_tree.Source);
    }

    [Fact]
    public void A_source_mount_point_is_created_empty_with_its_own_attributes()
    {
        SourceWithMount();
        (SyncPlan plan, _) = Plan(_tree.Options() with { OneFileSystem = true }, ["mnt"], []);
        Assert.Equal(["cd+++++++++ .", "cd+++++++++ a", ">f+++++++++ a/f", "cd+++++++++ mnt"], Lines(plan));
        Assert.Equal(0x1C0, plan.SourceDirectories["mnt"].Permissions);

        (SyncPlan crossing, _) = Plan(_tree.Options(), ["mnt"], []);
        Assert.Contains(">f+++++++++ mnt/inner/g", Lines(crossing));
    }

    [Fact]
    public void Nothing_inside_a_source_mount_point_is_deleted_from_its_copy()
    {
        SourceWithMount();
        _tree.Dst("mnt/stale", "s");
        _tree.Dst("extra", "e");
        TestTree.Freeze(_tree.Destination);
        (SyncPlan plan, _) = Plan(_tree.Options(delete: true) with { OneFileSystem = true }, ["mnt"], []);
        Assert.Equal(["*deleting   extra", "cd+++++++++ a", ">f+++++++++ a/f", ".d...p..... mnt"], Lines(plan));
    }

    [Fact]
    public void A_destination_mount_point_is_written_into_but_nothing_in_it_is_deleted()
    {
        _tree.Src("b/file", "f");
        TestTree.Freeze(_tree.Source);
        _tree.Dst("b/stale", "s");
        _tree.Dst("b/sub/stale2", "s");
        TestTree.Freeze(_tree.Destination);
        (SyncPlan plan, _) = Plan(_tree.Options(delete: true) with { OneFileSystem = true }, [], ["b"]);
        Assert.Equal([">f+++++++++ b/file"], Lines(plan));

        (SyncPlan crossing, _) = Plan(_tree.Options(delete: true), [], ["b"]);
        Assert.Contains("*deleting   b/stale", Lines(crossing));
    }

    [Fact]
    public void An_extraneous_mount_point_is_not_deleted_and_keeps_its_parents()
    {
        _tree.Src("keep", "k");
        TestTree.Freeze(_tree.Source);
        _tree.Dst("keep", "k");
        _tree.Dst("mnt2/stale", "s");
        _tree.Dst("gone/m3/k", "k");
        _tree.Dst("gone/x", "x");
        TestTree.Freeze(_tree.Destination);
        (SyncPlan plan, RecordingObserver observer) = Plan(_tree.Options(delete: true) with { OneFileSystem = true }, [], ["mnt2", "gone/m3"]);
        Assert.Equal(["*deleting   gone/x"], Lines(plan));
        Assert.Contains(observer.Warnings, w => w.Contains("'mnt2'", StringComparison.Ordinal) && w.Contains("mount point", StringComparison.Ordinal));
        Assert.Contains(observer.Warnings, w => w.Contains("'gone'", StringComparison.Ordinal));
        Assert.Empty(observer.Errors);
    }

    [Fact]
    public void With_PruneEmptyDirectories_a_mount_point_is_left_out_as_rsync_xm_leaves_it()
    {
        SourceWithMount();
        (SyncPlan plan, _) = Plan(_tree.Options() with { OneFileSystem = true, PruneEmptyDirectories = true }, ["mnt"], []);
        Assert.Equal(["cd+++++++++ .", "cd+++++++++ a", ">f+++++++++ a/f"], Lines(plan));
    }

    [Fact]
    public void With_CopyLinks_a_link_to_a_directory_on_another_device_is_a_mount_point()
    {
        using var other = new OtherFileSystem();
        _tree.Src("f", "f");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "other"), other.Path);

        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(_tree.Options() with { OneFileSystem = true, CopyLinks = true }, observer, CancellationToken.None);
        Assert.Equal(["cd+++++++++ .", ">f+++++++++ f", "cd+++++++++ other"], Lines(plan));
        Assert.Equal(0x1E8, plan.SourceDirectories["other"].Permissions);
        Assert.Empty(observer.Errors);

        SyncPlan crossing = LocalReplicator.Plan(_tree.Options() with { CopyLinks = true }, observer, CancellationToken.None);
        Assert.Contains(">f+++++++++ other/inside.txt", Lines(crossing));
    }

    [Fact]
    public void With_several_sources_each_source_is_held_against_its_own_file_system()
    {
        // rsync -x takes the file system of each directory named: the second source's directories are on its device.
        using var other = new OtherFileSystem();
        _tree.Src("a/f", "f");
        TestTree.Write(other.Path, "inner/g", "g");
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(_tree.Options() with { OneFileSystem = true, AdditionalSources = [other.Path] }, observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        Assert.Equal(["cd+++++++++ .", "cd+++++++++ a", ">f+++++++++ a/f", "cd+++++++++ inner", ">f+++++++++ inner/g", ">f+++++++++ inside.txt"], Lines(plan));
    }

    /// <summary>Lists the local tree, reporting another device for the named directories and everything below them.</summary>
    private sealed class MountingLister(string[] mounts) : ITreeLister
    {
        public List<FileEntry> List(string fullPath, string relative)
        {
            var entries = LocalTreeLister.Instance.List(fullPath, relative);
            for (int i = 0; i < entries.Count; i++)
            {
                string path = relative.Length == 0 ? entries[i].Name : relative + "/" + entries[i].Name;
                if (Array.Exists(mounts, m => path == m || path.StartsWith(m + "/", StringComparison.Ordinal)))
                {
                    Assert.Equal(0, Posix.Stat(entries[i].FullPath, follow: false, out StatInfo stat));
                    entries[i] = new FileEntry(entries[i].Name, entries[i].FullPath, entries[i].Kind, stat with { Device = stat.Device + 1 }, entries[i].LinkTarget);
                }
            }

            return entries;
        }
    }
}
