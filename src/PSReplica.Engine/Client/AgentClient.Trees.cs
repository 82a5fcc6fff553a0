using PSReplica.Engine.Delta;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Client;

/// <summary>The controller's side of the "trees" capability (AgentRequest.Trees.cs): basis directories and the backup
/// directory opened on the agent by number, and the operations that use them.</summary>
internal sealed partial class AgentClient
{
    /// <summary>Whether the agent serves basis directories, backups, hard links and source removal.</summary>
    public bool HasBasisTrees => Contains(Capabilities, Handshake.BasisTrees);

    /// <summary>Whether the agent describes its file system (<see cref="DescribeFileSystemAsync"/>).</summary>
    public bool DescribesFileSystems => Contains(Capabilities, Handshake.FileSystemTraits);

    /// <summary>What the file system of the agent's directory <paramref name="path"/> ("" the root) can hold; with
    /// <paramref name="measure"/> the agent may write a probe file there.</summary>
    public async Task<Endpoints.FileSystemTraits> DescribeFileSystemAsync(string path, bool measure, CancellationToken cancellation)
    {
        MuxStream stream = await OpenAsync(new AgentRequest(RequestType.DescribeFileSystem, path) { Flag = measure }, cancellation).ConfigureAwait(false);
        try
        {
            var reader = new WireReader(await ResultAsync(stream, cancellation).ConfigureAwait(false));
            Endpoints.FileSystemTraits traits = FileSystemTraitsCodec.Read(ref reader);
            reader.ExpectEnd();
            return traits;
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>Whether the agent describes its copies with their checksums (<see cref="DescribeCopyAsync"/>).</summary>
    public bool VerifiesCopies => Contains(Capabilities, Handshake.VerifyCopies);

    /// <summary>Opens a directory the user named (relative: to the agent's root) as tree <paramref name="index"/>; its
    /// entry, or null when it is missing or not a directory.</summary>
    public async Task<ListingEntry?> OpenTreeAsync(int index, string path, CancellationToken cancellation)
    {
        MuxStream stream = await OpenAsync(new AgentRequest(RequestType.OpenTree, path) { Index = index }, cancellation).ConfigureAwait(false);
        try
        {
            byte[] result = await ResultAsync(stream, cancellation).ConfigureAwait(false);
            var reader = new WireReader(result);
            ListingEntry? entry = reader.UInt(1) == 1 ? ListingEntry.Read(ref reader, isRoot: true) : null;
            reader.ExpectEnd();
            if (entry is { Kind: not Scanning.EntryKind.Directory })
            {
                throw ProtocolFault.Violation($"an opened tree that is not a directory");
            }

            return entry;
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>Starts listing tree <paramref name="index"/> recursively; entries get full paths under <paramref name="shownRoot"/>.</summary>
    /// <param name="holdsAtMost">Bounds what the listing holds ahead of the planner (<see cref="RemoteListing.HoldsAtMost"/>),
    /// which asks for its directories in its own order, dropping those it has passed (<see cref="RemoteListing.DropsPassed"/>);
    /// null: the whole listing is read as it comes and held until asked for.</param>
    public async Task<RemoteListing> ListTreeAsync(int index, string shownRoot, CancellationToken cancellation, int? holdsAtMost = null)
    {
        MuxStream stream = await OpenAsync(new AgentRequest(RequestType.ListTree, string.Empty) { Index = index, Flag = true }, cancellation).ConfigureAwait(false);
        var listing = new RemoteListing(shownRoot) { HoldsAtMost = holdsAtMost, DropsPassed = holdsAtMost is not null };
        _ = Task.Run(async () =>
        {
            try
            {
                await listing.ReceiveAsync(stream, new ListingValidator(string.Empty, recursive: true), error => _mux.Abort(error, tellPeer: true)).ConfigureAwait(false);
            }
            finally
            {
                Close(stream);
            }
        }, CancellationToken.None);
        return listing;
    }

    /// <summary>-LinkDest: hard-links the file of tree <paramref name="index"/> at <paramref name="path"/> into the
    /// destination; where the filesystem refuses, the agent copies it (with <paramref name="attributes"/>) and says why.</summary>
    public async Task<(bool Linked, int Errno, long Length)> LinkFromTreeAsync(string path, int index, AttributeSet attributes, CancellationToken cancellation) =>
        await LinkFromTreeAsync(path, index, attributes, linkTarget: null, cancellation).ConfigureAwait(false);

    /// <summary>As <see cref="LinkFromTreeAsync(string, int, AttributeSet, CancellationToken)"/>; with
    /// <paramref name="linkTarget"/>, links a symbolic link pointing there (<see cref="LinksSymbolicLinks"/>).</summary>
    public async Task<(bool Linked, int Errno, long Length)> LinkFromTreeAsync(string path, int index, AttributeSet attributes, string? linkTarget,
        CancellationToken cancellation) =>
        await (await StartLinkFromTreeAsync(path, index, attributes, linkTarget, cancellation).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>Whether the agent limits new items' modes by its directories' default ACLs and its umask
    /// (<see cref="Handshake.DefaultPermissions"/>).</summary>
    public bool LimitsNewModes => Contains(Capabilities, Handshake.DefaultPermissions);

    /// <summary>Whether the agent hard-links a basis directory's symbolic links (-LinkDest, as rsync does).</summary>
    public bool LinksSymbolicLinks => Contains(Capabilities, Handshake.LinkSymlinks);

    /// <summary>Sends the LinkFromTree request of <see cref="LinkFromTreeAsync"/> and returns once it is on its way (after
    /// the requests sent before it); the task returned is its answer. So a snapshot's many links are in flight together
    /// instead of costing a round trip each.</summary>
    public async Task<Task<(bool Linked, int Errno, long Length)>> StartLinkFromTreeAsync(string path, int index, AttributeSet attributes,
        string? linkTarget, CancellationToken cancellation)
    {
        AgentRequest request = linkTarget is null
            ? new AgentRequest(RequestType.LinkFromTree, path) { Index = index, Attributes = attributes }
            : new AgentRequest(RequestType.LinkSymlinkFromTree, path) { Index = index, Other = linkTarget, Attributes = attributes };
        MuxStream stream = await OpenAsync(request, cancellation).ConfigureAwait(false);
        return LinkAnswerAsync(stream, cancellation);
    }

    private async Task<(bool Linked, int Errno, long Length)> LinkAnswerAsync(MuxStream stream, CancellationToken cancellation)
    {
        try
        {
            var reader = new WireReader(await ResultAsync(stream, cancellation).ConfigureAwait(false));
            bool linked = reader.UInt(1) == 1;
            int errno = reader.Int32(4095);
            long length = reader.Int64();
            reader.ExpectEnd();
            return (linked, errno, length);
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>-CopyDest: copies the file of tree <paramref name="index"/> at <paramref name="path"/> into the destination.</summary>
    public async Task<TransferResult> CopyFromTreeAsync(string path, int index, AttributeSet attributes, CancellationToken cancellation)
    {
        MuxStream stream = await OpenAsync(new AgentRequest(RequestType.CopyFromTree, path) { Index = index, Attributes = attributes }, cancellation)
            .ConfigureAwait(false);
        try
        {
            return ReadTransfer(await ResultAsync(stream, cancellation).ConfigureAwait(false));
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>The signature of the file at <paramref name="path"/> in tree <paramref name="index"/> (a delta basis).</summary>
    public async Task<Signature> TreeSignatureAsync(string path, int index, int? blockLength, CancellationToken cancellation)
    {
        var request = new AgentRequest(RequestType.TreeSignature, path) { Index = index, BlockLength = blockLength ?? 0 };
        MuxStream stream = await OpenAsync(request, cancellation).ConfigureAwait(false);
        try
        {
            using var input = new MuxReadStream(stream, cancellation);
            Signature signature = await Task.Factory.StartNew(() => SignatureCodec.Read(input), cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                .ConfigureAwait(false);
            if (input.Trailer is not { Length: 0 } || (blockLength is { } wanted && signature.BlockLength != wanted))
            {
                throw ProtocolFault.Violation("a signature that is not the one asked for");
            }

            return signature;
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>Rebuilds the file at <paramref name="path"/> from <paramref name="basis"/> in tree <paramref name="index"/>
    /// (whose <paramref name="signature"/> it sent) and the delta of <paramref name="source"/>, searched here.</summary>
    public async Task<TransferResult> ApplyTreeDeltaAsync(string path, int index, string basis, Signature signature, Stream source, long length,
        AttributeSet attributes, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(source);
        var request = new AgentRequest(RequestType.ApplyTreeDelta, path)
        {
            Index = index,
            Other = basis,
            BlockLength = signature.BlockLength,
            Length = length,
            Attributes = attributes,
        };
        return await ApplyDeltaAsync(request, signature, source, cancellation).ConfigureAwait(false);
    }

    /// <summary>-Backup: keeps the item at <paramref name="path"/> under its backup name (beside it when
    /// <paramref name="index"/> is <see cref="AgentRequest.NoTree"/>, else in that tree) before it is replaced or deleted.</summary>
    public Task BackupAsync(string path, int index, string suffix, CancellationToken cancellation) =>
        SimpleAsync(new AgentRequest(RequestType.Backup, path) { Index = index, Other = suffix }, cancellation);

    /// <summary>-Preserve HardLinks: links the destination's <paramref name="existing"/> as <paramref name="path"/>.</summary>
    public Task LinkWithinAsync(string path, string existing, CancellationToken cancellation) =>
        SimpleAsync(new AgentRequest(RequestType.LinkWithin, path) { Other = existing }, cancellation);

    /// <summary>Whether the agent moves directories within its tree (<see cref="MoveWithinAsync"/>).</summary>
    public bool MovesWithin => Contains(Capabilities, Handshake.MoveWithin);

    /// <summary>-Watch: moves the destination's directory <paramref name="from"/> to <paramref name="to"/>, as its source was
    /// renamed. 0 when moved, else the errno the move met (ENOENT nothing there, ENOTDIR not a directory, EEXIST the name
    /// taken, EBUSY files of -DelayUpdates waiting there).</summary>
    /// <exception cref="SyncException">The request failed: UnsafePath for a link on the way, or another failure.</exception>
    public async Task<int> MoveWithinAsync(string from, string to, CancellationToken cancellation)
    {
        MuxStream stream = await OpenAsync(new AgentRequest(RequestType.MoveWithin, from) { Other = to }, cancellation).ConfigureAwait(false);
        try
        {
            var reader = new WireReader(await ResultAsync(stream, cancellation).ConfigureAwait(false));
            int errno = reader.Int32(int.MaxValue);
            reader.ExpectEnd();
            return errno;
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>-RemoveSourceFiles: removes the source's file, link or node while it still has the listed length and time
    /// (and, for a node, the listed type and device number: <paramref name="nodeType"/> its S_IFMT bits, 0 for a file or link).</summary>
    public Task RemoveSourceAsync(string path, long length, long seconds, uint nanoseconds, int nodeType, ulong deviceNumber, CancellationToken cancellation) =>
        SimpleAsync(new AgentRequest(RequestType.RemoveSource, path)
        {
            Length = length,
            Attributes = new AttributeSet(AttributeFields.Time, 0, 0, 0, seconds, nanoseconds),
            NodeType = nodeType,
            DeviceNumber = deviceNumber,
        }, cancellation);

    /// <summary>-RemoveSourceFiles with a push: the destination's item at <paramref name="path"/> as it is now, a regular
    /// file with the XXH3-128 of its content; null when nothing is there.</summary>
    public Task<ListingEntry?> DescribeCopyAsync(string path, CancellationToken cancellation) =>
        DescribeAsync(new AgentRequest(RequestType.DescribeCopy, path), cancellation);

    /// <summary>-CompareDest with -RemoveSourceFiles on a push: the item at <paramref name="path"/> in basis tree
    /// <paramref name="index"/>, described as <see cref="DescribeCopyAsync"/> describes a copy (<see cref="VerifiesBasisCopies"/>).</summary>
    public Task<ListingEntry?> DescribeTreeCopyAsync(int index, string path, CancellationToken cancellation) =>
        DescribeAsync(new AgentRequest(RequestType.DescribeTreeCopy, path) { Index = index }, cancellation);

    /// <summary>Whether the agent describes the files of its basis trees as it describes copies (DescribeTreeCopy).</summary>
    public bool VerifiesBasisCopies => Contains(Capabilities, Handshake.VerifyBasisCopies);

    private async Task<ListingEntry?> DescribeAsync(AgentRequest request, CancellationToken cancellation)
    {
        string path = request.Path;
        MuxStream stream = await OpenAsync(request, cancellation).ConfigureAwait(false);
        try
        {
            return ReadDescription(await ResultAsync(stream, cancellation).ConfigureAwait(false), path, Contains(Capabilities, Handshake.Specials));
        }
        finally
        {
            Close(stream);
        }
    }

    /// <summary>DescribeCopy's answer; an agent with the "specials" capability gives a device's number.</summary>
    private static ListingEntry? ReadDescription(byte[] result, string path, bool devices)
    {
        var reader = new WireReader(result);
        if (reader.UInt(1) == 0)
        {
            reader.ExpectEnd();
            return null;
        }

        ListingEntry entry = ListingEntry.Read(ref reader, checksums: true, devices: devices);
        reader.ExpectEnd();
        string name = path[(path.LastIndexOf('/') + 1)..];
        if (!string.Equals(entry.Name, name, StringComparison.Ordinal) || (entry.Kind == Scanning.EntryKind.File && entry.Checksum is null))
        {
            throw ProtocolFault.Violation($"a description of '{ProtocolFault.Printable(path)}' that names another item");
        }

        return entry;
    }
}
