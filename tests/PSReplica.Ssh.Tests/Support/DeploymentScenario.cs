using System;
using System.IO;
using System.Linq;
using System.Threading;
using PSReplica.Engine.Tests;
using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>What the deployment tests run against a fixture's server: a small tree with sub-second times (which SFTP would
/// cut to whole seconds) pushed, then pushed again after a change to its big file (a delta), then pulled back into a stale
/// copy (a delta the other way), each compared exactly; and the -Verbose line that says which agent ran and how it came.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class DeploymentScenario
{
    /// <summary>The "Transport: " lines of the push, the delta push and the pull.</summary>
    public static (string Push, string DeltaPush, string Pull) PushDeltaPull(NativeAgentModule module, TempDirectory dir,
        Func<RemoteRunSettings, RemoteRunSettings>? adjust = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(dir);
        adjust ??= settings => settings;
        string source = MakeTree(dir.Combine("source"));
        string remote = dir.Combine("remote");
        var push = new RecordingObserver { WantsVerbose = true };
        RemoteRunner.Run(adjust(Settings(module, remote, RemoteSide.Destination)), Options(source, remote), push, CancellationToken.None);
        AssertClean(push);
        AssertSameTree(source, remote);

        ChangeBigFile(source);
        var deltaPush = new RecordingObserver { WantsVerbose = true };
        SyncSummary pushed = RemoteRunner.Run(adjust(Settings(module, remote, RemoteSide.Destination)),
            Options(source, remote) with { TransferMode = TransferMode.Delta }, deltaPush, CancellationToken.None);
        AssertClean(deltaPush);
        Assert.True(pushed.BytesMatched > 200 * 1024, $"{pushed.BytesMatched} bytes matched: the delta path was not used");
        AssertSameTree(source, remote);

        string local = MakeTree(dir.Combine("pulled"));
        var pull = new RecordingObserver { WantsVerbose = true };
        SyncSummary pulled = RemoteRunner.Run(adjust(Settings(module, remote, RemoteSide.Source)),
            Options(remote, local) with { TransferMode = TransferMode.Delta }, pull, CancellationToken.None);
        AssertClean(pull);
        Assert.True(pulled.BytesMatched > 200 * 1024, $"{pulled.BytesMatched} bytes matched: the delta path was not used");
        AssertSameTree(remote, local);
        return (TransportLine(push), TransportLine(deltaPush), TransportLine(pull));
    }

    /// <summary>Empties the server's agent cache, so that a test sees the deployment it expects whatever ran before it.</summary>
    public static void ClearCache(TestSshServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        string cache = server.SessionView(Path.Join(server.Home, ".cache", "psreplica"));
        if (Directory.Exists(cache))
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    /// <summary>The agent folders in the server's cache.</summary>
    public static string[] CachedAgents(TestSshServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        string cache = server.SessionView(Path.Join(server.Home, ".cache", "psreplica", "agent"));
        return Directory.Exists(cache) ? [.. Directory.GetDirectories(cache).Select(Path.GetFileName).Order(StringComparer.Ordinal)!] : [];
    }

    public static RemoteRunSettings Settings(NativeAgentModule module, string remotePath, RemoteSide side)
    {
        ArgumentNullException.ThrowIfNull(module);
        return new()
        {
            Connection = NativeAgentRuns.Connection(module, remotePath),
            Side = side,
            // The agent or nothing: a fallback to SFTP would fail the test instead of passing it with whole files.
            Transport = RemoteTransport.Agent,
        };
    }

    /// <summary>The system's ssh client, as -SshCommand gives it, logging in to <paramref name="server"/> by key and trusting
    /// it through its known_hosts file only.</summary>
    public static string SshCommand(TestSshServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return $"ssh -F '{server.EmptyConfigPath}' -i '{server.UserKeyPath}' -o 'UserKnownHostsFile={server.KnownHostsPath}' "
            + "-o StrictHostKeyChecking=yes -o BatchMode=yes";
    }

    public static SyncOptions Options(string source, string destination) => new() { Source = source, Destination = destination };

    public static string TransportLine(RecordingObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        return Assert.Single(observer.Verbose, line => line.StartsWith("Transport: ", StringComparison.Ordinal));
    }

    /// <summary>A few files with sub-second times (which SFTP would cut to whole seconds) and a 256 KiB file to patch.</summary>
    public static string MakeTree(string root)
    {
        Directory.CreateDirectory(Path.Join(root, "sub", "deeper"));
        var random = new Random(4711);
        byte[] big = new byte[256 * 1024];
        random.NextBytes(big);
        File.WriteAllBytes(Path.Join(root, "big.bin"), big);
        string[] small = ["a.txt", "sub/b.txt", "sub/deeper/c.txt"];
        var time = new DateTime(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        for (int i = 0; i < small.Length; i++)
        {
            string path = Path.Join(root, small[i]);
            File.WriteAllText(path, "file " + i);
            File.SetLastWriteTimeUtc(path, time.AddTicks(1_234_567 * (i + 1)));
        }

        File.SetLastWriteTimeUtc(Path.Join(root, "big.bin"), time.AddTicks(7_654_321));
        return root;
    }

    public static void ChangeBigFile(string root)
    {
        string path = Path.Join(root, "big.bin");
        byte[] big = File.ReadAllBytes(path);
        big[1000] ^= 0xFF;
        File.WriteAllBytes(path, big);
        File.SetLastWriteTimeUtc(path, new DateTime(2025, 6, 7, 8, 9, 10, DateTimeKind.Utc).AddTicks(4_321_987));
    }

    /// <summary>Same files, same contents, same modification times to the tick (100 ns).</summary>
    public static void AssertSameTree(string expected, string actual)
    {
        string[] expectedFiles = Files(expected);
        Assert.Equal(expectedFiles, Files(actual));
        foreach (string file in expectedFiles)
        {
            Assert.Equal(File.ReadAllBytes(Path.Join(expected, file)), File.ReadAllBytes(Path.Join(actual, file)));
            Assert.Equal(File.GetLastWriteTimeUtc(Path.Join(expected, file)).Ticks, File.GetLastWriteTimeUtc(Path.Join(actual, file)).Ticks);
            Assert.NotEqual(0, File.GetLastWriteTimeUtc(Path.Join(actual, file)).Ticks % TimeSpan.TicksPerSecond);
        }
    }

    private static void AssertClean(RecordingObserver observer)
    {
        Assert.Empty(observer.Warnings);
        Assert.Empty(observer.Errors);
    }

    private static string[] Files(string root)
    {
        string[] files = Directory.GetFiles(root, "*", SearchOption.AllDirectories);
        for (int i = 0; i < files.Length; i++)
        {
            files[i] = Path.GetRelativePath(root, files[i]).Replace('\\', '/');
        }

        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }
}
