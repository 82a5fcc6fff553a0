using System.Diagnostics;
using System.IO.Enumeration;
using System.Text;

namespace PSReplica.Engine.Tests;

/// <summary>A temporary directory that tests build trees in; removed on dispose.</summary>
internal sealed class TestTree : IDisposable
{
    public TestTree()
    {
        Root = Path.Join(Path.GetTempPath(), "psr-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Source = Path.Join(Root, "src");
        Destination = Path.Join(Root, "dst");
        Directory.CreateDirectory(Source);
    }

    public string Root { get; }

    public string Source { get; }

    public string Destination { get; }

    public static string Write(string directory, string relative, string content, long? mtimeSeconds = null)
    {
        string path = Path.Join(directory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        if (mtimeSeconds is { } t)
        {
            SetTime(path, t);
        }

        return path;
    }

    public string Src(string relative, string content, long? mtimeSeconds = null) => Write(Source, relative, content, mtimeSeconds);

    public string Dst(string relative, string content, long? mtimeSeconds = null) => Write(Destination, relative, content, mtimeSeconds);

    /// <summary>Moves the directory <paramref name="relative"/> of <paramref name="root"/> (the source, the destination) aside
    /// to moved/ beside it and puts a link to this tree's outside/ in its place, as a racing user could; returns its path.</summary>
    public string SwapForLinkToOutside(string root, string relative)
    {
        string path = Path.Join(root, relative);
        Directory.Move(path, Path.Join(root, "moved"));
        File.CreateSymbolicLink(path, Path.Join(Root, "outside"));
        return path;
    }

    /// <summary><paramref name="length"/> bytes from a generator seeded with <paramref name="seed"/>: random, and the same on every run.</summary>
    public static byte[] RandomBytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Writes <see cref="RandomBytes"/> to a source file and returns them.</summary>
    public byte[] SrcRandom(string relative, int length, int seed)
    {
        byte[] data = RandomBytes(length, seed);
        string path = Path.Join(Source, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        return data;
    }

    public static void SetTime(string path, long seconds, long nanoseconds = 0) =>
        Assert.Equal(0, Posix.SetModificationTime(path, seconds, nanoseconds));

    public static StatInfo Stat(string path)
    {
        Assert.Equal(0, Posix.Stat(path, follow: false, out StatInfo info));
        return info;
    }

    public const long BaseTime = 1_600_000_000;

    /// <summary>Sets every item below (and including) <paramref name="root"/> to <see cref="BaseTime"/>, deepest first.</summary>
    public static void Freeze(string root, long seconds = BaseTime)
    {
        var paths = new List<string>(Walk(root));
        paths.Sort((a, b) => b.Length.CompareTo(a.Length));
        foreach (string path in paths)
        {
            SetTime(path, seconds);
        }

        SetTime(root, seconds);
    }

    /// <summary>Freezes both trees (the destination only if it exists).</summary>
    public void FreezeBoth()
    {
        Freeze(Source);
        if (Directory.Exists(Destination))
        {
            Freeze(Destination);
        }
    }

    public SyncOptions Options(bool delete = false) => new() { Source = Source, Destination = Destination, Delete = delete };

    public void Dispose()
    {
        try
        {
            // Undo any permission games a test played so that the tree can be removed.
            foreach (string dir in Walk(Root, directoriesOnly: true, ignoreInaccessible: true))
            {
                _ = Posix.Chmod(dir, 0x1FF);
            }

            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Runs a program and returns its standard output; fails the test on a non-zero exit.</summary>
    public static string Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        using Process process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} exited with {process.ExitCode}: {stderr.Result}");
        return stdout;
    }

    /// <summary>Every item below <paramref name="root"/> (full paths), links listed but never entered. Directory.Enumerate*
    /// with AttributesToSkip = 0 recurses through links to directories: a test tree holding a link to /proc was walked, through
    /// /proc/PID/cwd, over the whole machine, and the chmod in <see cref="Dispose"/> made every directory on it 0777.</summary>
    public static FileSystemEnumerable<string> Walk(string root, bool directoriesOnly = false, bool ignoreInaccessible = false)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = ignoreInaccessible };
        return new FileSystemEnumerable<string>(root, static (ref FileSystemEntry entry) => entry.ToFullPath(), options)
        {
            ShouldIncludePredicate = directoriesOnly
                ? static (ref FileSystemEntry entry) => entry.IsDirectory && (entry.Attributes & FileAttributes.ReparsePoint) == 0
                : null,
            ShouldRecursePredicate = static (ref FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) == 0,
        };
    }

    public static bool HasProgram(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':'))
        {
            if (dir.Length > 0 && File.Exists(Path.Join(dir, name)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Every path below <paramref name="root"/>, relative and '/'-separated, sorted ordinally; through links to
    /// directories too (tests show so that a link's referent was left alone; <see cref="Walk"/> never enters links).</summary>
    public static List<string> Listing(string root)
    {
        var result = new List<string>();
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            result.Add(Path.GetRelativePath(root, path).Replace('\\', '/'));
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }
}
