using PSReplica.Engine.Delta;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica.Engine.Client;

/// <summary>The destination of a push: an agent in the receiver role. A delta update asks the agent for its basis's
/// signature, searches the local source here, and sends only the ops; everything else is one request each. The local
/// source is read only through <see cref="SourceFiles"/>: each file checked to be the one the scan saw.</summary>
internal sealed partial class RemoteDestinationTree : IDestinationTree, IBasisDestination, ICopyVerification, IBasisCopyVerification, INodeDestination
{
    /// <summary>The agent's tree number for the backup directory (basis directories take the first numbers).</summary>
    private const int BackupTree = AgentRequest.MaxTrees - 1;

    private readonly AgentClient _client;
    private readonly SourceFiles _sources;
    private readonly string? _backupDirectory;
    private readonly string _backupSuffix;
    private readonly object _gate = new();
    private Task? _backupTreeOpened;

    /// <summary>With -Partial: the relative partial directory, or "" for a partial file beside its target; else null.</summary>
    private readonly string? _partialDirectory;
    private readonly bool _wholeFile;
    private readonly bool _batches;

    /// <summary>-Watch (<see cref="SyncOptions.SourceMustRest"/>): each source file is checked to have rested once it is read.</summary>
    private readonly bool _sourceMustRest;

    public bool LimitsNewModes => _client.LimitsNewModes;

    /// <param name="sources">The local source's files (the caller disposes them after the run).</param>
    public RemoteDestinationTree(AgentClient client, SourceFiles sources, SyncOptions? options = null)
    {
        _client = client;
        _sources = sources;
        _backupDirectory = string.IsNullOrEmpty(options?.BackupDirectory) ? null : options.BackupDirectory;
        _backupSuffix = options?.EffectiveBackupSuffix ?? "~";
        if (options is { KeepsPartial: true } && client.KeepsPartials)
        {
            _partialDirectory = options.PartialDirectory ?? string.Empty;
        }

        _wholeFile = options?.TransferMode == TransferMode.WholeFile;
        _sourceMustRest = options is { SourceMustRest: true };
        _batches = client.BatchesWrites && _partialDirectory is null && options is not { DelayUpdates: true } and not { Inplace: true };
        DelaysUpdates = options is { DelayUpdates: true, Inplace: false } && client.MakesSafeUpdates;
    }

    /// <summary>Whether small new files may go in write batches (the agent takes them, and no safe-update option needs
    /// each file to travel on its own).</summary>
    public bool BatchesWrites => _batches;

    /// <summary>Whether the file at <paramref name="relative"/> may go in a batch: a batch stream is compressed when the
    /// session compresses, so a name that says its content is compressed already travels on its own.</summary>
    public bool Batches(string relative) => !_client.Compresses || FrameCompressor.Worthwhile(relative);

    /// <summary>Opens a write batch (see <see cref="AgentClient.StartWriteBatchAsync"/>).</summary>
    public RemoteWriteBatch StartWriteBatch(Action<int, long, SyncException?> settle, CancellationToken cancellation) =>
        _client.StartWriteBatchAsync(settle, compress: true, cancellation).GetAwaiter().GetResult();

    public bool BacksUpBeside => _backupDirectory is null;

    public void CreateDirectory(string relative, AttributeSet attributes, CancellationToken cancellation) =>
        _client.CreateDirectoryAsync(relative, attributes, cancellation).GetAwaiter().GetResult();

    public TransferResult WriteFile(string relative, FileEntry source, bool delta, int? blockLength, AttributeSet attributes,
        Action<long>? progress, CancellationToken cancellation)
    {
        if (_partialDirectory is not null)
        {
            return WriteThroughPartial(relative, source, blockLength, attributes, progress, cancellation);
        }

        using CountingReadStream stream = OpenSource(relative, source, progress);
        if (delta)
        {
            Signature signature = _client.BuildSignatureAsync(relative, blockLength, cancellation).GetAwaiter().GetResult();
            return _client.ApplyDeltaAsync(relative, relative, signature, stream, source.Length, attributes, cancellation).GetAwaiter().GetResult();
        }

        return _client.WriteFileAsync(relative, stream, source.Length, attributes, cancellation).GetAwaiter().GetResult();
    }

