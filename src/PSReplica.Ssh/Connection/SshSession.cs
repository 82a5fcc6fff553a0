using Renci.SshNet;

namespace PSReplica.Ssh;

/// <summary>
/// An authenticated SSH connection whose host key was verified. Opens exec channels for the agent protocol and
/// SFTP sessions for the fallback; nothing of SSH.NET shows through.
/// </summary>
public sealed class SshSession : IDisposable
{
    private readonly SshClient _client;
    private readonly ConnectionInfo _info;
    private readonly SshConnector.HostKeyVerifier _verifier;
    private readonly List<IPrivateKeySource> _keys;
    private readonly List<IDisposable> _children = [];
    private readonly TimeSpan _connectTimeout;
    private bool _disposed;
    private volatile bool _lost;

    internal SshSession(SshClient client, ConnectionInfo info, SshTarget target, TimeSpan idleTimeout, SshConnector.HostKeyVerifier verifier, List<IPrivateKeySource> keys)
    {
        _client = client;
        _info = info;
        _connectTimeout = info.Timeout;

        // SSH.NET waits this long for the peer's window on every write, and for channel opens: past the handshake
        // it is the idle timeout, so a peer that is busy (not dead) for longer than the connect timeout is fine.
        info.Timeout = idleTimeout;
        _verifier = verifier;
        _keys = keys;
        Target = target;
        IdleTimeout = idleTimeout;
        HostKey = verifier.PresentedKey!;
        HostKeyAdded = verifier.Added;
        Negotiation = new SshNegotiation(
            info.ServerVersion ?? string.Empty,
            info.CurrentKeyExchangeAlgorithm ?? string.Empty,
            info.CurrentHostKeyAlgorithm ?? string.Empty,
            info.CurrentClientEncryption ?? string.Empty,
            info.CurrentServerEncryption ?? string.Empty,
            info.CurrentClientHmacAlgorithm ?? "(implicit: AEAD cipher)",
            info.CurrentServerHmacAlgorithm ?? "(implicit: AEAD cipher)");

        // SSH.NET raises this only from its message listener, which has stopped by then: the connection is over.
        // Its own IsConnected turns false only after the listener has run every handler and disconnected, and an exec
        // channel's handler has already woken a reader that reports the broken connection. The client forwards the
        // error through a handler it added at connect, before any channel added its own, so this one runs first.
        _client.ErrorOccurred += (_, _) => _lost = true;
    }

    /// <summary>Where the session is connected, after the ssh config was applied.</summary>
    public SshTarget Target { get; }

    /// <summary>The host key the server proved it holds.</summary>
    public HostKey HostKey { get; }

    /// <summary>Whether this connection recorded the key in known_hosts (-AcceptNewHostKey on a new host).</summary>
    public bool HostKeyAdded { get; }

    public SshNegotiation Negotiation { get; }

    public TimeSpan IdleTimeout { get; }

    /// <summary>False once the connection is known to be broken: by the time a channel reports SshConnectionFailed,
    /// this says so too.</summary>
    public bool IsConnected => !_disposed && !_lost && _client.IsConnected;

    private string Description => $"{Target.User}@{KnownHostsFile.HostName(Target.Host, Target.Port)}";

    /// <summary>Runs <paramref name="command"/> in an exec channel (through the user's login shell, as ssh does).</summary>
    /// <exception cref="SyncException">SshConnectionFailed when the channel cannot be opened.</exception>
    public ICommandChannel OpenCommand(string command)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            return new SshExecChannel(_client, command, IdleTimeout, Description);
        }
        catch (Exception ex) when (SshFailure.Translate(ex, Description) is SyncException translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Opens an SFTP session. SSH.NET gives each SFTP client its own connection, so this logs in once more; the
    /// server must present the same host key as this session did.
    /// </summary>
    /// <exception cref="SyncException">SshConnectionFailed (for example when the server has no SFTP subsystem).</exception>
    public SftpSession OpenSftp(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var client = new SftpClient(_info) { OperationTimeout = IdleTimeout };
        client.HostKeyReceived += _verifier.OnHostKeyReceived;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_connectTimeout);
        try
        {
            client.ConnectAsync(timeout.Token).GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            client.Dispose();
            if (_verifier.Failure is SyncException refused)
            {
                throw refused;
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (timeout.IsCancellationRequested)
            {
                throw new SyncException(ErrorIds.SshConnectionTimeout, SyncErrorKind.ReadError, $"{Description}: no SFTP session within the connect timeout.", Description, ex);
            }

            throw SshFailure.Translate(ex, Description) ?? new SyncException(ErrorIds.SshConnectionFailed, SyncErrorKind.ReadError, $"{Description}: cannot open SFTP: {ex.Message}", Description, ex);
        }

        var session = new SftpSession(client, Description);
        lock (_children)
        {
            _children.Add(session);
        }

        return session;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        lock (_children)
        {
            foreach (IDisposable child in _children)
            {
                child.Dispose();
            }
        }

        try
        {
            _client.Disconnect();
        }
        catch (Exception ex) when (SshFailure.Translate(ex, Description) is not null)
        {
            // Already broken: nothing to say goodbye to.
        }

        _client.Dispose();
        SshConnector.DisposeKeys(_keys);
    }
}
