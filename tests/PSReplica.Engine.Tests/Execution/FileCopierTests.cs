using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Tests.Execution;

public sealed class FileCopierTests : IDisposable
{
    private const int ChunkBytes = 32 << 20;

    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private string Source(byte[] content, string? directory = null)
    {
        string path = Path.Join(directory ?? _tree.Source, "source-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, content);
        return path;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(ChunkBytes + 12_345)]
    public void Copies_exactly(int length)
    {
        byte[] content = Bytes(length, length);
        string target = Path.Join(_tree.Root, "target");
        var progress = new List<long>();

        long copied = FileCopier.Copy(Source(content), target, progress.Add, null, CancellationToken.None);

        Assert.Equal(length, copied);
        Assert.Equal(content, File.ReadAllBytes(target));
        if (length > 0)
        {
            Assert.Equal(length, progress[^1]);
            Assert.Equal(progress.Count, new SortedSet<long>(progress).Count);
        }

        if (length > ChunkBytes)
        {
            Assert.True(progress.Count >= 2, "a file larger than one chunk is copied in several steps");
        }
    }

    [Fact]
    public void The_buffered_fallback_copies_exactly_across_filesystems()
    {
        // copy_file_range refuses tmpfs -> ext4 (EXDEV); the copier must fall back to read/write.
        Assert.True(Directory.Exists("/dev/shm"), "the test needs /dev/shm");
        string shm = Path.Join("/dev/shm", "psr-copier-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(shm);
        try
        {
            byte[] content = Bytes((3 << 20) + 17, 3);
            string target = Path.Join(_tree.Root, "target");
            var progress = new List<long>();

            long copied = FileCopier.Copy(Source(content, shm), target, progress.Add, null, CancellationToken.None);

            Assert.Equal(content.Length, copied);
            Assert.Equal(content, File.ReadAllBytes(target));
            // The fallback moves 1 MiB a step where the kernel path moves up to one 32 MiB chunk.
            Assert.True(progress.Count >= 4, $"{progress.Count} progress steps: the fallback path was not taken");
        }
        finally
        {
            Directory.Delete(shm, recursive: true);
        }
    }

    [Fact]
    public void Cancellation_throws_and_leaves_the_partial_target_for_the_caller()
    {
        byte[] content = Bytes(ChunkBytes + (1 << 20), 5);
        string target = Path.Join(_tree.Root, "target");
        using var cts = new CancellationTokenSource();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            FileCopier.Copy(Source(content), target, _ => cts.Cancel(), null, cts.Token));

        Assert.True(File.Exists(target));
        Assert.True(new FileInfo(target).Length < content.Length);
    }

    [Fact]
    public void A_token_cancelled_before_the_copy_throws_without_copying()
    {
        string target = Path.Join(_tree.Root, "target");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => FileCopier.Copy(Source(Bytes(10, 1)), target, null, null, cts.Token));
        Assert.Equal(0, new FileInfo(target).Length);
    }

    [Fact]
    public void An_existing_target_is_never_overwritten()
    {
        string target = Path.Join(_tree.Root, "target");
        File.WriteAllText(target, "precious");
        SyncException ex = Assert.Throws<SyncException>(() => FileCopier.Copy(Source(Bytes(10, 1)), target, null, null, CancellationToken.None));
        Assert.Equal(ErrorIds.FileWriteError, ex.ErrorId);
        Assert.Equal("precious", File.ReadAllText(target));
    }

    [Fact]
    public void A_vanished_source_is_SourceVanished()
    {
        string target = Path.Join(_tree.Root, "target");
        SyncException ex = Assert.Throws<SyncException>(() =>
            FileCopier.Copy(Path.Join(_tree.Source, "gone"), target, null, null, CancellationToken.None));
        Assert.Equal(ErrorIds.SourceVanished, ex.ErrorId);
        Assert.False(File.Exists(target));
    }
}
