using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>Random trees for remote tests: nested directories, files of assorted sizes with nanosecond times and
/// assorted modes, symlinks (dangling ones too).</summary>
internal static class RandomTree
{
    public static void Create(string root, int seed, int files = 40)
    {
        var random = new Random(seed);
        Directory.CreateDirectory(root);
        var directories = new List<string> { string.Empty };
        for (int i = 0; i < files; i++)
        {
            string parent = directories[random.Next(directories.Count)];
            string name = Name(random, i);
            string relative = parent.Length == 0 ? name : parent + "/" + name;
            string full = Path.Join(root, relative);
            switch (random.Next(10))
            {
                case 0 or 1:
                    Directory.CreateDirectory(full);
                    Assert.Equal(0, Posix.Chmod(full, random.Next(2) == 0 ? 0x1ED : 0x1C0));
                    directories.Add(relative);
                    break;
                case 2:
                    File.CreateSymbolicLink(full, random.Next(2) == 0 ? "../elsewhere/" + name : name + "-target");
                    break;
                default:
                    int length = random.Next(4) switch { 0 => 0, 1 => random.Next(100), 2 => random.Next(20_000), _ => random.Next(300_000) };
                    byte[] data = new byte[length];
                    random.NextBytes(data);
                    File.WriteAllBytes(full, data);
                    Assert.Equal(0, Posix.Chmod(full, random.Next(3) switch { 0 => 0x1A4, 1 => 0x1ED, _ => 0x180 }));
                    TestTree.SetTime(full, 1_500_000_000 + random.Next(100_000_000), random.Next(1_000_000_000));
                    break;
            }
        }

        // Directory times last, deepest first, so that creating their contents does not change them.
        directories.Reverse();
        foreach (string directory in directories)
        {
            TestTree.SetTime(Path.Join(root, directory), 1_400_000_000 + random.Next(100_000_000), random.Next(1_000_000_000));
        }
    }

    private static string Name(Random random, int i) => random.Next(4) switch
    {
        0 => "f" + i,
        1 => "ü-" + i + ".txt",
        2 => ".hidden" + i,
        _ => "name with spaces " + i,
    };

    /// <summary>Every directory's local listing, keyed by relative path, as the engine's own lister sees it.</summary>
    /// <summary>Many small files of random content and length (0 to <paramref name="maxBytes"/> - 1) in
    /// <paramref name="directories"/> directories d0, d1, ... of <paramref name="filesEach"/> files f000.bin, f001.bin, ...</summary>
    public static void CreateSmallFiles(string root, int seed, int directories, int filesEach, int maxBytes)
    {
        var random = new Random(seed);
        for (int d = 0; d < directories; d++)
        {
            string directory = Path.Join(root, $"d{d}");
            Directory.CreateDirectory(directory);
            for (int f = 0; f < filesEach; f++)
            {
                byte[] data = new byte[random.Next(0, maxBytes)];
                random.NextBytes(data);
                File.WriteAllBytes(Path.Join(directory, $"f{f:D3}.bin"), data);
            }
        }
    }

    public static Dictionary<string, List<FileEntry>> ListLocally(string root)
    {
        var result = new Dictionary<string, List<FileEntry>>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        stack.Push(string.Empty);
        while (stack.Count > 0)
        {
            string relative = stack.Pop();
            List<FileEntry> entries = DirectoryLister.List(relative.Length == 0 ? root : Path.Join(root, relative), relative);
            result.Add(relative, entries);
            foreach (FileEntry entry in entries)
            {
                if (entry.IsDirectory)
                {
                    stack.Push(relative.Length == 0 ? entry.Name : relative + "/" + entry.Name);
                }
            }
        }

        return result;
    }

    /// <summary>Asserts that two trees hold the same items with the same bytes, modification times, modes and link targets.</summary>
    public static void AssertSame(string expected, string actual, bool directoryTimes = true)
    {
        Dictionary<string, List<FileEntry>> left = ListLocally(expected);
        Dictionary<string, List<FileEntry>> right = ListLocally(actual);
        Assert.Equal(new SortedSet<string>(left.Keys, StringComparer.Ordinal), new SortedSet<string>(right.Keys, StringComparer.Ordinal));
        foreach ((string directory, List<FileEntry> entries) in left)
        {
            List<FileEntry> other = right[directory];
            Assert.Equal(Names(entries), Names(other));
            for (int i = 0; i < entries.Count; i++)
            {
                FileEntry a = entries[i];
                FileEntry b = other[i];
                string where = directory + "/" + a.Name;
                Assert.True(a.Kind == b.Kind, where + ": kind");
                Assert.True(a.LinkTarget == b.LinkTarget, where + ": link target");
                if (a.Kind == EntryKind.SymbolicLink)
                {
                    continue;
                }

                Assert.True(a.Permissions == b.Permissions, $"{where}: mode {Convert.ToString(a.Permissions, 8)} vs {Convert.ToString(b.Permissions, 8)}");
                if (a.Kind == EntryKind.File || directoryTimes)
                {
                    Assert.True((a.MtimeSeconds, a.MtimeNanoseconds) == (b.MtimeSeconds, b.MtimeNanoseconds), where + ": time");
                }

                if (a.Kind == EntryKind.File)
                {
                    Assert.True(File.ReadAllBytes(a.FullPath).AsSpan().SequenceEqual(File.ReadAllBytes(b.FullPath)), where + ": content");
                }
            }
        }
    }

    private static List<string> Names(List<FileEntry> entries) => entries.ConvertAll(e => e.Name);
}
