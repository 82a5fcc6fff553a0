using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;
using PSReplica.Engine.Sender;

namespace PSReplica.Engine.Agent;

/// <summary>Runs the controller's requests against the agent's tree, each on its own task (the CPU-bound delta work on
/// a dedicated thread), and answers each with an end or an error frame. A request the role does not allow, or a body
/// that breaks the protocol, ends the session.</summary>
internal sealed class AgentSession : IDisposable
{
    private readonly Multiplexer _mux;
    private readonly SafeTree _tree;
    private readonly RemoteSide _role;
    private readonly RequestOrder _order = new();
    private readonly BasisTrees _basisTrees = new();
    private readonly object _gate = new();
    private int _active;
    private TaskCompletionSource? _drained;

    /// <summary>After a DelayUpdates request (-DelayUpdates on a push): the files waiting for CommitUpdates.</summary>
    private DelayedRenames? _delayed;

    public AgentSession(Multiplexer mux, SafeTree tree, RemoteSide role)
    {
        _mux = mux;
        _tree = tree;
        _role = role;
    }

    /// <summary>The session agreed on <see cref="Handshake.CompactListings"/>: List answers use the compact encoding.</summary>
    public bool CompactListings { get; init; }

    /// <summary>The root's entry as Opened told it to the controller (null: it did not exist then): -OneFileSystem keeps a
    /// sender's walks on that device, the one the controller holds each directory against.</summary>
    public ListingEntry? RootEntry { get; init; }

