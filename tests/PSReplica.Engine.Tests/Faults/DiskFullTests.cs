using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Faults;

/// <summary>Issue 18: a destination that runs out of space (ENOSPC on write) or of inodes (ENOSPC on create, as a quota's
/// EDQUOT fails a create) part way through a run, locally and on either side of the agent. Each failed item gets its
/// error, the files in place keep their old content, no temporary file is left, nothing outside the plan changes, and
/// once there is room again a re-run converges.</summary>
public sealed class DiskFullTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Theory]
    // 2.5 MiB for 1.8 MiB in place and 3.3 MiB to write (delta.bin's 1 MB temporary copy cannot fit at all).
    [InlineData(Wiring.Local, "2560k", 0)]
    [InlineData(Wiring.Push, "2560k", 0)]
    [InlineData(Wiring.Pull, "2560k", 0)]
    // 13 inodes in place (the root included) and room for 3 more: new/ and its ten files cannot all be created.
    [InlineData(Wiring.Local, "64m", 16)]
    [InlineData(Wiring.Push, "64m", 16)]
    [InlineData(Wiring.Pull, "64m", 16)]
    public async Task A_full_destination_fails_item_by_item_keeps_old_files_and_a_rerun_converges_once_there_is_room(Wiring wiring, string size, long inodes)
    {
        using var mount = new TmpfsMount(_tree.Destination, size, inodes);
        FaultTree.Create(_tree.Source, _tree.Destination, seed: 18);
        var before = FaultTree.Snapshot(_tree.Destination);
        SyncOptions options = _tree.Options();

        RecordingObserver observer = await FaultTree.RunAsync(wiring, options);

        Assert.NotEmpty(observer.Errors);
        var failed = new HashSet<string>(StringComparer.Ordinal);
        foreach (SyncException error in observer.Errors)
        {
            Assert.True(error.ErrorId == ErrorIds.FileWriteError, $"{error.ErrorId}: {error.Message}");
            Assert.Contains("No space left on device", error.Message, StringComparison.Ordinal);
            Assert.NotNull(error.Target);
            Assert.True(failed.Add(error.Target), $"Two errors for {error.Target}");
        }

        FaultTree.AssertNoTornFile(_tree.Source, _tree.Destination, before);

        // Every file that did not arrive has its error (or its directory's).
        foreach ((string relative, (string hash, _, _)) in FaultTree.Snapshot(_tree.Source))
        {
            string target = Path.Join(_tree.Destination, relative);
            if (!File.Exists(target) || FaultTree.Hash(target) != hash)
            {
                string parent = Path.GetDirectoryName(relative)!.Replace('\\', '/');
                Assert.True(failed.Contains(relative) || failed.Contains(parent), $"{relative} was not written and has no error");
            }
        }

        mount.Grow("64m");
        RecordingObserver rerun = await FaultTree.RunAsync(wiring, options);
        Assert.Empty(rerun.Errors);
        RandomTree.AssertSame(_tree.Source, _tree.Destination);
    }
}
