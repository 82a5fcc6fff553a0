using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace PSReplica.Ssh.Tests;

[Collection(SshServerGroup.Name)]
public sealed class SshExecChannelTests(TestSshServer server)
{
    private readonly TestSshServer _server = server;

    [Fact]
    public async Task Cat_returns_several_MiB_exactly()
    {
        byte[] data = new byte[5 * 1024 * 1024 + 123];
        new Random(42).NextBytes(data);
        using SshSession session = SshConnector.Connect(_server.Options());
        using ICommandChannel channel = session.OpenCommand("cat");
        byte[] received = ChannelRoundTrip.Run(channel, data, chunk: 100_000);
        Assert.Equal(data.Length, received.Length);
        Assert.True(data.AsSpan().SequenceEqual(received), "the bytes differ");
        Assert.Equal(0, await channel.WaitForExitAsync());
        Assert.Equal(0, channel.ExitStatus);
    }

    [Fact]
    public async Task A_bulk_write_leaves_in_full_segments()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        using ICommandChannel opened = session.OpenCommand("cat > /dev/null");
        var channel = Assert.IsType<SshExecChannel>(opened);

        // The writer reads these from SSH.NET's non-public members: an SSH.NET that moves them fails here, rather than
        // quietly sending a short packet per write and a segment per packet again.
        Assert.Equal(32 * 1024, channel.PacketSize);
        Assert.NotNull(channel.Window);
        Assert.True(channel.Window.Available >= channel.PacketSize, $"window {channel.Window.Available}");
        Socket socket = Assert.IsType<Socket>(channel.Socket);
        Assert.Equal(OperatingSystem.IsLinux(), channel.Batching is not null);
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // No more than the server's window allows at once (OpenSSH opens a session channel with 2 MiB), so the writer
        // never waits for the window to come back: how fast the server's cat reads (slow on a loaded machine) has no
        // part in how the data leaves, only the writer has.
        long room = channel.Window.Available - channel.PacketSize;
        Assert.True(room >= 1024 * 1024, $"window {channel.Window.Available}");
        TcpCounters before = TcpCounters.Of(socket);
        byte[] data = new byte[(int)Math.Min(room / channel.PacketSize * channel.PacketSize, 8 * 1024 * 1024)];
        new Random(11).NextBytes(data);
        for (int offset = 0; offset < data.Length; offset += 100_000)
        {
            channel.Stream.Write(data, offset, Math.Min(100_000, data.Length - offset));
        }

        channel.CloseInput();
        Assert.Equal(0, await channel.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        TcpCounters after = TcpCounters.Of(socket);

        // Each SSH packet given to the socket on its own left as a segment of its own (the socket has TCP_NODELAY); held
        // while more follows, the stream leaves in segments of the connection's MSS (64 KiB on the loopback: two
        // packets a segment). Allowed: a partial segment for every fourth packet (where the writer ran dry).
        long packets = data.Length / channel.PacketSize;
        long bytes = after.BytesSent - before.BytesSent;
        long full = (bytes + after.Mss - 1) / after.Mss;
        long segments = after.DataSegments - before.DataSegments;
        Assert.True(bytes >= data.Length, $"{bytes} bytes sent");
        Assert.True(segments <= full + (packets / 4), $"{segments} data segments for {bytes} bytes in {packets} packets of 32 KiB (MSS {after.Mss}: {full} full segments)");
    }