    /// <summary>-Partial: the agent writes through the target's partial file, which a previous run may have left; unless
    /// -WholeFile, the delta is made against it (or the target, or nothing), so an interrupted transfer resumes.</summary>
    private TransferResult WriteThroughPartial(string relative, FileEntry source, int? blockLength, AttributeSet attributes,
        Action<long>? progress, CancellationToken cancellation)
    {
        string partial = PartialPathOf(relative);
        bool directory = _partialDirectory!.Length > 0;
        if (!_wholeFile)
        {
            try
            {
                Signature basis = _client.PartialSignatureAsync(relative, partial, blockLength, cancellation).GetAwaiter().GetResult();
                using CountingReadStream stream = OpenSource(relative, source, progress);
                return _client.ApplyPartialDeltaAsync(relative, partial, directory, basis, stream, source.Length, attributes, cancellation).GetAwaiter().GetResult();
            }
            catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
            {
                // The agent dropped the partial file that did not verify; as rsync does, one more try sending everything.
            }
        }

        // An empty signature: the delta is all literal data (the agent still writes through the partial name).
        Signature none = SignatureBuilder.Build(Stream.Null, 0, blockLength, cancellation);
        using CountingReadStream input = OpenSource(relative, source, progress);
        return _client.ApplyPartialDeltaAsync(relative, partial, directory, none, input, source.Length, attributes, cancellation).GetAwaiter().GetResult();
    }

