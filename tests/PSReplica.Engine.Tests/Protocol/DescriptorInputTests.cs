using System.IO.Pipes;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Tests.Protocol;

/// <summary>The agent's standard input read in place (poll, then read): what arrives is read, the end of the input reads
/// as 0, a silent peer still times out (in the frame reader too, as PeerTimeout), and a cancelled session stops waiting.
/// The agent process tests read through it end to end.</summary>
public sealed class DescriptorInputTests : IDisposable
{
    private readonly AnonymousPipeServerStream _writer = new(PipeDirection.Out);
    private readonly AnonymousPipeClientStream _reader;
    private readonly DescriptorInput _input;

    public DescriptorInputTests()
    {
        _reader = new AnonymousPipeClientStream(PipeDirection.In, _writer.ClientSafePipeHandle);
        _input = new DescriptorInput((int)_reader.SafePipeHandle.DangerousGetHandle());
    }

    public void Dispose()
    {
        _input.Dispose();
        _reader.Dispose();
        _writer.Dispose();
    }

    [Fact]
    public void What_arrives_is_read_and_the_end_reads_as_zero()
    {
        _writer.Write("hello"u8);
        _writer.Flush();
        byte[] buffer = new byte[64];

        int n = _input.Read(buffer, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Equal("hello"u8.ToArray(), buffer[..n]);
        _writer.Dispose();
        Assert.Equal(0, _input.Read(buffer));
    }

    [Fact]
    public void A_pipe_grows_to_the_size_asked_for_and_a_file_is_refused()
    {
        int fd = (int)_reader.SafePipeHandle.DangerousGetHandle();
        Assert.Equal(1 << 20, Native.Posix.SetPipeSize(fd, 1 << 20));
        Assert.Equal(1 << 20, Native.Posix.PipeSize(fd));

        string path = Path.GetTempFileName();
        try
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle file = File.OpenHandle(path);
            Assert.True(Native.Posix.SetPipeSize((int)file.DangerousGetHandle(), 1 << 20) < 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_silent_peer_times_out()
    {
        Assert.Throws<TimeoutException>(() => _input.Read(new byte[16], TimeSpan.FromMilliseconds(300), CancellationToken.None));
    }

    [Fact]
    public void A_cancelled_wait_stops()
    {
        using var cancel = new CancellationTokenSource();
        cancel.CancelAfter(TimeSpan.FromMilliseconds(100));

        Assert.ThrowsAny<OperationCanceledException>(() => _input.Read(new byte[16], Timeout.InfiniteTimeSpan, cancel.Token));
    }

    [Fact]
    public async Task The_frame_reader_times_a_silent_peer_out_through_it()
    {
        var frames = new FrameReader(_input);

        SyncException error = await Assert.ThrowsAsync<SyncException>(() => frames.ReadAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None));

        Assert.Equal(ErrorIds.PeerTimeout, error.ErrorId);
    }
}
