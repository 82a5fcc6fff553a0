using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using PSReplica.Engine.Execution;

namespace PSReplica.Ssh.Transport;

/// <summary>An agent running on the server at the far end of an SSH connection, seen as one duplex stream.
/// Which command starts it: -RemoteCommand when given; else an agent installed with the module on the server
/// (under a PowerShell module path, run with the server's dotnet); else this module's native agent for the server's
/// platform (agent/native/&lt;rid&gt;/, by <c>uname -sm</c>), run directly; else, when the server has dotnet, the managed
/// agent's files of this module's agent/ folder (<see cref="AgentChoice"/>). A deployed agent is uploaded over SFTP into
/// ~/.cache/psreplica/agent/&lt;version&gt;[-&lt;rid&gt;]-&lt;hash&gt;/ once, checked by SHA-256 on every run, and run from
/// there; a new deployment prunes old ones (<see cref="AgentCache"/>).</summary>
internal sealed class RemoteAgentConnection : IDisposable
{
    private const string ManifestName = "SHA256SUMS";

    /// <summary>A file in a native agent's cache folder that says the agent could not run there (its first start after the
    /// upload failed, as on a noexec home): the launcher then skips it, and the choice goes on to the managed agent.</summary>
    private const string CannotRunMarker = "cannot-run";

    /// <summary>The launcher's line that says the agent follows in the same channel.</summary>
    private const string LaunchMarker = "psreplica-agent-follows";

    /// <summary>True (status 0) when the current directory holds every file of the manifest with its sum (sha256sum, or
    /// shasum on systems without it). It then touches the directory: its mtime is its last use, which pruning keeps by.</summary>
    private const string VerifyScript = "[ -f " + ManifestName + " ] && "
        + "{ if command -v sha256sum >/dev/null 2>&1; then sha256sum -c --status " + ManifestName + "; else shasum -a 256 -c -s " + ManifestName + "; fi; } "
        + "&& { touch . 2>/dev/null || :; }";

    /// <summary>A POSIX sh script that reports the server's dotnet and any installed agent, one key=value per line.
    /// dotnet is looked up on PATH, then under $DOTNET_ROOT, ~/.dotnet and the usual install directories, because a
    /// non-interactive SSH session often has a shorter PATH than a login.</summary>
    private const string ProbeScript =
        "d=$(command -v dotnet 2>/dev/null); "
        + "if [ -z \"$d\" ]; then for c in \"${DOTNET_ROOT:-/nonexistent}/dotnet\" \"$HOME/.dotnet/dotnet\" /usr/share/dotnet/dotnet /usr/lib/dotnet/dotnet "
        + "/usr/local/share/dotnet/dotnet /opt/dotnet/dotnet /usr/local/bin/dotnet; do if [ -x \"$c\" ]; then d=$c; break; fi; done; fi; "
        + "echo \"dotnet=$d\"; echo \"home=$HOME\"; echo \"uname=$(uname -sm 2>/dev/null)\"; echo \"glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null)\"; installed=; "
        + "for a in \"$HOME\"/.local/share/powershell/Modules/PSReplica/*/agent/PSReplica.Agent.dll \"$HOME\"/.local/share/powershell/Modules/PSReplica/agent/PSReplica.Agent.dll "
        + "/usr/local/share/powershell/Modules/PSReplica/*/agent/PSReplica.Agent.dll /usr/local/share/powershell/Modules/PSReplica/agent/PSReplica.Agent.dll "
        + "/opt/microsoft/powershell/7/Modules/PSReplica/*/agent/PSReplica.Agent.dll; do if [ -f \"$a\" ]; then echo \"installed=$a\"; installed=1; fi; done";

    private const string FromRemoteCommand = "started by -RemoteCommand";

    private readonly SshSession? _session;
    private readonly ICommandChannel _channel;

    private RemoteAgentConnection(SshSession? session, ICommandChannel channel, string command, string description, string origin)
    {
        _session = session;
        _channel = channel;
        Command = command;
        Description = description;
        Origin = origin;
    }

    /// <summary>The command that started the agent.</summary>
    public string Command { get; }

    /// <summary>Which agent runs, how it was found and why it was chosen, for -Verbose: -RemoteCommand's, one installed
    /// with the module on the server (where), or this module's native or managed agent deployed into the server's cache
    /// (uploaded now or found there).</summary>
    public string Origin { get; }

    /// <summary>user@host, for messages.</summary>
    public string Description { get; }

    public Stream Stream => _channel.Stream;

