using System.Diagnostics;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Scanning;

namespace PSReplica.Ssh.Transport;

/// <summary>The transport policy of a run over SSH: connect, start the agent (probe, deploy, launch) and run through it,
/// or use SFTP when asked to or, under Auto, when no agent can run on the server (with a warning). -SshCommand is only a
/// pipe to an agent and -RemoteCommand asks for one agent, so neither falls back. Options SFTP cannot honour are refused
/// before anything is touched.</summary>
public static class RemoteRunner
{
    /// <summary>Plans and executes (a dry run with <paramref name="dryRun"/>) between the local side of
    /// <paramref name="options"/> and the server's.</summary>
    /// <exception cref="SyncException">SSH failures (HostKeyUnknown, HostKeyMismatch, SshAuthenticationFailed,
    /// SshConnectionFailed, SshConnectionTimeout), AgentFailed when the agent is required and cannot run,
    /// InvalidParameterCombination for what SFTP cannot do, and the run's own failures.</exception>
    public static SyncSummary Run(RemoteRunSettings settings, SyncOptions options, ISyncObserver observer, CancellationToken cancellation,
        bool dryRun = false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(observer);
        if (observer.WantsVerbose)
        {
            ReportPolicy(settings, observer);
        }

        // The local side is listed while the connection is made and the agent starts (SFTP runs plan their own way).
        using LocalScan? localScan = settings.Transport == RemoteTransport.Sftp ? null : RemoteReplicator.StartLocalScan(options, settings.Side);
        using ServerSession server = Open(settings, options, observer, cancellation);
        return server.Run(options, observer, cancellation, dryRun, localScan);
    }

    /// <summary>Sync-Directory -Watch to a server: the local source is watched and each settled batch of changes goes
    /// through one long-lived connection and agent; a lost or unreachable server is tried again with back-off and caught up
    /// with when it is back (<see cref="RemoteWatch"/>). Runs until <paramref name="cancellation"/> is cancelled
    /// (OperationCanceledException) or the watch cannot go on (a SyncException).</summary>
    /// <exception cref="SyncException">InvalidParameterCombination for a remote source or what -Watch cannot do; failures
    /// another try cannot mend (host key, login, refused options).</exception>
    public static void Watch(RemoteRunSettings settings, SyncOptions options, Engine.Watching.WatchSettings watch, ISyncObserver observer,
        int retryCount, TimeSpan retryDelay, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        RemoteWatch.Run(settings, options, watch, observer, retryCount, retryDelay, root => Engine.Watching.TreeWatcher.Start(options.FileSystem, root),
            BackOff.Default, synced: null, cancellation);
    }

