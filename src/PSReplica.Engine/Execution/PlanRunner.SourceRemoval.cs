using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Receiving;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Execution;

/// <summary>-RemoveSourceFiles (rsync --remove-source-files): each selected source file, link or node (device, FIFO,
/// socket) whose destination copy is verified is removed from the source: in a streamed plan as soon as every action
/// planned up to it is reported (as rsync removes each file once the receiver has it), on a thread of its own, so the
/// run holds a window of them (<see cref="SourceFileQueue"/>); with -DelayUpdates (the copies are put in place only at
/// the end) and in a plan made before it runs, once the run is over. Directories stay. Verified
/// means: the action for it did not fail in this run (transfers are themselves verified: deltas, remote reads and remote
/// writes against the sender's XXH3-128), the copy has the source's type, size and time (a link: its target; a device:
/// its number) now, and the two files' contents
/// hash the same (XXH3-128) now — so a copy that the quick check would accept but whose bytes differ, whether it was
/// sent in this run or already up to date, keeps its source. A local destination's copy is hashed here; a push's copy
/// is hashed by the agent (DescribeCopy), so nothing is read back over the wire. A local source must also still be the
/// file that was scanned (type, length, time, device and inode). A remote source is removed by the agent, and only
/// while it still has the length and time it was listed with. SFTP can do neither without reading whole files back,
/// so -RemoveSourceFiles is refused there before the run (DestinationCapabilities.SourceRemoval).
/// <para>-ResetArchive (robocopy /M) settles the same verified sources another way: a local source file whose copy is
/// verified, and which is still the file that was scanned, keeps its place and loses its Archive attribute (without
/// -RemoveSourceFiles, which removes it instead).</para></summary>
internal sealed partial class PlanRunner
{
    // Items whose action failed in this run: their sources stay. (Under _gate.)
    private readonly HashSet<string> _failedPaths = new(StringComparer.Ordinal);

    /// <summary>The thread that settles a streamed plan's source files as the reports reach them, or null.</summary>
    private Task? _settling;

    /// <summary>Whether this run can settle source files at all: the option, no dry run, and an agent in either role that
    /// can verify and remove (others are refused before the run; a destination path that names another host is never
    /// looked up here).</summary>
    private bool SettlesSources =>
        (_options.RemoveSourceFiles || _options.ResetArchive) && !_dryRun
        && (_sourceTree is null || _sourceTree is ISourceRemoval) && (_destinationTree is null || _destinationTree is ICopyVerification);

