using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Remote;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Execution;

/// <summary>Carries out a plan in order: each action completes (and is reported) before the next starts; file
/// content goes to a temporary file beside its target and is renamed into place, so no torn file is ever
/// visible under the final name. Directory times and permissions are applied after their contents.
/// File copies run on a small pool of workers while this thread goes on through the plan: a plan names each path
/// once (a type change deletes before it creates), and a file's directory is made before the file is queued, so
/// no two concurrent actions touch the same path.</summary>
internal sealed partial class SyncExecutor : IDisposable
{
    private const int ProgressIntervalMs = 100;
    private const long LargeFile = 16L << 20; // files this large get their own progress from the first byte
    private const int OwnerAccess = 0x1C0; // 0700: the owner must be able to write into a directory being filled.

    private readonly SyncPlan _plan;
    private readonly SyncOptions _options;
    private readonly ISyncObserver _observer;
    private readonly CancellationToken _cancellation;
    private readonly SyncSummary _summary;
    private readonly HashSet<string> _touchedDirectories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _createdDirectories = new(StringComparer.Ordinal);
    private readonly List<string> _declined = [];
    private readonly int _umask = Posix.Umask;
    private readonly object _gate = new();
    private readonly BackupMover? _backups;
    private readonly PartialFiles? _partials;
    private readonly BandwidthThrottle? _throttle;
    private int _linkFallbackReported;
    private readonly int _workerCount = Math.Clamp(Environment.ProcessorCount, 2, 8);
    private readonly IDestinationTree? _destinationTree;
    private readonly ISourceTree? _sourceTree;
    private readonly Dictionary<int, SyncItem?> _settled = [];
    private int _nextToReport;
    private BlockingCollection<int>? _copies;
    private Thread[]? _workers;
    private long _actionsDone;
    private long _bytesDone;
    private long _nextProgress;

    private readonly bool _dryRun;

    private SyncExecutor(SyncPlan plan, ISyncObserver observer, bool dryRun, CancellationToken cancellation,
        IDestinationTree? destinationTree = null, ISourceTree? sourceTree = null)
    {
        _plan = plan;
        _destinationTree = destinationTree;
        _sourceTree = sourceTree;
        if (destinationTree is not null || sourceTree is not null)
        {
            // Remote copies wait on the wire, not on a core: more workers keep more requests in flight.
            _workerCount = RemoteWorkers;
        }

        _dryRun = dryRun;
        _options = plan.Options;
        _backups = _options.Backup && destinationTree is null ? new BackupMover(_options, plan.DestinationRoot) : null;
        _partials = _options.KeepsPartial && !_options.Inplace && destinationTree is null ? new PartialFiles(_options) : null;
        _delayed = _options.DelayUpdates && !_options.Inplace && destinationTree is null ? [] : null;
        _throttle = _options.BandwidthLimit > 0 && destinationTree is null && sourceTree is null ? new BandwidthThrottle(_options.BandwidthLimit) : null;
        _observer = observer;
        _cancellation = cancellation;
        _summary = new SyncSummary
        {
            Source = plan.SourceRoot,
            Destination = plan.DestinationRoot,
            ItemsTotal = plan.ItemsTotal,
            FilesTotal = plan.FilesTotal,
            TotalBytes = plan.TotalBytes,
        };
    }

    private bool Preserves(PreserveOptions flag) => (_options.Preserve & flag) != 0;

    /// <param name="dryRun">Report what would be done (with -MaxDelete and the I/O-error rule applied) and change nothing.</param>
    public static SyncSummary Run(SyncPlan plan, ISyncObserver observer, bool dryRun, CancellationToken cancellation)
    {
        using var executor = new SyncExecutor(plan, observer, dryRun, cancellation);
        return executor.Run();
    }

