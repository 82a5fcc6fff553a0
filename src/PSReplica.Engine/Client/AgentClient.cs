using System.Buffers;
using System.IO.Hashing;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Client;

/// <summary>The controller's side of a session with an agent, over any pair of streams. Every operation is a request
/// on its own stream of the multiplexed connection, so callers can keep many in flight (up to
/// <see cref="ProtocolLimits.MaxStreams"/>; more wait for a slot) with no round trip per file. The agent's tree is the
/// source (<see cref="RemoteSide.Source"/>: list, read, delta) or the destination (<see cref="RemoteSide.Destination"/>:
/// list, signature, write, apply delta, create, set attributes, delete).</summary>
internal sealed partial class AgentClient : IAsyncDisposable
{
    private readonly Multiplexer _mux;
    private readonly SemaphoreSlim _slots = new(ProtocolLimits.MaxStreams, ProtocolLimits.MaxStreams);
    private readonly SemaphoreSlim _opening = new(1, 1);
    private uint _nextId;
    private long _idleStarts;
    private long _requests;

    private AgentClient(Multiplexer mux, RemoteSide role, string root, Handshake.Welcome welcome, ListingEntry? rootEntry)
    {
        _mux = mux;
        Role = role;
        Root = root;
        AgentVersion = welcome.AgentVersion;
        ProtocolVersion = welcome.Version;
        Capabilities = welcome.Capabilities;
        RootEntry = rootEntry;
    }

    public RemoteSide Role { get; }

    /// <summary>The agent's root path, as the controller named it.</summary>
    public string Root { get; }

    public string AgentVersion { get; }

    public int ProtocolVersion { get; }

    public IReadOnlyList<string> Capabilities { get; }

    /// <summary>The root directory's entry, or null when it does not exist (a receiver's destination yet to be made).</summary>
    public ListingEntry? RootEntry { get; }

    /// <summary>Whether the session has ended; <see cref="Multiplexer.Fault"/> says why.</summary>
    public SyncException? Fault => _mux.Fault;