    /// <summary>A streamed plan without -DelayUpdates: starts the thread that settles each source file once the actions
    /// planned up to it are reported.</summary>
    private void StartSettlingSources(bool streams)
    {
        if (streams && !SettlesSources)
        {
            // A dry run (or one refused before it ran): the planner's source files are not kept.
            _plan.SourceFiles.Ignore();
        }

        if (!streams || _options.DelayUpdates || !SettlesSources)
        {
            return;
        }

        _plan.SourceFiles.BeginSettling();
        _settling = Task.Factory.StartNew(SettleSourcesAsReported, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void SettleSourcesAsReported()
    {
        try
        {
            var remote = _sourceTree as ISourceRemoval;
            var copies = _destinationTree as ICopyVerification;
            while (_plan.SourceFiles.TryTake(out SourceFileQueue.SourceFile file))
            {
                SettleSource(file, remote, copies);
            }
        }
        catch
        {
            // The planner must not wait for room this thread no longer makes; the failure ends the run at its end.
            _plan.SourceFiles.Unbound();
            throw;
        }
    }

    /// <summary>Every action reported: waits for the last source files to be settled; rethrows what ended the settling
    /// (the run was cancelled, the session failed).</summary>
    private void FinishSettlingSources() => _settling?.GetAwaiter().GetResult();

    /// <summary>The run is over, or failed: the settling thread ends (at once, when the run failed) before the run returns.</summary>
    private void StopSettlingSources()
    {
        if (_settling is null)
        {
            return;
        }

        _plan.SourceFiles.Abandon();
        try
        {
            _settling.Wait();
        }
        catch (AggregateException)
        {
            // Rethrown by FinishSettlingSources, or superseded by the failure that stopped the run.
        }
    }

    /// <summary>Settles every source file at the end of the run (a plan made before it ran, -DelayUpdates).</summary>
    private void RemoveSourceFiles()
    {
        if (!SettlesSources)
        {
            return;
        }

        var remote = _sourceTree as ISourceRemoval;
        var copies = _destinationTree as ICopyVerification;
        foreach (SourceFileQueue.SourceFile file in _plan.SourceFiles.TakeAll())
        {
            SettleSource(file, remote, copies);
        }
    }

    /// <summary>Removes one source file, or clears its Archive attribute, when its copy is verified.</summary>
    private void SettleSource(SourceFileQueue.SourceFile file, ISourceRemoval? remote, ICopyVerification? copies)
    {
        (FileEntry source, string destinationPath, string relative, _, int basis) = file;
        _cancellation.ThrowIfCancellationRequested();
        bool failed;
        lock (_gate)
        {
            failed = _failedPaths.Contains(relative);
        }

        if (IsDeclined(relative) || failed || _options.Review?.WasAdmitted(relative) == false)
        {
            // A reviewed plan removes only the sources of the items it carried out.
            return;
        }

        FileEntry? copy;
        UInt128? copyChecksum = null;
        if (copies is null)
        {
            if (!TryDescribeLocalCopy(relative, basis, destinationPath, out copy, out copyChecksum))
            {
                return;
            }
        }
        else if (!TryDescribeCopy(copies, relative, basis, out copy, out copyChecksum))
        {
            return;
        }

        FileEntry? now = remote is null ? DirectoryLister.Stat(source.FullPath, source.Name, follow: false, out _) : source;
        if (copy is null || now is null)
        {
            return;
        }

        if (remote is null && copies is null && copy.Device == now.Device && copy.Inode == now.Inode)
        {
            // The source and the destination are the same file (one path reaches the other): removing it would lose it.
            ReportError(new SyncException(ErrorIds.SourceIsDestination, SyncErrorKind.InvalidOperation,
                $"Not removing '{relative}' from the source: it is the same file as its destination copy.", relative));
            return;
        }

        // The copy is what the source held at the scan, and the source did not change (nor was it replaced) since.
        bool sameAsScanned = now.Kind == source.Kind && now.Length == source.Length
            && now.MtimeSeconds == source.MtimeSeconds && now.MtimeNanoseconds == source.MtimeNanoseconds
            && (remote is not null || (now.Device == source.Device && now.Inode == source.Inode));
        bool copied = copy.Kind == source.Kind
            && (source.Kind == EntryKind.SymbolicLink
                ? copy.LinkTarget == source.LinkTarget
                : copy.Length == source.Length && (!source.Kind.IsDevice() || copy.Rdev == source.Rdev)
                    && (!Preserves(PreserveOptions.Times) || copy.MtimeSeconds == source.MtimeSeconds));
        bool sameContent = source.Kind != EntryKind.File
            || (remote is not null ? SourceHashesLike(copyChecksum, relative) : HashesTo(source, copyChecksum, relative));
        if (!sameAsScanned || !copied || !sameContent)
        {
            _observer.OnWarning($"{NotSettling(relative)}: its destination copy could not be verified.");
            return;
        }

        if (remote is not null)
        {
            RemoveRemoteSource(remote, source, relative);
            return;
        }

        SettleLocalSource(source, relative);
    }

    /// <summary>What the warning says of a verified source that keeps its place or its Archive attribute.</summary>
    private string NotSettling(string relative) =>
        _options.RemoveSourceFiles ? $"Not removing '{relative}' from the source" : $"Not resetting the Archive attribute of '{relative}'";

    /// <summary>Removes the local source (-RemoveSourceFiles) or clears its Archive attribute (-ResetArchive), in its
    /// directory's handle as the scan reached it, never through a link swapped in on its path since the verification,
    /// and only while the name still holds the item scanned: one that no longer does keeps its place (a warning); a
    /// call that fails is that item's error.</summary>
    private void SettleLocalSource(FileEntry source, string relative)
    {
        bool remove = _options.RemoveSourceFiles;
        int errno;
        try
        {
            errno = remove ? _sourceFiles!.Remove(relative, source) : _sourceFiles!.ClearArchive(relative, source);
        }
        catch (SyncException ex)
        {
            _observer.OnWarning($"{NotSettling(relative)}: {ex.Message}");
            return;
        }

        if (errno != 0 && !(remove && errno == Posix.ENOENT))
        {
            ReportError(remove
                ? new SyncException(ErrorIds.DeleteFailed, SyncErrorKind.WriteError, $"Cannot remove '{relative}' from the source: {Posix.Describe(errno)}.", relative)
                : new SyncException(ErrorIds.MetadataFailed, SyncErrorKind.WriteError,
                    $"Cannot reset the Archive attribute of '{relative}' in the source: {Posix.Describe(errno)}.", relative));
        }
        else if (!remove && _observer.WantsVerbose)
        {
            _observer.OnVerbose($"Reset the Archive attribute of '{relative}' in the source (-ResetArchive)");
        }
    }

    /// <summary>Asks the remote destination for its copy (with <paramref name="basis"/>, the basis tree's file standing for
    /// it: -CompareDest).</summary>
    private bool TryDescribeCopy(ICopyVerification copies, string relative, int basis, out FileEntry? copy, out UInt128? checksum) =>
        TryDescribe(relative, () => basis < 0 ? copies.DescribeCopy(relative, _cancellation)
            : ((IBasisCopyVerification)copies).DescribeBasisCopy(basis, relative, _cancellation), out copy, out checksum);

    /// <summary>This run's local copy (a local run's or a pull's destination, or the basis directory's file standing for it),
    /// described through descriptors (<see cref="LocalDestination.DescribeCopy"/>).</summary>
    private bool TryDescribeLocalCopy(string relative, int basis, string copyPath, out FileEntry? copy, out UInt128? checksum) =>
        TryDescribe(relative, () => ((LocalDestination)_destination).DescribeCopy(relative, basis, copyPath), out copy, out checksum);

    /// <summary>Describes a copy; one that cannot be read keeps its source (with a warning), a session that failed ends the run.</summary>
    private bool TryDescribe(string relative, Func<(FileEntry Copy, UInt128? Checksum)?> describe, out FileEntry? copy, out UInt128? checksum)
    {
        try
        {
            (copy, checksum) = describe() is { } described ? described : (null, null);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException
            || ex is SyncException { ErrorId: not (ErrorIds.ConnectionLost or ErrorIds.ProtocolViolation or ErrorIds.PeerTimeout) })
        {
            _observer.OnWarning($"{NotSettling(relative)}: its destination copy could not be read ({ex.Message}).");
            (copy, checksum) = (null, null);
            return false;
        }
    }

    /// <summary>Whether the local file hashes (XXH3-128) to the checksum the destination computed for its copy; the file
    /// is read as every source file is (<see cref="Sender.SourceFiles"/>).</summary>
    private bool HashesTo(FileEntry source, UInt128? checksum, string relative) =>
        checksum is { } expected && Verifies(relative, () => _sourceFiles!.ContentHash(relative, source) == expected);

    /// <summary>A pull: whether the agent's source file hashes (XXH3-128) as the local copy did, so that a copy the quick
    /// check passed but whose bytes differ keeps its source, as a local run's does.</summary>
    private bool SourceHashesLike(UInt128? copyChecksum, string relative) =>
        copyChecksum is { } copied && _sourceTree is ICopyVerification sources && TryDescribeCopy(sources, relative, -1, out _, out UInt128? checksum)
        && checksum == copied;

    /// <summary>Runs one content comparison; a file that cannot be read is not verified (and its source stays), with a warning.</summary>
    private bool Verifies(string relative, Func<bool> compare)
    {
        try
        {
            return compare();
        }
        catch (Exception ex) when (ex is SyncException or IOException or UnauthorizedAccessException)
        {
            _observer.OnWarning($"Cannot read '{relative}' to verify its copy: {ex.Message}");
            return false;
        }
    }

    private void RemoveRemoteSource(ISourceRemoval remote, FileEntry source, string relative)
    {
        try
        {
            remote.RemoveSource(relative, source, _cancellation);
        }
        catch (SyncException ex) when (ex.ErrorId == ErrorIds.SourceChangedSinceListing)
        {
            _observer.OnWarning(ex.Message);
        }
        catch (SyncException ex) when (ex.ErrorId is not (ErrorIds.ConnectionLost or ErrorIds.ProtocolViolation or ErrorIds.PeerTimeout))
        {
            ReportError(ex);
        }
    }
}
