using PSReplica.Engine.Agent;
using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>The cache's pruning script, run by sh as the server runs it: the most recently used directories are kept, a
/// directory an agent runs in (holding its lock) is never removed, and no symbolic link is followed out of the cache.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AgentCacheTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _home;
    private readonly string _cache;

    public AgentCacheTests()
    {
        _home = _dir.Combine("home");
        _cache = Path.Join(_home, ".cache", "psreplica", "agent");
        Directory.CreateDirectory(_cache);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Keeps_the_most_recently_used_and_the_current_one()
    {
        // Ages in minutes; the current one is old by mtime (an older module deployed again) and is kept all the same.
        MakeVersion("0.9.0-aaaa", 50);
        MakeVersion("1.0.0-bbbb", 40);
        MakeVersion("1.0.0-linux-x64-cccc", 30);
        MakeVersion("1.1.0-dddd", 20);
        MakeVersion("1.1.0-linux-x64-eeee", 10);

        string[] pruned = Prune("0.9.0-aaaa");

        Assert.Equal(["pruned=1.0.0-bbbb"], pruned);
        Assert.Equal(["0.9.0-aaaa", "1.0.0-linux-x64-cccc", "1.1.0-dddd", "1.1.0-linux-x64-eeee"], Remaining());
    }

    [Fact]
    public void Never_removes_a_directory_an_agent_runs_in()
    {
        MakeVersion("0.8.0-aaaa", 60);
        MakeVersion("0.9.0-bbbb", 50);
        MakeVersion("1.0.0-cccc", 30);
        MakeVersion("1.1.0-dddd", 20);
        MakeVersion("1.2.0-eeee", 10);

        // The lock the agent takes at its start (Program.cs), held here as a running agent holds it.
        using (AgentDirectoryLock.Hold(Path.Join(_cache, "0.9.0-bbbb")) ?? throw new InvalidOperationException("no lock"))
        {
            Assert.Equal(["pruned=0.8.0-aaaa"], Prune("1.2.0-eeee"));
            Assert.Contains("0.9.0-bbbb", Remaining());
        }

        // Once that agent has ended its directory goes too.
        Assert.Equal(["pruned=0.9.0-bbbb"], Prune("1.2.0-eeee"));
        Assert.Equal(["1.0.0-cccc", "1.1.0-dddd", "1.2.0-eeee"], Remaining());
    }

    [Fact]
    public void Follows_no_symbolic_link_out_of_the_cache()
    {
        string outside = _dir.Combine("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Join(outside, "precious"), "keep");
        MakeVersion("0.1.0-aaaa", 90);
        // An old version directory holding a link to a directory outside: the link goes with it, never the target's files.
        Directory.CreateSymbolicLink(Path.Join(_cache, "0.1.0-aaaa", "escape"), outside);
        // A link in the cache itself with a version's name: never a candidate, however old.
        Directory.CreateSymbolicLink(Path.Join(_cache, "0.0.1-ffff"), outside);
        File.SetLastWriteTimeUtc(Path.Join(_cache, "0.1.0-aaaa"), DateTime.UtcNow.AddMinutes(-90));
        MakeVersion("1.0.0-bbbb", 30);
        MakeVersion("1.1.0-cccc", 20);
        MakeVersion("1.2.0-dddd", 10);

        Assert.Equal(["pruned=0.1.0-aaaa"], Prune("1.2.0-dddd"));
        Assert.Equal("keep", File.ReadAllText(Path.Join(outside, "precious")));
        Assert.NotNull(new DirectoryInfo(Path.Join(_cache, "0.0.1-ffff")).LinkTarget);
        Assert.Equal(["0.0.1-ffff", "1.0.0-bbbb", "1.1.0-cccc", "1.2.0-dddd"], Remaining());
    }

    [Fact]
    public void A_missing_cache_is_no_error()
    {
        Directory.Delete(_cache);

        Assert.Empty(Prune("1.0.0-aaaa"));
    }

    private void MakeVersion(string name, int minutesAgo)
    {
        string directory = Path.Join(_cache, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Join(directory, "SHA256SUMS"), string.Empty);
        Directory.SetLastWriteTimeUtc(directory, DateTime.UtcNow.AddMinutes(-minutesAgo));
    }

    private string[] Prune(string current) =>
        Tool.Run("env", "HOME=" + _home, "sh", "-c", AgentCache.PruneScript(current)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private string[] Remaining()
    {
        string[] names = Directory.GetFileSystemEntries(_cache).Select(Path.GetFileName).ToArray()!;
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }
}