    /// <summary>Connects and starts what the runs will go through, by the transport policy: the agent (its handshake
    /// done), or SFTP when asked to or, under Auto, when no agent can run (with a warning). What SFTP cannot do with
    /// <paramref name="options"/> is refused before anything is touched.</summary>
    /// <exception cref="SyncException">As <see cref="Run"/>, before any run.</exception>
    internal static ServerSession Open(RemoteRunSettings settings, SyncOptions options, ISyncObserver observer, CancellationToken cancellation)
    {
        RemoteConnectionSettings connection = settings.Connection;
        bool verbose = observer.WantsVerbose;
        if (settings.Transport == RemoteTransport.Sftp)
        {
            CheckSftpOptions(settings, options, null);
        }

        if (connection.SshCommand is not null)
        {
            // The system ssh is only a pipe to an agent: there is no SFTP session to fall back on.
            long starting = Stopwatch.GetTimestamp();
            RemoteAgentConnection piped = RemoteAgentConnection.Open(connection, cancellation);
            try
            {
                if (verbose)
                {
                    ReportAgent(piped, starting, observer);
                }

                return new ServerSession(piped, Greet(piped, settings, observer, mayFallBack: false, cancellation, out _)!, null);
            }
            catch
            {
                piped.Dispose();
                throw;
            }
        }

        // An explicit -RemoteCommand asks for that agent: its failure is reported, never papered over.
        bool mayFallBack = settings.Transport == RemoteTransport.Auto && connection.RemoteCommand is null;
        long connecting = Stopwatch.GetTimestamp();
        SshSession session = RemoteAgentConnection.Connect(connection, cancellation);
        try
        {
            if (verbose)
            {
                ReportSession(session, Stopwatch.GetElapsedTime(connecting), observer);
            }

            SyncException? noAgent = null;
            if (settings.Transport != RemoteTransport.Sftp)
            {
                RemoteAgentConnection? agent = null;
                try
                {
                    long starting = Stopwatch.GetTimestamp();
                    agent = RemoteAgentConnection.Start(session, connection, ownsSession: false, cancellation);
                    if (verbose)
                    {
                        ReportAgent(agent, starting, observer);
                    }
                }
                catch (SyncException ex) when (mayFallBack && ex.ErrorId == ErrorIds.AgentFailed)
                {
                    noAgent = ex;
                }

                if (agent is not null)
                {
                    try
                    {
                        if (Greet(agent, settings, observer, mayFallBack, cancellation, out noAgent) is { } replicator)
                        {
                            return new ServerSession(agent, replicator, session);
                        }
                    }
                    catch
                    {
                        agent.Dispose();
                        throw;
                    }

                    agent.Dispose();
                }
            }

            return new ServerSession(OpenSftp(session, settings, options, observer, noAgent, cancellation), settings.Side, connection.Remote.Path, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The SFTP session, as asked for or after the agent failed (<paramref name="noAgent"/>, with a warning).</summary>
    private static SftpSession OpenSftp(SshSession session, RemoteRunSettings settings, SyncOptions options, ISyncObserver observer,
        SyncException? noAgent, CancellationToken cancellation)
    {
        RemoteConnectionSettings connection = settings.Connection;
        if (noAgent is not null)
        {
            CheckSftpOptions(settings, options, noAgent);
            observer.OnWarning($"No PSReplica agent can run on {connection.Remote.Endpoint.Host} ({noAgent.Message.TrimEnd('.')}); "
                + "replicating over SFTP instead: whole files only, no delta transfer (use -Transport Agent to make this an error).");
            if (observer.WantsVerbose)
            {
                observer.OnVerbose($"Transport: SFTP, the fallback, because no PSReplica agent can run: {noAgent.Message}");
            }
        }
        else if (observer.WantsVerbose)
        {
            observer.OnVerbose("Transport: SFTP, as -Transport Sftp asks (whole files, no delta transfer)");
        }

        SftpSession sftp;
        try
        {
            sftp = session.OpenSftp(cancellation);
        }
        catch (SyncException ex) when (noAgent is not null)
        {
            throw new SyncException(ErrorIds.AgentFailed, SyncErrorKind.NotFound, $"{noAgent.Message} SFTP is not available either: {ex.Message}", noAgent.Target, ex);
        }

        if (observer.WantsDebug)
        {
            observer.OnDebug($"SFTP: working directory {sftp.WorkingDirectory}; hardlink@openssh.com {(sftp.OffersHardLinks ? "offered" : "not offered")}");
        }

        return sftp;
    }

    /// <summary>-Verbose: which side is remote, where, and how the transport will be chosen.</summary>
    internal static void ReportPolicy(RemoteRunSettings settings, ISyncObserver observer)
    {
        RemoteConnectionSettings connection = settings.Connection;
        string side = settings.Side == RemoteSide.Source ? "source" : "destination";
        string policy = connection.SshCommand is not null ? "the agent through -SshCommand's pipe (" + connection.SshCommand + "); no SFTP fallback"
            : connection.RemoteCommand is not null ? "the agent -RemoteCommand starts; no SFTP fallback"
            : settings.Transport switch
            {
                RemoteTransport.Agent => "the PSReplica agent only (-Transport Agent)",
                RemoteTransport.Sftp => "SFTP only (-Transport Sftp)",
                _ => "the PSReplica agent (installed on the server, else deployed there), else SFTP (-Transport Auto)",
            };
        observer.OnVerbose($"Remote {side}: {connection.Remote.Path} on {connection.Remote.Endpoint}; transport: {policy}");
    }

    /// <summary>-Verbose: where the built-in client connected and what it agreed on with the server.</summary>
    private static void ReportSession(SshSession session, TimeSpan elapsed, ISyncObserver observer)
    {
        SshNegotiation agreed = session.Negotiation;
        string cipher = agreed.ClientToServerCipher == agreed.ServerToClientCipher ? agreed.ClientToServerCipher
            : agreed.ClientToServerCipher + "/" + agreed.ServerToClientCipher;
        observer.OnVerbose($"Connected to {session.Target.User}@{session.Target.Host} port {session.Target.Port} in {RunReport.Seconds(elapsed)} "
            + $"with the built-in SSH client: key exchange {agreed.KeyExchange}, cipher {cipher}; host key {session.HostKey.KeyType} {session.HostKey.Fingerprint} "
            + $"{(session.HostKeyAdded ? "trusted now and recorded in" : "known from")} {session.Target.KnownHostsPath}");
        if (observer.WantsDebug)
        {
            observer.OnDebug($"SSH negotiation: {agreed}");
        }
    }

    /// <summary>-Verbose: which agent was started and how it was found.</summary>
    private static void ReportAgent(RemoteAgentConnection agent, long started, ISyncObserver observer)
    {
        observer.OnVerbose($"Transport: the PSReplica agent on {agent.Description}: {agent.Origin}; started in {RunReport.Seconds(Stopwatch.GetElapsedTime(started))}");
        if (observer.WantsDebug)
        {
            observer.OnDebug($"Agent command: {agent.Command}");
        }
    }

    /// <summary>Refuses, before anything is touched, what SFTP cannot do: the agent's own options and the engine's
    /// (SftpReplicator.CheckSupported). After a failed agent the message says why SFTP was tried.</summary>
    /// <exception cref="SyncException">InvalidParameterCombination, or what CheckSupported throws.</exception>
    internal static void CheckSftpOptions(RemoteRunSettings settings, SyncOptions options, SyncException? noAgent)
    {
        // The names are the cmdlets' parameters: the message tells the user which one to drop.
        string? agentOnly = settings.Connection.RemoteCommand is not null ? "-RemoteCommand"
            : settings.Connection.SshCommand is not null ? "-SshCommand"
            : settings.CompressionLevel > 0 ? "-Compress"
            : settings.BandwidthLimit > 0 ? "-BandwidthLimit"
            : null;
        string prefix = noAgent is null ? string.Empty : $"No PSReplica agent can run on the server ({noAgent.Message.TrimEnd('.')}), so SFTP would be used; ";
        try
        {
            if (agentOnly is not null)
            {
                throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                    $"{agentOnly} works with the PSReplica agent only, not over SFTP.", agentOnly);
            }

            SftpReplicator.CheckSupported(options, settings.Side);
        }
        catch (SyncException ex) when (noAgent is not null)
        {
            throw new SyncException(ex.ErrorId, ex.Kind, prefix + ex.Message, ex.Target, noAgent);
        }
    }

    /// <summary>The handshake with a started agent. An agent that fails it has touched nothing: with
    /// <paramref name="mayFallBack"/> that is returned in <paramref name="unavailable"/> (and the result is null) so
    /// that Auto can use SFTP; otherwise it is thrown.</summary>
    private static RemoteReplicator? Greet(RemoteAgentConnection agent, RemoteRunSettings settings, ISyncObserver observer, bool mayFallBack,
        CancellationToken cancellation, out SyncException? unavailable)
    {
        unavailable = null;
        var sessionOptions = new RemoteSessionOptions
        {
            IdleTimeout = settings.Connection.IdleTimeout,
            CompressionLevel = settings.CompressionLevel,
            BandwidthLimit = settings.BandwidthLimit,
            Log = line => observer.OnWarning("agent: " + line),
        };
        RemoteReplicator replicator;
        long greeting = Stopwatch.GetTimestamp();
        try
        {
            replicator = RemoteReplicator.ConnectAsync(agent.Stream, agent.Stream, settings.Side, settings.Connection.Remote.Path, sessionOptions, cancellation)
                .GetAwaiter().GetResult();
        }
        catch (SyncException ex) when (ex.ErrorId is ErrorIds.ConnectionLost or ErrorIds.PeerTimeout or ErrorIds.ProtocolViolation
            or ErrorIds.FrameTooLarge or ErrorIds.SshConnectionFailed or ErrorIds.SshConnectionTimeout)
        {
            string stderr = agent.StandardError.Trim();
            var failure = new SyncException(ErrorIds.AgentFailed, SyncErrorKind.ReadError,
                $"The PSReplica agent did not start on {agent.Description} (command: {agent.Command}): {(stderr.Length > 0 ? stderr : ex.Message)}",
                agent.Description, ex);
            if (!mayFallBack)
            {
                throw failure;
            }

            unavailable = failure;
            return null;
        }

        if (observer.WantsVerbose)
        {
            observer.OnVerbose($"Agent: version {replicator.AgentVersion}, protocol {replicator.Client.ProtocolVersion} "
                + $"(handshake {RunReport.Seconds(Stopwatch.GetElapsedTime(greeting))}){(settings.CompressionLevel > 0 ? $"; deflate level {settings.CompressionLevel}" : string.Empty)}"
                + (settings.BandwidthLimit > 0 ? $"; at most {RunReport.Bytes(settings.BandwidthLimit)}/s each way" : string.Empty));
        }

        if (observer.WantsDebug)
        {
            observer.OnDebug($"Agent capabilities: {string.Join(", ", replicator.Client.Capabilities)}");
        }

        return replicator;
    }
}
