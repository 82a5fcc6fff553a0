using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica.Engine.Tests.Sender;

public sealed class SourceFilesTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private FileEntry Scanned(string relative) =>
        DirectoryLister.Stat(Path.Join(_tree.Source, relative), Path.GetFileName(relative), follow: false, out _)!;

    private static string Read(SafeFileHandle file)
    {
        using var stream = new FileStream(file, FileAccess.Read, 1);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [Fact]
    public void Workers_in_more_directories_than_are_kept_open_each_read_their_own_file()
    {
        // 40 directories against 16 kept open: handles are evicted while other threads still use them.
        var files = new List<(string Relative, FileEntry Scanned)>();
        for (int d = 0; d < 40; d++)
        {
            for (int f = 0; f < 10; f++)
            {
                string relative = $"a/d{d:D2}/sub/f{f}.txt";
                _tree.Src(relative, relative);
                files.Add((relative, Scanned(relative)));
            }
        }

        using var sources = new SourceFiles(_tree.Source, followLinks: false);
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < files.Count; i++)
                {
                    // Each worker walks the files in its own order, so the cache is shared by different directories at once.
                    (string relative, FileEntry scanned) = files[(i * (worker + 1) * 7 + round) % files.Count];
                    using SafeFileHandle file = sources.Open(relative, scanned);
                    Assert.Equal(relative, Read(file));
                }
            }
        });
    }

    [Fact]
    public void A_FIFO_swapped_in_for_a_file_is_refused_without_blocking()
    {
        _tree.Src("pipe", "a regular file when scanned");
        FileEntry scanned = Scanned("pipe");
        File.Delete(Path.Join(_tree.Source, "pipe"));
        TestTree.Run("mkfifo", Path.Join(_tree.Source, "pipe"));

        using var sources = new SourceFiles(_tree.Source, followLinks: false);
        var error = Assert.Throws<SyncException>(() => sources.Open("pipe", scanned));
        Assert.Equal(ErrorIds.SourceChangedSinceListing, error.ErrorId);
    }

    [Fact]
    public void A_vanished_file_and_a_vanished_directory_are_SourceVanished()
    {
        _tree.Src("dir/gone.txt", "x");
        _tree.Src("gone.txt", "x");
        FileEntry inDirectory = Scanned("dir/gone.txt");
        FileEntry atRoot = Scanned("gone.txt");
        Directory.Delete(Path.Join(_tree.Source, "dir"), recursive: true);
        File.Delete(Path.Join(_tree.Source, "gone.txt"));

        using var sources = new SourceFiles(_tree.Source, followLinks: false);
        Assert.Equal(ErrorIds.SourceVanished, Assert.Throws<SyncException>(() => sources.Open("dir/gone.txt", inDirectory)).ErrorId);
        Assert.Equal(ErrorIds.SourceVanished, Assert.Throws<SyncException>(() => sources.Open("gone.txt", atRoot)).ErrorId);
    }

    [Fact]
    public void A_file_rewritten_in_place_keeps_its_identity_and_is_read_as_it_now_is()
    {
        string path = _tree.Src("kept.txt", "before");
        FileEntry scanned = Scanned("kept.txt");
        File.WriteAllText(path, "after, same inode");

        using var sources = new SourceFiles(_tree.Source, followLinks: false);
        using SafeFileHandle file = sources.Open("kept.txt", scanned);
        Assert.Equal("after, same inode", Read(file));
    }

    [Fact]
    public void Remove_unlinks_only_the_scanned_item_and_never_through_a_swapped_directory()
    {
        _tree.Src("kept/f.txt", "scanned");
        _tree.Src("replaced.txt", "scanned");
        _tree.Src("removed.txt", "scanned");
        FileEntry throughLink = Scanned("kept/f.txt");
        FileEntry replaced = Scanned("replaced.txt");
        FileEntry removed = Scanned("removed.txt");
        string outsideTwin = TestTree.Write(_tree.Root, "outside/f.txt", "scanned");
        Directory.Move(Path.Join(_tree.Source, "kept"), Path.Join(_tree.Root, "moved-away"));
        Directory.CreateSymbolicLink(Path.Join(_tree.Source, "kept"), Path.Join(_tree.Root, "outside"));
        // Renamed over the scanned one while it still exists, so the new file cannot reuse its inode number.
        string replacement = TestTree.Write(_tree.Root, "replacement.txt", "a new file under the scanned name");
        Assert.Equal(0, Posix.Rename(replacement, Path.Join(_tree.Source, "replaced.txt")));

        using var sources = new SourceFiles(_tree.Source, followLinks: false);
        Assert.Equal(ErrorIds.SourceChangedSinceListing, Assert.Throws<SyncException>(() => sources.Remove("kept/f.txt", throughLink)).ErrorId);
        Assert.Equal(ErrorIds.SourceChangedSinceListing, Assert.Throws<SyncException>(() => sources.Remove("replaced.txt", replaced)).ErrorId);
        Assert.Equal(0, sources.Remove("removed.txt", removed));

        Assert.True(File.Exists(outsideTwin));
        Assert.True(File.Exists(Path.Join(_tree.Source, "replaced.txt")));
        Assert.False(File.Exists(Path.Join(_tree.Source, "removed.txt")));
    }

    [Fact]
    public void Several_roots_each_open_the_file_scanned_under_them_for_one_relative_path()
    {
        string other = Path.Join(_tree.Root, "other");
        string first = _tree.Src("d/f.txt", "first");
        string second = TestTree.Write(other, "d/f.txt", "second");

        using var sources = new SourceFiles([_tree.Source, other], followLinks: false);
        using SafeFileHandle fromFirst = sources.Open("d/f.txt", DirectoryLister.Stat(first, "f.txt", follow: false, out _)!);
        using SafeFileHandle fromSecond = sources.Open("d/f.txt", DirectoryLister.Stat(second, "f.txt", follow: false, out _)!);

        Assert.Equal("first", Read(fromFirst));
        Assert.Equal("second", Read(fromSecond));
    }

    [Fact]
    public void Opening_after_dispose_is_refused()
    {
        _tree.Src("f.txt", "x");
        var sources = new SourceFiles(_tree.Source, followLinks: false);
        sources.Dispose();
        Assert.Throws<ObjectDisposedException>(() => sources.Open("f.txt", Scanned("f.txt")));
    }
}
