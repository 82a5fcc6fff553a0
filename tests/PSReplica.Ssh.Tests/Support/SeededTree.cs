using PSReplica.Engine.Tests;

namespace PSReplica.Ssh.Tests;

/// <summary>A random tree that a seed makes the same on every run, holding every kind of item a replica must carry exactly
/// whatever the seed: names with spaces, non-ASCII letters, a leading dash or dot, a newline, a tab or a backslash; nested
/// and empty directories; empty files, files a byte either side of the delta engine's block lengths, and large ones to
/// patch; relative, absolute and dangling symbolic links; hard-linked files; assorted permission bits and (as root)
/// owners; nanosecond modification times on everything, links and directories included. <see cref="Change"/> then edits
/// it as a user would between two runs, so that the second run has every kind of work to do.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class SeededTree
{
    /// <summary>Lengths a byte short of, at and past the block lengths the delta engine picks (700 for small files, then
    /// powers of two), and a few multiples of them.</summary>
    private static readonly int[] s_awkwardLengths = [0, 1, 699, 700, 701, 1023, 1024, 1025, 1400, 4095, 4096, 4097, 65535, 65536, 65537];

    private static readonly string[] s_fileModes = ["644", "755", "600", "640", "444", "700"];
    private static readonly string[] s_directoryModes = ["755", "700", "750", "775"];

    private readonly string _root;
    private readonly Random _random;
    private readonly List<string> _directories = [string.Empty];
    private readonly List<string> _files = [];
    private readonly List<string> _links = [];
    private int _next;
    private string _doomed = string.Empty;

    private SeededTree(string root, int seed)
    {
        _root = root;
        _random = new Random(seed);
    }

    /// <summary>The large files (100 KiB to 1.5 MiB), which <see cref="Change"/> edits in a few places: a second run must
    /// send them as deltas.</summary>
    public List<string> LargeFiles { get; } = [];

    /// <summary>Builds the tree of <paramref name="seed"/> at <paramref name="root"/> (which must not exist).</summary>
    public static SeededTree Create(string root, int seed)
    {
        Assert.False(Path.Exists(root), root + " exists");
        var tree = new SeededTree(root, seed);
        tree.Build();
        return tree;
    }

    /// <summary>Edits the tree: large files patched in a few places (some grow or shrink), small ones rewritten, times moved
    /// (by whole seconds and nanoseconds), modes and owners changed, items deleted (a whole directory too), a file turned
    /// into a directory and a link into a file, a link retargeted, new files, directories, links and hard links added.</summary>
    public void Change()
    {
        foreach (string large in LargeFiles)
        {
            string path = Full(large);
            byte[] data = File.ReadAllBytes(path);
            for (int i = 0; i < 3; i++)
            {
                data[_random.Next(data.Length)] ^= 0x5A;
            }

            data = _random.Next(3) switch
            {
                0 => [.. data, .. RandomBytes(_random.Next(1, 5000))],
                1 => data[..^_random.Next(1, 5000)],
                _ => data,
            };
            File.WriteAllBytes(path, data);
            SetTime(path);
        }

        // Small files: some rewritten, some only touched, some given other modes or owners, some deleted.
        foreach (string file in _files.ToArray())
        {
            if (LargeFiles.Contains(file))
            {
                continue;
            }

            string path = Full(file);
            switch (_random.Next(8))
            {
                case 0:
                    File.WriteAllBytes(path, RandomBytes(Length()));
                    SetTime(path);
                    break;
                case 1:
                    SetTime(path);
                    break;
                case 2:
                    Chmod(path, s_fileModes);
                    break;
                case 3:
                    Chown(path);
                    break;
                case 4:
                    File.Delete(path);
                    _files.Remove(file);
                    break;
            }
        }

        // A file turned into a directory with a file in it, a link into a file, a link pointed elsewhere.
        string turned = _files.First(f => !LargeFiles.Contains(f) && !f.StartsWith(_doomed + "/", StringComparison.Ordinal));
        File.Delete(Full(turned));
        _files.Remove(turned);
        Directory.CreateDirectory(Full(turned));
        _directories.Add(turned);
        AddFile(turned, 5, true);
        string linkToFile = _links[0];
        File.Delete(Full(linkToFile));
        _links.RemoveAt(0);
        File.WriteAllText(Full(linkToFile), "was a link\n");
        _files.Add(linkToFile);
        SetTime(Full(linkToFile));
        string retargeted = _links[0];
        File.Delete(Full(retargeted));
        File.CreateSymbolicLink(Full(retargeted), "retargeted/" + Name());
        SetTime(Full(retargeted));

        // A whole directory goes, with everything in it (a link, a hard link to a file that stays, a directory).
        Directory.Delete(Full(_doomed), recursive: true);
        _files.RemoveAll(f => f.StartsWith(_doomed + "/", StringComparison.Ordinal));
        _links.RemoveAll(l => l.StartsWith(_doomed + "/", StringComparison.Ordinal));

        string fresh = Join(Pick(_directories), "new " + Name());
        Directory.CreateDirectory(Full(fresh));
        _directories.Add(fresh);
        for (int i = 0; i < 5; i++)
        {
            AddFile(Pick(_directories), Length(), true);
        }

        AddLink(Pick(_directories));
        AddHardLink(PickSmallFile(), Pick(_directories));
        SetDirectoryTimes();
    }

    private void Build()
    {
        Directory.CreateDirectory(_root);
        for (int i = 0; i < 10; i++)
        {
            string parent = Pick(_directories);
            string directory = Join(parent, Name());
            Directory.CreateDirectory(Full(directory));
            _directories.Add(directory);
        }

        // One empty directory, kept empty: Change adds only to directories it picks from the list, which this is not in.
        string empty = Join(Pick(_directories), "empty " + Name());
        Directory.CreateDirectory(Full(empty));
        Chmod(Full(empty), s_directoryModes);

        foreach (int length in s_awkwardLengths)
        {
            AddFile(Pick(_directories), length, false);
        }

        for (int i = 0; i < 3; i++)
        {
            LargeFiles.Add(AddFile(Pick(_directories), _random.Next(100 << 10, 1536 << 10), false));
        }

        for (int i = 0; i < 30; i++)
        {
            AddFile(Pick(_directories), Length(), false);
        }

        for (int i = 0; i < 8; i++)
        {
            AddLink(Pick(_directories));
        }

        for (int i = 0; i < 4; i++)
        {
            AddHardLink(PickSmallFile(), Pick(_directories));
        }

        // The directory Change deletes: not in the list of directories, so that no large file and nothing Change adds goes there.
        _doomed = Join(Pick(_directories), "doomed " + Name());
        string inner = Join(_doomed, Name());
        Directory.CreateDirectory(Full(inner));
        AddFile(_doomed, Length(), false);
        AddFile(inner, Length(), false);
        AddLink(inner);
        AddHardLink(PickSmallFile(), _doomed);
        foreach (string directory in _directories.Concat([_doomed, inner]))
        {
            Chmod(Full(directory), s_directoryModes);
        }

        SetDirectoryTimes();
    }

    private string AddFile(string directory, int length, bool changing)
    {
        string relative = Join(directory, changing ? "added " + Name() : Name());
        string path = Full(relative);
        File.WriteAllBytes(path, RandomBytes(length));
        Chmod(path, s_fileModes);
        Chown(path);
        SetTime(path);
        _files.Add(relative);
        return relative;
    }

    private void AddLink(string directory)
    {
        string relative = Join(directory, "link " + Name());
        string target = _random.Next(4) switch
        {
            0 => "../" + Name(),
            1 => "/nowhere/" + Name(),
            2 => Path.GetFileName(Pick(_files)),
            _ => "dangling/" + Name(),
        };
        File.CreateSymbolicLink(Full(relative), target);
        Chown(Full(relative));
        SetTime(Full(relative));
        _links.Add(relative);
    }

    private void AddHardLink(string existing, string directory)
    {
        string relative = Join(directory, "hard " + Name());
        Assert.Equal(0, Posix.Link(Full(existing), Full(relative)));
        _files.Add(relative);
    }

    /// <summary>Directory times last, deepest first: adding to a directory moves its time.</summary>
    private void SetDirectoryTimes()
    {
        var all = new List<string>(Directory.EnumerateDirectories(_root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }));
        all.Sort((a, b) => b.Length.CompareTo(a.Length) != 0 ? b.Length.CompareTo(a.Length) : string.CompareOrdinal(a, b));
        all.Add(_root);
        foreach (string directory in all)
        {
            SetTime(directory);
        }
    }

    /// <summary>A name not used before in this tree, in one of the awkward shapes.</summary>
    private string Name()
    {
        int n = _next++;
        return _random.Next(9) switch
        {
            0 => "name with spaces " + n,
            1 => "ünïcödé ✓ " + n,
            2 => "-dash " + n,
            3 => ".hidden " + n,
            4 => "line\nbreak " + n,
            5 => "tab\tand\\backslash " + n,
            6 => "日本語 " + n + ".txt",
            7 => "trailing space " + n + " ",
            _ => "f" + n,
        };
    }

    private int Length() => _random.Next(4) switch
    {
        0 => 0,
        1 => _random.Next(1, 100),
        2 => _random.Next(100, 20_000),
        _ => s_awkwardLengths[_random.Next(s_awkwardLengths.Length)],
    };

    private byte[] RandomBytes(int length)
    {
        byte[] data = new byte[length];
        _random.NextBytes(data);
        return data;
    }

    private T Pick<T>(List<T> items) => items[_random.Next(items.Count)];

    /// <summary>A file that is not one of the large ones: those stay single links, so that each is the item that carries
    /// its delta (of a hard-linked pair, one is sent and the other linked to it).</summary>
    private string PickSmallFile()
    {
        while (true)
        {
            string file = Pick(_files);
            if (!LargeFiles.Contains(file))
            {
                return file;
            }
        }
    }

    /// <summary>A time in 2017-2020 with nanoseconds that are not a multiple of the 100 ns .NET ticks.</summary>
    private void SetTime(string path) => TestTree.SetTime(path, 1_500_000_000 + _random.Next(100_000_000), (_random.Next(10_000_000) * 100) + 1 + _random.Next(99));

    private void Chmod(string path, string[] modes) =>
        Assert.Equal(0, Posix.Chmod(path, Convert.ToInt32(modes[_random.Next(modes.Length)], 8)));

    /// <summary>Another owner and group, where only root can give them.</summary>
    private void Chown(string path)
    {
        uint uid = (uint)_random.Next(1000, 1004);
        uint gid = (uint)_random.Next(1000, 1004);
        if (Posix.IsElevated && _random.Next(2) == 0)
        {
            Assert.Equal(0, Posix.Lchown(path, uid, gid));
        }
    }

    private string Full(string relative) => relative.Length == 0 ? _root : Path.Join(_root, relative);

    private static string Join(string directory, string name) => directory.Length == 0 ? name : directory + "/" + name;

    public override string ToString() => $"{_files.Count} files, {_links.Count} links, {_directories.Count} directories";
}
