using PSReplica.Engine.Scanning;

namespace PSReplica.Ssh.Transport;

/// <summary>A connection to the server that runs go through, made by <see cref="RemoteRunner.Open"/>: the agent's
/// session (over the built-in client or -SshCommand's pipe), or SFTP. A one-shot run makes one run through it; -Watch
/// makes one per batch of changes, over the same connection and agent, until the connection is lost.</summary>
internal sealed class ServerSession : IDisposable
{
    private readonly RemoteAgentConnection? _agent;
    private readonly RemoteReplicator? _replicator;
    private readonly SftpSession? _sftp;
    private readonly SshSession? _session;
    private readonly RemoteSide _side;
    private readonly string? _remoteRoot;

    /// <summary>Runs through <paramref name="replicator"/>, the agent <paramref name="agent"/> started;
    /// <paramref name="session"/> is the SSH session under it when the agent does not own it.</summary>
    public ServerSession(RemoteAgentConnection agent, RemoteReplicator replicator, SshSession? session)
    {
        _agent = agent;
        _replicator = replicator;
        _session = session;
    }

    /// <summary>Runs over SFTP on <paramref name="sftp"/>, <paramref name="remoteRoot"/> being the server's side.</summary>
    public ServerSession(SftpSession sftp, RemoteSide side, string remoteRoot, SshSession session)
    {
        _sftp = sftp;
        _session = session;
        _side = side;
        _remoteRoot = remoteRoot;
        try
        {
            // The root is looked at now, so that a missing source or a file in the destination's place fails the open.
            _ = SftpReplicator.Open(sftp, side, remoteRoot);
        }
        catch
        {
            sftp.Dispose();
            throw;
        }
    }

    /// <summary>True when the agent's picture of its root is out of date: the root did not exist when the session opened
    /// (the agent said so in the handshake) and a run has made it since. A later run needs a new session, which sees it.</summary>
    public bool Stale { get; private set; }

    /// <summary>True when the runs go through the agent, false over SFTP.</summary>
    public bool ThroughAgent => _replicator is not null;

    /// <summary>Plans and executes once; <paramref name="localScan"/> as for <see cref="RemoteReplicator.Run"/> (the agent only).</summary>
    /// <exception cref="InvalidOperationException">The session is <see cref="Stale"/>.</exception>
    public SyncSummary Run(SyncOptions options, ISyncObserver observer, CancellationToken cancellation, bool dryRun = false, LocalScan? localScan = null)
    {
        if (_replicator is null)
        {
            // Over SFTP the root is looked at again for each run: the first may have made it.
            return SftpReplicator.Open(_sftp!, _side, _remoteRoot!).Run(options, observer, cancellation, dryRun);
        }

        if (Stale)
        {
            throw new InvalidOperationException("The agent's session still takes its root for missing: a new session is needed.");
        }

        try
        {
            return _replicator.Run(options, observer, cancellation, dryRun, localScan);
        }
        finally
        {
            Stale = !dryRun && _replicator.Client.RootEntry is null;
        }
    }

    /// <summary>-Watch: what repeats a source directory's rename at the server, and the server's root as items name it.</summary>
    public (Engine.Endpoints.IDirectoryMoves Mover, string Root)? DirectoryMoves()
    {
        if (_replicator is null)
        {
            SftpReplicator replicator = SftpReplicator.Open(_sftp!, _side, _remoteRoot!);
            return (new SftpDirectoryMoves(_sftp!, replicator.RemoteRoot), replicator.RemoteRoot);
        }

        return _replicator.DirectoryMoves is { } moves ? (moves, _replicator.Client.Root) : null;
    }

    /// <summary>Says goodbye to the agent (it exits cleanly) and closes the channels and the connection.</summary>
    public void Dispose()
    {
        try
        {
            _replicator?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            _agent?.Dispose();
            _sftp?.Dispose();
            _session?.Dispose();
        }
    }
}