    /// <summary>Starts a request (called on the read loop, so it only checks and hands off).</summary>
    public void Handle(MuxStream stream, AgentRequest request)
    {
        bool allowed = request.Type switch
        {
            // Describing an item (with its checksum) reads it and changes nothing: either role's tree may be asked.
            RequestType.List or RequestType.DescribeCopy => true,
            RequestType.ReadFile or RequestType.ComputeDelta or RequestType.RemoveSource or RequestType.ReadBatch => _role == RemoteSide.Source,
            _ => _role == RemoteSide.Destination,
        };
        if (!allowed)
        {
            throw ProtocolFault.Violation($"a {request.Type} request to the agent serving as {(_role == RemoteSide.Source ? "sender" : "receiver")}");
        }

        lock (_gate)
        {
            _active++;
        }

        if (request.Type == RequestType.DelayUpdates)
        {
            // Taken on the read loop, so every write request read after this one waits for the burst.
            _delayed ??= new DelayedRenames();
        }
        else if (request.Type == RequestType.SparseFiles)
        {
            // Taken on the read loop too: every file of the requests read after this one is written sparse.
            _tree.Sparse = true;
        }

        // Listings and file data compress (unless the name says the content is compressed already); signatures do not.
        stream.Compress = request.Type is RequestType.List or RequestType.ReadBatch
            || (request.Type is RequestType.ReadFile or RequestType.ComputeDelta && FrameCompressor.Worthwhile(request.Path));
        bool heavy = request.Type is RequestType.ComputeDelta or RequestType.ApplyDelta or RequestType.BuildSignature
            or RequestType.TreeSignature or RequestType.ApplyTreeDelta or RequestType.CopyFromTree
            or RequestType.PartialSignature or RequestType.ApplyPartialDelta or RequestType.WriteBatch or RequestType.ReadBatch
            or RequestType.ApplyInplaceDelta or RequestType.CommitUpdates or RequestType.DescribeCopy or RequestType.DescribeTreeCopy;
        // LinkFromTree is not heavy: a link is a few system calls, and a snapshot sends one per unchanged file, many in
        // flight, so a thread made for each cost more than the link. Its fallback copy (another filesystem) runs on the
        // pool, as a Backup's copy does.
        // A move changes the tree's structure as a delete does: it waits for the changes sent before it, and those sent after it wait for it.
        bool ordered = request.Type is RequestType.CreateDirectory or RequestType.CreateSymbolicLink or RequestType.SetAttributes or RequestType.Delete
            or RequestType.MoveWithin or RequestType.CreateNode;
        _order.Schedule(ordered, heavy
            ? () => Task.Factory.StartNew(() => RunAsync(stream, request), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()
            : () => Task.Run(() => RunAsync(stream, request)));
    }

    /// <summary>Waits for every started request to finish.</summary>
    public Task DrainAsync()
    {
        lock (_gate)
        {
            if (_active == 0)
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    private async Task RunAsync(MuxStream stream, AgentRequest request)
    {
        CancellationToken cancellation = _mux.Stopping;
        byte[] result = [];
        SyncException? error = null;
        try
        {
            if (request.Attributes.Has(AttributeFields.DefaultPermissions))
            {
                // A new item's mode, limited here by its directory's default ACL or this process's umask.
                request = request with { Attributes = _tree.DefaultPermissions.Resolve(request.Path, request.Attributes) };
            }

            result = request.Type switch
            {
                RequestType.List => await ListAsync(stream, request, cancellation).ConfigureAwait(false),
                RequestType.ReadFile => await TreeSender.ReadFileAsync(_tree, stream, request, cancellation).ConfigureAwait(false),
                RequestType.ComputeDelta => TreeSender.ComputeDelta(_tree, stream, request, cancellation),
                RequestType.BuildSignature => TreeReceiver.BuildSignature(_tree, stream, request, cancellation),
                RequestType.WriteFile => await TreeReceiver.WriteFileAsync(_tree, stream, request, cancellation, _delayed).ConfigureAwait(false),
                RequestType.ApplyDelta => TreeReceiver.ApplyDelta(_tree, stream, request, cancellation, _delayed),
                RequestType.WriteBatch => TreeReceiver.WriteBatch(_tree, stream, cancellation, _delayed),
                RequestType.ReadBatch => TreeSender.ReadBatch(_tree, stream, cancellation),
                RequestType.CreateDirectory => TreeReceiver.CreateDirectory(_tree, request),
                RequestType.CreateSymbolicLink => TreeReceiver.CreateSymbolicLink(_tree, request),
                RequestType.CreateNode => TreeReceiver.CreateNode(_tree, request),
                RequestType.SetAttributes => TreeReceiver.SetAttributes(_tree, request),
                RequestType.Delete => TreeReceiver.Delete(_tree, request),
                RequestType.PartialSignature => TreeReceiver.PartialSignature(_tree, stream, request, cancellation),
                RequestType.ApplyPartialDelta => TreeReceiver.ApplyPartialDelta(_tree, stream, request, cancellation, _delayed),
                RequestType.DelayUpdates or RequestType.SparseFiles => [],
                RequestType.CommitUpdates => TreeReceiver.CommitUpdates(_tree, _delayed ?? new DelayedRenames()),
                RequestType.ApplyInplaceDelta => TreeReceiver.ApplyInplaceDelta(_tree, stream, request, cancellation),
                RequestType.WriteInplace => await TreeReceiver.WriteInplaceAsync(_tree, stream, request, cancellation).ConfigureAwait(false),
                >= RequestType.OpenTree => await BasisTreeRequests.RunAsync(_tree, _basisTrees, stream, request, cancellation, _delayed).ConfigureAwait(false),
                _ => throw ProtocolFault.Violation($"an unknown request type {request.Type}"),
            };
        }
        catch (SyncException ex)
        {
            error = ex;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            error = ProtocolFault.ConnectionLost("the session ended");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            bool reading = request.Type is RequestType.List or RequestType.ReadFile or RequestType.ComputeDelta or RequestType.BuildSignature;
            error = new SyncException(ex is UnauthorizedAccessException ? ErrorIds.PermissionDenied : reading ? ErrorIds.FileReadError : ErrorIds.FileWriteError,
                ex is UnauthorizedAccessException ? SyncErrorKind.PermissionDenied : reading ? SyncErrorKind.ReadError : SyncErrorKind.WriteError,
                $"'{request.Path}': {ex.Message}", request.Path, ex);
        }
        catch (Exception ex)
        {
            error = new SyncException(ErrorIds.AgentFailed, SyncErrorKind.InvalidOperation, $"The agent failed on '{request.Path}': {ex.Message}", request.Path, ex);
        }

        // Forget the stream before answering: once the controller has the answer it may open the next one.
        _mux.Unregister(stream);
        try
        {
            // A batch's records are checked as they are read: an unsafe name there breaks the protocol as it would in a
            // request of its own (a file that cannot be written is answered inside the batch and never gets here).
            if (error is { ErrorId: ErrorIds.ProtocolViolation or ErrorIds.FrameTooLarge }
                || (error is { ErrorId: ErrorIds.UnsafePath } && request.Type is RequestType.WriteBatch or RequestType.ReadBatch))
            {
                _mux.Abort(error, tellPeer: true);
            }
            else if (error is not null)
            {
                await stream.SendErrorAsync(error, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await stream.SendEndAsync(result, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (SyncException)
        {
            // The connection is gone; the session's own error is what ends it.
        }
        finally
        {
            lock (_gate)
            {
                if (--_active == 0)
                {
                    _drained?.TrySetResult();
                }
            }
        }
    }

    /// <summary>Removes the files still waiting for a -DelayUpdates burst that never came (the run failed or the
    /// connection ended), so the destination keeps its old files; closes the trees the controller opened besides the
    /// root (after <see cref="DrainAsync"/>).</summary>
    public void Dispose()
    {
        _delayed?.Abandon(_tree);
        _basisTrees.Dispose();
    }

    private async Task<byte[]> ListAsync(MuxStream stream, AgentRequest request, CancellationToken cancellation)
    {
        ListingFilter? filter = ListingFilter.Create(_tree, _role, request.Listing, RootEntry?.Stat.Device);
        await ListingProducer.WriteAsync(_tree, stream, request.Path, request.Flag, filter, cancellation, CompactListings).ConfigureAwait(false);
        return [];
    }
}