    /// <summary>Performs the handshake and opens the agent's tree.</summary>
    /// <exception cref="SyncException">ProtocolVersionMismatch, PeerTimeout, ConnectionLost, ProtocolViolation, or the agent's
    /// error opening the root (SourceNotFound, SourceNotDirectory, DestinationNotDirectory).</exception>
    public static async Task<AgentClient> ConnectAsync(Stream input, Stream output, RemoteSide role, string root, AgentClientOptions options,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        var reader = new FrameReader(input);
        var writer = new FrameWriter(output);
        ArgumentOutOfRangeException.ThrowIfNegative(options.CompressionLevel);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.CompressionLevel, 9);
        ArgumentOutOfRangeException.ThrowIfNegative(options.BandwidthLimit);
        var hello = new Handshake.Hello(Handshake.MinVersion, Handshake.MaxVersion, Handshake.Capabilities, options.IdleTimeout, Handshake.SoftwareVersion,
            options.CompressionLevel, options.BandwidthLimit);
        writer.BandwidthLimit = options.BandwidthLimit;
        (Handshake.Welcome welcome, ListingEntry? rootEntry) = await Handshake.ConnectAsync(reader, writer, hello, role, root,
            options.HandshakeTimeout, cancellation).ConfigureAwait(false);
        int level = Contains(welcome.Capabilities, Handshake.Deflate) ? options.CompressionLevel : 0;
        var mux = new Multiplexer(reader, writer, options.IdleTimeout, acceptsRequests: false, level,
            wideWindows: Contains(welcome.Capabilities, Handshake.WideWindows)) { OnLog = options.Log };
        mux.Start();
        return new AgentClient(mux, role, root, welcome, rootEntry);
    }

    /// <summary>Starts listing <paramref name="relativeDirectory"/> (recursively: every directory below it, depth-first);
    /// the result serves per-directory calls as the stream arrives.</summary>
    /// <param name="options">What the agent's walk applies besides listing (version 2, <see cref="Handshake.ListingFilters"/>).</param>
    /// <param name="holdsAtMost">Bounds what the listing holds ahead of its reader (<see cref="RemoteListing.HoldsAtMost"/>): for a
    /// reader that asks for every directory in the listing's order (the planner); null reads it whole as it comes.</param>
    public async Task<RemoteListing> ListAsync(string relativeDirectory, bool recursive, CancellationToken cancellation, ListingOptions? options = null,
        int? holdsAtMost = null)
    {
        var request = new AgentRequest(RequestType.List, relativeDirectory) { Flag = recursive, Listing = options };
        MuxStream stream = await OpenAsync(request, cancellation).ConfigureAwait(false);
        var listing = new RemoteListing(Root, options?.Has(ListingFeatures.Checksums) == true, CompactListings,
            options?.Has(ListingFeatures.ExtendedAttributes) == true ? options.XattrScope : Metadata.XattrScope.None)
        {
            DeviceNumbers = options?.Has(ListingFeatures.DeviceNumbers) == true,
            HoldsAtMost = holdsAtMost,
        };
        _ = Task.Run(async () =>
        {
            try
            {
                var validator = new ListingValidator(relativeDirectory, recursive)
                {
                    WalkedDevice = options?.Has(ListingFeatures.OneFileSystem) == true ? RootEntry?.Stat.Device : null,
                };
                await listing.ReceiveAsync(stream, validator, error => _mux.Abort(error, tellPeer: true)).ConfigureAwait(false);
            }
            finally
            {
                Close(stream);
            }
        }, CancellationToken.None);
        return listing;
    }

    /// <summary>Sender: copies a file's bytes into <paramref name="destination"/> and checks them against the agent's
    /// XXH3-128. Returns the length. <paramref name="progress"/> hears the bytes written so far as they arrive.</summary>
    public async Task<long> ReadFileAsync(string path, Stream destination, CancellationToken cancellation, Action<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        MuxStream stream = await OpenAsync(new AgentRequest(RequestType.ReadFile, path), cancellation).ConfigureAwait(false);
        try
        {
            var hash = new XxHash128();
            byte[] buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimits.WideDataChunk);
            long length = 0;
            byte[] trailer;
            try
            {
                using var body = new MuxReadStream(stream, cancellation);
                bool widened = false;
                while (true)
                {
                    int n = await body.ReadAsync(buffer.AsMemory(0, ProtocolLimits.WideDataChunk), cancellation).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    // A file that fills half a window is large: the rest comes through a widened one (if the agent may).
                    if (!widened && length + n >= ProtocolLimits.StreamWindow / 2)
                    {
                        widened = true;
                        stream.Widen();
                    }

                    hash.Append(buffer.AsSpan(0, n));
                    await destination.WriteAsync(buffer.AsMemory(0, n), cancellation).ConfigureAwait(false);
                    length += n;
                    progress?.Invoke(length);
                }

                trailer = body.Trailer!;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            var reader = new WireReader(trailer);
            long announced = reader.Int64();
            ReadOnlySpan<byte> expected = reader.Bytes(StrongHash.FullLength);
            reader.ExpectEnd();
            if (announced != length || !expected.SequenceEqual(hash.GetCurrentHash()))
            {
                throw new SyncException(ErrorIds.DeltaVerificationFailed, SyncErrorKind.ReadError,
                    $"'{path}' did not arrive as the agent sent it ({length} of {announced} bytes).", path);
            }

            return length;
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>Sender: the delta of the agent's file against <paramref name="signature"/> (of the controller's basis),
    /// pumped into <paramref name="sink"/> op by op (every op checked as <see cref="DeltaStream.Pump"/> checks it).
    /// <paramref name="progress"/> gets the bytes of the file the agent has searched so far, now and then.</summary>
    public async Task<DeltaResult> ComputeDeltaAsync(string path, Signature signature, IDeltaSink sink, CancellationToken cancellation,
        Action<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(sink);
        MuxStream stream = await OpenAsync(new AgentRequest(RequestType.ComputeDelta, path), cancellation, progress).ConfigureAwait(false);
        try
        {
            // The codec writes synchronously and waits for credit: a thread of its own, not one of the pool's.
            Task body = Task.Factory.StartNew(() =>
            {
                using (var output = new MuxWriteStream(stream, cancellation))
                {
                    SignatureCodec.Write(output, signature);
                    output.Flush();
                }

                stream.SendEndAsync(ReadOnlyMemory<byte>.Empty, cancellation).GetAwaiter().GetResult();
            }, cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            (long Length, byte[] Hash) ops;
            byte[] trailer;
            using (var input = new MuxReadStream(stream, cancellation))
            {
                ops = await Task.Factory.StartNew(() => DeltaStream.Pump(input, sink), cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                    .ConfigureAwait(false);
                trailer = await input.ReadTrailerAsync().ConfigureAwait(false);
            }

            await ObserveAsync(body).ConfigureAwait(false);
            var reader = new WireReader(trailer);
            long length = reader.Int64();
            long literal = reader.Int64();
            long matched = reader.Int64();
            byte[] hash = reader.Bytes(StrongHash.FullLength).ToArray();
            reader.ExpectEnd();
            if (length != ops.Length || !hash.AsSpan().SequenceEqual(ops.Hash) || literal + matched != length)
            {
                throw ProtocolFault.Violation($"a delta result for '{path}' that contradicts its ops");
            }

            return new DeltaResult(length, literal, matched, hash);
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>Receiver: the signature of the agent's basis file (<paramref name="blockLength"/> null: the square-root rule).</summary>
    public Task<Signature> BuildSignatureAsync(string path, int? blockLength, CancellationToken cancellation) =>
        SignatureAsync(new AgentRequest(RequestType.BuildSignature, path) { BlockLength = blockLength ?? 0 }, blockLength, cancellation);

    private async Task<Signature> SignatureAsync(AgentRequest request, int? blockLength, CancellationToken cancellation)
    {
        MuxStream stream = await OpenAsync(request, cancellation).ConfigureAwait(false);
        try
        {
            using var input = new MuxReadStream(stream, cancellation);
            Signature signature = await Task.Factory.StartNew(() => SignatureCodec.Read(input), cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                .ConfigureAwait(false);
            if (input.Trailer is not { Length: 0 })
            {
                throw ProtocolFault.Violation("a signature whose end carries data");
            }

            if (blockLength is { } wanted && signature.BlockLength != wanted)
            {
                throw ProtocolFault.Violation($"a signature in blocks of {signature.BlockLength} bytes where {wanted} were asked for");
            }

            return signature;
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>Receiver: writes <paramref name="length"/> bytes from <paramref name="source"/> as the file at
    /// <paramref name="path"/> (temp file, verified by XXH3-128, attributes, rename).</summary>
    public async Task<TransferResult> WriteFileAsync(string path, Stream source, long length, AttributeSet attributes, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(source);
        var request = new AgentRequest(RequestType.WriteFile, path) { Length = length, Attributes = attributes };
        MuxStream stream = await OpenAsync(request, cancellation).ConfigureAwait(false);
        stream.Compress = FrameCompressor.Worthwhile(path);
        try
        {
            Task body = SendFileAsync(stream, source, length, cancellation);
            byte[] result = await ResultAfterBodyAsync(stream, body, cancellation).ConfigureAwait(false);
            return ReadTransfer(result);
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>Receiver: rebuilds the file at <paramref name="path"/> from the agent's <paramref name="basis"/> (whose
    /// <paramref name="signature"/> it sent) and the delta of <paramref name="source"/>, searched here.</summary>
    public async Task<TransferResult> ApplyDeltaAsync(string path, string basis, Signature signature, Stream source, long length,
        AttributeSet attributes, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(source);
        var request = new AgentRequest(RequestType.ApplyDelta, path)
        {
            Other = basis,
            BlockLength = signature.BlockLength,
            Length = length,
            Attributes = attributes,
        };
        return await ApplyDeltaAsync(request, signature, source, cancellation).ConfigureAwait(false);
    }

    /// <summary>Sends the delta of <paramref name="source"/> against <paramref name="signature"/> as the body of
    /// <paramref name="request"/> (an ApplyDelta of any kind) and reads the transfer's result. <paramref name="amend"/>
    /// may put a sink between the search and the wire (-Inplace keeps the ops clear of overwritten blocks).</summary>
    private async Task<TransferResult> ApplyDeltaAsync(AgentRequest request, Signature signature, Stream source, CancellationToken cancellation,
        Func<IDeltaSink, IDeltaSink>? amend = null)
    {
        string path = request.Path;
        MuxStream stream = await OpenAsync(request, cancellation).ConfigureAwait(false);
        stream.Compress = FrameCompressor.Worthwhile(path);
        try
        {
            Task body = Task.Factory.StartNew(() =>
            {
                using (var output = new MuxWriteStream(stream, cancellation))
                {
                    var writer = new DeltaStreamWriter(output);
                    DeltaResult result = new DeltaMatcher(signature).Run(source, amend is null ? writer : amend(writer), cancellation);
                    writer.End(result.Length, result.WholeFileHash);
                    output.Flush();
                }

                stream.SendEndAsync(ReadOnlyMemory<byte>.Empty, cancellation).GetAwaiter().GetResult();
            }, cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            byte[] trailer = await ResultAfterBodyAsync(stream, body, cancellation).ConfigureAwait(false);
            return ReadTransfer(trailer);
        }
        finally
        {
            Close(stream);
        }
    }

    public Task CreateDirectoryAsync(string path, AttributeSet attributes, CancellationToken cancellation) =>
        SimpleAsync(new AgentRequest(RequestType.CreateDirectory, path) { Attributes = attributes }, cancellation);

    public Task CreateSymbolicLinkAsync(string path, string target, AttributeSet attributes, CancellationToken cancellation) =>
        SimpleAsync(new AgentRequest(RequestType.CreateSymbolicLink, path) { Other = target, Attributes = attributes }, cancellation);

    /// <summary>Receiver (capability "specials"): makes a device, FIFO or socket.</summary>
    public Task CreateNodeAsync(string path, int fileType, ulong rdev, AttributeSet attributes, CancellationToken cancellation) =>
        SimpleAsync(NodeRequest(path, fileType, rdev, attributes), cancellation);

    /// <summary>The CreateNode request for a device, FIFO or socket.</summary>
    public static AgentRequest NodeRequest(string path, int fileType, ulong rdev, AttributeSet attributes) =>
        new(RequestType.CreateNode, path) { NodeType = fileType, DeviceNumber = rdev, Attributes = attributes };

    public Task SetAttributesAsync(string path, AttributeSet attributes, CancellationToken cancellation) =>
        SimpleAsync(new AgentRequest(RequestType.SetAttributes, path) { Attributes = attributes }, cancellation);

    public Task DeleteAsync(string path, bool isDirectory, CancellationToken cancellation) =>
        SimpleAsync(new AgentRequest(RequestType.Delete, path) { Flag = isDirectory }, cancellation);

    /// <summary>Says goodbye (the agent exits cleanly) and stops the session. The caller closes the streams.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_mux.Fault is null)
        {
            await _mux.GoodbyeAsync().ConfigureAwait(false);
        }

        // The semaphores stay: an abandoned stream may still release its slot, and they hold no wait handle.
        await _mux.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Whether the agent carries out small changes in the order sent (<see cref="Handshake.OrderedChanges"/>), so
    /// that they can be sent without waiting for each answer.</summary>
    public bool OrdersChanges => Contains(Capabilities, Handshake.OrderedChanges);

    /// <summary>Whether List requests may carry <see cref="ListingOptions"/> (<see cref="Handshake.ListingFilters"/>).</summary>
    public bool FiltersListings => Contains(Capabilities, Handshake.ListingFilters);

    /// <summary>Whether List answers come in the compact encoding (<see cref="Handshake.CompactListings"/>).</summary>
    public bool CompactListings => Contains(Capabilities, Handshake.CompactListings);

    /// <summary>How many requests were sent while no other was in flight: each such request began with the connection
    /// idle, a full round trip of its own. Pipelined work keeps this small whatever the number of requests.</summary>
    public long IdleStarts => Interlocked.Read(ref _idleStarts);

    /// <summary>How many requests this session has sent (a batch of files is one).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Sends a request without a body whose answer is empty (create, link, set attributes, delete) and returns
    /// once it is on its way (requests reach the agent in the order they are sent); the task returned is its answer.</summary>
    public async Task<Task> StartAsync(AgentRequest request, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        MuxStream stream = await OpenAsync(request, cancellation).ConfigureAwait(false);
        return EmptyAnswerAsync(stream, request, cancellation);
    }

    private async Task SimpleAsync(AgentRequest request, CancellationToken cancellation)
    {
        MuxStream stream = await OpenAsync(request, cancellation).ConfigureAwait(false);
        await EmptyAnswerAsync(stream, request, cancellation).ConfigureAwait(false);
    }

    private async Task EmptyAnswerAsync(MuxStream stream, AgentRequest request, CancellationToken cancellation)
    {
        try
        {
            byte[] result = await ResultAsync(stream, cancellation).ConfigureAwait(false);
            if (result.Length != 0)
            {
                throw ProtocolFault.Violation($"a {request.Type} result that carries data");
            }
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>Opens a stream with a request. Ids are taken and sent under one lock, so they reach the agent in order.</summary>
    private async Task<MuxStream> OpenAsync(AgentRequest request, CancellationToken cancellation, Action<long>? progress = null)
    {
        if (_mux.Fault is { } fault)
        {
            throw fault;
        }

        await _slots.WaitAsync(cancellation).ConfigureAwait(false);
        Interlocked.Increment(ref _requests);
        if (_slots.CurrentCount == ProtocolLimits.MaxStreams - 1)
        {
            Interlocked.Increment(ref _idleStarts);
        }

        MuxStream? stream = null;
        try
        {
            using var message = new WireWriter();
            request.Write(message);
            await _opening.WaitAsync(cancellation).ConfigureAwait(false);
            try
            {
                stream = _mux.Register(++_nextId);
                stream.OnProgress = progress;
                await stream.SendRequestAsync(message.WrittenMemory, cancellation).ConfigureAwait(false);
            }
            finally
            {
                _opening.Release();
            }

            return stream;
        }
        catch
        {
            if (stream is not null)
            {
                _mux.Unregister(stream);
            }

            _slots.Release();
            throw;
        }
    }

    /// <summary>Finishes a stream. One the agent has not answered (the caller cancelled, or gave up on an error) is
    /// abandoned with an error frame, so that the agent stops, removes any temp file and frees the stream.</summary>
    private void Close(MuxStream stream)
    {
        if (!stream.PeerEnded && _mux.Fault is null)
        {
            _ = AbandonAsync(stream);
            return;
        }

        _mux.Unregister(stream);
        _slots.Release();
    }

    /// <summary>Tells the agent, then drains the stream (granting credit, so the agent can finish) until its answer:
    /// only then is the slot free, as it is on the agent's side.</summary>
    private async Task AbandonAsync(MuxStream stream)
    {
        try
        {
            await stream.SendErrorAsync(new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, "The controller abandoned the request."),
                CancellationToken.None).ConfigureAwait(false);
            while (true)
            {
                using Frame frame = await stream.ReceiveAsync(CancellationToken.None).ConfigureAwait(false);
                if (frame.Kind != FrameKind.Data)
                {
                    break;
                }

                stream.Consumed(frame.Length);
            }
        }
        catch (SyncException)
        {
            // The session is ending anyway.
        }
        finally
        {
            _mux.Unregister(stream);
            _slots.Release();
        }
    }

    /// <summary>The agent's answer: the end frame's payload, or its error thrown.</summary>
    private static async Task<byte[]> ResultAsync(MuxStream stream, CancellationToken cancellation)
    {
        using Frame frame = await stream.ReceiveAsync(cancellation).ConfigureAwait(false);
        return frame.Kind switch
        {
            FrameKind.End => frame.Payload.ToArray(),
            FrameKind.Error => throw WireError.Read(frame.Payload, "agent"),
            _ => throw ProtocolFault.Violation($"a {frame.Kind} frame where a result was expected"),
        };
    }

    /// <summary>Waits for the body to be sent, then for the answer. When the body fails here, the agent is told (an error
    /// frame on the stream), and the local error is thrown once the agent has answered; when the agent refuses early,
    /// its error is thrown.</summary>
    private static async Task<byte[]> ResultAfterBodyAsync(MuxStream stream, Task body, CancellationToken cancellation)
    {
        Exception? local = null;
        try
        {
            await body.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            local = ex;
        }

        if (local is not null && !stream.PeerEnded)
        {
            SyncException told = local as SyncException
                ?? new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, "The controller could not read the source: " + local.Message);
            await stream.SendErrorAsync(told, cancellation).ConfigureAwait(false);
        }

        byte[] result;
        try
        {
            result = await ResultAsync(stream, cancellation).ConfigureAwait(false);
        }
        catch (SyncException) when (local is not null && !stream.PeerEnded)
        {
            throw local;
        }

        return local is null ? result : throw local;
    }

    private static async Task ObserveAsync(Task body)
    {
        try
        {
            await body.ConfigureAwait(false);
        }
        catch (SyncException)
        {
            // The answer already said what went wrong.
        }
    }

    private static async Task SendFileAsync(MuxStream stream, Stream source, long length, CancellationToken cancellation)
    {
        var hash = new XxHash128();
        int chunk = stream.FrameLimit;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunk);
        try
        {
            for (long sent = 0; sent < length;)
            {
                int n = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(chunk, length - sent)), cancellation).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                hash.Append(buffer.AsSpan(0, n));
                await stream.SendDataAsync(buffer.AsMemory(0, n), cancellation).ConfigureAwait(false);
                sent += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await stream.SendEndAsync(hash.GetCurrentHash(), cancellation).ConfigureAwait(false);
    }

    private static bool Contains(IReadOnlyList<string> items, string item)
    {
        foreach (string candidate in items)
        {
            if (string.Equals(candidate, item, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static TransferResult ReadTransfer(byte[] payload)
    {
        var reader = new WireReader(payload);
        var result = new TransferResult(reader.Int64(), reader.Int64(), reader.Int64());
        reader.ExpectEnd();
        return result;
    }
}
