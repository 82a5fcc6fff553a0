using System.Text;
using PSReplica.Engine.Tests;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>The one tree every case of the matrix starts from, built the same (names, bytes, modes, times to the
/// nanosecond) on every call: a source, an older destination that differs from it in each way an option can judge,
/// and a basis directory beside the destination for -LinkDest, -CompareDest and -CopyDest.</summary>
/// <remarks>What each name is for:
/// <list type="bullet">
/// <item>small.txt, "sub dir/nested/deep.txt" (older in the destination), basis-same.txt: quick check, basis dirs.</item>
/// <item>same-size-same-time.txt: other content, same size and time: only -Checksum and -IgnoreTimes see it.</item>
/// <item>touched.txt: same content, older time: updated unless -SizeOnly.</item>
/// <item>newer-in-dst.txt: the destination's copy is newer: -Update keeps it.</item>
/// <item>subsec.txt: times differ in the nanoseconds only: -ModifyWindow -1 updates it.</item>
/// <item>one-sec.txt: other content, same size, times one second apart: -ModifyWindow 1 keeps it.</item>
/// <item>big.bin (300 KB, a few bytes changed), basis-changed.bin (a variant in the basis): deltas.</item>
/// <item>big2.bin (100 KB), medium.dat (20 KB), "-dash file.txt" (5 B), empty.txt: -MinSize and -MaxSize.</item>
/// <item>private.txt: 0600 in the source, 0644 in the destination; dir-mode/: 0750 against 0755.</item>
/// <item>hl-a, hl-b: one inode in the source (-Preserve HardLinks).</item>
/// <item>link-file, link-dir, dangling: symlinks (-CopyLinks); owned.txt, owned-link: another owner and group.</item>
/// <item>"sub dir/.rsync-filter" (excludes *.sh): -UseFilterFiles.</item>
/// <item>excluded.log, dst-only.log: what the filter cases exclude; extraneous.txt, extraneous-dir/, stale-link: only in
/// the destination (-Delete, -MaxDelete, -Backup).</item>
/// </list></remarks>
internal sealed class ScenarioTree
{
    /// <summary>Every time in the tree is this plus a few seconds (2020-09-13): far from "now", so that a time a run
    /// sets to the present stands out.</summary>
    public const long T = TestTree.BaseTime;

    /// <summary>The paths -FilesFrom lists (with a comment line and a leading "./", which the list reader drops).</summary>
    public const string FilesFromText = "# the scenario's list\nsmall.txt\n./sub dir/nested/deep.txt\nbig.bin\nlink-file\n";

    /// <summary>The directories of a case that runs are compared on: both trees and the basis directory beside them.</summary>
    public static readonly string[] Compared = ["src", "dst", "basis"];

    private ScenarioTree(string root)
    {
        Root = root;
        Source = Path.Join(root, "src");
        Destination = Path.Join(root, "dst");
        Basis = Path.Join(root, "basis");
        FilesFrom = Path.Join(root, "files-from.txt");
    }

    /// <summary>The case's directory: src, dst and basis are in it, side by side.</summary>
    public string Root { get; }

    public string Source { get; }

    public string Destination { get; }

    /// <summary>The earlier copy for the basis-directory options, named "../basis" from the destination.</summary>
    public string Basis { get; }

    public string FilesFrom { get; }

    public static ScenarioTree Create(string root)
    {
        var tree = new ScenarioTree(root);
        tree.Build();
        return tree;
    }

    private void Build()
    {
        string s = Source;
        string d = Destination;
        Directory.CreateDirectory(s);
        Directory.CreateDirectory(d);
        Directory.CreateDirectory(Basis);
        File.WriteAllText(FilesFrom, FilesFromText, Encoding.UTF8);

        Text(s, "small.txt", "hello\n", T + 1, 100_000_000);
        Text(d, "small.txt", "hello\n", T + 1, 100_000_000);
        Text(Basis, "small.txt", "hello\n", T + 1, 100_000_000);

        Bytes(s, "same-size-same-time.txt", Random(4096, 1), T + 2, 200_000_000);
        Bytes(d, "same-size-same-time.txt", Random(4096, 2), T + 2, 200_000_000);

        Text(s, "touched.txt", "same content, touched\n", T + 3, 300_000_000);
        Text(d, "touched.txt", "same content, touched\n", T - 100, 0);

        Text(s, "newer-in-dst.txt", "the source's version\n", T + 4, 400_000_000);
        Text(d, "newer-in-dst.txt", "the destination's newer one\n", T + 1000, 0);

        Text(s, "subsec.txt", "subsecond\n", T + 5, 500_000_000);
        Text(d, "subsec.txt", "subsecond\n", T + 5, 123);

        Text(s, "one-sec.txt", "AAAAAAAA", T + 6, 0);
        Text(d, "one-sec.txt", "BBBBBBBB", T + 7, 0);

        byte[] big = Random(300_000, 3);
        Bytes(s, "big.bin", big, T + 7, 700_000_000);
        byte[] oldBig = (byte[])big.Clone();
        oldBig[150_000] ^= 0x5A;
        oldBig[150_001] ^= 0x33;
        Bytes(d, "big.bin", oldBig[..290_000], T - 200, 0);

        Bytes(s, "big2.bin", Random(100_000, 4), T + 8, 800_000_000);
        Bytes(s, "medium.dat", Random(20_000, 5), T + 9, 900_000_000);
        Text(s, "empty.txt", string.Empty, T + 10, 0);
        Text(s, "-dash file.txt", "dash\n", T + 10, 10);

        Text(s, "private.txt", "private\n", T + 11, 0, mode: 0x180);
        Text(d, "private.txt", "private\n", T + 11, 0, mode: 0x1A4);

        Text(s, "excluded.log", "the source's log\n", T + 12, 0);
        Text(d, "excluded.log", "the destination's older log\n", T - 12, 0);
        Text(d, "dst-only.log", "a log only in the destination\n", T - 13, 0);

        Text(s, "basis-same.txt", "in the basis too\n", T + 13, 130);
        Text(Basis, "basis-same.txt", "in the basis too\n", T + 13, 130);
        byte[] basisChanged = Random(120_000, 6);
        Bytes(s, "basis-changed.bin", basisChanged, T + 14, 140);
        basisChanged[60_000] ^= 0x77;
        Bytes(Basis, "basis-changed.bin", basisChanged, T - 14, 0);

        Text(s, "hl-a", "a hard-linked pair\n", T + 15, 150);
        Assert.Equal(0, Posix.Link(Path.Join(s, "hl-a"), Path.Join(s, "hl-b")));

        Text(s, "sub dir/ünïcödé ✓.txt", "unicode\n", T + 16, 160);
        Text(s, "sub dir/exec.sh", "#!/bin/sh\necho hi\n", T + 17, 170, mode: 0x1ED);
        Text(s, "sub dir/nested/deep.txt", "deep, new\n", T + 18, 180);
        Text(d, "sub dir/nested/deep.txt", "deep, old\n", T - 18, 0);
        Bytes(s, "sub dir/nested/big3.bin", Random(70_000, 7), T + 19, 190);

        Text(s, "dir-mode/f.txt", "f\n", T + 20, 0);
        Text(d, "dir-mode/f.txt", "f\n", T + 20, 0);
        Assert.Equal(0, Posix.Chmod(Path.Join(s, "dir-mode"), 0x1E8));
        Assert.Equal(0, Posix.Chmod(Path.Join(d, "dir-mode"), 0x1ED));

        // Another owner (only root can give one): the default -Preserve has Owner and Group when elevated.
        Text(s, "owned.txt", "owned by someone else\n", T + 22, 220);
        File.CreateSymbolicLink(Path.Join(s, "owned-link"), "owned.txt");
        if (Posix.IsElevated)
        {
            Assert.Equal(0, Posix.Lchown(Path.Join(s, "owned.txt"), 1234, 2345));
            Assert.Equal(0, Posix.Lchown(Path.Join(s, "owned-link"), 1235, 2346));
        }

        // Read as filter rules only with -UseFilterFiles (dir-merge); otherwise an ordinary file.
        Text(s, "sub dir/.rsync-filter", "- *.sh\n", T + 23, 230);

        File.CreateSymbolicLink(Path.Join(s, "link-file"), "small.txt");
        File.CreateSymbolicLink(Path.Join(s, "link-dir"), "sub dir");
        File.CreateSymbolicLink(Path.Join(s, "dangling"), "nowhere/at all");
        File.CreateSymbolicLink(Path.Join(d, "stale-link"), "small.txt");

        Text(d, "extraneous.txt", "only in the destination\n", T - 30, 0);
        Text(d, "extraneous-dir/inner.txt", "inner\n", T - 31, 0);

        // Link times, then directory times deepest first, last: writing into a directory moves its time.
        foreach (string link in new[] { Path.Join(s, "link-file"), Path.Join(s, "link-dir"), Path.Join(s, "dangling"), Path.Join(s, "owned-link"), Path.Join(d, "stale-link") })
        {
            Assert.Equal(0, Posix.SetModificationTime(link, T + 21, 210));
        }

        long n = 0;
        foreach (string root in new[] { s, d, Basis })
        {
            var directories = new List<string>(Directory.EnumerateDirectories(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }));
            directories.Sort((a, b) => b.Length.CompareTo(a.Length));
            directories.Add(root);
            foreach (string directory in directories)
            {
                if (!File.GetAttributes(directory).HasFlag(FileAttributes.ReparsePoint))
                {
                    TestTree.SetTime(directory, (root == s ? T + 50 : T - 50) + n++, 5_000);
                }
            }
        }
    }

    private static byte[] Random(int length, int seed) => TestTree.RandomBytes(length, seed);

    private static void Text(string root, string relative, string content, long seconds, long nanoseconds, int mode = 0x1A4) =>
        Bytes(root, relative, Encoding.UTF8.GetBytes(content), seconds, nanoseconds, mode);

    private static void Bytes(string root, string relative, byte[] content, long seconds, long nanoseconds, int mode = 0x1A4)
    {
        string path = Path.Join(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        Assert.Equal(0, Posix.Chmod(path, mode));
        TestTree.SetTime(path, seconds, nanoseconds);
    }
}