    [Fact]
    public async Task Closing_an_unused_stdin_ends_the_command()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        using ICommandChannel channel = session.OpenCommand("cat; echo done");
        channel.CloseInput();
        byte[] buffer = new byte[64];
        int read = channel.Stream.Read(buffer);
        Assert.Equal("done\n", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        Assert.Equal(0, await channel.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Exit_status_and_standard_error_are_reported()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        using ICommandChannel channel = session.OpenCommand("echo out; echo 'trouble here' >&2; exit 3");
        byte[] buffer = new byte[64];
        int total = 0;
        int read;
        while ((read = channel.Stream.Read(buffer, total, buffer.Length - total)) > 0)
        {
            total += read;
        }

        Assert.Equal("out\n", System.Text.Encoding.ASCII.GetString(buffer, 0, total));
        Assert.Equal(3, await channel.WaitForExitAsync());
        Assert.Contains("trouble here", channel.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_silent_peer_trips_the_idle_timeout()
    {
        using SshSession session = SshConnector.Connect(_server.Options(idleTimeout: TimeSpan.FromMilliseconds(700)));
        using ICommandChannel channel = session.OpenCommand("sleep 60");
        var clock = Stopwatch.StartNew();
        SyncException ex = Assert.Throws<SyncException>(() => channel.Stream.Read(new byte[16]));
        Assert.Equal(ErrorIds.SshConnectionTimeout, ex.ErrorId);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void A_peer_that_stops_reading_trips_the_idle_timeout_on_write()
    {
        using SshSession session = SshConnector.Connect(_server.Options(idleTimeout: TimeSpan.FromMilliseconds(700)));
        using ICommandChannel channel = session.OpenCommand("sleep 60");
        byte[] chunk = new byte[256 * 1024];
        var clock = Stopwatch.StartNew();
        SyncException ex = Assert.Throws<SyncException>(() =>
        {
            // The window and the pipes fill up within some MiB; then a write waits for the peer.
            for (int i = 0; i < 4096; i++)
            {
                channel.Stream.Write(chunk);
            }
        });
        Assert.Equal(ErrorIds.SshConnectionTimeout, ex.ErrorId);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_cancelled_read_aborts_the_channel()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        using ICommandChannel channel = session.OpenCommand("sleep 60");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await channel.Stream.ReadAtLeastAsync(new byte[16], 1, cancellationToken: cancel.Token));
    }

    [Fact]
    public async Task Kill_ends_a_running_command()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        using ICommandChannel channel = session.OpenCommand("sleep 60");
        channel.Kill();
        Assert.Equal(0, channel.Stream.Read(new byte[16]));
        await channel.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, channel.ExitStatus ?? -1);
    }

    [Fact]
    public void A_connection_killed_mid_transfer_is_an_error_not_an_end()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        using ICommandChannel channel = session.OpenCommand("head -c 1000000000 /dev/zero");
        byte[] buffer = new byte[64 * 1024];
        Assert.Equal(buffer.Length, channel.Stream.ReadAtLeast(buffer, buffer.Length));
        Assert.True(_server.KillConnections() > 0, "no sshd session process was found");
        SyncException ex = Assert.Throws<SyncException>(() =>
        {
            while (channel.Stream.Read(buffer) > 0)
            {
            }
        });
        Assert.Equal(ErrorIds.SshConnectionFailed, ex.ErrorId);
        Assert.False(session.IsConnected);
    }

    [Fact]
    public void Several_channels_share_one_session()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        byte[] a = [1, 2, 3];
        byte[] b = [9, 8, 7, 6];
        using ICommandChannel first = session.OpenCommand("cat");
        using ICommandChannel second = session.OpenCommand("cat");
        Assert.Equal(b, ChannelRoundTrip.Run(second, b));
        Assert.Equal(a, ChannelRoundTrip.Run(first, a));
    }

    /// <summary>A socket's send counters from Linux's TCP_INFO, retransmissions left out.</summary>
    private readonly record struct TcpCounters(long DataSegments, long BytesSent, int Mss)
    {
        public static TcpCounters Of(Socket socket)
        {
            byte[] info = new byte[232];
            int length = socket.GetRawSocketOption(6 /* IPPROTO_TCP */, 11 /* TCP_INFO */, info);
            Assert.True(length >= 216, $"TCP_INFO gave {length} bytes (kernel older than 4.19?)");
            uint retransmittedSegments = BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(100));
            uint dataSegmentsOut = BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(156));
            ulong bytesSent = BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(200));
            ulong bytesRetransmitted = BinaryPrimitives.ReadUInt64LittleEndian(info.AsSpan(208));
            int mss = (int)BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(16));
            return new TcpCounters((long)dataSegmentsOut - retransmittedSegments, (long)(bytesSent - bytesRetransmitted), mss);
        }
    }
}
