using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Native;
using PSReplica.Engine.Scanning;

namespace PSReplica.Fuzz.Tests.Targets;

/// <summary>The agent protocol's framing and messages, as either side reads them from its peer: a clean refusal is a
/// SyncException (ProtocolViolation, UnsafePath, FrameTooLarge, ConnectionLost, a version mismatch, or an ErrorId the
/// peer's error frame carried, as HostileAgentTests and HostileControllerTests expect).</summary>
internal static class ProtocolTargets
{
    private static readonly TimeSpan s_noTimeout = Timeout.InfiniteTimeSpan;

    /// <summary>The refusals of a session: what ProtocolFault makes, and the errors a peer's error frame may carry (any
    /// ErrorId the controller knows, or AgentFailed for one it does not).</summary>
    public static bool IsSessionRefusal(Exception ex) => ex is SyncException;

    public static IReadOnlyList<byte[]> FrameTokens { get; } =
    [
        [0, 0, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 0, 5], [0, 0, 0x10, 0, 3, 1, 0, 0, 0], [0, 0, 0, 0, 4, 1, 0, 0, 0],
        [1, 0, 0, 0, 8, 1, 0, 0, 0, 0x7f], [3], [4], [5], [6], [7], [8], [9],
    ];

    public static FuzzTarget Frames { get; } = new()
    {
        Name = "frames",
        Tokens = FrameTokens,
        IsClean = IsSessionRefusal,
        Seeds = () => [FrameSeeds(), [.. FrameSeeds().AsSpan(0, 20)]],
        Run = input =>
        {
            var reader = new FrameReader(new MemoryStream(input, writable: false));
            while (reader.ReadAsync(s_noTimeout, CancellationToken.None).GetAwaiter().GetResult() is { } frame)
            {
                using (frame)
                {
                    switch (frame.Kind)
                    {
                        case FrameKind.CompressedData:
                            (byte[] buffer, int _) = FrameCompressor.Decompress(frame.PayloadMemory);
                            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                            break;
                        case FrameKind.Error:
                            _ = WireError.Read(frame.Payload, "agent");
                            break;
                        case FrameKind.Request:
                            _ = AgentRequest.Read(frame.Payload);
                            break;
                    }
                }
            }
        },
    };

    /// <summary>The first byte chooses the side: bit 0 the agent's (the peer opens streams), else the controller's with
    /// streams 1 and 2 open; bit 1 compression agreed. The rest is what the peer sends.</summary>
    public static FuzzTarget Multiplexer { get; } = new()
    {
        Name = "mux",
        Tokens = FrameTokens,
        SpansThreads = true,
        IsClean = IsSessionRefusal,
        Weight = 0.5,
        Seeds = MuxSeeds,
        Run = input =>
        {
            if (input.Length == 0)
            {
                return;
            }

            bool agentSide = (input[0] & 1) != 0;
            var mux = new Multiplexer(new FrameReader(new MemoryStream(input, 1, input.Length - 1, writable: false)), new FrameWriter(new MemoryStream()),
                s_noTimeout, acceptsRequests: agentSide, compressionLevel: (input[0] & 2) != 0 ? 6 : 0);
            if (!agentSide)
            {
                mux.Register(1);
                mux.Register(2);
            }

            mux.Start();
            mux.Completion.GetAwaiter().GetResult();
            SyncException? fault = mux.Fault;
            // Rethrows what the read loop let escape: anything but a SyncException would have left the session hanging.
            mux.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (fault is not null)
            {
                throw fault;
            }
        },
    };

    /// <summary>The agent's side of the handshake: what the controller sends (Hello, Open).</summary>
    public static FuzzTarget HandshakeAccept { get; } = new()
    {
        Name = "handshake-accept",
        Tokens = FrameTokens,
        IsClean = IsSessionRefusal,
        Seeds = () => [ControllerHandshake()],
        Run = input => _ = Handshake.AcceptAsync(new FrameReader(new MemoryStream(input, writable: false)), new FrameWriter(new MemoryStream()), s_noTimeout,
            CancellationToken.None).GetAwaiter().GetResult(),
    };

    /// <summary>The controller's side of the handshake: what the agent sends (Welcome, Opened with the root's entry).</summary>
    public static FuzzTarget HandshakeConnect { get; } = new()
    {
        Name = "handshake-connect",
        Tokens = FrameTokens,
        Weight = 0.5,
        IsClean = IsSessionRefusal,
        Seeds = () => [AgentHandshake(withRoot: true), AgentHandshake(withRoot: false)],
        Run = input => _ = Handshake.ConnectAsync(new FrameReader(new MemoryStream(input, writable: false)), new FrameWriter(new MemoryStream()), NewHello(),
            RemoteSide.Destination, "/srv/data", s_noTimeout, CancellationToken.None).GetAwaiter().GetResult(),
    };

