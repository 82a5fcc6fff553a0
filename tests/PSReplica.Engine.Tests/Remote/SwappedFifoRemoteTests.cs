namespace PSReplica.Engine.Tests.Remote;

/// <summary>Issue 18, D6, on the agent's side of a pull: a source file replaced by a FIFO after the listing is opened
/// without blocking (O_NONBLOCK) and refused by the type its descriptor tells, whether it is read whole (ReadFile), in a
/// batch of small files (ReadBatch) or for a delta (ComputeDelta); the run goes on with the other files. (The local
/// sender's counterpart is SourceFilesTests.A_FIFO_swapped_in_for_a_file_is_refused_without_blocking.)</summary>
public sealed class SwappedFifoRemoteTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData(TransferMode.WholeFile)]
    [InlineData(TransferMode.Delta)]
    public async Task A_source_file_swapped_for_a_FIFO_after_the_plan_is_refused_without_blocking_the_pull(TransferMode mode)
    {
        _tree.Src("small.txt", "small, read in a batch");
        _tree.SrcRandom("big.bin", 3 << 20, 7);
        _tree.Src("kept.txt", "copied");
        // An older copy of big.bin, so that a delta run asks the agent for a delta of it.
        Directory.CreateDirectory(_tree.Destination);
        File.WriteAllBytes(Path.Join(_tree.Destination, "big.bin"), TestTree.RandomBytes(3 << 20, 8));
        TestTree.SetTime(Path.Join(_tree.Destination, "big.bin"), TestTree.BaseTime);

        (SyncSummary _, RecordingObserver observer, _, _) = await Loopback.PlanThenExecuteAsync(RemoteSide.Source, _tree.Options() with { TransferMode = mode }, () =>
        {
            foreach (string name in new[] { "small.txt", "big.bin" })
            {
                File.Delete(Path.Join(_tree.Source, name));
                TestTree.Run("mkfifo", Path.Join(_tree.Source, name));
            }
        });

        Assert.Equal("copied", File.ReadAllText(Path.Join(_tree.Destination, "kept.txt")));
        Assert.Equal(["big.bin", "small.txt"], observer.Errors.Select(e => Path.GetFileName(e.Target ?? string.Empty)).Order(StringComparer.Ordinal));
        Assert.All(observer.Errors, e => Assert.Contains("not a regular file", e.Message, StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Join(_tree.Destination, "small.txt")));
        Assert.Equal(TestTree.RandomBytes(3 << 20, 8), File.ReadAllBytes(Path.Join(_tree.Destination, "big.bin")));
    }
}
