namespace PSReplica.Engine.Tests.Protocol;

/// <summary>The synchronous side of a stream (<see cref="MuxStream.Receive"/> under <see cref="MuxReadStream.Read(Span{byte})"/>),
/// which the batch readers, the signature reader and the delta pump use on threads of their own: it must see every frame
/// and every end that the asynchronous side sees, whether the frame came before the read or while it waited.</summary>
public sealed class MuxReadStreamTests
{
    [Fact]
    public async Task A_synchronous_reader_gets_data_and_the_trailer_delivered_while_it_waits()
    {
        MuxStream stream = NewStream();
        Task<(byte[] Data, byte[]? Trailer)> reading = Task.Factory.StartNew(() =>
        {
            using var input = new MuxReadStream(stream, CancellationToken.None);
            var data = new MemoryStream();
            input.CopyTo(data);
            return (data.ToArray(), input.Trailer);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        stream.Deliver(DataFrame([1, 2, 3]));
        stream.Deliver(DataFrame([4, 5]));
        stream.Deliver(new Frame(FrameKind.End, stream.Id, null, 0));
        (byte[] data, byte[]? trailer) = await reading;

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, data);
        Assert.Equal(Array.Empty<byte>(), trailer);
    }

    [Fact]
    public async Task A_synchronous_reader_gets_the_failure_of_a_stream_that_fails_while_it_waits()
    {
        MuxStream stream = NewStream();
        Task<int> reading = Task.Factory.StartNew(() =>
        {
            using var input = new MuxReadStream(stream, CancellationToken.None);
            return input.Read(new byte[16]);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        stream.Fail(ProtocolFault.ConnectionLost("the test cut it"));

        SyncException error = await Assert.ThrowsAsync<SyncException>(() => reading);
        Assert.Equal(ErrorIds.ConnectionLost, error.ErrorId);
    }

    [Fact]
    public async Task A_cancelled_synchronous_read_stops_waiting()
    {
        MuxStream stream = NewStream();
        using var cancellation = new CancellationTokenSource();
        Task<int> reading = Task.Factory.StartNew(() =>
        {
            using var input = new MuxReadStream(stream, cancellation.Token);
            return input.Read(new byte[16]);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
    }

    private static MuxStream NewStream()
    {
        var pipe = new MemoryStream();
        var mux = new Multiplexer(new FrameReader(pipe), new FrameWriter(pipe), Timeout.InfiniteTimeSpan, acceptsRequests: false);
        return mux.Register(1);
    }

    private static Frame DataFrame(byte[] payload)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(buffer, 0);
        return new Frame(FrameKind.Data, 1, buffer, payload.Length);
    }
}
