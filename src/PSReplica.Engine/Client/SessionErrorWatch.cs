namespace PSReplica.Engine.Client;

/// <summary>Passes a remote run's events on, but takes errors that mean the session itself is gone (the connection
/// lost, a silent or misbehaving peer) out of the per-item stream: the first is kept to end the run with, the rest
/// (every request after it fails the same way) are dropped.</summary>
internal sealed class SessionErrorWatch(ISyncObserver inner) : ISyncObserver
{
    private SyncException? _sessionError;

    /// <summary>The first error that ended the session, or null.</summary>
    public SyncException? SessionError => Volatile.Read(ref _sessionError);

    public bool ConfirmsEachAction => inner.ConfirmsEachAction;

    public void OnItem(SyncItem item) => inner.OnItem(item);

    public void OnError(SyncException error)
    {
        if (IsSessionError(error))
        {
            Interlocked.CompareExchange(ref _sessionError, error, null);
            return;
        }

        inner.OnError(error);
    }

    public void OnWarning(string message) => inner.OnWarning(message);

    public void OnProgress(SyncProgress progress) => inner.OnProgress(progress);

    public bool ShouldProcess(SyncItem item) => inner.ShouldProcess(item);

    public bool WantsVerbose => inner.WantsVerbose;

    public void OnVerbose(string message) => inner.OnVerbose(message);

    public bool WantsDebug => inner.WantsDebug;

    public void OnDebug(string message) => inner.OnDebug(message);

    private static bool IsSessionError(SyncException error) =>
        error.ErrorId is ErrorIds.ConnectionLost or ErrorIds.PeerTimeout or ErrorIds.ProtocolViolation or ErrorIds.FrameTooLarge
            or ErrorIds.SshConnectionFailed or ErrorIds.SshConnectionTimeout;
}