    /// <summary>Runs a plan whose destination (<paramref name="destinationTree"/>) or source (<paramref name="sourceTree"/>)
    /// is reached through an agent instead of by path.</summary>
    public static SyncSummary Run(SyncPlan plan, ISyncObserver observer, bool dryRun, IDestinationTree? destinationTree, ISourceTree? sourceTree,
        CancellationToken cancellation)
    {
        using var executor = new SyncExecutor(plan, observer, dryRun, cancellation, destinationTree, sourceTree);
        return executor.Run();
    }

    public void Dispose() => _copies?.Dispose();

    private SyncSummary Run()
    {
        var clock = Stopwatch.StartNew();
        _summary.Errors = _plan.ScanErrors.Count;
        bool deletionsBlocked = _plan.ScanErrors.Count > 0 && HasExtraneousDeletions();
        if (deletionsBlocked)
        {
            _summary.DeletionsSkipped = true;
            _summary.Errors++;
            _observer.OnError(new SyncException(ErrorIds.DeletionSkippedAfterIoError, SyncErrorKind.ReadError,
                "I/O errors occurred while scanning; no extraneous item is deleted in this run.", _plan.DestinationRoot));
        }

        int maxDelete = _options.MaxDelete ?? int.MaxValue;
        long deletions = 0;
        long deletionsOverLimit = 0;
        try
        {
            List<PlannedAction> actions = _plan.Actions;
            for (int index = 0; index < actions.Count; index++)
            {
                _cancellation.ThrowIfCancellationRequested();
                PlannedAction action = actions[index];
                SyncItem item = action.Item;
                if (IsDeclined(item.RelativePath) || (deletionsBlocked && item.Reason == SyncReason.Extraneous))
                {
                    _summary.Skipped++;
                    Settle(index, null);
                    continue;
                }

                bool countsAsDeletion = action.Kind == ActionKind.Delete && item.Reason != SyncReason.TemporaryFile;
                if (countsAsDeletion && deletions >= maxDelete)
                {
                    deletionsOverLimit++;
                    _summary.Skipped++;
                    if (item.Reason == SyncReason.TypeChanged)
                    {
                        // What was to replace it cannot go in either.
                        _declined.Add(item.RelativePath);
                    }

                    Settle(index, null);
                    continue;
                }

                if (!_observer.ShouldProcess(item) && !_dryRun)
                {
                    if (item.ItemType == SyncItemType.Directory && action.Kind is ActionKind.CreateDirectory or ActionKind.CreateRoot)
                    {
                        _declined.Add(item.RelativePath);
                    }

                    _summary.Skipped++;
                    Settle(index, null);
                    continue;
                }

                if (countsAsDeletion)
                {
                    deletions++;
                }

                if (_dryRun)
                {
                    _summary.Count(item);
                    Settle(index, item);
                }
                else if (action.Kind == ActionKind.CopyFile && !_observer.ConfirmsEachAction)
                {
                    if (!TryBatch(index))
                    {
                        Prefetch(index);
                        Enqueue(index);
                    }
                }
                else
                {
                    // Any other change goes after the files batched so far (SyncExecutor.Batch.cs), and may wait: the
                    // prefetches gathered so far go out first.
                    (_sourceTree as RemoteSourceTree)?.FlushPrefetch();
                    EndBatch();
                    if (StartRemote(index))
                    {
                        // Sent to the agent; settled when its answer comes (SyncExecutor.Remote.cs).
                    }
                    else
                    {
                        if (action.LinkTo is not null)
                        {
                            // The group's first name may still be copying on a worker.
                            DrainWorkers();
                        }

                        Complete(index);
                    }
                }
            }

            DrainWorkers();

            // A copy on a worker may have been the one that saw the cancellation.
            _cancellation.ThrowIfCancellationRequested();
            if (_delayed is not null && !_dryRun)
            {
                CommitDelayed();
            }
            else if (!_dryRun)
            {
                CommitDelayedRemote();
            }

            if (_options.RemoveSourceFiles && !_dryRun && _destinationTree is null or ICopyVerification)
            {
                RemoveSourceFiles();
            }

            if (deletionsOverLimit > 0)
            {
                _summary.Errors++;
                _observer.OnError(new SyncException(ErrorIds.MaxDeleteExceeded, SyncErrorKind.LimitsExceeded,
                    $"Deletions stopped at the -MaxDelete limit of {maxDelete}; {deletionsOverLimit} more item(s) were not deleted.",
                    _plan.DestinationRoot));
            }
        }
        finally
        {
            DrainWorkers();
            AbandonDelayed();
            if (!_dryRun)
            {
                FinishDirectories();
            }

            _summary.Duration = clock.Elapsed;
            _observer.OnProgress(new SyncProgress
            {
                Phase = SyncPhase.Completed,
                ActionsDone = Interlocked.Read(ref _actionsDone),
                ActionsTotal = _plan.Count,
                BytesDone = Interlocked.Read(ref _bytesDone),
                BytesTotal = _plan.BytesToTransfer,
            });
        }

        return _summary;
    }

