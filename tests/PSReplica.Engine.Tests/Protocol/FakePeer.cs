using System.Buffers.Binary;

namespace PSReplica.Engine.Tests.Protocol;

/// <summary>Drives the protocol by hand, to play a hostile or broken peer: well-formed frames built from the engine's
/// own codecs where the test wants them, raw bytes where it does not.</summary>
internal sealed class FakePeer
{
    private readonly Stream _input;
    private readonly Stream _output;
    private readonly FrameReader _reader;

    public FakePeer(Stream input, Stream output)
    {
        _input = input;
        _output = output;
        _reader = new FrameReader(input);
    }

    public async Task SendAsync(FrameKind kind, uint id, Action<WireWriter> body)
    {
        using var message = new WireWriter();
        body(message);
        await SendRawFrameAsync((byte)kind, id, message.Written.ToArray());
    }

    public async Task SendRawFrameAsync(byte kind, uint id, byte[] payload, uint? announcedLength = null)
    {
        byte[] frame = new byte[Frame.HeaderLength + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, announcedLength ?? (uint)payload.Length);
        frame[4] = kind;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(5), id);
        payload.CopyTo(frame, Frame.HeaderLength);
        await _output.WriteAsync(frame);
        await _output.FlushAsync();
    }

    public Task SendBytesAsync(byte[] bytes) => _output.WriteAsync(bytes).AsTask();

    public async Task<Frame?> ReadAsync() => await _reader.ReadAsync(TimeSpan.FromSeconds(30), CancellationToken.None);

    /// <summary>Reads frames until one of <paramref name="kind"/> on <paramref name="id"/> (keep-alives and others skipped).</summary>
    public async Task<Frame> ExpectAsync(FrameKind kind, uint id)
    {
        while (true)
        {
            Frame frame = await ReadAsync() ?? throw new EndOfStreamException($"The peer closed before a {kind} frame.");
            if (frame.Kind == kind && frame.Id == id)
            {
                return frame;
            }

            frame.Dispose();
        }
    }

    /// <summary>Sends <paramref name="body"/> on stream <paramref name="id"/> in one Data frame, then its End.</summary>
    public async Task SendBodyAsync(uint id, byte[] body)
    {
        await SendRawFrameAsync((byte)FrameKind.Data, id, body);
        await SendRawFrameAsync((byte)FrameKind.End, id, []);
    }

    /// <summary>Reads the Data frames of stream <paramref name="id"/> up to its End (frames of other streams skipped), as one
    /// stream positioned at its start.</summary>
    public async Task<MemoryStream> ReadBodyAsync(uint id)
    {
        var body = new MemoryStream();
        while (true)
        {
            using Frame frame = await ReadAsync() ?? throw new EndOfStreamException();
            if (frame.Id != id)
            {
                continue;
            }

            if (frame.Kind == FrameKind.End)
            {
                body.Position = 0;
                return body;
            }

            Assert.Equal(FrameKind.Data, frame.Kind);
            body.Write(frame.Payload);
        }
    }

    /// <summary>Plays the agent's half of the handshake: reads Hello and Open, answers Welcome and Opened (a root that exists).</summary>
    public async Task AcceptAsControllerPeerAsync(params string[] capabilities)
    {
        using (Frame hello = await ExpectAsync(FrameKind.Control, 0))
        {
            Assert.Equal((byte)ControlType.Hello, hello.Payload[0]);
        }

        await SendAsync(FrameKind.Control, 0, w =>
        {
            w.Byte((byte)ControlType.Welcome).UInt32Fixed(Handshake.Magic).UInt(1).String("fake").UInt((uint)capabilities.Length);
            foreach (string capability in capabilities)
            {
                w.String(capability);
            }
        });
        using (Frame open = await ExpectAsync(FrameKind.Control, 0))
        {
            Assert.Equal((byte)ControlType.Open, open.Payload[0]);
        }

        await SendAsync(FrameKind.Control, 0, w =>
        {
            w.Byte((byte)ControlType.Opened).Byte(1);
            new ListingEntry(string.Empty, new Native.StatInfo(0x41ED, 2, 0, 0, 1, 0, 0, 0, 1), null).Write(w);
        });
    }

    /// <summary>Plays the controller's half of the handshake against a real agent.</summary>
    public async Task ConnectAsAgentPeerAsync(RemoteSide role, string root, TimeSpan idle, params string[] capabilities)
    {
        await SendAsync(FrameKind.Control, 0, w =>
        {
            w.Byte((byte)ControlType.Hello).UInt32Fixed(Handshake.Magic).UInt(1).UInt(1).UInt((uint)capabilities.Length);
            foreach (string capability in capabilities)
            {
                w.String(capability);
            }

            w.UInt(idle == Timeout.InfiniteTimeSpan ? 0 : (ulong)idle.TotalMilliseconds).String("fake").UInt(0).UInt(0);
        });
        (await ExpectAsync(FrameKind.Control, 0)).Dispose();
        await SendAsync(FrameKind.Control, 0, w => w.Byte((byte)ControlType.Open).Byte((byte)role).String(root));
        (await ExpectAsync(FrameKind.Control, 0)).Dispose();
    }

    public void Close() => _output.Dispose();

    public Stream Input => _input;
}
