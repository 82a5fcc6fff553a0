using PSReplica.Engine.Execution;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Tests;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>A push or a pull through an agent runs its plan while it is made, as a local run does (issue 18, item 7): the
/// planner stays at most <see cref="PlanActions.Capacity"/> actions ahead of the reports and the agent's listing at most
/// a bound of entries (and the protocol's window) ahead of the planner, so a file written after the first report, far
/// enough down the tree, is replicated by the same run. Deletions still wait for the whole scan and are skipped after a
/// scan error; a cancelled run ends its planner and its session.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class StreamedRemoteRunTests : IDisposable
{
    /// <summary>The listing's bound in these runs: small, so that a tree of a few thousand entries is enough to show it.</summary>
    private const int ListingBound = 64;

    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    public static TheoryData<RemoteSide> Sides => new() { RemoteSide.Destination, RemoteSide.Source };

    /// <summary>More files than the planner may be ahead of the reports.</summary>
    private void Crowd(string directory, int count = PlanActions.Capacity + 100, int nameLength = 0)
    {
        string path = Path.Join(_tree.Source, directory);
        Directory.CreateDirectory(path);
        for (int i = 0; i < count; i++)
        {
            File.WriteAllBytes(Path.Join(path, "f" + i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture).PadRight(nameLength, 'n')), []);
        }
    }

    /// <summary>A whole run (plan and execution in one call, as Sync-Directory makes it) through an in-process agent.</summary>
    private static async Task<SyncSummary> RunAsync(RemoteSide side, SyncOptions options, ISyncObserver observer, CancellationToken cancellation = default)
    {
        await using Loopback loop = Loopback.WithAgent();
        SyncSummary summary;
        await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, side == RemoteSide.Destination ? options.Destination : options.Source))
        {
            replicator.ListingEntriesAhead = ListingBound;
            // A run that deadlocks (a planner waiting for room only the reports of a batch never sent would make) fails here
            // instead of hanging the test run; the bound is far above what these runs take.
            summary = await Task.Run(() => replicator.Run(options, observer, cancellation), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(5), CancellationToken.None);
        }

        Assert.True(await loop.FinishAsync() == 0, "the agent did not exit cleanly: " + loop.Diagnostics);
        return summary;
    }

    [Theory]
    [MemberData(nameof(Sides))]
    public async Task A_file_written_after_the_first_report_is_replicated_by_the_same_run(RemoteSide side)
    {
        Crowd("a");

        // Between a and z, more listing than the bound and the protocol's window (1 MiB) hold: 6,000 names of 250 bytes.
        // The agent lists z only once the planner has taken m, and it takes m only after the runner has reported most of
        // a's files; a push lists its local source when the planner gets there.
        Crowd("m", 6000, nameLength: 250);
        _tree.Src("z/early", "e");
        bool first = true;
        var observer = new RecordingObserver
        {
            OnItemHook = _ =>
            {
                if (first)
                {
                    first = false;
                    _tree.Src("z/late", "l");
                }
            },
        };

        SyncSummary summary = await RunAsync(side, _tree.Options(), observer);

        Assert.Empty(observer.Errors);
        Assert.Equal("l", File.ReadAllText(Path.Join(_tree.Destination, "z/late")));
        Assert.Equal(PlanActions.Capacity + 100, Directory.GetFiles(Path.Join(_tree.Destination, "a")).Length);
        Assert.Equal(6000, Directory.GetFiles(Path.Join(_tree.Destination, "m")).Length);

        // Every item is reported once, in plan order, and the totals count the whole tree (known only at the end).
        Assert.Equal(TestTree.Listing(_tree.Destination).Count + 1, observer.Items.Count);
        Assert.Equal(observer.Items.Count, summary.Created);
        Assert.Equal(TestTree.Listing(_tree.Source).Count, summary.ItemsTotal);
        Assert.Equal(observer.Items.Select(i => i.RelativePath).Order(StringComparer.Ordinal), observer.Items.Select(i => i.RelativePath));
    }

    [Theory]
    [MemberData(nameof(Sides))]
    public async Task An_extraneous_deletion_waits_for_the_whole_scan_and_is_skipped_after_a_later_scan_error(RemoteSide side)
    {
        // The deletion in a is met long before z is listed; z's dangling link under -CopyLinks is an I/O error (rsync -L),
        // met by the local walk on a push and by the agent's on a pull.
        _tree.Dst("a/extra", "x");
        Crowd("a");
        Crowd("m");
        Directory.CreateDirectory(Path.Join(_tree.Source, "z"));
        File.CreateSymbolicLink(Path.Join(_tree.Source, "z/dangling"), "nowhere");

        var observer = new RecordingObserver();
        SyncSummary summary = await RunAsync(side, _tree.Options(delete: true) with { CopyLinks = true }, observer);

        Assert.True(File.Exists(Path.Join(_tree.Destination, "a/extra")));
        Assert.Contains(observer.Errors, e => e.ErrorId == ErrorIds.DeletionSkippedAfterIoError);
        Assert.Contains(observer.Errors, e => e.ErrorId == ErrorIds.SymbolicLinkNoReferent);
        Assert.True(summary.DeletionsSkipped);
        Assert.Equal(PlanActions.Capacity + 101, Directory.GetFiles(Path.Join(_tree.Destination, "a")).Length);
        Assert.Equal(PlanActions.Capacity + 100, Directory.GetFiles(Path.Join(_tree.Destination, "m")).Length);

        // Without the error the same deletion goes ahead.
        File.Delete(Path.Join(_tree.Source, "z/dangling"));
        var again = new RecordingObserver();
        await RunAsync(side, _tree.Options(delete: true) with { CopyLinks = true }, again);
        Assert.Empty(again.Errors);
        Assert.False(File.Exists(Path.Join(_tree.Destination, "a/extra")));
    }

    [Theory]
    [MemberData(nameof(Sides))]
    public async Task A_stopped_run_ends_its_planner_and_its_session(RemoteSide side)
    {
        Crowd("a");
        Crowd("b");
        Crowd("m", 6000, nameLength: 250);
        using var stop = new CancellationTokenSource();
        var observer = new RecordingObserver { OnItemHook = item => stop.Cancel() };

        // The run returns: its planner, waiting on the plan's bound or on the agent's listing (the bound holds the agent's
        // walk inside m), is ended with it, and the session says goodbye.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunAsync(side, _tree.Options(), observer, stop.Token));

        // Nothing runs on after the call returned: a second run finds the tree as the first left it and finishes it.
        var again = new RecordingObserver();
        await RunAsync(side, _tree.Options(), again);
        Assert.Empty(again.Errors);
        Assert.Equal(PlanActions.Capacity + 100, Directory.GetFiles(Path.Join(_tree.Destination, "b")).Length);
        Assert.Equal(6000, Directory.GetFiles(Path.Join(_tree.Destination, "m")).Length);
        Assert.DoesNotContain(TestTree.Listing(_tree.Destination), p => TempFileNames.IsTemporary(p));
    }

    /// <summary>What -Watch's catch-up after a lost connection relies on: a whole-tree run whose only difference is the
    /// destination root's time (the batch before it was cut off between its last item and the root's time) sets it.</summary>
    [Theory]
    [MemberData(nameof(Sides))]
    public async Task A_run_that_finds_only_the_roots_time_changed_sets_it(RemoteSide side)
    {
        _tree.Src("a.txt", "a", TestTree.BaseTime);
        _tree.Src("d/b.txt", "b", TestTree.BaseTime);
        TestTree.SetTime(_tree.Source, TestTree.BaseTime + 5, 250_000_000);
        await RunAsync(side, _tree.Options(delete: true), new RecordingObserver());
        RandomTree.AssertSame(_tree.Source, _tree.Destination);

        TestTree.SetTime(_tree.Destination, TestTree.BaseTime + 99, 0);
        var observer = new RecordingObserver();
        await RunAsync(side, _tree.Options(delete: true), observer);

        Assert.Empty(observer.Errors);
        Assert.Equal(TestTree.Stat(_tree.Source).MtimeSeconds, TestTree.Stat(_tree.Destination).MtimeSeconds);
        RandomTree.AssertSame(_tree.Source, _tree.Destination);
    }
}
