using System.Security.Cryptography;
using PSReplica.Engine.Client;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Faults;

/// <summary>How a fault test runs the engine: locally, or with the in-process agent as the destination (push) or the
/// source (pull).</summary>
public enum Wiring
{
    Local,
    Push,
    Pull,
}

/// <summary>A source and an older replica of it for fault tests: files the plan leaves alone (same/), files it replaces
/// whole (upd/), a large file it updates by delta (delta.bin) and new files (new/). <see cref="Snapshot"/> records the
/// destination before a faulty run; the assertions after it check that nothing is torn, that nothing outside the plan
/// changed and that no temporary file is left.</summary>
internal static class FaultTree
{
    public const long OldTime = 1_600_000_000;
    public const long NewTime = 1_700_000_000;

    /// <summary>The names of the destination files the plan must not touch.</summary>
    public static readonly string[] Untouched = ["same/a", "same/b", "same/c", "same/d", "same/e"];

    /// <summary>Builds the two trees; <paramref name="scale"/> multiplies the file sizes (1: about 2 MiB of destination
    /// and 3.3 MiB to write).</summary>
    public static void Create(string source, string destination, int seed, int scale = 1)
    {
        var random = new Random(seed);
        foreach (string name in Untouched)
        {
            byte[] data = Bytes(random, 1000);
            Put(source, name, data, OldTime);
            Put(destination, name, data, OldTime);
        }

        for (int i = 0; i < 4; i++)
        {
            Put(destination, $"upd/u{i}", Bytes(random, 200_000 * scale), OldTime);
            Put(source, $"upd/u{i}", Bytes(random, 200_000 * scale), NewTime);
        }

        byte[] large = Bytes(random, 1_000_000 * scale);
        Put(destination, "delta.bin", large, OldTime);
        random.NextBytes(large.AsSpan(400_000 * scale, 4096));
        Put(source, "delta.bin", large, NewTime);
        for (int i = 0; i < 10; i++)
        {
            Put(source, $"new/n{i:D2}", Bytes(random, 150_000 * scale), NewTime);
        }

        foreach (string root in new[] { source, destination })
        {
            foreach (string directory in Directory.GetDirectories(root))
            {
                TestTree.SetTime(directory, OldTime);
            }
        }
    }

    /// <summary>Every file below <paramref name="root"/> (relative path, '/'-separated) with its SHA-256, modification
    /// time and inode.</summary>
    public static Dictionary<string, (string Hash, long Mtime, ulong Inode)> Snapshot(string root)
    {
        var files = new Dictionary<string, (string, long, ulong)>(StringComparer.Ordinal);
        foreach (string file in Directory.GetFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            StatInfo stat = TestTree.Stat(file);
            files[Path.GetRelativePath(root, file).Replace('\\', '/')] = (Hash(file), stat.MtimeSeconds, stat.Inode);
        }

        return files;
    }

    /// <summary>After a run that failed part way: every destination file is its old content or the source's (never a torn
    /// mix), the files outside the plan are the very same files, unchanged, and no temporary file is left unless
    /// <paramref name="tempAllowed"/> (a killed process cannot clean up; the next run must).</summary>
    public static void AssertNoTornFile(string source, string destination, Dictionary<string, (string Hash, long Mtime, ulong Inode)> before,
        bool tempAllowed = false)
    {
        Dictionary<string, (string Hash, long Mtime, ulong Inode)> after = Snapshot(destination);
        foreach ((string relative, (string hash, _, _)) in after)
        {
            if (Path.GetFileName(relative).StartsWith(".~psr", StringComparison.Ordinal))
            {
                Assert.True(tempAllowed, $"A temporary file was left behind: {relative}");
                continue;
            }

            string sourceFile = Path.Join(source, relative);
            bool old = before.TryGetValue(relative, out var was) && was.Hash == hash;
            bool fresh = File.Exists(sourceFile) && Hash(sourceFile) == hash;
            Assert.True(old || fresh, $"{relative} is neither its old content nor the source's: a torn file");
        }

        foreach (string relative in before.Keys)
        {
            Assert.True(after.ContainsKey(relative), $"{relative} was in place before and is gone");
        }

        foreach (string relative in Untouched)
        {
            Assert.Equal(before[relative], after[relative]);
        }
    }

    /// <summary>A run in the given wiring with a fresh in-process agent where one serves; returns what it reported, or the
    /// terminating error in <paramref name="observer"/>'s place via the exception.</summary>
    public static async Task<RecordingObserver> RunAsync(Wiring wiring, SyncOptions options)
    {
        var observer = new RecordingObserver();
        if (wiring == Wiring.Local)
        {
            await Task.Run(() => LocalReplicator.Run(options, observer, CancellationToken.None));
            return observer;
        }

        RemoteSide side = wiring == Wiring.Push ? RemoteSide.Destination : RemoteSide.Source;
        await using Loopback loop = Loopback.WithAgent();
        await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, side == RemoteSide.Destination ? options.Destination : options.Source))
        {
            await Task.Run(() => replicator.Run(options, observer, CancellationToken.None));
        }

        Assert.Equal(0, await loop.FinishAsync());
        return observer;
    }

    public static string Hash(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));

    internal static byte[] Bytes(Random random, int length)
    {
        byte[] data = new byte[length];
        random.NextBytes(data);
        return data;
    }

    internal static void Put(string root, string relative, byte[] data, long time)
    {
        string path = Path.Join(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        TestTree.SetTime(path, time);
    }
}