    /// <summary>Opens the source file <paramref name="relative"/> (checked to be the one scanned) as the body of a transfer.
    /// With -Watch, the file is checked to have rested (<see cref="SourceFiles.CheckRested"/>) once its listed length or
    /// its end has been read: a transfer reads its last byte before it tells the agent the body is whole, so a file
    /// written while it was read fails its transfer (SourceChangedSinceListing) and the agent puts nothing in place.</summary>
    private CountingReadStream OpenSource(string relative, FileEntry source, Action<long>? progress)
    {
        SafeFileHandle handle = _sources.Open(relative, source);
        try
        {
            if (_sourceMustRest && source.Length == 0)
            {
                // A transfer of nothing reads nothing: the file is checked now, as it is about to be sent.
                _sources.CheckRested(relative, source);
            }

            Action? rested = _sourceMustRest && source.Length > 0 ? () => _sources.CheckRested(relative, source) : null;
            return new CountingReadStream(new FileStream(handle, FileAccess.Read, 1), progress, source.Length, rested);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The partial file's relative path, named as a local run names it (<see cref="PartialFiles.HiddenName"/>).</summary>
    private string PartialPathOf(string relative)
    {
        int slash = relative.LastIndexOf('/');
        string directory = slash < 0 ? string.Empty : relative[..(slash + 1)];
        string name = relative[(slash + 1)..];
        return _partialDirectory!.Length == 0 ? directory + PartialFiles.HiddenName(name) : directory + _partialDirectory + "/" + name;
    }

    public void CreateSymbolicLink(string relative, string target, AttributeSet attributes, CancellationToken cancellation) =>
        _client.CreateSymbolicLinkAsync(relative, target, attributes, cancellation).GetAwaiter().GetResult();

    public void CreateNode(string relative, int fileType, ulong rdev, AttributeSet attributes, CancellationToken cancellation) =>
        _client.CreateNodeAsync(relative, fileType, rdev, attributes, cancellation).GetAwaiter().GetResult();

    public void SetAttributes(string relative, AttributeSet attributes, CancellationToken cancellation) =>
        _client.SetAttributesAsync(relative, attributes, cancellation).GetAwaiter().GetResult();

    public void Delete(string relative, bool isDirectory, CancellationToken cancellation) =>
        _client.DeleteAsync(relative, isDirectory, cancellation).GetAwaiter().GetResult();

    /// <summary>Whether small changes may be sent without waiting for their answers (the agent keeps their order).</summary>
    public bool Pipelines => _client.OrdersChanges;

    /// <summary>Sends a create, link, set-attributes or delete request and returns once it is on its way (after the
    /// requests sent before it, ahead of those sent after it); the task returned is its answer.</summary>
    public Task Start(AgentRequest request, CancellationToken cancellation) =>
        _client.StartAsync(request, cancellation).GetAwaiter().GetResult();

    /// <summary>Sends a LinkFromTree request (see <see cref="LinkFromBasis"/>) and returns once it is on its way; the task
    /// returned is its answer.</summary>
    public Task<(bool Linked, int Errno, long Length)> StartLinkFromBasis(string relative, int index, AttributeSet attributes, string? linkTarget,
        CancellationToken cancellation) =>
        _client.StartLinkFromTreeAsync(relative, index, attributes, linkTarget, cancellation).GetAwaiter().GetResult();

    public (bool Linked, int Errno, long Length) LinkFromBasis(string relative, int index, AttributeSet attributes, string? linkTarget,
        CancellationToken cancellation) =>
        _client.LinkFromTreeAsync(relative, index, attributes, linkTarget, cancellation).GetAwaiter().GetResult();

    public TransferResult CopyFromBasis(string relative, int index, AttributeSet attributes, CancellationToken cancellation) =>
        _client.CopyFromTreeAsync(relative, index, attributes, cancellation).GetAwaiter().GetResult();

    public TransferResult WriteFileFromBasis(string relative, FileEntry source, int index, int? blockLength, AttributeSet attributes,
        Action<long>? progress, CancellationToken cancellation)
    {
        using CountingReadStream stream = OpenSource(relative, source, progress);
        Signature signature = _client.TreeSignatureAsync(relative, index, blockLength, cancellation).GetAwaiter().GetResult();
        return _client.ApplyTreeDeltaAsync(relative, index, relative, signature, stream, source.Length, attributes, cancellation).GetAwaiter().GetResult();
    }

    public void Backup(string relative, CancellationToken cancellation)
    {
        if (!_client.HasBasisTrees)
        {
            throw new SyncException(ErrorIds.InvalidBackupOptions, SyncErrorKind.InvalidArgument,
                $"The agent (version {_client.AgentVersion}) cannot keep backups; update it to use -Backup remotely.", relative);
        }

        if (_backupDirectory is not null)
        {
            Task opened;
            lock (_gate)
            {
                // Opened once, by the first backup; the agent creates the directory when it first puts a file there.
                opened = _backupTreeOpened ??= _client.OpenTreeAsync(BackupTree, _backupDirectory, CancellationToken.None);
            }

            opened.GetAwaiter().GetResult();
        }

        _client.BackupAsync(relative, _backupDirectory is null ? AgentRequest.NoTree : BackupTree, _backupSuffix, cancellation).GetAwaiter().GetResult();
    }

    /// <summary>The agent hashes the copy through a descriptor opened without following links (DescribeCopy).</summary>
    public (FileEntry Copy, UInt128? Checksum)? DescribeCopy(string relative, CancellationToken cancellation) =>
        _client.DescribeCopyAsync(relative, cancellation).GetAwaiter().GetResult() is { } entry
            ? (entry.ToFileEntry(relative), entry.Checksum)
            : null;

    public (FileEntry Copy, UInt128? Checksum)? DescribeBasisCopy(int index, string relative, CancellationToken cancellation) =>
        _client.DescribeTreeCopyAsync(index, relative, cancellation).GetAwaiter().GetResult() is { } entry
            ? (entry.ToFileEntry(relative), entry.Checksum)
            : null;

    public void LinkWithin(string relative, string existing, CancellationToken cancellation) =>
        _client.LinkWithinAsync(relative, existing, cancellation).GetAwaiter().GetResult();
}
