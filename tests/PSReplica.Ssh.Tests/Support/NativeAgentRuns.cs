using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using PSReplica.Engine.Tests;
using PSReplica.Ssh.Tests.Scenarios;
using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>Runs against a <see cref="NativeAgentModule"/>'s server (sshd with no .NET reachable), each one proven to have
/// gone through this module's native agent: the agent or nothing (no SFTP fallback), and the run's "Transport:" line must
/// name the native agent of this machine's rid. Also the exact comparison of two trees these tests use, and the agent
/// processes running on the server, for the tests that kill one mid-transfer.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class NativeAgentRuns
{
    /// <summary>The connection to <paramref name="module"/>'s server for a remote path on it (the server is this machine,
    /// so a remote path is a local one).</summary>
    public static RemoteConnectionSettings Connection(NativeAgentModule module, string remotePath) => new()
    {
        Remote = new RemotePath(new SshEndpoint(module.Server.Host, module.Server.User, module.Server.Port), remotePath),
        KeyFilePaths = [module.Server.UserKeyPath],
        KnownHostsPath = module.Server.KnownHostsPath,
        ConfigPath = module.Server.EmptyConfigPath,
        ConnectTimeout = TimeSpan.FromSeconds(20),
        AgentDirectory = module.AgentDirectory,
    };

    /// <summary>Runs <paramref name="options"/> with the server as <paramref name="side"/> through the agent (a fallback to
    /// SFTP would fail the run instead of passing it with whole files and whole seconds), and checks that the agent was the
    /// native one.</summary>
    public static SyncSummary Run(NativeAgentModule module, RemoteSide side, SyncOptions options, RecordingObserver observer)
    {
        Assert.True(observer.WantsVerbose, "the observer must ask for -Verbose: its Transport line proves the native agent ran");
        var settings = new RemoteRunSettings
        {
            Connection = Connection(module, side == RemoteSide.Destination ? options.Destination : options.Source),
            Side = side,
            Transport = RemoteTransport.Agent,
        };
        SyncSummary summary = RemoteRunner.Run(settings, options, observer, CancellationToken.None);
        AssertNativeAgentRan(module, observer);
        return summary;
    }

    /// <summary>The run's one "Transport:" line names this module's native agent for this machine, deployed into the
    /// server's cache (now or by an earlier run).</summary>
    public static void AssertNativeAgentRan(NativeAgentModule module, RecordingObserver observer)
    {
        string rid = Regex.Escape(module.RuntimeIdentifier);
        Assert.Matches($@"^Transport: the PSReplica agent on \S+: this module's native {rid} agent, deployed (now|earlier) into \S+-{rid}-[0-9a-f]{{16}} ",
            Assert.Single(observer.Verbose, line => line.StartsWith("Transport: ", StringComparison.Ordinal)));
    }

    /// <summary>The native agent deployed into the server's cache (by an earlier run through <see cref="Run"/> or
    /// <see cref="RemoteAgentConnection.Start"/>), as a local path: the server is this machine.</summary>
    public static string DeployedAgent(NativeAgentModule module)
    {
        string cache = Path.Join(module.Server.Home, AgentCache.Folder);
        string[] deployed = Directory.Exists(cache)
            ? Directory.GetDirectories(cache, "*-" + module.RuntimeIdentifier + "-*")
            : [];
        string folder = Assert.Single(deployed);
        string agent = Path.Join(folder, AgentFiles.NativeExecutable);
        Assert.True(File.Exists(agent), $"no native agent in {folder}");
        return agent;
    }

    /// <summary>Kills (SIGKILL) every process on this machine that runs <paramref name="module"/>'s deployed native agent,
    /// and waits until each is gone: what it wrote is then all there is. Returns how many were killed.</summary>
    public static int KillAgents(NativeAgentModule module)
    {
        string agent = DeployedAgent(module);
        int killed = 0;
        foreach (string directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            string? executable;
            try
            {
                executable = new FileInfo(Path.Join(directory, "exe")).LinkTarget;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A process that ended meanwhile, or a kernel thread.
                continue;
            }

            if (executable != agent)
            {
                continue;
            }

            try
            {
                using Process process = Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit();
                killed++;
            }
            catch (ArgumentException)
            {
                // Gone already.
            }
        }

        return killed;
    }

    /// <summary>Asserts that <paramref name="actual"/> is <paramref name="expected"/>'s exact replica: the same items with the
    /// same types, contents, permission bits, owners, modification times to the nanosecond (links' own too), link targets
    /// and hard-link groups, the roots included. Both trees must have the same folder name (the snapshot names items by it).</summary>
    public static void AssertSameTree(string expected, string actual, string what)
    {
        string name = Path.GetFileName(expected);
        Assert.Equal(name, Path.GetFileName(actual));
        List<string> want = TreeSnapshot.Describe(Path.GetDirectoryName(expected)!, [name], TimeGranularity.Nanoseconds, long.MaxValue);
        List<string> got = TreeSnapshot.Describe(Path.GetDirectoryName(actual)!, [name], TimeGranularity.Nanoseconds, long.MaxValue);
        Assert.True(want.SequenceEqual(got), $"{what}: {TreeSnapshot.Difference(want, got)}");
    }
}
