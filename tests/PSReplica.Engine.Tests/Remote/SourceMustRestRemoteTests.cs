using PSReplica.Engine.Client;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>-Watch on a push to an agent (<see cref="SyncOptions.SourceMustRest"/>): a source file written after the plan
/// was made, and so while it was copied, is never put in place at the destination, whichever way it travels (in a write
/// batch, whole on its own, or as a delta); it fails with SourceChangedSinceListing, and the agent keeps nothing of it.
/// Without the option it is copied as it was read (a file sent on its own, at the length it was listed with). The write comes between the plan and its execution, so no timing is
/// involved.</summary>
public sealed class SourceMustRestRemoteTests : IDisposable
{
    /// <summary>Larger than a write batch takes (RemoteDestination.BatchFileLimit), so it goes on its own.</summary>
    private const int LargeLength = 300 << 10;

    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_small_new_file_written_after_the_plan_is_batched_as_it_is_then_and_with_the_watch_never_put_in_place(bool watch)
    {
        string path = _tree.Src("busy.log", "first line\n");
        TestTree.SetTime(path, 1_700_000_100);

        RecordingObserver observer = await PlanAppendExecuteAsync(watch, () => File.AppendAllText(path, "second\n"));

        if (!watch)
        {
            Assert.Empty(observer.Errors);
            Assert.Equal("first line\nsecond\n", File.ReadAllText(Path.Join(_tree.Destination, "busy.log")));
        }
        else
        {
            AssertRefused(observer, "busy.log");
            Assert.Empty(TestTree.Listing(_tree.Destination));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_large_new_file_written_after_the_plan_goes_whole_as_listed_and_with_the_watch_never_put_in_place(bool watch)
    {
        byte[] listed = _tree.SrcRandom("big.bin", LargeLength, 1);
        string path = Path.Join(_tree.Source, "big.bin");
        TestTree.SetTime(path, 1_700_000_100);

        RecordingObserver observer = await PlanAppendExecuteAsync(watch, () => Append(path, TestTree.RandomBytes(1000, 2)));

        if (!watch)
        {
            // A whole file goes at the length it was listed with.
            Assert.Empty(observer.Errors);
            Assert.Equal(listed, File.ReadAllBytes(Path.Join(_tree.Destination, "big.bin")));
            Assert.Equal(0, Assert.Single(observer.Items, i => i.RelativePath == "big.bin").BytesMatched);
        }
        else
        {
            AssertRefused(observer, "big.bin");
            Assert.Empty(TestTree.Listing(_tree.Destination));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_file_updated_by_a_delta_and_written_after_the_plan_is_sent_whole_as_listed_and_with_the_watch_left_as_it_was(bool watch)
    {
        byte[] content = _tree.SrcRandom("big.bin", LargeLength, 3);
        string path = Path.Join(_tree.Source, "big.bin");
        TestTree.SetTime(path, 1_700_000_100);

        // An older version: the same but for a changed stretch in the middle, with an older time.
        byte[] old = (byte[])content.Clone();
        TestTree.RandomBytes(4096, 4).CopyTo(old, LargeLength / 2);
        Directory.CreateDirectory(_tree.Destination);
        string destination = Path.Join(_tree.Destination, "big.bin");
        File.WriteAllBytes(destination, old);
        TestTree.SetTime(destination, 1_600_000_000);

        RecordingObserver observer = await PlanAppendExecuteAsync(watch, () => Append(path, TestTree.RandomBytes(1000, 5)));

        if (!watch)
        {
            // The delta reads past the listed length, does not verify, and the file goes whole, at that length.
            Assert.Empty(observer.Errors);
            Assert.Equal(["'big.bin' did not verify after a delta transfer; sending it whole."], observer.Warnings);
            Assert.Equal(content, File.ReadAllBytes(destination));
        }
        else
        {
            // Refused in the delta itself (no second try whole).
            AssertRefused(observer, "big.bin");
            Assert.Empty(observer.Warnings);
            Assert.Equal(old, File.ReadAllBytes(destination));
            Assert.Equal(1_600_000_000, TestTree.Stat(destination).MtimeSeconds);
            Assert.Equal(["big.bin"], TestTree.Listing(_tree.Destination));
        }
    }

    /// <summary>A push planned, then <paramref name="write"/> to the source, then the plan carried out.</summary>
    private async Task<RecordingObserver> PlanAppendExecuteAsync(bool watch, Action write)
    {
        SyncOptions options = _tree.Options() with { SourceMustRest = watch };
        (SyncSummary _, RecordingObserver observer, long _, long _) = await Loopback.PlanThenExecuteAsync(RemoteSide.Destination, options, write);
        return observer;
    }

    private static void AssertRefused(RecordingObserver observer, string relative)
    {
        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.SourceChangedSinceListing, error.ErrorId);
        Assert.Equal(relative, error.Target);
    }

    private static void Append(string path, byte[] bytes)
    {
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write);
        file.Write(bytes);
    }
}
