using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Tests.Delta;

public sealed class WriteBehindFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "psreplica-behind-" + Guid.NewGuid().ToString("N"));

    public WriteBehindFileTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Pieces of every size, some larger than a buffer, some a byte: the file is the pieces in order, each buffer
    /// written at its place however the pieces fell across buffers and however far the writer lagged.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Writes_the_pieces_in_order_across_buffers(int bufferBytes)
    {
        var random = new Random(bufferBytes);
        byte[] content = new byte[50_000];
        random.NextBytes(content);
        string path = Path.Combine(_directory, "out");
        using (SafeFileHandle output = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite))
        using (var behind = new WriteBehindFile(output, bufferBytes))
        {
            for (int done = 0; done < content.Length;)
            {
                int piece = Math.Min(content.Length - done, random.Next(1, 3 * bufferBytes + 2));
                for (int end = done + piece; done < end;)
                {
                    Span<byte> room = behind.GetSpan();
                    Assert.InRange(room.Length, 1, bufferBytes);
                    int n = Math.Min(room.Length, end - done);
                    content.AsSpan(done, n).CopyTo(room);
                    behind.Advance(n);
                    done += n;
                }
            }

            behind.Complete();
        }

        Assert.Equal(content, File.ReadAllBytes(path));
    }

    /// <summary>A write that fails on the writer's thread is thrown to the caller, by the next call that would go on or by
    /// Complete, so a file the writer could not write is never judged whole; a caller that fills faster than the writer fails
    /// is not left waiting for room that never comes.</summary>
    [Fact]
    public void A_failed_write_is_thrown_to_the_caller()
    {
        string path = Path.Combine(_directory, "read-only");
        File.WriteAllBytes(path, []);
        using SafeFileHandle output = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        using var behind = new WriteBehindFile(output, 16);
        Exception? thrown = null;
        try
        {
            // Far more than the ring holds: the caller would wait for room without end if the failure did not wake it.
            for (int i = 0; i < 1000; i++)
            {
                Span<byte> room = behind.GetSpan();
                room.Fill(1);
                behind.Advance(room.Length);
            }

            behind.Complete();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            thrown = ex;
        }

        Assert.NotNull(thrown);
        Assert.ThrowsAny<Exception>(() => behind.Complete());
        Assert.Equal(0, new FileInfo(path).Length);
    }

    /// <summary>Disposed without Complete (the transfer failed), the writer stops: no write runs on once Dispose has returned
    /// (the caller then removes the file), and what it wrote is a prefix of what was given, whole buffers only.</summary>
    [Fact]
    public void Dispose_without_complete_stops_the_writer_at_a_prefix()
    {
        byte[] content = new byte[64 * 40];
        new Random(3).NextBytes(content);
        string path = Path.Combine(_directory, "abandoned");
        using SafeFileHandle output = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
        var behind = new WriteBehindFile(output, 64);
        for (int done = 0; done < content.Length;)
        {
            Span<byte> room = behind.GetSpan();
            content.AsSpan(done, room.Length).CopyTo(room);
            behind.Advance(room.Length);
            done += room.Length;
        }

        behind.Dispose();
        long length = RandomAccess.GetLength(output);
        byte[] written = File.ReadAllBytes(path);
        Assert.Equal(0, length % 64);
        Assert.True(length < content.Length, "the last buffer, never queued, was written");
        Assert.Equal(content.AsSpan(0, (int)length).ToArray(), written);

        // Nothing is written after Dispose: the file stays as it was.
        Assert.Equal(length, RandomAccess.GetLength(output));
        Assert.Throws<ObjectDisposedException>(() => behind.GetSpan().Length);
    }

    [Fact]
    public void Advancing_past_the_span_given_is_refused()
    {
        using SafeFileHandle output = File.OpenHandle(Path.Combine(_directory, "out"), FileMode.CreateNew, FileAccess.ReadWrite);
        using var behind = new WriteBehindFile(output, 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => behind.Advance(1));
        Span<byte> room = behind.GetSpan();
        Assert.Equal(8, room.Length);
        behind.Advance(5);
        Assert.Throws<ArgumentOutOfRangeException>(() => behind.Advance(4));
        Assert.Equal(3, behind.GetSpan().Length);
    }
}
