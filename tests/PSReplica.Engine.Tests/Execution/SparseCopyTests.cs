using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>-Sparse (rsync -S) on a local run: a sparse source is copied by its data, zeros become holes, a delta update
/// keeps them, and the content is the source's exactly.</summary>
public sealed class SparseCopyTests : IDisposable
{
    /// <summary>The apparent size of the test files: large beside their data, small enough to read quickly.</summary>
    internal const long Apparent = 96L << 20;

    /// <summary>What the file system may allocate to a copy holding <see cref="DataBytes"/> of data (metadata blocks and
    /// the partial blocks at each stretch's ends included), far below <see cref="Apparent"/>.</summary>
    internal const long AllocationBound = 2L << 20;

    /// <summary>Data at the start, in the middle (not block-aligned), and near the end; the end itself is a hole.</summary>
    internal static readonly (long Offset, int Length, int Seed)[] Data =
    [
        (0, 64 << 10, 1),
        ((40L << 20) + 1000, 200 << 10, 2),
        (Apparent - (1L << 20), 128 << 10, 3),
    ];

    internal static readonly long DataBytes = Data.Sum(d => (long)d.Length);

    /// <summary>An older copy of the <see cref="Data"/> file: its middle stretch differs, and it holds 8 MiB of written
    /// zeros, which a delta copies as basis blocks.</summary>
    internal static readonly (long Offset, int Length, int Seed)[] OldCopy =
        [(60L << 20, 8 << 20, 0), Data[0], Data[2], (Data[1].Offset, Data[1].Length, 9)];

    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Write_leaves_out_aligned_blocks_of_zeros_and_end_gives_the_length()
    {
        string path = Path.Join(_tree.Root, "written");
        byte[] data = new byte[64 << 10];
        // A zero block, a block with one byte, then zeros to the end; written from an unaligned offset.
        data[5000] = 7;
        using (SafeFileHandle file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            long end = SparseFiles.Write(file, data, 3 << 20);
            SparseFiles.End(file, end + (1 << 20));
        }

        byte[] expected = new byte[(3 << 20) + data.Length + (1 << 20)];
        data.CopyTo(expected, 3 << 20);
        Assert.Equal(expected, File.ReadAllBytes(path));
        Assert.True(SparseFile.Allocated(path) <= 16 << 10, $"{SparseFile.Allocated(path)} bytes allocated for one non-zero byte");
    }

    [Fact]
    public void A_sparse_file_is_copied_with_its_holes_and_written_zeros_become_holes()
    {
        // A stretch of written zeros (allocated in the source) becomes a hole too, as with rsync -S.
        string source = SparseFile.Create(Path.Join(_tree.Source, "disk.img"), Apparent, [.. Data, ((20L << 20), 4 << 20, 0)]);
        Assert.True(SparseFile.Allocated(source) >= 4L << 20, "the source's written zeros were not allocated: the test would prove nothing");
        _tree.Src("plain.txt", "plain");

        var observer = new RecordingObserver();
        LocalReplicator.Run(_tree.Options() with { Sparse = true, BandwidthLimit = 64L << 20 }, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        string copy = Path.Join(_tree.Destination, "disk.img");
        Assert.True(SparseFile.SameContent(source, copy));
        Assert.True(SparseFile.Allocated(copy) < AllocationBound, $"{SparseFile.Allocated(copy)} bytes allocated for {DataBytes} bytes of data");
        Assert.Equal("plain", File.ReadAllText(Path.Join(_tree.Destination, "plain.txt")));
        Assert.Equal(Apparent, Assert.Single(observer.Items, i => i.RelativePath == "disk.img").Length);
    }

    [Theory]
    [InlineData(TransferMode.Delta)]
    [InlineData(TransferMode.WholeFile)]
    public void An_update_of_a_sparse_file_keeps_its_holes(TransferMode mode)
    {
        string source = SparseFile.Create(Path.Join(_tree.Source, "disk.img"), Apparent, Data);
        // The destination's older copy: the same but for the middle stretch, with 8 MiB of written zeros, so that basis
        // blocks of zeros copied by the delta must become holes too.
        string old = Path.Join(_tree.Destination, "disk.img");
        SparseFile.Create(old, Apparent, OldCopy);
        Assert.True(SparseFile.Allocated(old) >= 8L << 20, "the old copy's zeros were not allocated: the test would prove nothing");
        TestTree.SetTime(old, TestTree.BaseTime);

        var observer = new RecordingObserver();
        LocalReplicator.Run(_tree.Options() with { Sparse = true, TransferMode = mode }, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        SyncItem item = Assert.Single(observer.Items, i => i.RelativePath == "disk.img");
        Assert.Equal(SyncAction.Update, item.Action);
        if (mode == TransferMode.Delta)
        {
            Assert.True(item.BytesMatched > Apparent / 2, $"only {item.BytesMatched} bytes matched: not a delta update");
        }

        Assert.True(SparseFile.SameContent(source, old));
        Assert.True(SparseFile.Allocated(old) < AllocationBound, $"{SparseFile.Allocated(old)} bytes allocated for {DataBytes} bytes of data");
    }

    [Fact]
    public void Sparse_with_inplace_is_refused_before_anything_is_touched()
    {
        SparseFile.Create(Path.Join(_tree.Source, "disk.img"), 1 << 20, (0, 4096, 1));

        var error = Assert.Throws<SyncException>(() =>
            LocalReplicator.Run(_tree.Options() with { Sparse = true, Inplace = true }, new RecordingObserver(), CancellationToken.None));

        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.StartsWith("-Sparse cannot be combined with -Inplace", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_tree.Destination));
    }
}