    /// <summary>Performs one action and reports it; failures are per item and do not stop the run.</summary>
    private void Complete(int index)
    {
        PlannedAction action = _plan.Actions[index];
        SyncItem item = action.Item;
        bool done = false;
        try
        {
            Perform(action);
            lock (_gate)
            {
                _summary.Count(item);
            }

            done = true;
        }
        catch (SyncException) when (UnderFailedRemoteDirectory(item.RelativePath))
        {
            lock (_gate)
            {
                _summary.Skipped++;
            }
        }
        catch (SyncException ex)
        {
            Fail(action, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Fail(action, Classify(ex, item));
        }

        Settle(index, done ? item : null);
        Interlocked.Increment(ref _actionsDone);
        ReportProgress(item.RelativePath, 0, 0, force: false);
    }

    /// <summary>Marks action <paramref name="index"/> finished (with its item, or null when it was skipped or failed)
    /// and writes every finished item up to the first unfinished one, so that items appear in plan order even
    /// when copies finish out of order. A copy holds back only the items planned after it.</summary>
    private void Settle(int index, SyncItem? item)
    {
        lock (_settled)
        {
            if (index != _nextToReport)
            {
                _settled[index] = item;
                return;
            }

            if (item is not null)
            {
                _observer.OnItem(item);
            }

            _nextToReport++;
            while (_settled.Remove(_nextToReport, out SyncItem? next))
            {
                if (next is not null)
                {
                    _observer.OnItem(next);
                }

                _nextToReport++;
            }
        }
    }

    private void Enqueue(int index)
    {
        if (_copies is null)
        {
            _copies = new BlockingCollection<int>(boundedCapacity: 256);
            _workers = new Thread[_workerCount];
            for (int i = 0; i < _workers.Length; i++)
            {
                _workers[i] = new Thread(CopyWorker) { IsBackground = true, Name = "PSReplica copy " + i };
                _workers[i].Start();
            }
        }

        if (!_copies.TryAdd(index))
        {
            // The workers are behind: the files they will wait for must be asked for before this thread waits too.
            (_sourceTree as RemoteSourceTree)?.FlushPrefetch();
            _copies.Add(index, _cancellation);
        }
    }

    private void CopyWorker()
    {
        try
        {
            foreach (int index in _copies!.GetConsumingEnumerable(_cancellation))
            {
                try
                {
                    Complete(index);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Never let one file's unexpected failure take the process down from a worker thread.
                    PlannedAction action = _plan.Actions[index];
                    Fail(action, new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError,
                        $"Cannot copy '{action.Item.RelativePath}': {ex.Message}", action.Item.RelativePath, ex));
                    Settle(index, null);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the copy in progress has removed its temp file.
        }
    }

    /// <summary>Waits until every queued or batched copy has finished (or seen the cancellation).</summary>
    private void DrainWorkers()
    {
        DrainBatches();
        var prefetching = _sourceTree as RemoteSourceTree;
        prefetching?.EndPrefetch();
        if (_copies is null || _workers is null)
        {
            prefetching?.FinishPrefetch();
            return;
        }

        if (!_copies.IsAddingCompleted)
        {
            _copies.CompleteAdding();
        }

        foreach (Thread worker in _workers)
        {
            worker.Join();
        }

        _copies.Dispose();
        _copies = null;
        _workers = null;
        prefetching?.FinishPrefetch();
    }

    private bool HasExtraneousDeletions()
    {
        foreach (PlannedAction action in _plan.Actions)
        {
            if (action.Item.Reason == SyncReason.Extraneous)
            {
                return true;
            }
        }

        return false;
    }

    private void Fail(PlannedAction action, SyncException error)
    {
        lock (_gate)
        {
            _summary.Errors++;
            _failedPaths.Add(action.Item.RelativePath);
        }

        if (action.Kind is ActionKind.CreateDirectory or ActionKind.CreateRoot)
        {
            // Its contents cannot be written; one error is enough. (Directories are made on the planning-order thread.)
            _declined.Add(action.Item.RelativePath);
        }

        _observer.OnError(error);
    }

    private bool IsDeclined(string relative)
    {
        foreach (string declined in _declined)
        {
            if (declined == "." || relative == declined
                || (relative.Length > declined.Length && relative[declined.Length] == '/' && relative.StartsWith(declined, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    private void Perform(PlannedAction action)
    {
        if (_destinationTree is not null)
        {
            PerformRemote(action, _destinationTree);
            return;
        }

        string path = action.DestinationPath;
        string relative = action.Item.RelativePath;
        switch (action.Kind)
        {
            case ActionKind.CreateRoot:
                try
                {
                    Directory.CreateDirectory(path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new SyncException(ErrorIds.DestinationCreateFailed, SyncErrorKind.WriteError,
                        $"Cannot create the destination '{path}': {ex.Message}", path, ex);
                }

                _createdDirectories.Add(string.Empty);
                Touch(string.Empty, self: true);
                break;

            case ActionKind.CreateDirectory:
                int errno = Posix.Mkdir(path, OwnerAccess);
                if (errno != 0)
                {
                    throw Error(errno, ErrorIds.FileWriteError, $"Cannot create directory '{relative}'", relative);
                }

                _createdDirectories.Add(relative);
                Touch(relative);
                break;

            case ActionKind.CopyFile:
                CopyFile(action);
                Touch(relative);
                break;

            case ActionKind.CreateSymbolicLink:
                CreateSymbolicLink(action);
                Touch(relative);
                break;

            case ActionKind.Metadata:
                ApplyMetadata(action);
                break;

            case ActionKind.Delete when _backups is not null && !action.Existing!.IsDirectory && action.Item.Reason != SyncReason.TemporaryFile:
                _backups.MoveAside(action.DestinationPath, relative);
                Touch(relative);
                break;

            case ActionKind.Delete when _backups is not null && action.Existing!.IsDirectory && Directory.Exists(path)
                && Directory.EnumerateFileSystemEntries(path).Any():
                // The directory now holds the backups of its files (-Backup without -BackupDirectory): it stays, as in rsync.
                _observer.OnWarning($"Keeping the directory '{relative}': it holds backups.");
                break;

            case ActionKind.Delete:
                Delete(action);
                Touch(relative);
                break;

            case ActionKind.HardLink:
                HardLink(action);
                Touch(relative);
                break;
        }
    }

    /// <summary>Links an unchanged file to its copy in a -LinkDest directory. When the link cannot be made (another
    /// filesystem, EMLINK, a filesystem without hard links) the file is copied from there instead, as rsync does, and
    /// the first such fallback of the run is reported.</summary>
    private void HardLink(PlannedAction action)
    {
        if (action.LinkTo is { } first)
        {
            LinkToGroup(action, first);
            return;
        }

        int errno = Posix.Link(action.Basis!.FullPath, action.DestinationPath);
        if (errno == 0)
        {
            return;
        }

        if (Interlocked.Exchange(ref _linkFallbackReported, 1) == 0)
        {
            _observer.OnWarning($"Cannot hard-link '{action.Item.RelativePath}' to '{action.Basis.FullPath}' ({Posix.Describe(errno)}); "
                + "copying instead (reported once per run).");
        }

        CopyFile(action, fromBasis: true);
    }

    /// <summary>-Preserve HardLinks: links the name to its group's first name through a temporary name renamed over
    /// the target, so a file standing there is replaced in one step.</summary>
    private void LinkToGroup(PlannedAction action, string first)
    {
        string target = action.DestinationPath;
        string relative = action.Item.RelativePath;
        string temp = Path.Join(Path.GetDirectoryName(target), TempFileNames.For(Path.GetFileName(target)));
        // -DelayUpdates: the group's file may still wait for the burst; link to it there, and wait along with it.
        string? pending = PendingPathOf(first);
        Check(Posix.Link(pending ?? first, temp), ErrorIds.FileWriteError, "Cannot create the hard link", relative);
        if (pending is not null)
        {
            Defer(new DelayedUpdate(temp, target, relative, BackUp: false, static _ => { }, null, null, IsPartial: false));
            return;
        }

        int errno = Posix.Rename(temp, target);
        if (errno != 0)
        {
            TryDelete(temp);
            throw Error(errno, ErrorIds.FileWriteError, "Cannot move the hard link into place", relative);
        }
    }

    private void CopyFile(PlannedAction action, bool fromBasis = false)
    {
        FileEntry source = action.Source!;
        // -CopyDest (or a failed -LinkDest link): the basis holds the source's content; copy it locally.
        fromBasis |= action.CopyFromBasis;
        string target = action.DestinationPath;
        string relative = action.Item.RelativePath;
        if (source.Length >= LargeFile)
        {
            ReportProgress(relative, 0, source.Length, force: true);
        }

        int permissions = Preserves(PreserveOptions.Permissions) ? source.Permissions
            : action.Existing is { Kind: EntryKind.File } existing ? existing.Permissions
            : source.Permissions & ~_umask;
        Action<long> progress = done => ReportProgress(relative, done, source.Length, force: source.Length >= LargeFile);
        Action<SafeFileHandle> finish = file =>
        {
            // chown clears set-user-ID and set-group-ID bits, so ownership comes before the mode.
            if (OwnerOf(source) is (uint uid, uint gid))
            {
                Check(Posix.Fchown(file, uid, gid), ErrorIds.MetadataFailed, "Cannot set the owner of", relative);
            }

            Check(Posix.Fchmod(file, permissions), ErrorIds.MetadataFailed, "Cannot set permissions of", relative);
            if (Preserves(PreserveOptions.Times))
            {
                Check(Posix.SetModificationTime(file, source.MtimeSeconds, source.MtimeNanoseconds), ErrorIds.MetadataFailed, "Cannot set the time of", relative);
            }
        };

        if (_options.Inplace)
        {
            CopyInPlace(action, fromBasis, progress, finish);
            return;
        }

        // The new content goes to a temporary name beside the target, or (-Partial) to the file's partial name, so that
        // an interruption, even a killed process, leaves what was written where the next run looks for it.
        string temp = Path.Join(Path.GetDirectoryName(target), TempFileNames.For(Path.GetFileName(target)));
        string output = temp;
        string? basis = fromBasis ? null : action.Basis?.FullPath ?? (action.Existing is { Kind: EntryKind.File } ? target : null);
        bool delta = !fromBasis && UsesDelta(action);
        PartialUse? partial = fromBasis ? null : ClaimPartial(target, relative);
        if (partial is not null)
        {
            long kept = PartialFiles.LengthOf(partial.Path);
            if (kept > 0 && _options.TransferMode != TransferMode.WholeFile)
            {
                // Resume: what the interrupted run wrote is the delta basis (even where Auto would copy whole files);
                // the new file goes to a temp name until it is complete.
                partial.Resumed = true;
                basis = partial.Path;
                delta = true;
            }
            else
            {
                if (kept >= 0)
                {
                    TryDelete(partial.Path);
                }

                output = partial.Path;
            }
        }

        bool done = false;
        try
        {
            bool whole = true;
            if (delta)
            {
                try
                {
                    DeltaResult result = _sourceTree is null
                        ? DeltaCopier.Copy(source.FullPath, basis!, output, _options.BlockSize, progress, finish, _cancellation, _throttle)
                        : _sourceTree.CopyDelta(relative, basis!, output, _options.BlockSize, progress, finish, _cancellation);
                    action.Item.BytesTransferred = result.LiteralBytes;
                    action.Item.BytesMatched = result.MatchedBytes;
                    Interlocked.Add(ref _bytesDone, result.Length);
                    whole = false;
                }
                catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
                {
                    // As rsync does: one more try, sending the whole file (the basis may also have changed meanwhile).
                    TryDelete(output);
                    _observer.OnWarning($"'{relative}' did not verify after a delta transfer; sending it whole.");
                }
            }

            if (whole)
            {
                long copied = fromBasis ? FileCopier.Copy(action.Basis!.FullPath, output, progress, finish, _cancellation)
                    : _sourceTree is null
                    ? FileCopier.Copy(source.FullPath, output, progress, finish, _cancellation, _throttle)
                    : _sourceTree.Copy(relative, output, progress, finish, _cancellation);
                Interlocked.Add(ref _bytesDone, copied);
                action.Item.BytesTransferred = fromBasis ? 0 : copied;
                action.Item.BytesMatched = fromBasis ? copied : 0;
            }

            if (_delayed is not null)
            {
                // -DelayUpdates: the finished file waits under its temp (or partial) name for the burst at the end.
                Defer(new DelayedUpdate(output, target, relative, action.Existing is { IsDirectory: false }, finish,
                    partial?.Resumed == true ? partial.Path : null, partial?.Directory, IsPartial: output != temp));
            }
            else
            {
                if (_backups is not null && action.Existing is { IsDirectory: false })
                {
                    _backups.MoveAside(target, relative);
                }

                MoveIntoPlace(output, target, relative, finish);
                if (partial?.Resumed == true)
                {
                    TryDelete(partial.Path);
                }
            }

            done = true;
        }
        finally
        {
            if (!done)
            {
                if (partial is not null)
                {
                    KeepPartial(partial, output);
                }
                else
                {
                    TryDelete(output);
                }
            }

            ReleasePartial(partial);
        }
    }

    /// <summary>Delta transfer needs a regular file to serve as basis; Auto means whole files for local copies and delta
    /// for remote ones (where the wire, not the disk, is the limit).</summary>
    private bool UsesDelta(PlannedAction action) =>
        (_options.TransferMode == TransferMode.Delta || (_options.TransferMode == TransferMode.Auto && IsRemote))
        && (action.Basis ?? action.Existing) is { Kind: EntryKind.File, Length: > 0 };

    private void CreateSymbolicLink(PlannedAction action)
    {
        FileEntry source = action.Source!;
        string target = action.DestinationPath;
        string relative = action.Item.RelativePath;
        string temp = Path.Join(Path.GetDirectoryName(target), TempFileNames.For(Path.GetFileName(target)));
        try
        {
            try
            {
                File.CreateSymbolicLink(temp, source.LinkTarget!);
            }
            catch (IOException ex)
            {
                throw new SyncException(ErrorIds.SymbolicLinkFailed, SyncErrorKind.WriteError,
                    $"Cannot create symbolic link '{relative}': {ex.Message}", relative, ex);
            }

            SetOwner(temp, source, relative);
            if (Preserves(PreserveOptions.Times))
            {
                SetTime(temp, source, relative);
            }

            if (_backups is not null && action.Existing is { IsDirectory: false })
            {
                _backups.MoveAside(target, relative);
            }

            Check(Posix.Rename(temp, target), ErrorIds.FileWriteError, "Cannot move into place", relative);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private void ApplyMetadata(PlannedAction action)
    {
        FileEntry source = action.Source!;
        string path = action.DestinationPath;
        string relative = action.Item.RelativePath;
        if (source.IsDirectory)
        {
            // Times and exact permissions follow the contents (FinishDirectories); the owner keeps write access meanwhile.
            SetOwner(path, source, relative);
            if ((action.Changes & AttributeChanges.Permissions) != 0)
            {
                Check(Posix.Chmod(path, source.Permissions | OwnerAccess), ErrorIds.MetadataFailed, "Cannot set permissions of", relative);
            }

            Touch(relative == "." ? string.Empty : relative, self: true);
            return;
        }

        bool ownerChanged = (action.Changes & (AttributeChanges.Owner | AttributeChanges.Group)) != 0;
        if (ownerChanged)
        {
            SetOwner(path, source, relative);
        }

        // chown clears set-user-ID and set-group-ID bits: the mode is applied after it, and again whenever it ran.
        if (source.Kind == EntryKind.File
            && ((action.Changes & AttributeChanges.Permissions) != 0 || (ownerChanged && Preserves(PreserveOptions.Permissions))))
        {
            Check(Posix.Chmod(path, source.Permissions), ErrorIds.MetadataFailed, "Cannot set permissions of", relative);
        }

        if ((action.Changes & AttributeChanges.Times) != 0)
        {
            SetTime(path, source, relative);
        }
    }

    private static void Delete(PlannedAction action)
    {
        string path = action.DestinationPath;
        string relative = action.Item.RelativePath;
        try
        {
            if (action.Existing!.IsDirectory)
            {
                Directory.Delete(path, recursive: false);
            }
            else
            {
                File.Delete(path);
            }
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone: the goal is reached.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string why = ex is IOException && action.Existing!.IsDirectory && Directory.Exists(path)
                ? "it is not empty (it holds excluded or protected items)" : ex.Message;
            throw new SyncException(ErrorIds.DeleteFailed, ex is UnauthorizedAccessException ? SyncErrorKind.PermissionDenied : SyncErrorKind.WriteError,
                $"Cannot delete '{relative}': {why}", relative, ex);
        }
    }

    private void SetOwner(string path, FileEntry source, string relative)
    {
        if (OwnerOf(source) is (uint uid, uint gid))
        {
            Check(Posix.Lchown(path, uid, gid), ErrorIds.MetadataFailed, "Cannot set the owner of", relative);
        }
    }

    /// <summary>The uid and gid to give an item (uint.MaxValue leaves one as it is), or null when -Preserve has neither
    /// Owner nor Group.</summary>
    private (uint Uid, uint Gid)? OwnerOf(FileEntry source)
    {
        bool owner = Preserves(PreserveOptions.Owner);
        bool group = Preserves(PreserveOptions.Group);
        return owner || group ? (owner ? source.Uid : uint.MaxValue, group ? source.Gid : uint.MaxValue) : null;
    }

    /// <summary>Gives the item at <paramref name="path"/> (not following a final link) the source's modification time.</summary>
    private static void SetTime(string path, FileEntry source, string relative) =>
        Check(Posix.SetModificationTime(path, source.MtimeSeconds, source.MtimeNanoseconds), ErrorIds.MetadataFailed, "Cannot set the time of", relative);

    /// <summary>Records that a directory's contents changed, so its time is restored at the end.</summary>
    private void Touch(string relative, bool self = false)
    {
        int slash = relative.LastIndexOf('/');
        string directory = self ? relative : slash < 0 ? string.Empty : relative[..slash];
        lock (_touchedDirectories)
        {
            _touchedDirectories.Add(directory);
        }
    }

    /// <summary>Applies directory permissions and times deepest first, after everything inside was written.</summary>
    private void FinishDirectories()
    {
        // Changes sent to an agent without waiting are answered first: only then is it known which directories were made.
        DrainRemote();
        foreach (string relative in _createdDirectories)
        {
            _touchedDirectories.Add(relative);
        }

        var ordered = new List<string>(_touchedDirectories);
        ordered.Sort(static (a, b) => Depth(b).CompareTo(Depth(a)));
        foreach (string relative in ordered)
        {
            if (!_plan.SourceDirectories.TryGetValue(relative, out FileEntry? source))
            {
                continue;
            }

            string path = relative.Length == 0 ? _plan.DestinationRoot : Path.Join(_plan.DestinationRoot, relative);
            string shown = relative.Length == 0 ? "." : relative;
            try
            {
                bool created = _createdDirectories.Contains(relative);
                if (_destinationTree is not null)
                {
                    FinishRemoteDirectory(_destinationTree, relative, source, created);
                    continue;
                }

                if (created)
                {
                    SetOwner(path, source, shown);
                }

                if (Preserves(PreserveOptions.Permissions) || created)
                {
                    int permissions = Preserves(PreserveOptions.Permissions) ? source.Permissions : source.Permissions & ~_umask;
                    Check(Posix.Chmod(path, permissions), ErrorIds.MetadataFailed, "Cannot set permissions of", shown);
                }

                if (Preserves(PreserveOptions.Times))
                {
                    SetTime(path, source, shown);
                }
            }
            catch (SyncException ex)
            {
                _summary.Errors++;
                _observer.OnError(ex);
            }
        }

        DrainRemote();
    }

    private static int Depth(string relative)
    {
        if (relative.Length == 0)
        {
            return 0;
        }

        int depth = 1;
        foreach (char c in relative)
        {
            if (c == '/')
            {
                depth++;
            }
        }

        return depth;
    }

    private void ReportProgress(string current, long currentDone, long currentLength, bool force)
    {
        long now = Environment.TickCount64;
        long next = Interlocked.Read(ref _nextProgress);
        if (!force && (now < next || Interlocked.CompareExchange(ref _nextProgress, now + ProgressIntervalMs, next) != next))
        {
            return;
        }

        _observer.OnProgress(new SyncProgress
        {
            Phase = SyncPhase.Transferring,
            ActionsDone = Interlocked.Read(ref _actionsDone),
            ActionsTotal = _plan.Count,
            BytesDone = Interlocked.Read(ref _bytesDone) + currentDone,
            BytesTotal = _plan.BytesToTransfer,
            CurrentPath = current,
            CurrentBytesDone = currentDone,
            CurrentLength = currentLength,
        });
    }

    private static void Check(int errno, string errorId, string what, string relative)
    {
        if (errno != 0)
        {
            throw Error(errno, errorId, what + " '" + relative + "'", relative);
        }
    }

    private static SyncException Error(int errno, string errorId, string what, string relative)
    {
        bool denied = errno is Posix.EACCES or Posix.EPERM;
        return new SyncException(denied ? ErrorIds.PermissionDenied : errorId,
            denied ? SyncErrorKind.PermissionDenied : SyncErrorKind.WriteError,
            $"{what}: {Posix.Describe(errno)}.", relative);
    }

    private static SyncException Classify(Exception ex, SyncItem item) => ex switch
    {
        UnauthorizedAccessException => new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied,
            $"Cannot write '{item.RelativePath}': permission denied.", item.RelativePath, ex),
        _ => new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError,
            $"Cannot write '{item.RelativePath}': {ex.Message}", item.RelativePath, ex),
    };

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temp file is recognised and removed by the next run.
        }
    }
}
