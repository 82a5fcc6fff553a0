using System.Diagnostics;
using System.Globalization;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Watching;

namespace PSReplica.Ssh.Transport;

/// <summary>How long -Watch waits before it tries an unreachable server again: <see cref="First"/>, doubled after each
/// failed try up to <see cref="Longest"/>.</summary>
internal sealed record BackOff(TimeSpan First, TimeSpan Longest)
{
    /// <summary>A second, then 2, 4, ... up to a minute: a laptop back on its home network is seen within a minute.</summary>
    public static readonly BackOff Default = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

    public TimeSpan After(TimeSpan wait) => wait >= Longest / 2 ? Longest : wait * 2;
}

/// <summary>Sync-Directory -Watch pushing to a server (issue 17): the batches of the local watch go through one
/// connection and one agent (or one SFTP session) for as long as it lasts. When the connection is lost, or the server
/// cannot be reached (the laptop away from its home network), the watch goes on collecting changes and tries again with
/// back-off, saying so with -Verbose; once the server is back, the first sync plans the whole tree (the catch-up), since
/// what changed meanwhile, and what the lost batch had left undone, is known only by comparing the trees. Failures
/// another try cannot mend (a host key, a login, a refused option) end the watch as they end a one-shot run.</summary>
internal sealed class RemoteWatch : IDisposable
{
    private RemoteRunSettings _settings;
    private readonly ISyncObserver _observer;
    private readonly BackOff _backOff;
    private readonly CancellationToken _cancellation;
    private ServerSession? _server;
    private bool _catchUp;
    private bool _connectedOnce;

    private RemoteWatch(RemoteRunSettings settings, ISyncObserver observer, BackOff backOff, CancellationToken cancellation)
    {
        _settings = settings;
        _observer = observer;
        _backOff = backOff;
        _cancellation = cancellation;
    }

    private string Host => _settings.Connection.Remote.Endpoint.Host;

    /// <summary>Runs the watch until <paramref name="cancellation"/> is cancelled (OperationCanceledException) or it cannot
    /// go on (a SyncException).</summary>
    /// <param name="startWatcher">Starts the watcher of the local source root.</param>
    /// <param name="synced">Told of each sync done, with the options it ran with (tests wait on it).</param>
    public static void Run(RemoteRunSettings settings, SyncOptions options, WatchSettings watch, ISyncObserver observer, int retryCount,
        TimeSpan retryDelay, Func<string, ITreeWatcher> startWatcher, BackOff backOff, Action<SyncOptions>? synced, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(options);
        if (settings.Side == RemoteSide.Source)
        {
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                "-Watch watches a local source: a remote source (a pull) cannot be watched from here. Run the watch where the files are, "
                + "pushing to this machine.", "Watch");
        }

        if (observer.WantsVerbose)
        {
            RemoteRunner.ReportPolicy(settings, observer);
        }

