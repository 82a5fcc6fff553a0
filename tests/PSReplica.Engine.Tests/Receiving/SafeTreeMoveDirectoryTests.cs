namespace PSReplica.Engine.Tests.Receiving;

/// <summary><see cref="SafeTree.MoveDirectory"/>, -Watch's repeat of a source directory's rename: only a real directory
/// moves, only to a free name, and never through a link on the way; what it cannot move comes back as an errno with both
/// names as they were.</summary>
public sealed class SafeTreeMoveDirectoryTests : IDisposable
{
    private readonly TestTree _tree = new();
    private readonly string _outside;

    // TestTree.Listing enters a link to a directory, so a listing of the destination shows the outside through "link";
    // the outside's own listing proves nothing moved out of it or into it.
    public SafeTreeMoveDirectoryTests()
    {
        Directory.CreateDirectory(_tree.Destination);
        _outside = Path.Join(_tree.Root, "outside");
        TestTree.Write(_outside, "victim/secret", "secret");
    }

    public void Dispose() => _tree.Dispose();

    private string Dst(string relative) => Path.Join(_tree.Destination, relative);

    [Fact]
    public void MoveDirectory_moves_a_directory_with_its_contents()
    {
        _tree.Dst("old/a.txt", "a");
        _tree.Dst("old/sub/b.txt", "b");
        Directory.CreateDirectory(Dst("parent"));
        using var tree = new SafeTree(_tree.Destination);

        Assert.Equal(0, tree.MoveDirectory("old", "parent/new"));

        Assert.Equal(["parent", "parent/new", "parent/new/a.txt", "parent/new/sub", "parent/new/sub/b.txt"], TestTree.Listing(_tree.Destination));
        Assert.Equal("b", File.ReadAllText(Dst("parent/new/sub/b.txt")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MoveDirectory_to_a_taken_name_gives_EEXIST_and_leaves_both(bool takenByDirectory)
    {
        _tree.Dst("old/a.txt", "a");
        if (takenByDirectory)
        {
            Directory.CreateDirectory(Dst("new"));
        }
        else
        {
            _tree.Dst("new", "a file");
        }

        using var tree = new SafeTree(_tree.Destination);

        Assert.Equal(Posix.EEXIST, tree.MoveDirectory("old", "new"));

        Assert.Equal(["new", "old", "old/a.txt"], TestTree.Listing(_tree.Destination));
        Assert.Equal(takenByDirectory, Directory.Exists(Dst("new")));
        if (!takenByDirectory)
        {
            Assert.Equal("a file", File.ReadAllText(Dst("new")));
        }
    }

    [Fact]
    public void MoveDirectory_of_a_file_gives_ENOTDIR_and_moves_nothing()
    {
        _tree.Dst("file", "content");
        using var tree = new SafeTree(_tree.Destination);

        Assert.Equal(Posix.ENOTDIR, tree.MoveDirectory("file", "moved"));

        Assert.Equal(["file"], TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public void MoveDirectory_of_a_link_to_a_directory_gives_ENOTDIR_and_leaves_the_link_and_its_referent()
    {
        Directory.CreateSymbolicLink(Dst("alink"), Path.Join(_outside, "victim"));
        using var tree = new SafeTree(_tree.Destination);

        Assert.Equal(Posix.ENOTDIR, tree.MoveDirectory("alink", "moved"));

        // The listing sees through the link: what matters is that it is still there, still a link, to the same place.
        Assert.Equal(["alink", "alink/secret"], TestTree.Listing(_tree.Destination));
        Assert.Equal(Path.Join(_outside, "victim"), new FileInfo(Dst("alink")).LinkTarget);
        Assert.Equal(["victim", "victim/secret"], TestTree.Listing(_outside));
    }

    [Fact]
    public void MoveDirectory_out_of_a_linked_parent_gives_UnsafePath_and_moves_nothing()
    {
        Directory.CreateSymbolicLink(Dst("link"), _outside);
        using var tree = new SafeTree(_tree.Destination);

        var error = Assert.Throws<SyncException>(() => tree.MoveDirectory("link/victim", "stolen"));

        Assert.Equal(ErrorIds.UnsafePath, error.ErrorId);
        Assert.Equal(["link", "link/victim", "link/victim/secret"], TestTree.Listing(_tree.Destination));
        Assert.Equal(["victim", "victim/secret"], TestTree.Listing(_outside));
    }

    [Fact]
    public void MoveDirectory_into_a_linked_parent_gives_UnsafePath_and_moves_nothing()
    {
        _tree.Dst("mine/a.txt", "a");
        Directory.CreateSymbolicLink(Dst("link"), _outside);
        using var tree = new SafeTree(_tree.Destination) { NamesFromPeer = false };

        var error = Assert.Throws<SyncException>(() => tree.MoveDirectory("mine", "link/mine"));

        Assert.Equal(ErrorIds.UnsafePath, error.ErrorId);
        Assert.Equal(["link", "link/victim", "link/victim/secret", "mine", "mine/a.txt"], TestTree.Listing(_tree.Destination));
        Assert.Equal(["victim", "victim/secret"], TestTree.Listing(_outside));
    }

    [Theory]
    [InlineData("missing", "new")]
    [InlineData("gone/old", "new")]
    [InlineData("old", "not-yet/new")]
    public void MoveDirectory_with_nothing_at_a_name_or_its_parent_gives_ENOENT(string from, string to)
    {
        _tree.Dst("old/a.txt", "a");
        using var tree = new SafeTree(_tree.Destination);

        Assert.Equal(Posix.ENOENT, tree.MoveDirectory(from, to));

        Assert.Equal(["old", "old/a.txt"], TestTree.Listing(_tree.Destination));
    }

    // A local run's tree keeps the directories it reached open: after a move, the old name must not still reach the
    // moved directory through a kept descriptor (a file written there would land under the new name).
    [Fact]
    public void MoveDirectory_forgets_the_kept_descriptors_below_the_old_name()
    {
        _tree.Dst("old/sub/a.txt", "a");
        using var tree = new SafeTree(_tree.Destination) { NamesFromPeer = false };
        tree.OpenParent("old/b.txt").Dispose();
        tree.OpenParent("old/sub/b.txt").Dispose();

        Assert.Equal(0, tree.MoveDirectory("old", "new"));

        Assert.Equal(SyncErrorKind.NotFound, Assert.Throws<SyncException>(() => tree.OpenParent("old/b.txt")).Kind);
        Assert.Equal(SyncErrorKind.NotFound, Assert.Throws<SyncException>(() => tree.OpenParent("old/sub/b.txt")).Kind);
        using ParentDirectory moved = tree.OpenParent("new/sub/a.txt");
        Assert.Equal(0, Posix.StatAt(moved.Handle, moved.Name, out StatInfo stat));
        Assert.Equal(Posix.SIfreg, stat.FileType);
    }
}
