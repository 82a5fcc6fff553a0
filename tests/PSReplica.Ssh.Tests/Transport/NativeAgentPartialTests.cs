using PSReplica.Engine.Tests;

namespace PSReplica.Ssh.Tests;

/// <summary>-Partial and -PartialDirectory through the native agent on a server without .NET: the agent is killed once more
/// than half of a large file has reached the receiving side (the server's disk on a push, the local one on a pull); what
/// arrived stays as the partial file, never under the target's name (an older copy there stays as it was), and the next
/// run resumes from it, sending little more than the rest, and leaves an exact replica with no partial file behind.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NativeAgentPartialTests(NativeAgentModule module) : IClassFixture<NativeAgentModule>, IDisposable
{
    private const int Length = 24 << 20;
    private const string Big = "sub dir/big file.bin";

    private readonly NativeAgentModule _module = module;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(RemoteSide.Destination, null, false)]
    [InlineData(RemoteSide.Destination, ".partial", false)]
    [InlineData(RemoteSide.Destination, null, true)]
    [InlineData(RemoteSide.Source, null, false)]
    [InlineData(RemoteSide.Source, null, true)]
    [InlineData(RemoteSide.Source, ".partial", true)]
    public void An_interrupted_run_keeps_the_partial_file_and_the_next_run_resumes_from_it(RemoteSide side, string? partialDirectory, bool olderCopy)
    {
        string source = _dir.Combine("source", "tree");
        string destination = _dir.Combine("destination", "tree");
        byte[] data = TestTree.RandomBytes(Length, seed: 15);
        Directory.CreateDirectory(Path.Join(source, "sub dir"));
        File.WriteAllBytes(Path.Join(source, Big), data);
        TestTree.SetTime(Path.Join(source, Big), TestTree.BaseTime, 123_456_789);
        File.WriteAllText(Path.Join(source, "small.txt"), "small\n");
        TestTree.SetTime(Path.Join(source, "small.txt"), TestTree.BaseTime + 1, 987_654_321);
        TestTree.SetTime(Path.Join(source, "sub dir"), TestTree.BaseTime + 2, 5);
        TestTree.SetTime(source, TestTree.BaseTime + 3, 7);
        byte[] older = TestTree.RandomBytes(Length, seed: 16);
        if (olderCopy)
        {
            Directory.CreateDirectory(Path.Join(destination, "sub dir"));
            File.WriteAllBytes(Path.Join(destination, Big), older);
            TestTree.SetTime(Path.Join(destination, Big), TestTree.BaseTime - 1000, 0);
        }

        var options = new SyncOptions { Source = source, Destination = destination, Partial = partialDirectory is null, PartialDirectory = partialDirectory };
        string partial = Path.Join(destination, partialDirectory is null ? "sub dir/.big file.bin.psreplica-partial" : "sub dir/.partial/big file.bin");

        // The receiving side's partial file is on this machine whichever side the server is; the hook watches it.
        int killed = 0;
        var cut = new RecordingObserver
        {
            WantsVerbose = true,
            OnProgressHook = _ =>
            {
                if (Volatile.Read(ref killed) == 0 && new FileInfo(partial) is { Exists: true } file && file.Length > Length / 2)
                {
                    Interlocked.Add(ref killed, NativeAgentRuns.KillAgents(_module));
                }
            },
        };
        Assert.Throws<SyncException>(() => NativeAgentRuns.Run(_module, side, options, cut));
        NativeAgentRuns.AssertNativeAgentRan(_module, cut);
        Assert.True(killed == 1, $"{killed} native agents killed");

        Assert.True(File.Exists(partial), "the partial file stays");
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, Length / 2, Length - 1);
        Assert.True(data.AsSpan(0, (int)kept).SequenceEqual(File.ReadAllBytes(partial)), "the partial file is a prefix of the new file");
        if (olderCopy)
        {
            Assert.True(older.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Join(destination, Big))), "the older copy stays as it was");
        }
        else
        {
            Assert.False(File.Exists(Path.Join(destination, Big)), "an incomplete file never takes the target's name");
        }

        var resumed = new RecordingObserver { WantsVerbose = true };
        NativeAgentRuns.Run(_module, side, options, resumed);

        Assert.Empty(resumed.Errors);
        Assert.Empty(resumed.Warnings);
        SyncItem item = Assert.Single(resumed.Items, i => i.RelativePath == Big);
        Assert.True(item.BytesMatched >= kept - (1 << 20), $"matched {item.BytesMatched} of the {kept} kept");
        Assert.True(item.BytesTransferred <= Length - kept + (1 << 20), $"sent {item.BytesTransferred} with {kept} kept");
        Assert.False(File.Exists(partial), "the partial file goes once the file is complete");
        // Exact, and nothing else there: no partial file or directory, no temp file.
        NativeAgentRuns.AssertSameTree(source, destination, $"the resumed {side} run");
    }
}