    /// <summary>What the agent wrote on its standard error, for a failed handshake's message.</summary>
    public string StandardError => _channel.StandardError;

    /// <summary>Where the module keeps the agent's files: agent/ beside its assemblies (this one is laid out in the module
    /// folder with the cmdlets' PSReplica.dll).</summary>
    public static string DefaultAgentDirectory =>
        Path.Join(Path.GetDirectoryName(typeof(RemoteAgentConnection).Assembly.Location), "agent");

    /// <exception cref="SyncException">SSH failures (HostKeyUnknown, HostKeyMismatch, SshAuthenticationFailed,
    /// SshConnectionFailed, SshConnectionTimeout) and AgentFailed when no agent can be started.</exception>
    public static RemoteAgentConnection Open(RemoteConnectionSettings settings, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(settings);
        SshEndpoint endpoint = settings.Remote.Endpoint;
        string? user = settings.User ?? endpoint.User;
        int? port = settings.Port ?? endpoint.Port;
        if (settings.SshCommand is { } sshCommand)
        {
            var external = new ExternalSshOptions
            {
                CommandLine = sshCommand,
                Host = endpoint.Host,
                Port = port,
                User = user,
                IdleTimeout = settings.IdleTimeout,
            };
            string description = (user is null ? string.Empty : user + "@") + endpoint.Host;
            if (settings.RemoteCommand is { } given)
            {
                return new RemoteAgentConnection(null, ExternalSshCommand.Start(external, given), given, description, FromRemoteCommand);
            }

            (ICommandChannel channel, string command, string origin) = LaunchOrFail(AgentHost.Of(external), settings, description, cancellation);
            return new RemoteAgentConnection(null, channel, command, description, origin);
        }

        SshSession session = Connect(settings, cancellation);
        try
        {
            return Start(session, settings, ownsSession: true, cancellation);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Logs in to the server with SSH.NET (host key verified), without starting anything there.</summary>
    /// <exception cref="SyncException">HostKeyUnknown, HostKeyMismatch, SshAuthenticationFailed, SshConnectionFailed,
    /// SshConnectionTimeout.</exception>
    public static SshSession Connect(RemoteConnectionSettings settings, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(settings);
        SshEndpoint endpoint = settings.Remote.Endpoint;
        return SshConnector.Connect(new SshConnectionOptions
        {
            Host = endpoint.Host,
            Port = settings.Port ?? endpoint.Port,
            User = settings.User ?? endpoint.User,
            Password = settings.Password,
            KeyFilePaths = settings.KeyFilePaths,
            KnownHostsPath = settings.KnownHostsPath,
            AcceptNewHostKey = settings.AcceptNewHostKey,
            ConnectTimeout = settings.ConnectTimeout,
            IdleTimeout = settings.IdleTimeout,
            ConfigPath = settings.ConfigPath,
        }, cancellation);
    }

    /// <summary>Starts the agent in <paramref name="session"/>; with <paramref name="ownsSession"/> false the session
    /// outlives this connection (the caller may still open SFTP on it).</summary>
    /// <exception cref="SyncException">AgentFailed when no agent can be started (none installed, no dotnet, the
    /// deployment refused), or the session's failure.</exception>
    public static RemoteAgentConnection Start(SshSession session, RemoteConnectionSettings settings, bool ownsSession, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(settings);
        string description = $"{session.Target.User}@{session.Target.Host}";
        if (settings.RemoteCommand is { } remoteCommand)
        {
            return new RemoteAgentConnection(ownsSession ? session : null, session.OpenCommand(remoteCommand), remoteCommand, description, FromRemoteCommand);
        }

        (ICommandChannel channel, string command, string origin) = LaunchOrFail(AgentHost.Of(session), settings, description, cancellation);
        return new RemoteAgentConnection(ownsSession ? session : null, channel, command, description, origin);
    }

    private static (ICommandChannel Channel, string Command, string Origin) LaunchOrFail(AgentHost host, RemoteConnectionSettings settings, string description,
        CancellationToken cancellation)
    {
        try
        {
            return Launch(host, settings.AgentDirectory ?? DefaultAgentDirectory, description, cancellation);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The deployment's upload was refused (a read-only or full home), or the probe's channel ended in a way SSH.NET
            // reports as an invalid operation (a server that runs no commands).
            throw new SyncException(ErrorIds.AgentFailed, SyncErrorKind.WriteError,
                $"{description}: no PSReplica agent could be started or deployed: {ex.Message}", description, ex);
        }
    }

    /// <summary>Ends the session: the agent has been told goodbye; its input is closed and its exit awaited briefly.</summary>
    public void Dispose()
    {
        try
        {
            _channel.CloseInput();
            _channel.WaitForExitAsync().Wait(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is SyncException or IOException or ObjectDisposedException or AggregateException or InvalidOperationException)
        {
            // The connection is going away in any case.
        }

        _channel.Dispose();
        _session?.Dispose();
    }

    /// <summary>Starts the agent with as few exec channels as the server allows. The launcher script probes the server and,
    /// when the agent <see cref="AgentChoice"/> would pick is this module's and already deployed with matching sums, says
    /// so on one line and becomes the agent in the same channel (each exec costs a round trip and a process start).
    /// Otherwise it prints the probe and exits, and the agent is picked or deployed and started in a second channel.</summary>
    private static (ICommandChannel Channel, string Command, string Origin) Launch(AgentHost host, string agentDirectory, string description,
        CancellationToken cancellation)
    {
        AgentFiles managed = AgentFiles.Read(agentDirectory);
        var natives = new Dictionary<string, AgentFiles>(StringComparer.Ordinal);
        foreach (string rid in AgentPlatform.RuntimeIdentifiers)
        {
            if (AgentFiles.ReadNative(agentDirectory, rid) is { } native)
            {
                natives.Add(rid, native);
            }
        }

        // The same order as AgentChoice: an installed agent (when dotnet can run it), the native agent when one fits the
        // server's uname (n), else the managed one where dotnet is.
        string cache = "$HOME/" + AgentCache.Folder + "/";
        // m: the managed agent may start here, where no native agent fits or the fitting one is marked as unable to run.
        string script = ProbeScript + "; n=; "
            + AgentPlatform.ShellCase("n", rid => natives.TryGetValue(rid, out AgentFiles? native) ? native.Name : null) + "; "
            + "if [ -z \"$installed\" ] || [ -z \"$d\" ]; then m=$d; "
            + "if [ -n \"$n\" ]; then if cd \"" + cache + "$n\" 2>/dev/null && [ ! -e " + CannotRunMarker + " ] && [ -x " + AgentFiles.NativeExecutable + " ] && "
            + VerifyScript + "; then echo " + LaunchMarker + "; exec ./" + AgentFiles.NativeExecutable + " --serve; fi; "
            + "if [ -e \"" + cache + "$n/" + CannotRunMarker + "\" ]; then echo native=" + AgentChoice.CannotRun + "; else m=; fi; fi; "
            + "if [ -n \"$m\" ] && cd \"" + cache + managed.Name + "\" 2>/dev/null && " + VerifyScript + "; then "
            + "echo " + LaunchMarker + "; exec \"$d\" " + AgentFiles.ManagedEntry + " --serve; fi; fi";
        string launcher = "sh -c " + RemoteShell.Quote(script);
        ICommandChannel channel = host.OpenCommand(launcher);
        AgentChoice choice;
        Dictionary<string, List<string>> probe;
        bool agentFollows;
        try
        {
            (probe, agentFollows) = ReadProbe(channel, description, cancellation);
            choice = AgentChoice.Choose(probe, natives.ContainsKey, description);
        }
        catch
        {
            channel.Dispose();
            throw;
        }

        if (agentFollows)
        {
            string what = choice.Kind == AgentKind.Native ? $"this module's native {choice.RuntimeIdentifier} agent" : "this module's agent";
            string name = choice.Kind == AgentKind.Native ? natives[choice.RuntimeIdentifier!].Name : managed.Name;
            return (channel, launcher, $"{what}, deployed earlier into ~/{AgentCache.Folder}/{name} (SHA-256 sums checked), "
                + $"started by the probe in its own channel ({choice.Why})");
        }

        channel.Dispose();
        (string Command, string Origin)? started = choice.Kind switch
        {
            AgentKind.Installed => InstalledAgent(probe, description)!.Value,
            AgentKind.Native => DeployedAgent(host, probe, natives[choice.RuntimeIdentifier!], choice, description, cancellation),
            _ => DeployedAgent(host, probe, managed, choice, description, cancellation),
        };
        if (started is null)
        {
            // The native agent was deployed but cannot run there: marked so, the next choice is the managed agent or none.
            probe["native"] = [AgentChoice.CannotRun];
            choice = AgentChoice.Choose(probe, natives.ContainsKey, description);
            started = DeployedAgent(host, probe, managed, choice, description, cancellation)!;
        }

        (string command, string origin) = started.Value;
        return (host.OpenCommand(command), command, origin);
    }

    /// <summary>Deploys (or finds) the agent and gives the command that starts it; null when a native agent cannot run there.</summary>
    private static (string Command, string Origin)? DeployedAgent(AgentHost host, Dictionary<string, List<string>> probe, AgentFiles files,
        AgentChoice choice, string description, CancellationToken cancellation)
    {
        string home = Single(probe, "home") ?? throw new SyncException(ErrorIds.AgentFailed, SyncErrorKind.NotFound,
            $"{description} did not say where its home directory is.", description);
        bool native = choice.Kind == AgentKind.Native;
        (string directory, long uploaded, IReadOnlyList<string> pruned) = Deploy(host, home, files, native, description, cancellation);
        if (native && !Runs(host, directory))
        {
            return null;
        }

        string how = uploaded < 0 ? $"deployed earlier into {directory} (SHA-256 sums checked)"
            : $"deployed now into {directory} ({files.Paths.Count} file(s), {RunReport.Bytes(uploaded)} uploaded {host.UploadsBy}, SHA-256 sums checked"
                + (pruned.Count > 0 ? $"; {pruned.Count} older version(s) pruned from the cache" : string.Empty) + ")";
        if (native)
        {
            return (RemoteShell.Join([directory + "/" + AgentFiles.NativeExecutable, "--serve"]),
                $"this module's native {choice.RuntimeIdentifier} agent, {how}, run directly ({choice.Why})");
        }

        string dotnet = Single(probe, "dotnet")!;
        return (RemoteShell.Join([dotnet, directory + "/" + AgentFiles.ManagedEntry, "--serve"]), $"this module's agent, {how}, run with {dotnet} ({choice.Why})");
    }

    /// <summary>Reads the probe's key=value lines up to the launcher's marker (AgentFollows: the channel now carries the
    /// agent) or to the channel's end. Reads byte by byte so that none of the agent's first bytes are taken.</summary>
    private static (Dictionary<string, List<string>> Probe, bool AgentFollows) ReadProbe(ICommandChannel channel, string description, CancellationToken cancellation)
    {
        var output = new StringBuilder();
        var line = new List<byte>();
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            int b = channel.Stream.ReadByte();
            if (b < 0)
            {
                break;
            }

            if (b != '\n')
            {
                line.Add((byte)b);
                continue;
            }

            string text = Encoding.UTF8.GetString(line.ToArray());
            line.Clear();
            if (text == LaunchMarker)
            {
                return (ParseProbe(output.ToString()), true);
            }

            output.Append(text).Append('\n');
        }

        output.Append(Encoding.UTF8.GetString(line.ToArray()));
        int? status = channel.WaitForExitAsync(cancellation).GetAwaiter().GetResult();
        if (status is not 0)
        {
            throw new SyncException(ErrorIds.AgentFailed, SyncErrorKind.ReadError,
                ProbeFailed(description, status, channel.StandardError), description);
        }

        return (ParseProbe(output.ToString()), false);
    }

    private static (string Command, string Origin)? InstalledAgent(Dictionary<string, List<string>> probe, string description)
    {
        if (!probe.TryGetValue("installed", out List<string>? agents) || agents.Count == 0)
        {
            return null;
        }

        string dotnet = Single(probe, "dotnet") ?? throw new SyncException(ErrorIds.AgentFailed, SyncErrorKind.NotFound,
            $"{description} has the PSReplica agent ('{agents[^1]}') but no 'dotnet' to run it.", description);
        string agent = Newest(agents);
        return (RemoteShell.Join([dotnet, agent, "--serve"]), $"installed with the module on the server at {agent}, run with {dotnet}");
    }

    /// <summary>The agent of the highest module version. The shell lists them in name order, which puts 10.0.0 before
    /// 9.0.0; an agent without a version folder ranks below every versioned one.</summary>
    private static string Newest(List<string> agents)
    {
        string newest = agents[0];
        Version? newestVersion = null;
        foreach (string agent in agents)
        {
            // <modules>/PSReplica/<version>/agent/PSReplica.Agent.dll; a prerelease label does not take part.
            string folder = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(agent)) ?? string.Empty);
            int dash = folder.IndexOf('-', StringComparison.Ordinal);
            if (Version.TryParse(dash < 0 ? folder : folder[..dash], out Version? version) && (newestVersion is null || version > newestVersion))
            {
                newest = agent;
                newestVersion = version;
            }
        }

        return newest;
    }

