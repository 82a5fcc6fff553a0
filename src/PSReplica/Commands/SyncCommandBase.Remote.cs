using System;
using System.Management.Automation;
using System.Text.RegularExpressions;
using System.Threading;
using PSReplica.Commands.Hosting;
using PSReplica.Engine.Client;
using PSReplica.Engine.Scanning;
using PSReplica.Ssh;

namespace PSReplica.Commands;

/// <summary>The remote half of the shared parameters: -Path or -Destination as <c>[user@]host:path</c> or
/// <c>ssh://[user@]host[:port]/path</c>, how to log in, and how to start the agent.</summary>
public abstract partial class SyncCommandBase
{
    /// <summary>The SSH port (default: the address's port, the ssh config's Port, else 22).</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    /// <summary>The user name and password to log in with (tried after the keys).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Private key files to offer (default: the ssh config's IdentityFile, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? KeyFilePath { get; set; }

    /// <summary>The known_hosts file (default: ~/.ssh/known_hosts).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KnownHostsPath { get; set; }

    /// <summary>Trust a server seen for the first time and record its key; a changed key is never accepted.</summary>
    [Parameter]
    public SwitchParameter AcceptNewHostKey { get; set; }

    /// <summary>Seconds allowed for connecting and logging in.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int ConnectTimeout { get; set; } = 30;

    /// <summary>Seconds the server may stay silent before the run fails; 0 for no limit.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Timeout { get; set; }

    /// <summary>The command that starts the agent on the server (it must speak the protocol on stdin/stdout).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RemoteCommand { get; set; }

    /// <summary>Use this ssh client command line as the pipe (as rsync -e), e.g. 'ssh -F ~/.ssh/other_config'.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SshCommand { get; set; }

    /// <summary>Compress file data and listings on the wire (deflate).</summary>
    [Parameter]
    public SwitchParameter Compress { get; set; }

    /// <summary>The deflate level 1 to 9 (implies -Compress); default 6.</summary>
    [Parameter]
    [ValidateRange(1, 9)]
    public int CompressionLevel { get; set; }

    /// <summary>The most each side sends, in KiB per second; 0 for no limit.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int BandwidthLimit { get; set; }

    /// <summary>How to reach the server's tree: Auto (the agent, else SFTP with a warning), Agent or Sftp.</summary>
    [Parameter]
    public RemoteTransport Transport { get; set; }

    /// <summary>The remote source (a pull), or null.</summary>
    private protected RemotePath? RemoteSource { get; private set; }

    /// <summary>The remote destination (a push), or null.</summary>
    private protected RemotePath? RemoteDestination { get; private set; }

    private protected bool IsRemote => RemoteSource is not null || RemoteDestination is not null;

