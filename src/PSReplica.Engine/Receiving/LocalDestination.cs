using System.Collections.Concurrent;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica.Engine.Receiving;

/// <summary>The destination of a run in this process (a local run, a pull): carries out the plan runner's actions.
/// Every change goes through
/// the receiver's primitives on a <see cref="SafeTree"/> rooted at the destination, the same ones the agent uses: each
/// parent directory is reached by a walk from the root's descriptor that follows no link, files are written as
/// <see cref="PendingFile"/>s, links, directories, attributes and deletions use the *at calls. A directory swapped for a
/// link during the run is therefore refused (that item's error), never followed out of the destination (DESIGN.md
/// invariant 2). Basis, backup and partial directories are trees of their own, reached the same way.</summary>
internal sealed partial class LocalDestination : IDestination
{
    private readonly SyncPlan _plan;
    private readonly SyncOptions _options;
    private readonly ISourceTree? _sourceTree;
    private readonly SourceFiles? _sourceFiles;
    private readonly ISyncObserver _observer;
    private readonly AttributePolicy _attributes;
    private readonly TransferMeter _meter;
    private readonly CancellationToken _cancellation;
    private readonly PartialFiles? _partials;
    private readonly BandwidthThrottle? _throttle;
    private readonly object _treeGate = new();
    private readonly ConcurrentDictionary<int, SafeTree> _basisTrees = new();
    private SafeTree? _tree;
    private SafeTree? _backupTree;
    private int _linkFallbackReported;

    /// <param name="sourceTree">The source when an agent or SFTP serves it (a pull); null: the local file system.</param>
    /// <param name="sourceFiles">A local source's files, each opened checked against the scan; null for a pull.</param>
    public LocalDestination(SyncPlan plan, ISourceTree? sourceTree, SourceFiles? sourceFiles, ISyncObserver observer, AttributePolicy attributes, TransferMeter meter,
        CancellationToken cancellation)
    {
        _plan = plan;
        _options = plan.Options;
        _sourceTree = sourceTree;
        _sourceFiles = sourceFiles;
        _observer = observer;
        // This process is the receiver: a new item's mode without -Preserve Permissions is limited by the default ACL of
        // the directory it is made in, else the umask (rsync's dest_mode).
        _attributes = attributes.WithDefaults(new DefaultPermissions(() => Tree));
        _meter = meter;
        _cancellation = cancellation;
        _partials = _options.KeepsPartial && !_options.Inplace ? new PartialFiles(_options) : null;
        _delayed = _options.DelayUpdates && !_options.Inplace ? new DelayedRenames() : null;
        // A local copy is paced by what it reads (rsync --bwlimit limits a local copy too); a pull's wire is paced by the agent.
        _throttle = _options.BandwidthLimit > 0 && sourceTree is null ? new BandwidthThrottle(_options.BandwidthLimit) : null;
    }

    /// <summary>The destination, opened once it exists (after CreateRoot): later walks start from that descriptor, so
    /// a root renamed during the run is followed as the moved directory.</summary>
    private SafeTree Tree
    {
        get
        {
            lock (_treeGate)
            {
                return _tree ??= new SafeTree(_plan.DestinationRoot) { NamesFromPeer = false };
            }
        }
    }