    /// <summary>A request frame's payload, as the agent reads it.</summary>
    public static FuzzTarget Request { get; } = new()
    {
        Name = "request",
        Tokens = [[1], [6], [11], [32], [37], [48], [56], [59], [0x1f], [0x10], [(byte)'/'], "../"u8.ToArray()],
        IsClean = FuzzTarget.SyncErrors(ErrorIds.ProtocolViolation, ErrorIds.UnsafePath),
        Seeds = RequestSeeds,
        Run = input => _ = AgentRequest.Read(input),
    };

    /// <summary>A DescribeFileSystem answer.</summary>
    public static FuzzTarget FileSystemTraits { get; } = new()
    {
        Name = "fs-traits",
        IsClean = FuzzTarget.SyncErrors(ErrorIds.ProtocolViolation),
        Seeds = () =>
        [
            Encode(w => FileSystemTraitsCodec.Write(w, new FileSystemTraits { Type = "ext4", Source = "statfs" })),
            Encode(w => FileSystemTraitsCodec.Write(w, new FileSystemTraits { Type = "vfat", TimeGranularity = 2_000_000_000, Owners = false, CaseSensitive = false, Source = "probe" })),
        ],
        Run = input =>
        {
            var reader = new WireReader(input);
            _ = FileSystemTraitsCodec.Read(ref reader);
            reader.ExpectEnd();
        },
    };

