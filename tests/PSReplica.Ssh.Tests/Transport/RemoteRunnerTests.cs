using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using PSReplica.Engine.Tests;
using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>The transport policy against real sshds: Auto falls back to SFTP with one warning when no agent can start;
/// -Transport Agent, -RemoteCommand and -SshCommand never fall back; what SFTP cannot do is refused before connecting,
/// or, after a failed agent, with the reason SFTP was tried.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(SshServerGroup.Name)]
public sealed class RemoteRunnerTests(TestSshServer server, SftpOnlySshServer sftpOnly) : IClassFixture<SftpOnlySshServer>, IDisposable
{
    private const string FallbackWarningEnd =
        "replicating over SFTP instead: whole files only, no delta transfer (use -Transport Agent to make this an error).";

    private readonly TestSshServer _server = server;
    private readonly TestSshServer _sftpOnly = sftpOnly.Server;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Auto_deploys_the_agent_and_runs_through_it_without_a_warning()
    {
        string source = MakeSource();
        byte[] big = new byte[256 * 1024];
        new Random(4711).NextBytes(big);
        File.WriteAllBytes(Path.Join(source, "big.bin"), big);
        string destination = _dir.Combine("deployed");
        RemoteRunSettings settings = Settings(_server, destination);
        settings = settings with { Connection = settings.Connection with { AgentDirectory = SolutionOutput.Of("PSReplica.Agent") } };
        var first = new RecordingObserver();

        RemoteRunner.Run(settings, Options(source, destination), first, CancellationToken.None);

        Assert.Empty(first.Warnings);
        Assert.Empty(first.Errors);
        Assert.Equal(big, File.ReadAllBytes(Path.Join(destination, "big.bin")));
        Assert.NotEmpty(Directory.GetFiles(Path.Join(_server.Home, ".cache", "psreplica", "agent"), "SHA256SUMS", SearchOption.AllDirectories));

        // Only the agent reuses what the destination holds; SFTP replaces whole files.
        big[1000] ^= 0xFF;
        File.WriteAllBytes(Path.Join(source, "big.bin"), big);
        File.SetLastWriteTimeUtc(Path.Join(source, "big.bin"), DateTime.UtcNow.AddMinutes(1));
        var second = new RecordingObserver();
        SyncSummary summary = RemoteRunner.Run(settings, Options(source, destination) with { TransferMode = TransferMode.Delta }, second, CancellationToken.None);

        Assert.Empty(second.Warnings);
        Assert.Equal(big, File.ReadAllBytes(Path.Join(destination, "big.bin")));
        Assert.True(summary.BytesMatched > 200 * 1024, $"{summary.BytesMatched} bytes matched");
    }

