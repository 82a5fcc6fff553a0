using System.Text.RegularExpressions;
using PSReplica.Engine.Agent;
using PSReplica.Engine.Tests;
using PSReplica.Ssh.Transport;
using static PSReplica.Ssh.Tests.DeploymentScenario;

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
        ClearCache(server);
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
            RemoteRunner.Run(Settings(_module, remote, RemoteSide.Destination), Options(source, remote), first, CancellationToken.None);
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
        SyncSummary pushed = RemoteRunner.Run(Settings(_module, remote, RemoteSide.Destination), Options(source, remote) with { TransferMode = TransferMode.Delta },
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
        SyncSummary pulled = RemoteRunner.Run(Settings(_module, remote, RemoteSide.Source), Options(remote, local) with { TransferMode = TransferMode.Delta },
            pull, CancellationToken.None);

        Assert.Empty(pull.Warnings);
        Assert.Empty(pull.Errors);
        Assert.True(pulled.BytesMatched > 200 * 1024, $"{pulled.BytesMatched} bytes matched: the delta path was not used");
        AssertSameTree(remote, local);
    }

    [Fact]
    public void The_ssh_client_of_SshCommand_deploys_the_native_agent_too()
    {
        TestSshServer server = _module.Server;
        ClearCache(server);

        (string push, string deltaPush, string pull) = PushDeltaPull(_module, _dir, settings => settings with
        {
            Connection = settings.Connection with { SshCommand = SshCommand(server) },
        });

        string rid = Regex.Escape(_module.RuntimeIdentifier);
        Assert.Matches($@"^Transport: the PSReplica agent on \S+: this module's native {rid} agent, deployed now into {Regex.Escape(server.Home)}/\.cache/psreplica/agent/\S+-{rid}-[0-9a-f]{{16}} "
            + $@"\(1 file\(s\), .+ uploaded through the ssh client, SHA-256 sums checked\), run directly \(.+the native {rid} agent fits its platform .+\(the server has none\)\); ",
            push);
        Assert.Matches($@"^Transport: the PSReplica agent on \S+: this module's native {rid} agent, deployed earlier into ~/\.cache/psreplica/agent/\S+-{rid}-\S+ "
            + @"\(SHA-256 sums checked\), started by the probe in its own channel ", deltaPush);
        Assert.Matches(@"started by the probe in its own channel ", pull);
        Assert.Matches($@"-{rid}-[0-9a-f]{{16}}$", Assert.Single(CachedAgents(server)));
    }
}
