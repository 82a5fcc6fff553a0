using System;
using System.Management.Automation;
using System.Text.RegularExpressions;
using System.Threading;
using PSReplica.Commands.Hosting;
using PSReplica.Ssh;
using PSReplica.Ssh.Transport;

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

    /// <summary>Plans and executes (a dry run with <paramref name="dryRun"/>) on the server named by -Path or -Destination:
    /// the parameters become plain settings, and RemoteRunner decides between the agent and SFTP.</summary>
    private protected SyncSummary RunRemote(SyncOptions options, ISyncObserver observer, bool dryRun, CancellationToken cancellation) =>
        RemoteRunner.Run(RemoteSettings(watch: false), options, observer, cancellation, dryRun);

    /// <summary>-Watch pushing to the server named by -Destination, over one connection kept across the batches.</summary>
    private protected void WatchRemote(SyncOptions options, Engine.Watching.WatchSettings watch, ISyncObserver observer, int retryCount,
        TimeSpan retryDelay, CancellationToken cancellation) =>
        RemoteRunner.Watch(RemoteSettings(watch: true), options, watch, observer, retryCount, retryDelay, cancellation);

    /// <summary>The parameters as plain settings. A watch that was given no -Timeout keeps the protocol's default idle
    /// timeout (and its pings), so that a connection that died quietly while the watch idled is found and replaced.</summary>
    private RemoteRunSettings RemoteSettings(bool watch) => new()
    {
        Connection = new RemoteConnectionSettings
        {
            Remote = RemoteSource ?? RemoteDestination!,
            Port = IsGiven(nameof(Port)) ? Port : null,
            User = Credential?.UserName,
            Password = Credential?.Password,
            KeyFilePaths = KeyFilePath is null ? null : Array.ConvertAll(KeyFilePath, SessionState.Path.GetUnresolvedProviderPathFromPSPath),
            KnownHostsPath = KnownHostsPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(KnownHostsPath),
            AcceptNewHostKey = AcceptNewHostKey,
            ConnectTimeout = TimeSpan.FromSeconds(ConnectTimeout),
            IdleTimeout = Timeout > 0 ? TimeSpan.FromSeconds(Timeout)
                : watch && !IsGiven(nameof(Timeout)) ? RemoteConnectionSettings.WatchIdleTimeout
                : System.Threading.Timeout.InfiniteTimeSpan,
            RemoteCommand = RemoteCommand,
            SshCommand = SshCommand,
        },
        Side = RemoteSource is not null ? RemoteSide.Source : RemoteSide.Destination,
        Transport = Transport,
        CompressionLevel = CompressionLevel > 0 ? CompressionLevel : Compress ? 6 : 0,
        BandwidthLimit = BandwidthLimit * 1024L,
    };

    /// <summary>Finds out which side (if any) is remote. A PowerShell drive (Temp:, Env:, C:) is never taken for a host.
    /// Several sources must all be local (a push may have several; a pull has the agent's root alone).</summary>
    private void ResolveRemotes()
    {
        string[] sources = UsesLiteralPath ? LiteralPath : Path;
        RemoteSource = AsRemote(sources[0]);
        if (sources.Length > 1)
        {
            int remote = 0;
            foreach (string source in sources)
            {
                remote += AsRemote(source) is null ? 0 : 1;
            }

            if (remote > 0)
            {
                Stop(ErrorRecordFactory.Create(ErrorIds.InvalidParameterCombination, ErrorCategory.InvalidArgument,
                    (remote == sources.Length
                        ? "Several remote sources cannot be pulled in one run; pull each in a run of its own."
                        : "A remote source cannot be mixed with local ones; only local sources can be several.")
                    + $" -Path: {string.Join(", ", sources)}.", sources));
            }
        }

        RemoteDestination = AsRemote(Destination);
        if (RemoteSource is not null && RemoteDestination is not null)
        {
            Stop(ErrorRecordFactory.Create(ErrorIds.InvalidParameterCombination, ErrorCategory.InvalidArgument,
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
            Stop(ErrorRecordFactory.Create(ex));
            throw;
        }
    }
}
