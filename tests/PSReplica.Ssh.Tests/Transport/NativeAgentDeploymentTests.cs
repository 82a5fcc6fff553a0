using System.Text.RegularExpressions;
using PSReplica.Engine.Agent;
using PSReplica.Engine.Tests;
using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>A server with sshd and nothing else (no .NET reachable, no module): the native agent is deployed over SFTP and
/// runs the delta transfer both ways, with sub-second times intact, where the managed agent could not run and SFTP would
/// have cut the times to whole seconds and sent whole files.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NativeAgentDeploymentTests(NativeAgentModule module) : IClassFixture<NativeAgentModule>, IDisposable
{
    private readonly NativeAgentModule _module = module;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Push_and_pull_run_through_the_native_agent_on_a_server_without_dotnet()
    {
        TestSshServer server = _module.Server;
        string source = MakeTree(_dir.Combine("source"));
        string remote = _dir.Combine("remote");
        var first = new RecordingObserver { WantsVerbose = true };
        // Four versions deployed earlier; the oldest has an agent running in it (holding the lock the agent takes).
        string cache = Path.Join(server.Home, ".cache", "psreplica", "agent");
        string[] old = ["0.0.1-1111111111111111", "0.0.2-2222222222222222", "0.0.3-3333333333333333", "0.0.4-4444444444444444"];
        for (int i = 0; i < old.Length; i++)
        {
            Directory.CreateDirectory(Path.Join(cache, old[i]));
            Directory.SetLastWriteTimeUtc(Path.Join(cache, old[i]), DateTime.UtcNow.AddMinutes(-40 + (10 * i)));
        }

        using (AgentDirectoryLock.Hold(Path.Join(cache, old[0])) ?? throw new InvalidOperationException("no lock"))
        {
            RemoteRunner.Run(Settings(remote, RemoteSide.Destination), Options(source, remote), first, CancellationToken.None);
        }

        Assert.Empty(first.Warnings);
        Assert.Empty(first.Errors);
        string rid = Regex.Escape(_module.RuntimeIdentifier);
        Assert.Matches($@"^Transport: the PSReplica agent on \S+: this module's native {rid} agent, deployed now into {Regex.Escape(server.Home)}/\.cache/psreplica/agent/\S+-{rid}-[0-9a-f]{{16}} "
            + $@"\(1 file\(s\), .+ uploaded over SFTP, SHA-256 sums checked; 1 older version\(s\) pruned from the cache\), run directly \(no PSReplica module is installed on the server; the native {rid} agent fits "
            + @"its platform \('Linux \S+'\) and needs no \.NET \(the server has none\)\); started in \d+\.\d\d s$",
            Assert.Single(first.Verbose, line => line.StartsWith("Transport: ", StringComparison.Ordinal)));
        AssertSameTree(source, remote);
        // The new one and the two most recently used are kept, and the one in use; only 0.0.2 went.
        string[] kept = Directory.GetFileSystemEntries(cache).Select(Path.GetFileName).ToArray()!;
        Assert.Equal(4, kept.Length);
        Assert.Equal([old[0], old[2], old[3]], kept.Where(old.Contains).Order(StringComparer.Ordinal));
        Assert.Matches($@"-{rid}-[0-9a-f]{{16}}$", Assert.Single(kept, name => !old.Contains(name)));

        // A changed big file goes as a delta; the second start finds the agent in the cache and the probe becomes it.
        ChangeBigFile(source);
        var push = new RecordingObserver { WantsVerbose = true };
        SyncSummary pushed = RemoteRunner.Run(Settings(remote, RemoteSide.Destination), Options(source, remote) with { TransferMode = TransferMode.Delta },
            push, CancellationToken.None);

        Assert.Empty(push.Warnings);
        Assert.Matches($@"^Transport: the PSReplica agent on \S+: this module's native {rid} agent, deployed earlier into ~/\.cache/psreplica/agent/\S+ "
            + @"\(SHA-256 sums checked\), started by the probe in its own channel \(.+\); started in \d+\.\d\d s$",
            Assert.Single(push.Verbose, line => line.StartsWith("Transport: ", StringComparison.Ordinal)));
        Assert.True(pushed.BytesMatched > 200 * 1024, $"{pushed.BytesMatched} bytes matched: the delta path was not used");
        AssertSameTree(source, remote);

        // Pull: the server's tree into a local copy that holds an older big file, again as a delta.
        string local = _dir.Combine("pulled");
        MakeTree(local);
        var pull = new RecordingObserver();
        SyncSummary pulled = RemoteRunner.Run(Settings(remote, RemoteSide.Source), Options(remote, local) with { TransferMode = TransferMode.Delta },
            pull, CancellationToken.None);

        Assert.Empty(pull.Warnings);
        Assert.Empty(pull.Errors);
        Assert.True(pulled.BytesMatched > 200 * 1024, $"{pulled.BytesMatched} bytes matched: the delta path was not used");
        AssertSameTree(remote, local);
    }

    private RemoteRunSettings Settings(string remotePath, RemoteSide side) => new()
    {
        Connection = new RemoteConnectionSettings
        {
            Remote = new RemotePath(new SshEndpoint(_module.Server.Host, _module.Server.User, _module.Server.Port), remotePath),
            KeyFilePaths = [_module.Server.UserKeyPath],
            KnownHostsPath = _module.Server.KnownHostsPath,
            ConfigPath = _module.Server.EmptyConfigPath,
            ConnectTimeout = TimeSpan.FromSeconds(20),
            AgentDirectory = _module.AgentDirectory,
        },
        Side = side,
        // The agent or nothing: a fallback to SFTP would fail the test instead of passing it with whole files.
        Transport = RemoteTransport.Agent,
    };

    private static SyncOptions Options(string source, string destination) => new() { Source = source, Destination = destination };

    /// <summary>A few files with sub-second times (which SFTP would cut to whole seconds) and a 256 KiB file to patch.</summary>
    private static string MakeTree(string root)
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

    private static void ChangeBigFile(string root)
    {
        string path = Path.Join(root, "big.bin");
        byte[] big = File.ReadAllBytes(path);
        big[1000] ^= 0xFF;
        File.WriteAllBytes(path, big);
        File.SetLastWriteTimeUtc(path, new DateTime(2025, 6, 7, 8, 9, 10, DateTimeKind.Utc).AddTicks(4_321_987));
    }

    /// <summary>Same files, same contents, same modification times to the tick (100 ns).</summary>
    private static void AssertSameTree(string expected, string actual)
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
