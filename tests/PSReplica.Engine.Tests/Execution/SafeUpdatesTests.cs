using System.Text;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>-Partial, -PartialDirectory, -DelayUpdates and -Inplace (issue #6) on local runs and pulls.</summary>
public sealed class SafeUpdatesTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private string WriteSource(string relative, byte[] data, long time = TestTree.BaseTime + 100)
    {
        string path = Path.Join(_tree.Source, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        TestTree.SetTime(path, time);
        return path;
    }

    private static RecordingObserver RunLocal(SyncOptions options)
    {
        var observer = new RecordingObserver();
        LocalReplicator.Run(options, observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        return observer;
    }

    [Fact]
    public void Partial_resumes_from_the_kept_prefix_and_removes_it()
    {
        byte[] data = TestTree.RandomBytes(2_000_000, 1);
        WriteSource("big.bin", data);
        Directory.CreateDirectory(_tree.Destination);
        string partial = Path.Join(_tree.Destination, ".big.bin.psreplica-partial");
        File.WriteAllBytes(partial, data.AsSpan(0, 1_200_000).ToArray());

        RecordingObserver observer = RunLocal(_tree.Options() with { Partial = true });

        SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == "big.bin");
        Assert.True(item.BytesMatched >= 1_100_000, $"matched {item.BytesMatched}");
        Assert.True(item.BytesTransferred <= 900_000, $"literal {item.BytesTransferred}");
        Assert.Equal(data, File.ReadAllBytes(Path.Join(_tree.Destination, "big.bin")));
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public void Without_partial_a_leftover_partial_name_is_an_ordinary_file()
    {
        byte[] data = TestTree.RandomBytes(300_000, 2);
        WriteSource("f.bin", data);
        Directory.CreateDirectory(_tree.Destination);
        string partial = Path.Join(_tree.Destination, ".f.bin.psreplica-partial");
        File.WriteAllBytes(partial, data.AsSpan(0, 1000).ToArray());

        RecordingObserver observer = RunLocal(_tree.Options(delete: true));

        SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == "f.bin");
        Assert.Equal(data.Length, item.BytesTransferred);
        Assert.Contains(observer.Items, i => i.RelativePath == ".f.bin.psreplica-partial" && i.Action == SyncAction.Delete);
    }

    [Fact]
    public void Partial_files_are_neither_sent_nor_deleted()
    {
        WriteSource("a.txt", Encoding.UTF8.GetBytes("a"));
        WriteSource(".x.psreplica-partial", Encoding.UTF8.GetBytes("from another run"));
        Directory.CreateDirectory(_tree.Destination);
        string stale = Path.Join(_tree.Destination, ".gone.psreplica-partial");
        File.WriteAllText(stale, "stale");

        RunLocal(_tree.Options(delete: true) with { Partial = true });

        Assert.True(File.Exists(stale));
        Assert.False(File.Exists(Path.Join(_tree.Destination, ".x.psreplica-partial")));
    }

    [Fact]
    public void A_relative_partial_directory_is_used_per_directory_and_removed_when_empty()
    {
        byte[] data = TestTree.RandomBytes(1_000_000, 3);
        WriteSource("sub/big.bin", data);
        WriteSource("sub/.pd/not-replicated", Encoding.UTF8.GetBytes("x"));
        string partialDirectory = Path.Join(_tree.Destination, "sub", ".pd");
        Directory.CreateDirectory(partialDirectory);
        File.WriteAllBytes(Path.Join(partialDirectory, "big.bin"), data.AsSpan(0, 600_000).ToArray());

        RecordingObserver observer = RunLocal(_tree.Options(delete: true) with { PartialDirectory = ".pd" });

        SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == "sub/big.bin");
        Assert.True(item.BytesMatched >= 550_000, $"matched {item.BytesMatched}");
        Assert.Equal(data, File.ReadAllBytes(Path.Join(_tree.Destination, "sub/big.bin")));
        Assert.False(Directory.Exists(partialDirectory));
    }

    [Fact]
    public void Many_copies_share_a_relative_partial_directory_without_removing_it_under_each_other()
    {
        for (int i = 0; i < 60; i++)
        {
            WriteSource($"d{i % 2}/f{i}.bin", TestTree.RandomBytes(i * 997, i));
        }

        RecordingObserver observer = RunLocal(_tree.Options() with { PartialDirectory = ".pd" });

        Assert.Equal(60, observer.Items.Count(i => i.ItemType == SyncItemType.File));
        Assert.Equal(TestTree.Listing(_tree.Source), TestTree.Listing(_tree.Destination));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("*.tmp")]
    public void A_relative_partial_directory_must_be_one_plain_name(string directory)
    {
        WriteSource("a.txt", Encoding.UTF8.GetBytes("a"));
        var error = Assert.Throws<SyncException>(() => LocalReplicator.Run(_tree.Options() with { PartialDirectory = directory },
            new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidPartialDirectory, error.ErrorId);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Inplace_refuses_delay_updates_and_a_partial_directory(bool delay, bool partialDirectory)
    {
        WriteSource("a.txt", Encoding.UTF8.GetBytes("a"));
        var error = Assert.Throws<SyncException>(() => LocalReplicator.Run(
            _tree.Options() with { Inplace = true, DelayUpdates = delay, PartialDirectory = partialDirectory ? ".pd" : null },
            new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
    }

    [Fact]
    public void Delay_updates_puts_every_file_in_place_and_leaves_no_temp_file()
    {
        for (int i = 0; i < 20; i++)
        {
            WriteSource($"d{i % 3}/f{i}.txt", Encoding.UTF8.GetBytes("new " + i));
            TestTree.Write(_tree.Destination, $"d{i % 3}/f{i}.txt", "old " + i, TestTree.BaseTime);
        }

        RecordingObserver observer = RunLocal(_tree.Options() with { DelayUpdates = true });

        Assert.Equal(20, observer.Items.Count(i => i.Action == SyncAction.Update));
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("new " + i, File.ReadAllText(Path.Join(_tree.Destination, $"d{i % 3}/f{i}.txt")));
        }

        Assert.Equal(TestTree.Listing(_tree.Source), TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public void Delay_updates_changes_nothing_when_the_run_is_cancelled_before_the_end()
    {
        for (int i = 0; i < 10; i++)
        {
            WriteSource($"f{i}.txt", Encoding.UTF8.GetBytes("new " + i));
            TestTree.Write(_tree.Destination, $"f{i}.txt", "old " + i, TestTree.BaseTime);
        }

        using var cancellation = new CancellationTokenSource();
        // Stop once a few files are written and waiting, as Ctrl+C would.
        var observer = new CancellingObserver("f6.txt", cancellation);
        Assert.ThrowsAny<OperationCanceledException>(() => LocalReplicator.Run(_tree.Options() with { DelayUpdates = true },
            observer, cancellation.Token));

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal("old " + i, File.ReadAllText(Path.Join(_tree.Destination, $"f{i}.txt")));
        }

        Assert.Equal(TestTree.Listing(_tree.Source), TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public void Delay_updates_with_partial_keeps_the_finished_files_for_the_next_run()
    {
        byte[] data = TestTree.RandomBytes(500_000, 4);
        WriteSource("a.bin", data);
        WriteSource("b.txt", Encoding.UTF8.GetBytes("b"));
        using var cancellation = new CancellationTokenSource();
        var observer = new CancellingObserver("a.bin", cancellation);
        SyncOptions options = _tree.Options() with { DelayUpdates = true, Partial = true };
        Assert.ThrowsAny<OperationCanceledException>(() => LocalReplicator.Run(options, observer, cancellation.Token));
        Assert.False(File.Exists(Path.Join(_tree.Destination, "a.bin")));
        Assert.Equal(data, File.ReadAllBytes(Path.Join(_tree.Destination, ".a.bin.psreplica-partial")));

        RecordingObserver second = RunLocal(options);
        SyncItem item = Assert.Single(second.Items, i => i.RelativePath == "a.bin");
        Assert.Equal(0, item.BytesTransferred);
        Assert.Equal(data, File.ReadAllBytes(Path.Join(_tree.Destination, "a.bin")));
        Assert.False(File.Exists(Path.Join(_tree.Destination, ".a.bin.psreplica-partial")));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    public void Inplace_delta_rebuilds_any_edit_in_the_same_inode(int seed)
    {
        var random = new Random(seed);
        byte[] old = TestTree.RandomBytes(700_000 + random.Next(100_000), seed);
        string target = TestTree.Write(_tree.Destination, "f.bin", string.Empty, TestTree.BaseTime);
        File.WriteAllBytes(target, old);
        TestTree.SetTime(target, TestTree.BaseTime);
        byte[] updated = Edit(old, random);
        WriteSource("f.bin", updated);
        ulong inode = TestTree.Stat(target).Inode;

        RecordingObserver observer = RunLocal(_tree.Options() with { Inplace = true, TransferMode = TransferMode.Delta, BlockSize = 2048 });

        SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == "f.bin");
        Assert.Equal(updated.Length, item.BytesTransferred + item.BytesMatched);
        Assert.Equal(updated, File.ReadAllBytes(target));
        Assert.Equal(inode, TestTree.Stat(target).Inode);
    }

    /// <summary>Moves, deletes, inserts and overwrites random stretches: blocks move both ways.</summary>
    private static byte[] Edit(byte[] data, Random random)
    {
        var result = data.ToList();
        for (int i = 0; i < 6; i++)
        {
            int at = random.Next(result.Count - 20_000);
            int length = random.Next(1, 20_000);
            switch (random.Next(4))
            {
                case 0:
                    result.RemoveRange(at, length);
                    break;
                case 1:
                    byte[] insert = new byte[length];
                    random.NextBytes(insert);
                    result.InsertRange(at, insert);
                    break;
                case 2:
                    byte[] moved = result.GetRange(at, length).ToArray();
                    result.RemoveRange(at, length);
                    result.InsertRange(random.Next(result.Count), moved);
                    break;
                default:
                    for (int j = 0; j < length; j++)
                    {
                        result[at + j] ^= 0x5A;
                    }

                    break;
            }
        }

        return [.. result];
    }

    [Fact]
    public void Inplace_writes_only_changed_blocks_and_keeps_hard_links_sharing_the_file()
    {
        byte[] old = TestTree.RandomBytes(1 << 20, 6);
        string target = Path.Join(_tree.Destination, "f.bin");
        Directory.CreateDirectory(_tree.Destination);
        File.WriteAllBytes(target, old);
        TestTree.SetTime(target, TestTree.BaseTime);
        string other = Path.Join(_tree.Root, "other-name");
        Assert.Equal(0, Posix.Link(target, other));
        byte[] updated = (byte[])old.Clone();
        updated[500_000] ^= 1;
        WriteSource("f.bin", updated);

        RecordingObserver observer = RunLocal(_tree.Options() with { Inplace = true, TransferMode = TransferMode.Delta, BlockSize = 4096 });

        SyncItem item = Assert.Single(observer.Items);
        Assert.Equal(4096, item.BytesTransferred);
        Assert.Equal(updated, File.ReadAllBytes(other));
    }

    [Fact]
    public void Inplace_writer_refuses_overwritten_blocks_without_a_source()
    {
        string path = Path.Join(_tree.Root, "basis");
        File.WriteAllBytes(path, TestTree.RandomBytes(8192, 7));
        using SafeFileHandle file = Posix.Open(path, Posix.ORdWr, 0, out _)!;
        using var writer = new InplacePatchWriter(file, 8192, 1024, source: null);
        writer.Literal(new byte[1500]);
        // Block 1 (1024..2047) was overwritten by the literal bytes.
        Assert.Throws<InplaceConflictException>(() => writer.Copy(1, 1));
    }

    [Fact]
    public void Inplace_writer_skips_blocks_already_at_their_place()
    {
        string path = Path.Join(_tree.Root, "basis");
        byte[] data = TestTree.RandomBytes(8192, 8);
        File.WriteAllBytes(path, data);
        using SafeFileHandle file = Posix.Open(path, Posix.ORdWr, 0, out _)!;
        using var writer = new InplacePatchWriter(file, 8192, 1024, source: null);
        writer.Copy(0, 4);
        writer.Copy(6, 2);
        writer.Copy(7, 1);
        Assert.Equal(4096, writer.UnwrittenBytes);
        Assert.Equal(7168, writer.Written);
        byte[] written = File.ReadAllBytes(path);
        Assert.Equal(data.AsSpan(0, 4096).ToArray(), written.AsSpan(0, 4096).ToArray());
        Assert.Equal(data.AsSpan(6144, 2048).ToArray(), written.AsSpan(4096, 2048).ToArray());
        Assert.Equal(data.AsSpan(7168, 1024).ToArray(), written.AsSpan(6144, 1024).ToArray());

        // Block 4's bytes now hold block 6's: copying it would read the wrong data.
        Assert.Throws<InplaceConflictException>(() => writer.Copy(4, 1));
    }

    [Fact]
    public void Hidden_partial_names_fit_the_name_limit_and_stay_distinct()
    {
        string a = new string('a', 250) + "1";
        string b = new string('a', 250) + "2";
        string hiddenA = PartialFiles.HiddenName(a);
        string hiddenB = PartialFiles.HiddenName(b);
        Assert.True(Encoding.UTF8.GetByteCount(hiddenA) <= 255);
        Assert.NotEqual(hiddenA, hiddenB);
        Assert.EndsWith(PartialFiles.Suffix, hiddenA, StringComparison.Ordinal);
        Assert.Equal(".x.psreplica-partial", PartialFiles.HiddenName("x"));
    }

    [Fact]
    public void Bandwidth_limit_paces_a_local_copy()
    {
        WriteSource("f.bin", TestTree.RandomBytes(1 << 20, 9));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        RunLocal(_tree.Options() with { BandwidthLimit = 512 << 10 });
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.8), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_pull_resumes_from_a_partial_file()
    {
        byte[] data = TestTree.RandomBytes(1_500_000, 10);
        WriteSource("big.bin", data);
        Directory.CreateDirectory(_tree.Destination);
        File.WriteAllBytes(Path.Join(_tree.Destination, ".big.bin.psreplica-partial"), data.AsSpan(0, 1_000_000).ToArray());

        RecordingObserver observer = await PullAsync(_tree.Options() with { Partial = true });

        SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == "big.bin");
        Assert.True(item.BytesTransferred <= 600_000, $"literal {item.BytesTransferred}");
        Assert.Equal(data, File.ReadAllBytes(Path.Join(_tree.Destination, "big.bin")));
        Assert.False(File.Exists(Path.Join(_tree.Destination, ".big.bin.psreplica-partial")));
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public async Task A_pull_updates_in_place_and_with_delayed_updates(int seed)
    {
        byte[] old = TestTree.RandomBytes(600_000, seed);
        string target = Path.Join(_tree.Destination, "f.bin");
        Directory.CreateDirectory(_tree.Destination);
        File.WriteAllBytes(target, old);
        TestTree.SetTime(target, TestTree.BaseTime);
        byte[] updated = Edit(old, new Random(seed));
        WriteSource("f.bin", updated);
        WriteSource("g.txt", Encoding.UTF8.GetBytes("g"));
        ulong inode = TestTree.Stat(target).Inode;

        await PullAsync(_tree.Options() with { Inplace = true, BlockSize = 2048 });
        Assert.Equal(updated, File.ReadAllBytes(target));
        Assert.Equal(inode, TestTree.Stat(target).Inode);

        WriteSource("f.bin", old, TestTree.BaseTime + 200);
        await PullAsync(_tree.Options() with { DelayUpdates = true });
        Assert.Equal(old, File.ReadAllBytes(target));
        Assert.Equal(TestTree.Listing(_tree.Source), TestTree.Listing(_tree.Destination));
    }

    private static async Task<RecordingObserver> PullAsync(SyncOptions options)
    {
        (_, RecordingObserver observer, _) = await Loopback.RunAsync(RemoteSide.Source, options);
        Assert.Empty(observer.Errors);
        return observer;
    }

    /// <summary>Cancels the run once the item at <paramref name="path"/> is reported done.</summary>
    private sealed class CancellingObserver(string path, CancellationTokenSource cancellation) : ISyncObserver
    {
        public void OnItem(SyncItem item)
        {
            if (item.RelativePath == path)
            {
                cancellation.Cancel();
            }
        }

        public void OnError(SyncException error)
        {
        }

        public void OnWarning(string message)
        {
        }

        public void OnProgress(SyncProgress progress)
        {
        }

        public bool ShouldProcess(SyncItem item) => true;
    }
}