    /// <summary>Why the probe failed, for the error or the SFTP fallback's warning and -Verbose line. A server that allows
    /// SFTP only (ForceCommand internal-sftp) ends the probe with a status and says nothing.</summary>
    private static string ProbeFailed(string description, int? status, string standardError)
    {
        string said = standardError.Trim();
        return $"{description}: looking for the agent failed (exit status {status?.ToString(CultureInfo.InvariantCulture) ?? "none"}"
            + (said.Length > 0 ? "): " + said : ", nothing on standard error: the server may run no commands, SFTP only)");
    }

    private static Dictionary<string, List<string>> ParseProbe(string output)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == line.Length - 1)
            {
                continue;
            }

            string key = line[..equals];
            if (!result.TryGetValue(key, out List<string>? values))
            {
                values = [];
                result.Add(key, values);
            }

            values.Add(line[(equals + 1)..]);
        }

        return result;
    }

    private static string? Single(Dictionary<string, List<string>> probe, string key) =>
        probe.TryGetValue(key, out List<string>? values) && values.Count > 0 ? values[0] : null;

    /// <summary>Makes sure the server's agent cache holds exactly these agent files: checks their SHA-256 sums there,
    /// uploads them when they are missing or differ (a native agent made executable), checks again, and then prunes old
    /// versions from the cache. Returns the directory, the bytes uploaded (-1: none, the files were there) and the cache
    /// directories pruned.</summary>
    private static (string Directory, long Uploaded, IReadOnlyList<string> Pruned) Deploy(AgentHost host, string home, AgentFiles files, bool native,
        string description, CancellationToken cancellation)
    {
        string directory = home.TrimEnd('/') + "/" + AgentCache.Folder + "/" + files.Name;
        if (Verify(host, directory))
        {
            return (directory, -1, []);
        }

        long uploaded = host.Upload(directory, files.Paths, [(ManifestName, Encoding.UTF8.GetBytes(files.Manifest))], native, cancellation);
        if (!Verify(host, directory))
        {
            throw new SyncException(ErrorIds.AgentFailed, SyncErrorKind.WriteError,
                $"{description}: the agent's files in '{directory}' do not match their SHA-256 sums after uploading them.", directory);
        }

        return (directory, uploaded, Prune(host, files.Name, cancellation));
    }

    /// <summary>True when every file of the manifest is there with its sum (sha256sum, or shasum on systems without it).</summary>
    private static bool Verify(AgentHost host, string directory)
    {
        string script = "cd " + RemoteShell.Quote(directory) + " 2>/dev/null && " + VerifyScript;
        // The script reads no input, so no EOF is sent: one racing the command's quick end could make sshd drop the
        // connection (SshExecChannel.CloseInput).
        using ICommandChannel channel = host.OpenCommand("sh -c " + RemoteShell.Quote(script));
        return channel.WaitForExitAsync().GetAwaiter().GetResult() == 0;
    }

    /// <summary>Whether the native agent in <paramref name="directory"/> starts there (<c>--version</c>): a home mounted noexec,
    /// or a binary the server's loader refuses, fails this once, and the folder is marked (<see cref="CannotRunMarker"/>)
    /// so that later launches skip it without trying. A marked folder is not tried again.</summary>
    private static bool Runs(AgentHost host, string directory)
    {
        string script = "cd " + RemoteShell.Quote(directory) + " || exit 1; [ ! -e " + CannotRunMarker + " ] || exit 1; "
            + "o=$(./" + AgentFiles.NativeExecutable + " --version 2>&1) && exit 0; s=$?; "
            + "printf 'exit status %s: %s\\n' \"$s\" \"$o\" > " + CannotRunMarker + "; exit 1";
        using ICommandChannel channel = host.OpenCommand("sh -c " + RemoteShell.Quote(script));
        return channel.WaitForExitAsync().GetAwaiter().GetResult() == 0;
    }

    /// <summary>Prunes the server's agent cache after a deployment (<see cref="AgentCache"/>); the names removed.</summary>
    private static List<string> Prune(AgentHost host, string current, CancellationToken cancellation)
    {
        using ICommandChannel channel = host.OpenCommand("sh -c " + RemoteShell.Quote(AgentCache.PruneScript(current)));
        using var reader = new StreamReader(channel.Stream, Encoding.UTF8);
        string output = reader.ReadToEndAsync(cancellation).GetAwaiter().GetResult();
        channel.WaitForExitAsync(cancellation).GetAwaiter().GetResult();
        return ParseProbe(output).TryGetValue("pruned", out List<string>? pruned) ? pruned : [];
    }
}