        using var remote = new RemoteWatch(settings, observer, backOff, cancellation);
        WatchLoop.Run(options, watch, observer,
            (batch, batchObserver) => remote.Sync(batch, options, batchObserver, retryCount, retryDelay, synced),
            startWatcher, cancellation);
    }

    /// <summary>One sync of the watch, over the connection there is or a new one; after a lost connection, the whole tree
    /// (the catch-up) instead of <paramref name="batch"/>'s scope.</summary>
    private SyncSummary Sync(SyncOptions batch, SyncOptions options, ISyncObserver batchObserver, int retryCount, TimeSpan retryDelay,
        Action<SyncOptions>? synced)
    {
        while (true)
        {
            if (_server is { Stale: true })
            {
                // The first sync made the destination, which the agent took for missing when its session opened.
                _observer.OnVerbose($"Watch: the first sync made the destination; a new session with {Host} sees it");
                Drop();
            }

            ServerSession server = _server ??= Connect(options);
            SyncOptions run = batch;
            if (_catchUp)
            {
                run = batch with { Scope = null, ExactDirectoryTimes = true };
                _observer.OnVerbose($"Watch: catching up with {Host}: the whole tree is planned, for what changed while the connection was down");
            }

            try
            {
                if (run.Scope is { Moves.Count: > 0 } && server.DirectoryMoves() is { } moves)
                {
                    DirectoryMoves.Apply(run, moves.Mover, moves.Root, batchObserver, _cancellation);
                }

                SyncSummary summary = RetryingRun.Run(attempt => server.Run(run, attempt, _cancellation), batchObserver, retryCount, retryDelay, _cancellation);
                _catchUp = false;
                synced?.Invoke(run);
                return summary;
            }
            catch (SyncException ex) when (Passes(ex))
            {
                _observer.OnWarning($"Watch: the connection to {Host} was lost ({ex.ErrorId}: {ex.Message.TrimEnd('.')}); the watch goes on, "
                    + "reconnecting with back-off, and catches up with a sync of the whole tree once the server is back.");
                Drop();
                _catchUp = true;
            }
        }
    }

    /// <summary>Connects, trying again with back-off while the failure is one that passes; the transport the first
    /// connection chose is kept (a reconnect never falls back to SFTP because an agent's start was cut off).</summary>
    private ServerSession Connect(SyncOptions options)
    {
        TimeSpan wait = _backOff.First;
        bool warned = false;
        for (int attempt = 1; ; attempt++)
        {
            _cancellation.ThrowIfCancellationRequested();
            long started = Stopwatch.GetTimestamp();
            try
            {
                ServerSession server = RemoteRunner.Open(_settings, options, _observer, _cancellation);
                if (_connectedOnce || attempt > 1)
                {
                    _observer.OnVerbose(string.Create(CultureInfo.InvariantCulture,
                        $"Watch: connected to {Host} {(_connectedOnce ? "again" : "at last")} after {attempt} attempt(s), in {RunReport.Seconds(Stopwatch.GetElapsedTime(started))}"));
                }

                if (!_connectedOnce)
                {
                    _connectedOnce = true;
                    _settings = _settings with { Transport = server.ThroughAgent ? RemoteTransport.Agent : RemoteTransport.Sftp };
                }

                return server;
            }
            catch (SyncException ex) when (Passes(ex))
            {
                string reason = $"{ex.ErrorId}: {ex.Message.TrimEnd('.')}";
                if (!warned)
                {
                    warned = true;
                    if (!_connectedOnce)
                    {
                        // A server never reached may be a typing error as well as a laptop away from home: said once, loudly.
                        _observer.OnWarning($"Watch: {Host} cannot be reached ({reason}); the watch waits for it, trying again with back-off.");
                    }
                }

                _observer.OnVerbose(string.Create(CultureInfo.InvariantCulture,
                    $"Watch: cannot reach {Host} (attempt {attempt}: {reason}); waiting {RunReport.Seconds(wait)} before reconnecting"));
                if (_cancellation.WaitHandle.WaitOne(wait))
                {
                    _cancellation.ThrowIfCancellationRequested();
                }

                wait = _backOff.After(wait);
                _observer.OnVerbose($"Watch: reconnecting to {Host}");
            }
        }
    }

    /// <summary>Failures that another try may not meet: the connection, lost or not made; an agent whose start was cut off.</summary>
    internal static bool Passes(SyncException error) =>
        error.ErrorId is ErrorIds.ConnectionLost or ErrorIds.PeerTimeout or ErrorIds.SshConnectionFailed or ErrorIds.SshConnectionTimeout
        || (error.ErrorId == ErrorIds.AgentFailed && error.InnerException is SyncException inner && Passes(inner));

    private void Drop()
    {
        ServerSession? server = _server;
        _server = null;
        try
        {
            server?.Dispose();
        }
        catch (SyncException)
        {
            // The connection is gone already: there is nobody to say goodbye to.
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose() => Drop();
}