    [Fact]
    public void Auto_falls_back_to_SFTP_with_one_warning_when_the_server_runs_no_commands()
    {
        string source = MakeSource();
        string destination = _dir.Combine("pushed");
        var observer = new RecordingObserver();

        SyncSummary summary = RemoteRunner.Run(Settings(_sftpOnly, destination), Options(source, destination), observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        string warning = Assert.Single(observer.Warnings);
        Assert.StartsWith("No PSReplica agent can run on 127.0.0.1 (", warning, StringComparison.Ordinal);
        Assert.EndsWith(FallbackWarningEnd, warning, StringComparison.Ordinal);
        Assert.Equal("one", File.ReadAllText(Path.Join(destination, "a.txt")));
        Assert.Equal("two", File.ReadAllText(Path.Join(destination, "sub", "b.txt")));
        Assert.Equal(0, summary.BytesMatched);
        Assert.Contains(observer.Items, i => i.RelativePath == "sub/b.txt" && i.Action == SyncAction.Create);

        // Unasked, the transport (like the engine) says nothing more.
        Assert.Empty(observer.Verbose);
        Assert.Empty(observer.Debug);
    }

    [Fact]
    public void Verbose_says_where_it_connected_and_which_agent_runs_and_how_it_was_found()
    {
        string source = MakeSource();
        string destination = _dir.Combine("verbose-agent");
        RemoteRunSettings settings = Settings(_server, destination);
        settings = settings with { Connection = settings.Connection with { AgentDirectory = SolutionOutput.Of("PSReplica.Agent") } };
        var first = new RecordingObserver { WantsVerbose = true };
        var second = new RecordingObserver { WantsVerbose = true, WantsDebug = true };

        RemoteRunner.Run(settings, Options(source, destination), first, CancellationToken.None);
        RemoteRunner.Run(settings, Options(source, destination), second, CancellationToken.None);

        string login = $"{_server.User}@{_server.Host}";
        Assert.Equal($"Remote destination: {destination} on {login}:{_server.Port}; transport: the PSReplica agent (installed on the server, else deployed "
            + "there), else SFTP (-Transport Auto)", first.Verbose[0]);
        Assert.Matches($@"^Connected to {Regex.Escape(login)} port {_server.Port} in \d+\.\d\d s with the built-in SSH client: key exchange \S+, "
            + $@"cipher \S+; host key ssh-ed25519 SHA256:\S+ known from {Regex.Escape(_server.KnownHostsPath)}$", first.Verbose[1]);
        // The first run uploads the agent unless an earlier test did; either way the second finds it in the cache and the
        // probe becomes the agent.
        Assert.Matches($@"^Transport: the PSReplica agent on {Regex.Escape(login)}: this module's agent, deployed (now|earlier) into .+; "
            + @"started in \d+\.\d\d s$", first.Verbose[2]);
        Assert.Matches($@"^Transport: the PSReplica agent on {Regex.Escape(login)}: this module's agent, deployed earlier into "
            + @"~/\.cache/psreplica/agent/\S+ \(SHA-256 sums checked\), started by the probe in its own channel \(no PSReplica module is installed on the server; "
            + @"this module has no native linux-\S+ agent \(a development build\); the server has \.NET \(\S+\)\); started in \d+\.\d\d s$", second.Verbose[2]);
        Assert.Matches(@"^Agent: version \S+, protocol \d+ \(handshake \d+\.\d\d s\)$", second.Verbose[3]);
        Assert.Contains("Filter: no rules (every item is transferred)", second.Verbose);
        Assert.Matches(@"^Scanned the destination: 3 item\(s\) in 2 directories, \d+\.\d\d s listing$",
            Assert.Single(second.Verbose, line => line.StartsWith("Scanned the destination: ", StringComparison.Ordinal)));
        Assert.Matches(@"^Carried out the plan in \d+\.\d\d s: no change, 0 skipped, 0 error\(s\); ", second.Verbose[^1]);
        Assert.Contains(second.Debug, line => line.StartsWith("SSH negotiation: kex ", StringComparison.Ordinal));
        Assert.Contains(second.Debug, line => line.StartsWith("Agent capabilities: ", StringComparison.Ordinal));
        Assert.Empty(first.Debug);
    }

    [Fact]
    public void Verbose_gives_the_reason_for_the_SFTP_fallback()
    {
        string destination = _dir.Combine("verbose-fallback");
        var observer = new RecordingObserver { WantsVerbose = true };

        RemoteRunner.Run(Settings(_sftpOnly, destination), Options(MakeSource(), destination), observer, CancellationToken.None);

        string warning = Assert.Single(observer.Warnings);
        const string Fallback = "Transport: SFTP, the fallback, because no PSReplica agent can run: ";
        string transport = Assert.Single(observer.Verbose, line => line.StartsWith("Transport: ", StringComparison.Ordinal));
        Assert.StartsWith(Fallback, transport, StringComparison.Ordinal);
        // The reason is the one the warning gives.
        string reason = transport[Fallback.Length..].TrimEnd('.');
        Assert.Contains("agent", reason, StringComparison.Ordinal);
        Assert.Contains($"({reason}); replicating over SFTP instead", warning, StringComparison.Ordinal);
        Assert.Matches(@"^Carried out the plan in \d+\.\d\d s: 4 created, 0 skipped, 0 error\(s\); 6 bytes sent, 0 bytes reused from the destination$",
            observer.Verbose[^1]);
    }

    [Fact]
    public void Verbose_names_SFTP_when_it_was_asked_for()
    {
        string destination = _dir.Combine("verbose-sftp");
        var observer = new RecordingObserver { WantsVerbose = true };

        RemoteRunner.Run(Settings(_server, destination) with { Transport = RemoteTransport.Sftp }, Options(MakeSource(), destination), observer, CancellationToken.None);

        Assert.EndsWith("; transport: SFTP only (-Transport Sftp)", observer.Verbose[0], StringComparison.Ordinal);
        Assert.Contains("Transport: SFTP, as -Transport Sftp asks (whole files, no delta transfer)", observer.Verbose);
        Assert.Empty(observer.Warnings);
    }

    [Fact]
    public void Auto_falls_back_when_the_module_has_no_agent_files_to_deploy()
    {
        string source = MakeSource();
        string destination = _dir.Combine("pushed");
        var observer = new RecordingObserver();
        RemoteRunSettings settings = Settings(_server, destination);
        settings = settings with { Connection = settings.Connection with { AgentDirectory = _dir.Combine("no-agent-here") } };

        RemoteRunner.Run(settings, Options(source, destination), observer, CancellationToken.None);

        string warning = Assert.Single(observer.Warnings);
        Assert.Contains("has no agent files to deploy", warning, StringComparison.Ordinal);
        Assert.EndsWith(FallbackWarningEnd, warning, StringComparison.Ordinal);
        Assert.Equal("one", File.ReadAllText(Path.Join(destination, "a.txt")));
    }

    [Fact]
    public void Transport_Agent_makes_a_server_without_an_agent_an_error_and_touches_nothing()
    {
        string destination = _dir.Combine("agent-only");
        var observer = new RecordingObserver();

        SyncException error = Assert.Throws<SyncException>(() => RemoteRunner.Run(Settings(_sftpOnly, destination) with { Transport = RemoteTransport.Agent },
            Options(MakeSource(), destination), observer, CancellationToken.None));

        Assert.Equal(ErrorIds.AgentFailed, error.ErrorId);
        Assert.Empty(observer.Warnings);
        Assert.False(Directory.Exists(destination));
    }

    [Fact]
    public void An_explicit_RemoteCommand_that_is_no_agent_is_reported_not_papered_over()
    {
        string destination = _dir.Combine("explicit-command");
        var observer = new RecordingObserver();
        RemoteRunSettings settings = Settings(_server, destination);
        settings = settings with { Connection = settings.Connection with { RemoteCommand = "echo not-an-agent >&2; exit 3" } };

        SyncException error = Assert.Throws<SyncException>(() => RemoteRunner.Run(settings, Options(MakeSource(), destination), observer, CancellationToken.None));

        Assert.Equal(ErrorIds.AgentFailed, error.ErrorId);
        Assert.StartsWith($"The PSReplica agent did not start on {_server.User}@127.0.0.1 (command: echo not-an-agent >&2; exit 3): ", error.Message, StringComparison.Ordinal);
        Assert.Empty(observer.Warnings);
        Assert.False(Directory.Exists(destination));
    }

    [Fact]
    public void An_SshCommand_pipe_never_falls_back_to_SFTP()
    {
        // A server that runs no commands: the agent can neither be found nor deployed through the ssh client.
        string destination = _dir.Combine("piped");
        var observer = new RecordingObserver();
        RemoteRunSettings settings = Settings(_sftpOnly, destination);
        settings = settings with
        {
            Connection = settings.Connection with { SshCommand = DeploymentScenario.SshCommand(_sftpOnly), AgentDirectory = SolutionOutput.Of("PSReplica.Agent") },
        };

        SyncException error = Assert.Throws<SyncException>(() => RemoteRunner.Run(settings, Options(MakeSource(), destination), observer, CancellationToken.None));

        Assert.Equal(ErrorIds.AgentFailed, error.ErrorId);
        Assert.Contains("looking for the agent failed", error.Message, StringComparison.Ordinal);
        Assert.Empty(observer.Warnings);
        Assert.False(Directory.Exists(destination));
    }

    [Theory]
    [InlineData("-Compress")]
    [InlineData("-BandwidthLimit")]
    [InlineData("-RemoteCommand")]
    [InlineData("-SshCommand")]
    public void Sftp_refuses_an_agent_only_option_before_connecting(string option)
    {
        // Nothing listens on the port: had the runner connected first, the error would be SshConnectionFailed.
        RemoteRunSettings settings = Unreachable(_dir.Combine("refused"));
        settings = option switch
        {
            "-Compress" => settings with { CompressionLevel = 6 },
            "-BandwidthLimit" => settings with { BandwidthLimit = 1024 },
            "-RemoteCommand" => settings with { Connection = settings.Connection with { RemoteCommand = "true" } },
            _ => settings with { Connection = settings.Connection with { SshCommand = "ssh" } },
        };

        SyncException error = Assert.Throws<SyncException>(() =>
            RemoteRunner.Run(settings, Options(MakeSource(), _dir.Combine("refused")), new RecordingObserver(), CancellationToken.None));

        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.Equal($"{option} works with the PSReplica agent only, not over SFTP.", error.Message);
        Assert.Equal(option, error.Target);
    }

    [Fact]
    public void Sftp_refuses_an_engine_option_it_cannot_honour_before_connecting()
    {
        SyncException error = Assert.Throws<SyncException>(() => RemoteRunner.Run(Unreachable(_dir.Combine("refused")),
            Options(MakeSource(), _dir.Combine("refused")) with { CompareMode = CompareMode.Checksum }, new RecordingObserver(), CancellationToken.None));

        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.Contains("SFTP", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sftp_with_agent_options_unset_gets_as_far_as_connecting()
    {
        // The counterpart of the refusals above: the same unreachable settings without an agent-only option fail only
        // when connecting, so those refusals are not a failure to connect in disguise.
        SyncException error = Assert.Throws<SyncException>(() => RemoteRunner.Run(Unreachable(_dir.Combine("refused")),
            Options(MakeSource(), _dir.Combine("refused")), new RecordingObserver(), CancellationToken.None));

        Assert.Equal(ErrorIds.SshConnectionFailed, error.ErrorId);
    }

    [Fact]
    public void After_a_failed_agent_an_option_SFTP_cannot_honour_says_why_SFTP_was_tried()
    {
        string destination = _dir.Combine("fallback-compress");
        var observer = new RecordingObserver();

        SyncException error = Assert.Throws<SyncException>(() => RemoteRunner.Run(Settings(_sftpOnly, destination) with { CompressionLevel = 6 },
            Options(MakeSource(), destination), observer, CancellationToken.None));

        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.StartsWith("No PSReplica agent can run on the server (", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("), so SFTP would be used; -Compress works with the PSReplica agent only, not over SFTP.", error.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorIds.AgentFailed, Assert.IsType<SyncException>(error.InnerException).ErrorId);
        Assert.Empty(observer.Warnings);
        Assert.False(Directory.Exists(destination));
    }

    private static RemoteRunSettings Settings(TestSshServer target, string remotePath, RemoteSide side = RemoteSide.Destination) => new()
    {
        Connection = new RemoteConnectionSettings
        {
            Remote = new RemotePath(new SshEndpoint(target.Host, target.User, target.Port), remotePath),
            KeyFilePaths = [target.UserKeyPath],
            KnownHostsPath = target.KnownHostsPath,
            ConfigPath = target.EmptyConfigPath,
            ConnectTimeout = TimeSpan.FromSeconds(20),
        },
        Side = side,
    };

    private RemoteRunSettings Unreachable(string remotePath)
    {
        RemoteRunSettings settings = Settings(_server, remotePath) with { Transport = RemoteTransport.Sftp };
        return settings with
        {
            Connection = settings.Connection with { Remote = new RemotePath(new SshEndpoint("127.0.0.1", _server.User, ClosedPort()), remotePath) },
        };
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static SyncOptions Options(string source, string destination) => new() { Source = source, Destination = destination };

    private string MakeSource()
    {
        string source = _dir.Combine("source-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(Path.Join(source, "sub"));
        File.WriteAllText(Path.Join(source, "a.txt"), "one");
        File.WriteAllText(Path.Join(source, "sub", "b.txt"), "two");
        return source;
    }
}
