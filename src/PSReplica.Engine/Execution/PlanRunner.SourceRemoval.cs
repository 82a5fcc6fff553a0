using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Execution;

/// <summary>-RemoveSourceFiles (rsync --remove-source-files): once the run is over, each selected source file, link or
/// node (device, FIFO, socket) whose destination copy is verified is removed from the source. Directories stay. Verified
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
    // Items whose action failed in this run: their sources stay.
    private readonly HashSet<string> _failedPaths = new(StringComparer.Ordinal);

    private void RemoveSourceFiles()
    {
        var remote = _sourceTree as ISourceRemoval;
        var copies = _destinationTree as ICopyVerification;
        if ((_sourceTree is not null && remote is null) || (_destinationTree is not null && copies is null))
        {
            // Refused before the run; a destination path that names another host is never looked up here.
            return;
        }

        foreach ((FileEntry source, string destinationPath, string relative) in _plan.SourceFiles)
        {
            _cancellation.ThrowIfCancellationRequested();
            if (IsDeclined(relative) || _failedPaths.Contains(relative) || _options.Review?.WasAdmitted(relative) == false)
            {
                // A reviewed plan removes only the sources of the items it carried out.
                continue;
            }

            FileEntry? copy;
            UInt128? copyChecksum = null;
            if (copies is null)
            {
                copy = DirectoryLister.Stat(destinationPath, source.Name, follow: false, out _);
            }
            else if (!TryDescribeCopy(copies, relative, out copy, out copyChecksum))
            {
                continue;
            }

            FileEntry? now = remote is null ? DirectoryLister.Stat(source.FullPath, source.Name, follow: false, out _) : source;
            if (copy is null || now is null)
            {
                continue;
            }

            if (remote is null && copies is null && copy.Device == now.Device && copy.Inode == now.Inode)
            {
                // The source and the destination are the same file (one path reaches the other): removing it would lose it.
                _summary.Errors++;
                _observer.OnError(new SyncException(ErrorIds.SourceIsDestination, SyncErrorKind.InvalidOperation,
                    $"Not removing '{relative}' from the source: it is the same file as its destination copy.", relative));
                continue;
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
                || (remote is not null ? SourceHashesLike(destinationPath, relative)
                    : copies is null ? SameContent(source, destinationPath, relative) : HashesTo(source, copyChecksum, relative));
            if (!sameAsScanned || !copied || !sameContent)
            {
                _observer.OnWarning($"{NotSettling(relative)}: its destination copy could not be verified.");
                continue;
            }

            if (remote is not null)
            {
                RemoveRemoteSource(remote, source, relative);
                continue;
            }

            SettleLocalSource(source, relative);
        }
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
            _summary.Errors++;
            _observer.OnError(remove
                ? new SyncException(ErrorIds.DeleteFailed, SyncErrorKind.WriteError, $"Cannot remove '{relative}' from the source: {Posix.Describe(errno)}.", relative)
                : new SyncException(ErrorIds.MetadataFailed, SyncErrorKind.WriteError,
                    $"Cannot reset the Archive attribute of '{relative}' in the source: {Posix.Describe(errno)}.", relative));
        }
        else if (!remove && _observer.WantsVerbose)
        {
            _observer.OnVerbose($"Reset the Archive attribute of '{relative}' in the source (-ResetArchive)");
        }
    }

    /// <summary>Asks the remote destination for its copy; a copy that cannot be read keeps its source (with a warning), a
    /// session that failed ends the run.</summary>
    private bool TryDescribeCopy(ICopyVerification copies, string relative, out FileEntry? copy, out UInt128? checksum)
    {
        try
        {
            (copy, checksum) = copies.DescribeCopy(relative, _cancellation) is { } described ? described : (null, null);
            return true;
        }
        catch (SyncException ex) when (ex.ErrorId is not (ErrorIds.ConnectionLost or ErrorIds.ProtocolViolation or ErrorIds.PeerTimeout))
        {
            _observer.OnWarning($"Not removing '{relative}' from the source: its destination copy could not be read ({ex.Message}).");
            (copy, checksum) = (null, null);
            return false;
        }
    }

    /// <summary>Whether the local file hashes (XXH3-128) to the checksum the destination computed for its copy; the file
    /// is read as every source file is (<see cref="Sender.SourceFiles"/>).</summary>
    private bool HashesTo(FileEntry source, UInt128? checksum, string relative) =>
        checksum is { } expected && Verifies(relative, () => _sourceFiles!.ContentHash(relative, source) == expected);

    /// <summary>A pull: whether the agent's source file hashes (XXH3-128) as the local copy does, so that a copy the quick
    /// check passed but whose bytes differ keeps its source, as a local run's does.</summary>
    private bool SourceHashesLike(string copy, string relative) =>
        _sourceTree is ICopyVerification sources && TryDescribeCopy(sources, relative, out _, out UInt128? checksum) && checksum is { } expected
        && Verifies(relative, () => SyncPlanner.ContentHash(copy) == expected);

    /// <summary>Whether the source and its copy hold the same bytes (XXH3-128 of each). The source is read as every source
    /// file is (<see cref="Sender.SourceFiles"/>): a file that is no longer the one scanned, or that is reached through a
    /// link swapped in on its path, is not verified, so nothing outside the source is judged (and then removed) in its place.</summary>
    private bool SameContent(FileEntry source, string copy, string relative) =>
        Verifies(relative, () => _sourceFiles!.ContentHash(relative, source) == SyncPlanner.ContentHash(copy));

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
            _summary.Errors++;
            _observer.OnError(ex);
        }
    }
}
