using CsCheck;
using PSReplica.Engine.Native;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Tests.Endpoints;

/// <summary>The listing of one directory read with getdents64 and stated by the names' bytes in inode order (issue 18,
/// item 8): the same entries, metadata and name order as a listing built name by name through paths, for any directory,
/// including ones whose records take several reads and names that are not UTF-8.</summary>
public sealed class DirectoryListerTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void A_listing_is_the_one_built_name_by_name_for_any_directory()
    {
        // Names long enough, and directories large enough, that the records take several 32 KiB reads.
        Gen<string> name = Gen.Select(Gen.Char["a-zA-Z0-9._-é"].Array[1, 12], Gen.Int[0, 200],
            (chars, pad) => new string(chars) + new string('x', pad % 7 == 0 ? pad : 0));
        Gen.Select(name.Array[0, 1200], Gen.Int[0, 2].Array[1200]).Sample((names, kinds) =>
        {
            string directory = Path.Join(_tree.Root, "d" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            for (int i = 0; i < names.Length; i++)
            {
                string path = Path.Join(directory, names[i]);
                if (Path.Exists(path) || names[i] is "." or "..")
                {
                    continue;
                }

                switch (kinds[i])
                {
                    case 0:
                        File.WriteAllText(path, names[i]);
                        break;
                    case 1:
                        Directory.CreateDirectory(path);
                        break;
                    default:
                        File.CreateSymbolicLink(path, names[i] + "-target");
                        break;
                }
            }

            string[] expected = Reference(directory);
            FileEntry self = DirectoryLister.Stat(directory, "d", follow: false, out int errno)!;
            Assert.Equal(0, errno);

            Assert.Equal(expected, DirectoryLister.List(directory, "d").Select(Describe));
            Assert.Equal(expected, DirectoryLister.ListVerified(directory, "d", self).Select(Describe));
            Directory.Delete(directory, recursive: true);
        }, iter: 15, threads: 1);
    }

    [Fact]
    public void A_large_directory_stated_by_several_threads_is_listed_as_name_by_name()
    {
        // More names than one thread states, created out of name order (so inode order is not name order), with links
        // and subdirectories among them: the result is still the serial one.
        string directory = Path.Join(_tree.Root, "large");
        Directory.CreateDirectory(directory);
        int count = DirectoryLister.ParallelStatNames + 700;
        var random = new Random(18);
        foreach (int i in Enumerable.Range(0, count).OrderBy(_ => random.Next()))
        {
            string path = Path.Join(directory, $"n{i:D5}");
            switch (i % 7)
            {
                case 0:
                    File.CreateSymbolicLink(path, $"t{i}");
                    break;
                case 1:
                    Directory.CreateDirectory(path);
                    break;
                default:
                    File.WriteAllText(path, new string('x', i % 13));
                    break;
            }
        }

        string[] expected = Reference(directory);
        FileEntry self = DirectoryLister.Stat(directory, "large", follow: false, out _)!;

        Assert.Equal(count, expected.Length);
        Assert.Equal(expected, DirectoryLister.List(directory, "large").Select(Describe));
        Assert.Equal(expected, DirectoryLister.ListVerified(directory, "large", self).Select(Describe));
    }

    [Fact]
    public void Names_that_are_not_UTF8_are_listed_by_their_bytes()
    {
        string directory = Path.Join(_tree.Root, "raw");
        Directory.CreateDirectory(directory);
        byte[] invalid = [(byte)'a', 0xFF, (byte)'b'];
        RawNames.WriteFile(directory, invalid, "1");
        File.WriteAllText(Path.Join(directory, "a\uFFFDb"), "2");

        List<FileEntry> entries = DirectoryLister.List(directory, "raw");

        Assert.Equal(2, entries.Count);
        Assert.Equal(NameCodec.Decode(invalid), entries[0].Name);
        Assert.Equal(1, entries[0].Length);
        Assert.Equal("a\uFFFDb", entries[1].Name);
    }

    [Fact]
    public void A_directory_that_cannot_be_opened_is_a_scan_error()
    {
        SyncException error = Assert.Throws<SyncException>(() => DirectoryLister.List(Path.Join(_tree.Root, "missing"), "missing"));

        Assert.Equal(ErrorIds.ScanError, error.ErrorId);
    }

    [Fact]
    public void The_root_may_be_a_link_to_a_directory()
    {
        _tree.Src("a", "1");
        string link = Path.Join(_tree.Root, "link");
        Directory.CreateSymbolicLink(link, _tree.Source);

        Assert.Equal("a", Assert.Single(DirectoryLister.List(link, ".")).Name);
    }

    /// <summary>The directory's entries as the serial lister built them before: System.IO's names sorted ordinally, each
    /// stated by its full path.</summary>
    private static string[] Reference(string directory)
    {
        var names = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Select(n => n!).ToList();
        names.Sort(StringComparer.Ordinal);
        return names.Select(n => Describe(DirectoryLister.Stat(Path.Join(directory, n), n, follow: false, out _)!)).ToArray();
    }

    private static string Describe(FileEntry e) =>
        $"{e.Name} {e.FullPath} {e.Kind} {e.Length} {e.MtimeSeconds}.{e.MtimeNanoseconds} {e.Permissions} {e.Inode} {e.Device} {e.LinkTarget}";
}
