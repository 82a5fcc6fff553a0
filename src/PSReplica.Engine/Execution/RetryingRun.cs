using System.Globalization;

namespace PSReplica;

/// <summary>-RetryCount and -RetryDelay (robocopy /R /W, rclone --retries): a run whose items failed for reasons that
/// can pass (a file vanished and came back, a file busy, a read or write error), or whose connection was lost or could
/// not be made, waits and runs again. Every attempt plans afresh, so it does only what is still left to do: a file that
/// was copied is up to date and not copied again, and with -Partial an interrupted one resumes. While attempts remain,
/// such failures are not reported as errors but as verbose lines (one per failure and attempt); the last attempt
/// reports everything, so the errors a caller sees are the ones that did not pass. Failures that another attempt
/// cannot change (a bad parameter, a host key, MaxDeleteExceeded, a directory that a file cannot replace) are reported
/// at once and are not retried.</summary>
public static class RetryingRun
{
    /// <summary>Per-item failures that another attempt may not meet.</summary>
    private static readonly HashSet<string> TransientItemErrors = new(StringComparer.Ordinal)
    {
        ErrorIds.SourceVanished, ErrorIds.SourceChangedSinceListing, ErrorIds.FileReadError, ErrorIds.FileWriteError,
        ErrorIds.DeleteFailed, ErrorIds.MetadataFailed, ErrorIds.SymbolicLinkFailed, ErrorIds.PermissionDenied,
        ErrorIds.ScanError, ErrorIds.DeletionSkippedAfterIoError, ErrorIds.BackupFailed, ErrorIds.DelayedUpdateFailed,
        ErrorIds.DeltaVerificationFailed, ErrorIds.DestinationCreateFailed, ErrorIds.ConnectionLost, ErrorIds.PeerTimeout,
    };

    /// <summary>Failures that end a whole attempt and may pass: the connection, never the parameters or the host key.</summary>
    private static readonly HashSet<string> TransientRunErrors = new(StringComparer.Ordinal)
    {
        ErrorIds.ConnectionLost, ErrorIds.PeerTimeout, ErrorIds.SshConnectionFailed, ErrorIds.SshConnectionTimeout,
    };

    /// <summary>Runs <paramref name="run"/> up to 1 + <paramref name="retryCount"/> times, waiting <paramref name="delay"/>
    /// before each retry. The summary returned counts every attempt's items and the errors that were reported.</summary>
    /// <param name="run">One attempt: plans and executes with the observer it is given.</param>
    public static SyncSummary Run(Func<ISyncObserver, SyncSummary> run, ISyncObserver observer, int retryCount, TimeSpan delay,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(observer);
        if (retryCount <= 0)
        {
            return run(observer);
        }

        var attempts = new AttemptObserver(observer);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        SyncSummary? last = null;
        for (int attempt = 1; ; attempt++)
        {
            attempts.Begin(attempt, isLast: attempt > retryCount);
            try
            {
                last = run(attempts);
                if (attempts.HeldThisAttempt == 0)
                {
                    break;
                }
            }
            catch (SyncException ex) when (attempt <= retryCount && TransientRunErrors.Contains(ex.ErrorId))
            {
                attempts.Say($"Attempt {attempt} of {retryCount + 1} failed: {ex.ErrorId}: {ex.Message}");
            }

            attempts.Say(string.Create(CultureInfo.InvariantCulture,
                $"Retrying in {delay.TotalSeconds:0.###} s (attempt {attempt + 1} of {retryCount + 1}): the run plans again and does only what is left."));
            if (delay > TimeSpan.Zero && cancellation.WaitHandle.WaitOne(delay))
            {
                cancellation.ThrowIfCancellationRequested();
            }

            cancellation.ThrowIfCancellationRequested();
        }

        return attempts.Total(last!, System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Passes one attempt's events on, holding back the failures a later attempt may not meet, and counts every
    /// attempt's items.</summary>
    private sealed class AttemptObserver(ISyncObserver inner) : ISyncObserver
    {
        private readonly object _gate = new();
        private readonly SyncSummary _counts = new();
        private int _attempt;
        private bool _isLast;
        private readonly HashSet<(string ErrorId, string? Target, string Message)> _reported = [];
        private long _errors;

        public int HeldThisAttempt { get; private set; }

        public bool ConfirmsEachAction => inner.ConfirmsEachAction;

        public bool WantsVerbose => inner.WantsVerbose;

        public void Begin(int attempt, bool isLast)
        {
            _attempt = attempt;
            _isLast = isLast;
            HeldThisAttempt = 0;
        }

        public void Say(string message)
        {
            if (inner.WantsVerbose)
            {
                inner.OnVerbose(message);
            }
        }

        public void OnItem(SyncItem item)
        {
            lock (_gate)
            {
                _counts.Count(item);
            }

            inner.OnItem(item);
        }

        public void OnError(SyncException error)
        {
            if (!_isLast && TransientItemErrors.Contains(error.ErrorId))
            {
                lock (_gate)
                {
                    HeldThisAttempt++;
                }

                Say($"Attempt {_attempt}: {error.ErrorId}: {error.Message} (to be retried)");
                return;
            }

            lock (_gate)
            {
                // A failure no attempt can change is met by every attempt: it is reported once.
                if (!_reported.Add((error.ErrorId, error.Target, error.Message)))
                {
                    return;
                }

                _errors++;
            }

            inner.OnError(error);
        }

        public void OnWarning(string message) => inner.OnWarning(message);

        public void OnVerbose(string message) => inner.OnVerbose(message);

        public bool WantsDebug => inner.WantsDebug;

        public void OnDebug(string message) => inner.OnDebug(message);

        public void OnProgress(SyncProgress progress) => inner.OnProgress(progress);

        public bool ShouldProcess(SyncItem item) => inner.ShouldProcess(item);

        /// <summary>The last attempt's view of the trees, with every attempt's items and the errors that were reported.</summary>
        public SyncSummary Total(SyncSummary last, TimeSpan elapsed)
        {
            last.Created = _counts.Created;
            last.Updated = _counts.Updated;
            last.Deleted = _counts.Deleted;
            last.Linked = _counts.Linked;
            last.MetadataUpdated = _counts.MetadataUpdated;
            last.BytesTransferred = _counts.BytesTransferred;
            last.BytesMatched = _counts.BytesMatched;
            lock (_gate)
            {
                last.Errors = _errors;
            }

            last.Duration = SyncSummary.Seconds(elapsed);
            return last;
        }
    }
}
