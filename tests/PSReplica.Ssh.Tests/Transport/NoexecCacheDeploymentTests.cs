using System.Text.RegularExpressions;
using PSReplica.Ssh.Transport;
using static PSReplica.Ssh.Tests.DeploymentScenario;

namespace PSReplica.Ssh.Tests;

/// <summary>A server whose ~/.cache is mounted noexec (as on hosts whose /home is): the native agent is uploaded, fails its
/// first start, and its cache folder is marked so. With .NET there the managed agent serves instead, now and on every
/// later run (the launcher skips the marked folder without trying it); without .NET no agent can run, so -Transport Agent
/// stops with the reason and Auto replicates over SFTP.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NoexecCacheDeploymentTests(NoexecCacheAgentModule module) : IClassFixture<NoexecCacheAgentModule>, IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_managed_agent_serves_where_the_native_one_cannot_run()
    {
        ClearCache(module.Server);

        (string push, string deltaPush, string pull) = PushDeltaPull(module, _dir);

        string rid = Regex.Escape(module.RuntimeIdentifier);
        string cannotRun = $@"the native {rid} agent cannot run from the server's agent cache \(~/\.cache/psreplica/agent on a noexec file system, "
            + @"or the program does not start there; remove its folder there to try again\); the server has \.NET";
        Assert.Matches(@"^Transport: the PSReplica agent on \S+: this module's agent, deployed now into \S+ \(\d+ file\(s\), .+ uploaded over SFTP, "
            + $@"SHA-256 sums checked\), run with /\S+/dotnet \(no PSReplica module is installed on the server; {cannotRun}", push);
        Assert.Matches($@"^Transport: the PSReplica agent on \S+: this module's agent, deployed earlier .+started by the probe in its own channel \(.+{cannotRun}", deltaPush);
        Assert.Matches($@"this module's agent, deployed earlier .+{cannotRun}", pull);
        string[] cached = CachedAgents(module.Server);
        Assert.Equal(2, cached.Length);
        string native = Assert.Single(cached, name => name.Contains($"-{module.RuntimeIdentifier}-", StringComparison.Ordinal));
        string marker = File.ReadAllText(module.Server.SessionView(Path.Join(module.Server.Home, ".cache", "psreplica", "agent", native, "cannot-run")));
        Assert.StartsWith("exit status 126: ", marker, StringComparison.Ordinal);
    }
}

/// <summary>The noexec cache on a server without .NET.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NoexecCacheWithoutDotnetDeploymentTests(NoexecCacheWithoutDotnetAgentModule module)
    : IClassFixture<NoexecCacheWithoutDotnetAgentModule>, IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void No_agent_can_run_so_Agent_stops_and_Auto_falls_back_to_SFTP()
    {
        ClearCache(module.Server);
        string source = MakeTree(_dir.Combine("source"));
        string remote = _dir.Combine("remote");
        var observer = new Engine.Tests.RecordingObserver();

        SyncException error = Assert.Throws<SyncException>(() => RemoteRunner.Run(Settings(module, remote, RemoteSide.Destination), Options(source, remote),
            observer, CancellationToken.None));

        Assert.Equal(ErrorIds.AgentFailed, error.ErrorId);
        Assert.Contains($"the native {module.RuntimeIdentifier} agent cannot run from the server's agent cache", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(remote));

        // Auto: the marked folder is skipped at once, and SFTP does the work (whole seconds: SFTP version 3's times).
        var fallback = new Engine.Tests.RecordingObserver();
        RemoteRunner.Run(Settings(module, remote, RemoteSide.Destination) with { Transport = RemoteTransport.Auto }, Options(source, remote),
            fallback, CancellationToken.None);

        string warning = Assert.Single(fallback.Warnings);
        Assert.Contains("agent cannot run from the server's agent cache", warning, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Join(source, "big.bin")), File.ReadAllBytes(Path.Join(remote, "big.bin")));
        Assert.Single(CachedAgents(module.Server));
    }
}
