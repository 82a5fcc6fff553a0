using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Faults;

/// <summary>Issue 18: a source whose reads fail with EIO part way through some files (a FUSE view, FailingReadsMount),
/// copied whole and by delta locally, pushed (the controller reads) and pulled (the agent's sender reads). Each such file
/// gets a FileReadError that names it, its destination keeps the old file (or stays absent), no temporary file is left,
/// the run goes on with the other files, nothing outside the plan changes, and once the disk reads again a re-run
/// converges.</summary>
public sealed class ReadErrorTests : IDisposable
{
    private static readonly string[] Failing = ["bad.eio", "upd.eio", "delta.eio"];

    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData(Wiring.Local, TransferMode.WholeFile)]
    [InlineData(Wiring.Local, TransferMode.Delta)]
    [InlineData(Wiring.Push, TransferMode.Auto)]
    [InlineData(Wiring.Pull, TransferMode.Auto)]
    public async Task A_source_that_fails_mid_file_costs_only_those_files_and_a_rerun_converges(Wiring wiring, TransferMode mode)
    {
        string backing = Path.Join(_tree.Root, "backing");
        CreateFixture(backing, _tree.Destination);
        using var mount = new FailingReadsMount(backing, _tree.Source);
        var before = FaultTree.Snapshot(_tree.Destination);
        SyncOptions options = _tree.Options() with { TransferMode = mode };

        RecordingObserver observer = await FaultTree.RunAsync(wiring, options);

        var failed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (SyncException error in observer.Errors)
        {
            Assert.True(error.ErrorId == ErrorIds.FileReadError, $"{error.ErrorId}: {error.Message}");
            Assert.True(error.Target is not null, $"No target: {error.Message}");
            string name = Path.GetFileName(error.Target);
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
            Assert.Contains("Input/output error", error.Message, StringComparison.Ordinal);
            Assert.True(failed.Add(name), $"Two errors for {name}");
        }

        Assert.Equal(new SortedSet<string>(Failing, StringComparer.Ordinal), failed);
        // The backing directory holds what the source says when it can be read.
        FaultTree.AssertNoTornFile(backing, _tree.Destination, before);
        Assert.False(File.Exists(Path.Join(_tree.Destination, "bad.eio")));
        foreach (string name in new[] { "upd.eio", "delta.eio" })
        {
            Assert.Equal(before[name], FaultTree.Snapshot(_tree.Destination)[name]);
        }

        foreach (string name in new[] { "a.txt", "z.txt" })
        {
            Assert.Equal(FaultTree.Hash(Path.Join(backing, name)), FaultTree.Hash(Path.Join(_tree.Destination, name)));
        }

        mount.Heal();
        RecordingObserver rerun = await FaultTree.RunAsync(wiring, options);
        Assert.Empty(rerun.Errors);
        RandomTree.AssertSame(backing, _tree.Destination);
    }

    [Theory]
    [InlineData(TransferMode.WholeFile)]
    [InlineData(TransferMode.Delta)]
    public async Task An_in_place_update_from_a_failing_source_is_a_read_error_of_that_file(TransferMode mode)
    {
        // -Inplace writes over the file itself, so what it held before is not kept; the failure must still be told as the
        // source's read error (it was once a write error for whole files), and a re-run must mend the file.
        string backing = Path.Join(_tree.Root, "backing");
        CreateFixture(backing, _tree.Destination);
        using var mount = new FailingReadsMount(backing, _tree.Source);
        SyncOptions options = _tree.Options() with { TransferMode = mode, Inplace = true };

        RecordingObserver observer = await FaultTree.RunAsync(Wiring.Local, options);

        foreach (SyncException error in observer.Errors)
        {
            Assert.True(error.ErrorId == ErrorIds.FileReadError, $"{error.ErrorId}: {error.Message}");
            Assert.Contains(Path.GetFileName(error.Target!), error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(new SortedSet<string>(Failing, StringComparer.Ordinal),
            new SortedSet<string>(observer.Errors.Select(e => Path.GetFileName(e.Target!)), StringComparer.Ordinal));
        mount.Heal();
        RecordingObserver rerun = await FaultTree.RunAsync(Wiring.Local, options);
        Assert.Empty(rerun.Errors);
        RandomTree.AssertSame(backing, _tree.Destination);
    }

    private static void CreateFixture(string source, string destination)
    {
        var random = new Random(1806);
        foreach (string name in FaultTree.Untouched)
        {
            byte[] same = FaultTree.Bytes(random, 1000);
            FaultTree.Put(source, name, same, FaultTree.OldTime);
            FaultTree.Put(destination, name, same, FaultTree.OldTime);
        }

        FaultTree.Put(source, "a.txt", FaultTree.Bytes(random, 1000), FaultTree.NewTime);
        FaultTree.Put(source, "z.txt", FaultTree.Bytes(random, 1000), FaultTree.NewTime);
        FaultTree.Put(source, "bad.eio", FaultTree.Bytes(random, 300_000), FaultTree.NewTime);
        FaultTree.Put(destination, "upd.eio", FaultTree.Bytes(random, 300_000), FaultTree.OldTime);
        FaultTree.Put(source, "upd.eio", FaultTree.Bytes(random, 300_000), FaultTree.NewTime);
        byte[] large = FaultTree.Bytes(random, 1_000_000);
        FaultTree.Put(destination, "delta.eio", large, FaultTree.OldTime);
        random.NextBytes(large.AsSpan(400_000, 4096));
        FaultTree.Put(source, "delta.eio", large, FaultTree.NewTime);
        foreach (string root in new[] { source, destination })
        {
            TestTree.SetTime(Path.Join(root, "same"), FaultTree.OldTime);
            TestTree.SetTime(root, FaultTree.OldTime);
        }
    }
}