    /// <summary>An error frame's payload.</summary>
    public static FuzzTarget WireErrors { get; } = new()
    {
        Name = "wire-error",
        IsClean = FuzzTarget.SyncErrors(ErrorIds.ProtocolViolation),
        Seeds = () =>
        [
            Encode(w => WireError.Write(w, new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, "Cannot read 'a/b'.", "a/b"))),
            Encode(w => WireError.Write(w, ProtocolFault.UnsafePath("../x", "a name with a directory part"))),
        ],
        Run = input => _ = WireError.Read(input, "agent"),
    };

    public static byte[] Encode(Action<WireWriter> write)
    {
        using var writer = new WireWriter();
        write(writer);
        return writer.Written.ToArray();
    }

    public static byte[] Frame(FrameKind kind, uint id, ReadOnlySpan<byte> payload)
    {
        var output = new MemoryStream();
        using (var writer = new FrameWriter(output))
        {
            writer.WriteAsync(kind, id, payload.ToArray(), CancellationToken.None).GetAwaiter().GetResult();
        }

        return output.ToArray();
    }

    private static byte[] Concat(params byte[][] parts)
    {
        var all = new MemoryStream();
        foreach (byte[] part in parts)
        {
            all.Write(part);
        }

        return all.ToArray();
    }

    private static byte[] Compressed(uint id)
    {
        var text = new byte[4096];
        for (int i = 0; i < text.Length; i++)
        {
            text[i] = (byte)('a' + (i % 7));
        }

        (byte[] buffer, int length) = FrameCompressor.Compress(text, 6) ?? throw new InvalidOperationException("Text that does not compress.");
        byte[] frame = Frame(FrameKind.CompressedData, id, buffer.AsSpan(0, length));
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        return frame;
    }

    private static byte[] FrameSeeds() => Concat(
        Frame(FrameKind.Control, 0, [(byte)ControlType.Ping]),
        Frame(FrameKind.Request, 1, Encode(new AgentRequest(RequestType.ReadFile, "a/b").Write)),
        Frame(FrameKind.Data, 1, [1, 2, 3, 4, 5]),
        Compressed(1),
        Frame(FrameKind.Window, 1, Encode(w => w.UInt(65536))),
        Frame(FrameKind.Progress, 1, Encode(w => w.UInt(5))),
        Frame(FrameKind.End, 1, []),
        Frame(FrameKind.Log, 0, "a line"u8),
        Frame(FrameKind.Error, 1, WireErrors.Seeds().First()));

    private static IEnumerable<byte[]> MuxSeeds()
    {
        byte[] agentSide = Concat(
            Frame(FrameKind.Control, 0, [(byte)ControlType.Ping]),
            Frame(FrameKind.Request, 1, Encode(new AgentRequest(RequestType.WriteFile, "a/b") { Length = 5 }.Write)),
            Frame(FrameKind.Data, 1, [1, 2, 3, 4, 5]),
            Frame(FrameKind.End, 1, new byte[16]),
            Frame(FrameKind.Request, 2, Encode(new AgentRequest(RequestType.List, string.Empty) { Flag = true }.Write)),
            Frame(FrameKind.Window, 2, Encode(w => w.UInt(65536))),
            Frame(FrameKind.Log, 0, "a line"u8),
            Frame(FrameKind.Control, 0, [(byte)ControlType.Goodbye]));
        byte[] controllerSide = Concat(
            Frame(FrameKind.Data, 1, [1, 2, 3, 4, 5]),
            Compressed(1),
            Frame(FrameKind.Progress, 1, Encode(w => w.UInt(5))),
            Frame(FrameKind.End, 1, Encode(w => w.UInt(5))),
            Frame(FrameKind.Window, 2, Encode(w => w.UInt(65536))),
            Frame(FrameKind.Error, 2, WireErrors.Seeds().First()),
            Frame(FrameKind.Error, 0, WireErrors.Seeds().Last()));
        return [[1, .. agentSide], [3, .. agentSide], [0, .. controllerSide], [2, .. controllerSide]];
    }

    private static Handshake.Hello NewHello() =>
        new(Handshake.MinVersion, Handshake.MaxVersion, Handshake.Capabilities, TimeSpan.FromSeconds(120), Handshake.SoftwareVersion, CompressionLevel: 6);

    /// <summary>Hello and Open as the controller writes them, got by running its side against the agent's answers.</summary>
    private static byte[] ControllerHandshake()
    {
        var output = new MemoryStream();
        _ = Handshake.ConnectAsync(new FrameReader(new MemoryStream(AgentHandshake(withRoot: true))), new FrameWriter(output), NewHello(), RemoteSide.Destination,
            "/srv/data", s_noTimeout, CancellationToken.None).GetAwaiter().GetResult();
        return output.ToArray();
    }

    /// <summary>Welcome and Opened as the agent writes them, got by running its side against the controller's Hello.</summary>
    private static byte[] AgentHandshake(bool withRoot)
    {
        var hello = new MemoryStream();
        try
        {
            _ = Handshake.ConnectAsync(new FrameReader(new MemoryStream()), new FrameWriter(hello), NewHello(), RemoteSide.Destination, "/srv/data", s_noTimeout,
                CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (SyncException ex) when (ex.ErrorId == ErrorIds.ConnectionLost)
        {
            // No Welcome: what was written is the Hello.
        }

        var welcome = new MemoryStream();
        try
        {
            _ = Handshake.AcceptAsync(new FrameReader(new MemoryStream(hello.ToArray())), new FrameWriter(welcome), s_noTimeout, CancellationToken.None)
                .GetAwaiter().GetResult();
        }
        catch (SyncException ex) when (ex.ErrorId == ErrorIds.ConnectionLost)
        {
            // No Open: what was written is the Welcome.
        }

        using (var writer = new FrameWriter(welcome))
        {
            ListingEntry? root = withRoot ? new ListingEntry(string.Empty, new StatInfo(0x41ed, 2, 1000, 1000, 77, 0, 1_700_000_000, 5, 2049), null) : null;
            Handshake.SendOpenedAsync(writer, root, CancellationToken.None).GetAwaiter().GetResult();
        }

        return welcome.ToArray();
    }

    private static List<byte[]> RequestSeeds()
    {
        var attributes = new AttributeSet(AttributeFields.Mode | AttributeFields.Uid | AttributeFields.Gid | AttributeFields.Time, 0x1a4, 1000, 1000, 1_700_000_000, 12);
        var xattrs = new AttributeSet(AttributeFields.Mode | AttributeFields.ExtendedAttributes, 0x1ed, 0, 0, 0, 0)
        {
            XattrScope = Engine.Metadata.XattrScope.User,
            ExtendedAttributes = new Engine.Metadata.ExtendedAttributeSet([("user.a", [1, 2]), ("user.b", [])]),
        };
        var seeds = new List<byte[]>
        {
            Encode(new AgentRequest(RequestType.List, string.Empty) { Flag = true, Listing = new ListingOptions(ListingFeatures.Filter | ListingFeatures.Checksums, "- *.tmp\n+ a/\n") }.Write),
            Encode(new AgentRequest(RequestType.List, "a") { Listing = new ListingOptions(ListingFeatures.ExtendedAttributes, string.Empty) { XattrScope = Engine.Metadata.XattrScope.User } }.Write),
        };
        foreach (RequestType type in Enum.GetValues<RequestType>())
        {
            foreach (string path in new[] { "dir/file", string.Empty })
            {
                var request = new AgentRequest(type, path)
                {
                    Other = "dir/other", Flag = true, BlockLength = 700, Length = 4096, Index = 1, Attributes = type == RequestType.SetAttributes ? xattrs : attributes,
                };
                byte[] bytes = Encode(request.Write);
                try
                {
                    _ = AgentRequest.Read(bytes);
                    seeds.Add(bytes);
                }
                catch (SyncException)
                {
                    // Not a request this type takes (the root where an item is meant): not a seed.
                }
            }
        }

        return seeds;
    }
}
