using System.Threading.Channels;
using PSReplica.Engine.Watching;

namespace PSReplica.Engine.Tests.Watching;

/// <summary>How -Watch gathers changes into batches: finished changes (a file closed after writing, a deletion, a rename)
/// do not wait for the settle time, and go on while a burst goes on; a file still being written waits for it and is held
/// back meanwhile. The settle times here are far longer than any test may take, so that a batch that waited for one
/// shows as a test that does not end (the bound is a failure bound only).</summary>
public sealed class ChangeBatchesTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly WatchSettings Long = new(TimeSpan.FromMinutes(10), null);

    private static WatchChange Open(string path) => new(WatchChangeKind.Item, path);

    private static WatchChange Closed(string path) => new(WatchChangeKind.Item, path) { Final = true };

    private static async Task<List<WatchChange>> NextAsync(ChangeBatches batches)
    {
        Task<List<WatchChange>> next = Task.Run(() => batches.Next(CancellationToken.None));
        return await next.WaitAsync(Bound);
    }

    [Fact]
    public async Task Files_closed_after_writing_are_a_batch_without_waiting_for_the_settle_time()
    {
        var channel = Channel.CreateUnbounded<WatchChange>();
        var batches = new ChangeBatches(channel.Reader, Long);
        // A file made, written and closed; a deletion; a rename (both halves); a directory made (its subtree).
        channel.Writer.TryWrite(Open("a"));
        channel.Writer.TryWrite(Open("a"));
        channel.Writer.TryWrite(Closed("a"));
        channel.Writer.TryWrite(Closed("gone"));
        channel.Writer.TryWrite(Closed("old"));
        channel.Writer.TryWrite(Closed("new"));
        channel.Writer.TryWrite(new WatchChange(WatchChangeKind.Subtree, "d"));

        List<WatchChange> batch = await NextAsync(batches);

        Assert.Equal(["a", "a", "a", "gone", "old", "new", "d"], batch.Select(c => c.RelativePath));
        Assert.Equal(0, batches.Held);
    }

    [Fact]
    public async Task A_file_still_being_written_is_held_back_while_the_finished_changes_go_on()
    {
        var channel = Channel.CreateUnbounded<WatchChange>();
        var batches = new ChangeBatches(channel.Reader, Long);
        channel.Writer.TryWrite(Open("log"));
        channel.Writer.TryWrite(Closed("done"));

        Assert.Equal(["done"], (await NextAsync(batches)).Select(c => c.RelativePath));
        Assert.Equal(1, batches.Held);

        // Written on, then closed: all its changes come in the batch of its close.
        channel.Writer.TryWrite(Open("log"));
        channel.Writer.TryWrite(Closed("log"));
        Assert.Equal(["log", "log", "log"], (await NextAsync(batches)).Select(c => c.RelativePath));
        Assert.Equal(0, batches.Held);
    }

    [Fact]
    public async Task A_file_closed_and_then_written_again_waits_again()
    {
        var channel = Channel.CreateUnbounded<WatchChange>();
        var batches = new ChangeBatches(channel.Reader, Long);
        channel.Writer.TryWrite(Closed("f"));
        channel.Writer.TryWrite(Open("f"));
        channel.Writer.TryWrite(Closed("other"));

        Assert.Equal(["other"], (await NextAsync(batches)).Select(c => c.RelativePath));
        Assert.Equal(1, batches.Held);
    }

    [Fact]
    public async Task A_burst_of_closed_files_is_batched_while_it_goes_on()
    {
        // Settle time 50 ms: finished changes are a batch at most that long after the first, even though the burst never
        // pauses; the writer stops only once the batch has come.
        var channel = Channel.CreateUnbounded<WatchChange>();
        var batches = new ChangeBatches(channel.Reader, new WatchSettings(TimeSpan.FromMilliseconds(50), null));
        using var stop = new CancellationTokenSource();
        int written = 0;
        Task writer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                int n = Interlocked.Increment(ref written);
                channel.Writer.TryWrite(Open($"f{n}"));
                channel.Writer.TryWrite(Closed($"f{n}"));
                Thread.Sleep(1);
            }
        });

        List<WatchChange> batch = await NextAsync(batches);
        bool stillWriting = !writer.IsCompleted;
        stop.Cancel();
        await writer.WaitAsync(Bound);

        Assert.True(stillWriting);
        Assert.NotEmpty(batch);
        // Whole files only: each file in the batch is there with its close.
        foreach (IGrouping<string, WatchChange> file in batch.GroupBy(c => c.RelativePath))
        {
            Assert.True(file.Last().Final, $"{file.Key} is in the batch without its close");
        }
    }

    [Fact]
    public async Task Finished_changes_that_paused_before_they_were_read_are_a_batch_at_once()
    {
        // A pause of 10 minutes: changes seen 11 minutes ago (they came while the previous batch ran, and nothing since)
        // have paused for it already; timed from when they are read instead, this batch would not come within the bound.
        var channel = Channel.CreateUnbounded<WatchChange>();
        var batches = new ChangeBatches(channel.Reader, new WatchSettings(TimeSpan.FromHours(1), null), finishedPause: TimeSpan.FromMinutes(10));
        long earlier = System.Diagnostics.Stopwatch.GetTimestamp() - (System.Diagnostics.Stopwatch.Frequency * 11 * 60);
        channel.Writer.TryWrite(Open("a") with { Seen = earlier });
        channel.Writer.TryWrite(Closed("a") with { Seen = earlier });
        channel.Writer.TryWrite(Closed("b") with { Seen = earlier });

        Assert.Equal(["a", "a", "b"], (await NextAsync(batches)).Select(c => c.RelativePath));
        Assert.Equal(0, batches.Held);
    }

    [Fact]
    public async Task A_watcher_that_ended_with_its_last_changes_is_thrown_not_batched()
    {
        // rm -r of the root: its last file's deletion, then the root's own end. Read after both (and paused already), the
        // changes are no batch: the root they are relative to is gone.
        var channel = Channel.CreateUnbounded<WatchChange>();
        var batches = new ChangeBatches(channel.Reader, new WatchSettings(TimeSpan.FromHours(1), null), finishedPause: TimeSpan.FromMinutes(10));
        long earlier = System.Diagnostics.Stopwatch.GetTimestamp() - (System.Diagnostics.Stopwatch.Frequency * 11 * 60);
        channel.Writer.TryWrite(Closed("last.txt") with { Seen = earlier });
        channel.Writer.TryComplete(new SyncException(ErrorIds.WatchRootLost, SyncErrorKind.NotFound, "gone", "root"));

        SyncException lost = await Assert.ThrowsAsync<SyncException>(() => NextAsync(batches));
        Assert.Equal(ErrorIds.WatchRootLost, lost.ErrorId);
    }

    [Fact]
    public async Task Changes_of_files_still_open_wait_for_the_notifications_to_pause()
    {
        var channel = Channel.CreateUnbounded<WatchChange>();
        var batches = new ChangeBatches(channel.Reader, new WatchSettings(TimeSpan.FromMilliseconds(20), null));
        channel.Writer.TryWrite(Open("a"));
        channel.Writer.TryWrite(Open("b"));

        Assert.Equal(["a", "b"], (await NextAsync(batches)).Select(c => c.RelativePath));
        Assert.Equal(0, batches.Held);
    }

    [Fact]
    public async Task A_stop_ends_the_wait_for_held_changes()
    {
        var channel = Channel.CreateUnbounded<WatchChange>();
        var batches = new ChangeBatches(channel.Reader, Long);
        channel.Writer.TryWrite(Open("log"));
        channel.Writer.TryWrite(Closed("done"));
        _ = await NextAsync(batches);

        using var stop = new CancellationTokenSource();
        Task<List<WatchChange>> next = Task.Run(() => batches.Next(stop.Token));
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.WaitAsync(Bound));
    }
}
