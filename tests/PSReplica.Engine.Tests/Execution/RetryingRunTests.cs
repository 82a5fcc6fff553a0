namespace PSReplica.Engine.Tests.Execution;

/// <summary>-RetryCount: attempts that fail for reasons that can pass are run again, their failures shown as verbose
/// lines instead of errors until the last attempt; failures no attempt can change are reported once and not retried.</summary>
public sealed class RetryingRunTests
{
    private static SyncItem Item(string path) => new(SyncAction.Create, SyncItemType.File, path, SyncReason.New, ">f+++++++++") { Length = 1 };

    private static SyncException Failure(string id, string path) => new(id, SyncErrorKind.ReadError, $"{id} on {path}", path);

    [Fact]
    public void A_transient_item_failure_is_retried_and_not_reported_when_a_later_attempt_succeeds()
    {
        var observer = new RecordingObserver { WantsVerbose = true };
        int attempts = 0;
        SyncSummary summary = RetryingRun.Run(o =>
        {
            attempts++;
            o.OnItem(Item("ok" + attempts));
            if (attempts == 1)
            {
                o.OnError(Failure(ErrorIds.SourceVanished, "flaky"));
            }
            else
            {
                o.OnItem(Item("flaky"));
            }

            return new SyncSummary();
        }, observer, retryCount: 3, TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(2, attempts);
        Assert.Empty(observer.Errors);
        Assert.Equal(3, summary.Created);
        Assert.Equal(0, summary.Errors);
        Assert.Contains(observer.Verbose, v => v.StartsWith("Attempt 1: SourceVanished", StringComparison.Ordinal));
        Assert.Contains(observer.Verbose, v => v.StartsWith("Retrying in 0 s (attempt 2 of 4)", StringComparison.Ordinal));
    }

    [Fact]
    public void The_last_attempt_reports_what_did_not_pass()
    {
        var observer = new RecordingObserver { WantsVerbose = true };
        int attempts = 0;
        SyncSummary summary = RetryingRun.Run(o =>
        {
            attempts++;
            o.OnError(Failure(ErrorIds.FileWriteError, "busy"));
            return new SyncSummary();
        }, observer, retryCount: 2, TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(3, attempts);
        Assert.Single(observer.Errors);
        Assert.Equal(1, summary.Errors);
    }

    [Fact]
    public void A_failure_no_attempt_can_change_is_reported_once_and_not_retried()
    {
        var observer = new RecordingObserver { WantsVerbose = true };
        int attempts = 0;
        RetryingRun.Run(o =>
        {
            attempts++;
            o.OnError(Failure(ErrorIds.CannotReplaceNonEmptyDirectory, "dir"));
            return new SyncSummary();
        }, observer, retryCount: 5, TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(1, attempts);
        Assert.Single(observer.Errors);
    }

    [Fact]
    public void A_lost_connection_runs_the_rest_again_and_a_bad_host_key_does_not()
    {
        var observer = new RecordingObserver { WantsVerbose = true };
        int attempts = 0;
        SyncSummary summary = RetryingRun.Run(o =>
        {
            attempts++;
            o.OnItem(Item("before-the-cut"));
            if (attempts == 1)
            {
                throw new SyncException(ErrorIds.ConnectionLost, SyncErrorKind.ReadError, "The connection to the peer was lost.");
            }

            return new SyncSummary();
        }, observer, retryCount: 1, TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(2, attempts);
        Assert.Equal(2, summary.Created);
        Assert.Contains(observer.Verbose, v => v.StartsWith("Attempt 1 of 2 failed: ConnectionLost", StringComparison.Ordinal));

        attempts = 0;
        SyncException refused = Assert.Throws<SyncException>(() => RetryingRun.Run(o =>
        {
            attempts++;
            throw new SyncException(ErrorIds.HostKeyMismatch, SyncErrorKind.InvalidOperation, "changed");
        }, observer, retryCount: 3, TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(ErrorIds.HostKeyMismatch, refused.ErrorId);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public void The_last_attempt_lets_a_lost_connection_through()
    {
        int attempts = 0;
        SyncException lost = Assert.Throws<SyncException>(() => RetryingRun.Run(o =>
        {
            attempts++;
            throw new SyncException(ErrorIds.ConnectionLost, SyncErrorKind.ReadError, "lost");
        }, new RecordingObserver { WantsVerbose = true }, retryCount: 2, TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(ErrorIds.ConnectionLost, lost.ErrorId);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public void Stopping_during_the_wait_ends_the_run()
    {
        using var stop = new CancellationTokenSource();
        int attempts = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => RetryingRun.Run(o =>
        {
            attempts++;
            o.OnError(Failure(ErrorIds.SourceVanished, "x"));
            stop.Cancel();
            return new SyncSummary();
        }, new RecordingObserver { WantsVerbose = true }, retryCount: 3, TimeSpan.FromHours(1), stop.Token));
        Assert.Equal(1, attempts);
    }

    [Fact]
    public void A_real_run_retries_a_file_that_vanished_and_came_back()
    {
        using var tree = new TestTree();
        tree.Src("a.txt", "a");
        string moved = Path.Join(tree.Root, "a.txt.away");
        var observer = new RecordingObserver { WantsVerbose = true };
        int attempts = 0;
        SyncSummary summary = RetryingRun.Run(o =>
        {
            attempts++;
            var hiding = new HidingObserver(o, Path.Join(tree.Source, "a.txt"), moved, hide: attempts == 1);
            return LocalReplicator.Run(tree.Options(), hiding, CancellationToken.None);
        }, observer, retryCount: 1, TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(2, attempts);
        Assert.Empty(observer.Errors);
        Assert.Equal("a", File.ReadAllText(Path.Join(tree.Destination, "a.txt")));
        Assert.Contains(observer.Verbose, v => v.StartsWith("Attempt 1: SourceVanished", StringComparison.Ordinal));
        Assert.Equal(0, summary.Errors);
    }

    /// <summary>On the first attempt, moves the source file away once the scan has listed it (at the first copy progress
    /// or confirmation) and puts it back when the attempt reports its failure: a file that vanished and came back.</summary>
    private sealed class HidingObserver(ISyncObserver inner, string path, string away, bool hide) : ISyncObserver
    {
        public bool ConfirmsEachAction => true;

        public bool WantsVerbose => inner.WantsVerbose;

        public void OnVerbose(string message) => inner.OnVerbose(message);

        public void OnItem(SyncItem item) => inner.OnItem(item);

        public void OnError(SyncException error)
        {
            if (hide && File.Exists(away))
            {
                File.Move(away, path);
            }

            inner.OnError(error);
        }

        public void OnWarning(string message) => inner.OnWarning(message);

        public void OnProgress(SyncProgress progress) => inner.OnProgress(progress);

        public bool ShouldProcess(SyncItem item)
        {
            if (hide && item.RelativePath == "a.txt" && File.Exists(path))
            {
                File.Move(path, away);
            }

            return inner.ShouldProcess(item);
        }
    }
}
