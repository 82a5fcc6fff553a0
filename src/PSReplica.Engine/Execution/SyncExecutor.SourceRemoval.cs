using PSReplica.Engine.Native;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Execution;

/// <summary>-RemoveSourceFiles (rsync --remove-source-files): once the run is over, each selected source file or link
/// whose destination copy checks out is removed from the source. Directories stay.</summary>
internal sealed partial class SyncExecutor
{
    private void RemoveSourceFiles()
    {
        foreach ((FileEntry source, string destinationPath, string relative) in _plan.SourceFiles)
        {
            _cancellation.ThrowIfCancellationRequested();
            if (IsDeclined(relative))
            {
                continue;
            }

            FileEntry? copy = DirectoryLister.Stat(destinationPath, source.Name, follow: false, out _);
            FileEntry? now = DirectoryLister.Stat(source.FullPath, source.Name, follow: false, out _);
            if (copy is null || now is null)
            {
                continue;
            }

            if (copy.Device == now.Device && copy.Inode == now.Inode)
            {
                // The source and the destination are the same file (one path reaches the other): removing it would lose it.
                _summary.Errors++;
                _observer.OnError(new SyncException(ErrorIds.SourceIsDestination, SyncErrorKind.InvalidOperation,
                    $"Not removing '{relative}' from the source: it is the same file as its destination copy.", relative));
                continue;
            }

            // Verified: the copy is what the source held at the scan, and the source did not change since.
            bool sameAsScanned = now.Kind == source.Kind && now.Length == source.Length
                && now.MtimeSeconds == source.MtimeSeconds && now.MtimeNanoseconds == source.MtimeNanoseconds;
            bool copied = copy.Kind == source.Kind && copy.Length == source.Length
                && (source.Kind == EntryKind.SymbolicLink
                    ? copy.LinkTarget == source.LinkTarget
                    : !Preserves(PreserveOptions.Times) || copy.MtimeSeconds == source.MtimeSeconds);
            if (!sameAsScanned || !copied)
            {
                _observer.OnWarning($"Not removing '{relative}' from the source: its destination copy could not be verified.");
                continue;
            }

            int errno = Posix.Unlink(source.FullPath);
            if (errno != 0 && errno != Posix.ENOENT)
            {
                _summary.Errors++;
                _observer.OnError(new SyncException(ErrorIds.DeleteFailed, SyncErrorKind.WriteError,
                    $"Cannot remove '{relative}' from the source: {Posix.Describe(errno)}.", relative));
            }
        }
    }
}
