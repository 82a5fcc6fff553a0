using PSReplica.Engine.Client;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>The local source of a transfer to an agent: its reads are counted for progress and for the check after the
/// last byte, and a file opened for synchronous access is read in place rather than handed to another thread per chunk.</summary>
public sealed class CountingReadStreamTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public async Task A_synchronous_file_is_read_in_place_and_counted()
    {
        string path = Path.Join(_tree.Source, "f");
        File.WriteAllBytes(path, new byte[300_000]);
        var seen = new List<long>();
        int finished = 0;
        using var stream = new CountingReadStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1), seen.Add, 300_000, () => finished++);
        byte[] buffer = new byte[128 << 10];

        long total = 0;
        while (true)
        {
            ValueTask<int> read = stream.ReadAsync(buffer);
            // Completed when it returns: no thread-pool hand-off for a local file.
            Assert.True(read.IsCompletedSuccessfully);
            int n = await read;
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        Assert.Equal(300_000, total);
        Assert.Equal([131_072, 262_144, 300_000], seen);
        Assert.Equal(1, finished);
    }

    [Fact]
    public async Task Another_stream_is_read_asynchronously_and_its_cancellation_holds()
    {
        using var cancel = new CancellationTokenSource();
        var pipe = new System.IO.Pipelines.Pipe();
        using var stream = new CountingReadStream(pipe.Reader.AsStream(), progress: null);
        ValueTask<int> read = stream.ReadAsync(new byte[16], cancel.Token);
        Assert.False(read.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
    }

    [Fact]
    public async Task A_cancelled_read_of_a_synchronous_file_throws()
    {
        string path = Path.Join(_tree.Source, "f");
        File.WriteAllBytes(path, new byte[10]);
        using var stream = new CountingReadStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1), progress: null);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => _ = await stream.ReadAsync(new byte[10], new CancellationToken(canceled: true)));
    }
}