    /// <summary>The backup directory (-BackupDirectory), created when the first backup goes there; null: beside the file.</summary>
    private SafeTree? BackupTree
    {
        get
        {
            lock (_treeGate)
            {
                if (_backupTree is null && !string.IsNullOrEmpty(_options.BackupDirectory))
                {
                    // A relative backup directory is relative to the destination, as in rsync.
                    _backupTree = new SafeTree(Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.IsPathRooted(_options.BackupDirectory)
                        ? _options.BackupDirectory : Path.Join(_plan.DestinationRoot, _options.BackupDirectory)))) { NamesFromPeer = false };
                }

                return _backupTree;
            }
        }
    }

    private string BackupSuffix => _options.EffectiveBackupSuffix;

    /// <summary>The item's path in the tree ("" for the root).</summary>
    private static string InTree(string relative) => relative == "." ? string.Empty : relative;

    public void Dispose()
    {
        lock (_treeGate)
        {
            _tree?.Dispose();
            _backupTree?.Dispose();
            _partialTree?.Dispose();
            foreach (SafeTree basis in _basisTrees.Values)
            {
                basis.Dispose();
            }

            _basisTrees.Clear();
        }
    }

    /// <summary>A local disk is kept busy by a few copies; a pull waits on the wire, where more requests in flight help.</summary>
    public int Workers => _sourceTree is null ? Math.Clamp(Environment.ProcessorCount, 2, 8) : 16;

    /// <summary>Every action here is carried out when applied.</summary>
    public bool TryStart(PlannedAction action, Action<SyncException?> settle) => false;

    public void Flush()
    {
    }

    public void Drain()
    {
    }

    /// <summary>A directory that could not be made is declined by the runner, so nothing below it is tried.</summary>
    public bool UnderFailedDirectory(string relative) => false;

    /// <summary>Carries out one action; throws <see cref="SyncException"/> for that item's failure.</summary>
    public void Apply(PlannedAction action)
    {
        string item = InTree(action.Item.RelativePath);
        switch (action.Kind)
        {
            case ActionKind.CreateRoot:
                try
                {
                    Directory.CreateDirectory(action.DestinationPath);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new SyncException(ErrorIds.DestinationCreateFailed, SyncErrorKind.WriteError,
                        $"Cannot create the destination '{action.DestinationPath}': {ex.Message}", action.DestinationPath, ex);
                }

                break;

            case ActionKind.CreateDirectory:
                TreeReceiver.MakeDirectory(Tree, item);
                break;

            case ActionKind.CopyFile:
                CopyFile(action);
                break;

            case ActionKind.CreateSymbolicLink:
                if (_options.Backup && action.Existing is { IsDirectory: false })
                {
                    BackUp(item, copy: false);
                }

                TreeReceiver.CreateSymbolicLink(Tree, item, action.Source!.LinkTarget!, _attributes.ForLink(action.Source, item));
                break;

            case ActionKind.CreateNode:
                if (_options.Backup && action.Existing is { IsDirectory: false })
                {
                    BackUp(item, copy: false);
                }

                TreeReceiver.CreateNode(Tree, item, action.Source!.Kind.FileType(), action.Source.Rdev, _attributes.ForNode(action));
                break;

            case ActionKind.Metadata:
                TreeReceiver.SetAttributes(Tree, item, _attributes.ForMetadata(action));
                break;

            case ActionKind.Delete:
                DeleteItem(action, item);
                break;

            case ActionKind.HardLink:
                HardLink(action);
                break;
        }
    }

    /// <summary>Gives a directory its attributes once everything inside it is written.</summary>
    public void FinishDirectory(string relative, FileEntry source, bool created) =>
        TreeReceiver.SetAttributes(Tree, relative, _attributes.ForDirectory(source, created, relative));

    /// <summary>chmod through the directory's own descriptor, reached without following a link.</summary>
    public void SetDirectoryMode(string relative, int mode, bool wait) =>
        TreeReceiver.SetAttributes(Tree, relative, new AttributeSet(AttributeFields.Mode, mode, 0, 0, 0, 0));

    /// <summary>Removes an item (a directory only when empty). With -Backup a file or link is backed up first; a directory
    /// that then still holds backups (no -BackupDirectory) stays, as in rsync.</summary>
    private void DeleteItem(PlannedAction action, string item)
    {
        bool isDirectory = action.Existing!.IsDirectory;
        if (_options.BacksUpDeletionOf(action.Item.RelativePath) && !isDirectory && action.Item.Reason != SyncReason.TemporaryFile)
        {
            BackUp(item, copy: false);
        }

        int errno = TreeReceiver.Delete(Tree, item, isDirectory);
        if (errno is 0 or Posix.ENOENT)
        {
            return;
        }

        if (errno is Posix.ENOTEMPTY or Posix.EEXIST && isDirectory && _options.Backup && BackupTree is null)
        {
            _observer.OnWarning($"Keeping the directory '{action.Item.RelativePath}': it holds backups.");
            return;
        }

        string why = errno is Posix.ENOTEMPTY or Posix.EEXIST && isDirectory
            ? "it is not empty (it holds excluded or protected items)" : Posix.Describe(errno);
        bool denied = errno is Posix.EACCES or Posix.EPERM;
        throw new SyncException(ErrorIds.DeleteFailed, denied ? SyncErrorKind.PermissionDenied : SyncErrorKind.WriteError,
            $"Cannot delete '{action.Item.RelativePath}': {why}.", action.Item.RelativePath);
    }

    /// <summary>-Backup: keeps the item's current content under its backup name before it is replaced or deleted (a hard
    /// link to it, or with <paramref name="copy"/> a copy, as -Inplace needs).</summary>
    private void BackUp(string item, bool copy) =>
        BasisTreeRequests.Backup(Tree, BackupTree, item, BackupSuffix, copy, _cancellation);

    /// <summary>Links an unchanged file to its copy in a -LinkDest directory. When the link cannot be made (another
    /// filesystem, EMLINK, a filesystem without hard links) the file is copied from there instead, as rsync does, and
    /// the first such fallback of the run is reported.</summary>
    private void HardLink(PlannedAction action)
    {
        string item = InTree(action.Item.RelativePath);
        if (action.LinkTo is { } first)
        {
            // -Preserve HardLinks: the group's first name, already written (or waiting for the -DelayUpdates burst). A
            // file it replaces is backed up first, as any replaced file.
            if (_options.Backup && action.Existing is { IsDirectory: false })
            {
                BackUp(item, copy: false);
            }

            string root = _plan.DestinationRoot.TrimEnd('/') + "/";
            BasisTreeRequests.LinkWithin(Tree, item, first.StartsWith(root, StringComparison.Ordinal) ? first[root.Length..] : first, _delayed);
            return;
        }

        bool symbolic = action.Source is { Kind: EntryKind.SymbolicLink };
        int errno = symbolic
            ? BasisTreeRequests.LinkSymlink(BasisTree(action), item, Tree, item, action.Source!.LinkTarget!)
            : BasisTreeRequests.Link(BasisTree(action), item, Tree, item, out _, _delayed, action.Basis);
        if (errno == 0)
        {
            return;
        }

        if (symbolic && !BasisTreeRequests.IsLinkRefusal(errno))
        {
            throw SafeTree.Failure(errno, ErrorIds.SymbolicLinkFailed, "Cannot create the hard link", action.Item.RelativePath);
        }

        if (Interlocked.Exchange(ref _linkFallbackReported, 1) == 0)
        {
            _observer.OnWarning($"Cannot hard-link '{action.Item.RelativePath}' to '{action.Basis!.FullPath}' ({Posix.Describe(errno)}); "
                + (symbolic ? "making the link anew" : "copying instead") + " (reported once per run).");
        }

        if (symbolic)
        {
            TreeReceiver.CreateSymbolicLink(Tree, item, action.Source!.LinkTarget!, _attributes.ForLink(action.Source, item));
            return;
        }

        CopyFile(action, fromBasis: true);
    }

    /// <summary>The basis directory that holds <see cref="PlannedAction.Basis"/>, opened once per run.</summary>
    private SafeTree BasisTree(PlannedAction action) => BasisTree(action.BasisIndex, action.Basis!.FullPath, InTree(action.Item.RelativePath));

    /// <summary>Basis directory <paramref name="index"/>, known by the full path of its item <paramref name="item"/>.</summary>
    private SafeTree BasisTree(int index, string full, string item) => _basisTrees.GetOrAdd(index, static (_, basis) =>
    {
        (string full, string item) = basis;
        return new SafeTree(full[..^(item.Length + 1)]) { NamesFromPeer = false };
    }, (full, item));

    /// <summary>-RemoveSourceFiles: this run's copy of <paramref name="relative"/> as it is now, with a regular file's
    /// XXH3-128, reached from the destination's descriptor (or, with <paramref name="basis"/>, basis directory number
    /// <paramref name="basis"/>'s, whose file <paramref name="copyPath"/> stands for the copy) by a walk that follows no
    /// link, so nothing swapped in on its path since is verified in its place. Null: nothing there.</summary>
    /// <exception cref="SyncException">FileReadError, UnsafePath.</exception>
    internal (FileEntry Copy, UInt128? Checksum)? DescribeCopy(string relative, int basis, string copyPath)
    {
        string item = InTree(relative);
        SafeTree tree = basis < 0 ? Tree : BasisTree(basis, copyPath, item);
        return BasisTreeRequests.Describe(tree, item, _cancellation) is { } entry ? (entry.ToFileEntry(copyPath), entry.Checksum) : null;
    }

    /// <summary>The basis file of a delta or a copy from a basis directory, opened without following a link and checked to
    /// be a regular file on its descriptor.</summary>
    private SafeFileHandle OpenBasis(PlannedAction action, out long length)
    {
        string item = InTree(action.Item.RelativePath);
        SafeFileHandle handle = action.Basis is not null
            ? BasisTree(action).OpenRegularFile(item, ErrorIds.FileReadError, out StatInfo stat)
            : Tree.OpenRegularFile(item, ErrorIds.FileReadError, out stat);
        length = stat.Size;
        return handle;
    }

    private void CopyFile(PlannedAction action, bool fromBasis = false)
    {
        FileEntry source = action.Source!;
        // -CopyDest (or a failed -LinkDest link): the basis holds the source's content; copy it locally.
        fromBasis |= action.CopyFromBasis;
        string relative = action.Item.RelativePath;
        string item = InTree(relative);
        AttributeSet attributes = _attributes.ForFile(action);
        Action<long> progress = _meter.For(relative, source.Length);
        if (_options.Inplace)
        {
            CopyInPlace(action, fromBasis, attributes, progress);
            return;
        }

        // The new content goes to a temp name beside the target, or (-Partial) to the file's partial name, so that an
        // interruption, even a killed process, leaves what was written where the next run looks for it.
        using ParentDirectory target = Tree.OpenParent(item);
        PartialUse? partial = fromBasis ? null : ClaimPartial(target, item);
        bool delta = !fromBasis && UsesDelta(action);
        PendingFile? pending = null;
        SafeFileHandle? basis = null;
        long basisLength = 0;
        bool done = false;
        try
        {
            if (partial is not null && partial.Length > 0 && _options.TransferMode != TransferMode.WholeFile)
            {
                // Resume: what the interrupted run wrote is the delta basis (even where Auto would copy whole files); the
                // new file goes to a temp name beside the target until it is complete.
                basis = partial.OpenAsBasis(out basisLength);
                if (basis is not null)
                {
                    partial.Resumed = true;
                    delta = true;
                }
            }

            if (delta && basis is null)
            {
                basis = OpenBasis(action, out basisLength);
            }

            pending = partial is { Resumed: false } ? partial.Create(item) : PendingFile.Beside(target, item);
            bool whole = true;
            if (delta)
            {
                try
                {
                    DeltaResult result = _sourceTree is null
                        ? DeltaCopier.Copy(() => _sourceFiles!.Open(relative, source), basis!, basisLength, pending.Handle, _options.BlockSize, progress, _cancellation, _throttle,
                            _options.Sparse)
                        : _sourceTree.CopyDelta(relative, basis!, basisLength, pending.Handle, _options.BlockSize, progress, _cancellation, _options.Sparse);
                    action.Item.BytesTransferred = result.LiteralBytes;
                    action.Item.BytesMatched = result.MatchedBytes;
                    _meter.AddBytes(result.Length);
                    whole = false;
                }
                catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
                {
                    // As rsync does: one more try, sending the whole file (the basis may also have changed meanwhile).
                    _observer.OnWarning($"'{relative}' did not verify after a delta transfer; sending it whole.");
                    RandomAccess.SetLength(pending.Handle, 0);
                }
            }

            if (whole)
            {
                long copied;
                if (fromBasis)
                {
                    using SafeFileHandle input = OpenBasis(action, out _);
                    copied = FileCopier.CopyContent(input, pending.Handle, progress, _cancellation, sparse: _options.Sparse);
                }
                else if (_sourceTree is null)
                {
                    using SafeFileHandle input = _sourceFiles!.Open(relative, source);
                    copied = FileCopier.CopyContent(input, pending.Handle, progress, _cancellation, _throttle, _options.Sparse);
                }
                else
                {
                    copied = _sourceTree.Copy(relative, pending.Handle, progress, _cancellation, _options.Sparse);
                }

                _meter.AddBytes(copied);
                action.Item.BytesTransferred = fromBasis ? 0 : copied;
                action.Item.BytesMatched = fromBasis ? copied : 0;
            }

            if (_options.SourceMustRest && !fromBasis && _sourceTree is null)
            {
                // -Watch: a file written while it was copied is not put in place (the pending file is removed below).
                _sourceFiles!.CheckRested(relative, source);
            }

            pending.SetAttributes(attributes);
            if (_options.Backup && action.Existing is { IsDirectory: false })
            {
                BackUp(item, copy: false);
            }

            pending = PutInPlace(pending, target, partial, attributes);
            done = true;
        }
        finally
        {
            basis?.Dispose();
            if (!done && partial is not null && pending is not null)
            {
                partial.KeepWritten(pending);
            }

            pending?.Dispose();
            ReleasePartial(partial);
        }
    }

    /// <summary>Renames a finished file over its target, or (-DelayUpdates) leaves it waiting for the burst. A file in an
    /// absolute partial directory is first copied to a temp name beside the target (rename is atomic only within one
    /// filesystem). Returns the pending file still to dispose of.</summary>
    private PendingFile PutInPlace(PendingFile pending, ParentDirectory target, PartialUse? partial, AttributeSet attributes)
    {
        if (partial is { Elsewhere: true, Resumed: false })
        {
            // An absolute partial directory may be on another filesystem: the complete file is copied beside its target,
            // which is renamed into place (or waits there for the burst); the partial file goes only then (disposed by
            // the caller, unkept). Read through a descriptor of its own: the writer's offset is at its end.
            using SafeFileHandle complete = partial.OpenAsBasis(out _)
                ?? throw new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError, $"Cannot read back the partial file of '{pending.Relative}'.", pending.Relative);
            using PendingFile beside = PendingFile.Beside(target, pending.Relative);
            FileCopier.CopyContent(complete, beside.Handle, null, _cancellation, sparse: _options.Sparse);
            beside.SetAttributes(attributes);
            if (_delayed is not null)
            {
                _delayed.Add(DelayedRenames.Beside(beside.Relative, beside.Name), beside.Relative);
                beside.Keep();
            }
            else
            {
                beside.Commit(target);
            }

            return pending;
        }

        if (_delayed is not null)
        {
            string waiting = partial is { Resumed: false } ? partial.InTree! : DelayedRenames.Beside(pending.Relative, pending.Name);
            _delayed.Add(waiting, pending.Relative, partial is { Resumed: true, InTree: { } obsolete } ? obsolete : null,
                partial?.DirectoryInTree, isPartial: partial is { Resumed: false });
            pending.Keep();
            if (partial is { Resumed: true, Elsewhere: true })
            {
                // What was resumed from cannot wait in the destination's tree; the complete file waits there.
                partial.Remove();
            }

            return pending;
        }

        pending.Commit(target);
        if (partial is { Resumed: true })
        {
            partial.Remove();
        }

        return pending;
    }

    /// <summary>-Inplace (rsync --inplace): writes the destination file itself. A delta uses the file as its own basis
    /// (see <see cref="InplacePatchWriter"/>); a new file with a basis in a -LinkDest/-CopyDest directory is patched from
    /// there. Nothing is removed on failure: the file stays as far as it was written.</summary>
    private void CopyInPlace(PlannedAction action, bool fromBasis, AttributeSet attributes, Action<long> progress)
    {
        FileEntry source = action.Source!;
        string relative = action.Item.RelativePath;
        string item = InTree(relative);
        bool exists = action.Existing is { Kind: EntryKind.File };
        if (_options.Backup && exists)
        {
            BackUp(item, copy: true);
        }

        using ParentDirectory parent = Tree.OpenParent(item);
        if (!fromBasis && !exists && action.Basis is not null && UsesDelta(action))
        {
            using SafeFileHandle basis = OpenBasis(action, out long basisLength);
            using SafeFileHandle created = TreeReceiver.OpenInPlace(parent, relative, create: true, out _);
            try
            {
                DeltaResult result = _sourceTree is null
                    ? DeltaCopier.Copy(() => _sourceFiles!.Open(relative, source), basis, basisLength, created, _options.BlockSize, progress, _cancellation, _throttle)
                    : _sourceTree.CopyDelta(relative, basis, basisLength, created, _options.BlockSize, progress, _cancellation);
                PendingFile.Apply(created, attributes, relative);
                Record(action, result.LiteralBytes, result.MatchedBytes, result.Length);
                return;
            }
            catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
            {
                // The file was new: what was written goes, and the whole file is written in its place.
                Posix.UnlinkAt(parent.Handle, parent.Name, isDirectory: false);
                _observer.OnWarning($"'{relative}' did not verify after a delta transfer; sending it whole.");
            }
        }

        // A new file's source is opened (and checked against the scan) before the file is made, so a refused source
        // leaves nothing behind.
        using SafeFileHandle? early = !exists && !fromBasis && _sourceFiles is not null ? _sourceFiles.Open(relative, source) : null;
        if (exists && attributes.Has(AttributeFields.FileAttributes) && (action.Existing!.Attributes & (int)FileAttributes.ReadOnly) != 0)
        {
            // -Preserve Attributes: a ReadOnly file is made writable to be updated (as robocopy does); it gets the
            // source's attributes, ReadOnly too if the source has it, once written.
            int cleared = Posix.SetFileAttributesAt(parent.Handle, parent.Name, action.Existing.Attributes & ~(int)FileAttributes.ReadOnly);
            if (cleared != 0)
            {
                throw SafeTree.Failure(cleared, ErrorIds.FileWriteError, "Cannot make writable", relative);
            }
        }

        using SafeFileHandle file = TreeReceiver.OpenInPlace(parent, relative, create: !exists, out _);
        if (!fromBasis && exists && UsesDelta(action))
        {
            SafeFileHandle? literalSource = _sourceFiles?.Open(relative, source);
            try
            {
                DeltaResult result = InplaceCopier.Delta(file, _options.BlockSize, literalSource, (signature, sink) => _sourceTree is null
                    ? InplaceCopier.Search(() => _sourceFiles!.Open(relative, source), signature, sink, progress, _throttle, _cancellation)
                    : _sourceTree.Delta(relative, signature, sink, progress, _cancellation), _cancellation);
                PendingFile.Apply(file, attributes, relative);
                Record(action, result.LiteralBytes, result.MatchedBytes, result.Length);
                return;
            }
            catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
            {
                _observer.OnWarning($"'{relative}' did not verify after a delta transfer in place; sending it whole.");
            }
            catch (InplaceConflictException)
            {
                // The sender matched blocks that were already overwritten here; the whole file is the way out.
            }
            finally
            {
                literalSource?.Dispose();
            }
        }

        long copied;
        if (fromBasis)
        {
            using SafeFileHandle input = OpenBasis(action, out _);
            copied = WriteWhole(input, file, progress, throttle: null);
        }
        else if (_sourceTree is null)
        {
            using SafeFileHandle input = early ?? _sourceFiles!.Open(relative, source);
            copied = WriteWhole(input, file, progress, _throttle);
        }
        else
        {
            using var output = new PositionalWriteStream(file);
            copied = _sourceTree.Read(relative, output, _cancellation);
            progress(copied);
        }

        RandomAccess.SetLength(file, copied);
        PendingFile.Apply(file, attributes, relative);
        Record(action, fromBasis ? 0 : copied, fromBasis ? copied : 0, copied);
    }

    /// <summary>Delta transfer needs a regular file to serve as basis; Auto means whole files for local copies and delta
    /// for pulls (where the wire, not the disk, is the limit).</summary>
    private bool UsesDelta(PlannedAction action) =>
        (_options.TransferMode == TransferMode.Delta || (_options.TransferMode == TransferMode.Auto && _sourceTree is not null))
        && (action.Basis ?? action.Existing) is { Kind: EntryKind.File, Length: > 0 };
}