    /// <summary>Plans and executes (a dry run with <paramref name="dryRun"/>) through an agent started over SSH, or over
    /// SFTP (-Transport Sftp, or Auto when no agent can run on the server).</summary>
    private protected SyncSummary RunRemote(SyncOptions options, ISyncObserver observer, bool dryRun, CancellationToken cancellation)
    {
        RemotePath remote = RemoteSource ?? RemoteDestination!;
        var settings = new RemoteConnectionSettings
        {
            Remote = remote,
            Port = MyInvocation.BoundParameters.ContainsKey(nameof(Port)) ? Port : null,
            User = Credential?.UserName,
            Password = Credential?.Password,
            KeyFilePaths = KeyFilePath is null ? null : Array.ConvertAll(KeyFilePath, SessionState.Path.GetUnresolvedProviderPathFromPSPath),
            KnownHostsPath = KnownHostsPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(KnownHostsPath),
            AcceptNewHostKey = AcceptNewHostKey,
            ConnectTimeout = TimeSpan.FromSeconds(ConnectTimeout),
            IdleTimeout = Timeout > 0 ? TimeSpan.FromSeconds(Timeout) : System.Threading.Timeout.InfiniteTimeSpan,
            RemoteCommand = RemoteCommand,
            SshCommand = SshCommand,
        };
        RemoteSide side = RemoteSource is not null ? RemoteSide.Source : RemoteSide.Destination;

        // The local side is listed while the connection is made and the agent starts (SFTP runs plan their own way).
        using LocalScan? localScan = Transport == RemoteTransport.Sftp ? null : RemoteReplicator.StartLocalScan(options, side);
        if (Transport == RemoteTransport.Sftp)
        {
            CheckSftpOptions(options, side, null);
        }

        if (SshCommand is not null)
        {
            // The system ssh is only a pipe to an agent: there is no SFTP session to fall back on.
            using RemoteAgentConnection piped = RemoteAgentConnection.Open(settings, cancellation);
            return RunAgent(piped, options, observer, dryRun, mayFallBack: false, localScan, cancellation, out _)!;
        }

        // An explicit -RemoteCommand asks for that agent: its failure is reported, never papered over.
        bool mayFallBack = Transport == RemoteTransport.Auto && RemoteCommand is null;
        using SshSession session = RemoteAgentConnection.Connect(settings, cancellation);
        SyncException? noAgent = null;
        if (Transport != RemoteTransport.Sftp)
        {
            RemoteAgentConnection? connection = null;
            try
            {
                connection = RemoteAgentConnection.Start(session, settings, ownsSession: false, cancellation);
            }
            catch (SyncException ex) when (mayFallBack && ex.ErrorId == ErrorIds.AgentFailed)
            {
                noAgent = ex;
            }

            if (connection is not null)
            {
                using (connection)
                {
                    if (RunAgent(connection, options, observer, dryRun, mayFallBack, localScan, cancellation, out noAgent) is { } summary)
                    {
                        return summary;
                    }
                }
            }
        }

        if (noAgent is not null)
        {
            CheckSftpOptions(options, side, noAgent);
            observer.OnWarning($"No PSReplica agent can run on {remote.Endpoint.Host} ({noAgent.Message.TrimEnd('.')}); "
                + "replicating over SFTP instead: whole files only, no delta transfer (use -Transport Agent to make this an error).");
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

        using (sftp)
        {
            return SftpReplicator.Open(sftp, side, remote.Path).Run(options, observer, cancellation, dryRun);
        }
    }

    /// <summary>Runs through a started agent. An agent that fails its handshake has touched nothing: with
    /// <paramref name="mayFallBack"/> that is returned in <paramref name="unavailable"/> (and the result is null) so
    /// that Auto can use SFTP; otherwise it is thrown. Later failures end the run.</summary>
    private SyncSummary? RunAgent(RemoteAgentConnection connection, SyncOptions options, ISyncObserver observer, bool dryRun, bool mayFallBack,
        LocalScan? localScan, CancellationToken cancellation, out SyncException? unavailable)
    {
        unavailable = null;
        RemotePath remote = RemoteSource ?? RemoteDestination!;
        var sessionOptions = new RemoteSessionOptions
        {
            IdleTimeout = Timeout > 0 ? TimeSpan.FromSeconds(Timeout) : System.Threading.Timeout.InfiniteTimeSpan,
            CompressionLevel = CompressionLevel > 0 ? CompressionLevel : Compress ? 6 : 0,
            BandwidthLimit = BandwidthLimit * 1024L,
            Log = line => observer.OnWarning("agent: " + line),
        };
        RemoteSide side = RemoteSource is not null ? RemoteSide.Source : RemoteSide.Destination;
        RemoteReplicator replicator;
        try
        {
            replicator = RemoteReplicator.ConnectAsync(connection.Stream, connection.Stream, side, remote.Path, sessionOptions, cancellation)
                .GetAwaiter().GetResult();
        }
        catch (SyncException ex) when (ex.ErrorId is ErrorIds.ConnectionLost or ErrorIds.PeerTimeout or ErrorIds.ProtocolViolation
            or ErrorIds.FrameTooLarge or ErrorIds.SshConnectionFailed or ErrorIds.SshConnectionTimeout)
        {
            string stderr = connection.StandardError.Trim();
            var failure = new SyncException(ErrorIds.AgentFailed, SyncErrorKind.ReadError,
                $"The PSReplica agent did not start on {connection.Description} (command: {connection.Command}): {(stderr.Length > 0 ? stderr : ex.Message)}",
                connection.Description, ex);
            if (!mayFallBack)
            {
                throw failure;
            }

            unavailable = failure;
            return null;
        }

        try
        {
            return replicator.Run(options, observer, cancellation, dryRun, localScan);
        }
        finally
        {
            replicator.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Refuses, before anything is touched, what SFTP cannot do: the agent's own options and the engine's
    /// (SftpReplicator.CheckSupported). After a failed agent the message says why SFTP was tried.</summary>
    private void CheckSftpOptions(SyncOptions options, RemoteSide side, SyncException? noAgent)
    {
        string? agentOnly = RemoteCommand is not null ? "-RemoteCommand"
            : SshCommand is not null ? "-SshCommand"
            : Compress || CompressionLevel > 0 ? "-Compress"
            : BandwidthLimit > 0 ? "-BandwidthLimit"
            : null;
        string prefix = noAgent is null ? string.Empty : $"No PSReplica agent can run on the server ({noAgent.Message.TrimEnd('.')}), so SFTP would be used; ";
        try
        {
            if (agentOnly is not null)
            {
                throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                    $"{agentOnly} works with the PSReplica agent only, not over SFTP.", agentOnly);
            }

            SftpReplicator.CheckSupported(options, side);
        }
        catch (SyncException ex) when (noAgent is not null)
        {
            throw new SyncException(ex.ErrorId, ex.Kind, prefix + ex.Message, ex.Target, noAgent);
        }
    }

    /// <summary>Finds out which side (if any) is remote. A PowerShell drive (Temp:, Env:, C:) is never taken for a host.</summary>
    private void ResolveRemotes()
    {
        string[] sources = ParameterSetName == LiteralPathSet ? LiteralPath : Path;
        RemoteSource = sources.Length == 1 ? AsRemote(sources[0]) : null;
        RemoteDestination = AsRemote(Destination);
        if (RemoteSource is not null && RemoteDestination is not null)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(ErrorIds.InvalidParameterCombination, ErrorCategory.InvalidArgument,
                "Only one of -Path and -Destination can be remote.", Destination));
        }
    }

    private RemotePath? AsRemote(string text)
    {
        // A provider-qualified path (FileSystem::/x, Microsoft.PowerShell.Core\FileSystem::/x, as PSPath gives) is local.
        int qualified = text.IndexOf("::", StringComparison.Ordinal);
        if (qualified > 0)
        {
            string provider = text[..qualified];
            provider = provider[(provider.LastIndexOf('\\') + 1)..];
            foreach (ProviderInfo known in SessionState.Provider.GetAll())
            {
                if (string.Equals(known.Name, provider, StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }
            }
        }

        Match drive = Regex.Match(text, "^([^:/\\\\@]+):");
        if (drive.Success)
        {
            foreach (PSDriveInfo known in SessionState.Drive.GetAll())
            {
                if (string.Equals(known.Name, drive.Groups[1].Value, StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }
            }
        }

        try
        {
            return RemotePath.TryParse(text, out RemotePath? remote) ? remote : null;
        }
        catch (SyncException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(ex));
            throw;
        }
    }
}
